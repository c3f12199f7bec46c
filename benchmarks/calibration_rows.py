"""Read the published throughput rows and turn each into a speed-model scenario.

Shared by ``calibrate.py`` (fit) and ``accuracy_report.py`` (scoring), so
both read the measurements identically. The GPU-label table maps the sources'
labels to catalog ids; it is data handling for the measurements, not part of
the engine.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(__file__).resolve().parent / "data"  # published measurements, see data/README.md
CALIBRATION_CSV = DATA_DIR / "throughput.csv"  # llama.cpp builds of 2023-24
CURRENT_CSV = DATA_DIR / "throughput_current.csv"  # llama.cpp builds of 2025-26
HOLDOUT_CSV = DATA_DIR / "holdout_throughput.csv"
# Build era of each calibration file (sizing.speed.ERAS).
ERA_OF = {CALIBRATION_CSV.name: "2023", CURRENT_CSV.name: "2025"}

GPU_LABELS = {
    "Apple M1 7-core GPU 8GB": ("apple-m1-7c", 8),
    "Apple M1 Max 24-core GPU 32GB": ("apple-m1-max-24c", 32),
    "Apple M1 Max 32-core GPU 64GB": ("apple-m1-max-32c", 64),
    "Apple M2 Ultra 76-core GPU 192GB": ("apple-m2-ultra-76c", 192),
    "Apple M3 10-core GPU 16GB": ("apple-m3-10c", 16),
    "Apple M3 Max 40-core GPU 48GB": ("apple-m3-max-40c", 48),
    "Apple M3 Max 40-core GPU 64GB": ("apple-m3-max-40c", 64),
    "NVIDIA A100 80GB": ("a100-80gb-pcie", None),  # source does not say PCIe or SXM
    "NVIDIA A100 PCIe 80GB": ("a100-80gb-pcie", None),
    "NVIDIA A100 SXM4 80GB": ("a100-80gb-sxm", None),
    "NVIDIA A40 48GB": ("a40", None),
    "NVIDIA GeForce RTX 3070 8GB": ("rtx-3070", None),
    "NVIDIA GeForce RTX 3080 10GB": ("rtx-3080-10gb", None),
    "NVIDIA GeForce RTX 3080 Ti 12GB": ("rtx-3080-ti", None),
    "NVIDIA GeForce RTX 3090 24GB": ("rtx-3090", None),
    "NVIDIA GeForce RTX 4070 Ti 12GB": ("rtx-4070-ti", None),
    "NVIDIA GeForce RTX 4080 16GB": ("rtx-4080", None),
    "NVIDIA GeForce RTX 4090 24GB": ("rtx-4090", None),
    "NVIDIA H100 PCIe 80GB": ("h100-pcie", None),
    "NVIDIA L40S 48GB": ("l40s", None),
    "NVIDIA RTX 4000 Ada 20GB": ("rtx-4000-ada", None),
    "NVIDIA RTX 5000 Ada 32GB": ("rtx-5000-ada", None),
    "NVIDIA RTX 6000 Ada 48GB": ("rtx-6000-ada", None),
    "NVIDIA RTX A6000 48GB": ("rtx-a6000", None),
    # Labels of the current-build scoreboard rows (throughput_current.csv).
    "NVIDIA Tesla T4 16GB": ("t4", None),
    "NVIDIA L40 48GB": ("l40", None),
    "NVIDIA RTX A4500 20GB": ("rtx-a4500", None),
    "NVIDIA GeForce RTX 2080 Ti 11GB": ("rtx-2080-ti", None),
    "NVIDIA GeForce RTX 3090 Ti 24GB": ("rtx-3090-ti", None),
    "NVIDIA GeForce RTX 4070 12GB": ("rtx-4070", None),
    "NVIDIA GeForce RTX 4070 SUPER 12GB": ("rtx-4070-super", None),
    "NVIDIA GeForce RTX 4070 Ti SUPER 16GB": ("rtx-4070-ti-super", None),
    "NVIDIA GeForce RTX 5070 12GB": ("rtx-5070", None),
    "NVIDIA GeForce RTX 5070 Ti 16GB": ("rtx-5070-ti", None),
    "NVIDIA GeForce RTX 5080 16GB": ("rtx-5080", None),
    "AMD Radeon RX 6800 XT 16GB": ("rx-6800-xt", None),
    "AMD Radeon RX 6900 XT 16GB": ("rx-6900-xt", None),
    "AMD Radeon RX 7800 XT 16GB": ("rx-7800-xt", None),
    "AMD Radeon RX 7900 GRE 16GB": ("rx-7900-gre", None),
    "AMD Ryzen AI Max+ 395 (Radeon 8060S iGPU)": ("radeon-8060s", None),
    "AMD Ryzen 8000-series iGPU": ("radeon-780m", None),
    "Intel Arc A770 16GB": ("arc-a770-16gb", None),
    "Intel Arc B570 10GB": ("arc-b570", None),
    "Intel Arc B580 12GB": ("arc-b580", None),
    "Apple M1 8-core GPU": ("apple-m1-8c", None),
    "Apple M2 Ultra 76-core GPU": ("apple-m2-ultra-76c", None),
    "Apple M3 10-core GPU": ("apple-m3-10c", None),
    "Apple M1 Pro 14-core GPU": ("apple-m1-pro-14c", None),
    "Apple M1 Pro 16-core GPU": ("apple-m1-pro-16c", None),
    "Apple M1 Ultra 48-core GPU": ("apple-m1-ultra-48c", None),
    "Apple M1 Ultra 64-core GPU": ("apple-m1-ultra-64c", None),
    "Apple M2 Pro 16-core GPU": ("apple-m2-pro-16c", None),
    "Apple M2 Max 30-core GPU": ("apple-m2-max-30c", None),
    "Apple M2 Max 38-core GPU": ("apple-m2-max-38c", None),
    "Apple M3 Pro 18-core GPU": ("apple-m3-pro-18c", None),
    "Apple M3 Max 30-core GPU": ("apple-m3-max-30c", None),
    "Apple M3 Ultra 60-core GPU": ("apple-m3-ultra-60c", None),
    "Apple M3 Ultra 80-core GPU": ("apple-m3-ultra-80c", None),
}

MODEL_LABELS = {
    "Meta-Llama-3-8B": "llama-3-8b", "Meta-Llama-3-70B": "llama-3-70b",
    "Llama-2-7B": "llama-2-7b", "Llama-2-13B": "llama-2-13b", "Llama-2-70B": "llama-2-70b",
    "Meta-Llama-3.1-8B": "llama-3.1-8b", "Llama-3.1-8B": "llama-3.1-8b",
    "Meta-Llama-3.1-70B": "llama-3.1-70b", "Qwen2.5-7B": "qwen2.5-7b", "Qwen2.5-14B": "qwen2.5-14b",
    "Qwen2.5-32B": "qwen2.5-32b", "Qwen2.5-Coder-7B": "qwen2.5-coder-7b",
    "Qwen3-30B-A3B": "qwen3-30b-a3b", "Qwen3-Coder-30B-A3B": "qwen3-coder-30b-a3b",
    "Qwen3-8B": "qwen3-8b", "Qwen3-32B": "qwen3-32b", "Qwen3-4B": "qwen3-4b",
    "gpt-oss-20b": "gpt-oss-20b", "gpt-oss-120b": "gpt-oss-120b", "Mistral-7B": "mistral-7b-v0.1",
    "Mistral-7B-v0.1": "mistral-7b-v0.1", "Mistral-7B-v0.3": "mistral-7b-v0.3",
    "Gemma-2-9B": "gemma-2-9b", "Phi-4": "phi-4",
    "DeepSeek-R1-Distill-Qwen-14B": "deepseek-r1-distill-qwen-14b",
}

BACKENDS = {"llama.cpp CUDA": ("llama.cpp", "cuda"), "llama.cpp Metal": ("llama.cpp", "metal"),
            "llama.cpp ROCm": ("llama.cpp", "rocm"), "llama.cpp HIP": ("llama.cpp", "rocm"),
            "llama.cpp Vulkan": ("llama.cpp-vulkan", "vulkan"),
            "llama.cpp SYCL": ("llama.cpp", "sycl")}

_COUNT = re.compile(r"^(.*) x(\d+)$")
_FLASH_ON = re.compile(r"flash-attn ON|-fa 1\b|-fa on\b", re.IGNORECASE)
_UBATCH = re.compile(r"-ub (\d+)")
_TEST = re.compile(r"^(tg|pp)(\d+)")


@dataclass(frozen=True)
class Row:
    source_url: str
    gpu_label: str
    gpu_id: str
    gpu_count: int
    memory_gib: float | None
    model_id: str
    quant_id: str
    runtime_id: str
    api: str
    metric: str  # decode | prefill
    prompt_tokens: int  # context before generation (decode) or prompt length (prefill)
    new_tokens: int
    value_tokens_per_s: float
    era: str = "2025"  # build era (sizing.speed.ERAS); estimates are for current builds
    flash_attention: bool = False
    ubatch_tokens: int = 512

    @property
    def source(self) -> str:
        """The publication a row comes from: repository or discussion, commit left out."""
        match = re.match(r"https://github\.com/([^/]+/[^/]+)(/discussions/\d+)?", self.source_url)
        return (match.group(1) + (match.group(2) or "")) if match else self.source_url


def run_settings(notes: str) -> tuple[bool, int]:
    """(flash attention on, micro-batch tokens) from a row's notes.

    >>> run_settings("llama-bench -ngl 99 -fa 1 -ub 2048"), run_settings("flash-attn OFF (-fa 0)")
    ((True, 2048), (False, 512))
    """
    match = _UBATCH.search(notes)
    return bool(_FLASH_ON.search(notes)), int(match.group(1)) if match else 512


def _parse_test(text: str, metric: str) -> tuple[int, int]:
    match = _TEST.match(text)
    if match:
        n = int(match.group(2))
        return (0, n) if match.group(1) == "tg" else (n, 0)
    numbers = [int(x) for x in re.findall(r"\d+", text)]
    if metric == "decode":
        # "generate 1024 tokens after a 494-token prompt (n_ctx 512)": context shifting keeps
        # the window between 256 and 512 tokens, so decode runs at about 384 tokens of context.
        if "n_ctx 512" in text:
            return 256, 256
        return (numbers[1] if len(numbers) > 1 else 0), numbers[0]
    return numbers[0], 0


def read_rows(path: Path = CALIBRATION_CSV) -> tuple[list[Row], list[str]]:
    """Rows of one calibration file the model can express, and a reason for each row left out."""
    era = ERA_OF[path.name]
    rows: list[Row] = []
    skipped: list[str] = []
    with open(path, encoding="utf-8") as handle:
        for raw in csv.DictReader(handle):
            label = raw["gpu"].strip()
            count = 1
            match = _COUNT.match(label)
            if match:
                label, count = match.group(1), int(match.group(2))
            gpu = GPU_LABELS.get(label)
            model = MODEL_LABELS.get(raw["model"].strip())
            backend = BACKENDS.get(raw["backend"].strip())
            quant = raw["quant"].split(" ")[0].strip().lower()
            if gpu is None or model is None or backend is None or int(raw["batch"] or 1) != 1:
                skipped.append(f"{raw['gpu']} / {raw['model']} / {raw['backend']}: not in catalog")
                continue
            metric = "decode" if raw["metric"].startswith("decode") else "prefill"
            prompt, new = _parse_test(raw["context_or_prompt"], metric)
            flash, ubatch = run_settings(raw["notes"])
            rows.append(Row(raw["source_url"], raw["gpu"], gpu[0], count, gpu[1], model, quant,
                            backend[0], backend[1], metric, prompt, new, float(raw["value"]),
                            era, flash, ubatch))
    return rows, skipped


def read_calibration_rows() -> tuple[list[Row], list[str]]:
    """Every calibration row, older and current builds together."""
    rows, skipped = read_rows(CALIBRATION_CSV)
    more, more_skipped = read_rows(CURRENT_CSV)
    return rows + more, skipped + more_skipped
