"""Which runtimes, weight formats and KV caches go together, and the closest valid choice.

A front end offers only runtimes that run on the chosen GPU's vendor API, only
weight formats and KV-cache types the chosen runtime loads, and, when a choice
stops being valid (another GPU, another runtime, or a link that names a pair
that cannot run), moves it to the closest valid one and says so:

* runtime: the first in catalog order that runs on the GPU and still loads the
  chosen weight format; else the first that runs on the GPU at all;
* weight format: the same file format first (GGUF, EXL2, MLX ...), then the
  same kind (float or integer quant), then formats published for any model
  before a model's own (MXFP4), recommended formats before legacy ones, then
  the nearest bits per weight (on a log scale);
* KV cache: the nearest bytes per element.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from catalog.catalog import Catalog, runtime_api
from catalog.schema import Gpu, KvCacheType, Quant, Runtime


@dataclass(frozen=True)
class Change:
    """One choice moved to a valid one: ``field`` is "runtime", "quant" or "kv_cache"."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Pair:
    """A runtime, weight format and KV cache that run together on a GPU, and what moved."""

    runtime: str
    quant: str
    kv_cache: str
    changes: tuple[Change, ...] = ()


def runtimes_for(catalog: Catalog, gpu: Gpu) -> list[Runtime]:
    """Runtimes with a backend for ``gpu``'s vendor API, in catalog order."""
    return [r for r in catalog.runtimes if runtime_api(r, gpu) is not None]


def quants_for(catalog: Catalog, runtime_id: str) -> list[Quant]:
    """Weight formats ``runtime_id`` loads, in catalog order."""
    return [q for q in catalog.quants if runtime_id in q.runtimes]


def kv_cache_types_for(catalog: Catalog, runtime_id: str) -> list[KvCacheType]:
    """KV-cache element types ``runtime_id`` has, in catalog order."""
    return [k for k in catalog.kv_cache_types if runtime_id in k.runtimes]


def _nominal_bits(quant: Quant) -> float:
    """Bits per weight of the bulk of the weights (an MoE format's experts). [bit]"""
    return quant.expert_bits_per_weight or quant.body_bits_per_weight


def closest_quant(chosen: Quant, offered: list[Quant]) -> Quant:
    """The format in ``offered`` closest to ``chosen`` (see the module docstring)."""
    bits = _nominal_bits(chosen)
    return min(offered, key=lambda q: (q.format != chosen.format, q.kind != chosen.kind,
                                       q.native_only, not q.recommended,
                                       abs(math.log2(_nominal_bits(q) / bits))))


def closest_kv_cache(chosen: KvCacheType, offered: list[KvCacheType]) -> KvCacheType:
    """The KV-cache type in ``offered`` nearest ``chosen`` in bytes per element."""
    return min(offered, key=lambda k: abs(math.log2(k.bytes_per_element / chosen.bytes_per_element)))


def valid_pair(catalog: Catalog, *, gpu: str, runtime: str, quant: str, kv_cache: str) -> Pair:
    """The user's runtime, weight format and KV cache if they run together on ``gpu``;
    else the closest valid ones, with each change. Unknown ids raise as the catalog does."""
    card = catalog.gpu(gpu)
    chosen_quant = catalog.quant(quant)
    chosen_kv = catalog.kv_cache_type(kv_cache)
    changes: list[Change] = []
    able = runtimes_for(catalog, card)
    if not any(r.id == runtime for r in able):
        loads = [r for r in able if r.id in chosen_quant.runtimes]
        new = (loads or able)[0].id
        changes.append(Change("runtime", runtime, new))
        runtime = new
    offered = quants_for(catalog, runtime)
    if all(q.id != quant for q in offered):
        new = closest_quant(chosen_quant, offered).id
        changes.append(Change("quant", quant, new))
        quant = new
    kinds = kv_cache_types_for(catalog, runtime)
    if all(k.id != kv_cache for k in kinds):
        new = closest_kv_cache(chosen_kv, kinds).id
        changes.append(Change("kv_cache", kv_cache, new))
        kv_cache = new
    return Pair(runtime=runtime, quant=quant, kv_cache=kv_cache, changes=tuple(changes))
