"""The report's content, once, in one language: what the HTML and PDF both show.

:func:`report_content` turns an :class:`~sizing.estimate.Estimate` (plus the
scenario's plan inputs) into a typed :class:`ReportContent` whose strings are
all translated and whose numbers are all formatted. The renderers
(:mod:`report.html`, :mod:`report.pdf`) only lay it out, so the two formats
cannot disagree. User-supplied text (an uploaded model's name) is kept
verbatim here; each renderer escapes it for its own format.

Build tiers and cloud options come from the purchase advisor
(:func:`advisor.plan.plan`); when it cannot make a plan those sections say why.
"""

from __future__ import annotations

import datetime as dt
import math
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from advisor import workload
from advisor.own_prices import parse_own_prices
from advisor.plan import plan as make_plan
from advisor.region import RegionTerms, parse_circuit, prices_in_usd, region_for, region_terms
from advisor.results import PlanResult
from catalog.catalog import Catalog, UnknownIdError, load_catalog
from catalog.errors import UserError
from catalog.schema import Gpu, ModelArch
from report.formats import gib_text, money_text, number_text, usd_in_currency_text
from report.text import Translator, catalog_name, group_strings, translate, translate_notice
from sizing.architecture import arch_from_param_count
from sizing.box import DEFAULT_USD_PER_KWH
from sizing.estimate import Estimate, estimate
from sizing.request import EstimateRequest, file_quant, read_model_files, resolve_model
from sizing.units import bytes_to_gib
from sizing.vector import every_gpu

if TYPE_CHECKING:  # annotations only: an agent scenario, a model read from files
    from sizing.agent import AgentSection
    from sizing.sources import ReadModel

MAX_ALTERNATIVES = 5  # GPUs shown next to the chosen one
MAX_CLOUD_ROWS = 8
MAX_SOURCES = 14
AGENT_STEPS_SHOWN = (1, 5, 10, 15, 20)  # rows of the agent's context-growth table (and the last)
# The page a report is made from, and the section that answers its question first;
# "configurator" leads with the verdict for the chosen GPU.
LEADS = {"configurator": "verdict", "builds": "tiers", "compare": "gpus", "cloud": "cloud"}
COLOURS = {"weights": "#4C78A8", "kv_cache": "#F58518", "activations": "#54A24B",
           "overhead": "#B279A2"}


# --- the content model --------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One label/value line."""

    label: str
    value: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]  # right-align these columns
    heading: str | None = None
    highlight: tuple[int, ...] = ()  # row indexes to emphasise


@dataclass(frozen=True)
class Source:
    label: str
    url: str


@dataclass(frozen=True)
class MemoryPart:
    key: str
    label: str
    gib: float
    colour: str


@dataclass(frozen=True)
class MemoryChart:
    title: str
    axis: str
    bar_label: str
    parts: tuple[MemoryPart, ...]
    usable_gib: float
    usable_label: str


@dataclass(frozen=True)
class GpuBar:
    label: str
    decode_tokens_per_s: float | None
    decode_low_tokens_per_s: float | None
    decode_high_tokens_per_s: float | None
    needed_gib: float
    usable_gib: float
    fits: bool
    chosen: bool


@dataclass(frozen=True)
class GpuChart:
    title: str
    speed_axis: str
    memory_axis: str
    needed_label: str
    usable_label: str
    bars: tuple[GpuBar, ...]


@dataclass(frozen=True)
class Section:
    """A titled block: an intro, facts, an optional chart, tables, notes."""

    key: str  # anchor and test handle
    heading: str
    intro: str | None = None
    facts: tuple[Fact, ...] = ()
    chart: str | None = None  # "memory", "gpus", "value" (tiers) or "break_even" (cloud)
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Verdict:
    level: str  # fits, fits-with-offload, does-not-fit
    word: str
    headline: str
    speed: str


@dataclass(frozen=True)
class ReportContent:
    lang: str
    title: str
    subtitle: str
    generated: str
    as_of: tuple[Fact, ...]
    as_of_note: str
    verdict: Verdict
    key_figures: tuple[Fact, ...]
    sections: tuple[Section, ...]
    memory_chart: MemoryChart
    gpu_chart: GpuChart
    labels: dict[str, str] = field(default_factory=dict)  # renderer strings
    # The planner's answer (sizing.plan.PlanResult) for the figures of
    # report.plan_charts, and their translated labels; None without a plan.
    plan: PlanResult | None = None
    plan_chart_labels: dict[str, str] = field(default_factory=dict)
    lead: str = "configurator"  # one of LEADS: the question the report answers first

    @property
    def verdict_first(self) -> bool:
        """The verdict box and key figures open the report (a Configurator report)."""
        return self.lead == "configurator"

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


