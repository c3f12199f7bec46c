"""Write one benchmark's section of docs/performance.md, leaving the others alone.

Each script owns the text between ``<!-- NAME -->`` and ``<!-- /NAME -->``;
a section not there yet is appended at the end.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def write_section(name: str, text: str, *, report: Path = REPORT) -> None:
    """Replace the section ``name`` of ``report`` with ``text`` (Markdown)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{text.strip()}\n{end}"
    current = report.read_text(encoding="utf-8") if report.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + block + "\n"
    report.write_text(updated, encoding="utf-8")


class Clock:
    """Wall and CPU time of a block: the CPU time is the process's, every thread. [s]"""

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall_s = time.perf_counter() - self._wall
        self.cpu_s = time.process_time() - self._cpu


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile of ``values`` (NaN for none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]
