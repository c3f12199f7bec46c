"""Fit the speed model's constants on published llama.cpp measurements.

Reads benchmarks/data/throughput.csv, turns each row into the engine's
feature vector (sizing/speed.py), and solves a non-negative least-squares
problem on relative time error. Each constant is keyed by API and quant kind
only, never by GPU. Writes catalog/speed_calibration.yaml with provenance and
prints the fit's residuals.

    .venv/bin/python -m benchmarks.calibrate
"""

from __future__ import annotations

import datetime as dt
import math
import sys

import numpy as np
import yaml

from benchmarks.calibration_rows import CALIBRATION_CSV, ROOT, Row, read_rows
from catalog.catalog import load_catalog
from sizing.speed import (DECODE_FEATURES, PREFILL_FEATURES, bandwidth_bytes_per_s,
                          coefficient_keys, compute_flops_per_s, decode_features,
                          memory_class, pipeline_factor, prefill_features, workload)

OUT = ROOT / "catalog" / "speed_calibration.yaml"

BAND_QUANTILES = (0.045, 0.955)
PIPELINE_GRID = [i / 20 for i in range(21)]
HUBER_LOG_RATIO = 0.10  # residuals beyond 10 % count linearly, not squared
IRLS_ITERATIONS = 20


def row_keys(row: Row, cat) -> dict[str, str]:
    gpu = cat.gpu(row.gpu_id)
    return coefficient_keys(api=row.api, kind=cat.quant(row.quant_id).kind,
                            memory=memory_class(gpu))


def row_features(row: Row, cat, pipeline_efficiency_frac: float = 1.0) -> dict[str, float]:
    """The engine's features for one measurement (time, not tokens/s)."""
    gpu, arch, quant = cat.gpu(row.gpu_id), cat.model(row.model_id), cat.quant(row.quant_id)
    runtime = cat.runtime(row.runtime_id)
    w = workload(arch, quant, prompt_tokens=row.prompt_tokens, new_tokens=max(row.new_tokens, 1),
                 kv_bytes_per_element=2.0, embeddings_on_host=runtime.embeddings_on_host)
    bw = bandwidth_bytes_per_s(gpu)
    if row.metric == "decode":
        return decode_features(w, bandwidth_bytes_per_s=bw, gpu_count=row.gpu_count)
    feats = prefill_features(w, prompt_tokens=row.prompt_tokens,
                             compute_flops_per_s=compute_flops_per_s(gpu, quant),
                             bandwidth_bytes_per_s=bw)
    factor = pipeline_factor(prompt_tokens=row.prompt_tokens, gpu_count=row.gpu_count,
                             efficiency_frac=pipeline_efficiency_frac)
    return {name: value * factor for name, value in feats.items()}


def measured_time_s(row: Row) -> float:
    """Seconds per decoded token, or seconds for the whole prompt."""
    if row.metric == "decode":
        return 1.0 / row.value_tokens_per_s
    return row.prompt_tokens / row.value_tokens_per_s


