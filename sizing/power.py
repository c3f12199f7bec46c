"""Power: GPU draw from utilisation, power limits, energy and running cost.

Decode is memory-bound, so a GPU decoding at batch 1 draws well below its
rated board power; prefill and large batches keep the tensor cores busy and
run into the power limit. Under a power cap the card lowers its core clock:
prefill, which waits on the cores, slows almost as much as the cap cuts its
draw; decode, which waits on memory, much less.

Glossary: ``board_power_w`` is the card's stock power limit (total board
power); ``power_limit_w`` is a user-set cap (``nvidia-smi -pl``);
``uncapped_power_w`` is what the workload draws with no cap below stock.
Formulas and sources: docs/model.md, Power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from sizing.units import SECONDS_PER_HOUR, wh_to_kwh

# Idle draw as a fraction of board power, for a card with a model loaded but
# not generating. Measured idle: MSI RTX 3090 Suprim 25.9 W of a 420 W limit
# (6.2 %, https://hardwareluxx.de/index.php/artikel/hardware/grafikkarten/
# 56413-3x-24-gb-grafikspeicher-drei-modelle-der-geforce-rtx-3090-im-test.html?start=5),
# RTX 3080 about 15 W of 320 W (4.7 %,
# https://mytour.vn/en/blog/bai-viet/how-do-graphics-cards-consume-power.html).
IDLE_POWER_FRAC = 0.05

# Dynamic power (above idle) per unit of utilisation, as a fraction of
# (board - idle).
#
# Compute: while compute-bound kernels run, a GPU sits at its power limit
# whatever share of its datasheet FLOP rate they reach, so a compute
# utilisation of 1 (all of the time in such kernels) alone reaches the limit:
# weight 1. Published prefills ran at the limit at very different FLOP rates:
# an RTX 3090 prefilling an 11K-token prompt (Qwen3.6-27B Q3_K_XL, llama.cpp)
# at 0.42 of its dense FP16 rate (2 x 27e9 x 1,105 tok/s / 142 TFLOP/s) was
# power-throttled at every cap up to its 390 W maximum and drew 381 W there
# (https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-prefill.py);
# on Qwen3.6-35B-A3B (MoE) it was at the limit at 0.12 of that rate
# (https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-a3b-prefill.py);
# an RTX 5090 prefilling a 50K-token prompt in vLLM drew 599.98 W under a
# 600 W cap (https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-5090-qwen36-prefill.py).
# Decode's compute utilisation is its FLOP share, a few percent at batch 1.
#
# Memory: calibrated on an RTX 4090 decoding Qwen3-4B fp8 in vLLM at batch 1:
# 246.6 W of 450 W at 138 tok/s, not power-throttled
# (https://github.com/noonghunna/club-3090/issues/697). About 4.2 GB read per
# token x 138 tok/s = 580 GB/s = 0.58 of 1,008 GB/s; compute about 0.01 of peak.
# (246.6 - 22.5) / (450 - 22.5) = 0.524 dynamic = 0.58 x w_mem + 0.01
# -> w_mem = 0.886, rounded to 0.9.
# Cross-check, not a fit: an RTX 5060 Ti at 0.85 memory utilisation drew
# 172.7 W of 180 W (https://inventivehq.com/blog/gpu-power-limit-tokens-per-watt);
# this model gives 141.5 W (-18 %), so treat decode power as +-20 %.
MEMORY_POWER_WEIGHT = 0.9
COMPUTE_POWER_WEIGHT = 1.0

# The lowest SM clock a capped card falls to, as a share of its boost clock
# (Ampere and Ada floor at 210 MHz against 1.7-2.8 GHz): speed never drops
# below this share however low the cap. A 3090 Ti capped at 100-120 W stalled
# at 225-240 MHz (https://github.com/noonghunna/club-3090/blob/master/docs/HARDWARE.md,
# Power); six 3090s capped at 100 W kept 14 % of prefill and 17 % of decode
# speed (https://llmgarage.ai/power-limit-tokens-per-second-benchmark).
MIN_CLOCK_SPEED_FRAC = 0.1

Phase = Literal["decode", "prefill"]


@dataclass(frozen=True)
class CapLaw:
    """How one phase's speed follows a power cap below its uncapped draw.

    ``speed frac = min(1, x ** exponent, slope x (x - floor_frac))`` with
    ``x = cap / uncapped draw``: a power law where the card trades voltage for
    clock, a line once the voltage is at its floor and power falls only with
    the clock.
    """

    exponent: float
    slope: float
    floor_frac: float


# Fits of min(1, x^a, b (x - x0)) to published power-cap sweeps, speed and cap
# relative to the card's uncapped draw and speed (at its highest cap); rounded.
# Prefill (compute-bound): a = 1/3 where the dynamic power of the cores goes
# as clock x voltage^2 and voltage follows clock (P ~ f^3), a line below
# x = 0.65. Fitted (a 0.333, b 2.04, x0 0.241; 63 caps, rms 2.5 %, worst 6.7 %)
# on an RTX 3090 prefilling Qwen3.6-27B Q3_K_XL and Qwen3.6-35B-A3B in llama.cpp
# (190-390 W; https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-prefill.py,
# https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-a3b-prefill.py)
# and an RTX 5090 prefilling Qwen3.6-27B INT4 in vLLM (400-600 W;
# https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-5090-qwen36-prefill.py).
# A decode that is compute-bound (Qwen3.6-27B's gated-delta kernels in
# llama.cpp on a 3090) follows a similar law, a 0.36, b 1.99, x0 0.295: this
# one is within 3 % of it down to 0.75 of its draw and 16 % above it at 0.64
# (https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-qwen36.py).
PREFILL_CAP_LAW = CapLaw(exponent=1 / 3, slope=2.0, floor_frac=0.24)
# Decode (memory-bound): the memory clock holds, so speed falls far less than
# the cap until the cores become the bottleneck near 0.65 of the uncapped draw,
# then in proportion to the cap. Fitted (a 0.144, b 1.44, x0 0.003; 42 caps,
# rms 2.1 %, worst 6.3 %) on an RTX 3090 decoding Qwen3.6-35B-A3B Q4_K_XL in
# llama.cpp (190-390 W; https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-3090-a3b-decode.py),
# an RTX 4090 decoding Qwen3.6-27B Q3_K_XL in llama.cpp (230-400 W;
# https://github.com/noonghunna/club-3090/blob/master/docs/img/power-cap-4090-qwen36.py)
# and an RTX 5060 Ti decoding Qwen2.5-Coder-7B in llama.cpp (150-180 W;
# https://inventivehq.com/blog/gpu-power-limit-tokens-per-watt).
DECODE_CAP_LAW = CapLaw(exponent=0.15, slope=1.45, floor_frac=0.0)
CAP_LAWS: dict[str, CapLaw] = {"decode": DECODE_CAP_LAW, "prefill": PREFILL_CAP_LAW}

# The rest of a desktop besides GPUs and CPU: board, RAM, drives, fans
# (about 50-100 W; docs/model.md, Power); the midpoint.
REST_OF_SYSTEM_W = 75.0


@dataclass(frozen=True)
class PowerLimitPoint:
    """One point of a power-limit sweep, for a chart."""

    cap_w: float  # power limit set [W]
    speed_frac: float  # decode tokens/s relative to uncapped [0-1]
    power_w: float  # GPU draw while decoding at this cap [W]
    prefill_speed_frac: float  # prefill tokens/s relative to uncapped [0-1]
    prefill_power_w: float  # GPU draw while prefilling at this cap [W]


def _check_frac(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (got {value})")


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number above 0 (got {value})")


def _cap_law(phase: str) -> CapLaw:
    if phase not in CAP_LAWS:
        raise ValueError(f"phase must be one of {', '.join(CAP_LAWS)} (got {phase!r})")
    return CAP_LAWS[phase]


def gpu_power_w(
    *,
    board_power_w: float,
    memory_util_frac: float,
    compute_util_frac: float,
    idle_power_w: float | None = None,
    power_limit_w: float | None = None,
) -> float:
    """Sustained GPU draw from memory-bandwidth and compute utilisation. [W]

    ``idle + (board - idle) x min(1, 0.9 x memory_util + 1.0 x compute_util)``,
    never above the power limit (``power_limit_w`` or the board power).

    Parameters
    ----------
    board_power_w : float
        Rated total board power, the stock power limit. [W]
    memory_util_frac : float
        Achieved memory bandwidth / peak bandwidth (decode); share of the
        time spent streaming weights (prefill). [0-1]
    compute_util_frac : float
        Achieved FLOP/s / dense peak FLOP/s of the datatype in use (decode);
        share of the time spent in compute-bound kernels (prefill). [0-1]
    idle_power_w : float, optional
        Draw with nothing running. [W] Default 5 % of board power.
    power_limit_w : float, optional
        User-set cap. [W] Default: the board power.

    Returns
    -------
    float
        GPU board draw. [W]

    >>> round(gpu_power_w(board_power_w=450, memory_util_frac=0.58,
    ...                   compute_util_frac=0.01), 1)
    249.9
    """
    _check_positive("board_power_w", board_power_w)
    _check_frac("memory_util_frac", memory_util_frac)
    _check_frac("compute_util_frac", compute_util_frac)
    idle_w = IDLE_POWER_FRAC * board_power_w if idle_power_w is None else idle_power_w
    if not 0.0 <= idle_w <= board_power_w:
        raise ValueError(f"idle_power_w must be between 0 and board_power_w ({board_power_w} W)")
    dynamic_frac = min(
        1.0, MEMORY_POWER_WEIGHT * memory_util_frac + COMPUTE_POWER_WEIGHT * compute_util_frac
    )
    draw_w = idle_w + (board_power_w - idle_w) * dynamic_frac
    if power_limit_w is not None:
        _check_positive("power_limit_w", power_limit_w)
        draw_w = min(draw_w, power_limit_w)
    return draw_w


def speed_frac_at_power_limit(
    *,
    phase: Phase,
    board_power_w: float,
    power_limit_w: float,
    uncapped_power_w: float | None = None,
) -> float:
    """Tokens/s of one phase under a power cap, relative to uncapped. [0-1]

    ``max(0.1, min(1, x ** a, b x (x - x0)))`` with ``x = cap / uncapped draw``
    and the phase's law (``PREFILL_CAP_LAW``, ``DECODE_CAP_LAW``): no loss while
    the cap stays above what the workload draws; below it prefill loses about
    a third of the power cut at first (-15 % power, -5 % speed) and then speed
    falls faster than the cap, while decode keeps 95 % of its speed down to
    about 70 % of its draw.

    Assumptions: the workload's uncapped draw is known (``gpu_power_w``); the
    laws are fitted on RTX 3090, 4090, 5060 Ti and 5090 sweeps and assumed to
    hold for other cards; not valid far below ~40 % of stock power, where the
    memory clock also drops.

    Parameters
    ----------
    phase : "decode" or "prefill"
        Which law to follow.
    board_power_w : float
        Stock power limit of the card. [W]
    power_limit_w : float
        Cap set by the user. [W]
    uncapped_power_w : float, optional
        Draw of this workload without a cap. [W] Default: the board power
        (a workload that runs into the stock limit).

    >>> round(speed_frac_at_power_limit(phase="prefill", board_power_w=381,
    ...                                 power_limit_w=250), 3)
    0.832
    >>> round(speed_frac_at_power_limit(phase="decode", board_power_w=381,
    ...                                 power_limit_w=250), 3)
    0.939
    """
    law = _cap_law(phase)
    _check_positive("board_power_w", board_power_w)
    _check_positive("power_limit_w", power_limit_w)
    return _law_speed_frac(law, power_limit_w / _uncapped_w(board_power_w, uncapped_power_w))


def _uncapped_w(board_power_w: float, uncapped_power_w: float | None) -> float:
    """A workload's checked uncapped draw, the board power when not given. [W]"""
    uncapped_w = board_power_w if uncapped_power_w is None else uncapped_power_w
    _check_positive("uncapped_power_w", uncapped_w)
    if uncapped_w > board_power_w:
        raise ValueError(
            f"uncapped_power_w must be between 0 and board_power_w ({board_power_w} W)"
        )
    return uncapped_w


