"""Compare a user's benchmark with RigFit's predictions and derive the speed factors.

:func:`calibrate` predicts every row of a :class:`~sizing.bench.BenchRun` that
maps to a scenario (same GPU, model, quant, runtime and token counts) and
takes the median of measured / predicted per metric: decode rows give the
decode factor, prefill rows the prefill factor. The factors are clamped to
0.2-3; :func:`sizing.estimate.estimate` applies them with ``bench=``.
"""

from __future__ import annotations

import statistics

from catalog.catalog import Catalog
from catalog.errors import UserError, echo
from sizing.bench import (BenchCalibration, BenchComparison, BenchError, BenchRow, BenchRun,
                          clamp_factor, match_gpus, scenario_for)
from sizing.estimate import estimate
from sizing.notices import Notice
from sizing.request import parse_request


def bench_gpu(run: BenchRun, catalog: Catalog, gpu: str | None = None) -> str:
    """The catalog GPU the benchmark ran on: ``gpu`` if given, else the paste's device."""
    if gpu is not None:
        return catalog.gpu(gpu).id
    if run.gpu_name is None:
        raise BenchError("the benchmark does not name its GPU (no 'Device 0: ...' line or "
                         "gpu_info): give the GPU it ran on", code="bench_no_gpu")
    found = match_gpus(run.gpu_name, catalog.gpus)
    if len(found) > 1:
        raise BenchError(f"the benchmark ran on '{run.gpu_name}', which is not one catalog "
                         f"GPU (it could be {', '.join(found)}): give the GPU it ran on",
                         code="bench_gpu_ambiguous",
                         params={"name": echo(run.gpu_name), "gpus": ", ".join(found)})
    if not found:
        raise BenchError(f"the benchmark ran on '{run.gpu_name}', which is not one catalog "
                         f"GPU: give the GPU it ran on", code="bench_gpu_unknown",
                         params={"name": echo(run.gpu_name)})
    return found[0]


def _unused(fields: dict, reason: Notice) -> BenchComparison:
    """A row shown beside the others but left out of the factors, and why."""
    return BenchComparison(**fields, note=reason.text, reason=reason)


def compare_row(row: BenchRow, catalog: Catalog, *, gpu: str, gpu_count: int = 1,
                model: str | None = None, params_b: float | None = None,
                quant: str | None = None) -> BenchComparison:
    """One row next to the prediction for its scenario (or the reason there is none)."""
    base = {"line": row.line, "test": row.test, "benchmark_model": row.model,
            "metric": row.metric, "measured_tokens_per_s": row.tokens_per_s}
    data, why = scenario_for(row, catalog, gpu=gpu, gpu_count=gpu_count, model=model,
                             params_b=params_b, quant=quant)
    if data is None:
        return _unused(base, why or Notice("bench_row_no_prediction", "no prediction"))
    described = {"model": data.get("model"), "params_b": data.get("params_b"),
                 "quant": data["quant"], "runtime": data["runtime"],
                 "prompt_tokens": data["prompt_tokens"], "new_tokens": data["new_tokens"]}
    try:
        result = estimate(parse_request(data), catalog)
    except UserError as exc:
        return _unused(base | described, Notice(exc.code, str(exc), **exc.params))
    if not result.memory.fits:
        return _unused(base | described, Notice(
            "bench_row_offloaded", "does not fit entirely on the GPU by RigFit's memory estimate"))
    speed = result.speed
    predicted = None
    if speed is not None:
        predicted = (speed.decode_tokens_per_s if row.metric == "decode"
                     else speed.prefill_tokens_per_s)
    if not predicted:
        unknown = [n for n in result.warnings if n.code.startswith("speed_unknown")]
        return _unused(base | described,
                       unknown[0] if unknown else Notice("bench_row_no_prediction", "no prediction"))
    return BenchComparison(**base, **described, predicted_tokens_per_s=predicted,
                           ratio=row.tokens_per_s / predicted, used=True)


def calibrate(run: BenchRun, catalog: Catalog, *, gpu: str | None = None,
              model: str | None = None, params_b: float | None = None,
              quant: str | None = None) -> BenchCalibration:
    """Decode and prefill factors from every comparable row of ``run``.

    ``gpu`` overrides the GPU the paste names (or gives it when the paste does
    not); ``model``, ``params_b`` and ``quant`` fill in an Ollama paste that
    does not say which model ran. Raises :class:`BenchError` when no row can
    be compared, naming each row's reason.
    """
    gpu_id = bench_gpu(run, catalog, gpu)
    count = run.gpu_count if gpu is None else 1
    rows = [compare_row(r, catalog, gpu=gpu_id, gpu_count=count, model=model,
                        params_b=params_b, quant=quant) for r in run.rows]
    used = [r for r in rows if r.used]
    if not used:
        reasons = "; ".join(f"line {r.line} ({r.test}): {r.note}" for r in rows[:6])
        more = f"; and {len(rows) - 6} more" if len(rows) > 6 else ""
        raise BenchError(f"no benchmark row could be compared with a prediction: {reasons}{more}",
                         code="bench_no_row",
                         params={"rows": len(rows),
                                 "lines": echo(", ".join(str(r.line) for r in rows), max_chars=200)})
    factors = {}
    for metric in ("decode", "prefill"):
        ratios = [r.ratio for r in used if r.metric == metric and r.ratio is not None]
        raw = statistics.median(ratios) if ratios else None
        factors[metric] = {"factor": clamp_factor(raw) if raw else 1.0, "raw": raw,
                           "rows": len(ratios)}
    return BenchCalibration(
        gpu=gpu_id, decode_factor=factors["decode"]["factor"],
        prefill_factor=factors["prefill"]["factor"], decode_rows=factors["decode"]["rows"],
        prefill_rows=factors["prefill"]["rows"], decode_raw_factor=factors["decode"]["raw"],
        prefill_raw_factor=factors["prefill"]["raw"], rows=rows)


__all__ = ["bench_gpu", "calibrate", "compare_row"]
