"""Unified-memory machines in the memory size the user has or would buy.

A Mac, a DGX Spark or a Ryzen AI Max box is sold in several memory sizes
(``memory_options_gib``). The size is a request field (``memory_gib``), a CLI
flag, a JSONL key, a sidebar control and a link parameter; usable memory
follows the wired limit of that size and the price is the price of that
configuration. Discrete cards have one size only.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from streamlit.testing.v1 import AppTest

from advisor.plan import plan
from catalog.catalog import load_catalog
from catalog.schema import Gpu
from pages._state import STATE_KEY, query_for
from report.content import report_content
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.fit import max_context_tokens
from sizing.memory import apple_wired_frac, usable_bytes_per_device
from sizing.request import RequestError, parse_request
from sizing.sweep import sweep_memory

CAT = load_catalog()
APP = str(Path(__file__).resolve().parent.parent / "app.py")
GIB = 2**30
# The acceptance scenario: Llama 3 8B at Q4_K_M with an 8K context on an 8 GB M1.
M1_SCENARIO = {"model": "llama-3-8b", "quant": "q4_k_m", "gpu": "apple-m1-8c",
               "context_tokens": 8192}


def run_m1(memory_gib: float | None, **extra):
    return estimate(parse_request({**M1_SCENARIO, "memory_gib": memory_gib, **extra}), CAT)


# --- catalog ---------------------------------------------------------------------------


def test_machines_sold_in_several_sizes_are_priced_per_size():
    several = [g for g in CAT.gpus if len(g.memory_options_gib) > 1]
    assert {"apple-m1-8c", "apple-m3-ultra-80c", "radeon-8060s", "radeon-780m"} <= {
        g.id for g in several}
    for g in several:
        assert list(g.memory_options_gib) == sorted(set(g.memory_options_gib)), g.id
        assert g.memory_gib in g.memory_options_gib, g.id
        assert g.memory_prices, g.id
        for p in g.memory_prices:
            assert p.memory_gib in g.memory_options_gib and p.source.startswith("http"), g.id
            assert p.as_of <= dt.date(2026, 12, 31), g.id


def _spec(**changes) -> dict:
    base = CAT.gpu("apple-m1-8c").model_dump(mode="json", exclude={"street_price"})
    return {**base, **changes}


PRICE = {"as_of": "2020-11-17", "source": "https://www.apple.com/mac-mini/"}


@pytest.mark.parametrize("changes, needle", [
    ({"memory_options_gib": [16, 8]}, "increasing order"),
    ({"memory_gib": 12}, "not among memory_options_gib"),
    ({"memory_prices": [{"memory_gib": 24, "usd": 999, **PRICE}]}, "not a size this machine"),
    ({"memory_prices": [{"memory_gib": 8, "usd": 699, **PRICE},
                        {"memory_gib": 8, "usd": 899, **PRICE}]}, "twice"),
    ({"memory_prices": [], "street_price": {"usd": 699, **PRICE}}, "priced per size"),
])
def test_catalog_refuses_inconsistent_memory_sizes(changes, needle):
    with pytest.raises(ValidationError, match=needle):
        Gpu.model_validate(_spec(**changes))


def test_each_size_costs_its_own_price_and_an_unpriced_size_has_none():
    gpu = Gpu.model_validate(_spec(memory_prices=[{"memory_gib": 8, "usd": 699, **PRICE},
                                                  {"memory_gib": 16, "usd": 899, **PRICE}]))
    assert gpu.memory_gib == 16 and gpu.price_usd == 899  # the default size's price
    assert gpu.with_memory(8).memory_gib == 8 and gpu.with_memory(8).price_usd == 699
    only_small = Gpu.model_validate(_spec(memory_prices=[{"memory_gib": 8, "usd": 699, **PRICE}]))
    assert only_small.price_usd is None  # 16 GB unpriced: not the 8 GB price, not the launch price
    assert only_small.with_memory(8).price_usd == 699
    # Nothing falls back to the base size's launch price for a size without a price.
    assert only_small.with_memory(8).launch_price_usd is None
    assert CAT.gpu("apple-m3-ultra-80c").with_memory(256).launch_price_usd is None


# --- the old behaviour: the largest memory at the base price --------------------------


def test_a_mac_is_no_longer_priced_at_its_base_price_with_its_largest_memory():
    for gpu_id, largest_gib, base_gib, base_usd in (("apple-m3-ultra-80c", 512, 96, 5499),
                                                      ("apple-m4-max-40c", 128, 48, 2499)):
        largest = estimate(parse_request({"model": "llama-3-8b", "gpu": gpu_id}), CAT)
        assert largest.gpu_memory_gib == largest_gib
        assert largest.gpu_price_usd != base_usd  # old: base price with the largest memory
        base = estimate(parse_request({"model": "llama-3-8b", "gpu": gpu_id,
                                       "memory_gib": base_gib}), CAT)
        assert base.gpu_memory_gib == base_gib and base.gpu_price_usd == base_usd
        assert base.memory.usable_bytes < largest.memory.usable_bytes


def test_prices_differ_by_configuration():
    small, large = run_m1(8), run_m1(16)
    assert small.gpu_price_usd == 699
    assert large.gpu_price_usd != small.gpu_price_usd
    strix = [estimate(parse_request({"model": "llama-3-8b", "gpu": "radeon-780m",
                                     "runtime": "llama.cpp-vulkan", "memory_gib": m}), CAT)
             for m in (16, 32)]
    assert strix[1].gpu_price_usd == 649 and strix[0].gpu_price_usd != 649


# --- the engine ------------------------------------------------------------------------


def test_llama3_8b_q4_k_m_8k_does_not_fit_an_8_gb_m1_and_fits_at_16_gb():
    small, large = run_m1(8), run_m1(16)
    assert small.gpu_memory_gib == 8 and not small.memory.fits
    assert large.gpu_memory_gib == 16 and large.memory.fits
    # Usable memory is the wired limit of the chosen size.
    assert small.memory.usable_bytes == pytest.approx(8 * GIB * apple_wired_frac(8))
    assert large.memory.usable_bytes == pytest.approx(16 * GIB * apple_wired_frac(16))
    assert small.fit.max_context_tokens < 8192 <= large.fit.max_context_tokens


def test_every_path_uses_the_chosen_size():
    runtime = CAT.runtime("llama.cpp")
    m1 = CAT.gpu("apple-m1-8c")
    eight, sixteen = m1.with_memory(8), m1.with_memory(16)
    arch, quant = CAT.model("llama-3-8b"), CAT.quant("q4_k_m")
    sweep = sweep_memory([eight, sixteen], [arch], [quant], [8192], runtime)
    assert list(sweep.usable_bytes) == [usable_bytes_per_device(eight, runtime),
                                        usable_bytes_per_device(sixteen, runtime)]
    assert list(sweep.fits[:, 0, 0, 0]) == [False, True]
    assert max_context_tokens(arch, quant, eight, runtime) < max_context_tokens(arch, quant,
                                                                                  sixteen, runtime)
    assert run_m1(8).fit.max_context_tokens == max_context_tokens(
        arch, quant, eight, runtime, prompt_tokens=512, new_tokens=512)


@pytest.mark.parametrize("data, needle", [
    ({"gpu": "apple-m1-8c", "memory_gib": 12}, "sold with 8, 16 GiB"),
    ({"gpu": "apple-m3-ultra-80c", "memory_gib": 192}, "96, 256, 512"),
    ({"gpu": "rtx-4090", "memory_gib": 48}, "has 24 GiB"),
])
def test_a_size_the_machine_is_not_sold_in_is_refused_naming_the_sizes(data, needle):
    with pytest.raises(RequestError, match=needle):
        estimate(parse_request({"model": "llama-3-8b", **data}), CAT)


def test_a_card_may_name_its_own_memory():
    assert estimate(parse_request({"model": "llama-3-8b", "gpu": "rtx-4090", "memory_gib": 24}),
                    CAT).gpu_memory_gib == 24


def test_a_plan_from_a_mac_scenario_sizes_other_gpus_at_their_own_memory():
    request = parse_request({**M1_SCENARIO, "memory_gib": 8})
    result = plan(request, CAT, budget_usd=3000, users=1)
    assert result.tiers  # desktop cards were estimated: the Mac's size did not follow them


# --- command line and JSONL ------------------------------------------------------------


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_memory_gib_flag(capsys):
    args = ("estimate", "--model", "llama-3-8b", "--gpu", "apple-m1-8c", "--quant", "q4_k_m",
            "--context-tokens", "8192")
    code, out, _ = run_cli(capsys, *args, "--memory-gib", "8", "--format", "json")
    small = json.loads(out)
    assert code == 0 and small["gpu_memory_gib"] == 8 and not small["memory"]["fits"]
    assert small["gpu_price_usd"] == 699
    code, out, _ = run_cli(capsys, *args, "--memory-gib", "16", "--format", "json")
    assert code == 0 and json.loads(out)["memory"]["fits"]
    code, out, _ = run_cli(capsys, *args, "--memory-gib", "8")
    assert code == 0 and "8 GiB" in out and "699 USD" in out
    code, out, err = run_cli(capsys, *args, "--memory-gib", "12")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "8, 16 GiB" in err


def test_jsonl_memory_gib_key(tmp_path, capsys):
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps({**M1_SCENARIO, "memory_gib": m}) for m in (8, 16, 12)))
    code, out, _ = run_cli(capsys, "estimate", "--requests", str(path), "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) == 3
    assert lines[0]["gpu_memory_gib"] == 8 and not lines[0]["memory"]["fits"]
    assert lines[1]["gpu_memory_gib"] == 16 and lines[1]["memory"]["fits"]
    assert "memory_gib 12" in lines[2]["error"] and "8, 16" in lines[2]["error"]


# --- report ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang, memory_label", [("en", "Memory per GPU"), ("zh", "每块显卡的内存")])
def test_report_shows_the_chosen_memory_size_and_its_price(lang, memory_label):
    content = report_content(run_m1(8), lang=lang, catalog=CAT)
    facts = {f.label: f.value for s in content.sections for f in s.facts}
    assert facts[memory_label] == "8 GiB"
    assert any("$699" in v and "2020-11-17" in v for v in facts.values())


def test_report_cli_takes_memory_gib(tmp_path, capsys):
    out_path = tmp_path / "r.html"
    code, _, _ = run_cli(capsys, "report", "--model", "llama-3-8b", "--gpu", "apple-m1-8c",
                         "--memory-gib", "8", "--context-tokens", "8192", "--format", "html",
                         "-o", str(out_path))
    text = out_path.read_text(encoding="utf-8")
    assert code == 0 and "8 GiB" in text and "Memory per GPU" in text


# --- app and link ----------------------------------------------------------------------


def open_app(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def memory_select(at: AppTest):
    return next((s for s in at.selectbox if s.label == "Memory size"), None)


def test_app_link_opens_an_8_gb_m1_and_the_control_changes_it():
    at = open_app(**{k: str(v) for k, v in M1_SCENARIO.items()}, memory_gib="8")
    assert not at.exception
    select = memory_select(at)
    assert select is not None and select.value == 8 and select.options == ["8 GiB", "16 GiB"]
    assert not at.success  # does not fit, and unified memory has no system RAM to offload to
    assert [e.value for e in at.error if e.value.startswith("Does not fit")]
    assert not any("offload" in w.value for w in at.warning)
    assert query_for(at.session_state[STATE_KEY])["memory_gib"] == "8"
    select.set_value(16.0).run()
    assert [s.value for s in at.success] and at.success[0].value.startswith("Fits")
    assert query_for(at.session_state[STATE_KEY])["memory_gib"] == "16"


def test_app_shows_no_memory_control_for_a_card():
    at = open_app(gpu="rtx-4090", memory_gib="8")
    assert not at.exception and memory_select(at) is None
    assert "memory_gib" not in query_for(at.session_state[STATE_KEY])


def compare_prices(memory_gib: str) -> dict[str, float]:
    """The Compare page's price column for the M1 scenario at ``memory_gib``."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in {**{k: str(v) for k, v in M1_SCENARIO.items()}, "memory_gib": memory_gib,
                       "compare": "apple-m1-8c,rtx-4090"}.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/compare.py")
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    return dict(zip(frame["GPU"], frame["Price (USD)"]))


def test_compare_page_prices_the_mac_as_configured():
    m1 = CAT.gpu("apple-m1-8c").name
    assert compare_prices("8")[m1] == 699  # the 8 GB configuration's price
    assert compare_prices("16")[m1] != 699  # 16 GB has no published price: not the 8 GB one


def test_gpu_listing_names_the_sizes_on_offer(capsys):
    code, out, _ = run_cli(capsys, "gpus", "--format", "json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["apple-m1-8c"]["memory_options_gib"] == [8, 16]
    assert rows["rtx-4090"]["memory_options_gib"] == [24]
    assert rows["apple-m3-ultra-80c"]["street_price_usd"] != 5499  # not the 96 GB price at 512 GB