def _law_speed_frac(law: CapLaw, x: float) -> float:
    """A cap law at ``x`` = cap / uncapped draw. [0-1]"""
    if x >= 1.0:
        return 1.0
    frac = min(x**law.exponent, law.slope * (x - law.floor_frac))
    return max(MIN_CLOCK_SPEED_FRAC, frac)


def decode_speed_frac_at_power_limit(
    *,
    board_power_w: float,
    power_limit_w: float,
    uncapped_power_w: float | None = None,
) -> float:
    """Decode tokens/s under a power cap, relative to uncapped. [0-1]

    ``speed_frac_at_power_limit`` with the decode law.

    >>> round(decode_speed_frac_at_power_limit(board_power_w=450, power_limit_w=200,
    ...                                        uncapped_power_w=246.6), 3)
    0.969
    """
    return speed_frac_at_power_limit(phase="decode", board_power_w=board_power_w,
                                     power_limit_w=power_limit_w,
                                     uncapped_power_w=uncapped_power_w)


def prefill_speed_frac_at_power_limit(
    *,
    board_power_w: float,
    power_limit_w: float,
    uncapped_power_w: float | None = None,
) -> float:
    """Prefill tokens/s under a power cap, relative to uncapped. [0-1]

    ``speed_frac_at_power_limit`` with the prefill law.

    >>> round(prefill_speed_frac_at_power_limit(board_power_w=450, power_limit_w=300), 3)
    0.853
    """
    return speed_frac_at_power_limit(phase="prefill", board_power_w=board_power_w,
                                     power_limit_w=power_limit_w,
                                     uncapped_power_w=uncapped_power_w)


