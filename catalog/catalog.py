"""The whole catalog, loaded once and looked up by id."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from catalog.errors import ECHO_MAX_CHARS, UserError, echo
from catalog.loader import (CATALOG_DIR, CatalogError, check_references, load_cached, load_records,
                            read_yaml_file)
from catalog.market import Market, load_market

from catalog.schema import (Api, Cooler, Gpu, Interconnect, KvCacheType, ModelArch, Quant,
                            QuantFormat, Runtime, SpeedCalibration, SpeedPrior, StorageClass,
                            Vendor)

T = TypeVar("T")

# Which native APIs run on which vendor's GPUs.
VENDOR_APIS: dict[Vendor, tuple[Api, ...]] = {
    Vendor.NVIDIA: (Api.CUDA, Api.VULKAN),
    Vendor.AMD: (Api.ROCM, Api.VULKAN),
    Vendor.INTEL: (Api.SYCL, Api.VULKAN),
    Vendor.APPLE: (Api.METAL,),
}

_EXL2 = re.compile(r"^exl2-(\d+(?:\.\d+)?)$")


class UnknownIdError(UserError):
    """An id that is not in the catalog; the message names the closest ones."""


def closest_ids(wanted: str, valid: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` valid ids that look most like ``wanted``."""
    lowered = {v.lower(): v for v in valid}
    matches = difflib.get_close_matches(wanted.lower(), list(lowered), n=n, cutoff=0.4)
    if not matches:
        matches = [v for v in lowered if wanted.lower() in v][:n]
    return [lowered[m] for m in matches]


def unknown(kind: str, wanted: str, valid: Sequence[str]) -> UnknownIdError:
    # An id is short: matching a pasted megabyte against every id would take seconds.
    near = closest_ids(str(wanted)[:ECHO_MAX_CHARS], valid)
    if near:
        return UnknownIdError(f"unknown {kind} '{echo(wanted)}'; closest: {', '.join(near)}",
                              code="unknown_id_closest",
                              params={"kind_term": kind, "id": echo(wanted), "ids": ", ".join(near)})
    some = ", ".join(sorted(valid)[:5])
    return UnknownIdError(f"unknown {kind} '{echo(wanted)}'; valid ids include {some}",
                          code="unknown_id_some",
                          params={"kind_term": kind, "id": echo(wanted), "ids": some})


@dataclass(frozen=True)
class Catalog:
    gpus: tuple[Gpu, ...]
    models: tuple[ModelArch, ...]
    quants: tuple[Quant, ...]
    runtimes: tuple[Runtime, ...]
    kv_cache_types: tuple[KvCacheType, ...]
    interconnects: tuple[Interconnect, ...]
    speed_calibration: SpeedCalibration
    api_priors: tuple[SpeedPrior, ...]
    runtime_priors: tuple[SpeedPrior, ...]
    coolers: tuple[Cooler, ...]
    storage_classes: tuple[StorageClass, ...]
    market: Market  # what can be bought or rented: cloud instances, PC parts, currencies
    reviewed_on: dt.date | None = None  # catalog.yaml: when the data was last reviewed
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def _by_id(self, kind: str, records: Sequence[T], wanted: str) -> T:
        table = self._index.get(kind)
        if table is None:
            table = {r.id: r for r in records}
            self._index[kind] = table
        if wanted in table:
            return table[wanted]
        raise unknown(kind, wanted, list(table))

    def derived(self, name: str) -> dict:
        """A dict kept with this catalog for values computed from it alone (``name``
        says which), so they are computed once per catalog, not once per call."""
        return self._index.setdefault(("derived", name), {})

    def gpu(self, gpu_id: str) -> Gpu:
        return self._by_id("GPU", self.gpus, gpu_id)

    def model(self, model_id: str) -> ModelArch:
        return self._by_id("model", self.models, model_id)

    def runtime(self, runtime_id: str) -> Runtime:
        return self._by_id("runtime", self.runtimes, runtime_id)

    def kv_cache_type(self, kv_id: str) -> KvCacheType:
        return self._by_id("KV-cache type", self.kv_cache_types, kv_id)

    def interconnect(self, link_id: str) -> Interconnect:
        return self._by_id("interconnect", self.interconnects, link_id)

    def cooler(self, cooler_id: str) -> Cooler:
        return self._by_id("cooler", self.coolers, cooler_id)

    def storage_class(self, storage_id: str) -> StorageClass:
        return self._by_id("storage class", self.storage_classes, storage_id)

    def api_prior(self, api: str) -> SpeedPrior | None:
        return next((p for p in self.api_priors if p.id == api), None)

    def runtime_prior(self, runtime_id: str) -> SpeedPrior | None:
        return next((p for p in self.runtime_priors if p.id == runtime_id), None)

    def quant(self, quant_id: str) -> Quant:
        match = _EXL2.match(quant_id)
        if match and not any(q.id == quant_id for q in self.quants):
            bits = float(match.group(1))
            if not 2.0 <= bits <= 8.0:
                raise UnknownIdError(f"EXL2 bits per weight must be 2-8, got {bits:g}",
                                     code="exl2_bits_range", params={"got": f"{bits:g}"})
            template = self._by_id("quant", self.quants, "exl2-4")
            return template.model_copy(update={
                "id": quant_id, "name": f"EXL2 {bits:g} bits per weight",
                "body_bits_per_weight": bits,
                "output_bits_per_weight": 6.0 if bits < 6 else 8.0})
        return self._by_id("quant", self.quants, quant_id)


