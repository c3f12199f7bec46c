"""The report sections of the Fine-tune, Serve and What can I run pages, from the session's settings.

Each reads the settings the page keeps in the session (its defaults where the
page was never opened), calls the same cached engine function as the page and
words the answer with the report's section builder, so the page and the
report show the same figures. Money is in the chosen currency, electricity
at the region's (or the user's) price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.finetune import finetune_plan
from advisor.region import RegionTerms
from catalog.schema import ModelArch
from pages._engine import catalog, run_fits, run_serve
from pages._state import FINETUNE_CHOICE_FIELDS, FINETUNE_MORE_FIELDS, FINETUNE_NUMBER_FIELDS
from report.content import Section
from report.finetune_section import finetune_section
from report.fits import fits_section
from report.serve_section import serve_section
from report.text import Translator
from sizing.capacity import serve_settings
from sizing.finetune_request import model_fields_of, parse_finetune_request
from sizing.fits import parse_fits_request
from sizing.request import EstimateRequest, resolve_model
from sizing.speculative import default_speculation
from sizing.workloads import PRESETS

# The sections a report can add, in the order they are shown and added.
EXTRA_SECTIONS = ("finetune", "serve", "fits")
SERVE_FIELDS = ("users", "think_time_s", "ttft_p95_s", "itl_p95_ms", "prefix_hit_frac",
                "requests_per_minute")


def finetune_extra(cfg: Mapping[str, Any], request: EstimateRequest, arch: ModelArch | None,
                   terms: RegionTerms, lang: str) -> Section:
    """The Fine-tune page's answer for the scenario's model on its GPUs."""
    cat = catalog()
    arch = arch or resolve_model(request, cat)[0]
    data = {**model_fields_of(request, arch),
            **{name: cfg[name] for name in (*FINETUNE_CHOICE_FIELDS, *FINETUNE_MORE_FIELDS,
                                            *FINETUNE_NUMBER_FIELDS)},
            "dora": cfg["dora"] == "on", "gpu": request.gpu, "gpu_count": request.gpu_count,
            "dataset_tokens": float(cfg["dataset_mtokens"]) * 1e6,
            "frozen_layers": cfg["frozen_layers"] if cfg["method"] == "full" else 0,
            "system_ram_gib": cfg["ram_gib"] or None,
            "electricity_usd_per_kwh": terms.electricity_usd_per_kwh}
    result = finetune_plan(parse_finetune_request(data), cat, arch=arch)
    return finetune_section(result, Translator(lang, prefix="doc."), currency=terms.currency,
                            units_per_usd=terms.units_per_usd)


def serve_extra(cfg: Mapping[str, Any], request: EstimateRequest, arch: ModelArch | None,
                terms: RegionTerms, lang: str) -> Section:
    """The Serve page's answer for the scenario's machine and runtime."""
    spec = None
    if cfg["speculative"] == "on":
        target = arch or (catalog().model(request.model) if request.model else None)
        task = cfg["workload"] if cfg["workload"] in PRESETS else "chat"
        spec = default_speculation(target, catalog(), task=task) if target else None
    settings = serve_settings({**{name: cfg[name] for name in SERVE_FIELDS if cfg[name] != ""},
                               "speculative": spec})
    priced = request.model_copy(update={"electricity_usd_per_kwh": terms.electricity_usd_per_kwh})
    return serve_section(run_serve(priced, arch, settings), Translator(lang, prefix="doc."),
                         currency=terms.currency, units_per_usd=terms.units_per_usd)


def fits_extra(cfg: Mapping[str, Any], request: EstimateRequest, arch: ModelArch | None,
               terms: RegionTerms, lang: str) -> Section:
    """What else runs on the scenario's machine with its runtime, ranked as on the page."""
    fits_request = parse_fits_request({
        "gpu": request.gpu, "gpu_count": request.gpu_count, "memory_gib": request.memory_gib,
        "ram_gib": cfg["ram_gib"], "runtimes": (request.runtime,), "use": cfg["use"],
        "min_decode_tokens_per_s": cfg["min_decode"], "min_context_tokens": cfg["min_context"],
        "all_quants": cfg["all_quants"] == "on"})
    return fits_section(run_fits(fits_request), lang)


BUILDERS = {"finetune": finetune_extra, "serve": serve_extra, "fits": fits_extra}


def extra_section(key: str, cfg: Mapping[str, Any], request: EstimateRequest,
                  arch: ModelArch | None, terms: RegionTerms, lang: str) -> Section:
    """The section ``key`` (one of :data:`EXTRA_SECTIONS`) in ``lang``.

    Raises :class:`catalog.errors.UserError` when the engine refuses it (a
    runtime that cannot serve the model, a setup that cannot train).
    """
    return BUILDERS[key](cfg, request, arch, terms, lang)