def power_limit_sweet_spot_w(
    *,
    board_power_w: float,
    uncapped_power_w: float | None = None,
    min_speed_frac: float = 0.95,
    power_limit_min_w: float | None = None,
    phase: Phase = "decode",
) -> float:
    """Lowest whole-watt cap that keeps at least ``min_speed_frac`` of the phase's speed. [W]

    Never below the card's minimum settable limit, never above the board power.

    >>> power_limit_sweet_spot_w(board_power_w=381, phase="prefill")
    327.0
    >>> power_limit_sweet_spot_w(board_power_w=381)
    271.0
    """
    law = _cap_law(phase)
    _check_positive("board_power_w", board_power_w)
    if not 0.0 < min_speed_frac <= 1.0:
        raise ValueError(f"min_speed_frac must be above 0 and at most 1 (got {min_speed_frac})")
    uncapped_w = board_power_w if uncapped_power_w is None else uncapped_power_w
    _check_positive("uncapped_power_w", uncapped_w)
    # The least x = cap / uncapped at which both branches of the law reach the speed.
    x_needed = max(min_speed_frac ** (1.0 / law.exponent),
                   law.floor_frac + min_speed_frac / law.slope)
    if min_speed_frac <= MIN_CLOCK_SPEED_FRAC:
        x_needed = 0.0
    cap_w = float(math.ceil(min(x_needed, 1.0) * uncapped_w - 1e-9))
    if power_limit_min_w is not None:
        cap_w = max(cap_w, power_limit_min_w)
    return min(cap_w, board_power_w)


