"""Many users: N concurrent sessions on one local RigFit server.

Two measurements of the same path (open a link to a model, then change the GPU
in the sidebar a few times):

- **Server**: N sessions as ``AppTest`` instances, each in its own thread of
  one process, as Streamlit runs each session's script in a thread of one
  server. No browser shares the cores, so this is what the server itself
  answers. Latency = the rerun after a change of GPU. The sessions act all at
  once (the worst case), or each after think times drawn from a seeded
  exponential distribution (mean THINK_MEAN_S), as a team at work does.
- **Browser**: ``streamlit run app.py`` (headless, a free port on 127.0.0.1)
  and N Playwright browser contexts in one Chromium; latency = from the click
  on the new GPU to the new answer on screen (the scenario heading naming that
  GPU and a verdict under it). This is what a user feels, browser included.

Reports p50/p95 and errors, and writes its section of docs/performance.md.
Traffic goes only to 127.0.0.1; every wait and loop is bounded.

    .venv/bin/python -m benchmarks.bench_load            # server N = 1, 5, 20 at once and 20
                                                         # thinking; browser N = 1, 5
    .venv/bin/python -m benchmarks.bench_load --users --server-users 20 --arrival-users 20 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import platform
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.perf_doc import percentile, write_section
from benchmarks.serving import CHROMIUM, CHROMIUM_ARGS, ROOT, serving
from catalog.catalog import load_catalog

INTERACTIONS = 5
# How often a working user changes an input, for the sessions-per-core figure. [s]
ACTION_INTERVAL_S = 30.0
# Arrival round: before each action (the first answer included) a session waits a think
# time drawn from an exponential distribution with this mean, seeded per session, so the
# actions of many sessions arrive independently (a Poisson stream), as a team's do. [s]
THINK_MEAN_S = 10.0
THINK_SEED = 2026
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
    think_mean_s: float | None = None  # None: every session acts at the same instant
    latencies_s: list[float] = field(default_factory=list)
    load_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0  # dropdowns reopened by the harness (not server errors)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # the server process's CPU time over the round (server rounds)

    def pct(self, q: float) -> float:
        return percentile(self.latencies_s, q)

    def print_summary(self, kind: str, tail: str) -> None:
        print(f"{kind} N={self.users:>2}: {len(self.latencies_s)} interactions, p50 "
              f"{self.pct(0.5):.2f} s, p95 {self.pct(0.95):.2f} s, first answer p50 "
              f"{statistics.median(self.load_s) if self.load_s else float('nan'):.2f} s, "
              f"errors {len(self.errors)}, {tail}", flush=True)
        for error in self.errors[:5]:
            print("   ", error)


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
            r.print_summary("browser", f"retries {r.retries}, wall {r.wall_s:.1f} s")
        await browser.close()
    return rounds, version


def think_times_s(index: int, mean_s: float, *, seed: int = THINK_SEED) -> list[float]:
    """Session ``index``'s waits before each of its actions (the first answer, then each
    change): exponential with mean ``mean_s``, the same on every run of a seed. [s]"""
    draw = random.Random(seed * 1_000 + index)
    return [draw.expovariate(1.0 / mean_s) for _ in range(INTERACTIONS + 1)]


def server_session(index: int, result: Round, start: threading.Barrier, lock: threading.Lock
                   ) -> None:
    """One user as an AppTest: open a model's link, then change the GPU INTERACTIONS times,
    each action at once or after a think time (``result.think_mean_s``)."""
    from streamlit.testing.v1 import AppTest

    model = MODELS[index % len(MODELS)]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=WAIT_MS / 1000)
    at.query_params["model"] = model
    at.query_params["gpu"] = "rtx-4090"
    waits = ([0.0] * (INTERACTIONS + 1) if result.think_mean_s is None
             else think_times_s(index, result.think_mean_s))
    start.wait()
    try:
        time.sleep(waits[0])
        began = time.perf_counter()
        at.run()
        with lock:
            result.load_s.append(time.perf_counter() - began)
        for step in range(INTERACTIONS):
            gpu = GPUS[(index + step) % len(GPUS)]
            next(e for e in at.selectbox if e.key and e.key.endswith("_gpu")).set_value(gpu)
            time.sleep(waits[step + 1])
            began = time.perf_counter()
            at.run()
            with lock:
                result.latencies_s.append(time.perf_counter() - began)
                if at.exception:
                    result.errors.append(f"session {index}: exception after {gpu}")
    except Exception as exc:  # a timeout or a crash is a counted error, not a stop
        with lock:
            result.errors.append(f"session {index}: {type(exc).__name__}: "
                                 f"{str(exc).splitlines()[0][:160] if str(exc) else ''}")


def share_like_a_server() -> None:
    """Let AppTest sessions run in threads at once, sharing what a server shares.

    Each ``AppTest.run`` installs a mock Runtime and sets it back to None when
    its run ends, while other sessions' scripts may still be running and ask
    for it; the harness hands them the last one installed instead (a real
    server has one Runtime for every session). Each run also makes a new
    script cache (two: the pages' and the script runner's), so every run would
    compile the scripts again (and Python 3.11's compiler is not safe to run in
    several threads at once); a server compiles each script once, so the
    sessions share one cache. And each run switches Streamlit's "pages folder"
    mode back on, in which the chosen page's file runs first and, finding no
    frame, runs ``app.py`` (compiled again by runpy) around itself; a server
    leaves that mode for good on its first run, when ``app.py`` calls
    ``st.navigation``, so here it stays off too. Last, each run switches
    Streamlit's "app test" option on and back off by swapping a global
    function, so a run that ends first switches it off under the others, which
    then keep no widget details for the harness; here it is on for the process.
    """
    from streamlit import config
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner
    from streamlit.testing.v1.util import build_mock_config_get_option

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared
    config.get_option = build_mock_config_get_option({"global.appTest": True})
    app_test.patch_config_options = lambda _overrides: contextlib.nullcontext()

    class NavigationOnly(PagesManager):
        """What the script runner reads the mode from: off, whatever AppTest sets."""

        uses_pages_directory = False

    script_runner.PagesManager = NavigationOnly

    last: list[Runtime] = []

    def instance(cls) -> Runtime:
        if cls._instance is not None:
            last[:] = [cls._instance]
            return cls._instance
        if not last:
            raise RuntimeError("Runtime hasn't been created!")
        return last[0]

    Runtime.instance = classmethod(instance)


def server_round(users: int, think_mean_s: float | None = None) -> Round:
    """N AppTest sessions, each in its own thread of this process: acting all at the same
    instant, or each after its own think times of mean ``think_mean_s``."""
    result, lock = Round(users, think_mean_s), threading.Lock()
    start = threading.Barrier(users + 1)
    threads = [threading.Thread(target=server_session, args=(i, result, start, lock))
               for i in range(users)]
    for thread in threads:
        thread.start()
    began, cpu = time.perf_counter(), time.process_time()
    start.wait()
    for thread in threads:
        thread.join()
    result.wall_s = time.perf_counter() - began
    result.cpu_s = time.process_time() - cpu
    return result


def measure_server(user_counts: list[int], arrival_counts: list[int] | None = None,
                   think_mean_s: float = THINK_MEAN_S) -> list[Round]:
    """Rounds of sessions acting at once (``user_counts``), then rounds acting after
    think times (``arrival_counts``)."""
    share_like_a_server()
    server_round(1)  # warm-up: imports, catalog, first run of every module
    rounds = []
    plan = [(n, None) for n in user_counts] + [(n, think_mean_s) for n in arrival_counts or []]
    for users, think in plan:
        rounds.append(server_round(users, think))
        r = rounds[-1]
        kind = "server at once" if think is None else f"server, think {think:g} s"
        r.print_summary(kind, f"wall {r.wall_s:.1f} s, CPU {r.cpu_s:.1f} s, "
                              f"CPU busy {r.cpu_s / r.wall_s:.0%}")
    return rounds


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


def _actions(r: Round) -> int:
    return len(r.latencies_s) + len(r.load_s)


def _rows(rounds: list[Round], *, retries: bool) -> str:
    return "\n".join(
        f"| {r.users} | {len(r.latencies_s)} | {r.pct(0.5):.2f} | {r.pct(0.95):.2f} | "
        f"{max(r.latencies_s) if r.latencies_s else float('nan'):.2f} | "
        f"{statistics.median(r.load_s) if r.load_s else float('nan'):.2f} | {len(r.errors)} |"
        + (f" {r.retries} |" if retries else
           f" {r.cpu_s / max(1, _actions(r)) * 1000:,.0f} |")
        for r in rounds)


ARRIVAL_HEADER = ("| Sessions | Mean think [s] | Interactions | p50 [s] | p95 [s] | max [s] "
                  "| First answer p95 [s] | Errors | CPU/action [ms] | CPU busy |\n"
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")


def _arrival_rows(rounds: list[Round]) -> str:
    return "\n".join(
        f"| {r.users} | {r.think_mean_s:g} | {len(r.latencies_s)} | {r.pct(0.5):.2f} | "
        f"{r.pct(0.95):.2f} | {max(r.latencies_s) if r.latencies_s else float('nan'):.2f} | "
        f"{percentile(r.load_s, 0.95):.2f} | {len(r.errors)} | "
        f"{r.cpu_s / max(1, _actions(r)) * 1000:,.0f} | {r.cpu_s / r.wall_s:.0%} |"
        for r in rounds)


def sessions_per_core(rounds: list[Round]) -> tuple[float, float]:
    """CPU per session action and the sessions one core serves at one action every
    ACTION_INTERVAL_S, from the largest arrival round (else the largest round): sessions
    acting at once also pay for contending for the interpreter lock. [s, sessions]"""
    arrivals = [r for r in rounds if r.think_mean_s is not None] or rounds
    r = max(arrivals, key=lambda r: r.users)
    per_action_s = r.cpu_s / max(1, _actions(r))
    return per_action_s, ACTION_INTERVAL_S / per_action_s


def write_report(server: list[Round], browser: list[Round], chromium: str,
                 server_tracebacks: int) -> None:
    per_action_s, per_core = sessions_per_core(server) if server else (float("nan"),) * 2
    at_once = [r for r in server if r.think_mean_s is None]
    arrivals = [r for r in server if r.think_mean_s is not None]
    think = arrivals[0].think_mean_s if arrivals else THINK_MEAN_S
    load_1m = os.getloadavg()[0]
    errors = "".join(f"\n- N = {r.users}{'' if r.think_mean_s is None else ', think time'}: `{e}`"
                     for r in server for e in r.errors[:5])
    if errors:
        errors = "\n\nServer-round errors, as the harness caught them:" + errors
    write_section("bench_load", f"""## Many users

