"""The report's fine-tuning section: built from the engine's answer, in both languages."""

from __future__ import annotations

from advisor.finetune import finetune_plan
from catalog.catalog import load_catalog
from report.finetune_section import finetune_section
from report.text import Translator
from rigfit.cli import main
from sizing.finetune_request import parse_finetune_request

CAT = load_catalog()


def _result(method: str):
    request = parse_finetune_request({"model": "llama-3.1-8b", "method": method, "gpu": "rtx-4090",
                                      "dataset_tokens": 1e7})
    return finetune_plan(request, CAT)


def test_section_lists_each_memory_part_and_the_remedies():
    section = finetune_section(_result("full"), Translator("en", prefix="doc."))
    assert section.key == "finetune" and section.heading == "Fine-tune"
    parts = dict(section.tables[0].rows)
    assert parts["Optimizer states"] == "59.83 GiB"  # 8.03e9 x 8 bytes of AdamW moments
    assert parts["Master weights (fp32)"] == "29.92 GiB"  # 8.03e9 x 4 bytes
    assert section.notes[0].endswith("this does not fit.")
    assert any("QLoRA" in n for n in section.notes)


def test_section_in_chinese():
    section = finetune_section(_result("qlora"), Translator("zh", prefix="doc."))
    assert section.heading == "微调"
    labels = [f.label for f in section.facts]
    assert "可训练参数" in labels and "本地电费" in labels
    assert section.notes[0].startswith("放得下")


def test_report_command_adds_the_section(tmp_path, capsys):
    out = tmp_path / "report.html"
    code = main(["report", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--finetune", "qlora",
                 "--finetune-dataset-tokens", "1e7", "--format", "html", "--cdn", "-o", str(out)])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    assert '<section id="finetune">' in html and "Trainable parameters" in html


def test_section_in_the_chosen_currency_with_chinese_durations():
    from report.formats import duration_text, usd_in_currency_text

    result = _result("qlora")
    section = finetune_section(result, Translator("zh", prefix="doc."), currency="EUR",
                               units_per_usd=0.9)
    facts = {f.label: f.value for f in section.facts}
    assert facts["本地电费"] == usd_in_currency_text(result.cost.local_usd, "EUR", 0.9, digits=2)
    assert facts["本地电费"].startswith("€")
    assert facts["训练数据集所需时间"] == duration_text(result.time.total_s, "zh")
    assert "小时" in facts["训练数据集所需时间"] and " h" not in facts["训练数据集所需时间"]


def test_report_command_prices_fine_tuning_in_the_region(tmp_path):
    from advisor.region import region_terms
    from report.formats import usd_in_currency_text

    terms = region_terms(CAT.market, region_id="germany")
    request = parse_finetune_request({"model": "llama-3.1-8b", "method": "qlora", "gpu": "rtx-4090",
                                      "dataset_tokens": 1e7,
                                      "electricity_usd_per_kwh": terms.electricity_usd_per_kwh})
    local = finetune_plan(request, CAT).cost.local_usd
    out = tmp_path / "report.html"
    assert main(["report", "--model", "llama-3.1-8b", "--gpu", "rtx-4090", "--finetune", "qlora",
                 "--finetune-dataset-tokens", "1e7", "--region", "germany", "--format", "html",
                 "--cdn", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert usd_in_currency_text(local, "EUR", terms.units_per_usd, digits=2) in html
