"""AppTest of the What can I run page: state from the link, the answer, filters, both languages."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from catalog.catalog import load_catalog
from pages._model_files import PATH_KEY
from pages._state import STATE_KEY, query_for
from tests.test_app_builds_cloud import open_page, unescape
from tests.test_app_vision_agent import hub_with_gguf
from tests.test_model_files import write_llama

LINK = {"gpu": "rtx-3060-12gb", "ram_gib": "32", "runtime": "llama.cpp", "model": "glm-4-9b"}


def open_fits(**query: str) -> AppTest:
    return open_page("pages/fits.py", **query)


def _shown(at: AppTest) -> str:
    """The page's Markdown as it reads (escapes removed)."""
    return unescape("\n".join(m.value for m in at.markdown))


def _table(at: AppTest):
    return at.dataframe[0].value


def test_the_link_answers_the_3060_question():
    at = open_fits(**LINK)
    assert at.title[0].value == "What can I run?"
    text = _shown(at)
    assert "12-16B: runs on the GPU." in text
    assert "20-35B: only with offload to system RAM." in text
    answer = unescape(at.info[0].value)
    assert answer.startswith("GLM-4 9B Chat: Q8_0 on llama.cpp, 30.0 tokens/s decode")
    assert "tokens/s decode" in answer and "on the GPU" in answer
    assert answer.endswith("quality 10.97 (Open LLM Leaderboard v2).")
    frame = _table(at)
    qwen14 = frame[frame["model"] == "Qwen2.5 14B Instruct"].iloc[0]
    assert qwen14["quant"] == "Q4_K_M" and qwen14["offload"] == "no" and qwen14["decode"] > 20
    assert frame[frame["model"].str.contains("32B")]["offload"].str.startswith("yes").all()
    assert (frame["source"] == "unknown").any()
    cfg = at.session_state[STATE_KEY]
    assert query_for(cfg)["ram_gib"] == "32" and cfg["runtime"] == "llama.cpp"


def test_floors_and_filters_come_from_the_link_and_filter_the_table():
    at = open_fits(**LINK, min_decode="40", floors_only="on")
    frame = _table(at)
    assert len(frame) > 5 and (frame["decode"] >= 40).all() and frame["floors"].all()
    at = open_fits(**LINK, all_quants="on")
    every = _table(at)
    assert (every["model"] == "Qwen2.5 7B Instruct").sum() > 5


def test_embeddings_list_only_encoders():
    at = open_fits(**LINK, use="embed")
    frame = _table(at)
    assert len(frame) >= 3 and frame["decode"].isna().all()
    assert frame["model"].str.contains("Embedding|Reranker|E5", regex=True).all()


def test_chinese_page():
    at = open_fits(**LINK, lang="zh")
    assert at.title[0].value == "我能跑什么？"
    text = _shown(at)
    assert "20-35B：只能卸载到系统内存运行。" in text
    assert "质量 10.97（Open LLM Leaderboard v2）" in at.info[0].value


def test_a_bad_ram_value_in_the_link_is_ignored_with_a_notice():
    at = open_fits(**LINK | {"ram_gib": "-4"})
    assert query_for(at.session_state[STATE_KEY])["ram_gib"] == "32"
    assert any("ram_gib=-4" in unescape(w.value) for w in at.warning)


def test_a_mac_has_no_ram_input_and_says_unified_memory():
    at = open_fits(gpu="apple-m4-max-40c", runtime="mlx", model="qwen3-8b")
    assert not [n for n in at.number_input if n.label == "System RAM (GiB)"]
    assert "unified memory" in _shown(at)
    assert (_table(at)["offload"] == "no").all()


def test_arena_score_ranks_and_the_index_stands_beside_it():
    at = open_fits(**LINK)
    frame = _table(at)
    # lmarena_text.csv 2025-08-04: Gemma-3-12B-it 1335; models.yml: gpt-oss-20b 14.9.
    gemma = frame[frame["model"].str.startswith("Gemma 3 12B")].iloc[0]
    assert gemma["quality"] == 1335 and gemma["source"].startswith("LMArena text arena, 2025-08-04")
    assert gemma["board"] == "LMArena text arena"
    # huggingface_v2.csv 2025-03-21: Qwen/Qwen2.5-14B-Instruct, bfloat16, average 41.31.
    qwen = frame[frame["model"] == "Qwen2.5 14B Instruct"].iloc[0]
    assert qwen["quality"] == 41.31 and qwen["board"] == "Open LLM Leaderboard v2"
    assert qwen["source"].startswith("Open LLM Leaderboard v2, 2025-03-21")
    # Until the first unknown (the faithful formats), every arena score comes first.
    boards = list(frame["board"])
    known = boards[:boards.index("unknown")]
    assert known == sorted(known, key=lambda b: b != "LMArena text arena")
    assert set(known) == {"LMArena text arena", "Open LLM Leaderboard v2"}
    gpt = frame[frame["model"].str.startswith("gpt-oss-20b")].iloc[0]
    assert gpt["second"] == 14.9 and gpt["source"] == "unknown"
    assert "artificialanalysis.ai/models/gpt-oss-20b" in gpt["second_source"]


