"""App speed: Configurator rerun time (server side) and cold start to healthy.

Targets: a warm Configurator rerun <= 300 ms; ``streamlit run app.py`` to a
200 from /_stcore/health <= 5 s.
"""

from __future__ import annotations

import statistics
import time

from streamlit.testing.v1 import AppTest

from benchmarks.serving import ROOT, free_port, start_server

RERUN_TARGET_S = 0.300
COLD_TARGET_S = 5.0


GPUS = ("rtx-3090", "rtx-4080", "rtx-5090", "rtx-a6000", "l40s", "h100-sxm", "rx-7900-xtx",
        "rtx-3060-12gb", "rtx-4060-ti-16gb", "a100-80gb-sxm", "rtx-5080")


def rerun_s() -> float:
    """Median time of a Configurator rerun after a change of GPU, nothing cached. [s]

    Each GPU is new to the cache, so every rerun computes the estimate, the fit
    searches and the table over all catalog GPUs.
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    times = []
    for gpu_id in GPUS:
        next(e for e in at.selectbox if e.key and e.key.endswith("_gpu")).set_value(gpu_id)
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    print(f"configurator rerun, slowest of {len(times)}: {max(times) * 1000:.0f} ms")
    return statistics.median(times)


def cold_start_s() -> float:
    """Seconds from launching ``streamlit run app.py`` to a healthy server. [s]"""
    port = free_port()
    start = time.perf_counter()
    server = start_server(port)
    elapsed = time.perf_counter() - start
    server.terminate()
    server.wait(timeout=10)
    return elapsed


def main() -> None:
    warm = rerun_s()
    print(f"configurator rerun (warm server, new scenario, median): {warm * 1000:.0f} ms "
          f"(target <= {RERUN_TARGET_S * 1000:.0f} ms) {'OK' if warm <= RERUN_TARGET_S else 'SLOW'}")
    cold = cold_start_s()
    print(f"cold start to healthy: {cold:.2f} s (target <= {COLD_TARGET_S:.0f} s) "
          f"{'OK' if cold <= COLD_TARGET_S else 'SLOW'}")


if __name__ == "__main__":
    main()
