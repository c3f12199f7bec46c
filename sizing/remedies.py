"""What would make a scenario fit: the nearest changes, ranked by what the user gives up.

For a scenario that does not fit entirely in GPU memory (or fits only with
offload), :func:`remedies_for` proposes at most one change of each kind:

1. ``kv_cache``: a quantized KV cache (the largest KV type the runtime
   supports that makes the current weights fit);
2. ``smaller_quant``: the most precise smaller weight format that fits, and
   ``kv_cache_quant``: a quantized KV cache together with the most precise
   format that then fits, when that format is more precise than without it;
3. ``shorter_context``: the longest context that fits at the current format
   (the prompt cut to fit when it must be: ``shorter_context_prompt``), and,
   when the current format cannot even hold the prompt and the output, the
   longest context at the most precise smaller format that does;
4. ``offload``: run as it is with layers in system RAM, with its decode speed
   (only for runtimes that can offload, and only when at least one layer fits);
5. ``more_gpus``: more of the same card, the fewest that fit (up to 8 in one
   machine, counts the runtime's tensor parallelism can split over);
6. ``bigger_gpu``: the cheapest catalog GPU of the same vendor (any memory size
   it is sold in) that fits, with its price.

Ranking rule: by what the user gives up, in that order: a few KV-cache bits,
then weight precision (most bits per weight kept first), then context
length, then speed (offload), then money (more cards, then a new card).
Within a kind, more bits per weight and then more KV-cache bytes first.

Every remedy is checked by applying it to the request and re-estimating the
memory: each one returned fits (``offload``: runs with offload). Formats are
chosen only among those the runtime runs and the model is published in
(:func:`sizing.fit.candidate_quants`). Searches reuse :mod:`sizing.fit`'s
memory-only searches, so the whole answer takes milliseconds.
Decode speeds are uncapped (no power limit, no benchmark rescaling).
"""

# No ``from __future__ import annotations``: pydantic takes these models' field types as
# objects instead of compiling each annotation string when the classes are built.

from typing import Any

from catalog.catalog import Catalog, runtime_api
from catalog.errors import UserError
from catalog.schema import Gpu, ModelArch, Quant
from sizing.estimate import default_split, memory_for, speed_for
from sizing.fit import best_quant, candidate_quants, max_context_tokens
from sizing.memory import MemoryEstimate
from sizing.notices import Param
from sizing.request import (EstimateRequest, check_compatibility, check_parallel, resolve_gpu,
                            tensor_parallel_problem)
from sizing.results import Result
from sizing.speed import SpeedUnknownError
from sizing.units import bytes_to_gib

# The most cards one machine holds: 8-GPU servers (HGX/DGX-class) are the
# largest single boxes; beyond that the workload needs several nodes.
MAX_CARDS_IN_ONE_MACHINE = 8

# Rank of each kind: what the user gives up (see the module docstring).
RANK = {"remedy_kv_cache": 0, "remedy_smaller_quant": 1, "remedy_kv_cache_quant": 1,
        "remedy_shorter_context": 2, "remedy_shorter_context_prompt": 2, "remedy_offload": 3,
        "remedy_more_gpus": 4, "remedy_bigger_gpu": 5}


class Remedy(Result):
    """One change that makes the scenario fit, with the numbers after it.

    ``code``, ``params`` and ``text`` translate like a
    :class:`~sizing.notices.Notice` (``engine.remedy_<code>``); ``changes``
    are the request fields to set to apply it.
    """

    code: str
    params: dict[str, Param]
    text: str
    changes: dict[str, Param | None]
    verdict: str  # "fits", or "fits-with-offload" for the offload remedy
    total_bytes: float  # memory needed after the change, all devices
    usable_bytes: float
    decode_tokens_per_s: float | None = None  # uncapped; None when unknown
    price_usd: float | None = None  # bigger_gpu: the cards; more_gpus: the added cards

    def __str__(self) -> str:
        return self.text


