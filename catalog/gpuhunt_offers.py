"""Build ``cloud_offers.yaml`` from gpuhunt's catalog of cloud GPU offers.

gpuhunt (https://github.com/dstackai/gpuhunt, pinned in requirements.txt)
publishes one catalog per provider at ``{catalog URL}/{provider}/version`` and
``{catalog URL}/{provider}/{version}/catalog.zip``; ``GPUHUNT_CATALOG_URL``
points it elsewhere. "Offline" providers (AWS, Azure, GCP, Lambda, RunPod,
Nebius, OCI, Verda, CloudRift) are read from that catalog; "online" ones
(Vast.ai) are queried live from the provider's own API. Either way the refresh
needs a network; the app and the tests only read the written snapshot.

gpuhunt is imported only inside :func:`query_gpuhunt`, so loading the catalog
never imports it. The refresh builds its own ``gpuhunt.Catalog`` with
``auto_reload=False``: it downloads once, when asked, and never in the background.

Each provider is queried twice, on-demand (``spot=False``) and spot
(``spot=True``), and the two stay in separate lists. Of the same instance type
in several locations the cheapest is kept (``notes`` says of how many).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import re
import socket
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from catalog.cloud_offers import NotLoaded, ProviderCounts, SnapshotHeader, UnmappedGpu
from catalog.errors import UserError, echo
from catalog.market import CloudInstance

GPUHUNT_VERSION = "0.1.34"
DEFAULT_CATALOG_URL = "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3"
# gpuhunt's provider names -> catalog.market.Provider values.
PROVIDERS = {"aws": "aws", "azure": "azure", "gcp": "gcp", "lambdalabs": "lambda",
             "runpod": "runpod", "vastai": "vastai", "nebius": "nebius", "oci": "oci",
             "verda": "verda", "cloudrift": "cloudrift"}
ONLINE = frozenset({"vastai"})  # queried from the provider's API, not the published catalog
# Marketplaces list each host's machine as its own instance: one offer per GPU and count is kept.
MARKETPLACES = frozenset({"vastai"})
# Where an online provider's offers come from: the gpuhunt code that queries it.
ONLINE_SOURCE = "https://github.com/dstackai/gpuhunt/blob/0.1.34/src/gpuhunt/providers/{provider}.py"
NETWORK_TIMEOUT_S = 30.0

# gpuhunt's GPU name and per-GPU memory [GiB] (gpuhunt/_internal/constraints.py,
# KNOWN_NVIDIA_GPUS and KNOWN_AMD_GPUS) -> catalog GPU id. gpuhunt does not say
# whether an A100 or H100 is an SXM or a PCIe board; it is read as SXM (what
# 8-GPU cloud servers carry) unless the instance name says "pcie" (PCIE_IDS).
# A name or size missing here is listed under ``unmapped`` in the snapshot.
GPU_IDS: dict[tuple[str, float], str] = {
    ("T4", 16): "t4", ("A10", 24): "a10", ("A10G", 24): "a10", ("A40", 48): "a40",
    ("L4", 24): "l4", ("L40", 48): "l40", ("L40S", 48): "l40s",
    ("A100", 40): "a100-40gb-sxm", ("A100", 80): "a100-80gb-sxm",
    ("H100", 80): "h100-sxm", ("H100NVL", 94): "h100-nvl",
    ("H200", 141): "h200-sxm", ("H200NVL", 141): "h200-nvl", ("B200", 180): "b200",
    ("A4000", 16): "rtx-a4000", ("A4500", 20): "rtx-a4500", ("A5000", 24): "rtx-a5000",
    ("A6000", 48): "rtx-a6000", ("RTX2000Ada", 16): "rtx-2000-ada",
    ("RTX4000Ada", 20): "rtx-4000-ada", ("RTX6000Ada", 48): "rtx-6000-ada",
    ("RTX2080Ti", 11): "rtx-2080-ti", ("RTX3060", 8): "rtx-3060-8gb",
    ("RTX3060", 12): "rtx-3060-12gb", ("RTX3060Ti", 8): "rtx-3060-ti", ("RTX3070", 8): "rtx-3070",
    ("RTX3070Ti", 8): "rtx-3070-ti", ("RTX3080", 10): "rtx-3080-10gb",
    ("RTX3080Ti", 12): "rtx-3080-ti", ("RTX3090", 24): "rtx-3090", ("RTX3090Ti", 24): "rtx-3090-ti",
    ("RTX4060", 8): "rtx-4060", ("RTX4060Ti", 8): "rtx-4060-ti-8gb",
    ("RTX4060Ti", 16): "rtx-4060-ti-16gb", ("RTX4070", 12): "rtx-4070",
    ("RTX4070SUPER", 12): "rtx-4070-super", ("RTX4070Ti", 12): "rtx-4070-ti",
    ("RTX4070TiSUPER", 16): "rtx-4070-ti-super", ("RTX4080", 16): "rtx-4080",
    ("RTX4080SUPER", 16): "rtx-4080-super", ("RTX4090", 24): "rtx-4090",
    ("RTX5060Ti", 16): "rtx-5060-ti-16gb", ("RTX5070", 12): "rtx-5070",
    ("RTX5070Ti", 16): "rtx-5070-ti", ("RTX5080", 16): "rtx-5080", ("RTX5090", 32): "rtx-5090",
    ("MI300X", 192): "mi300x",
}
PCIE_IDS = {"a100-40gb-sxm": "a100-40gb-pcie", "a100-80gb-sxm": "a100-80gb-pcie",
            "h100-sxm": "h100-pcie"}
# Boards whose GPUs share a switched link inside one instance; others are PCIe.
LINKED_BOARDS = {"a100-40gb-sxm": "nvlink", "a100-80gb-sxm": "nvlink", "h100-sxm": "nvlink",
                 "h200-sxm": "nvlink", "b200": "nvlink", "mi300x": "infinity-fabric"}


class Offer(Protocol):
    """The fields of a ``gpuhunt.CatalogItem`` the snapshot reads."""

    provider: str
    instance_name: str
    location: str
    price: float
    cpu: int
    memory: float
    gpu_count: int
    gpu_name: str | None
    gpu_memory: float | None
    spot: bool


@dataclass
class Queried:
    """What gpuhunt answered: offers, each offline provider's catalog version, failures."""

    offers: list[Any] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    not_loaded: dict[str, str] = field(default_factory=dict)


