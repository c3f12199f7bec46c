"""Memory and time of refusing hostile files and input on the command line (target < 200 MB).

Runs ``rigfit estimate`` in a child process on each hostile input, reads the
child's peak resident memory from ``os.wait4`` (its own ``ru_maxrss``, not the
parent's), its exit status and its wall time, and prints one row each:

- ``--requests`` and ``--hf-config`` on a 1 GiB sparse file (a file that size,
  taking no disk) and on ``/dev/zero`` (endless bytes): each must exit 2
  without reading more than the file limit;
- a JSONL line naming a 15 MiB model id: that line is refused with a cut echo,
  so its error line stays short (a command-line argument cannot be that long);
- ``rigfit gpus`` as the baseline: the interpreter and the catalog alone.

Run: ``.venv/bin/python -m benchmarks.bench_hardening``. The target is a peak
under 200 MB for every refused input, exit status 2 for the refused files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sizing.units import bytes_to_mib, mib_to_bytes

ROOT = Path(__file__).resolve().parent.parent
TARGET_RSS_MB = 200.0
KIB = 1024  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class Run:
    name: str
    code: int
    peak_rss_mb: float  # decimal MB, as the target is stated
    wall_s: float
    output_chars: int  # stdout and stderr together


def run_child(name: str, argv: list[str], folder: Path) -> Run:
    """Run ``python -m rigfit ARGV``: exit status, peak RSS [MB], wall time [s], output size."""
    out_path = folder / "out.txt"
    with out_path.open("wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "rigfit", *argv], cwd=ROOT,
                                 stdout=out, stderr=out)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
        wall_s = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    chars = len(out_path.read_bytes())
    return Run(name, child.returncode, usage.ru_maxrss * KIB / 1e6, wall_s, chars)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        sparse = Path(folder) / "big.jsonl"
        with sparse.open("wb") as handle:
            handle.truncate(int(mib_to_bytes(1024)))  # 1 GiB of zeros that take no disk
        # A command-line argument is at most 128 KiB on Linux, so the long id goes in a
        # JSONL line (just under the requests file's limit): its error line must stay short.
        long_id = Path(folder) / "long_id.jsonl"
        long_id.write_text('{"model": "' + "x" * int(mib_to_bytes(15)) + '"}\n')
        home = Path(folder)
        runs = [
            run_child("baseline: rigfit gpus", ["gpus"], home),
            run_child("--requests 1 GiB file", ["estimate", "--requests", str(sparse)], home),
            run_child("--requests /dev/zero", ["estimate", "--requests", "/dev/zero"], home),
            run_child("--hf-config 1 GiB file", ["estimate", "--hf-config", str(sparse)], home),
            run_child("--hf-config /dev/zero", ["estimate", "--hf-config", "/dev/zero"], home),
            run_child("JSONL line, 15 MiB id", ["estimate", "--requests", str(long_id)], home),
        ]
    print(f"{'input':<26} {'exit':>4} {'peak RSS MB':>12} {'wall s':>7} {'output chars':>13}")
    failed = []
    for r in runs:
        print(f"{r.name:<26} {r.code:>4} {r.peak_rss_mb:>12.0f} {r.wall_s:>7.2f} "
              f"{r.output_chars:>13,}")
        # A refused file exits 2; a bad JSONL line costs only its line (exit 0).
        expected = 0 if r.name.startswith(("baseline", "JSONL")) else 2
        over = not r.name.startswith("baseline") and r.peak_rss_mb >= TARGET_RSS_MB
        if r.code != expected or over:
            failed.append(r.name)
    print(f"target: exit 2 (0 for the JSONL line) and peak RSS < {TARGET_RSS_MB:.0f} MB "
          f"for every hostile input "
          f"({bytes_to_mib(TARGET_RSS_MB * 1e6):.0f} MiB): "
          + ("met" if not failed else "NOT met for " + ", ".join(failed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
