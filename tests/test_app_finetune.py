"""AppTest of the Fine-tune page in both languages, and its inputs in the link."""

from __future__ import annotations

import gc
import json

from streamlit.testing.v1 import AppTest

from advisor.finetune import FinetuneResult
from pages._state import STATE_KEY, query_for
from tests.test_app_builds_cloud import alive_after_reruns, open_page

PAGE = "pages/finetune.py"


def open_finetune(**query: str) -> AppTest:
    return open_page(PAGE, **query)


def chart_traces(at: AppTest) -> dict[str, float]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return {trace["name"]: trace["x"][0] for trace in spec["data"]}


def test_qlora_on_a_4090_fits_and_charts_each_part_in_english():
    at = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="qlora", seq_len="2048")
    assert at.title[0].value == "Fine-tune"
    assert [s.value for s in at.success][0].startswith("Fits")
    parts = chart_traces(at)
    assert set(parts) == {"Weights", "Gradients", "Master weights (fp32)", "Optimizer states",
                          "Activations and loss", "CUDA context"}
    # NF4 with double quantization for the body (3.4 GiB), the embedding and head in fp32
    # under mixed precision (3.9 GiB) and fp32 adapters (0.16 GiB): about 7.4 GiB.
    assert 7.2 < parts["Weights"] < 7.6
    labels = [m.label for m in at.metric]
    assert "Largest micro-batch at 2,048 tokens" in labels
    assert "Cheapest method that fits" in labels


def test_full_fine_tuning_does_not_fit_and_names_remedies_in_chinese():
    at = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="full", lang="zh")
    assert at.title[0].value == "微调"
    assert [e.value for e in at.error][0].endswith("放不下。")
    text = " ".join(m.value for m in at.markdown)
    assert "QLoRA" in text and "LoRA 适配器" in text
    assert not any("Train LoRA" in m.value for m in at.markdown)


def test_the_setup_is_kept_in_the_link():
    at = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="lora", lora_rank="64",
                       optimizer="adamw-8bit", micro_batch="2", loss="fused", dora="on")
    query = query_for(at.session_state[STATE_KEY])
    assert query["method"] == "lora" and query["lora_rank"] == "64"
    assert query["optimizer"] == "adamw-8bit" and query["micro_batch"] == "2"
    assert query["loss"] == "fused" and query["dora"] == "on"
    assert not at.error
    # The fused loss holds no full-size logits: activations fall against the standard loss.
    standard = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="lora", lora_rank="64",
                             optimizer="adamw-8bit", micro_batch="2", dora="on")
    activations = "Activations and loss"
    assert chart_traces(at)[activations] < chart_traces(standard)[activations]
    bad = open_finetune(method="prefix", lora_rank="0")
    assert bad.session_state[STATE_KEY]["method"] == "lora"
    assert bad.session_state[STATE_KEY]["lora_rank"] == 16


def test_chinese_durations_and_the_region_currency_and_electricity():
    from advisor.finetune import finetune_plan
    from advisor.region import region_terms
    from catalog.catalog import load_catalog
    from report.formats import duration_text, usd_in_currency_text
    from sizing.finetune_request import parse_finetune_request

    at = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="qlora", lang="zh",
                       region="germany", dataset_mtokens="100")
    cat = load_catalog()
    terms = region_terms(cat.market, region_id="germany")
    expected = finetune_plan(parse_finetune_request({
        "model": "llama-3.1-8b", "gpu": "rtx-4090", "method": "qlora", "dataset_tokens": 1e8,
        "electricity_usd_per_kwh": terms.electricity_usd_per_kwh}), cat)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["训练数据集所需时间"] == duration_text(expected.time.total_s, "zh")
    assert "小时" in metrics["训练数据集所需时间"]
    assert metrics["本地电费"] == usd_in_currency_text(expected.cost.local_usd, "EUR",
                                                    terms.units_per_usd, digits=2, lang="zh")
    assert metrics["本地电费"].startswith("€")


def test_frozen_layers_and_system_ram_reach_the_engine():
    base = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "method": "full", "offload": "optimizer"}
    at = open_finetune(**base, frozen_layers="16", ram_gib="8")
    whole = open_finetune(**base, ram_gib="256")
    on_gpu = {"model": "llama-3.1-8b", "gpu": "rtx-4090", "method": "full"}
    # Half of the 32 layers frozen: roughly half the gradients (the embeddings still train).
    assert (chart_traces(open_finetune(**on_gpu, frozen_layers="16"))["Gradients"]
            < 0.7 * chart_traces(open_finetune(**on_gpu))["Gradients"])
    query = query_for(at.session_state[STATE_KEY])
    assert query["frozen_layers"] == "16" and query["ram_gib"] == "8"
    assert any("8 GiB of system RAM" in w.value for w in at.warning)
    assert not any("system RAM set under" in w.value for w in whole.warning)
    # Frozen layers go with full fine-tuning only: LoRA ignores the setting rather than failing.
    lora = open_finetune(**{**base, "method": "lora", "offload": "none"}, frozen_layers="16")
    assert not lora.error and lora.number_input(key="w_finetune_frozen_layers").disabled


def test_a_rerun_leaves_no_earlier_answer_alive():
    """A run's answer is freed when the page returns, not kept by the page's globals
    until a full garbage collection."""
    before = sum(isinstance(o, FinetuneResult) for o in gc.get_objects())
    at = open_finetune(model="llama-3.1-8b", gpu="rtx-4090", method="qlora")
    assert alive_after_reruns(at, FinetuneResult, "_seq_len", (1024, 3072, 4096, 6144)) <= before
    assert [s.value for s in at.success][0].startswith("Fits")  # the page drew an answer
