"""Every sentence the engine writes carries a code that both locales translate."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from advisor.cloud import comparison_of
from advisor.plan import plan
from advisor.results import PlanResult
from catalog.catalog import load_catalog
from report.text import join_notices, placeholders, strings, translate_notice
from sizing.bench import BenchCalibration
from sizing.estimate import Estimate, estimate
from sizing.notices import Notice
from sizing.request import parse_request

ROOT = Path(__file__).resolve().parent.parent
CAT = load_catalog()
ESTIMATE_CODES = {"bare_size_assumed", "config_params_computed", "config_context_assumed",
                  "context_beyond_max",
                  "context_model_limit", "offloaded",
                  "speed_priors", "speed_unknown_bandwidth", "passive_cooler", "wall_circuit_120v",
                  "power_limited", "bench_calibrated", "bench_clamped", "bench_speed_of_light",
                  "bench_other_gpu"}


def _literal_codes(node: ast.expr) -> list[str]:
    """The codes a ``Notice`` code argument can take: a literal, or either literal of
    ``"a" if cond else "b"``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _literal_codes(node.body) + _literal_codes(node.orelse)
    return []


def source_codes() -> dict[str, str]:
    """Code -> file of every code the engine and the advisor can write: literal
    ``Notice("code", ...)`` (or a choice of two literals), and the tiers'
    ``coded("code", build)``, which writes ``code`` or, for an encoder-only model,
    ``code_encoder`` (:func:`advisor.tiers.coded`)."""
    found = {}
    for path in sorted([*(ROOT / "sizing").glob("*.py"), *(ROOT / "advisor").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            if node.func.id == "Notice":
                for code in _literal_codes(node.args[0]):
                    found[code] = path.name
            elif node.func.id == "SpeedUnknownError":  # its code names the notice it becomes
                for kw in node.keywords:
                    if kw.arg == "code":
                        for code in _literal_codes(kw.value):
                            found[code] = path.name
            elif node.func.id == "coded":
                for code in _literal_codes(node.args[0]):
                    found[code] = found[f"{code}_encoder"] = path.name
    return found


def test_the_source_scan_finds_the_estimate_and_plan_codes():
    codes = source_codes()
    assert ESTIMATE_CODES <= set(codes)
    assert {"plan_meets", "build_card_length", "cvp_licence", "driver_nvidia_consumer",
            "tier_budget"} <= set(codes)


@pytest.mark.parametrize("code", sorted(source_codes()))
def test_every_code_the_engine_can_emit_is_in_both_locales(code):
    for lang in ("en", "zh"):
        assert strings(lang).get(f"engine.{code}"), (lang, code)


# --------------------------------------------------------------------------- scenarios


def run_estimate(**fields) -> Estimate:
    data = {"model": "llama-3.1-8b", "gpu": "rtx-4090", **fields}
    return estimate(parse_request({k: v for k, v in data.items() if v is not None}), CAT)


def speed_unknown_estimate() -> Estimate:
    """A GPU without a bandwidth figure: the engine cannot give a speed."""
    gpu = CAT.gpu("rtx-4090").model_copy(update={"memory_bandwidth_gb_per_s": None})

    class Swap:
        def __getattr__(self, name):
            return getattr(CAT, name)

        def gpu(self, gpu_id):
            return gpu

    return estimate(parse_request({"model": "llama-3-8b", "gpu": "rtx-4090"}), Swap())


def estimate_scenarios(tmp_path: Path) -> list[Estimate]:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"hidden_size": 4096, "intermediate_size": 14336,
                                  "num_attention_heads": 32, "num_hidden_layers": 32,
                                  "num_key_value_heads": 8, "vocab_size": 128256}))
    return [
        run_estimate(model=None, params_b=14),
        run_estimate(model=None, hf_config=str(config)),
        run_estimate(context_tokens=200_000, prompt_tokens=512),
        run_estimate(gpu="arc-b580"),  # SYCL: no rows of its own, a documented prior
        run_estimate(power_limit_w=150),
        run_estimate(gpu="a40"),
        run_estimate(gpu="rtx-5090", gpu_count=4, model="llama-3.1-70b"),
        speed_unknown_estimate(),
        # A user's benchmark: 4.5x the prediction is clamped to 3x, which passes the speed of light.
        estimate(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-4090"}), CAT,
                 bench=BenchCalibration(gpu="rtx-4090", decode_factor=3.0, decode_rows=1,
                                        decode_raw_factor=4.5)),
        estimate(parse_request({"model": "llama-3.1-8b", "gpu": "rtx-3090"}), CAT,
                 bench=BenchCalibration(gpu="rtx-4090", decode_factor=1.1, decode_rows=1)),
    ]


PLANS = [("llama-3.1-70b", 3000, 1), ("llama-3.1-8b", 2000, 5), ("llama-3.1-70b", 1500, 1),
         ("llama-3.1-405b", 2000, 1), ("llama-3.1-70b", 2000, 20), (None, 2000, 1)]