Measured by `benchmarks/bench_load.py` on {dt.date.today().isoformat()}.

**Machine:** {machine()}; Chromium {chromium}.
Load average when written: {load_1m:.1f} (other jobs shared the cores, so the
wall-clock figures include waiting for a core; the CPU figures do not).

### Method

- Every session opens a link to its own model (`/?model=…&gpu=rtx-4090`,
  distinct models) and waits for the first answer, then changes the GPU in
  the sidebar {INTERACTIONS} times. Each session walks a different GPU sequence, so most
  interactions are scenarios the server has not cached yet (estimate, fit
  search and the table over every catalog GPU are computed).
- **Server**: N sessions as `AppTest` instances, each in its own thread of one
  process, as Streamlit runs each session's script in a thread of one server
  process (the same caches, the same interpreter lock, one compiled copy of
  each script, `app.py`'s navigation). No browser competes for the cores.
  Latency is the script run after the change. Two arrival models:
  - **At once**, the worst case: every session opens its link at the same
    instant and clicks again the moment its answer arrives.
  - **Think time**, what a team produces: before each action (the first
    answer too) every session waits a think time drawn from an exponential
    distribution with mean {think:g} s (seeded, `random.Random({THINK_SEED} × 1000 +
    session)`), so the actions of the N sessions arrive as independent
    (Poisson) streams, N / {think:g} actions per second in all.
- **Browser**: one `streamlit run app.py` (headless, file watcher off) on
  127.0.0.1 and N Playwright browser contexts (own cookies, websocket and
  session) in one Chromium, every session at once. Latency is from the click
  on the option to the new answer on screen: the heading naming the model on
  the new GPU and the verdict under it. The browser's renderers share the
  cores with the server.
- **Errors**: an interaction that timed out ({WAIT_MS // 1000} s), failed, or
  left an exception on the page. Server tracebacks in the browser run's log:
  {server_tracebacks}. **Retries** (browser): a dropdown that closed before the
  click was reopened, up to three times; that is the harness, not the server.
- A warm-up session runs first (imports, catalog load); it is not counted.
  CPU is the server process's, every thread, over the round, divided by the
  actions (first answers and changes).

### Server, think time: a team at work

{ARRIVAL_HEADER}
{_arrival_rows(arrivals)}

"CPU busy" is the process's CPU time over the round's wall time: the share of
one core the round kept busy.

### Server, at once: the worst case

| Sessions | Interactions | p50 [s] | p95 [s] | max [s] | First answer p50 [s] | Errors | CPU/action [ms] |
|---:|---:|---:|---:|---:|---:|---:|---:|
{_rows(at_once, retries=False)}{errors}

### Browser: what a user waits for

| Sessions | Interactions | p50 [s] | p95 [s] | max [s] | First answer p50 [s] | Errors | Retries |
|---:|---:|---:|---:|---:|---:|---:|---:|
{_rows(browser, retries=True)}

Reproduce: `.venv/bin/python -m benchmarks.bench_load` (a few minutes).

### Sizing a server

Streamlit runs each session's script in its own thread; the engine is Python,
so one server process computes on about one core at a time (the GIL), and
sessions that act at the same moment queue behind each other: when everyone
clicks at once the last answer comes after about N times one action's CPU.
Sessions that think between clicks rarely collide. One action (a first
answer or a change of GPU) costs {per_action_s * 1000:,.0f} ms of CPU in the largest
think-time round, so one core keeps up with about **{per_core:,.0f} sessions** that act
once every {ACTION_INTERVAL_S:.0f} s, at full use. To serve more, run one replica per
core behind a load balancer with sticky sessions: see [deploy.md](deploy.md).""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="*", default=[1, 5],
                        help="browser sessions per round")
    parser.add_argument("--server-users", type=int, nargs="*", default=[1, 5, 20],
                        help="AppTest sessions per round, all acting at once")
    parser.add_argument("--arrival-users", type=int, nargs="*", default=[20],
                        help="AppTest sessions per round, each after its own think times")
    parser.add_argument("--think-mean-s", type=float, default=THINK_MEAN_S,
                        help="mean think time before each action in the arrival rounds [s]")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    server = (measure_server(args.server_users, args.arrival_users, args.think_mean_s)
              if args.server_users or args.arrival_users else [])
    browser, chromium, tracebacks = [], "not run", 0
    if args.users:
        log = Path(tempfile.mkstemp(prefix="rigfit-load-", suffix=".log")[1])
        with log.open("w") as handle, serving(log=handle) as base:
            browser, chromium = asyncio.run(measure(args.users, base))
        tracebacks = log.read_text(errors="replace").count("Traceback")
        print(f"server tracebacks: {tracebacks} (log: {log})")
    if not args.no_write:
        write_report(server, browser, chromium, tracebacks)
        print("wrote docs/performance.md (many users)")


if __name__ == "__main__":
    main()
