"""Fit the speed model's constants on published llama.cpp measurements, and cross-validate them.

Reads ``benchmarks/data/throughput.csv`` (builds of 2023-24) and
``benchmarks/data/throughput_current.csv`` (builds of 2025-26), turns each row
into the engine's feature vector (``sizing/speed.py``) and solves a robust
non-negative least-squares problem on relative time error. Constants are keyed
by API, quant kind, memory family, build era and flash attention, never by GPU
(``sizing.speed.coefficient_keys``).

The error bands come from out-of-sample residuals: every row is predicted by
a fit that never saw its GPU (leave-one-GPU-out) and by one that never saw its
source (leave-one-source-out); a band is the 5th-95th percentile of those
measured/predicted ratios, per API and metric. Coverage is reported nested:
each row against a band built from the other GPUs' out-of-sample ratios.

Writes ``catalog/speed_calibration.yaml`` and prints in-sample and
cross-validated errors against the targets.

    .venv/bin/python -m benchmarks.calibrate
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import yaml

from benchmarks.calibration_rows import (CALIBRATION_CSV, CURRENT_CSV, ROOT, Row,
                                         read_calibration_rows)
from catalog.catalog import load_catalog
from sizing.speed import (DECODE_FEATURES, PREFILL_FEATURES, bandwidth_bytes_per_s,
                          coefficient_keys, compute_flops_per_s, decode_features, memory_class,
                          pipeline_factor, prefill_features, resolve_constants, weighted_time_s,
                          workload)

OUT = ROOT / "catalog" / "speed_calibration.yaml"

BAND_QUANTILES = (0.05, 0.95)
PIPELINE_GRID = [i / 10 for i in range(11)]
HUBER_LOG_RATIO = 0.10  # residuals beyond 10 % count linearly, not squared
IRLS_ITERATIONS = 20
METRICS = ("decode", "prefill")
# Physical floors of the coefficients. Weights cannot stream faster than the
# datasheet bandwidth (>= 1). Prompt matmuls cannot beat the dense fp16 peak
# the compute feature divides by, except through int8 tensor cores at twice
# that rate (MMQ kernels on quantized weights), hence >= 0.5. Attention scores
# run as fp16 matmuls, flash attention or not, so they too take at least their
# FLOPs at peak (>= 1): without the floor, rows of 512-token prompts, where
# attention is a sliver, would let the fit price it at zero.
LOWER_BOUNDS = {"weights": 1.0, "compute": 0.5, "attention": 1.0}
# Targets on cross-validated (out-of-sample) errors, as the accuracy report states them.
TARGETS = {"decode_median_pct": 8.0, "decode_p90_pct": 20.0, "prefill_median_pct": 15.0,
           "coverage_frac": 0.85}

Coefficients = dict[str, dict[str, float]]


def row_keys(row: Row, cat) -> dict[str, str]:
    gpu = cat.gpu(row.gpu_id)
    return coefficient_keys(api=row.api, kind=cat.quant(row.quant_id).kind,
                            memory=memory_class(gpu), generation=gpu.architecture, era=row.era,
                            flash_attention=row.flash_attention)


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
                             bandwidth_bytes_per_s=bw, ubatch_tokens=row.ubatch_tokens)
    factor = pipeline_factor(prompt_tokens=row.prompt_tokens, gpu_count=row.gpu_count,
                             efficiency_frac=pipeline_efficiency_frac, ubatch_tokens=row.ubatch_tokens)
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


class Problem:
    """Rows of one metric with their features, computed once."""

    def __init__(self, rows: Sequence[Row], cat, metric: str, pipeline_efficiency_frac: float):
        self.metric = metric
        self.names = DECODE_FEATURES if metric == "decode" else PREFILL_FEATURES
        self.rows = [r for r in rows if r.metric == metric]
        self.keys = [row_keys(r, cat) for r in self.rows]
        self.features = [row_features(r, cat, pipeline_efficiency_frac) for r in self.rows]
        self.time_s = np.array([measured_time_s(r) for r in self.rows])

    def fit(self, mask: np.ndarray) -> Coefficients:
        """Coefficients fitted on the rows where ``mask`` is true.

        Iteratively reweighted least squares on relative error with a Huber
        weight, so a few anomalous measurements (e.g. an fp16 prefill run 10x
        slower than its siblings) do not drag every constant.
        """
        index = [i for i in range(len(self.rows)) if mask[i]]
        columns = sorted({(n, self.keys[i][n]) for i in index for n in self.names})
        where = {c: j for j, c in enumerate(columns)}
        a = np.zeros((len(index), len(columns)))
        for k, i in enumerate(index):
            for name in self.names:
                a[k, where[(name, self.keys[i][name])]] += self.features[i][name]
        t = self.time_s[index]
        floor = np.array([LOWER_BOUNDS.get(name, 0.0) for name, _ in columns])
        robust = np.ones(len(t))
        x = floor.copy()
        for _ in range(IRLS_ITERATIONS):
            weights = robust / t  # relative error, down-weighted outliers
            # x = floor + y with y >= 0: non-negative least squares on what the floor leaves
            x = floor + _nnls(a * weights[:, None], (t - a @ floor) * weights)
            log_ratio = np.abs(np.log(np.maximum(a @ x, 1e-12) / t))
            robust = np.where(log_ratio <= HUBER_LOG_RATIO, 1.0,
                              HUBER_LOG_RATIO / np.maximum(log_ratio, 1e-12))
        out: Coefficients = {n: {} for n in self.names}
        for (name, key), j in where.items():
            out[name][key] = float(x[j])
        return out


def predicted_time_s(row: Row, feats: dict[str, float], cat, decode: Coefficients,
                     prefill: Coefficients, pipeline: float) -> float:
    """The engine's time for a row, from these coefficients, through its own key resolution
    (an API without constants of its own falls back on its documented prior)."""
    fitted = {key.split("/")[0] for table in decode.values() for key in table}
    calibration = SimpleNamespace(
        decode=SimpleNamespace(coefficients=decode, api_bands={}, band_low_frac=1.0,
                               band_high_frac=1.0),
        prefill=SimpleNamespace(coefficients=prefill, api_bands={}, band_low_frac=1.0,
                                band_high_frac=1.0, pipeline_efficiency_frac=pipeline))
    constants = resolve_constants(
        calibration, api=row.api, kind=cat.quant(row.quant_id).kind,
        memory=memory_class(cat.gpu(row.gpu_id)), generation=cat.gpu(row.gpu_id).architecture,
        flash_attention=row.flash_attention,
        api_prior=None if row.api in fitted else cat.api_prior(row.api))
    table = constants.decode if row.metric == "decode" else constants.prefill
    if row.era != "2025":  # an older row is predicted with its own era's constants
        own = decode if row.metric == "decode" else prefill
        table = {**table, **{n: own[n][k] for n, k in row_keys(row, cat).items()
                             if k in own.get(n, {})}}
    return weighted_time_s(feats, table)


def ratios(problems: dict[str, Problem], cat, fits: dict[str, Coefficients], pipeline: float,
           mask: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Measured/predicted speed of the rows where ``mask`` is true (NaN elsewhere)."""
    out = {}
    for metric, problem in problems.items():
        r = np.full(len(problem.rows), np.nan)
        for i, row in enumerate(problem.rows):
            if mask[metric][i]:
                r[i] = predicted_time_s(row, problem.features[i], cat, fits["decode"],
                                        fits["prefill"], pipeline) / problem.time_s[i]
        out[metric] = r
    return out


