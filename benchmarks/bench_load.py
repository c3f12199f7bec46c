"""Many users: N concurrent browser sessions on one local RigFit server.

Serves the app (``streamlit run app.py``, headless, a free port on 127.0.0.1)
and drives N sessions at once, each a Playwright browser context in one
Chromium, through the main path: open a link to a model, then change the GPU
in the sidebar a few times. Latency of one interaction = from the click on the
new GPU to the new answer on screen (the scenario heading naming that GPU and
a verdict under it). Reports p50/p95 and errors at N = 1, 5 and 20 and writes
docs/performance.md.

Traffic goes only to 127.0.0.1; every wait and loop is bounded.

    .venv/bin/python -m benchmarks.bench_load            # N = 1, 5, 20
    .venv/bin/python -m benchmarks.bench_load --users 1 5 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving
from catalog.catalog import load_catalog

REPORT = ROOT / "docs" / "performance.md"
INTERACTIONS = 5
WAIT_MS = 90_000  # one answer, at most
# Models and GPUs the sessions walk through: every session gets its own model,
# so most interactions are new scenarios for the server's caches.
MODELS = ("llama-3.1-8b", "qwen2.5-14b", "qwen2.5-7b", "llama-3.1-70b", "qwen2.5-32b",
          "mistral-7b-v0.3", "gemma-2-9b", "phi-3-mini-4k", "qwen3-8b", "llama-3.2-3b",
          "qwen2.5-72b", "gemma-2-27b", "qwen3-14b", "llama-3.3-70b", "qwen3-32b",
          "deepseek-r1-distill-llama-8b", "qwen2.5-3b", "llama-3.2-1b", "qwen3-4b", "glm-4-9b")
GPUS = ("rtx-3090", "rtx-5090", "h100-sxm", "rtx-4060-ti-16gb", "rtx-a6000", "rtx-3060-12gb",
        "l40s", "rtx-4080", "rx-7900-xtx", "a100-80gb-sxm")


@dataclass
class Round:
    users: int
    latencies_s: list[float] = field(default_factory=list)
    load_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0  # dropdowns reopened by the harness (not server errors)
    wall_s: float = 0.0

    def pct(self, q: float) -> float:
        values = sorted(self.latencies_s)
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


async def idle(page) -> None:
    """Wait until the page's last run finished (no running indicator)."""
    await page.wait_for_timeout(200)
    await page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=WAIT_MS)


async def pick_gpu(page, name: str, result: Round) -> float:
    """Open the GPU box, type ``name``, click it; the time of the click.

    A dropdown that closes under the pointer (the sidebar re-rendered) is a
    harness retry, counted apart from errors; three in a row raise.
    """
    for attempt in range(3):
        try:
            box = page.get_by_test_id("stSelectbox").filter(has_text="GPU").last
            await box.click(timeout=WAIT_MS)
            await page.keyboard.type(name)
            option = page.get_by_role("option", name=name, exact=True)
            await option.wait_for(timeout=10_000)
            clicked = time.perf_counter()
            await option.click(timeout=10_000)
            return clicked
        except Exception:
            if attempt == 2:
                raise
            result.retries += 1
            await page.keyboard.press("Escape")
            await idle(page)
    raise AssertionError("unreachable")


async def session(browser, base_url: str, index: int, names: dict[str, str], result: Round,
                  start: asyncio.Event) -> None:
    """One user: open a model's link, then change the GPU INTERACTIONS times."""
    model = MODELS[index % len(MODELS)]
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await start.wait()
    try:
        began = time.perf_counter()
        await page.goto(f"{base_url}/?model={model}&gpu=rtx-4090", timeout=WAIT_MS)
        await page.get_by_text(f"{names[model]} on {names['rtx-4090']}").first.wait_for(
            timeout=WAIT_MS)
        result.load_s.append(time.perf_counter() - began)
        for step in range(INTERACTIONS):
            gpu = GPUS[(index + step) % len(GPUS)]
            try:
                await idle(page)
                clicked = await pick_gpu(page, names[gpu], result)
                heading = page.get_by_text(f"{names[model]} on {names[gpu]}").first
                await heading.wait_for(timeout=WAIT_MS)
                verdict = page.locator("[data-testid^=stAlertContent]").first
                await verdict.wait_for(timeout=WAIT_MS)
                result.latencies_s.append(time.perf_counter() - clicked)
                if await page.get_by_test_id("stException").count():
                    result.errors.append(f"session {index}: exception shown after {gpu}")
            except Exception as exc:  # a timeout or a crash is a counted error, not a stop
                result.errors.append(f"session {index}, {gpu}: {type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0][:160]}")
    except Exception as exc:
        result.errors.append(f"session {index} load: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:160]}")
    finally:
        await context.close()


