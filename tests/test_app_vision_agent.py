"""AppTest of models read from files or the Hub, the workload presets and the phone-agent task.

The seed's question, AutoGLM-Phone-9B on an RTX 3060 12 GB as a phone agent,
is answered the same on the Configurator, in the report and on the command line.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

import pages._model_files as model_files
from catalog.catalog import load_catalog
from pages._model_files import MMPROJ_KEY, PATH_KEY, file_request_fields, hub_request_fields
from pages._state import STATE_KEY, config_from_query, query_for
from report.content import report_content
from report.formats import date_text
from report.html import build_html
from rigfit.estimate_cli import _estimate_one
from sizing.estimate import estimate
from sizing.notices import count_text
from sizing.request import parse_request
from tests.hub_server import HubServer
from tests.test_model_files import write_llama

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CAT = load_catalog()
SEED = {"model": "autoglm-phone-9b", "gpu": "rtx-3060-12gb"}
UNREACHABLE = "cannot reach the Hugging Face Hub; pass a config.json or a file"


def open_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def link(at: AppTest) -> dict[str, str]:
    return query_for(at.session_state[STATE_KEY])


def by_key(elements, suffix: str):
    return next(e for e in elements if e.key and e.key.endswith(suffix))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.fixture(scope="module")
def seed_cli() -> dict:
    """The command line's answer: rigfit estimate --model autoglm-phone-9b --gpu rtx-3060-12gb
    --workload agent."""
    return _estimate_one({**SEED, "workload": "agent"}, CAT)


def assert_seed_answer(at: AppTest, cli: dict) -> None:
    """The Configurator states the verdict, best precision, screenshots and seconds per step."""
    assert not at.exception
    agent, fit = cli["agent"], cli["fit"]
    shown = metrics(at)
    assert shown["Best precision that fits"] == fit["best_quant"]
    assert shown["Seconds per step"] == f"{agent['seconds_per_step']:,.1f} s"
    assert shown["Steps per minute"] == f"{agent['steps_per_minute']:,.1f}"
    assert shown["Screenshots that fit"] == str(agent["screenshots_that_fit"])
    assert agent["screenshots_that_fit"] > 0
    assert shown["Tokens per image"] == f"{cli['vision']['image_tokens_per_image']:,}"
    assert cli["memory"]["verdict"] == "fits" and at.success[0].value.startswith("Fits, with")
    summary = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert f"fits at {cli['quant']} (best precision that fits: {fit['best_quant']})" in summary
    fit_text = count_text(agent['screenshots_that_fit'], 'screenshot', 'screenshots')
    assert f"{fit_text} of history fit" in summary
    assert f"about {agent['seconds_per_step']:,.1f} s per step" in summary
    charts = [json.loads(e.proto.spec) for e in at.get("plotly_chart")]
    growth = next(c for c in charts if c["data"][0]["name"] == "Context tokens")
    assert growth["data"][0]["y"] == [s["context_tokens"] for s in agent["steps"]]
    assert [round(y, 6) for y in growth["data"][1]["y"]] == [round(s["seconds"], 6)
                                                            for s in agent["steps"]]


def test_the_agent_preset_answers_the_seed_question(seed_cli):
    at = open_app(**SEED)
    assert "Seconds per step" not in metrics(at)  # no agent block for a chat
    by_key(at.sidebar.selectbox, "_workload").select("agent").run()
    assert not at.exception
    assert by_key(at.sidebar.number_input, "_prompt_tokens").value == 5_450
    assert by_key(at.sidebar.number_input, "_new_tokens").value == 150
    assert by_key(at.sidebar.number_input, "_images").value == 1
    assert by_key(at.sidebar.number_input, "_image_width").value == 1080
    assert by_key(at.sidebar.number_input, "_image_height").value == 2400
    assert_seed_answer(at, seed_cli)
    assert link(at)["workload"] == "agent"
    # The link the page writes opens the same answer.
    assert_seed_answer(open_app(**link(at)), seed_cli)
    by_key(at.sidebar.selectbox, "_workload").select("chat").run()  # a chat sends no screenshot
    assert by_key(at.sidebar.number_input, "_images").value == 0
    assert by_key(at.sidebar.number_input, "_prompt_tokens").value == 512
    assert "Seconds per step" not in metrics(at) and "Tokens per image" not in metrics(at)


def test_a_link_naming_the_agent_workload_reproduces_it(seed_cli):
    at = open_app(**SEED, workload="agent")
    assert_seed_answer(at, seed_cli)
    written = link(at)
    assert (written["prompt_tokens"], written["images"], written["image_width"],
            written["image_height"]) == ("5450", "1", "1080", "2400")


def test_images_are_asked_only_for_a_vision_model():
    at = open_app(model="llama-3.1-8b")
    labels = [n.label for n in at.sidebar.number_input]
    assert "Images per request" not in labels
    at = open_app(model="autoglm-phone-9b")
    assert "Images per request" in [n.label for n in at.sidebar.number_input]


def test_the_agent_task_reads_in_chinese():
    at = open_app(**SEED, workload="agent", lang="zh")
    assert not at.exception
    assert "手机智能体任务" in [s.value for s in at.subheader]
    assert "每步秒数" in metrics(at)


def test_a_report_of_the_agent_scenario_carries_its_numbers(seed_cli):
    request = parse_request({**SEED, "workload": "agent"})
    html = build_html(estimate(request, CAT), lang="en", request=request, catalog=CAT).decode()
    agent = seed_cli["agent"]
    section = re.search(r'<section id="agent">(.*?)</section>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", section)
    assert "Seconds per step" in text and f"{agent['seconds_per_step']:,.1f} s" in text
    assert f"best precision that fits: {seed_cli['fit']['best_quant']}" in text
    assert f"{count_text(agent['screenshots_that_fit'], 'screenshot', 'screenshots')} of history fit" in text
    for step in (1, 5, 10, 15, 20):  # the context's growth over the task
        row = next(s for s in agent["steps"] if s["step"] == step)
        assert f"{row['context_tokens']:,}" in text
    vision = re.search(r'<section id="vision">(.*?)</section>', html, re.S).group(1)
    assert f"{seed_cli['vision']['image_tokens_per_image']:,}" in vision
    chinese = build_html(estimate(request, CAT), lang="zh", request=request, catalog=CAT).decode()
    assert "手机智能体任务" in chinese and "每步秒数" in chinese


# --- models read from files and the Hub -----------------------------------------------------


def test_a_local_gguf_is_read_and_what_was_read_is_shown(tmp_path):
    gguf = write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")
    at = open_app(source="file", gpu="rtx-4090")
    at.text_input(key=PATH_KEY).input(str(gguf.path))
    button(at, "Read the file").click().run()
    assert not at.exception
    assert not at.error
    read = next(d.value for d in at.sidebar.dataframe if "Read" in d.value.columns)
    rows = dict(zip(read["Read"], read["Value"], strict=True))
    assert rows["Read from"] == gguf.path.name
    assert rows["Architecture"] == "llama"
    assert rows["Layers"] == "3"
    assert {"Tensors Q4_K", "Tensors Q6_K", "Tensors Q8_0", "Tensors F32"} <= set(rows)
    assert rows["Tensors Q4_K"].endswith("%)")
    scenario = at.subheader[0].value.replace("\\", "")
    assert "RTX 4090" in scenario
    warnings = " ".join(i.value for i in at.info).replace("\\", "")
    assert f"Weights from {gguf.path.name}" in warnings
    assert str(tmp_path) not in " ".join(link(at).values())  # a local path stays out of the link


def test_a_bad_path_is_one_line_and_keeps_what_was_typed(tmp_path):
    missing = str(tmp_path / "no-such-model.gguf")
    at = open_app(source="file")
    at.text_input(key=PATH_KEY).input(missing)
    at.text_input(key=MMPROJ_KEY).input("")
    button(at, "Read the file").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value.replace("\\", "")
    assert "\n" not in message and "no-such-model.gguf" in message
    assert at.text_input(key=PATH_KEY).value == missing
    # The estimate stays on the model chosen before, and says so.
    assert any("until then the estimate is for" in i.value for i in at.info)
    assert metrics(at)["Memory needed"]


def test_local_files_are_refused_on_a_shared_server():
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = open_app(source="file")
    finally:
        st_config.set_option("server.address", before)
    assert not at.exception
    assert not [w for w in at.text_input if w.key == PATH_KEY]
    warning = " ".join(w.value for w in at.sidebar.warning)
    assert "Hugging Face id" in warning


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_hub_is_one_line_read_only_on_request_and_keeps_the_inputs(
        monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("RIGFIT_CACHE_DIR", str(tmp_path / "rigfit"))
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    calls = []
    real = model_files.read_model_files

    def counted(request, catalog):
        calls.append(request.hf_id)
        return real(request, catalog)

    monkeypatch.setattr(model_files, "read_model_files", counted)
    repo = f"rigfit-test/unreachable-{tmp_path.name}"
    at = open_app(source="hf")
    assert not at.error and calls == []
    by_key(at.text_input, "_hf_id").input("rigfit-test/typed-not-read")
    at.run()  # the fields sit in a form: typing reads nothing
    assert calls == []
    at = open_app(hf_id=repo, hf_file="Q4_K_M")  # a link fills the fields, reads nothing
    assert calls == [] and not at.error
    assert any("until then the estimate is for" in i.value for i in at.info)
    assert by_key(at.text_input, "_hf_id").value == repo
    button(at, "Read from the Hub").click().run()
    assert not at.exception
    assert calls == [repo]
    assert len(at.error) == 1 and UNREACHABLE in at.error[0].value.replace("\\", "")
    assert by_key(at.text_input, "_hf_id").value == repo
    assert by_key(at.text_input, "_hf_file").value == "Q4_K_M"
    assert link(at)["hf_id"] == repo and link(at)["source"] == "hf"
    by_key(at.sidebar.number_input, "_batch").set_value(2).run()  # another rerun: no new read
    assert calls == [repo]
    assert len(at.error) == 1


def hub_with_gguf(monkeypatch, tmp_path) -> tuple[HubServer, str, Path]:
    """A fake Hub holding one GGUF repository, with the Hub client's caches in ``tmp_path``."""
    gguf = write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")
    repo = f"rigfit-test/app-{tmp_path.name}-GGUF"
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RIGFIT_CACHE_DIR", str(tmp_path / "rigfit"))
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_TELEMETRY", True)
    hub = HubServer()
    hub.add_repo(repo, {gguf.path.name: gguf.path.read_bytes()})
    return hub, repo, gguf.path