def cross_validated(problems: dict[str, Problem], cat, pipeline: float,
                    group: Callable[[Row], str]) -> dict[str, np.ndarray]:
    """Each row's measured/predicted ratio from a fit without its group (its GPU or source)."""
    out = {m: np.full(len(p.rows), np.nan) for m, p in problems.items()}
    groups = sorted({group(r) for p in problems.values() for r in p.rows})
    for g in groups:
        held = {m: np.array([group(r) == g for r in p.rows]) for m, p in problems.items()}
        fits = {m: p.fit(~held[m]) for m, p in problems.items()}
        got = ratios(problems, cat, fits, pipeline, held)
        for m in problems:
            out[m][held[m]] = got[m][held[m]]
    return out


def errors_pct(ratio: np.ndarray) -> np.ndarray:
    """|predicted / measured - 1| in percent, as docs/accuracy.md states it."""
    return np.abs(1.0 / ratio - 1.0) * 100


def bands_by_api(rows: Sequence[Row], ratio: np.ndarray) -> dict[str, list[float]]:
    apis = np.array([r.api for r in rows])
    return {str(api): [round(float(np.quantile(ratio[apis == api], q)), 4) for q in BAND_QUANTILES]
            for api in sorted(set(apis))}


def nested_coverage(rows: Sequence[Row], ratio: np.ndarray) -> float:
    """Share of rows inside a band built from the other GPUs' out-of-sample ratios of their API."""
    inside = []
    apis = np.array([r.api for r in rows])
    gpus = np.array([r.gpu_id for r in rows])
    for i, row in enumerate(rows):
        others = ratio[(apis == row.api) & (gpus != row.gpu_id)]
        if len(others) < 5:
            others = ratio[gpus != row.gpu_id]
        low, high = np.quantile(others, BAND_QUANTILES)
        inside.append(low <= ratio[i] <= high)
    return float(np.mean(inside))


