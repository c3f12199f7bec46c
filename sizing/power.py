"""Power: GPU draw from utilisation, power limits, energy and running cost.

Decode is memory-bound, so a GPU decoding at batch 1 draws well below its
rated board power; prefill and large batches keep the tensor cores busy and
run into the power limit. Under a power cap the card lowers its core clock,
and in the capped regime tokens/s fall in proportion to the cap.

Glossary: ``board_power_w`` is the card's stock power limit (total board
power); ``power_limit_w`` is a user-set cap (``nvidia-smi -pl``);
``uncapped_power_w`` is what the workload draws with no cap below stock.
Formulas and sources: docs/model.md, Power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.units import SECONDS_PER_HOUR, wh_to_kwh

# Idle draw as a fraction of board power, for a card with a model loaded but
# not generating. Measured idle: MSI RTX 3090 Suprim 25.9 W of a 420 W limit
# (6.2 %, https://hardwareluxx.de/index.php/artikel/hardware/grafikkarten/
# 56413-3x-24-gb-grafikspeicher-drei-modelle-der-geforce-rtx-3090-im-test.html?start=5),
# RTX 3080 about 15 W of 320 W (4.7 %,
# https://mytour.vn/en/blog/bai-viet/how-do-graphics-cards-consume-power.html).
IDLE_POWER_FRAC = 0.05

# Dynamic power (above idle) per unit of utilisation, as a fraction of
# (board - idle). Compute at full dense tensor rate alone reaches the limit
# (prefill runs at the power cap), so its weight is 1. The memory weight is
# calibrated on an RTX 4090 decoding Qwen3-4B fp8 in vLLM at batch 1: 246.6 W
# of 450 W at 138 tok/s, not power-throttled
# (https://github.com/noonghunna/club-3090/issues/697). About 4.2 GB read per
# token x 138 tok/s = 580 GB/s = 0.58 of 1,008 GB/s; compute about 0.01 of peak.
# (246.6 - 22.5) / (450 - 22.5) = 0.524 dynamic = 0.58 x w_mem + 0.01
# -> w_mem = 0.886, rounded to 0.9.
# Cross-check, not a fit: an RTX 5060 Ti at 0.85 memory utilisation drew
# 172.7 W of 180 W (https://inventivehq.com/blog/gpu-power-limit-tokens-per-watt);
# this model gives 141.5 W (-18 %), so treat decode power as +-20 %.
MEMORY_POWER_WEIGHT = 0.9
COMPUTE_POWER_WEIGHT = 1.0

# Under a cap, decode speed is proportional to the cap up to a knee at this
# fraction of the uncapped draw, and flat above it. Calibrated on an RTX 3090
# whose stock limit let it draw 388.7 W at 38.23 tok/s (Qwen3.6-27B, llama.cpp):
# capped at 330 W it ran 36.35 tok/s (-5 %, for -15 % power), at 230 W
# 25.15 tok/s (-34 %, for -41 % power); both at ~0.11 tok/s/W
# (https://github.com/noonghunna/club-3090/issues/58).
# knee = cap / (uncapped x speed): 330 / (388.7 x 0.951) = 0.893,
# 230 / (388.7 x 0.658) = 0.899; mean 0.896. The last ~10 % of stock draw
# buys clock above where the SM clock saturates (~1.9 GHz on a 3090).
# Well below ~40 % of stock (a 3090 at 100 W) memory clocks drop too and
# speed collapses faster than this line.
POWER_LIMIT_KNEE_FRAC = 0.896

# The rest of a desktop besides GPUs and CPU: board, RAM, drives, fans
# (about 50-100 W; docs/model.md, Power); the midpoint.
REST_OF_SYSTEM_W = 75.0


@dataclass(frozen=True)
class PowerLimitPoint:
    """One point of a power-limit sweep, for a chart."""

    cap_w: float  # power limit set [W]
    speed_frac: float  # decode tokens/s relative to uncapped [0-1]
    power_w: float  # GPU draw at this cap [W]


def _check_frac(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1 (got {value})")


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number above 0 (got {value})")


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
        Achieved memory bandwidth / peak bandwidth. [0-1]
    compute_util_frac : float
        Achieved FLOP/s / dense peak FLOP/s of the datatype in use. [0-1]
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


def decode_speed_frac_at_power_limit(
    *,
    board_power_w: float,
    power_limit_w: float,
    uncapped_power_w: float | None = None,
) -> float:
    """Decode tokens/s under a power cap, relative to uncapped. [0-1]

    ``min(1, power_limit / (0.896 x uncapped_power))``: no loss while the cap
    stays above ~90 % of what the workload draws uncapped, then speed falls in
    proportion to the cap (constant tokens per joule).

    Assumptions: the workload's uncapped draw is known (``gpu_power_w``);
    calibrated on one RTX 3090 (Ampere, vLLM/llama.cpp decode) and assumed to
    hold for other cards; not valid far below ~40 % of stock power, where the
    memory clock also drops.

    Parameters
    ----------
    board_power_w : float
        Stock power limit of the card. [W]
    power_limit_w : float
        Cap set by the user. [W]
    uncapped_power_w : float, optional
        Draw of this workload without a cap. [W] Default: the board power
        (a workload that runs into the stock limit, as in the calibration).

    >>> round(decode_speed_frac_at_power_limit(board_power_w=388.7, power_limit_w=330), 3)
    0.948
    """
    _check_positive("board_power_w", board_power_w)
    _check_positive("power_limit_w", power_limit_w)
    uncapped_w = board_power_w if uncapped_power_w is None else uncapped_power_w
    _check_positive("uncapped_power_w", uncapped_w)
    if uncapped_w > board_power_w:
        raise ValueError(
            f"uncapped_power_w must be between 0 and board_power_w ({board_power_w} W)"
        )
    return min(1.0, power_limit_w / (POWER_LIMIT_KNEE_FRAC * uncapped_w))


def power_limit_sweet_spot_w(
    *,
    board_power_w: float,
    uncapped_power_w: float | None = None,
    min_speed_frac: float = 0.95,
    power_limit_min_w: float | None = None,
) -> float:
    """Lowest whole-watt cap that keeps at least ``min_speed_frac`` of decode speed. [W]

    Never below the card's minimum settable limit, never above the board power.

    >>> power_limit_sweet_spot_w(board_power_w=388.7)
    331.0
    """
    _check_positive("board_power_w", board_power_w)
    if not 0.0 < min_speed_frac <= 1.0:
        raise ValueError(f"min_speed_frac must be above 0 and at most 1 (got {min_speed_frac})")
    uncapped_w = board_power_w if uncapped_power_w is None else uncapped_power_w
    _check_positive("uncapped_power_w", uncapped_w)
    cap_w = float(math.ceil(min_speed_frac * POWER_LIMIT_KNEE_FRAC * uncapped_w - 1e-9))
    if power_limit_min_w is not None:
        cap_w = max(cap_w, power_limit_min_w)
    return min(cap_w, board_power_w)


def power_limit_curve(
    *,
    board_power_w: float,
    power_limit_min_w: float,
    uncapped_power_w: float | None = None,
    step_w: float = 10.0,
) -> tuple[PowerLimitPoint, ...]:
    """Decode speed and GPU draw for caps from the minimum to the board power.

    Points every ``step_w`` from ``power_limit_min_w``, plus the board power.
    """
    _check_positive("board_power_w", board_power_w)
    _check_positive("step_w", step_w)
    if not 0 < power_limit_min_w <= board_power_w:
        raise ValueError(
            f"power_limit_min_w must be above 0 and at most board_power_w ({board_power_w} W)"
        )
    uncapped_w = board_power_w if uncapped_power_w is None else uncapped_power_w
    caps_w = []
    cap_w = power_limit_min_w
    while cap_w < board_power_w:
        caps_w.append(cap_w)
        cap_w += step_w
    caps_w.append(board_power_w)
    return tuple(
        PowerLimitPoint(
            cap_w=c,
            speed_frac=decode_speed_frac_at_power_limit(
                board_power_w=board_power_w, power_limit_w=c, uncapped_power_w=uncapped_w
            ),
            power_w=min(c, uncapped_w),
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
