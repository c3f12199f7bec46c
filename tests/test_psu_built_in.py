"""A machine with no add-in card (a Mac, DGX Spark, a Ryzen AI Max box) has its
power supply built in: no "recommended PSU", and the CLI, app and report say so."""

from __future__ import annotations

import json

import pytest

from catalog.catalog import load_catalog
from report.content import report_content
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.request import parse_request

CAT = load_catalog()
SOC = (("apple-m1-8c", "llama.cpp"), ("dgx-spark", "llama.cpp"), ("radeon-8060s", "llama.cpp-vulkan"))


@pytest.mark.parametrize("gpu_id, runtime", SOC)
def test_a_machine_without_an_add_in_card_gets_no_psu_recommendation(gpu_id, runtime):
    assert CAT.gpu(gpu_id).form_factor == "soc"
    result = estimate(parse_request({"model": "llama-3-8b", "gpu": gpu_id, "runtime": runtime}),
                      CAT)
    assert result.power.psu_recommended_w is None
    assert "psu_built_in" in {w.code for w in result.warnings}


def test_an_add_in_card_still_gets_one():
    card = estimate(parse_request({"model": "llama-3-8b", "gpu": "rtx-4090"}), CAT)
    assert card.power.psu_recommended_w and card.power.psu_recommended_w > 450
    assert "psu_built_in" not in {w.code for w in card.warnings}


def test_cli_says_the_power_supply_is_built_in(capsys):
    args = ["estimate", "--model", "llama-3-8b", "--gpu", "apple-m1-8c"]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "built into the machine" in table
    assert main([*args, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["power"]["psu_recommended_w"] is None


@pytest.mark.parametrize("lang, label, text", [("en", "Recommended PSU", "Built into the machine"),
                                               ("zh", "建议电源", "整机内置")])
def test_report_says_the_power_supply_is_built_in(lang, label, text):
    result = estimate(parse_request({"model": "llama-3-8b", "gpu": "apple-m1-8c"}), CAT)
    content = report_content(result, lang=lang, catalog=CAT)
    values = [f.value for s in content.sections for f in s.facts if f.label == label]
    assert values and all(v == text for v in values)


def test_app_says_the_power_supply_is_built_in():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"),
                           default_timeout=60)
    at.query_params["gpu"] = "apple-m1-8c"
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Recommended PSU"] == "Built into the machine"
