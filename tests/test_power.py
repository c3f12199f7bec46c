"""Tests for sizing.power: GPU draw, power limits, energy and cost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sizing.power import (
    IDLE_POWER_FRAC,
    cost_usd_per_1m_tokens,
    decode_speed_frac_at_power_limit,
    energy_wh_per_1k_tokens,
    gpu_power_w,
    power_limit_curve,
    power_limit_sweet_spot_w,
    system_power_w,
    wall_power_w,
)

fracs = st.floats(min_value=0.0, max_value=1.0)
watts = st.floats(min_value=30.0, max_value=1200.0)


# --- published figures -------------------------------------------------------


@pytest.mark.parametrize("memory_util_frac", [0.55, 0.58, 0.60])
def test_rtx_4090_small_model_decode_draws_about_246_w(memory_util_frac: float) -> None:
    # RTX 4090 (450 W), Qwen3-4B fp8, vLLM batch 1: 246.6 W at 138 tok/s, not
    # power-throttled (https://github.com/noonghunna/club-3090/issues/697).
    # ~4.2 GB/token x 138 tok/s = 580 GB/s of 1,008 GB/s -> memory util ~0.58.
    draw = gpu_power_w(board_power_w=450, memory_util_frac=memory_util_frac, compute_util_frac=0.01)
    assert draw == pytest.approx(246.6, rel=0.05)
    assert draw < 0.6 * 450  # decode sits well below board power


def test_prefill_approaches_the_power_limit() -> None:
    # docs/model.md, Power: prefill and large batches approach the limit.
    draw = gpu_power_w(board_power_w=450, memory_util_frac=0.3, compute_util_frac=0.7)
    assert draw == pytest.approx(450, rel=0.03)


def test_idle_power_default_is_five_percent_of_board_power() -> None:
    # MSI RTX 3090 Suprim idles at 25.9 W of 420 W (6.2 %, hardwareluxx);
    # RTX 3080 about 15 W of 320 W (4.7 %).
    assert IDLE_POWER_FRAC == 0.05
    assert gpu_power_w(board_power_w=420, memory_util_frac=0, compute_util_frac=0) == pytest.approx(
        25.9, abs=5
    )


def test_rtx_3090_capped_at_330_w_loses_about_5_percent() -> None:
    # RTX 3090 drawing 388.7 W stock at 38.23 tok/s; at 330 W 36.35 tok/s (-4.9 %)
    # (https://github.com/noonghunna/club-3090/issues/58).
    frac = decode_speed_frac_at_power_limit(board_power_w=388.7, power_limit_w=330)
    assert frac == pytest.approx(36.35 / 38.23, abs=0.01)


def test_rtx_3090_capped_at_230_w_loses_about_34_percent() -> None:
    # Same source: at 230 W 25.15 tok/s (-34 %).
    frac = decode_speed_frac_at_power_limit(board_power_w=388.7, power_limit_w=230)
    assert frac == pytest.approx(25.15 / 38.23, abs=0.01)


def test_sweet_spot_of_the_rtx_3090_is_about_330_w() -> None:
    # The source recommends 330 W: ~5 % slower, peak tokens per watt.
    assert power_limit_sweet_spot_w(board_power_w=388.7) == pytest.approx(330, abs=5)


def test_memory_bound_decode_is_not_slowed_by_a_cap_above_its_draw() -> None:
    # The 4090 drawing 246.6 W decoded at the same speed under 390-410 W caps (#697).
    assert decode_speed_frac_at_power_limit(
        board_power_w=450, power_limit_w=300, uncapped_power_w=246.6
    ) == pytest.approx(1.0)


def test_sweet_spot_respects_the_minimum_settable_limit() -> None:
    assert power_limit_sweet_spot_w(
        board_power_w=450, uncapped_power_w=150, power_limit_min_w=150
    ) == pytest.approx(150)


def test_curve_spans_min_to_board_power_and_ends_at_full_speed() -> None:
    curve = power_limit_curve(board_power_w=350, power_limit_min_w=100, step_w=50)
    assert [p.cap_w for p in curve] == [100, 150, 200, 250, 300, 350]
    assert curve[-1].speed_frac == pytest.approx(1.0)
    assert [p.power_w for p in curve] == [100, 150, 200, 250, 300, 350]
    assert all(a.speed_frac <= b.speed_frac for a, b in zip(curve, curve[1:]))


# --- energy and cost ----------------------------------------------------------


def test_energy_and_cost_per_token() -> None:
    # 360 W for 10 s (1,000 tokens at 100 tok/s) = 1 Wh; 1M tokens = 1 kWh.
    assert energy_wh_per_1k_tokens(system_power_w=360, tokens_per_s=100) == pytest.approx(1.0)
    assert cost_usd_per_1m_tokens(
        system_power_w=360, tokens_per_s=100, usd_per_kwh=0.30
    ) == pytest.approx(0.30)


def test_system_power_sums_gpus_cpu_and_rest() -> None:
    # docs/model.md, Power: GPUs + CPU + 50-100 W for the rest.
    assert system_power_w(gpu_power_w_each=450, gpu_count=2, cpu_power_w=150) == 1125.0
    assert system_power_w(gpu_power_w_each=450, gpu_count=1, cpu_power_w=150, rest_w=50) == 650.0


def test_wall_power_includes_psu_losses() -> None:
    assert wall_power_w(system_power_w=900, psu_efficiency_frac=0.9) == pytest.approx(1000)


# --- properties ---------------------------------------------------------------


@given(board=watts, mem=fracs, comp=fracs, limit_frac=st.floats(min_value=0.1, max_value=1.5))
def test_sustained_power_never_exceeds_the_power_limit(
    board: float, mem: float, comp: float, limit_frac: float
) -> None:
    limit = board * limit_frac
    assert gpu_power_w(
        board_power_w=board, memory_util_frac=mem, compute_util_frac=comp, power_limit_w=limit
    ) <= min(limit, board) + 1e-9


@given(board=watts, mem=fracs, comp=fracs, extra=fracs)
def test_more_utilisation_never_draws_less(board: float, mem: float, comp: float, extra: float) -> None:
    base = gpu_power_w(board_power_w=board, memory_util_frac=mem, compute_util_frac=comp)
    more_mem = gpu_power_w(
        board_power_w=board, memory_util_frac=min(1.0, mem + extra), compute_util_frac=comp
    )
    more_comp = gpu_power_w(
        board_power_w=board, memory_util_frac=mem, compute_util_frac=min(1.0, comp + extra)
    )
    assert more_mem >= base - 1e-9 and more_comp >= base - 1e-9


@given(board=watts, a=st.floats(min_value=1, max_value=1200), b=st.floats(min_value=1, max_value=1200))
def test_a_higher_cap_is_never_slower(board: float, a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    slow = decode_speed_frac_at_power_limit(board_power_w=board, power_limit_w=lo)
    fast = decode_speed_frac_at_power_limit(board_power_w=board, power_limit_w=hi)
    assert 0 < slow <= fast <= 1.0


@given(board=watts, min_speed=st.floats(min_value=0.5, max_value=1.0))
def test_sweet_spot_keeps_the_promised_speed(board: float, min_speed: float) -> None:
    cap = power_limit_sweet_spot_w(board_power_w=board, min_speed_frac=min_speed)
    assert cap <= board
    assert decode_speed_frac_at_power_limit(board_power_w=board, power_limit_w=cap) >= min_speed - 1e-9


# --- bad input ----------------------------------------------------------------


def test_bad_input_names_the_allowed_range() -> None:
    with pytest.raises(ValueError, match="memory_util_frac must be between 0 and 1"):
        gpu_power_w(board_power_w=450, memory_util_frac=1.5, compute_util_frac=0)
    with pytest.raises(ValueError, match="board_power_w must be a finite number above 0"):
        gpu_power_w(board_power_w=0, memory_util_frac=0.5, compute_util_frac=0)
    with pytest.raises(ValueError, match="uncapped_power_w must be between 0 and board_power_w"):
        decode_speed_frac_at_power_limit(board_power_w=350, power_limit_w=300, uncapped_power_w=400)
    with pytest.raises(ValueError, match="psu_efficiency_frac must be between 0.5 and 1"):
        wall_power_w(system_power_w=500, psu_efficiency_frac=1.2)
    with pytest.raises(ValueError, match="tokens_per_s must be a finite number above 0"):
        energy_wh_per_1k_tokens(system_power_w=300, tokens_per_s=0)
