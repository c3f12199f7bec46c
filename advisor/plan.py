"""Purchase advisor: three complete builds for a workload and a budget.

Given a workload (model, quant or "best", context, concurrent users, a minimum
decode speed per user) and a budget, :func:`plan` searches every catalog GPU
that has a price (new and, where listed, used) in counts of 1, 2 and 4, on
every CPU and motherboard pair that can carry them (:mod:`advisor.parts`,
:mod:`advisor.builds`), picks the budget, balanced and workstation builds
(:mod:`advisor.tiers`), and adds the cloud instances that run the same
workload with the months after which buying beats renting
(:mod:`advisor.cloud`).

Search: memory is checked first (microseconds); configurations that fit are
screened with the engine's memory, speed and decode power alone
(:mod:`advisor.candidates`), and the full estimate runs only for the builds a
plan shows, which are chosen again from the explained figures until the
choice holds (the same numbers, so once). Builds are chosen from light
records (:class:`~advisor.builds.Assembly`: price, speeds, the machine's
parts); the full build record, with its bill of materials and checks, is made
only for the builds the result holds. Platforms (CPU + board + cooler) are
searched cheapest first, stopping at the first that cannot undercut the build
found. What a machine needs whatever the model costs (each platform's slot
layout, case, RAM, PSU and wall check around a card and count, the machine
chosen for a card's price and draw, and the cheapest machine in the catalog),
the purchasable cards and platforms, the cards' comparison rows and the cloud
instances' own fields are kept with the catalog, so the next plan on it asks
none of it again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from advisor.builds import (MAX_KEPT_SETTINGS, BuildLike, BuildSettings, assembly,
                            machine_frames)
from advisor.candidates import Candidate, CandidateSearch, quant_ladder
from advisor.cloud import cloud_options, comparison_of
from advisor.errors import PlanError
from advisor.own_prices import with_own_prices
from advisor.parts import (GPU_COUNTS, GpuOption, Platform, Shop, biggest_machine_within,
                           gpu_options, machine_floor, platforms)
from advisor.prices import electricity_usd_per_kwh as electricity_price, units_per_usd
from advisor.results import CloudComparison, CloudOption, ConsumerVsPro, PlanResult, TierBuild
from advisor.workload import (DEFAULT_CIRCUIT_AMPS, DEFAULT_CIRCUIT_VOLTS, DEFAULT_HOURS_PER_DAY,
                              DEFAULT_MIN_TOKENS_PER_S, DEFAULT_USERS, workload_request)
from advisor.tiers import (build_label, build_params, consumer_vs_pro, gpu_values, pick_tiers,
                           speed_text, tier_build, within_best_reason)
from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from catalog.schema import ModelArch
from sizing.service_level import ServeSettings
from sizing.estimate import memory_for
from sizing.limits import Limit
from sizing.notices import Notice, count_text
from sizing.request import EstimateRequest, resolve_model
from sizing.system import check_circuit
from sizing.units import bytes_to_gib

# Limits of a plan's inputs; the front ends take their widget and link bounds from here.
MAX_USERS = 256
MAX_MIN_TOKENS_PER_S = 10_000.0
MAX_HOURS_PER_DAY = 24.0
# The largest budget a plan takes, far above any desktop build in the catalog. [USD]
MAX_BUDGET_USD = 10_000_000.0
BUDGET_USD = Limit(0.0, MAX_BUDGET_USD, low_open=True)  # [USD]
USERS = Limit(1, MAX_USERS, whole=True)
MIN_TOKENS_PER_S = Limit(0.0, MAX_MIN_TOKENS_PER_S, low_open=True)  # [tokens/s]
HOURS_PER_DAY = Limit(0.0, MAX_HOURS_PER_DAY)  # [h]

T = TypeVar("T")


def plan(request: EstimateRequest, catalog: Catalog, *, budget_usd: float | None,
         users: int = DEFAULT_USERS, hours_per_day: float = DEFAULT_HOURS_PER_DAY,
         currency: str = "USD", quant: str | None = None,
         min_tokens_per_s: float = DEFAULT_MIN_TOKENS_PER_S,
         context_tokens: int | None = None, electricity_usd_per_kwh: float | None = None,
         electricity_region: str | None = None, circuit_volts: float = DEFAULT_CIRCUIT_VOLTS,
         circuit_amps: float = DEFAULT_CIRCUIT_AMPS,
         arch: ModelArch | None = None,
         own_prices_usd: Mapping[str, float] | None = None,
         service: ServeSettings | None = None, speculative: bool = False) -> PlanResult:
    """Budget, balanced and workstation builds for a workload, with cloud options.

    Parameters
    ----------
    request : EstimateRequest
        The workload: model (or hf_config / params_b), quant, runtime, KV type,
        prompt, new and context tokens per user (see :mod:`advisor.workload`).
        Its GPU fields are ignored.
    budget_usd : float or None
        Most the build may cost. [USD] None: no limit.
    users : int
        Concurrent users, each decoding at ``min_tokens_per_s`` or more. [1-256]
    hours_per_day : float
        Hours of use per day, for electricity and break-even. [h] 0-24.
    currency : str
        ISO code for the ``*_in_currency`` fields (catalog/currencies.yaml).
    quant : str, optional
        A quant id, or "best": the most faithful rung of the runtime's ladder
        that fits and meets the speed. Default: the request's quant.
    min_tokens_per_s : float
        Decode speed each user needs. [tokens/s] Default 10 (reading speed).
    context_tokens : int, optional
        Context per user, instead of the request's; prompt and new tokens stay as
        the request has them unless they would overflow it. [tokens]
    electricity_usd_per_kwh : float, optional
        Overrides region and request. [USD/kWh]
    circuit_volts, circuit_amps : float
        Wall circuit the machine runs on. [V], [A]
    own_prices_usd : mapping, optional
        The user's own price of catalog GPUs and parts, by id
        (:mod:`advisor.own_prices`); they replace the listed prices. [USD]
    service : ServeSettings, optional
        A service level (p95 time to first token and inter-token latency, think
        time): a build meets the workload when the plan's users, served by its
        runtime, stay within it (:mod:`sizing.capacity`); the per-user speed is
        then not the test.
    speculative : bool
        With a service level: a build may meet it with speculative decoding (the
        model's MTP modules, else a small draft of its family).
    """
    if budget_usd is not None and not BUDGET_USD.contains(budget_usd):
        raise PlanError(f"budget must be above 0 and at most {MAX_BUDGET_USD:,.0f} USD "
                        f"(got {budget_usd:g} USD)", code="budget_usd_range",
                        params={"high_usd": f"{MAX_BUDGET_USD:,.0f}", "got_usd": f"{budget_usd:g}"})
    if not USERS.contains(users):
        raise PlanError(f"users must be between 1 and {MAX_USERS} (got {echo(users)})",
                        code="users_range", params={"high": MAX_USERS, "got": echo(users)})
    if not MIN_TOKENS_PER_S.contains(min_tokens_per_s):
        raise PlanError(f"min tokens/s must be above 0 and at most {MAX_MIN_TOKENS_PER_S:,.0f} "
                        f"(got {min_tokens_per_s:g})", code="min_tokens_per_s_range",
                        params={"high": f"{MAX_MIN_TOKENS_PER_S:,.0f}", "got": f"{min_tokens_per_s:g}"})
    if not HOURS_PER_DAY.contains(hours_per_day):
        raise PlanError(f"hours per day must be between 0 and {MAX_HOURS_PER_DAY:g} "
                        f"(got {hours_per_day:g})", code="hours_per_day_range",
                        params={"high": f"{MAX_HOURS_PER_DAY:g}", "got": f"{hours_per_day:g}"})
    try:
        check_circuit(circuit_volts, circuit_amps)
    except UserError as exc:
        raise PlanError(str(exc), code=exc.code, params=exc.params) from None
    catalog = with_own_prices(catalog, own_prices_usd or {})
    market = catalog.market
    units = units_per_usd(market, currency)
    usd_per_kwh = electricity_price(market, override=electricity_usd_per_kwh,
                                    region=electricity_region,
                                    requested=request.electricity_usd_per_kwh)
    base = workload_request(request, users, context_tokens)
    warnings: list[Notice] = []
    if arch is None:
        arch, warnings = resolve_model(base, catalog)
    quant_mode = quant or base.quant
    engine = CandidateSearch(catalog, arch, base,
                             ladder=quant_ladder(quant_mode, base.runtime, users, catalog),
                             min_tokens_per_s=min_tokens_per_s,
                             service=None if service is None
                             else service.model_copy(update={"users": users}),
                             speculative=speculative)
    shop = Shop.kept(catalog)
    ambient_c = base.ambient_c if base.ambient_c is not None else 25.0
    settings = BuildSettings(users=users, min_tokens_per_s=min_tokens_per_s, volts=circuit_volts,
                             amps=circuit_amps, units_per_usd=units, ambient_c=ambient_c,
                             shop=shop, frames=machine_frames(catalog, volts=circuit_volts,
                                                              amps=circuit_amps,
                                                              ambient_c=ambient_c))
    options, skipped, plats = _purchasable(catalog)

    # Each configuration's cheapest machine; the full Build record is made only for
    # the builds the result holds (advisor.builds.Assembly).
    screened: dict[BuildKey, tuple[BuildLike, GpuOption, Candidate]] = {}
    min_count: dict[str, int] = {}
    for option in options:
        for n in GPU_COUNTS:
            cand = engine.best(option.gpu.id, n)
            if cand is None:
                continue
            min_count.setdefault(option.gpu.id, n)
            build = assembly(option, cand, plats, market, catalog, settings)
            if build is not None:
                screened[build_key(build)] = (build, option, cand)

    # The builds shown are explained by the full estimate; choose again from those
    # figures until no shown build is a screened one.
    explained: dict[BuildKey, BuildLike | None] = {}
    while True:
        builds = [b for k, (screen, _, _) in screened.items()
                  if (b := explained.get(k, screen)) is not None]
        choice = choose(builds, options, budget_usd, min_tokens_per_s)
        todo = {build_key(b) for b in choice.shown()} - explained.keys()
        if not todo:
            break
        for k in todo:
            _, option, cand = screened[k]
            explained[k] = assembly(option, engine.explained(cand), plats, market, catalog,
                                    settings)
    meeting, tiers, within_best = choice.meeting, choice.tiers, choice.within_best
    meets_in_budget = choice.meets_in_budget

    tier_costs = [(t.tier, t.total_usd, t.wall_power_w) for t in tiers]
    cloud_list = cloud_options(
        market.instances, engine.best, tiers=tier_costs, hours_per_day=hours_per_day,
        usd_per_kwh=usd_per_kwh, units_per_usd=units, gpu_names={g.id: g.name for g in catalog.gpus},
        kept=catalog.derived("cloud listings"))

    # By mains voltage: the catalog's parts alone.
    floor = _kept(catalog, "machine floor", circuit_volts,
                  lambda: machine_floor(options, plats, shop, volts=circuit_volts))
    if budget_usd is not None and floor is not None and budget_usd < floor[0]:
        # In the currency the budget was given in: a budget of 100 JPY is not "1 USD".
        code = currency.upper()
        floor_params = {"budget": f"{budget_usd * units:,.0f}", "floor": f"{floor[0] * units:,.0f}",
                        "currency": code, "gpu": floor[1].gpu.name}
        if cloud_list:
            floor_params |= {"instance": cloud_list[0].name,
                             "per_hour": f"{cloud_list[0].usd_per_hour * units:,.2f}"}
        raise PlanError(
            f"a budget of {floor_params['budget']} {code} is below the cheapest complete machine "
            f"in the catalog ({floor_params['floor']} {code} with a {floor[1].gpu.name}); raise "
            "the budget or rent " + (f"({cloud_list[0].name} at {floor_params['per_hour']} {code}/h)"
                                     if cloud_list else "in the cloud"),
            code="plan_below_floor_cloud" if cloud_list else "plan_below_floor",
            params=floor_params)
    if not meeting and not any(c.meets_workload for c in cloud_list):
        raise unmeetable_error(arch, base, catalog, engine, builds, min_tokens_per_s, users,
                               cloud_list)
    buys = None
    if budget_usd is not None and within_best is None and not meets_in_budget:
        buys = _kept(catalog, "biggest machine within", (budget_usd, circuit_volts),
                     lambda: biggest_machine_within(options, plats, shop, budget_usd,
                                                    volts=circuit_volts))

    message, lead_cloud = headline(arch, tiers, meeting, buys, cloud_list, budget_usd,
                                   min_tokens_per_s, users, builds)
    return PlanResult(
        model_id=arch.id, model_name=arch.name, quant_mode=quant_mode,
        context_tokens=base.allocated_context_tokens, prompt_tokens=base.prompt_tokens,
        new_tokens=base.new_tokens, users=users, min_tokens_per_s=min_tokens_per_s,
        budget_usd=budget_usd, budget_in_currency=None if budget_usd is None else budget_usd * units,
        currency=currency.upper(), units_per_usd=units, hours_per_day=hours_per_day,
        electricity_usd_per_kwh=usd_per_kwh, meets_workload_within_budget=meets_in_budget,
        lead_with_cloud=lead_cloud, message=message, tiers=tiers,
        within_budget_best=within_best,
        cloud=cloud_list, consumer_vs_pro=choice.consumer_vs_pro,
        gpu_values=gpu_values(options, min_count, catalog.derived("gpu values")),
        builds_evaluated=engine.runs, skipped=skipped, warnings=warnings, service=engine.service,
        speculative_allowed=speculative, task=arch.task)


def _purchasable(catalog: Catalog) -> tuple[list[GpuOption], list[str], list[Platform]]:
    """The catalog's cards a desktop build can use, the cards left out and why, and its
    platforms (:func:`~advisor.parts.gpu_options`, :func:`~advisor.parts.platforms`),
    kept with the catalog."""
    def find() -> tuple[list[GpuOption], list[str], list[Platform]]:
        options, skipped = gpu_options(catalog)
        return options, skipped, platforms(catalog.market)

    return _kept(catalog, "purchasable", None, find)


def _kept(catalog: Catalog, name: str, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, kept with the catalog under ``name`` by ``key``: for what the catalog's
    parts and a few plan settings (budget, mains voltage) decide, whatever the model.
    At most :data:`~advisor.builds.MAX_KEPT_SETTINGS` keys are kept."""
    kept = catalog.derived(name)
    if key not in kept:
        if len(kept) >= MAX_KEPT_SETTINGS:
            kept.clear()
        kept[key] = make()
    return kept[key]


BuildKey = tuple[str, int, bool]  # GPU id, count, used


def build_key(b: BuildLike) -> BuildKey:
    return b.gpu_id, b.gpu_count, b.gpu_used


@dataclass(frozen=True)
class Choice:
    """What a plan picks from its builds."""

    meeting: list[BuildLike]  # the builds that meet the workload, cheapest first
    tiers: list[TierBuild]
    within_best: TierBuild | None  # the best within the budget, when no tier meets it there
    options: Sequence[GpuOption]
    budget_usd: float | None

    @property
    def meets_in_budget(self) -> bool:
        return any(t.within_budget for t in self.tiers)

    @functools.cached_property
    def consumer_vs_pro(self) -> ConsumerVsPro:
        return consumer_vs_pro(self.meeting, self.options, self.budget_usd)

    def shown(self) -> list[TierBuild]:
        """Every build the plan's result holds."""
        cvp = self.consumer_vs_pro
        return [b for b in (*self.tiers, self.within_best, cvp.consumer, cvp.professional)
                if b is not None]


def choose(builds: Sequence[BuildLike], options: Sequence[GpuOption], budget_usd: float | None,
           min_tps: float) -> Choice:
    """The tiers, and the best within the budget when no tier meets the workload there."""
    meeting = sorted((b for b in builds if b.meets_workload), key=lambda b: b.total_usd)
    tiers = pick_tiers(meeting, budget_usd)
    within = [b for b in builds if budget_usd is None or b.total_usd <= budget_usd]
    within_best = None
    if not any(t.within_budget for t in tiers) and within:
        top = max(within, key=lambda b: (b.decode_tokens_per_s_per_user or 0, -b.total_usd))
        within_best = tier_build(top, "budget", budget_usd,
                                 reason=within_best_reason(top, min_tps))
    return Choice(meeting=meeting, tiers=tiers, within_best=within_best, options=options,
                  budget_usd=budget_usd)


def headline(arch: ModelArch, tiers: Sequence[TierBuild], meeting: Sequence[BuildLike],
             buys: tuple[float, GpuOption, int] | None,
             cloud_list: Sequence[CloudOption],
             budget_usd: float | None, min_tps: float, users: int,
             builds: Sequence[BuildLike]) -> tuple[list[Notice], bool]:
    """The plan's headline, one Notice per sentence (joined by spaces in English)."""
    need = (f"{min_tps:g} tokens/s for each of {count_text(users, 'user', 'users')}" if users > 1
            else f"{min_tps:g} tokens/s")
    need_params = {"tps": f"{min_tps:g}", "users": users, "model": arch.name}
    best_cloud = next((c for c in cloud_list if c.meets_workload), None)
    encoder = arch.task != "generate"  # priced by the input tokens it embeds
    if best_cloud:
        cloud = Notice(
            "plan_cloud_first_encoder" if encoder else "plan_cloud_first",
            f"Cloud first: rent {best_cloud.name} at "
            f"{best_cloud.usd_per_hour:.2f} USD/h ({best_cloud.usd_per_1m_tokens:.2f} USD per "
            f"million {'input tokens embedded' if encoder else 'tokens'}).",
            provider=best_cloud.provider,
            instance=best_cloud.name, usd_per_hour=f"{best_cloud.usd_per_hour:.2f}",
            usd_per_1m=f"{best_cloud.usd_per_1m_tokens:.2f}")
    else:
        cloud = Notice("plan_cloud_first_none",
                       "Cloud first: no catalog cloud instance meets it either.")
    if any(t.within_budget for t in tiers):
        inside = {(t.gpu_id, t.gpu_count, t.gpu_used) for t in tiers if t.within_budget}
        if arch.task != "generate":  # an encoder meets the workload by holding the model
            holds = count_text(len(inside), "distinct build holds", "distinct builds hold")
            embed = max((t.prefill_tokens_per_s or 0.0) for t in tiers if t.within_budget)
            embed_text = f"{embed:,.0f}" if embed else "—"
            out = [Notice("plan_holds_encoder", f"{holds} {arch.name} within the budget, the "
                          f"fastest embedding {embed_text} tokens/s; an encoder-only model "
                          "generates nothing, so no tokens/s per user applies.",
                          builds=len(inside), model=arch.name, embed=embed_text)]
        else:
            runs = count_text(len(inside), "distinct build runs", "distinct builds run")
            out = [Notice("plan_meets", f"{runs} {arch.name} at {need} "
                          "or more within the budget.", builds=len(inside), **need_params)]
        if any(t.stretch for t in tiers):
            out.append(Notice("plan_stretch_labelled", "A stretch option above it is labelled."))
        return out, False
    if meeting and encoder:
        out = [Notice(
            "plan_over_budget_encoder",
            f"Nothing within {budget_usd:,.0f} USD holds {arch.name}: the cheapest build that "
            f"does costs {meeting[0].total_usd:,.0f} USD.", budget_usd=f"{budget_usd:,.0f}",
            cheapest_usd=f"{meeting[0].total_usd:,.0f}", model=arch.name)]
    elif meeting:
        out = [Notice(
            "plan_over_budget",
            f"Nothing within {budget_usd:,.0f} USD runs {arch.name} at {need}: the cheapest "
            f"build that does costs {meeting[0].total_usd:,.0f} USD.",
            budget_usd=f"{budget_usd:,.0f}", cheapest_usd=f"{meeting[0].total_usd:,.0f}",
            **need_params)]
        if buys is not None:
            cost, option, n = buys
            out.append(Notice(
                "plan_budget_buys",
                f"The budget buys at most {n * option.gpu.memory_gib:g} GiB of GPU memory "
                f"({n} x {option.gpu.name}{' used' if option.used else ''}, "
                f"{cost:,.0f} USD), too little to hold the model.",
                gib=f"{n * option.gpu.memory_gib:g}", count=n, gpu=option.gpu.name,
                condition_term="used" if option.used else "new", cost_usd=f"{cost:,.0f}"))
        return [*out, cloud], True
    if builds:
        fastest = max(builds, key=lambda b: b.decode_tokens_per_s_per_user or 0)
        return [Notice(
            "plan_no_build_reaches",
            f"No catalog build reaches {need} for {arch.name}; the fastest local build holds "
            f"it at {speed_text(fastest)} ({build_label(fastest)}).",
            **need_params, **build_params(fastest)), cloud], True
    return [Notice("plan_no_desktop_build",
                   f"No desktop build in the catalog holds {arch.name}.", model=arch.name),
            cloud], True


def unmeetable_error(arch: ModelArch, base: EstimateRequest, catalog: Catalog,
                     engine: CandidateSearch, builds: Sequence[BuildLike], min_tps: float, users: int,
                     cloud_list: Sequence[CloudOption]) -> PlanError:
    """The error that says what the workload would need, in one line."""
    if builds or cloud_list:
        speeds = [(b.decode_tokens_per_s_per_user or 0, f"{build_label(b)} (desktop)",
                   {"where": f"{b.gpu_count} × {b.gpu_name}", "quant": b.quant,
                    "where_term": "used" if b.gpu_used else "new"}) for b in builds]
        speeds += [(c.decode_tokens_per_s_per_user or 0, c.name,
                    {"where": c.name, "quant": c.quant, "where_term": "cloud"}) for c in cloud_list]
        top, where, place = max(speeds, key=lambda row: row[0])
        factor = f"{min_tps / max(top, 1e-9):.1f}"
        return PlanError(
            f"nothing in the catalog runs {arch.name} at {min_tps:g} tokens/s per user for "
            f"{count_text(users, 'user', 'users')}: the fastest, {where}, reaches {top:.1f}; "
            f"it would need about {factor}x that speed; lower --min-tokens-per-s or --users",
            code="plan_too_slow", params={"model": arch.name, "tps": f"{min_tps:g}", "users": users,
                                          "top": f"{top:.1f}", "factor": factor, **place})
    runtime_id, quant_id, _ = engine.ladder[-1]  # the smallest rung
    probe = base.model_copy(update={"gpu": "rtx-3090", "memory_gib": None, "gpu_count": 1,
                                    "quant": quant_id,
                                    "runtime": runtime_id})
    mem = memory_for(probe, catalog, arch)
    need_gib = bytes_to_gib(mem.total_bytes - mem.overhead_bytes)
    return PlanError(
        f"no desktop build or cloud instance in the catalog holds {arch.name} at {quant_id} "
        f"with this context: it needs about {need_gib:,.0f} GiB of GPU memory plus "
        f"per-GPU overhead; use a smaller quant, a shorter context or a multi-node server",
        code="plan_too_big", params={"model": arch.name, "quant": quant_id,
                                     "gib": f"{need_gib:,.0f}"})


def compare(request: EstimateRequest, catalog: Catalog, *, budget_usd: float | None = None,
            users: int = DEFAULT_USERS, hours_per_day: float = DEFAULT_HOURS_PER_DAY,
            currency: str = "USD", **options) -> CloudComparison:
    """Cloud instances for the request's workload, with break-even against the
    purchase tiers (see :func:`plan` for ``options``)."""
    result = plan(request, catalog, budget_usd=budget_usd, users=users,
                  hours_per_day=hours_per_day, currency=currency, **options)
    return comparison_of(result)