def test_vision_states_the_image_it_counts_in_both_languages():
    app = open_fits(**LINK, use="vision")
    assert any("each request carries 1 image of 1024 × 1024 px" in c.value for c in app.caption)
    assert not any("not counted" in c.value for c in app.caption)
    frame = app.dataframe[0].value
    qwen = frame[frame["model"] == "Qwen2.5-VL 7B Instruct"].iloc[0]
    assert qwen["image_tokens"] == 1369
    assert any("1 张 1024 × 1024 像素的图片" in c.value
               for c in open_fits(**LINK, use="vision", lang="zh").caption)
    assert not any("image tokens" in c.value for c in open_fits(**LINK).caption)


def test_the_agent_states_the_screenshot_it_counts_in_both_languages():
    app = open_fits(**LINK, use="agent")
    assert any("each step sends 1 screenshot of 1080 × 2400 px" in c.value
               and "Only models that read images are listed" in c.value for c in app.caption)
    frame = app.dataframe[0].value
    assert "GLM-4 9B Chat" not in set(frame["model"])  # reads no images
    assert unescape(app.info[0].value).startswith("glm-4-9b is not ranked for Phone agent")
    qwen = frame[frame["model"] == "Qwen2.5-VL 7B Instruct"].iloc[0]
    assert qwen["image_tokens"] == 3354
    assert any("1 张 1080 × 2400 像素的截图" in c.value
               for c in open_fits(**LINK, use="agent", lang="zh").caption)


def test_a_model_read_from_a_local_gguf_is_ranked_in_its_files_format(tmp_path):
    gguf = write_llama(tmp_path / "tiny-llama-Q4_K_M.gguf")
    at = open_fits(**LINK)
    at.radio(key="fits_add_source").set_value("file").run()
    at.text_input(key=PATH_KEY).input(str(gguf.path))
    next(b for b in at.button if b.label == "Read the file").click().run()
    assert not at.exception and not at.error
    frame = _table(at)
    catalog_names = {m.name for m in load_catalog().models}
    added = frame[~frame["model"].isin(catalog_names)]
    assert len(added) == 1  # one row: the file's own format, not every published one
    assert added.iloc[0]["quant"] == "Q4_K_M" and added.iloc[0]["decode"] > 100
    assert added.iloc[0]["source"] == "unknown"
    assert unescape(at.info[0].value).startswith(f"{added.iloc[0]['model']}: Q4_K_M on llama.cpp")
    assert len(frame) == len(_table(open_fits(**LINK))) + 1
    assert str(tmp_path) not in " ".join(query_for(at.session_state[STATE_KEY]).values())


def test_a_model_read_from_the_hub_is_ranked_too(monkeypatch, tmp_path):
    hub, repo, _ = hub_with_gguf(monkeypatch, tmp_path)
    with hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        at = open_fits(**LINK)
        at.radio(key="fits_add_source").set_value("hf").run()
        next(t for t in at.text_input if t.key and t.key.endswith("_hf_id")).input(repo)
        next(b for b in at.button if b.label == "Read from the Hub").click().run()
        assert not at.exception and not at.error and hub.seen
    frame = _table(at)
    added = frame[~frame["model"].isin({m.name for m in load_catalog().models})]
    assert len(added) == 1 and added.iloc[0]["quant"] == "Q4_K_M"
    assert query_for(at.session_state[STATE_KEY])["hf_id"] == repo


def test_a_hub_id_in_the_link_fills_the_form_and_reads_nothing_until_asked():
    at = open_fits(**LINK, hf_id="rigfit-test/not-read")
    assert at.radio(key="fits_add_source").value == "hf" and not at.error
    assert next(t for t in at.text_input if t.key and t.key.endswith("_hf_id")).value == (
        "rigfit-test/not-read")
    assert len(_table(at)) == len(_table(open_fits(**LINK)))  # only the catalog until read