def power_limit_curve(
    *,
    board_power_w: float,
    power_limit_min_w: float,
    uncapped_power_w: float | None = None,
    prefill_uncapped_power_w: float | None = None,
    step_w: float = 10.0,
) -> tuple[PowerLimitPoint, ...]:
    """Decode and prefill speed and GPU draw for caps from the minimum to the board power.

    Points every ``step_w`` from ``power_limit_min_w``, plus the board power.
    ``uncapped_power_w`` is the decode draw, ``prefill_uncapped_power_w`` the
    prefill draw; each defaults to the board power.
    """
    _check_positive("board_power_w", board_power_w)
    _check_positive("step_w", step_w)
    if not 0 < power_limit_min_w <= board_power_w:
        raise ValueError(
            f"power_limit_min_w must be above 0 and at most board_power_w ({board_power_w} W)"
        )
    decode_w = _uncapped_w(board_power_w, uncapped_power_w)
    prefill_w = _uncapped_w(board_power_w, prefill_uncapped_power_w)
    caps_w = []
    cap_w = power_limit_min_w
    while cap_w < board_power_w:
        caps_w.append(cap_w)
        cap_w += step_w
    caps_w.append(board_power_w)
    # Every cap lies between the checked minimum and the board power: the laws
    # are read directly, as speed_frac_at_power_limit reads them.
    return tuple(
        PowerLimitPoint(
            cap_w=c,
            speed_frac=_law_speed_frac(DECODE_CAP_LAW, c / decode_w),
            power_w=min(c, decode_w),
            prefill_speed_frac=_law_speed_frac(PREFILL_CAP_LAW, c / prefill_w),
            prefill_power_w=min(c, prefill_w),
        )
        for c in caps_w
    )


