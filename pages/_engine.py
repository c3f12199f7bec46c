"""The catalog, the engine and the purchase advisor, as the pages call them.

The catalog is loaded once per server process (and catalog directory). Engine
and advisor answers are cached by the JSON of their inputs, so a rerun that
changes nothing, or another session asking the same, costs a dictionary
lookup. Errors a user can fix arrive as :class:`catalog.errors.UserError`.
"""

from __future__ import annotations

import gc
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from advisor.plan import plan
from advisor.workload import (DEFAULT_CIRCUIT_AMPS, DEFAULT_CIRCUIT_VOLTS, DEFAULT_MIN_TOKENS_PER_S,
                              plan_request)
from advisor.results import PlanResult
from catalog.catalog import Catalog, load_catalog, load_catalog_from
from catalog.errors import UserError
from catalog.quality import load_quality
from catalog.schema import Gpu, ModelArch
from sizing.bench import BenchCalibration
from sizing.capacity import ServeResult, ServeSettings, serve
from sizing.estimate import Estimate, estimate
from sizing.fits import FitsRequest, FitTable, fits, ranking_quality
from sizing.request import EstimateRequest, resolve_model
from sizing.vector import every_gpu

if TYPE_CHECKING:
    from sizing.remedies import Remedy

# A catalog directory to serve instead of the packaged one (tests, staging).
CATALOG_DIR_ENV = "RIGFIT_CATALOG_DIR"


# The catalogs _catalog_at loaded, by directory: pages ask for the catalog a dozen
# times a run, and a dictionary lookup costs far less than a cache_resource call.
_LOADED: dict[str, Catalog] = {}


@st.cache_resource(show_spinner=False)
def _catalog_at(directory: str) -> Catalog:
    loaded = load_catalog_from(Path(directory)) if directory else load_catalog()
    # The catalog and the modules loaded so far live as long as the server: kept out of
    # the garbage collector's generations, a full collection during a rerun walks only
    # what the reruns made (one walking everything took about 100 ms of a Builds rerun).
    gc.freeze()
    return loaded


def catalog() -> Catalog:
    """The catalog, loaded once per server process and directory.

    ``$RIGFIT_CATALOG_DIR`` names another catalog directory; unset, the
    packaged one. A broken catalog raises :class:`catalog.loader.CatalogError`
    (not cached, so a fixed file is read on the next run).
    """
    directory = os.environ.get(CATALOG_DIR_ENV, "")
    loaded = _LOADED.get(directory)
    if loaded is None:
        loaded = _LOADED[directory] = _catalog_at(directory)
    return loaded


def currencies() -> list[str]:
    """ISO codes of the currencies the catalog has rates for."""
    return [c.code for c in catalog().market.currencies]


def price_usd(gpu: Gpu) -> float | None:
    """The street price if known, else the launch price; for a machine priced per
    memory size, the price of the size it has. [USD]"""
    return gpu.price_usd


def _arch_json(arch: ModelArch | None) -> str | None:
    return arch.model_dump_json() if arch is not None else None


def _arch_from(arch_json: str | None) -> ModelArch | None:
    return ModelArch.model_validate_json(arch_json) if arch_json else None


@st.cache_data(max_entries=256, show_spinner=False)
def _estimate_cached(request_json: str, arch_json: str | None, bench: str) -> Estimate:
    request = EstimateRequest.model_validate_json(request_json)
    return estimate(request, catalog(), arch=_arch_from(arch_json),
                    bench=BenchCalibration.from_query(bench) if bench else None)


def run_estimate(request: EstimateRequest, arch: ModelArch | None, bench: str = "") -> Estimate:
    """The scenario's estimate; ``arch`` is an uploaded model (None: the request's);
    ``bench`` the compact factors of the user's own benchmark ("" for none)."""
    return _estimate_cached(request.model_dump_json(), _arch_json(arch), bench)


def _on_gpus(request: EstimateRequest, arch: ModelArch | None, gpu_ids: list[str]) -> list[Estimate]:
    cat = catalog()
    arch = arch or resolve_model(request, cat)[0]
    results = []
    for gpu_id in gpu_ids:
        try:
            memory = request.memory_gib if gpu_id == request.gpu else None  # the chosen size
            results.append(estimate(request.model_copy(update={"gpu": gpu_id, "memory_gib": memory}),
                                    cat, arch=arch))
        except UserError:
            continue  # this runtime cannot run on that vendor: not a candidate
    return results


@st.cache_data(max_entries=64, show_spinner=False)
def _some_gpus_cached(request_json: str, arch_json: str | None, gpu_ids: tuple[str, ...]
                      ) -> list[Estimate]:
    return _on_gpus(EstimateRequest.model_validate_json(request_json), _arch_from(arch_json),
                    list(gpu_ids))


@dataclass(frozen=True)
class GpuRow:
    """One catalog GPU's line of the fit table. [GiB, B, USD, tokens/s]"""

    gpu_id: str
    fits: bool  # the memory verdict is "fits"
    gpu_count: int
    gpu_memory_gib: float
    headroom_bytes: float
    price_usd: float | None  # as configured (a Mac's memory size)
    decode_tokens_per_s: float | None