def runtime_api(runtime: Runtime, gpu: Gpu) -> Api | None:
    """The API a runtime uses on a GPU, or None when it cannot run there."""
    for api in runtime.apis:
        if api in VENDOR_APIS[gpu.vendor]:
            return api
    return None


GPU_FILES = ("gpus.yaml",)


def _check(cat: Catalog) -> None:
    runtime_ids = {r.id for r in cat.runtimes}
    for q in cat.quants:
        check_references("quants.yaml", q.id, "runtimes", q.runtimes, runtime_ids)
    for k in cat.kv_cache_types:
        check_references("kv_cache_types.yaml", k.id, "runtimes", k.runtimes, runtime_ids)
    seen: dict[str, str] = {}
    for g in cat.gpus:
        if g.id in seen:
            raise CatalogError(f"{seen[g.id]}: entry '{g.id}': duplicate id across GPU files")
        seen[g.id] = "gpus"


def _load_mapping(path: Path, key: str, model):
    data = read_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), dict):
        raise CatalogError(f"{path.name}: expected a mapping under top-level key '{key}'")
    try:
        return model.model_validate(data[key])
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise CatalogError(f"{path.name}: field '{field}': {err['msg']}") from None


def load_catalog_from(directory: Path) -> Catalog:
    """Load and cross-check every engine catalog file in ``directory``."""
    gpus: list[Gpu] = []
    for name in GPU_FILES:
        path = directory / name
        if path.exists():
            gpus.extend(load_records(path, "gpus", Gpu))
    cat = Catalog(
        gpus=tuple(gpus),
        models=load_records(directory / "models.yaml", "models", ModelArch),
        quants=load_records(directory / "quants.yaml", "quants", Quant),
        runtimes=load_records(directory / "runtimes.yaml", "runtimes", Runtime),
        kv_cache_types=load_records(directory / "kv_cache_types.yaml", "kv_cache_types", KvCacheType),
        interconnects=load_records(directory / "interconnects.yaml", "interconnects", Interconnect),
        speed_calibration=_load_mapping(directory / "speed_calibration.yaml", "speed_calibration",
                                        SpeedCalibration),
        api_priors=_load_priors(directory / "speed_priors.yaml", "apis"),
        runtime_priors=_load_priors(directory / "speed_priors.yaml", "runtimes"),
        coolers=load_records(directory / "coolers.yaml", "coolers", Cooler),
        storage_classes=load_records(directory / "storage.yaml", "storage_classes", StorageClass),
        market=load_market(directory, gpu_ids={g.id for g in gpus}),
        reviewed_on=_load_reviewed_on(directory / "catalog.yaml"),
    )
    _check(cat)
    return cat


def _load_reviewed_on(path: Path) -> dt.date | None:
    """The date the catalog was last reviewed (``catalog.reviewed_on``); None without the file."""
    if not path.exists():
        return None
    data = read_yaml_file(path)
    section = data.get("catalog") if isinstance(data, dict) else None
    value = section.get("reviewed_on") if isinstance(section, dict) else None
    if not isinstance(value, dt.date):
        raise CatalogError(f"{path.name}: expected a date (YYYY-MM-DD) under catalog.reviewed_on")
    return value


def _load_priors(path: Path, section: str) -> tuple[SpeedPrior, ...]:
    data = read_yaml_file(path)
    entries = (data or {}).get("speed_priors", {}).get(section)
    if not isinstance(entries, list):
        raise CatalogError(f"{path.name}: expected a list under speed_priors.{section}")
    out = []
    for raw in entries:
        try:
            out.append(SpeedPrior.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            ident = raw.get("id") if isinstance(raw, dict) else "?"
            raise CatalogError(f"{path.name}: entry '{ident}': field '{field}': {err['msg']}") from None
    return tuple(out)


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The packaged catalog, loaded once per process (and validated once per change of
    its files: :func:`catalog.loader.load_cached`)."""
    return load_cached(CATALOG_DIR, load_catalog_from, Catalog)


__all__ = ["Catalog", "UnknownIdError", "load_catalog", "load_catalog_from", "runtime_api",
           "QuantFormat", "closest_ids"]