def system_power_w(
    *,
    gpu_power_w_each: float,
    gpu_count: int,
    cpu_power_w: float,
    rest_w: float = REST_OF_SYSTEM_W,
) -> float:
    """Sustained DC power of the whole box: GPUs + CPU + the rest. [W]

    >>> system_power_w(gpu_power_w_each=350, gpu_count=2, cpu_power_w=125)
    900.0
    """
    if gpu_power_w_each < 0 or cpu_power_w < 0 or rest_w < 0:
        raise ValueError("gpu_power_w_each, cpu_power_w and rest_w must be 0 or more")
    if gpu_count < 0:
        raise ValueError(f"gpu_count must be 0 or more (got {gpu_count})")
    return float(gpu_power_w_each * gpu_count + cpu_power_w + rest_w)


def wall_power_w(*, system_power_w: float, psu_efficiency_frac: float = 0.9) -> float:
    """Power drawn from the wall socket for a DC load. [W]

    Default efficiency 0.90: 80 PLUS Gold at 50 % load on 115 V
    (https://www.clearesult.com/80plus/program-details).

    >>> wall_power_w(system_power_w=900)
    1000.0
    """
    if system_power_w < 0:
        raise ValueError(f"system_power_w must be 0 or more (got {system_power_w})")
    if not 0.5 <= psu_efficiency_frac <= 1.0:
        raise ValueError(f"psu_efficiency_frac must be between 0.5 and 1 (got {psu_efficiency_frac})")
    return system_power_w / psu_efficiency_frac


def energy_wh_per_1k_tokens(*, system_power_w: float, tokens_per_s: float) -> float:
    """Energy to generate 1,000 tokens. [Wh]

    >>> energy_wh_per_1k_tokens(system_power_w=360, tokens_per_s=100)
    1.0
    """
    if system_power_w < 0:
        raise ValueError(f"system_power_w must be 0 or more (got {system_power_w})")
    _check_positive("tokens_per_s", tokens_per_s)
    return system_power_w * (1000.0 / tokens_per_s) / SECONDS_PER_HOUR


def cost_usd_per_1m_tokens(
    *, system_power_w: float, tokens_per_s: float, usd_per_kwh: float
) -> float:
    """Electricity cost of generating one million tokens. [USD]

    >>> round(cost_usd_per_1m_tokens(system_power_w=360, tokens_per_s=100, usd_per_kwh=0.15), 4)
    0.15
    """
    if usd_per_kwh < 0:
        raise ValueError(f"usd_per_kwh must be 0 or more (got {usd_per_kwh})")
    wh_per_1m = 1000.0 * energy_wh_per_1k_tokens(
        system_power_w=system_power_w, tokens_per_s=tokens_per_s
    )
    return wh_to_kwh(wh_per_1m) * usd_per_kwh
