"""Region presets, money in the chosen currency and own prices (advisor.region,
advisor.own_prices), through the engine and the command line."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from advisor.errors import PlanError
from advisor.own_prices import OWN_PRICE_SOURCE, parse_own_prices, with_own_prices
from advisor.plan import plan
from advisor.region import budget_usd_from, parse_circuit, region_for, region_terms
from catalog.catalog import load_catalog, load_catalog_from
from catalog.loader import CATALOG_DIR, CatalogError
from report.formats import money_text
from report.text import translate_notice
from rigfit.cli import main
from sizing.estimate import estimate
from sizing.notices import Notice
from sizing.request import EstimateRequest
from sizing.system import check_circuit

CATALOG = load_catalog()
MARKET = CATALOG.market
CNY_PER_USD = MARKET.currency("CNY").units_per_usd
REQUEST = EstimateRequest(model="qwen2.5-14b")


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize("region_id, volts, amps, currency", [
    ("us", 120, 15, "USD"),  # NEMA 5-15R
    ("china", 220, 10, "CNY"),  # GB 1002 10 A sockets on a 220 V network
    ("germany", 230, 16, "EUR"),  # Schuko, DIN 49440-1
    ("uk", 230, 13, "GBP"),  # BS 1363 plug fuse
    ("japan", 100, 15, "JPY"),  # JIS C 8303
])
def test_region_presets_are_the_published_circuits(region_id, volts, amps, currency):
    region = region_for(MARKET, region_id=region_id)
    assert (region.circuit_volts, region.circuit_amps, region.currency) == (volts, amps, currency)
    assert region.circuit_source.startswith("http")


def test_every_region_resolves_and_its_circuit_is_allowed():
    for region in MARKET.regions:
        check_circuit(region.circuit_volts, region.circuit_amps)
        price = MARKET.electricity_price(region.electricity)
        terms = region_terms(MARKET, region_id=region.id)
        assert terms.currency == region.currency
        # The preset is the published price at the catalog's rate, shown in the region's currency.
        assert terms.electricity_usd_per_kwh == pytest.approx(
            price.local_price_per_kwh / MARKET.currency(price.currency).units_per_usd)
        assert terms.electricity_source == price.source and terms.electricity_preset


def test_the_region_follows_the_language_unless_named():
    assert region_for(MARKET, lang="zh").id == "china"
    assert region_for(MARKET, lang="en").id == "us"
    assert region_for(MARKET).id == "us"
    assert region_for(MARKET, region_id="japan", lang="zh").id == "japan"
    with pytest.raises(PlanError, match="unknown region 'mars'; known: us, china"):
        region_for(MARKET, region_id="mars")


def test_chinese_households_pay_the_chinese_price_not_the_us_one():
    terms = region_terms(MARKET, lang="zh")
    assert terms.currency == "CNY" and terms.units_per_usd == CNY_PER_USD
    # Statista, March 2024: 7.8 US cents/kWh, about 0.55 yuan (the US price would be 1.33).
    assert terms.electricity_in_currency_per_kwh == pytest.approx(0.078 * CNY_PER_USD)
    assert 0.5 <= terms.electricity_in_currency_per_kwh <= 0.6
    assert (terms.circuit_volts, terms.circuit_amps) == (220, 10)
    assert terms.rate_as_of == MARKET.currency("CNY").as_of.isoformat()


def test_overrides_win_over_the_presets():
    terms = region_terms(MARKET, region_id="china", kwh_price=1.0, circuit_amps=16)
    assert terms.electricity_usd_per_kwh == pytest.approx(1.0 / CNY_PER_USD)
    assert not terms.electricity_preset and not terms.circuit_preset
    assert (terms.circuit_volts, terms.circuit_amps) == (220, 16)
    # A price typed in another currency than the region's.
    euro = region_terms(MARKET, region_id="china", currency="EUR", kwh_price=0.2)
    assert euro.electricity_usd_per_kwh == pytest.approx(0.2 / MARKET.currency("EUR").units_per_usd)
    with pytest.raises(PlanError, match="electricity price"):
        region_terms(MARKET, region_id="china", kwh_price=-1)
    with pytest.raises(PlanError, match="circuit voltage"):
        region_terms(MARKET, circuit_volts=50)


def test_budget_is_typed_in_the_chosen_currency():
    terms = region_terms(MARKET, lang="zh", currency="CNY")
    assert budget_usd_from(6000, terms) == pytest.approx(6000 / CNY_PER_USD)
    assert budget_usd_from(None, terms) is None
    with pytest.raises(PlanError, match="budget must be above 0 CNY"):
        budget_usd_from(0, terms)


@pytest.mark.parametrize("text, pair", [("230x16", (230, 16)), ("120X15", (120, 15))])
def test_parse_circuit(text, pair):
    assert parse_circuit(text) == pair


@pytest.mark.parametrize("text, needle", [("230", "VOLTSxAMPS"), ("ax16", "VOLTSxAMPS"),
                                          ("50x16", "between 100 and 250 V")])
def test_parse_circuit_refuses(text, needle):
    with pytest.raises(PlanError, match=needle):
        parse_circuit(text)


# --------------------------------------------------------------------------- catalog rules


def _copy_catalog(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


@pytest.mark.parametrize("old, new, needle", [
    ("    languages: []\n    currency: EUR", "    languages: [zh]\n    currency: EUR",
     "'zh' already picks another region"),
    ("    electricity: germany\n", "    electricity: atlantis\n", "electricity"),
])
def test_a_broken_regions_file_names_the_entry(tmp_path, old, new, needle):
    directory = _copy_catalog(tmp_path)
    path = directory / "regions.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogError, match=needle) as err:
        load_catalog_from(directory)
    assert "regions.yaml" in str(err.value) and "germany" in str(err.value)


# --------------------------------------------------------------------------- own prices


def test_own_prices_are_parsed_and_checked():
    assert parse_own_prices("rtx-3090:700,rtx-4090:1500", CATALOG) == {"rtx-3090": 700,
                                                                     "rtx-4090": 1500}
    assert parse_own_prices(["rtx-3090=700"], CATALOG) == {"rtx-3090": 700}
    cpu = MARKET.cpus[0].id
    assert parse_own_prices([f"{cpu}=99.5"], CATALOG) == {cpu: 99.5}
    with pytest.raises(PlanError, match="unknown GPU or part 'rtx-3900'; closest: rtx-3090"):
        parse_own_prices(["rtx-3900=700"], CATALOG)
    with pytest.raises(PlanError, match="must be a number above 0"):
        parse_own_prices(["rtx-3090=0"], CATALOG)
    with pytest.raises(PlanError, match="ID=AMOUNT"):
        parse_own_prices(["rtx-3090"], CATALOG)


def test_an_own_price_replaces_the_listed_ones():
    priced = with_own_prices(CATALOG, {"rtx-3090": 300.0, MARKET.cpus[0].id: 10.0})
    gpu = priced.gpu("rtx-3090")
    assert gpu.street_price.usd == 300.0 and gpu.used_price is None
    assert gpu.street_price.source == OWN_PRICE_SOURCE
    assert priced.market.cpus[0].price.usd == 10.0
    assert CATALOG.gpu("rtx-3090").used_price.usd != 300.0  # the catalog itself is untouched
    assert with_own_prices(CATALOG, {}) is CATALOG


@pytest.fixture(scope="module")
def listed_and_own():
    listed = plan(REQUEST, CATALOG, budget_usd=2000)
    own = plan(REQUEST, CATALOG, budget_usd=2000, own_prices_usd={"rtx-3090": 300.0})
    return listed, own


def test_an_own_gpu_price_changes_the_tiers_and_tokens_per_dollar(listed_and_own):
    listed, own = listed_and_own
    before = {t.tier: t for t in listed.tiers}
    after = {t.tier: t for t in own.tiers}
    assert before["balanced"].gpu_id != "rtx-3090"
    balanced = after["balanced"]
    assert balanced.gpu_id == "rtx-3090" and not balanced.gpu_used
    card = next(p for p in balanced.parts if p.kind == "gpu")
    assert card.unit_usd == 300.0 and card.source == OWN_PRICE_SOURCE
    assert balanced.tokens_per_s_per_kusd > before["balanced"].tokens_per_s_per_kusd
    assert balanced.tokens_per_s_per_kusd == pytest.approx(
        balanced.decode_tokens_per_s / balanced.total_usd * 1000)


def test_an_own_gpu_price_changes_the_break_even(listed_and_own):
    listed, own = listed_and_own
    instance = listed.cloud[0].instance_id
    before = next(c for c in listed.cloud if c.instance_id == instance).break_even_months
    after = next(c for c in own.cloud if c.instance_id == instance).break_even_months
    assert after["balanced"] < before["balanced"]
    assert after["budget"] == pytest.approx(before["budget"])


def test_an_own_part_price_moves_every_build_that_uses_it(listed_and_own):
    listed, _ = listed_and_own
    budget = listed.tiers[0]
    cpu = next(p for p in budget.parts if p.kind == "cpu")
    cheaper = plan(REQUEST, CATALOG, budget_usd=2000, own_prices_usd={cpu.id: cpu.unit_usd - 50})
    assert cheaper.tiers[0].total_usd == pytest.approx(budget.total_usd - 50)


# --------------------------------------------------------------------------- command line


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_region_sets_currency_electricity_and_circuit(capsys):
    code, out, _ = run(capsys, "plan", "--model", "qwen2.5-14b", "--region", "china",
                       "--budget", "6000", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["currency"] == "CNY"
    assert data["budget_usd"] == pytest.approx(6000 / CNY_PER_USD)
    assert data["budget_in_currency"] == pytest.approx(6000)
    assert data["electricity_usd_per_kwh"] == pytest.approx(0.078)
    # 80 % of a 220 V / 10 A socket.
    assert all(t["checks"]["wall_limit_w"] == pytest.approx(1760) for t in data["tiers"])


def test_cli_table_states_the_region_and_the_rate_once(capsys):
    code, out, _ = run(capsys, "plan", "--model", "qwen2.5-14b", "--region", "china",
                       "--budget", "6000", "--price", "rtx-3090=1420")
    assert code == 0
    assert out.count("1 USD = 7.1 CNY") == 1 and "plugsocketmuseum.nl" in out
    assert "wall circuit 220 V / 10 A" in out and "budget ¥6,000 ($845)" in out
    assert "NVIDIA GeForce RTX 3090 (your price)" in out and "¥1,420 ($200)" in out


def test_cli_overrides_keep_the_old_flags_working(capsys):
    code, out, _ = run(capsys, "plan", "--model", "qwen2.5-14b", "--budget-usd", "2000",
                       "--circuit", "230x16", "--electricity-price", "1.0", "--currency", "CNY",
                       "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["electricity_usd_per_kwh"] == pytest.approx(1 / CNY_PER_USD)
    assert data["tiers"][0]["checks"]["wall_limit_w"] == pytest.approx(230 * 16 * 0.8)
    code, out, _ = run(capsys, "plan", "--model", "qwen2.5-14b", "--budget-usd", "2000",
                       "--circuit-volts", "230", "--circuit-amps", "16",
                       "--electricity-usd-per-kwh", "0.3", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["electricity_usd_per_kwh"] == 0.3 and data["currency"] == "USD"
    assert data["tiers"][0]["checks"]["wall_limit_w"] == pytest.approx(230 * 16 * 0.8)


def test_cli_own_price_changes_the_plan(capsys):
    base = ["plan", "--model", "qwen2.5-14b", "--budget-usd", "2000", "--format", "json"]
    _, listed, _ = run(capsys, *base)
    code, own, _ = run(capsys, *base, "--price", "rtx-3090=200")
    # At 200 USD a 3090 is the cheapest build that meets the workload (q8_0 fits its 24 GB).
    budget = {t["tier"]: t for t in json.loads(own)["tiers"]}["budget"]
    assert code == 0 and budget["gpu_id"] == "rtx-3090" and budget["quant"] == "q8_0"
    assert {t["tier"]: t for t in json.loads(listed)["tiers"]}["budget"]["gpu_id"] != "rtx-3090"


@pytest.mark.parametrize("argv, needle", [
    (["--price", "rtx-3900=700"], "unknown GPU or part 'rtx-3900'"),
    (["--price", "rtx-3090"], "ID=AMOUNT"),
    (["--region", "mars"], "unknown region 'mars'"),
    (["--circuit", "230"], "VOLTSxAMPS"),
    (["--electricity-price", "-2"], "electricity price (USD/kWh) must be between 0"),
])
def test_cli_bad_region_input_is_one_line(capsys, argv, needle):
    code, out, err = run(capsys, "cloud", "--model", "qwen2.5-14b", *argv)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_cli_report_follows_the_language_region(capsys, tmp_path):
    target = tmp_path / "r.html"
    code, _, _ = run(capsys, "report", "--model", "qwen2.5-14b", "--gpu", "rtx-3090",
                     "--lang", "zh", "--budget", "6000", "--lead", "builds", "--format", "html",
                     "--cdn", "-o", str(target))
    text = target.read_text()
    assert code == 0 and "预算 ¥6,000" in text
    assert "墙壁电路 220 伏 / 10 安" in text and "http://plugsocketmuseum.nl/China1.html" in text
    assert text.count("1 美元 = 7.1 CNY") == 1


def _report_text(capsys, tmp_path, *argv: str) -> str:
    """The words of an HTML report, tags dropped, one space between them."""
    target = tmp_path / "r.html"
    code, _, _ = run(capsys, "report", *argv, "--format", "html", "--cdn", "-o", str(target))
    assert code == 0
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", target.read_text())).split())


def test_cli_report_shows_every_amount_in_the_currency(capsys, tmp_path):
    # 70B at Q4 does not fit one RTX 3090: the report has the remedies table too.
    text = _report_text(capsys, tmp_path, "--model", "llama-3.1-70b", "--gpu", "rtx-3090",
                        "--lang", "zh", "--region", "china")
    gpu = estimate(EstimateRequest(model="llama-3.1-70b", gpu="rtx-3090"), CATALOG).gpu_price_usd
    one = money_text(gpu * CNY_PER_USD, "CNY", lang="zh")
    assert f"该配置的价格 {one}（截至" in text  # the verdict's price as configured
    assert "价格（CNY）" in text and "价格（美元）" not in text  # GPU, remedies and parts tables
    assert re.search(r"共 2 块，按层切分）[^¥$]+ " + re.escape(one), text)  # remedy: add a card
    assert re.search(r"\$[0-9]", text) is None and " 美元：" not in text


def test_cli_report_prices_electricity_at_the_region(capsys, tmp_path):
    argv = ("--model", "qwen2.5-14b", "--gpu", "rtx-3090", "--currency", "USD")
    china = _report_text(capsys, tmp_path, *argv, "--region", "china")
    us = _report_text(capsys, tmp_path, *argv, "--region", "us")
    request = EstimateRequest(model="qwen2.5-14b", gpu="rtx-3090")
    costs = {}
    for region, text in (("china", china), ("us", us)):
        kwh = region_terms(MARKET, region_id=region).electricity_usd_per_kwh
        power = estimate(request.model_copy(update={"electricity_usd_per_kwh": kwh}), CATALOG).power
        costs[region] = money_text(power.cost_usd_per_1m_tokens, "USD", digits=2)
        assert f"Electricity per 1M tokens {costs[region]} " in text
    assert costs["china"] != costs["us"]


# --------------------------------------------------------------------------- engine sentences


CLOUD_FIRST = Notice("plan_cloud_first", "Cloud first: rent A40 at 2.00 USD/h (1.50 USD per "
                     "million tokens).", provider="runpod", instance="A40", usd_per_hour="2.00",
                     usd_per_1m="1.50")


def test_engine_sentences_restate_dollars_in_the_currency():
    money = (CNY_PER_USD, "CNY")
    assert translate_notice(CLOUD_FIRST, "en", money=money) == (
        "Cloud first: rent A40 at ¥14.20/h (¥10.65 per million tokens).")
    assert translate_notice(CLOUD_FIRST, "zh", money=money) == (
        "建议先用云端：租用 A40，每小时 ¥14.20（每百万 token ¥10.65）。")
    # Dollars, or no currency: the engine's own sentence.
    assert translate_notice(CLOUD_FIRST, "en", money=(1.0, "USD")) == CLOUD_FIRST.text
    assert translate_notice(CLOUD_FIRST, "en") == CLOUD_FIRST.text


MEMORY_PER_KUSD = Notice("cvp_memory_per_kusd", "Memory per 1,000 USD: consumer up to 14.2 GiB, "
                         "professional up to 7.1 GiB.", consumer_gib_per_kusd="14.2",
                         pro_gib_per_kusd="7.1")


def test_amounts_per_thousand_dollars_follow_the_currency():
    money = (CNY_PER_USD, "CNY")  # 14.2 GiB per 1,000 USD is 2.0 GiB per 1,000 yuan at 7.1
    assert translate_notice(MEMORY_PER_KUSD, "zh", money=money) == (
        "可买到的显存（每 ¥1,000）：消费级最多 2.0 GiB，专业级最多 1.0 GiB。")
    assert translate_notice(MEMORY_PER_KUSD, "en", money=money) == (
        "Memory per ¥1,000: consumer up to 2.0 GiB, professional up to 1.0 GiB.")
    assert "每 1,000 美元" in translate_notice(MEMORY_PER_KUSD, "zh", money=(1.0, "USD"))
    balanced = Notice("tier_balanced", "Most tokens/s per dollar within budget: 7.1 tokens/s per "
                      "1,000 USD (1 x RTX 3090, Q4_K_M).", tokens_per_s_per_kusd="7.1",
                      count=1, gpu="RTX 3090", condition_term="new", quant="Q4_K_M")
    assert "1.0 tokens/s（每 ¥1,000；" in translate_notice(balanced, "zh", money=money)


def test_cli_message_speaks_the_currency(capsys):
    code, out, _ = run(capsys, "plan", "--model", "llama-3.1-70b", "--region", "china",
                       "--budget", "6000")
    first = out.splitlines()[0]
    assert code == 0 and first.startswith("Nothing within ¥6,000 runs Llama 3.1 70B")
    assert " USD" not in first


def test_cli_estimate_costs_electricity_at_the_regions_price(capsys):
    base = ["estimate", "--model", "qwen2.5-14b", "--gpu", "rtx-3090", "--format", "json"]
    _, us, _ = run(capsys, *base)
    code, china, _ = run(capsys, *base, "--region", "china")
    us_cost = json.loads(us)["power"]["cost_usd_per_1m_tokens"]
    china_cost = json.loads(china)["power"]["cost_usd_per_1m_tokens"]
    assert code == 0 and china_cost == pytest.approx(us_cost * 0.078 / 0.1872)