def test_a_hub_gguf_repository_is_read_when_asked_and_shown(monkeypatch, tmp_path):
    hub, repo, path = hub_with_gguf(monkeypatch, tmp_path)
    with hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        at = open_app(source="hf", gpu="rtx-4090")
        by_key(at.text_input, "_hf_id").input(repo)
        button(at, "Read from the Hub").click().run()
        assert not at.exception and not at.error
        assert {s.method for s in hub.seen} <= {"GET", "HEAD"} and hub.seen
        read = next(d.value for d in at.sidebar.dataframe if "Read" in d.value.columns)
        rows = dict(zip(read["Read"], read["Value"], strict=True))
        assert rows["Read from"] == f"{repo}/{path.name}"
        assert "Tensors Q4_K" in rows and rows["Layers"] == "3"
        assert link(at)["hf_id"] == repo
        asked = len(hub.seen)
        by_key(at.sidebar.number_input, "_batch").set_value(2).run()
        assert len(hub.seen) == asked  # a rerun asks the Hub nothing
        assert metrics(at)["Memory needed"]


def test_the_link_reads_hub_ids_and_presets():
    cfg, notices = config_from_query({"hf_id": "zai-org/AutoGLM-Phone-9B", "revision": "refs/pr/1",
                                      "workload": "rag"}, CAT, locale=None, default_gpu="rtx-4090")
    assert notices == []
    assert (cfg["source"], cfg["hf_id"], cfg["revision"]) == ("hf", "zai-org/AutoGLM-Phone-9B",
                                                              "refs/pr/1")
    assert (cfg["prompt_tokens"], cfg["new_tokens"], cfg["context_tokens"]) == (8_000, 300, 16_384)
    cfg, notices = config_from_query({"hf_id": "a/b c", "workload": "agent", "prompt_tokens": "900"},
                                     CAT, locale=None, default_gpu="rtx-4090")
    assert [n[0] for n in notices] == ["hf_id"]
    assert cfg["source"] == "catalog" and cfg["prompt_tokens"] == 900 and cfg["images"] == 1