@dataclass(frozen=True)
class PlanInputs:
    """The purchase/cloud half of a scenario (the app's sidebar, the CLI's flags)."""

    budget_usd: float | None = None
    users: int = workload.DEFAULT_USERS
    hours_per_day: float = workload.DEFAULT_HOURS_PER_DAY
    currency: str = "USD"
    compare: tuple[str, ...] = ()  # GPU ids picked for comparison; empty: choose
    # Search runtimes and weight formats (the app's default, rigfit plan's --quant best),
    # or use the scenario's runtime, weight format and KV cache.
    search: bool = True
    min_tokens_per_s: float = workload.DEFAULT_MIN_TOKENS_PER_S
    electricity_usd_per_kwh: float | None = None  # None: the catalog's average
    circuit_volts: float = workload.DEFAULT_CIRCUIT_VOLTS
    circuit_amps: float = workload.DEFAULT_CIRCUIT_AMPS
    own_prices_usd: tuple[tuple[str, float], ...] = ()  # (id, USD): the user's own prices
    terms: RegionTerms | None = None  # region, rate and presets, said once in the report

    @classmethod
    def from_query(cls, query: Mapping[str, Any] | None, *, catalog: Catalog | None = None,
                   lang: str | None = None) -> PlanInputs:
        """Read the app's URL parameters (strings) leniently; bad values use defaults.

        With ``catalog``, money is read as the app keeps it: ``budget``, ``kwh_price``
        and ``price`` in the chosen currency, the region from ``region`` or ``lang``.
        """
        query = query or {}
        if catalog is not None and query:
            return cls._from_app_query(query, catalog, lang)

        def number(name: str, default: float | None) -> float | None:
            return _query_number(query, name, default)

        compare = query.get("compare") or ()
        if isinstance(compare, str):
            compare = tuple(v for v in compare.split(",") if v)
        budget = number("budget_usd", None)
        return cls(budget_usd=budget if budget and budget > 0 else None,
                   users=max(1, int(number("users", workload.DEFAULT_USERS) or 1)),
                   hours_per_day=min(24.0, max(0.0, number(
                       "hours_per_day", workload.DEFAULT_HOURS_PER_DAY) or 0.0)),
                   currency=str(query.get("currency") or "USD"), compare=tuple(compare),
                   search=query.get("search") != "sidebar",
                   min_tokens_per_s=number("min_tokens_per_s", None)
                   or workload.DEFAULT_MIN_TOKENS_PER_S,
                   electricity_usd_per_kwh=number("electricity_usd_per_kwh", None),
                   circuit_volts=number("circuit_volts", None) or workload.DEFAULT_CIRCUIT_VOLTS,
                   circuit_amps=number("circuit_amps", None) or workload.DEFAULT_CIRCUIT_AMPS)


    @classmethod
    def _from_app_query(cls, query: Mapping[str, Any], catalog: Catalog,
                        lang: str | None) -> PlanInputs:
        base = cls.from_query(query)

        def number(name: str) -> float | None:
            return _query_number(query, name, None)

        def terms(**overrides: Any) -> RegionTerms:
            return region_terms(catalog.market, region_id=query.get("region") or None,
                                lang=lang, currency=query.get("currency") or None, **overrides)

        try:
            circuit = parse_circuit(query["circuit"]) if query.get("circuit") else (None, None)
            found = terms(kwh_price=number("kwh_price"),
                          electricity_usd_per_kwh=base.electricity_usd_per_kwh,
                          circuit_volts=circuit[0] or number("circuit_volts"),
                          circuit_amps=circuit[1] or number("circuit_amps"))
        except UserError:  # a bad override: the region's presets
            try:
                found = terms()
            except UserError:  # an unknown region or currency: the language's
                found = region_terms(catalog.market, lang=lang)
        budget = number("budget")
        try:
            own = parse_own_prices(str(query.get("price") or ""), catalog)
        except UserError:
            own = {}
        return dataclasses.replace(
            base, budget_usd=found.to_usd(budget) if budget and budget > 0 else base.budget_usd,
            currency=found.currency, electricity_usd_per_kwh=found.electricity_usd_per_kwh,
            circuit_volts=found.circuit_volts, circuit_amps=found.circuit_amps,
            own_prices_usd=tuple(sorted(prices_in_usd(own, found).items())), terms=found)