def _nnls(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least squares with non-negative coefficients (active-set, small problems)."""
    active = list(range(a.shape[1]))
    x = np.zeros(a.shape[1])
    while active:
        sol, *_ = np.linalg.lstsq(a[:, active], b, rcond=None)
        if (sol >= 0).all():
            x[:] = 0
            x[active] = sol
            return x
        active.pop(int(np.argmin(sol)))
    return x


def fit(rows: list[Row], cat, metric: str,
        pipeline_efficiency_frac: float = 1.0) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """Coefficients for one metric and each row's measured/predicted speed ratio.

    Iteratively reweighted least squares on relative error with a Huber
    weight, so a few anomalous measurements (e.g. an fp16 prefill run 10x
    slower than its siblings) do not drag every constant.
    """
    names = DECODE_FEATURES if metric == "decode" else PREFILL_FEATURES
    chosen = [r for r in rows if r.metric == metric]
    keys = {r: row_keys(r, cat) for r in chosen}
    columns = sorted({(n, keys[r][n]) for r in chosen for n in names})
    index = {c: i for i, c in enumerate(columns)}
    a = np.zeros((len(chosen), len(columns)))
    t = np.zeros(len(chosen))
    for i, row in enumerate(chosen):
        feats = row_features(row, cat, pipeline_efficiency_frac)
        for name in names:
            a[i, index[(name, keys[row][name])]] += feats[name]
        t[i] = measured_time_s(row)
    robust = np.ones(len(t))
    for _ in range(IRLS_ITERATIONS):
        weights = robust / t  # relative error, down-weighted outliers
        x = _nnls(a * weights[:, None], t * weights)
        log_ratio = np.abs(np.log(np.maximum(a @ x, 1e-12) / t))
        robust = np.where(log_ratio <= HUBER_LOG_RATIO, 1.0, HUBER_LOG_RATIO / np.maximum(log_ratio, 1e-12))
    coefficients: dict[str, dict[str, float]] = {n: {} for n in names}
    for (name, key), i in index.items():
        coefficients[name][key] = float(x[i])
    ratio = (a @ x) / t  # measured speed / predicted speed
    return coefficients, ratio


def summary(ratio: np.ndarray, band: tuple) -> dict[str, float]:
    err = np.abs(1.0 / ratio - 1.0) * 100  # |predicted / measured - 1|, as in docs/accuracy.md
    inside = ((ratio >= band[0]) & (ratio <= band[1])).mean()
    return {"rows": int(len(ratio)), "median_abs_pct": round(float(np.median(err)), 2),
            "p90_abs_pct": round(float(np.percentile(err, 90)), 2),
            "within_band_frac": round(float(inside), 3)}


def main() -> int:
    cat = load_catalog()
    rows, skipped = read_rows(CALIBRATION_CSV)
    out: dict = {
        "fitted_on": dt.date.today().isoformat(),
        "rows_file": CALIBRATION_CSV.relative_to(ROOT).as_posix(),
        "source": "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference",
        "rows_skipped": len(skipped),
        "method": ("robust (Huber) non-negative least squares on relative time error; band = "
                   "4.5th-95.5th percentile of measured/predicted speed, per API"),
    }
    # Pipeline efficiency of multi-GPU prefill: one scalar, chosen by grid search.
    def loss(e: float) -> float:
        return float(np.median(np.abs(np.log(fit(rows, cat, "prefill", e)[1]))))
    pipeline = min(PIPELINE_GRID, key=loss)
    for metric in ("decode", "prefill"):
        coefficients, ratio = fit(rows, cat, metric, pipeline)
        low, high = (float(np.quantile(ratio, q)) for q in BAND_QUANTILES)
        # Each API gets the band of its own residuals: Metal's spread is wider than CUDA's.
        apis = np.array([r.api for r in rows if r.metric == metric])
        api_bands = {str(api): [round(float(np.quantile(ratio[apis == api], q)), 4)
                           for q in BAND_QUANTILES] for api in sorted(set(apis))}
        low_each = np.array([api_bands[a][0] for a in apis])
        high_each = np.array([api_bands[a][1] for a in apis])
        out[metric] = {
            "coefficients": coefficients,
            "band_low_frac": round(low, 4),
            "band_high_frac": round(high, 4),
            "api_bands": api_bands,
            "residuals": summary(ratio, (low_each, high_each)),
        }
        if metric == "prefill":
            out[metric]["pipeline_efficiency_frac"] = pipeline
        res = out[metric]["residuals"]
        print(f"{metric:8} rows={res['rows']:4} median={res['median_abs_pct']:5.1f}% "
              f"p90={res['p90_abs_pct']:5.1f}% band=[{low:.3f}, {high:.3f}] "
              f"inside={res['within_band_frac']:.1%}")
        for name, table in coefficients.items():
            print(f"   {name:15} " + "  ".join(f"{k}={v:.4g}" for k, v in sorted(table.items())))
    header = ("# Written by benchmarks/calibrate.py; do not edit by hand.\n"
              "# Speed-model constants fitted on published llama.cpp measurements.\n")
    OUT.write_text(header + yaml.safe_dump({"speed_calibration": out}, sort_keys=False),
                   encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT).as_posix()}; {len(skipped)} rows skipped")
    return 0 if all(math.isfinite(out[m]["band_low_frac"]) for m in ("decode", "prefill")) else 1


if __name__ == "__main__":
    sys.exit(main())