def catalog_url() -> str:
    """The catalog gpuhunt reads: ``GPUHUNT_CATALOG_URL`` or its published default."""
    return os.environ.get("GPUHUNT_CATALOG_URL", DEFAULT_CATALOG_URL).rstrip("/")


def gpu_id_of(gpu_name: str | None, gpu_memory_gib: float | None, instance_name: str) -> str | None:
    """The catalog GPU id for one gpuhunt offer, or None when the table has no entry."""
    if not gpu_name or not gpu_memory_gib:
        return None
    gpu_id = GPU_IDS.get((gpu_name, round(gpu_memory_gib)))
    if gpu_id in PCIE_IDS and "pcie" in instance_name.lower():
        return PCIE_IDS[gpu_id]
    return gpu_id


class _Failures(logging.Handler):
    """gpuhunt logs an offline provider it could not download; keep the reason, print nothing."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.reasons: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.args and isinstance(record.args, tuple):
            self.reasons[str(record.args[0])] = _reason(record.exc_info[1])


def _reason(exc: BaseException | None) -> str:
    while exc is not None and exc.__cause__ is not None:
        exc = exc.__cause__
    text = " ".join(str(exc).split()) if exc is not None else ""
    return (text or type(exc).__name__)[:200]


@contextmanager
def _quiet_gpuhunt() -> Iterator[_Failures]:
    """Route gpuhunt's log to a collector, and bound every download by NETWORK_TIMEOUT_S."""
    logger = logging.getLogger("gpuhunt")
    handler = _Failures()
    saved = logger.propagate, socket.getdefaulttimeout()
    logger.addHandler(handler)
    logger.propagate = False
    socket.setdefaulttimeout(NETWORK_TIMEOUT_S)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = saved[0]
        socket.setdefaulttimeout(saved[1])


