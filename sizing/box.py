"""The rest of the box for one scenario: power, heat, PSU, RAM, load time.

Joins the speed model's utilisation figures to the pure functions in
``power``, ``thermal`` and ``system``.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.errors import UserError
from catalog.schema import Cooler, Gpu, StorageClass
from sizing import power, system, thermal

DEFAULT_AMBIENT_C = 25.0
DEFAULT_USD_PER_KWH = 0.1872  # US residential average, EIA table 5.6.A (catalog/currencies.yaml)
DEFAULT_CPU_POWER_W = 65.0  # a desktop CPU feeding GPUs: well under its TDP
# When the catalog lacks a card's power-limit range: NVIDIA consumer boards
# accept roughly a third of their board power up to the board power itself.
DEFAULT_MIN_POWER_LIMIT_FRAC = 1 / 3


@dataclass(frozen=True)
class BoxEstimate:
    gpu_power_w: float  # per GPU while decoding
    gpu_power_prefill_w: float  # per GPU while processing the prompt
    system_power_w: float  # whole system while decoding, DC side
    system_power_prefill_w: float  # whole system while processing the prompt, DC side
    psu_recommended_w: float | None  # None: the machine has its power supply built in
    psu_needed_w: float
    energy_wh_per_1k_tokens: float | None  # generated tokens
    cost_usd_per_1m_tokens: float | None
    energy_wh_per_1k_prompt_tokens: float | None
    cost_usd_per_1m_prompt_tokens: float | None
    power_limit_w: float | None
    decode_speed_frac_at_limit: float
    prefill_speed_frac_at_limit: float
    power_limit_sweet_spot_w: float | None  # keeps 95 % of decode speed
    power_limit_sweet_spot_prefill_w: float | None  # keeps 95 % of prefill speed
    power_limit_curve: tuple[power.PowerLimitPoint, ...]  # speed and draw of both phases per cap
    gpu_power_average_w: float  # per GPU, averaged over one request's prefill and decode
    gpu_temp_c: float  # steady, this workload
    gpu_temp_full_load_c: float  # steady at the card's power limit
    throttle_risk: str
    needs_server_airflow: bool
    heat_w: float
    heat_btu_per_hour: float
    wall_circuit_120v_ok: bool
    wall_circuit_230v_ok: bool
    load_time_s: float
    ram_recommended_bytes: float | None
    ram_needed_bytes: float
    min_cpu_cores: int
    pcie_lanes_needed: int
    pcie_8pin_count: int
    connector_12v_2x6_count: int


def power_limit_range_w(gpu: Gpu) -> tuple[float, float]:
    """Power caps the card accepts. [W]"""
    low = gpu.power_limit_min_w or gpu.board_power_w * DEFAULT_MIN_POWER_LIMIT_FRAC
    high = gpu.power_limit_max_w or gpu.board_power_w
    return low, high


def check_power_limit(gpu: Gpu, power_limit_w: float | None) -> None:
    if power_limit_w is None:
        return
    low, high = power_limit_range_w(gpu)
    if not low <= power_limit_w <= high:
        raise UserError(f"power limit {power_limit_w:g} W is outside what the {gpu.name} allows "
                        f"({low:.0f}-{high:.0f} W)", code="power_limit_range",
                        params={"got": f"{power_limit_w:g}", "gpu": gpu.name,
                                "low": f"{low:.0f}", "high": f"{high:.0f}"})


def psu_built_in(gpu: Gpu) -> bool:
    """Whether the GPU is part of a complete machine with its own power supply (a SoC
    such as a Mac, DGX Spark or Ryzen AI Max box), not an add-in card that needs one."""
    return gpu.form_factor == "soc"


def decode_gpu_power_w(*, gpu: Gpu, gpu_count: int, tensor_parallel: bool,
                       decode_memory_util_frac: float, decode_compute_util_frac: float) -> float:
    """Each GPU's draw while decoding, without a power cap. [W]

    Utilisations are shares of the peaks for the whole model
    (``sizing.speed.SpeedEstimate``).
    """
    # A layer split decodes on one GPU at a time: each is busy 1/N of the step.
    share = 1.0 if tensor_parallel or gpu_count == 1 else 1.0 / gpu_count
    return power.gpu_power_w(board_power_w=gpu.board_power_w,
                             memory_util_frac=decode_memory_util_frac * share,
                             compute_util_frac=decode_compute_util_frac * share)


def box_for(*, gpu: Gpu, gpu_count: int, tensor_parallel: bool, cooler: Cooler,
            storage: StorageClass, decode_memory_util_frac: float, decode_compute_util_frac: float,
            prefill_compute_time_frac: float, prefill_memory_time_frac: float,
            decode_tokens_per_s: float | None,
            file_bytes: float, offloaded_bytes: float, ambient_c: float = DEFAULT_AMBIENT_C,
            power_limit_w: float | None = None, usd_per_kwh: float = DEFAULT_USD_PER_KWH,
            server_airflow: bool = False, prefill_tokens_per_s: float | None = None,
            prefill_s: float = 0.0, decode_s: float = 0.0) -> BoxEstimate:
    """Power, heat and system sizing for one scenario.

    Decode utilisations are shares of the peaks for the whole model; prefill
    time shares are per GPU (``sizing.speed.SpeedEstimate``). Speeds and times
    are uncapped; ``prefill_s`` and ``decode_s`` are one request's prompt and
    generation times, which weight the two phases' draw for the steady
    temperature and the heat.
    """
    check_power_limit(gpu, power_limit_w)
    cap = power_limit_w
    uncapped = decode_gpu_power_w(gpu=gpu, gpu_count=gpu_count, tensor_parallel=tensor_parallel,
                                  decode_memory_util_frac=decode_memory_util_frac,
                                  decode_compute_util_frac=decode_compute_util_frac)
    prefill_uncapped = power.gpu_power_w(board_power_w=gpu.board_power_w,
                                         memory_util_frac=prefill_memory_time_frac,
                                         compute_util_frac=prefill_compute_time_frac)
    decode_w = min(uncapped, cap) if cap else uncapped
    prefill_w = min(prefill_uncapped, cap) if cap else prefill_uncapped
    speed_frac = prefill_frac = 1.0
    sweet = sweet_prefill = None
    if cap:
        speed_frac = power.decode_speed_frac_at_power_limit(
            board_power_w=gpu.board_power_w, power_limit_w=cap, uncapped_power_w=uncapped)
        prefill_frac = power.prefill_speed_frac_at_power_limit(
            board_power_w=gpu.board_power_w, power_limit_w=cap, uncapped_power_w=prefill_uncapped)
    curve: tuple[power.PowerLimitPoint, ...] = ()
    if gpu.vendor.value != "apple":  # Macs expose no power cap
        low_w = power_limit_range_w(gpu)[0]
        sweet = power.power_limit_sweet_spot_w(board_power_w=gpu.board_power_w,
                                               uncapped_power_w=uncapped, power_limit_min_w=low_w)
        sweet_prefill = power.power_limit_sweet_spot_w(
            board_power_w=gpu.board_power_w, uncapped_power_w=prefill_uncapped,
            power_limit_min_w=low_w, phase="prefill")
        curve = power.power_limit_curve(board_power_w=gpu.board_power_w, power_limit_min_w=low_w,
                                        uncapped_power_w=uncapped,
                                        prefill_uncapped_power_w=prefill_uncapped,
                                        step_w=max(5.0, round(gpu.board_power_w / 40 / 5) * 5))
    system_w = power.system_power_w(gpu_power_w_each=decode_w, gpu_count=gpu_count,
                                    cpu_power_w=DEFAULT_CPU_POWER_W)
    system_prefill_w = power.system_power_w(gpu_power_w_each=prefill_w, gpu_count=gpu_count,
                                            cpu_power_w=DEFAULT_CPU_POWER_W)
    # One request after another: the card spends the (capped) prompt time at
    # the prefill draw and the generation time at the decode draw.
    prefill_t, decode_t = prefill_s / prefill_frac, decode_s / speed_frac
    if prefill_t + decode_t > 0:
        average_w = (prefill_w * prefill_t + decode_w * decode_t) / (prefill_t + decode_t)
        # A weighted mean lies between its terms; keep it there when tiny (subnormal)
        # times lose precision.
        average_w = min(max(average_w, min(prefill_w, decode_w)), max(prefill_w, decode_w))
    else:  # no timing (speed unknown): the larger draw
        average_w = max(decode_w, prefill_w)
    system_average_w = power.system_power_w(gpu_power_w_each=average_w, gpu_count=gpu_count,
                                            cpu_power_w=DEFAULT_CPU_POWER_W)
    limit_each = cap or gpu.board_power_w
    sustained_w = power.system_power_w(gpu_power_w_each=limit_each, gpu_count=gpu_count,
                                       cpu_power_w=DEFAULT_CPU_POWER_W)
    psu = system.psu_recommended_w(sustained_system_w=sustained_w,
                                   gpu_board_power_w_total=limit_each * gpu_count)
    tokens = decode_tokens_per_s * speed_frac if decode_tokens_per_s else None
    energy = cost = None
    if tokens:
        energy = power.energy_wh_per_1k_tokens(system_power_w=system_w, tokens_per_s=tokens)
        cost = power.cost_usd_per_1m_tokens(system_power_w=system_w, tokens_per_s=tokens,
                                            usd_per_kwh=usd_per_kwh)
    prompt_tokens = prefill_tokens_per_s * prefill_frac if prefill_tokens_per_s else None
    energy_prompt = cost_prompt = None
    if prompt_tokens:
        energy_prompt = power.energy_wh_per_1k_tokens(system_power_w=system_prefill_w,
                                                      tokens_per_s=prompt_tokens)
        cost_prompt = power.cost_usd_per_1m_tokens(system_power_w=system_prefill_w,
                                                   tokens_per_s=prompt_tokens,
                                                   usd_per_kwh=usd_per_kwh)
    stacked = gpu_count > 1 and (gpu.slot_width or 2) >= 2.5
    heat = thermal.gpu_thermal(ambient_c=ambient_c, gpu_power_w=average_w,
                               cooler=cooler, board_power_w=gpu.board_power_w,
                               stacked_without_gap=stacked, server_airflow=server_airflow,
                               throttle_temp_c=gpu.throttle_temp_c)
    full = thermal.steady_gpu_temp_c(ambient_c=ambient_c, gpu_power_w=limit_each, cooler=cooler,
                                     board_power_w=gpu.board_power_w,
                                     stacked_without_gap=stacked)
    connectors = system.required_power_connectors(
        gpu_connectors=[gpu.power_connectors] * gpu_count)
    ram = system.ram_recommended_bytes(offloaded_bytes=offloaded_bytes, model_file_bytes=file_bytes)
    cpu = system.cpu_guidance(gpu_count=gpu_count, offload=offloaded_bytes > 0,
                              gpu_pcie_lanes_each=gpu.pcie_lanes or 16)
    return BoxEstimate(
        gpu_power_w=decode_w, gpu_power_prefill_w=prefill_w, system_power_w=system_w,
        system_power_prefill_w=system_prefill_w,
        psu_recommended_w=None if psu_built_in(gpu) else psu.recommended_w,
        psu_needed_w=psu.needed_w,
        energy_wh_per_1k_tokens=energy, cost_usd_per_1m_tokens=cost,
        energy_wh_per_1k_prompt_tokens=energy_prompt, cost_usd_per_1m_prompt_tokens=cost_prompt,
        power_limit_w=cap, decode_speed_frac_at_limit=speed_frac,
        prefill_speed_frac_at_limit=prefill_frac, power_limit_sweet_spot_w=sweet,
        power_limit_sweet_spot_prefill_w=sweet_prefill, power_limit_curve=curve,
        gpu_power_average_w=average_w,
        gpu_temp_c=heat.temp_c, gpu_temp_full_load_c=full, throttle_risk=heat.throttle_risk,
        needs_server_airflow=heat.needs_server_airflow_warning,
        heat_w=thermal.room_heat_w(system_power_w=system_average_w),
        heat_btu_per_hour=thermal.heat_btu_per_hour(system_power_w=system_average_w),
        wall_circuit_120v_ok=system.wall_circuit_check(system_power_w=sustained_w).ok,
        wall_circuit_230v_ok=system.wall_circuit_check(system_power_w=sustained_w, volts=230,
                                                       amps=16).ok,
        load_time_s=system.load_time_s(file_bytes=file_bytes, read_gb_per_s=storage.read_gb_per_s),
        ram_recommended_bytes=ram.recommended_bytes, ram_needed_bytes=ram.needed_bytes,
        min_cpu_cores=cpu.min_physical_cores, pcie_lanes_needed=cpu.pcie_lanes_needed,
        pcie_8pin_count=connectors.pcie_8pin_count,
        connector_12v_2x6_count=connectors.pcie_12v_2x6_count)
