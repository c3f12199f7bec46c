"""The local GPUs: read from nvidia-smi on the server, or from its pasted output.

The parsing and matching are pure; only :func:`detected_gpus` runs the
command, at most once every ten minutes per server process.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import streamlit as st

from catalog.schema import Gpu
from pages._engine import catalog
from sizing.request import MAX_GPUS

SMI_COMMAND = ("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv")
# Words that say nothing about which card it is.
_DROP_TOKENS = {"nvidia", "geforce", "graphics", "amd", "gpu", "gb", "generation"}


def _tokens(name: str) -> tuple[str, ...]:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return tuple(w for w in words if w not in _DROP_TOKENS and not re.fullmatch(r"\d+gb", w))


def parse_nvidia_smi_csv(text: str) -> list[tuple[str, float]]:
    """(name, memory MiB) per GPU from ``nvidia-smi --query-gpu=name,memory.total --format=csv``."""
    gpus = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.lower().startswith("name"):
            continue
        name, _, memory = line.rpartition(",")
        if not name:
            name, memory = line, ""
        match = re.search(r"([\d.]+)", memory)
        gpus.append((name.strip()[:100], float(match.group(1)) if match else 0.0))
    return gpus[:MAX_GPUS]


def match_gpu_id(name: str, memory_mib: float, gpus: tuple[Gpu, ...]) -> str | None:
    """The catalog GPU whose name matches ``name`` best; memory breaks ties."""
    want = set(_tokens(name))
    if not want:
        return None
    best: tuple[float, ...] | None = None
    best_id = None
    for gpu in gpus:
        have = set(_tokens(gpu.name))
        if not have or not (have <= want or want <= have):
            continue
        memory_gap = abs(gpu.memory_gib * 1024 - memory_mib) if memory_mib else 0.0
        score = (len(have & want), -len(have ^ want), -memory_gap)
        if best is None or score > best:
            best, best_id = score, gpu.id
    return best_id


def matched_gpus(text: str) -> list[tuple[str, float, str | None]]:
    """(name, MiB, catalog id or None) per GPU listed in nvidia-smi CSV output."""
    gpus = catalog().gpus
    return [(n, m, match_gpu_id(n, m, gpus)) for n, m in parse_nvidia_smi_csv(text)]


@st.cache_resource(ttl=600)
def _nvidia_smi_output() -> str:
    if shutil.which(SMI_COMMAND[0]) is None:
        return ""
    try:
        done = subprocess.run(list(SMI_COMMAND), capture_output=True, text=True, timeout=5,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout if done.returncode == 0 else ""


def detected_gpus() -> list[tuple[str, float, str | None]]:
    """This server's GPUs as (name, MiB, catalog id or None)."""
    return matched_gpus(_nvidia_smi_output())


def detected_gpu_id() -> str | None:
    """The catalog id of this server's first recognised GPU, if any."""
    found = [gid for _, _, gid in detected_gpus() if gid]
    return found[0] if found else None