def query_gpuhunt(providers: Sequence[str]) -> Queried:
    """Ask gpuhunt for every GPU offer of ``providers`` (gpuhunt's names), on-demand then spot.

    Raises :class:`UserError` (one line) when no provider could be read.
    """
    import gpuhunt  # only a refresh needs it
    import requests  # gpuhunt's HTTP client for live provider APIs
    from gpuhunt._internal.default import ONLINE_PROVIDER_MODULES

    result = Queried()
    gh = gpuhunt.Catalog(balance_resources=False, auto_reload=False)
    offline = [p for p in providers if p not in ONLINE]
    with _quiet_gpuhunt() as failures:
        if offline:
            try:
                gh.load()
            except gpuhunt.GPUHuntError as exc:
                raise UserError(f"cannot read gpuhunt's catalog at {catalog_url()}: "
                                f"{_reason(exc)}", code="gpuhunt_unreadable",
                                params={"url": catalog_url(), "reason": _reason(exc)}) from None
        for name in offline:
            if name in gh.catalog:
                result.versions[name] = gh.catalog[name].version
            else:
                result.not_loaded[name] = failures.reasons.get(name, "not in the catalog")
        modules = {module.rsplit(".", 1)[-1]: (module, cls) for module, cls in ONLINE_PROVIDER_MODULES}
        for name in providers:
            if name in ONLINE:
                module, cls = modules[name]
                provider_class = getattr(importlib.import_module(module), cls)
                gh.add_provider(provider_class.from_env())
        for name in providers:
            if name in result.not_loaded:
                continue
            try:
                for spot in (False, True):
                    result.offers.extend(gh.query(provider=name, spot=spot, min_gpu_count=1))
            except (OSError, ValueError, gpuhunt.ProviderError, requests.RequestException) as exc:
                result.not_loaded[name] = _reason(exc)
    if len(result.not_loaded) == len(providers):
        first = next(iter(result.not_loaded.items()))
        raise UserError(f"cannot read gpuhunt's catalog at {catalog_url()}: {first[0]}: {first[1]}",
                        code="gpuhunt_provider_unreadable",
                        params={"url": catalog_url(), "provider": first[0], "reason": first[1]})
    return result


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", "-".join(parts).lower()).strip("-")


def snapshot_of(queried: Queried, *, providers: Sequence[str], generated_on: dt.date,
                url: str) -> dict[str, Any]:
    """The snapshot file's content: header, on-demand and spot offers, unmapped names listed."""
    groups: dict[tuple, list[Offer]] = {}
    unmapped: Counter[tuple[str, str, float | None]] = Counter()
    incomplete: Counter[str] = Counter()
    for offer in queried.offers:
        gpu_id = gpu_id_of(offer.gpu_name, offer.gpu_memory, offer.instance_name)
        if gpu_id is None:
            unmapped[(offer.provider, offer.gpu_name or "", offer.gpu_memory)] += 1
            continue
        if offer.cpu <= 0 or offer.memory <= 0 or offer.price <= 0:
            incomplete[offer.provider] += 1  # no vCPU, RAM or price given: nothing to price
            continue
        instance = "" if offer.provider in MARKETPLACES else offer.instance_name
        key = (offer.provider, instance, gpu_id, offer.gpu_count, offer.spot)
        groups.setdefault(key, []).append(offer)
    lists: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    kept: Counter[tuple[str, bool]] = Counter()
    ids: set[str] = set()
    for (provider, _, gpu_id, count, spot), offers in sorted(groups.items()):
        best = min(offers, key=lambda o: (o.price, o.location))
        entry = _instance(best, gpu_id, count, len(offers), queried, generated_on, url)
        base, n = entry["id"], 1
        while entry["id"] in ids:  # two names that differ only in punctuation
            n += 1
            entry["id"] = f"{base}-{n}"
        try:  # the loader's own schema: a snapshot the app cannot load is never written
            CloudInstance.model_validate(entry)
        except ValidationError:
            incomplete[provider] += 1
            continue
        ids.add(entry["id"])
        kept[(provider, spot)] += 1
        lists[spot].append(entry)
    counts = {
        PROVIDERS[p]: ProviderCounts(
            catalog_version=queried.versions.get(p), on_demand=kept[(p, False)],
            spot=kept[(p, True)], incomplete=incomplete[p])
        for p in providers if p not in queried.not_loaded}
    header = SnapshotHeader(
        generated_on=generated_on, gpuhunt_version=GPUHUNT_VERSION, catalog_url=url,
        providers=counts,
        unmapped=tuple(UnmappedGpu(provider=PROVIDERS[p], gpu_name=name or "(none)",
                                   gpu_memory_gib=memory, offers=n)
                       for (p, name, memory), n in sorted(unmapped.items(), key=_unmapped_key)),
        not_loaded=tuple(NotLoaded(provider=PROVIDERS[p], reason=r)
                         for p, r in sorted(queried.not_loaded.items())))
    return {"snapshot": header.model_dump(mode="json", exclude_none=True),
            "on_demand": lists[False], "spot": lists[True]}


