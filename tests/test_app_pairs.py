"""The sidebar offers only runtimes, precisions and KV caches that run together, keeps a
choice that stays valid, and moves one that does not to the closest, saying so."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog, runtime_api
from pages._state import STATE_KEY, query_for

APP = str(Path(__file__).resolve().parent.parent / "app.py")
CAT = load_catalog()
KEY = "w_configurator_"


def open_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    return at


def unescape(text: str) -> str:
    return text.replace("\\", "")


def notes(at: AppTest) -> list[str]:
    """The info lines that say a choice moved."""
    return [unescape(i.value) for i in at.info if " instead." in unescape(i.value)
            or "the closest" in unescape(i.value)]


def test_precision_and_kv_lists_follow_the_runtime():
    at = open_app(runtime="vllm", quant="awq-int4")
    quants = at.selectbox(key=KEY + "quant").options
    assert set(quants) == {q.id for q in CAT.quants if "vllm" in q.runtimes}
    assert "q4_k_m" not in quants and len(quants) < len(CAT.quants)
    kv = at.selectbox(key=KEY + "kv_cache").options
    assert set(kv) == {k.name for k in CAT.kv_cache_types if "vllm" in k.runtimes}
    assert not notes(at)


def test_runtime_list_follows_the_gpu():
    at = open_app(gpu="apple-m4-max-40c", runtime="mlx", quant="mlx-4bit")
    gpu = CAT.gpu("apple-m4-max-40c")
    assert at.selectbox(key=KEY + "runtime").options == [
        r.name for r in CAT.runtimes if runtime_api(r, gpu) is not None]
    assert "vLLM" not in at.selectbox(key=KEY + "runtime").options


def test_switching_to_vllm_moves_a_gguf_precision_and_says_why():
    at = open_app(runtime="llama.cpp", quant="q4_k_m", model="llama-3.1-8b")
    at.selectbox(key=KEY + "runtime").set_value("vllm").run()
    quant = at.selectbox(key=KEY + "quant").value
    assert "vllm" in CAT.quant(quant).runtimes and CAT.quant(quant).format.value != "gguf"
    assert notes(at) == [f"vLLM does not load Q4_K_M: using {CAT.quant(quant).name}, the "
                         "closest precision it runs."]
    assert not at.error  # not "cannot run quant", nor "needs about ... GiB, use a smaller quant"
    assert at.success[0].value.startswith("Fits")
    assert query_for(at.session_state[STATE_KEY])["quant"] == quant
    at.number_input(key=KEY + "batch").set_value(2).run()  # the line stays while it holds
    assert len(notes(at)) == 1
    at.selectbox(key=KEY + "quant").set_value("bf16").run()  # the user's own choice: no line
    assert not notes(at)


def test_a_choice_that_stays_valid_is_kept():
    at = open_app(runtime="llama.cpp", quant="bf16")
    at.selectbox(key=KEY + "runtime").set_value("vllm").run()
    assert at.selectbox(key=KEY + "quant").value == "bf16"
    assert at.selectbox(key=KEY + "kv_cache").value == "f16"
    assert not notes(at) and not at.error


def test_a_link_with_a_pair_that_cannot_run_is_corrected_and_said():
    at = open_app(gpu="apple-m4-max-40c", runtime="vllm", quant="awq-int4")
    runtime = at.selectbox(key=KEY + "runtime").value
    assert runtime_api(CAT.runtime(runtime), CAT.gpu("apple-m4-max-40c")) is not None
    assert "awq-int4" in [q.id for q in CAT.quants if runtime in q.runtimes]
    assert notes(at) == [f"vLLM does not run on the {CAT.gpu('apple-m4-max-40c').name}: using "
                         f"{CAT.runtime(runtime).name} instead."]
    assert not at.error
    assert query_for(at.session_state[STATE_KEY])["runtime"] == runtime


def test_changing_the_gpu_moves_the_runtime_to_one_it_runs():
    at = open_app(gpu="apple-m4-max-40c", runtime="mlx", quant="mlx-8bit")
    at.selectbox(key=KEY + "gpu").set_value("rtx-4090").run()
    runtime, quant = at.selectbox(key=KEY + "runtime").value, at.selectbox(key=KEY + "quant").value
    assert runtime == "llama.cpp" and CAT.quant(quant).format.value == "gguf"
    assert 8 <= CAT.quant(quant).body_bits_per_weight <= 9
    assert len(notes(at)) == 1 and notes(at)[0].startswith("MLX (mlx-lm) does not run on the NVIDIA")
    assert not at.error


def test_the_line_in_chinese():
    at = open_app(lang="zh", runtime="vllm", quant="q4_k_m")
    lines = [unescape(i.value) for i in at.info if "vLLM 无法加载 Q4_K_M" in unescape(i.value)]
    assert len(lines) == 1 and "最接近的精度" in lines[0]