def summary(ratio: np.ndarray) -> dict[str, float]:
    err = errors_pct(ratio)
    return {"rows": int(len(ratio)), "median_abs_pct": round(float(np.median(err)), 2),
            "p90_abs_pct": round(float(np.percentile(err, 90)), 2)}


class CrossValidation:
    """The fit on every row, and every row's in-sample and out-of-sample ratios."""

    def __init__(self, cat) -> None:
        rows, self.skipped = read_calibration_rows()

        def in_sample_loss(e: float) -> float:
            p = Problem(rows, cat, "prefill", e)
            fit = p.fit(np.ones(len(p.rows), bool))
            a = np.array([weighted_time_s(f, {n: fit[n][k[n]] for n in p.names})
                          for f, k in zip(p.features, p.keys)])
            return float(np.median(np.abs(np.log(a / p.time_s))))

        # Pipeline efficiency of multi-GPU prefill: one scalar, chosen by grid search.
        self.pipeline = min(PIPELINE_GRID, key=in_sample_loss)
        self.problems = {m: Problem(rows, cat, m, self.pipeline) for m in METRICS}
        everything = {m: np.ones(len(p.rows), bool) for m, p in self.problems.items()}
        self.fits = {m: p.fit(everything[m]) for m, p in self.problems.items()}
        self.in_sample = ratios(self.problems, cat, self.fits, self.pipeline, everything)
        self.by_gpu = cross_validated(self.problems, cat, self.pipeline, lambda r: r.gpu_id)
        self.by_source = cross_validated(self.problems, cat, self.pipeline, lambda r: r.source)

    def rows(self, metric: str) -> list[Row]:
        return self.problems[metric].rows