def price_usd(gpu: Gpu) -> float | None:
    """The street price if known, else the launch price. [USD]"""
    if gpu.street_price is not None:
        return gpu.street_price.usd
    return gpu.launch_price_usd


def apply_remedy(request: EstimateRequest, remedy: Remedy) -> EstimateRequest:
    """The request with the remedy's changes, validated as a new request."""
    return EstimateRequest.model_validate({**request.model_dump(), **remedy.changes})


def _gib(value: float) -> str:
    return f"{bytes_to_gib(value):,.1f} GiB"


class _Search:
    """The scenario and the checks every candidate change goes through."""

    def __init__(self, request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> None:
        self.request, self.catalog, self.arch = request, catalog, arch
        self.runtime = catalog.runtime(request.runtime)
        self.quant = catalog.quant(request.quant)
        self.kv_bytes = catalog.kv_cache_type(request.kv_cache).bytes_per_element
        self.split = default_split(request, catalog)

    def try_changes(self, changes: dict[str, Any], *,
                    allow_offload: bool = False) -> tuple[EstimateRequest, MemoryEstimate] | None:
        """The changed request and its memory when it is valid and fits, else None."""
        try:
            changed = EstimateRequest.model_validate({**self.request.model_dump(), **changes})
            check_compatibility(changed, self.catalog)
            check_parallel(changed, self.catalog, self.arch, default_split(changed, self.catalog))
            memory = memory_for(changed, self.catalog, self.arch)
        except (UserError, ValueError):
            return None
        ok = memory.fits or (allow_offload and memory.verdict == "fits-with-offload")
        return (changed, memory) if ok else None

    def remedy(self, code: str, text: str, changes: dict[str, Any], *,
               allow_offload: bool = False, price: float | None = None,
               **params: Param) -> Remedy | None:
        checked = self.try_changes(changes, allow_offload=allow_offload)
        if checked is None:
            return None
        changed, memory = checked
        try:
            decode = speed_for(changed, self.catalog, self.arch, memory).decode_tokens_per_s
        except (SpeedUnknownError, UserError):
            decode = None
        needed, usable = _gib(memory.total_bytes), _gib(memory.usable_bytes)
        if memory.fits:
            text += f": needs {needed} of {usable}."
        else:
            text += "."
        return Remedy(code=code, params={**params, "needed": needed, "usable": usable},
                      text=text, changes=changes, verdict=memory.verdict,
                      total_bytes=memory.total_bytes, usable_bytes=memory.usable_bytes,
                      decode_tokens_per_s=decode, price_usd=price)

    def fitting_quant(self, kv_bytes: float, context: int | None = None) -> Quant | None:
        """The most precise valid format that fits with this KV type, other than the current."""
        request = self.request
        prompt = request.prompt_tokens
        if context is not None:
            prompt = min(prompt, max(context - request.new_tokens, 0))
        quant = best_quant(self.catalog, self.arch, resolve_gpu(request, self.catalog),
                           self.runtime,
                           context_tokens=context or request.allocated_context_tokens,
                           prompt_tokens=prompt, sequences=request.batch,
                           kv_bytes_per_element=kv_bytes, gpu_count=request.gpu_count,
                           split=self.split, new_tokens=request.new_tokens)
        return None if quant is None or quant.id == self.quant.id else quant

    def longest_context(self, quant: Quant) -> int:
        r = self.request
        return max_context_tokens(self.arch, quant, resolve_gpu(r, self.catalog), self.runtime,
                                  sequences=r.batch, kv_bytes_per_element=self.kv_bytes,
                                  gpu_count=r.gpu_count, split=self.split,
                                  prompt_tokens=r.prompt_tokens, new_tokens=r.new_tokens)


def remedies_for(request: EstimateRequest, catalog: Catalog, arch: ModelArch) -> list[Remedy]:
    """The ranked ways to make ``request`` fit (empty when it already fits).

    ``arch`` is the request's model (resolved by the caller). Bad requests
    raise :class:`~catalog.errors.UserError` as :func:`sizing.estimate.estimate` does.
    """
    check_compatibility(request, catalog)
    search = _Search(request, catalog, arch)
    current = memory_for(request, catalog, arch)
    if current.fits:
        return []
    found: list[Remedy | None] = []
    found += _weights_and_cache(search)
    found += _context(search)
    found.append(_offload(search, current))
    found.append(_more_gpus(search))
    found.append(_bigger_gpu(search))
    remedies = [r for r in found if r is not None]

    def bits(r: Remedy) -> float:
        quant = catalog.quant(str(r.changes.get("quant", request.quant)))
        return quant.body_bits_per_weight

    def kv(r: Remedy) -> float:
        return catalog.kv_cache_type(str(r.changes.get("kv_cache", request.kv_cache))).bytes_per_element

    return sorted(remedies, key=lambda r: (RANK[r.code], -bits(r), -kv(r)))


def _smaller_kv_types(search: _Search) -> list[tuple[str, float]]:
    """KV types the runtime supports that are smaller than the current one, largest first."""
    kinds = [(k.id, k.bytes_per_element) for k in search.catalog.kv_cache_types
             if search.runtime.id in k.runtimes and k.bytes_per_element < search.kv_bytes]
    return sorted(kinds, key=lambda k: -k[1])


def _weights_and_cache(search: _Search) -> list[Remedy | None]:
    out: list[Remedy | None] = []
    smaller = search.fitting_quant(search.kv_bytes)
    if smaller is not None:
        out.append(search.remedy(
            "remedy_smaller_quant", f"Use {smaller.id}, the most precise format that fits",
            {"quant": smaller.id}, quant=smaller.id))
    kv_alone = None
    combined: tuple[Quant, str] | None = None
    for kv_id, kv_bytes in _smaller_kv_types(search):
        if kv_alone is None:
            kv_alone = search.remedy("remedy_kv_cache", f"Quantize the KV cache to {kv_id}",
                                     {"kv_cache": kv_id}, kv_cache=kv_id)
            if kv_alone is not None:
                out.append(kv_alone)
                break
        quant = search.fitting_quant(kv_bytes)
        if quant is None or (smaller is not None
                             and quant.body_bits_per_weight <= smaller.body_bits_per_weight):
            continue
        if combined is None or quant.body_bits_per_weight > combined[0].body_bits_per_weight:
            combined = (quant, kv_id)
    if kv_alone is None and combined is not None:
        quant, kv_id = combined
        out.append(search.remedy(
            "remedy_kv_cache_quant", f"Quantize the KV cache to {kv_id} and use {quant.id}",
            {"kv_cache": kv_id, "quant": quant.id}, kv_cache=kv_id, quant=quant.id))
    return out


def _context_remedy(search: _Search, quant: Quant, context: int) -> Remedy | None:
    r = search.request
    if context < 1 or context >= r.allocated_context_tokens:
        return None
    prompt = min(r.prompt_tokens, context - r.new_tokens)
    if prompt < (1 if r.prompt_tokens else 0):
        return None
    changes: dict[str, Any] = {"context_tokens": context}
    if quant.id != r.quant:
        changes["quant"] = quant.id
    if prompt < r.prompt_tokens:
        changes["prompt_tokens"] = prompt
        return search.remedy(
            "remedy_shorter_context_prompt",
            f"Shorten the context to {context:,} tokens at {quant.id}, the prompt cut to "
            f"{prompt:,} tokens", changes, context=f"{context:,}", prompt=f"{prompt:,}",
            quant=quant.id)
    return search.remedy("remedy_shorter_context",
                         f"Shorten the context to {context:,} tokens at {quant.id}", changes,
                         context=f"{context:,}", quant=quant.id)


def _context(search: _Search) -> list[Remedy | None]:
    r = search.request
    at_current = search.longest_context(search.quant)
    out = [_context_remedy(search, search.quant, at_current)]
    if at_current < r.prompt_tokens + r.new_tokens:
        # The current format cannot hold the work itself: the most precise
        # smaller format whose longest context holds the prompt and the output.
        for quant in candidate_quants(search.catalog, search.runtime, search.arch):
            if quant.body_bits_per_weight >= search.quant.body_bits_per_weight:
                continue
            longest = search.longest_context(quant)
            if longest >= r.prompt_tokens + r.new_tokens:
                out.append(_context_remedy(search, quant, longest))
                break
    return out


def _offload(search: _Search, current: MemoryEstimate) -> Remedy | None:
    if not search.runtime.supports_offload or current.verdict != "fits-with-offload":
        return None
    remedy = search.remedy(
        "remedy_offload", f"Run as it is with {_gib(current.offloaded_bytes)} in system RAM "
        f"({current.gpu_layers} of {current.num_layers} layers on the GPU), much slower", {},
        allow_offload=True, offloaded=_gib(current.offloaded_bytes),
        gpu_layers=current.gpu_layers, layers=current.num_layers)
    return remedy


def _more_gpus(search: _Search) -> Remedy | None:
    r = search.request
    gpu = resolve_gpu(r, search.catalog)
    if gpu.form_factor == "soc":  # one machine, one built-in GPU
        return None
    for count in range(r.gpu_count + 1, MAX_CARDS_IN_ONE_MACHINE + 1):
        split = default_split(r.model_copy(update={"gpu_count": count}), search.catalog)
        if tensor_parallel_problem(search.arch, search.runtime, count, split):
            continue
        if search.try_changes({"gpu_count": count}) is None:
            continue
        added = count - r.gpu_count
        price = price_usd(gpu)
        return search.remedy(
            "remedy_more_gpus", f"Add {added} more {gpu.name} ({count} in all, {split} split)",
            {"gpu_count": count}, price=None if price is None else price * added,
            added=added, count=count, gpu=gpu.name, split_term=split)
    return None


def _bigger_gpu(search: _Search) -> Remedy | None:
    r = search.request
    current = resolve_gpu(r, search.catalog)
    options: list[tuple[float, Gpu]] = []
    for gpu in search.catalog.gpus:
        if gpu.vendor is not current.vendor or runtime_api(search.runtime, gpu) is None:
            continue
        for memory_gib in gpu.memory_sizes_gib:
            sized = gpu.with_memory(memory_gib)
            if sized.id == current.id and memory_gib == current.memory_gib:
                continue
            price = price_usd(sized)
            if price is not None and memory_gib > 0:
                options.append((price, sized))
    for price, gpu in sorted(options, key=lambda o: (o[0], o[1].id)):
        changes: dict[str, Any] = {"gpu": gpu.id}
        if len(gpu.memory_sizes_gib) > 1:
            changes["memory_gib"] = gpu.memory_gib
        elif r.memory_gib is not None:
            changes["memory_gib"] = None  # the size chosen for the old machine does not carry over
        if search.try_changes(changes) is None:
            continue
        count = f"{r.gpu_count} × " if r.gpu_count > 1 else ""
        return search.remedy(
            "remedy_bigger_gpu",
            f"Use {count}{gpu.name} with {gpu.memory_gib:g} GiB, the cheapest "
            f"{gpu.vendor.value.upper()} GPU that fits, about {price * r.gpu_count:,.0f} USD",
            changes, price=price * r.gpu_count, gpu=f"{count}{gpu.name}",
            memory_gib=f"{gpu.memory_gib:g}", vendor=gpu.vendor.value.upper(),
            price_usd=f"{price * r.gpu_count:,.0f}")
    return None


__all__ = ["Remedy", "remedies_for", "apply_remedy", "price_usd", "RANK"]
