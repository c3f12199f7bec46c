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
CALIBRATION_CSV = DATA_DIR / "throughput.csv"
HOLDOUT_CSV = DATA_DIR / "holdout_throughput.csv"

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
    """Rows the model can express, and a reason for each row left out."""
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
            rows.append(Row(raw["source_url"], raw["gpu"], gpu[0], count, gpu[1], model, quant,
                            backend[0], backend[1], metric, prompt, new, float(raw["value"])))
    return rows, skipped
