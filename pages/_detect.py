"""The local GPUs: read through NVML (optional pynvml) or nvidia-smi on the server,
or from nvidia-smi's pasted output.

The parsing and matching are pure; only :func:`detected_gpus` runs the
command, at most once every ten minutes per server process. A pasted line that
is not ``name, memory MiB`` is kept with its number for the page to name, and
the lines that can be read are still used.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import streamlit as st

from catalog.schema import Gpu
from pages._engine import catalog
from sizing.request import MAX_GPUS
from sizing.units import bytes_to_mib, gib_to_bytes

SMI_COMMAND = ("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv")
MAX_MEMORY_GIB = 4096.0  # above any machine's memory; the GPU's own sizes are checked later
MAX_NAME_CHARS = 100
# nvidia-smi's memory.total column: "24564 MiB" (or "24564" with --format=csv,nounits),
# or one of its placeholders for a value it cannot read, read here as "not given"
# (https://docs.nvidia.com/deploy/nvidia-smi/index.html).
_MEMORY = re.compile(r"^(\d{1,9}(?:\.\d{1,6})?)\s*(?:mib)?$", re.IGNORECASE)
_UNKNOWN_MEMORY = ("[n/a]", "n/a", "[not supported]")
# Words that say nothing about which card it is.
_DROP_TOKENS = {"nvidia", "geforce", "graphics", "amd", "gpu", "gb", "generation"}


def _tokens(name: str) -> tuple[str, ...]:
    words = re.findall(r"[a-z0-9]+", name.lower())
    return tuple(w for w in words if w not in _DROP_TOKENS and not re.fullmatch(r"\d+gb", w))


@dataclass(frozen=True)
class SmiPaste:
    """What nvidia-smi CSV output holds: the GPUs read, and the lines that could not be."""

    gpus: tuple[tuple[str, float], ...]  # (name, memory [MiB]; 0: not given), at most MAX_GPUS
    bad_lines: tuple[tuple[int, str], ...]  # (line number from 1, the line as written)


def _smi_line(line: str) -> tuple[str, float] | None:
    """(name, MiB) of one line, or None when it is not ``name[, memory[ MiB]]``."""
    name, comma, memory = line.rpartition(",")
    if not comma:  # a name alone (memory not asked for)
        return line[:MAX_NAME_CHARS], 0.0
    name, memory = name.strip(), memory.strip()
    if not name:
        return None
    if memory.lower() in _UNKNOWN_MEMORY:
        return name[:MAX_NAME_CHARS], 0.0
    match = _MEMORY.match(memory)
    if match is None:
        return None
    mib = float(match.group(1))
    if mib > bytes_to_mib(gib_to_bytes(MAX_MEMORY_GIB)):
        return None
    return name[:MAX_NAME_CHARS], mib


def read_nvidia_smi_csv(text: str) -> SmiPaste:
    """The GPUs in ``nvidia-smi --query-gpu=name,memory.total --format=csv`` output.

    Never raises: a line that is not ``name, memory MiB`` (a memory such as
    "1.2.3 MiB", a line with no name) is returned in ``bad_lines``; the header
    and blank lines are skipped.
    """
    gpus: list[tuple[str, float]] = []
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(str(text).splitlines(), start=1):
        line = raw.strip()
        if not line or line.lower().startswith("name"):
            continue
        read = _smi_line(line)
        if read is None:
            bad.append((number, line))
        else:
            gpus.append(read)
    return SmiPaste(gpus=tuple(gpus[:MAX_GPUS]), bad_lines=tuple(bad))


def parse_nvidia_smi_csv(text: str) -> list[tuple[str, float]]:
    """(name, memory MiB) per GPU read from nvidia-smi CSV output (lines it cannot read left out)."""
    return list(read_nvidia_smi_csv(text).gpus)


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
    return match_all(read_nvidia_smi_csv(text))


def match_all(paste: SmiPaste) -> list[tuple[str, float, str | None]]:
    """(name, MiB, catalog id or None) per GPU read."""
    gpus = catalog().gpus
    return [(n, m, match_gpu_id(n, m, gpus)) for n, m in paste.gpus]


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


def read_nvml(nvml: Any = None) -> tuple[tuple[str, float], ...]:
    """(name, memory MiB) per GPU from NVML, through nvidia-ml-py's ``pynvml``.

    ``pynvml`` is optional: without it, or without an NVIDIA driver, this is
    empty and the page falls back to nvidia-smi or its pasted output. Only
    NVML's own errors are caught (``pynvml.NVMLError``); ``nvml`` stands in
    for the module in tests.
    """
    if nvml is None:
        try:
            import pynvml as nvml  # noqa: PLC0415 - optional: the app runs without it
        except ImportError:
            return ()
    try:
        nvml.nvmlInit()
    except nvml.NVMLError:
        return ()
    try:
        found = []
        for index in range(min(nvml.nvmlDeviceGetCount(), MAX_GPUS)):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = nvml.nvmlDeviceGetName(handle)
            name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
            total = nvml.nvmlDeviceGetMemoryInfo(handle).total  # [B]
            found.append((name.strip()[:MAX_NAME_CHARS], bytes_to_mib(float(total))))
        return tuple(found)
    except nvml.NVMLError:
        return ()
    finally:
        try:
            nvml.nvmlShutdown()
        except nvml.NVMLError:
            pass


@st.cache_resource(ttl=600)
def _nvml_gpus() -> tuple[tuple[str, float], ...]:
    return read_nvml()


def detected_gpus() -> list[tuple[str, float, str | None]]:
    """This server's GPUs as (name, MiB, catalog id or None): NVML where pynvml and a
    driver are present, else nvidia-smi's output."""
    found = _nvml_gpus()
    if found:
        return match_all(SmiPaste(gpus=found, bad_lines=()))
    return matched_gpus(_nvidia_smi_output())


def detected_gpu_id() -> str | None:
    """The catalog id of this server's first recognised GPU, if any."""
    found = [gid for _, _, gid in detected_gpus() if gid]
    return found[0] if found else None