@st.cache_data(max_entries=64, show_spinner=False)
def _fit_rows_cached(request_json: str, arch_json: str | None) -> list[GpuRow]:
    # Every GPU in one array pass (sizing.vector.every_gpu, the estimate's numbers);
    # only the table's fields are cached, a hundred small rows.
    request, cat = EstimateRequest.model_validate_json(request_json), catalog()
    arch = _arch_from(arch_json) or resolve_model(request, cat)[0]
    try:
        sweep = every_gpu(request, cat, arch, [g.id for g in cat.gpus])
    except UserError:
        return []  # the scenario runs on no GPU
    return [GpuRow(gpu_id=gpu.id, fits=verdict == "fits", gpu_count=sweep.gpu_count,
                   gpu_memory_gib=gpu.memory_gib, headroom_bytes=headroom, price_usd=gpu.price_usd,
                   decode_tokens_per_s=None if math.isnan(decode) else decode)
            for gpu, verdict, headroom, decode in zip(
                sweep.gpus, sweep.memory.verdict, sweep.memory.headroom_bytes.tolist(),
                sweep.decode_tokens_per_s.tolist())]


def run_fit_rows(request: EstimateRequest, arch: ModelArch | None) -> list[GpuRow]:
    """The scenario on every catalog GPU the runtime supports, as fit-table rows."""
    return _fit_rows_cached(request.model_dump_json(), _arch_json(arch))


@st.cache_data(max_entries=64, show_spinner=False)
def _remedies_cached(request_json: str, arch_json: str | None) -> list[Remedy]:
    from sizing.remedies import remedies_for  # only a scenario that does not fit asks

    request, cat = EstimateRequest.model_validate_json(request_json), catalog()
    return remedies_for(request, cat, _arch_from(arch_json) or resolve_model(request, cat)[0])


def run_remedies(request: EstimateRequest, arch: ModelArch | None) -> list[Remedy]:
    """What would make a scenario that does not fit entirely on its GPU fit, ranked.

    Cached here rather than in the page: a page's script runs again on every rerun,
    and so would its cache decorator (about 1 ms each time)."""
    return _remedies_cached(request.model_dump_json(), _arch_json(arch))


@st.cache_data(max_entries=64, show_spinner=False)
def _fits_cached(request_json: str, arch_json: str | None) -> FitTable:
    extra = [_arch_from(arch_json)] if arch_json else []
    return fits(FitsRequest.model_validate_json(request_json), catalog(),
                quality=ranking_quality(load_quality()), extra_models=extra)


def run_fits(request: FitsRequest, arch: ModelArch | None = None) -> FitTable:
    """Every model that runs on the request's machine, ranked (:mod:`sizing.fits`);
    ``arch`` is a model the user added (an upload, a Hub id or a file), ranked with them."""
    return _fits_cached(request.model_dump_json(), _arch_json(arch))


def run_every_gpu(request: EstimateRequest, arch: ModelArch | None,
                  gpu_ids: list[str]) -> list[Estimate]:
    """The scenario on each of ``gpu_ids`` the runtime supports, in that order."""
    return _some_gpus_cached(request.model_dump_json(), _arch_json(arch), tuple(gpu_ids))


@st.cache_data(max_entries=64, show_spinner=False)
def _plan_cached(request_json: str, arch_json: str | None, options_json: str) -> PlanResult:
    request = EstimateRequest.model_validate_json(request_json)
    options = json.loads(options_json)
    if options.get("service") is not None:
        options["service"] = ServeSettings.model_validate(options["service"])
    return plan(request, catalog(), arch=_arch_from(arch_json), **options)


def run_plan(request: EstimateRequest, arch: ModelArch | None, *, budget_usd: float, users: int,
             hours_per_day: float, currency: str, search: str = "all",
             min_tokens_per_s: float = DEFAULT_MIN_TOKENS_PER_S,
             electricity_usd_per_kwh: float | None = None,
             circuit_volts: float = DEFAULT_CIRCUIT_VOLTS,
             circuit_amps: float = DEFAULT_CIRCUIT_AMPS,
             own_prices_usd: dict[str, float] | None = None,
             service: ServeSettings | None = None) -> PlanResult:
    """The purchase advisor's plan, shared by Builds and Cloud.

    ``search`` "all" searches the runtimes and weight formats as ``rigfit plan``
    does by default (:func:`advisor.workload.plan_request`); "sidebar" uses the
    request's runtime, weight format and KV cache. ``service``: size by a service
    level (:func:`advisor.plan.plan`). Raises
    :class:`advisor.errors.PlanError` (a UserError) when no plan can be made.
    """
    request, quant = plan_request(request, search=search == "all")
    options = {"budget_usd": float(budget_usd), "users": int(users),
               "hours_per_day": float(hours_per_day), "currency": currency, "quant": quant,
               "min_tokens_per_s": float(min_tokens_per_s),
               "electricity_usd_per_kwh": electricity_usd_per_kwh,
               "circuit_volts": float(circuit_volts), "circuit_amps": float(circuit_amps),
               "own_prices_usd": dict(sorted((own_prices_usd or {}).items())),
               "service": None if service is None else service.model_dump(mode="json")}
    return _plan_cached(request.model_dump_json(), _arch_json(arch), json.dumps(options))


@st.cache_data(max_entries=64, show_spinner=False)
def _serve_cached(request_json: str, arch_json: str | None, settings_json: str) -> ServeResult:
    return serve(EstimateRequest.model_validate_json(request_json),
                 ServeSettings.model_validate_json(settings_json), catalog(), arch=_arch_from(arch_json))


def run_serve(request: EstimateRequest, arch: ModelArch | None, settings: ServeSettings) -> ServeResult:
    """Users at a service level and the throughput curve (:func:`sizing.capacity.serve`).

    Raises a UserError (``ServeError``) when the machine cannot serve the model.
    """
    return _serve_cached(request.model_dump_json(), _arch_json(arch), settings.model_dump_json())