def main() -> int:
    cat = load_catalog()
    cv = CrossValidation(cat)
    skipped, pipeline, problems, fits = cv.skipped, cv.pipeline, cv.problems, cv.fits
    in_sample, by_gpu, by_source = cv.in_sample, cv.by_gpu, cv.by_source

    out: dict = {
        "fitted_on": dt.date.today().isoformat(),
        "rows_file": ", ".join(p.relative_to(ROOT).as_posix() for p in (CALIBRATION_CSV, CURRENT_CSV)),
        "source": "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference",
        "rows_skipped": len(skipped),
        "method": ("robust (Huber) non-negative least squares on relative time error, keyed by API, "
                   "quant kind, memory family, build era and flash attention; band = "
                   f"{BAND_QUANTILES[0]:.0%}-{BAND_QUANTILES[1]:.0%} of out-of-sample "
                   "measured/predicted speed (leave-one-GPU-out and leave-one-source-out), per API"),
    }
    report = {}
    for metric in METRICS:
        rows_m = problems[metric].rows
        pooled_rows = [*rows_m, *rows_m]
        pooled = np.concatenate([by_gpu[metric], by_source[metric]])
        low, high = (float(np.quantile(pooled, q)) for q in BAND_QUANTILES)
        out[metric] = {
            "coefficients": fits[metric],
            "band_low_frac": round(low, 4),
            "band_high_frac": round(high, 4),
            "api_bands": bands_by_api(pooled_rows, pooled),
            "residuals": {**summary(in_sample[metric]),
                          "within_band_frac": round(nested_coverage(rows_m, by_gpu[metric]), 3)},
            "cross_validated": {
                "by_gpu": {**summary(by_gpu[metric]),
                           "within_band_frac": round(nested_coverage(rows_m, by_gpu[metric]), 3)},
                "by_source": summary(by_source[metric]),
            },
        }
        if metric == "prefill":
            out[metric]["pipeline_efficiency_frac"] = pipeline
        report[metric] = out[metric]
        cvs = out[metric]["cross_validated"]
        print(f"{metric:8} rows={len(rows_m):4}  in-sample median "
              f"{out[metric]['residuals']['median_abs_pct']:5.1f}% p90 "
              f"{out[metric]['residuals']['p90_abs_pct']:5.1f}%  | leave-one-GPU-out median "
              f"{cvs['by_gpu']['median_abs_pct']:5.1f}% p90 {cvs['by_gpu']['p90_abs_pct']:5.1f}% "
              f"coverage {cvs['by_gpu']['within_band_frac']:.0%}  | leave-one-source-out median "
              f"{cvs['by_source']['median_abs_pct']:5.1f}% p90 {cvs['by_source']['p90_abs_pct']:5.1f}%")
        for api, (lo, hi) in out[metric]["api_bands"].items():
            print(f"   band {api:7} [{lo:.3f}, {hi:.3f}]")
        for name, table in fits[metric].items():
            print(f"   {name:15} " + "  ".join(f"{k}={v:.4g}" for k, v in sorted(table.items())))
    d, p = report["decode"]["cross_validated"]["by_gpu"], report["prefill"]["cross_validated"]["by_gpu"]
    checks = [("decode median", d["median_abs_pct"], TARGETS["decode_median_pct"]),
              ("decode p90", d["p90_abs_pct"], TARGETS["decode_p90_pct"]),
              ("prefill median", p["median_abs_pct"], TARGETS["prefill_median_pct"])]
    for name, value, target in checks:
        print(f"target cross-validated {name} <= {target:g} %: {value:.1f} % "
              f"{'OK' if value <= target else 'MISSED'}")
    for metric, m in (("decode", d), ("prefill", p)):
        ok = m["within_band_frac"] >= TARGETS["coverage_frac"]
        print(f"target cross-validated {metric} coverage >= {TARGETS['coverage_frac']:.0%}: "
              f"{m['within_band_frac']:.0%} {'OK' if ok else 'MISSED'}")
    header = ("# Written by benchmarks/calibrate.py from the measurements in benchmarks/data/.\n"
              "# Speed-model constants fitted on published llama.cpp measurements.\n")
    OUT.write_text(header + yaml.safe_dump({"speed_calibration": out}, sort_keys=False),
                   encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT).as_posix()}; {len(skipped)} rows skipped")
    return 0 if all(math.isfinite(out[m]["band_low_frac"]) for m in METRICS) else 1


if __name__ == "__main__":
    sys.exit(main())