async def run_round(browser, base_url: str, users: int, names: dict[str, str]) -> Round:
    result = Round(users)
    start = asyncio.Event()
    tasks = [asyncio.create_task(session(browser, base_url, i, names, result, start))
             for i in range(users)]
    await asyncio.sleep(1.0)  # contexts created before the clock starts
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    result.wall_s = time.perf_counter() - began
    return result


async def measure(user_counts: list[int], base_url: str) -> tuple[list[Round], str]:
    from playwright.async_api import async_playwright

    cat = load_catalog()
    names = {m.id: m.name for m in cat.models} | {g.id: g.name for g in cat.gpus}
    rounds = []
    async with async_playwright() as play:
        browser = await play.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        version = browser.version
        await run_round(browser, base_url, 1, names)  # warm-up: imports, catalog, first paint
        for users in user_counts:
            rounds.append(await run_round(browser, base_url, users, names))
            r = rounds[-1]
            print(f"N={users:>2}: {len(r.latencies_s)} interactions, p50 {r.pct(0.5):.2f} s, "
                  f"p95 {r.pct(0.95):.2f} s, first answer p50 "
                  f"{statistics.median(r.load_s) if r.load_s else float('nan'):.2f} s, "
                  f"errors {len(r.errors)}, retries {r.retries}, wall {r.wall_s:.1f} s", flush=True)
            for error in r.errors[:5]:
                print("   ", error)
        await browser.close()
    return rounds, version


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import streamlit
    return (f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.platform()}, "
            f"Python {platform.python_version()}, Streamlit {streamlit.__version__}")


def write_report(rounds: list[Round], chromium: str, server_tracebacks: int) -> None:
    rows = "\n".join(
        f"| {r.users} | {len(r.latencies_s)} | {r.pct(0.5):.2f} | {r.pct(0.95):.2f} | "
        f"{max(r.latencies_s) if r.latencies_s else float('nan'):.2f} | "
        f"{statistics.median(r.load_s) if r.load_s else float('nan'):.2f} | {len(r.errors)} | "
        f"{r.retries} |"
        for r in rounds)
    REPORT.write_text(f"""# Performance under load

Measured by `benchmarks/bench_load.py` on {dt.date.today().isoformat()}.

**Machine:** {machine()}; Chromium {chromium}. The server, the browser and
every session share these cores: at N = 20 the browser's renderers compete
with the server for CPU, so the figures are an upper bound on what a user on
their own machine would wait.

## Method

- One `streamlit run app.py` (headless, file watcher off) on a free port of
  127.0.0.1; no traffic leaves the machine.
- N sessions at once, each its own Playwright browser context (own cookies,
  own websocket, own Streamlit session) in one Chromium.
- Every session opens a link to its own model (`/?model=…&gpu=rtx-4090`,
  N distinct models) and waits for the first answer, then changes the GPU
  in the sidebar {INTERACTIONS} times (type the name, click the option).
- **Interaction latency** is from the click on the option to the new answer
  on screen: the heading naming the model on the new GPU and the verdict
  under it. Each session walks a different GPU sequence, so most
  interactions are scenarios the server has not cached yet (estimate, fit
  search and the table over every catalog GPU are computed).
- **Errors**: an interaction that timed out ({WAIT_MS // 1000} s), failed, or
  left an exception on the page. Server tracebacks in its log:
  {server_tracebacks}.
- Before each interaction the session waits until its previous run has
  finished. **Retries**: a dropdown that closed before the click (the
  sidebar re-rendered under the pointer) is reopened, up to three times;
  that is the harness, not the server, and is counted apart.
- A warm-up session runs first (imports, catalog load); it is not counted.

## Results

| Sessions (N) | Interactions | p50 [s] | p95 [s] | max [s] | First answer p50 [s] | Errors | Retries |
|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}

Reproduce: `.venv/bin/python -m benchmarks.bench_load` (about two minutes).

## Reading the figures

Streamlit runs each session's script in its own thread; the engine is pure
Python, so one server process uses about one core for computation (the GIL),
and sessions that change inputs at the same moment queue behind each other.
The p95 at N = 20 is therefore roughly N times one rerun when everyone clicks
at once, which real users do not. To serve more people than one process
handles, run several replicas behind a load balancer with sticky sessions:
see [deploy.md](deploy.md).
""", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    log = Path(tempfile.mkstemp(prefix="rigfit-load-", suffix=".log")[1])
    with log.open("w") as handle, serving(log=handle) as base:
        rounds, chromium = asyncio.run(measure(args.users, base))
    tracebacks = log.read_text(errors="replace").count("Traceback")
    print(f"server tracebacks: {tracebacks} (log: {log})")
    if not args.no_write:
        write_report(rounds, chromium, tracebacks)
        print(f"wrote {REPORT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
