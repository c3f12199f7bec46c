"""Heat: steady GPU temperature, throttle risk, heat released into the room.

Steady core temperature = inlet air + GPU power x thermal resistance of the
cooler (+ a penalty when open-air cards are stacked with no gap). Coolers are
sized to their card, so a cooler class's resistance (``catalog/coolers.yaml``)
is stored for a 250 W card and scaled by 250 W / the card's board power.
Calibration and its arithmetic live in the YAML notes; the model is described
in docs/model.md, Thermal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from catalog.errors import UserError
from catalog.schema import Cooler, CoolerClass
from sizing.power import wall_power_w
from sizing.units import w_to_btu_per_hour

# Board power the stored cooler resistances refer to (catalog/coolers.yaml).
REFERENCE_COOLER_POWER_W = 250.0

# Inlet air inside a closed case runs above room temperature; the calibration
# reviews were open-bench ("In a closed case, the cards will inevitably be
# warmer", https://en.overclocking.com/review-tuf-gaming-rx-7700-xt-oc/9/).
# Assumption: +5 K for a case with ordinary intake fans; 0 for an open bench.
CASE_AIR_RISE_K = 5.0

# Open-air coolers pull air in from the side facing the next card; with no
# gap the upper card breathes the lower card's exhaust. NVIDIA and AMD advise
# spacing between high-end cards
# (https://www.anandtech.com/show/4254/triplegpu-performance-multigpu-scaling-part1).
# Assumption: +10 K for open-air coolers, +5 K for blowers (which take air at
# the card's end and exhaust it out of the case), none for liquid, passive
# (ducted server airflow) and integrated.
STACKING_PENALTY_K: dict[CoolerClass, float] = {
    CoolerClass.DUAL_FAN: 10.0,
    CoolerClass.TRIPLE_FAN: 10.0,
    CoolerClass.BLOWER: 5.0,
    CoolerClass.LIQUID: 0.0,
    CoolerClass.PASSIVE: 0.0,
    CoolerClass.INTEGRATED: 0.0,
}
STACKING_PENALTY_UNKNOWN_COOLER_K = 10.0

# Consumer NVIDIA cards start lowering clocks around 83 C on the core
# (GPU Boost temperature target; docs/model.md, Thermal).
THROTTLE_TEMP_C = 83.0

# Margins below the throttle temperature for throttle_risk. The cooler fits
# reproduce published temperatures within about 3-4 K, and the full-load
# temperatures of the Open-AutoGLM hardware article cited in docs/model.md
# within about 7 K (tests/test_thermal.py), so a margin under
# 10 K could be eaten by model error ("medium"), and under 3 K it is likely
# reached ("high").
LOW_RISK_MARGIN_K = 10.0
HIGH_RISK_MARGIN_K = 3.0

AMBIENT_MIN_C = 0.0
AMBIENT_MAX_C = 50.0

ThrottleRisk = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class GpuThermal:
    """Steady thermal state of one GPU."""

    temp_c: float  # steady core temperature [C]
    inlet_c: float  # air entering the cooler [C]
    rise_k: float  # core above inlet from the card's own power [K]
    stacking_penalty_k: float  # extra for a card stacked without a gap [K]
    thermal_resistance_k_per_w: float  # of this card's cooler [K/W]
    throttle_temp_c: float  # where clocks start to drop [C]
    throttle_risk: ThrottleRisk
    needs_server_airflow_warning: bool  # passive card outside a server chassis


def _check_ambient(ambient_c: float) -> None:
    if not AMBIENT_MIN_C <= ambient_c <= AMBIENT_MAX_C:
        raise UserError(
            f"ambient_c must be between {AMBIENT_MIN_C:g} and {AMBIENT_MAX_C:g} C (got {ambient_c})",
            code="ambient_range", params={"low": f"{AMBIENT_MIN_C:g}", "high": f"{AMBIENT_MAX_C:g}",
                                          "got": f"{ambient_c:g}"})


def cooler_thermal_resistance_k_per_w(*, cooler: Cooler, board_power_w: float) -> float:
    """Thermal resistance of a cooler of this class built for this card. [K/W]

    ``cooler.thermal_resistance_k_per_w x 250 W / board_power_w``.

    Parameters
    ----------
    cooler : Cooler
        Cooler class record from ``catalog/coolers.yaml``.
    board_power_w : float
        Rated board power of the card the cooler was built for. [W]
    """
    if not board_power_w > 0:
        raise ValueError(f"board_power_w must be above 0 (got {board_power_w})")
    return cooler.thermal_resistance_k_per_w * REFERENCE_COOLER_POWER_W / board_power_w


def steady_gpu_temp_c(
    *,
    ambient_c: float,
    gpu_power_w: float,
    cooler: Cooler | None = None,
    board_power_w: float | None = None,
    thermal_resistance_k_per_w: float | None = None,
    stacked_without_gap: bool = False,
    case_air_rise_k: float = CASE_AIR_RISE_K,
) -> float:
    """Steady core temperature of a GPU under sustained load. [C]

    ``ambient + case_air_rise + gpu_power x resistance (+ stacking penalty)``.
    Give either ``cooler`` (with the card's ``board_power_w``) or a measured
    ``thermal_resistance_k_per_w``. Linear in power: at partial load fans
    slow down, so real temperatures fall less than this predicts.

    Parameters
    ----------
    ambient_c : float
        Room air temperature. [C] 0-50.
    gpu_power_w : float
        Sustained GPU draw (``sizing.power.gpu_power_w``). [W]
    cooler : Cooler, optional
        Cooler class record.
    board_power_w : float, optional
        Card's rated board power, to scale the class resistance. [W]
        Default: the 250 W reference.
    thermal_resistance_k_per_w : float, optional
        Core-to-inlet resistance, instead of ``cooler``. [K/W]
    stacked_without_gap : bool
        Card sits directly against another card.
    case_air_rise_k : float
        Inlet air above room in the case. [K] 0 for an open bench.

    >>> round(steady_gpu_temp_c(ambient_c=25, gpu_power_w=200,
    ...                         thermal_resistance_k_per_w=0.2, case_air_rise_k=0), 1)
    65.0
    """
    _check_ambient(ambient_c)
    if gpu_power_w < 0:
        raise ValueError(f"gpu_power_w must be 0 or more (got {gpu_power_w})")
    if not 0 <= case_air_rise_k <= 30:
        raise ValueError(f"case_air_rise_k must be between 0 and 30 K (got {case_air_rise_k})")
    if cooler is not None and thermal_resistance_k_per_w is None:
        resistance = cooler_thermal_resistance_k_per_w(
            cooler=cooler, board_power_w=board_power_w or REFERENCE_COOLER_POWER_W
        )
        penalty_k = STACKING_PENALTY_K[cooler.id]
    elif cooler is None and thermal_resistance_k_per_w is not None:
        if not thermal_resistance_k_per_w > 0:
            raise ValueError(
                f"thermal_resistance_k_per_w must be above 0 (got {thermal_resistance_k_per_w})"
            )
        resistance = thermal_resistance_k_per_w
        penalty_k = STACKING_PENALTY_UNKNOWN_COOLER_K
    else:
        raise ValueError("give exactly one of cooler or thermal_resistance_k_per_w")
    stacking_k = penalty_k if stacked_without_gap else 0.0
    return ambient_c + case_air_rise_k + gpu_power_w * resistance + stacking_k


def throttle_risk(*, gpu_temp_c: float, throttle_temp_c: float = THROTTLE_TEMP_C) -> ThrottleRisk:
    """How likely the card is to lower its clocks at this steady temperature.

    Margin = throttle - temperature: at least 10 K "low", 3 to 10 K "medium",
    under 3 K (or above the throttle point) "high".

    >>> throttle_risk(gpu_temp_c=70), throttle_risk(gpu_temp_c=76), throttle_risk(gpu_temp_c=81)
    ('low', 'medium', 'high')
    """
    if not 0 < throttle_temp_c <= 125:
        raise ValueError(f"throttle_temp_c must be above 0 and at most 125 C (got {throttle_temp_c})")
    margin_k = throttle_temp_c - gpu_temp_c
    if margin_k >= LOW_RISK_MARGIN_K:
        return "low"
    if margin_k >= HIGH_RISK_MARGIN_K:
        return "medium"
    return "high"


def gpu_thermal(
    *,
    ambient_c: float,
    gpu_power_w: float,
    cooler: Cooler,
    board_power_w: float,
    stacked_without_gap: bool = False,
    server_airflow: bool = False,
    case_air_rise_k: float = CASE_AIR_RISE_K,
    throttle_temp_c: float | None = None,
) -> GpuThermal:
    """Steady temperature, throttle risk and airflow warning for one GPU.

    A passive card (``cooler.needs_server_airflow``) outside a server chassis
    gets ``needs_server_airflow_warning`` and "high" risk: its temperature
    assumes ducted server airflow it would not get.
    """
    temp_c = steady_gpu_temp_c(
        ambient_c=ambient_c,
        gpu_power_w=gpu_power_w,
        cooler=cooler,
        board_power_w=board_power_w,
        stacked_without_gap=stacked_without_gap,
        case_air_rise_k=case_air_rise_k,
    )
    resistance = cooler_thermal_resistance_k_per_w(cooler=cooler, board_power_w=board_power_w)
    limit_c = THROTTLE_TEMP_C if throttle_temp_c is None else throttle_temp_c
    warning = cooler.needs_server_airflow and not server_airflow
    risk: ThrottleRisk = "high" if warning else throttle_risk(gpu_temp_c=temp_c, throttle_temp_c=limit_c)
    return GpuThermal(
        temp_c=temp_c,
        inlet_c=ambient_c + case_air_rise_k,
        rise_k=gpu_power_w * resistance,
        stacking_penalty_k=STACKING_PENALTY_K[cooler.id] if stacked_without_gap else 0.0,
        thermal_resistance_k_per_w=resistance,
        throttle_temp_c=limit_c,
        throttle_risk=risk,
        needs_server_airflow_warning=warning,
    )


def room_heat_w(*, system_power_w: float, psu_efficiency_frac: float = 0.9) -> float:
    """Heat released into the room: the whole wall draw, PSU losses included. [W]

    >>> room_heat_w(system_power_w=900)
    1000.0
    """
    return wall_power_w(system_power_w=system_power_w, psu_efficiency_frac=psu_efficiency_frac)


def heat_btu_per_hour(*, system_power_w: float, psu_efficiency_frac: float = 0.9) -> float:
    """Heat released into the room, in the unit air conditioners are rated in. [BTU/h]

    >>> round(heat_btu_per_hour(system_power_w=900))
    3412
    """
    return w_to_btu_per_hour(
        room_heat_w(system_power_w=system_power_w, psu_efficiency_frac=psu_efficiency_frac)
    )