@pytest.fixture(scope="module")
def plans() -> list[PlanResult]:
    out = []
    for model, budget, users in PLANS:
        data = {"quant": "q4_k_m", "runtime": "llama.cpp"}
        data.update({"model": model} if model else {"params_b": 14})
        out.append(plan(parse_request(data), CAT, budget_usd=budget, users=users))
    return out


def plan_notices(r: PlanResult) -> list[Notice]:
    out = [*r.message, *r.warnings, *r.consumer_vs_pro.summary]
    for t in (*r.tiers, r.within_budget_best, r.consumer_vs_pro.consumer,
              r.consumer_vs_pro.professional):
        if t is not None:
            out += [t.reason, *t.checks.notes, *t.warnings]
    out += [v.driver_terms for v in r.gpu_values]
    return out


def test_the_scenarios_trigger_every_estimate_code(tmp_path):
    emitted = {n.code for r in estimate_scenarios(tmp_path) for n in r.warnings}
    assert emitted == ESTIMATE_CODES


def test_the_plan_scenarios_trigger_most_plan_codes(plans):
    emitted = {n.code for r in plans for n in plan_notices(r)}
    assert {"plan_meets", "plan_stretch_labelled", "plan_over_budget", "plan_budget_buys",
            "plan_cloud_first", "plan_no_desktop_build", "tier_budget", "tier_balanced",
            "tier_stretch", "tier_fastest", "tier_over_budget", "cvp_both",
            "cvp_only_professional", "cvp_memory_per_kusd", "cvp_licence", "build_card_length",
            "build_stacked", "build_full_power_hot", "build_pcie_narrow",
            "build_12v_2x6_adapters", "bare_size_assumed", "driver_nvidia_consumer",
            "driver_nvidia_workstation"} <= emitted
    assert emitted <= set(source_codes())


def check_translates(n: Notice) -> None:
    """The Chinese entry uses only parameters the notice has, and is used."""
    template = strings("zh")[f"engine.{n.code}"]
    assert placeholders(template) <= set(n.params), n.code
    zh = translate_notice(n, "zh")
    assert zh != n.text and "{" not in zh, (n.code, zh)
    for name, value in n.params.items():
        if name.endswith("_term"):
            assert f"engine.term.{value}" in strings("zh"), (n.code, value)
    assert translate_notice(n, "en") == n.text


def test_every_emitted_estimate_notice_translates(tmp_path):
    for r in estimate_scenarios(tmp_path):
        for n in r.warnings:
            check_translates(n)


def test_every_emitted_plan_notice_translates(plans):
    for r in plans:
        for n in plan_notices(r):
            check_translates(n)


def test_every_sentence_is_one_notice_with_no_english_twin(plans):
    fields = set(PlanResult.model_fields) | set(type(plans[0].tiers[0]).model_fields)
    assert not {f for f in fields if f.endswith(("_notice", "_notices"))}
    for n in plan_notices(plans[0]):
        assert isinstance(n, Notice) and n.code and str(n) == n.text


def test_codes_survive_json_and_reach_the_cloud_half(plans):
    r = plans[2]
    again = PlanResult.model_validate_json(r.model_dump_json())
    assert again.message == r.message
    assert [n.code for n in again.message][-1] == "plan_cloud_first"
    cloud = comparison_of(r)
    assert cloud.message == r.message
    assert "建议先用云端" in join_notices(cloud.message, "zh")


def test_a_used_card_is_marked_in_chinese():
    n = Notice("tier_budget", "Cheapest ...", count=2, gpu="RTX 3090", condition_term="used",
               quant="q4_k_m", per_user="12.0", total="24")
    assert "2 × RTX 3090（二手）" in translate_notice(n, "zh")


def test_translation_falls_back_to_the_english_text():
    assert translate_notice(Notice("no_such_code", "Plain English."), "zh") == "Plain English."
    missing = Notice("power_limited", "Power limit 150 W.", limit_w="150")  # no speed_pct
    assert translate_notice(missing, "zh") == "Power limit 150 W."
    assert translate_notice("just text", "zh") == "just text"
    dumped = Notice("passive_cooler", "A40 ...", gpu="NVIDIA A40").model_dump()
    assert translate_notice(dumped, "zh").startswith("NVIDIA A40 采用被动散热")


def test_an_unknown_speed_says_why_in_chinese():
    from report.content import report_content
    from report.fits import speed_unknown_text
    from sizing.fits import FitTable

    r = speed_unknown_estimate()
    assert r.speed is None
    assert "memory bandwidth not published" in r.speed_unknown_reason
    zh = report_content(r, lang="zh").verdict.speed
    assert zh == "速度未知：NVIDIA GeForce RTX 4090 没有公布显存带宽。", zh
    en = report_content(r, lang="en").verdict.speed
    assert en == f"Speed unknown: {r.speed_unknown_reason}."
    table = FitTable.model_construct(gpu_name="NVIDIA GeForce RTX 4090",
                                     speed_unknown_reason=r.speed_unknown_reason)
    assert speed_unknown_text(table, "zh") == zh
    assert speed_unknown_text(table.model_copy(update={"speed_unknown_reason": None}), "zh") is None
