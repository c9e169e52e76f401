"""A workshop room on one dashboard server: N browser sessions (Chromium, 1280x720) press "Calculer"
on the snow dashboard at once, as the attendees of a workshop do.

Rows:
- ``one session alone``: the time from the click to the result drawn (the page says "Calcul
  terminé" and shows its map canvas), after a first run that warms the server (numba, catalogue);
- ``N sessions, same preset and area``: every session clicks within a second; identical requests
  share one computation (``terra_lab.dashboards._shared_runs``), so the time should stay near one
  session's, plus the rendering of N pages;
- ``N sessions, N different areas``: each session types its own area (west/south/east/north) and
  clicks; N computations run on the server's worker pool; all must complete without an error.

Each row prints the median, p95 and maximum times, p95 divided by the alone time (the target of
issue #14: <= 3x for the same preset), the errors seen on the pages, and the peak resident memory of
the dashboard server (sampled every 50 ms).  Run on an idle machine: with N Chromium pages on the
same 2 cores the browser's own rendering is part of every figure (printed: the load average).

Each row also gives the CPU seconds used so far by the server and by Chromium (cumulative,
load-independent): the browser's share is the client side.  ``--deadline S``: a session not done S
seconds after the clicks counts as an error (no hang).  ``--phases FILE`` times the server's phases
(:mod:`_dashboard_phases`: document creation, serialisation, click, computation, render, websocket
writes; wall and thread CPU) and prints them; ``--profile FILE`` records the server with py-spy.

Measured on the shared 2-core machine, load average 13-28 from other jobs, 30 Nov 2026 (the wall
times mostly measure that load; the CPU seconds do not).  "before" is commit 6b10526; the first
two columns ran the server under py-spy; "map in worker" adds commit 386d63b, "still bar" the
progress bar without animation (cb065d3):

===================================  ==============  ==============  ==============  ===============
case                                 10, before      10, slots fix   10, map in      30, still bar
                                                                     worker
===================================  ==============  ==============  ==============  ===============
one session alone (s)                28.1            23.7            35.7            56.1
same preset: p95 (s) / alone         276.8 / 9.84x   78.2 / 3.29x    66.3 / 1.86x    150.2 / 2.68x
same preset: errors                  0               0               0               0
same preset: server / browser CPU s  41.8 / 159.5    15.2 / 55.5     12.4 / 55.4     30.6 / 236.8
different areas: p95 (s) / alone     -               -               431.3 / 12.08x  629.2 / 11.22x
different areas: errors              -               -               0               27 past the
                                                                                     600 s deadline
different areas: server / browser    -               -               60.1 / 260.0    61.9 / 756.7
CPU s
server peak memory (MiB)             798             739             784             831
===================================  ==============  ==============  ==============  ===============

At a lower load (5-7, 08:22 UTC, everything above in): one session alone 6.8 s; 10 sessions on the same
preset p95 16.9 s, 2.50x, no error; server 11.8 CPU s, Chromium 39.9 CPU s; server peak 698 MiB.
The 30-session run is still to be made on an idle machine.

Where the time went (``--phases``, ``--profile``): before, every session waiting on the shared
computation held one of the runner's two worker threads, so ten sessions of one preset ran it five
times in a row (the phases show two computations at a time, each ~60 s at that load); now waiting
takes no computing slot (:data:`terra_lab.dashboards._shared_runs.WORKERS`) and it runs once.  Per
session, the server then spends about 0.23 CPU s making the document (Panel's template and widgets:
14.2 s for 60 documents), 0.18 CPU s drawing the result (HoloViews -> Bokeh models: 6.1 s for 33
renders; the Web Mercator rasters and the relief are made once, in the shared run's worker) and a
few ms serialising and writing to the websocket.  Chromium spends 5-8 CPU s per page on the same
preset and 25 CPU s per page in the 30-area case (typing four fields, thirty maps), part of it
animating the indeterminate progress bar before cb065d3 (ten pages: 14.8 CPU s per 20 s animated,
1.2 s still).  On one 2-core machine the browsers, not the server, are the bottleneck: thirty
different areas are thirty computations (about 2 CPU s each) plus 750 CPU s of Chromium, which
did not fit in 600 s at load 22; the server's memory stayed bounded (831 MiB).  On a quiet machine
(2026-11-30 09:15, ``--cases areas --deadline 1200``): all 30 complete, no error, every result at
119.9-120.3 s (one session alone: 4.0 s; 30 computations interleaved on the shared pool, so the
first attendee waits as long as the last), server CPU 150 s, Chromium 196 s, server peak 1209 MiB.

    python benchmarks/bench_dashboard_sessions.py [--sessions 30] [--cases same,areas] [--deadline 600]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import table
from bench_dashboard_load import CHROMIUM, CHROMIUM_ARGS, _free_port, _Server, serving

from terra_lab.dashboards._i18n import param_label, tr

LANG = "fr"
RUN = f"button:has-text('{tr('compute', LANG)}')"
DONE = "text=Calcul terminé"
#: the demo scene's default box (the dashboards' defaults) and the sub-boxes the sessions choose
WEST, SOUTH, EAST, NORTH = 6.28, 45.17, 6.34, 45.21


def _areas(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` different boxes inside the demo scene, each about 2.4 x 2.2 km."""
    out = []
    for i in range(n):
        dx, dy = (i % 6) * 0.004, (i // 6) * 0.003
        out.append((round(WEST + dx, 4), round(SOUTH + dy, 4), round(WEST + dx + 0.03, 4), round(SOUTH + dy + 0.02, 4)))
    return out


def _type_area(page, box) -> None:
    for name, value in zip(("west", "south", "east", "north"), box):
        field = page.locator(f".bk-input-group:has(label:text-is('{param_label(name, LANG)}')) input").first
        field.fill(str(value))
        field.press("Enter")


def _open(browser, url: str, deadline: float):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{url}/snow?lang={LANG}", wait_until="domcontentloaded", timeout=deadline * 1000)
    page.wait_for_selector(RUN, timeout=deadline * 1000)
    return page


def _run_all(pages, deadline: float) -> tuple[list[float], int]:
    """Click every page's run button, then wait for every result, each for at most ``deadline`` s from
    the first click; the times from the first click (a page past its deadline counts as an error, at
    the deadline's time, instead of hanging the run)."""
    from playwright.sync_api import TimeoutError as PageTimeout

    start = time.monotonic()
    for page in pages:
        page.click(RUN)
    times, late = [], 0
    for page in pages:
        try:
            left = max(1.0, deadline - (time.monotonic() - start))
            page.wait_for_selector(DONE, timeout=left * 1000)
            page.wait_for_selector("canvas", timeout=max(1.0, deadline - (time.monotonic() - start)) * 1000)
        except PageTimeout:
            late += 1
        times.append(time.monotonic() - start)
    errors = sum(page.locator(".alert-danger").count() > 0 for page in pages)
    return times, errors + late


def _row(case: str, times: list[float], alone: float, errors: int, server: _Server, browser: _Server) -> dict:
    """The table's row of one case, also printed at once (a long run interrupted keeps what it measured)."""
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
    out = {"case": case, "sessions": len(times), "median (s)": f"{statistics.median(times):.1f}",
           "p95 (s)": f"{p95:.1f}", "max (s)": f"{max(times):.1f}", "p95 / alone": f"{p95 / alone:.2f}", "errors": errors,
           "server CPU (s)": server.cpu(), "browser CPU (s)": browser.cpu(), "server peak (MiB)": f"{server.peak:.0f}",
           "load": f"{os.getloadavg()[0]:.1f}"}
    print(out, flush=True)
    return out


def _server_cmd(port: int, phases: Path | None, profile: Path | None) -> list[str]:
    """The dashboard server's command: ``terra-lab workshop serve snow``, with the phase timestamps
    (:mod:`_dashboard_phases`) and under py-spy (raw stacks, every thread, idle included) on request."""
    serve = ["workshop", "serve", "snow", "--port", str(port)]
    cmd = ([sys.executable, str(Path(__file__).with_name("_dashboard_phases.py")), str(phases), *serve] if phases
           else [sys.executable, "-m", "terra_lab.cli", *serve])
    if profile:
        spy = Path(sys.executable).with_name("py-spy")
        cmd = [str(spy), "record", "--format", "raw", "--threads", "--rate", "50", "-o", str(profile), "--", *cmd]
    return cmd


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--cases", default="same,areas", help="comma-separated: same (one preset and area), areas (N areas)")
    ap.add_argument("--deadline", type=float, default=600.0, help="seconds each session may take from the clicks")
    ap.add_argument("--phases", type=Path, help="write the server's phase timestamps here (JSON lines) and summarise them")
    ap.add_argument("--profile", type=Path, help="record the server with py-spy (raw stacks) into this file")
    args = ap.parse_args()
    n, cases, deadline = args.sessions, args.cases.split(","), args.deadline
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench_sessions_"))
    env = {**os.environ, "TERRA_LAB_OFFLINE": "1"}
    rows, phase_rows = [], []
    with serving(_server_cmd(port, args.phases, args.profile), f"{url}/snow", work / "serve.log", env=env) as proc:
        server = _Server(psutil.Process(os.getpid()), "workshop")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            chromium = _Server(psutil.Process(os.getpid()), "chrom")
            page = _open(browser, url, deadline)
            _run_all([page], deadline)  # warm: numba, catalogue, DEM
            page.reload(wait_until="domcontentloaded")
            page.wait_for_selector(RUN, timeout=deadline * 1000)
            (alone,), errors = _run_all([page], deadline)
            page.close()
            rows.append(_row("one session alone", [alone], alone, errors, server, chromium))
            since = time.time()
            pages = [_open(browser, url, deadline) for _ in range(n)]
            if "same" in cases:
                times, errors = _run_all(pages, deadline)
                rows.append(_row(f"{n} sessions, same preset and area", times, alone, errors, server, chromium))
                for page in pages:
                    page.reload(wait_until="domcontentloaded")
            if "areas" in cases:
                for page, box in zip(pages, _areas(n)):
                    page.wait_for_selector(RUN, timeout=deadline * 1000)
                    _type_area(page, box)
                times, errors = _run_all(pages, deadline)
                rows.append(_row(f"{n} sessions, {n} different areas", times, alone, errors, server, chromium))
            browser.close()
            chromium.stop()
        server.stop()
        if args.profile:  # py-spy writes its file when interrupted (not when terminated)
            proc.send_signal(signal.SIGINT)
            proc.wait(120)
        if args.phases:
            from _dashboard_phases import summary

            phase_rows = summary(args.phases, since)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print(table(rows, list(rows[0])))
    if phase_rows:
        print(f"server phases of the {n}-session cases (wall seconds; the event loop is the main thread):")
        print(table(phase_rows, list(phase_rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