def _unmapped_key(item: tuple[tuple[str, str, float | None], int]) -> tuple:
    (provider, name, memory), _ = item
    return provider, name, memory or 0.0


def _instance(offer: Offer, gpu_id: str, count: int, locations: int, queried: Queried,
              generated_on: dt.date, url: str) -> dict[str, Any]:
    provider = offer.provider
    version = queried.versions.get(provider)
    source = (ONLINE_SOURCE.format(provider=provider) if version is None
              else f"{url}/{provider}/{version}/catalog.zip")
    where = f"cheapest of {locations} offers" if locations > 1 else "one offer"
    kind = "spot" if offer.spot else "on-demand"
    named = (f"{count}x-{gpu_id}",) if provider in MARKETPLACES else (offer.instance_name,
                                                                      offer.location)
    return {
        "id": _slug(PROVIDERS[provider], *named, "spot" if offer.spot else ""),
        "provider": PROVIDERS[provider], "instance_type": offer.instance_name,
        "gpu_id": gpu_id, "gpu_count": count, "gpu_memory_gib": float(offer.gpu_memory or 0),
        "vcpus": int(offer.cpu), "ram_gib": float(offer.memory),
        "usd_per_hour": round(float(offer.price), 6), "region": offer.location,
        "interconnect": LINKED_BOARDS.get(gpu_id, "pcie") if count > 1 else "pcie",
        "as_of": generated_on.isoformat(), "source": source,
        "notes": f"gpuhunt {GPUHUNT_VERSION}, {kind} price, {where}"
                 + (f", catalog {version}" if version else ", queried live") + ".",
    }


def write_snapshot(content: dict[str, Any], path: Path) -> None:
    """Write the snapshot atomically: a reader sees the old file or the new one, never half."""
    header = ("# Generated by `rigfit cloud-offers --refresh` from gpuhunt's catalog; do not edit.\n"
              "# Schema: catalog/cloud_offers.py (snapshot) and catalog/market.py (CloudInstance).\n")
    text = header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=100)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def refresh(providers: Iterable[str], path: Path, *, today: dt.date | None = None) -> dict[str, Any]:
    """Query gpuhunt, write the snapshot to ``path`` and return its content.

    On failure (no network, no provider readable) raises :class:`UserError`
    and leaves ``path`` as it was.
    """
    names = list(dict.fromkeys(providers))
    unknown = [p for p in names if p not in PROVIDERS]
    if unknown:
        raise UserError(f"unknown gpuhunt provider '{unknown[0]}'; "
                        f"choose from {', '.join(PROVIDERS)}", code="unknown_gpuhunt_provider",
                        params={"got": echo(unknown[0]), "known": ", ".join(PROVIDERS)})
    url = catalog_url()
    queried = query_gpuhunt(names)
    content = snapshot_of(queried, providers=names, generated_on=today or dt.date.today(), url=url)
    if not content["on_demand"]:
        raise UserError(f"gpuhunt's catalog at {url} has no on-demand offer on a catalog GPU; "
                        "the snapshot was not written", code="gpuhunt_no_offer", params={"url": url})
    write_snapshot(content, path)
    return content


__all__ = ["GPU_IDS", "PROVIDERS", "Queried", "catalog_url", "gpu_id_of", "query_gpuhunt",
           "snapshot_of", "write_snapshot", "refresh"]