def _query_number(query: Mapping[str, Any], name: str, default: float | None) -> float | None:
    """A finite number from a URL parameter, else ``default``."""
    try:
        value = float(query[name])
    except (KeyError, TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


# --- the scenario, rebuilt ---------------------------------------------------------------


def scenario_arch(result: Estimate, catalog: Catalog, arch: ModelArch | None,
                  request: EstimateRequest | None = None) -> ModelArch:
    """The architecture behind ``result``: an upload, the request's model (a file or
    Hub repository read again from its cache), a catalog model or a bare size."""
    if arch is not None:
        return arch
    if request is not None:
        try:
            return resolve_model(request, catalog)[0]
        except UserError:
            pass
    try:
        return catalog.model(result.model.id)
    except UnknownIdError:
        return arch_from_param_count(result.model.params_total)


def scenario_request(result: Estimate, request: EstimateRequest | None) -> EstimateRequest:
    """A request that reproduces ``result`` (the model itself travels as an arch)."""
    if request is not None:
        return request
    data: dict[str, Any] = dict(
        params_b=result.model.params_total / 1e9, quant=result.quant, gpu=result.gpu_id,
        memory_gib=result.gpu_memory_gib or None,
        gpu_count=result.gpu_count, runtime=result.runtime, prompt_tokens=result.prompt_tokens,
        new_tokens=result.new_tokens, context_tokens=result.context_tokens, batch=result.batch,
        kv_cache=result.kv_cache, split=result.split)
    data.update(ambient_c=result.thermal.ambient_c, cooler=result.thermal.cooler)
    data["storage"] = result.load.storage
    if result.power.power_limit_w:
        data["power_limit_w"] = result.power.power_limit_w
    return EstimateRequest.model_validate(data)


def _price_usd(result: Estimate) -> float | None:
    """One GPU's price as configured (a Mac's memory size). [USD]"""
    return result.gpu_price_usd


def comparison_results(result: Estimate, request: EstimateRequest, catalog: Catalog,
                       arch: ModelArch, compare: tuple[str, ...]) -> list[Estimate]:
    """The chosen GPU first, then the picked GPUs or the best-value GPUs that fit."""
    known = {g.id for g in catalog.gpus}
    if compare:
        ids = [g for g in dict.fromkeys(compare) if g in known and g != result.gpu_id]
    else:
        # Every other GPU at once (sizing.vector, the estimate's own numbers); only the
        # best-value ones that fit are estimated in full.
        try:
            sweep = every_gpu(request, catalog, arch,
                              [g.id for g in catalog.gpus if g.id != result.gpu_id])
        except UserError:
            return [result]  # the scenario runs on no other GPU
        value = {gpu.id: (0.0 if math.isnan(speed) else speed) / gpu.price_usd
                 for gpu, fits, speed in zip(sweep.gpus, sweep.memory.fits.tolist(),
                                             sweep.decode_tokens_per_s.tolist())
                 if fits and gpu.price_usd}
        ids = sorted(value, key=value.__getitem__, reverse=True)[:MAX_ALTERNATIVES]
    others: list[Estimate] = []
    for gpu_id in ids:
        try:
            others.append(estimate(request.model_copy(update={"gpu": gpu_id, "memory_gib": None}),
                                   catalog, arch=arch))
        except UserError:
            continue  # the runtime does not run on that vendor: not a candidate
    return [result, *others[:MAX_ALTERNATIVES + 1]]


def run_plan(request: EstimateRequest, catalog: Catalog, arch: ModelArch,
             inputs: PlanInputs) -> tuple[PlanResult | None, str | None]:
    """(PlanResult, None), or (None, why not) when the advisor cannot make a plan."""
    request, quant = workload.plan_request(request, search=inputs.search)
    try:
        return make_plan(request, catalog, budget_usd=inputs.budget_usd, users=inputs.users,
                         hours_per_day=inputs.hours_per_day, currency=inputs.currency,
                         quant=quant, min_tokens_per_s=inputs.min_tokens_per_s,
                         electricity_usd_per_kwh=inputs.electricity_usd_per_kwh,
                         circuit_volts=inputs.circuit_volts, circuit_amps=inputs.circuit_amps,
                         arch=arch, own_prices_usd=dict(inputs.own_prices_usd)), None
    except UserError as exc:
        return None, str(exc)


# --- sections ------------------------------------------------------------------------------


def _verdict(result: Estimate, tr: Translator) -> Verdict:
    mem = result.memory
    gpu = tr("value.gpu", count=result.gpu_count, name=result.gpu_name)
    level = mem.verdict
    headline = tr(f"verdict.{level}", model=result.model.name, gpu=gpu,
                  needed=gib_text(mem.total_bytes), usable=gib_text(mem.usable_bytes),
                  headroom=gib_text(max(mem.headroom_bytes, 0.0)),
                  short=gib_text(max(-mem.headroom_bytes, 0.0)), layers=mem.num_layers,
                  gpu_layers=mem.gpu_layers, offloaded=gib_text(mem.offloaded_bytes))
    s = result.speed
    if s is not None and s.decode_tokens_per_s is not None:
        speed = tr("verdict.speed", decode=number_text(s.decode_tokens_per_s_per_sequence),
                   low=number_text(s.decode_tokens_per_s_low), high=number_text(s.decode_tokens_per_s_high),
                   ttft=number_text(s.ttft_s, 2))
    else:
        unknown = next((n for n in result.warnings if n.code.startswith("speed_unknown")), None)
        speed = (translate_notice(unknown, tr.lang) if unknown is not None
                 else tr("verdict.speed_unknown", reason="—"))
    return Verdict(level=level, word=tr(f"verdict.word_{level}"), headline=headline, speed=speed)


def _key_figures(result: Estimate, tr: Translator) -> tuple[Fact, ...]:
    mem, s, p, th = result.memory, result.speed, result.power, result.thermal
    facts = [Fact(tr("key.needed"), gib_text(mem.total_bytes)),
             Fact(tr("key.usable"), gib_text(mem.usable_bytes)),
             Fact(tr("key.headroom"), gib_text(mem.headroom_bytes))]
    if s is not None and s.decode_tokens_per_s is not None:
        facts.append(Fact(tr("key.decode"), tr("value.tokens_per_s_band",
                                               mid=number_text(s.decode_tokens_per_s),
                                               low=number_text(s.decode_tokens_per_s_low),
                                               high=number_text(s.decode_tokens_per_s_high))))
        facts.append(Fact(tr("key.prefill"), tr("value.tokens_per_s_band",
                                                mid=number_text(s.prefill_tokens_per_s, 0),
                                                low=number_text(s.prefill_tokens_per_s_low, 0),
                                                high=number_text(s.prefill_tokens_per_s_high, 0))))
        facts.append(Fact(tr("key.ttft"), f"{number_text(s.ttft_s, 2)} s"))
    facts.append(Fact(tr("key.system_power"), f"{number_text(p.system_power_w, 0)} W"))
    if p.psu_recommended_w:
        facts.append(Fact(tr("key.psu"), f"{number_text(p.psu_recommended_w, 0)} W"))
    facts.append(Fact(tr("key.heat"),
                      f"{number_text(th.heat_w, 0)} W · {number_text(th.heat_btu_per_hour, 0)} BTU/h"))
    return tuple(facts)


def configured_gpu(result: Estimate, catalog: Catalog) -> Gpu:
    """The GPU of ``result`` with the memory size it was estimated with (a Mac's choice)."""
    gpu = catalog.gpu(result.gpu_id)
    if result.gpu_memory_gib and result.gpu_memory_gib in gpu.memory_sizes_gib:
        return gpu.with_memory(result.gpu_memory_gib)
    return gpu


def _gpu_configuration(result: Estimate, tr: Translator, catalog: Catalog,
                       terms: RegionTerms | None) -> list[Fact]:
    """The memory of each GPU and the price of one as configured, with its date."""
    gpu = configured_gpu(result, catalog)
    price = gpu.street_price
    if price is not None:
        price_text = tr("value.price_as_of", usd=_money(price.usd, terms, lang=tr.lang),
                        date=price.as_of.isoformat())
    elif gpu.price_usd is not None:
        price_text = _money(gpu.price_usd, terms, lang=tr.lang)
    else:
        price_text = tr("value.price_unknown")
    return [Fact(tr("input.memory"), tr("value.memory_gib", gib=number_text(gpu.memory_gib, 0))),
            Fact(tr("input.price"), price_text)]


def _inputs(result: Estimate, tr: Translator, catalog: Catalog, inputs: PlanInputs,
            has_plan: bool) -> Section:
    m = result.model
    params = (tr("value.params_dense", total=number_text(m.params_total / 1e9, 2))
              if m.params_active >= m.params_total
              else tr("value.params", total=number_text(m.params_total / 1e9, 2),
                      active=number_text(m.params_active / 1e9, 2)))
    try:
        quant_name = catalog_name("quant", result.quant, catalog.quant(result.quant).name, tr.lang)
        kv_name = catalog.kv_cache_type(result.kv_cache).name
        runtime_name = catalog.runtime(result.runtime).name
    except UnknownIdError:
        quant_name, kv_name, runtime_name = result.quant, result.kv_cache, result.runtime
    facts = [Fact(tr("input.model"), m.name), Fact(tr("input.params"), params),
             Fact(tr("input.gpu"), tr("value.gpu", count=result.gpu_count, name=result.gpu_name)),
             Fact(tr("input.quant"), f"{quant_name} ({result.quant})"),
             Fact(tr("input.runtime"), f"{runtime_name} ({result.api})"),
             Fact(tr("input.kv_cache"), kv_name),
             Fact(tr("input.context"), f"{result.context_tokens:,}"),
             Fact(tr("input.tokens"), f"{result.prompt_tokens:,} / {result.new_tokens:,}"),
             Fact(tr("input.batch"), str(result.batch))]
    facts[3:3] = _gpu_configuration(result, tr, catalog, inputs.terms)
    facts.insert(1, Fact(tr("input.source"), tr(f"source.{m.source}")))
    if result.gpu_count > 1:
        facts.append(Fact(tr("input.split"), result.split))
    facts.append(Fact(tr("input.ambient"), f"{number_text(result.thermal.ambient_c, 0)} °C"))
    if has_plan:
        facts += [Fact(tr("input.budget"), _money(inputs.budget_usd, inputs.terms)
                       if inputs.budget_usd
                       else tr("input.no_budget")),
                  Fact(tr("input.users"), str(inputs.users)),
                  Fact(tr("input.hours"), number_text(inputs.hours_per_day, 1))]
    return Section("inputs", tr("section.inputs"), facts=tuple(facts))


def _memory(result: Estimate, tr: Translator) -> tuple[Section, MemoryChart]:
    mem = result.memory
    parts = tuple(MemoryPart(key, tr(f"memory.{key}"), bytes_to_gib(value), COLOURS[key])
                  for key, value in (("weights", mem.weights_bytes),
                                     ("kv_cache", mem.kv_cache_bytes),
                                     ("activations", mem.activations_bytes),
                                     ("overhead", mem.overhead_bytes)))
    total = bytes_to_gib(mem.total_bytes)
    rows = [(p.label, number_text(p.gib, 2), f"{p.gib / total:.0%}" if total else "—") for p in parts]
    rows.append((tr("memory.total"), number_text(total, 2), "100%"))
    rows.append((tr("memory.usable"), number_text(bytes_to_gib(mem.usable_bytes), 2), ""))
    usable = bytes_to_gib(mem.usable_bytes)
    chart = MemoryChart(title=tr("memory.chart_title"), axis=tr("memory.axis"),
                        bar_label=tr("memory.needed_bar"), parts=parts, usable_gib=usable,
                        usable_label=tr("memory.usable_line", gib=number_text(usable)))
    table = Table(columns=(tr("memory.part"), tr("memory.gib"), tr("memory.share")),
                  rows=tuple(rows), numeric=(False, True, True), highlight=(len(rows) - 2,))
    return Section("memory", tr("section.memory"), facts=_fit_facts(result, tr), chart="memory",
                   tables=(table,)), chart


def _fit_facts(result: Estimate, tr: Translator) -> tuple[Fact, ...]:
    """The best precision that fits, the formats it was chosen among, the longest context."""
    fit = result.fit
    return (Fact(tr("fit.best_quant"), fit.best_quant or tr("fit.none")),
            Fact(tr("fit.formats"), ", ".join(tr(f"quant_format.{f}")
                                              for f in fit.formats_considered) or tr("fit.none")),
            Fact(tr("fit.max_context"), f"{fit.max_context_tokens:,}" if fit.max_context_tokens
                 else tr("fit.max_context_none_offload")
                 if result.memory.verdict == "fits-with-offload" else tr("fit.none")))


def read_files(request: EstimateRequest, catalog: Catalog) -> ReadModel | None:
    """What was read of a model named by files or a Hub id (from the process's cache), else None."""
    if request.hf_id is None and request.gguf is None and request.safetensors is None:
        return None
    try:
        return read_model_files(request, catalog)
    except UserError:
        return None


def _model_read(result: Estimate, arch: ModelArch, read: ReadModel | None,
                tr: Translator) -> Section | None:
    """Where the model came from and what was read of it, for a model not from the catalog."""
    m = result.model
    if m.source == "catalog":
        return None
    facts = [Fact(tr("input.source"), tr(f"source.{m.source}"))]
    if read is not None:
        facts.append(Fact(tr("model.read_from"), read.label))
        if read.facts.get("architecture"):
            facts.append(Fact(tr("model.architecture"), str(read.facts["architecture"])))
    facts.append(Fact(tr("model.shape"), tr(
        "model.shape_value", layers=arch.num_layers, heads=arch.num_attention_heads,
        kv_heads=arch.num_kv_heads, head_dim=arch.head_dim, context=f"{arch.max_context_tokens:,}")))
    if arch.file_weights is not None:
        facts.append(Fact(tr("model.weight_format"), arch.file_weights.quant))
        facts.append(Fact(tr("model.file_bytes"), gib_text(arch.file_weights.file_bytes, 2)))
    tables: tuple[Table, ...] = ()
    types: dict[str, float] = dict((read.facts.get("types") or {}) if read else {})
    if types:
        total = float(sum(types.values())) or 1.0
        tables = (Table(columns=(tr("model.type"), tr("model.bytes"), tr("model.share")),
                        rows=tuple((name, number_text(bytes_to_gib(size), 2), f"{size / total:.0%}")
                                   for name, size in types.items()),
                        numeric=(False, True, True)),)
    projector = (read.facts.get("projector_bytes") or read.facts.get("vision_bytes")) if read else None
    if projector:
        kind = read.facts.get("projector_type") if read else None
        facts.append(Fact(tr("model.projector"), gib_text(float(projector), 2)
                          + (f" ({kind})" if kind else "")))
    return Section("model", tr("section.model"), facts=tuple(facts), tables=tables)


def _vision(result: Estimate, tr: Translator) -> Section | None:
    """Images in each request: their size, tokens, and the encoder's memory and time."""
    v = result.vision
    if v is None:
        return None
    facts = (Fact(tr("vision.images"), tr("vision.images_value", images=v.images,
                                          width=v.image_width_px, height=v.image_height_px,
                                          resized_width=v.resized_width_px,
                                          resized_height=v.resized_height_px)),
             Fact(tr("vision.tokens_per_image"), f"{v.image_tokens_per_image:,}"),
             Fact(tr("vision.image_tokens"), f"{v.image_tokens:,}"),
             Fact(tr("vision.text_tokens"), f"{v.text_prompt_tokens:,}"),
             Fact(tr("vision.encoder_memory"), gib_text(v.encoder_bytes, 2)),
             Fact(tr("vision.encoder_time"), f"{number_text(v.encoder_s_per_image, 2)} s"
                  if v.encoder_s_per_image is not None else "—"))
    return Section("vision", tr("section.vision"), facts=facts)


def agent_section(result: Estimate, request: EstimateRequest, catalog: Catalog,
                  arch: ModelArch) -> AgentSection | None:
    """The phone-agent task of an agent scenario (sizing.agent), else None."""
    if request.workload != "agent":
        return None
    from sizing.agent import agent_task

    try:
        request, _ = file_quant(request, arch)
        return agent_task(request, catalog, arch, max_context_tokens=result.fit.max_context_tokens)
    except UserError:
        return None


def _seconds(value: float | None, digits: int = 1) -> str:
    return f"{number_text(value, digits)} s" if value is not None else "—"


def _agent(result: Estimate, agent: AgentSection | None, tr: Translator) -> Section | None:
    """Seconds per step, steps per minute, screenshots that fit, and the context as it grows."""
    if agent is None:
        return None
    intro = tr("agent.intro", model=result.model.name,
               gpu=tr("value.gpu", count=result.gpu_count, name=result.gpu_name),
               verdict=tr(f"agent.verdict_{result.memory.verdict}"), quant=result.quant,
               best=result.fit.best_quant or tr("fit.none"),
               screenshots=agent.screenshots_that_fit,
               seconds=number_text(agent.seconds_per_step) if agent.seconds_per_step else "—")
    facts = (Fact(tr("agent.seconds_per_step"), _seconds(agent.seconds_per_step)),
             Fact(tr("agent.steps_per_minute"), number_text(agent.steps_per_minute)
                  if agent.steps_per_minute else "—"),
             Fact(tr("agent.task_time", steps=len(agent.steps)), _seconds(agent.task_seconds, 0)),
             Fact(tr("agent.screenshots"), str(agent.screenshots_that_fit)),
             Fact(tr("agent.image_tokens"), f"{agent.image_tokens_per_step:,}"),
             Fact(tr("agent.fits_every_step"),
                  tr("value.yes") if agent.fits_every_step else tr("value.no")))
    last = len(agent.steps)
    rows = tuple((str(s.step), f"{s.context_tokens:,}", f"{s.processed_tokens:,}",
                  _seconds(s.seconds)) for s in agent.steps
                 if s.step in AGENT_STEPS_SHOWN or s.step == last)
    table = Table(columns=(tr("agent.step"), tr("agent.context"), tr("agent.processed"),
                           tr("agent.seconds")), rows=rows, numeric=(True, True, True, True))
    return Section("agent", tr("section.agent"), intro=intro, facts=facts, tables=(table,),
                   notes=(tr("agent.note", answer=agent.answer_tokens),))


def _remedies(result: Estimate, request: EstimateRequest, catalog: Catalog, arch: ModelArch,
              tr: Translator, terms: RegionTerms | None) -> Section | None:
    """What would make a scenario that does not fit entirely on the GPU(s) fit, ranked."""
    if result.memory.fits:
        return None
    from sizing.remedies import remedies_for  # only for a scenario that does not fit

    try:
        remedies = remedies_for(request, catalog, arch)
    except UserError:
        return None
    if not remedies:
        return None
    money = None if terms is None else (terms.units_per_usd, terms.currency)
    rows = tuple((translate_notice(r, tr.lang, money=money),
                  f"{number_text(bytes_to_gib(r.total_bytes))} / "
                  f"{number_text(bytes_to_gib(r.usable_bytes))}",
                  number_text(r.decode_tokens_per_s) if r.decode_tokens_per_s else "—",
                  _money(r.price_usd, terms, lang=tr.lang) if r.price_usd else "—")
                 for r in remedies)
    table = Table(columns=(tr("remedies.change"), tr("remedies.needed"), tr("remedies.decode"),
                           tr("remedies.price", currency=_currency(terms))),
                  rows=rows, numeric=(False, True, True, True))
    return Section("remedies", tr("section.remedies"), intro=tr("remedies.intro"), tables=(table,))


def _gpus(results: list[Estimate], tr: Translator, catalog: Catalog,
          picked: bool, terms: RegionTerms | None) -> tuple[Section, GpuChart]:
    bars, rows = [], []
    for i, r in enumerate(results):
        name = tr("value.gpu", count=r.gpu_count, name=r.gpu_name) if r.gpu_count > 1 else r.gpu_name
        label = tr("gpus.chosen", name=name) if i == 0 else name
        s = r.speed
        bars.append(GpuBar(label=label,
                           decode_tokens_per_s=s.decode_tokens_per_s if s else None,
                           decode_low_tokens_per_s=s.decode_tokens_per_s_low if s else None,
                           decode_high_tokens_per_s=s.decode_tokens_per_s_high if s else None,
                           needed_gib=bytes_to_gib(r.memory.total_bytes),
                           usable_gib=bytes_to_gib(r.memory.usable_bytes),
                           fits=r.memory.fits, chosen=i == 0))
        fits = (tr("value.yes") if r.memory.fits else
                tr("gpus.offload") if r.memory.verdict == "fits-with-offload" else tr("value.no"))
        speed = (f"{number_text(s.decode_tokens_per_s)} ({number_text(s.decode_tokens_per_s_low)}–"
                 f"{number_text(s.decode_tokens_per_s_high)})" if s and s.decode_tokens_per_s else "—")
        price = _price_usd(r)
        rows.append((label, f"{number_text(bytes_to_gib(r.memory.total_bytes))} / "
                            f"{number_text(bytes_to_gib(r.memory.usable_bytes))}", fits, speed,
                     _money(price * r.gpu_count if price else None, terms, lang=tr.lang)))
    chart = GpuChart(title=tr("gpus.chart_title"), speed_axis=tr("gpus.speed_axis"),
                     memory_axis=tr("gpus.memory_axis"), needed_label=tr("gpus.needed"),
                     usable_label=tr("gpus.usable"), bars=tuple(bars))
    table = Table(columns=(tr("gpus.gpu"), tr("gpus.memory"), tr("gpus.fits"), tr("gpus.decode"),
                           tr("gpus.price", currency=_currency(terms))),
                  rows=tuple(rows), numeric=(False, True, False, True, True), highlight=(0,))
    return Section("gpus", tr("section.gpus"),
                   intro=tr("gpus.intro_compare" if picked else "gpus.intro"),
                   chart="gpus", tables=(table,)), chart


def _tiers(plan: PlanResult | None, reason: str | None, tr: Translator, inputs: PlanInputs) -> Section:
    heading = tr("section.tiers")
    if plan is None:
        why = reason
        return Section("tiers", heading, notes=(tr("tiers.unavailable", reason=why),))
    budget = (money_text(plan.budget_in_currency, plan.currency, lang=tr.lang)
              if plan.budget_usd else tr("input.no_budget"))
    # An encoder embeds its input and generates nothing: its speed is prefill tokens/s.
    encoder = plan.task != "generate"
    intro = tr("tiers.intro_encoder" if encoder else "tiers.intro", users=plan.users,
               min_tps=number_text(plan.min_tokens_per_s, 0),
               budget=budget, prompt=f"{plan.prompt_tokens:,}", new=f"{plan.new_tokens:,}",
               context=f"{plan.context_tokens:,}")
    notes = [tr("tiers.met" if plan.meets_workload_within_budget else "tiers.not_met")]
    money = (plan.units_per_usd, plan.currency)
    notes += [f"{tr(f'tiers.name_{b.tier}')}: {translate_notice(b.reason, tr.lang, money=money)}"
              for b in plan.tiers]
    if not plan.tiers:
        return Section("tiers", heading, intro=intro, notes=(*notes, tr("tiers.none")))
    rows, tables = [], []
    for b in plan.tiers:
        name = tr(f"tiers.name_{b.tier}")
        gpus = tr("value.gpu", count=b.gpu_count, name=b.gpu_name)
        if b.gpu_used:
            gpus += f" ({tr('tiers.used')})"
        status = (tr("tiers.stretch") if b.stretch else
                  tr("tiers.within") if b.within_budget else tr("tiers.over"))
        rows.append((name, f"{gpus} · {b.quant}",
                     money_text(b.total_in_currency, plan.currency, lang=tr.lang),
                     number_text(b.prefill_tokens_per_s, 0) if encoder else
                     f"{number_text(b.decode_tokens_per_s_per_user)} "
                     f"({number_text(b.decode_tokens_per_s, 0)})",
                     number_text(b.wall_power_w, 0), status))
        tables.append(Table(
            heading=tr("tiers.parts_heading", tier=name),
            columns=(tr("tiers.kind"), tr("tiers.name"), tr("tiers.quantity"),
                     tr("tiers.price", currency=plan.currency)),
            rows=tuple((tr(f"part.{p.kind}"), _part_name(p.name, p.used, tr),
                        str(p.quantity), money_text(p.total_usd * plan.units_per_usd,
                                                    plan.currency, lang=tr.lang)) for p in b.parts),
            numeric=(False, False, True, True)))
    summary = Table(columns=(tr("tiers.tier"), tr("tiers.build"), tr("tiers.total"),
                             tr("tiers.embed" if encoder else "tiers.decode"), tr("tiers.wall"),
                             tr("tiers.status")),
                    rows=tuple(rows), numeric=(False, False, True, True, True, False))
    return Section("tiers", heading, intro=intro, chart="value", tables=(summary, *tables),
                   notes=tuple(notes))


def _part_name(name: str, used: bool, tr: Translator) -> str:
    """The planner marks used parts "(used)" in English; say it in ``tr``'s language."""
    if not used:
        return name
    return f"{name.removesuffix(' (used)')} ({tr('tiers.used')})"


def _cloud(plan: PlanResult | None, reason: str | None, tr: Translator, inputs: PlanInputs,
           catalog: Catalog) -> tuple[Section, list[Source]]:
    heading = tr("section.cloud")
    if plan is None:
        why = reason
        return Section("cloud", heading, notes=(tr("cloud.unavailable", reason=why),)), []
    options = sorted((o for o in plan.cloud if o.meets_workload),
                     key=lambda o: o.cloud_usd_per_month)[:MAX_CLOUD_ROWS]
    intro = tr("cloud.intro", hours=number_text(plan.hours_per_day, 1))
    if not options:
        return Section("cloud", heading, intro=intro, notes=(tr("cloud.none"),)), []
    tiers = ("budget", "balanced", "workstation")
    encoder = plan.task != "generate"  # priced and timed by the input tokens it embeds
    units = plan.units_per_usd

    def months(value: float | None) -> str:
        return tr("value.never") if value is None else number_text(value, 1)

    def gpu_name(gpu_id: str) -> str:
        try:
            return catalog.gpu(gpu_id).name
        except UnknownIdError:
            return gpu_id

    rows = tuple((o.name,
                  tr("value.gpu", count=o.gpu_count, name=gpu_name(o.gpu_id)),
                  f"{o.usd_per_hour * units:,.2f}",
                  number_text(o.prefill_tokens_per_s if encoder else o.decode_tokens_per_s, 0),
                  number_text(o.cloud_usd_per_month * units, 0),
                  f"{o.usd_per_1m_tokens * units:,.2f}",
                  " / ".join(months(o.break_even_months.get(t)) if t in o.break_even_months
                             else "—" for t in tiers))
                 for o in options)
    code = plan.currency
    table = Table(columns=(tr("cloud.instance"), tr("cloud.gpus"),
                           tr("cloud.usd_per_hour", currency=code),
                           tr("cloud.embed" if encoder else "cloud.decode"),
                           tr("cloud.per_month", currency=code),
                           tr("cloud.usd_per_1m_input" if encoder else "cloud.usd_per_1m",
                              currency=code),
                           tr("cloud.break_even")),
                  rows=rows, numeric=(False, False, True, True, True, True, True))
    notes = (tr("cloud.lead"),) if plan.lead_with_cloud else ()
    sources = [Source(tr("sources.cloud", name=o.provider), o.source) for o in options]
    # Break-even needs a local build to set against the rented instances.
    chart = "break_even" if plan.tiers else None
    return Section("cloud", heading, intro=intro, chart=chart, tables=(table,),
                   notes=notes), sources


def _power(result: Estimate, tr: Translator, terms: RegionTerms | None) -> Section:
    p, th, sysm, load = result.power, result.thermal, result.system, result.load
    facts: list[Fact] = []
    facts += [Fact(tr("power.gpu_power"), f"{number_text(p.gpu_power_w, 0)} W"),
              Fact(tr("power.gpu_power_prefill"), f"{number_text(p.gpu_power_prefill_w, 0)} W"),
              Fact(tr("power.system_power"), f"{number_text(p.system_power_w, 0)} W"),
              Fact(tr("power.system_power_prefill"),
                   f"{number_text(p.system_power_prefill_w, 0)} W"),
              Fact(tr("power.psu"), f"{number_text(p.psu_recommended_w, 0)} W"
                   if p.psu_recommended_w is not None else tr("power.psu_built_in")),
              Fact(tr("power.connectors"), tr("power.connectors_value",
                                              eight=p.pcie_8pin_count,
                                              twelve=p.connector_12v_2x6_count))]
    if p.energy_wh_per_1k_tokens is not None:
        facts.append(Fact(tr("power.energy"), f"{number_text(p.energy_wh_per_1k_tokens, 2)} Wh"))
    if p.cost_usd_per_1m_tokens is not None:
        facts.append(Fact(tr("power.cost"),
                          _money(p.cost_usd_per_1m_tokens, terms, digits=2, lang=tr.lang)))
    if p.energy_wh_per_1k_prompt_tokens is not None:
        facts.append(Fact(tr("power.energy_prompt"),
                          f"{number_text(p.energy_wh_per_1k_prompt_tokens, 2)} Wh"))
    if p.cost_usd_per_1m_prompt_tokens is not None:
        facts.append(Fact(tr("power.cost_prompt"),
                          _money(p.cost_usd_per_1m_prompt_tokens, terms, digits=2, lang=tr.lang)))
    if p.power_limit_sweet_spot_w:
        facts.append(Fact(tr("power.sweet_spot"), f"{number_text(p.power_limit_sweet_spot_w, 0)} W"))
    if p.power_limit_sweet_spot_prefill_w:
        facts.append(Fact(tr("power.sweet_spot_prefill"),
                          f"{number_text(p.power_limit_sweet_spot_prefill_w, 0)} W"))
    def circuit(ok: bool) -> str:
        return tr("power.circuit_within" if ok else "power.circuit_over")

    facts.append(Fact(tr("power.circuit"), tr("power.circuit_value",
                                              us=circuit(p.wall_circuit_120v_ok),
                                              eu=circuit(p.wall_circuit_230v_ok))))
    facts += [Fact(tr("power.temp"),
                   f"{number_text(th.gpu_temp_c, 0)} °C / {number_text(th.gpu_temp_full_load_c, 0)} °C"),
              Fact(tr("power.throttle"), _risk(th.throttle_risk, tr)),
              Fact(tr("power.heat"),
                   f"{number_text(th.heat_w, 0)} W · {number_text(th.heat_btu_per_hour, 0)} BTU/h")]
    if sysm.ram_recommended_bytes:
        facts.append(Fact(tr("power.ram"), gib_text(sysm.ram_recommended_bytes)))
    facts.append(Fact(tr("power.cpu"), str(sysm.min_cpu_cores)))
    facts.append(Fact(tr("power.load_time"), f"{number_text(load.load_time_s, 1)} s"))
    return Section("power", tr("section.power"), facts=tuple(facts))


def _risk(risk: str, tr: Translator) -> str:
    try:
        return tr(f"power.risk_{risk}")
    except KeyError:
        return risk


def _assumptions(result: Estimate, tr: Translator, catalog: Catalog,
                 electricity_usd_per_kwh: float, terms: RegionTerms | None) -> Section:
    notes = [tr("assume.estimate")]
    s = result.speed
    if s is not None and s.decode_tokens_per_s is not None:
        res = catalog.speed_calibration.decode.residuals
        notes.append(tr("assume.calibrated", median=number_text(res.median_abs_pct, 0),
                        p90=number_text(res.p90_abs_pct, 0),
                        within=number_text(res.within_band_frac * 100, 0))
                     if s.calibrated else tr("assume.priors"))
        notes.append(tr("assume.band", low=number_text(s.decode_tokens_per_s_low),
                        high=number_text(s.decode_tokens_per_s_high), mid=number_text(s.decode_tokens_per_s),
                        plow=number_text(s.prefill_tokens_per_s_low, 0),
                        phigh=number_text(s.prefill_tokens_per_s_high, 0)))
    notes.append(tr("assume.memory", context=f"{result.context_tokens:,}", batch=result.batch))
    try:
        cooler = catalog_name("cooler", result.thermal.cooler,
                              catalog.cooler(result.thermal.cooler).name, tr.lang)
    except UnknownIdError:
        cooler = result.thermal.cooler
    notes.append(tr("assume.power", ambient=number_text(result.thermal.ambient_c, 0), cooler=cooler))
    notes.append(tr("assume.electricity", price=_money(electricity_usd_per_kwh, terms, digits=3)))
    if terms is not None:
        notes.append(_region_note(terms, tr, catalog))
    notes.append(tr("assume.prices"))
    if terms is not None and terms.currency != "USD":
        notes.append(tr("assume.rate", currency=terms.currency, date=terms.rate_as_of,
                        rate=f"{terms.units_per_usd:,.4g}"))
    return Section("assumptions", tr("section.assumptions"), notes=tuple(notes))


def _money(usd: float | None, terms: RegionTerms | None, *, digits: int = 0,
           lang: str = "en") -> str:
    """Dollars in the chosen currency (dollars when none was chosen)."""
    if terms is None or usd is None:
        return money_text(usd, "USD", digits=digits, lang=lang)
    return usd_in_currency_text(usd, terms.currency, terms.units_per_usd, digits=digits, lang=lang)


def _currency(terms: RegionTerms | None) -> str:
    """The code of the chosen currency (dollars when none was chosen)."""
    return "USD" if terms is None else terms.currency


def _region_note(terms: RegionTerms, tr: Translator, catalog: Catalog) -> str:
    """The region's presets as published, and whether the user replaced them."""
    published = catalog.market.electricity_price(
        region_for(catalog.market, region_id=terms.region_id).electricity)
    own = f" ({tr('assume.own_value')})"
    return tr("assume.region", region=translate(f"inputs.region_{terms.region_id}", tr.lang),
              published=f"{published.local_price_per_kwh:g} {published.currency}/kWh",
              date=published.as_of.isoformat(),
              volts=f"{terms.circuit_volts:g}", amps=f"{terms.circuit_amps:g}",
              electricity_own="" if terms.electricity_preset else own,
              circuit_own="" if terms.circuit_preset else own)


def _region_sources(terms: RegionTerms | None, tr: Translator) -> list[Source]:
    """Where the electricity price, the wall circuit and the exchange rate come from."""
    if terms is None:
        return []
    region = translate(f"inputs.region_{terms.region_id}", tr.lang)
    found = [Source(tr("sources.electricity", region=region), terms.electricity_source),
             Source(tr("sources.circuit", region=region), terms.circuit_source)]
    if terms.currency != "USD":
        found.append(Source(tr("sources.rate", currency=terms.currency), terms.rate_source))
    return found


def _sources(result: Estimate, tr: Translator, catalog: Catalog, arch: ModelArch,
             extra: list[Source]) -> Section:
    found: list[Source] = [Source(tr("sources.model", name=arch.name), str(arch.source))]
    gpu = configured_gpu(result, catalog)
    found.append(Source(tr("sources.gpu", name=gpu.name), str(gpu.source)))
    for price in (gpu.street_price, gpu.used_price):
        if price is not None:
            found.append(Source(tr("sources.price", name=gpu.name, date=price.as_of),
                                str(price.source)))
    try:
        quant = catalog.quant(result.quant)
        found.append(Source(tr("sources.quant", name=quant.name), str(quant.source)))
        runtime = catalog.runtime(result.runtime)
        found.append(Source(tr("sources.runtime", name=runtime.name), str(runtime.source)))
    except UnknownIdError:
        pass
    cal = catalog.speed_calibration
    found.append(Source(f"{tr('sources.calibration')} ({cal.fitted_on})", str(cal.source)))
    found += extra
    seen: set[str] = set()
    unique = []
    for s in found:
        if s.url not in seen:
            seen.add(s.url)
            unique.append(s)
    return Section("sources", tr("section.sources"), sources=tuple(unique[:MAX_SOURCES]))


def _as_of(catalog: Catalog, plan: PlanResult | None, tr: Translator) -> tuple[Fact, ...]:
    dates = [p.as_of for g in catalog.gpus for p in (g.street_price, g.used_price) if p]
    facts = []
    if dates:
        facts.append(Fact(tr("as_of.gpu_prices"), max(dates).isoformat()))
    facts.append(Fact(tr("as_of.calibration"), catalog.speed_calibration.fitted_on.isoformat()))
    if plan is not None and plan.cloud:
        facts.append(Fact(tr("as_of.cloud_prices"), max(str(o.as_of) for o in plan.cloud)))
        source = catalog.market.offers_source
        if source is not None:  # the gpuhunt snapshot, or the hand-reviewed list
            facts.append(Fact(tr("as_of.cloud_offers"),
                              tr(f"as_of.offers_{source.kind}", date=source.as_of.isoformat(),
                                 version=source.gpuhunt_version or "")))
    return tuple(facts)


def _lead_with(lead: str, sections: list[Section], verdict: Verdict,
               key_figures: tuple[Fact, ...], gpu_label: str, tr: Translator) -> list[Section]:
    """The sections in the order that answers ``lead``'s question first.

    A Configurator report keeps its order (the verdict box comes before the
    sections). Otherwise the page's own section opens the report and the
    chosen GPU's verdict becomes a section after the inputs, under a heading
    that names that GPU as the sidebar's, not as the answer.
    """
    if lead == "configurator":
        return sections
    first = [s for s in sections if s.key == LEADS[lead]]
    rest = [s for s in sections if s.key != LEADS[lead]]
    fit = Section("fit", tr("section.fit", gpu=gpu_label), intro=f"{verdict.word}: {verdict.headline}",
                  facts=key_figures, notes=(verdict.speed,))
    after = next((i + 1 for i, s in enumerate(rest) if s.key == "inputs"), 0)
    return [*first, *rest[:after], fit, *rest[after:]]


# --- the entry point -----------------------------------------------------------------------


def report_content(result: Estimate, *, lang: str = "en", query: Mapping[str, Any] | None = None,
                   arch: ModelArch | None = None, request: EstimateRequest | None = None,
                   inputs: PlanInputs | None = None, catalog: Catalog | None = None,
                   today: dt.date | None = None, lead: str = "configurator",
                   extra: tuple[Section, ...] = ()) -> ReportContent:
    """Everything a report shows about ``result``, translated into ``lang``.

    Parameters
    ----------
    result : Estimate
        The scenario's answer from :func:`sizing.estimate.estimate`.
    lang : str
        ``"en"`` or ``"zh"``.
    query : mapping, optional
        The app's URL parameters; budget, users, hours, currency and the
        comparison list are read from it when ``inputs`` is not given.
    arch : ModelArch, optional
        The model when it is not in the catalog (an uploaded config.json).
    request : EstimateRequest, optional
        The request behind ``result``; rebuilt from ``result`` when absent.
    lead : str
        The page the report is made from (a key of ``LEADS``): its question
        comes first. "builds" leads with the tiers, "compare" with the GPU
        comparison, "cloud" with the cloud offers, "configurator" with the
        verdict for the chosen GPU.
    extra : tuple of Section
        Sections built elsewhere in ``lang`` (the fine-tuning section), placed
        after what fits.
    """
    tr = Translator(lang, prefix="doc.")
    catalog = catalog or load_catalog()
    inputs = inputs or PlanInputs.from_query(query, catalog=catalog, lang=lang)
    model_arch = scenario_arch(result, catalog, arch, request)
    req = scenario_request(result, request)
    compared = comparison_results(result, req, catalog, model_arch, inputs.compare)
    plan, plan_reason = run_plan(req, catalog, model_arch, inputs)
    memory_section, memory_chart = _memory(result, tr)
    gpu_section, gpu_chart = _gpus(compared, tr, catalog, picked=bool(inputs.compare),
                                   terms=inputs.terms)
    cloud_section, cloud_sources = _cloud(plan, plan_reason, tr, inputs, catalog)
    electricity = (plan.electricity_usd_per_kwh if plan is not None
                   else req.electricity_usd_per_kwh or DEFAULT_USD_PER_KWH)
    sections = [_inputs(result, tr, catalog, inputs, plan is not None), memory_section,
                gpu_section, _tiers(plan, plan_reason, tr, inputs), cloud_section,
                _power(result, tr, inputs.terms),
                _assumptions(result, tr, catalog, electricity, inputs.terms)]
    remedy_section = _remedies(result, req, catalog, model_arch, tr, inputs.terms)
    if remedy_section is not None:
        sections.insert(sections.index(memory_section) + 1, remedy_section)
    agent = agent_section(result, req, catalog, model_arch)
    # The model read from files after the inputs; its images and the agent task after what fits.
    model_section = _model_read(result, model_arch, read_files(req, catalog), tr)
    after_fit = sections.index(remedy_section or memory_section) + 1
    sections[after_fit:after_fit] = [s for s in (_vision(result, tr), _agent(result, agent, tr))
                                     if s is not None] + list(extra)
    if model_section is not None:
        sections.insert(1, model_section)
    notices = [*result.warnings, *(plan.warnings if plan else [])]
    engine_notes = list(dict.fromkeys(translate_notice(n, lang) for n in notices))
    if engine_notes:
        sections.append(Section("warnings", tr("section.warnings"), notes=tuple(engine_notes)))
    sections.append(_sources(result, tr, catalog, model_arch,
                             [*_region_sources(inputs.terms, tr), *cloud_sources]))
    if lead not in LEADS:
        raise ValueError(f"unknown report lead '{lead}'; one of {', '.join(LEADS)}")
    verdict = _verdict(result, tr)
    key_figures = _key_figures(result, tr)
    if agent is not None:
        key_figures += (Fact(tr("agent.seconds_per_step"), _seconds(agent.seconds_per_step)),
                        Fact(tr("agent.screenshots"), str(agent.screenshots_that_fit)))
    sections = _lead_with(lead, sections, verdict, key_figures,
                          tr("value.gpu", count=result.gpu_count, name=result.gpu_name), tr)
    gpu_label = tr("value.gpu", count=result.gpu_count, name=result.gpu_name)
    return ReportContent(
        lang=lang, title=(tr("title", model=result.model.name, gpu=gpu_label)
                          if lead == "configurator" else tr(f"title_{lead}", model=result.model.name)),
        subtitle=tr("subtitle"), generated=tr("generated",
                                              date=(today or dt.date.today()).isoformat()),
        as_of=_as_of(catalog, plan, tr), as_of_note=tr("as_of.catalog_note"),
        verdict=verdict, key_figures=key_figures,
        sections=tuple(sections), memory_chart=memory_chart, gpu_chart=gpu_chart,
        labels={"as_of": tr("as_of.heading"), "verdict": tr("section.verdict"),
                "tagline": tr("tagline"), "footer": tr("footer", page="{page}")},
        plan=plan, plan_chart_labels=_plan_chart_labels(tr), lead=lead)


def _plan_chart_labels(tr: Translator) -> dict[str, str]:
    """The ``labels`` of report.plan_charts in ``tr``'s language, {fields} left to fill."""
    return group_strings("plan_chart.", tr.lang)