def test_request_fields_name_the_model_source():
    assert file_request_fields("/m/x-Q4_K_M.gguf", "/m/mmproj.gguf") == {
        "gguf": "/m/x-Q4_K_M.gguf", "mmproj": "/m/mmproj.gguf"}
    assert file_request_fields("/m/model-folder") == {"safetensors": "/m/model-folder"}
    assert hub_request_fields(" org/name ", "", "Q8_0") == {"hf_id": "org/name", "hf_file": "Q8_0"}


def test_a_report_of_a_gguf_file_says_where_the_model_came_from_and_what_was_read(tmp_path):
    gguf = write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")
    request = parse_request({"gguf": str(gguf.path), "gpu": "rtx-4090"})
    content = report_content(estimate(request, CAT), request=request, catalog=CAT)
    assert [s.key for s in content.sections][:3] == ["inputs", "model", "memory"]
    facts = {f.label: f.value for f in content.section("model").facts}
    assert facts["Model from"] == "GGUF file" and facts["Read from"] == gguf.path.name
    assert facts["Architecture"] == "llama" and facts["Weight format"] == "q4_k_m"
    assert facts["Shape"].startswith("3 layers")
    types = [row[0] for row in content.section("model").tables[0].rows]
    assert types == ["Q4_K", "Q6_K", "Q8_0", "F32"]  # largest first, as read
    assert {f.label: f.value for f in content.section("inputs").facts}["Model from"] == "GGUF file"


@pytest.mark.parametrize(("lang", "words"), [("en", "last reviewed on"), ("zh", "最近一次审核于")])
def test_the_method_page_says_when_the_catalog_was_reviewed(lang, words):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/method.py")
    at.run()
    assert not at.exception
    assert any(words in c.value and date_text(CAT.reviewed_on, lang) in c.value for c in at.caption)
