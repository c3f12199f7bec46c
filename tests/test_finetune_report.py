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
