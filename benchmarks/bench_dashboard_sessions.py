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

    python benchmarks/bench_dashboard_sessions.py [--sessions 30]
"""

from __future__ import annotations

import argparse
import os
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


def _open(browser, url: str):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{url}/snow?lang={LANG}", wait_until="domcontentloaded")
    page.wait_for_selector(RUN, timeout=300_000)
    return page


def _run_all(pages) -> tuple[list[float], int]:
    """Click every page's run button, then wait for every result; the times from the first click."""
    start = time.monotonic()
    for page in pages:
        page.click(RUN)
    times = []
    for page in pages:
        page.wait_for_selector(DONE, timeout=1_800_000)
        page.wait_for_selector("canvas", timeout=300_000)
        times.append(time.monotonic() - start)
    errors = sum(page.locator(".alert-danger").count() > 0 for page in pages)
    return times, errors


def _row(case: str, times: list[float], alone: float, errors: int, server: _Server) -> dict:
    """The table's row of one case, also printed at once (a long run interrupted keeps what it measured)."""
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1] if len(times) > 1 else times[0]
    out = {"case": case, "sessions": len(times), "median (s)": f"{statistics.median(times):.1f}",
            "p95 (s)": f"{p95:.1f}", "max (s)": f"{max(times):.1f}", "p95 / alone": f"{p95 / alone:.2f}", "errors": errors,
            "server peak (MiB)": f"{server.peak:.0f}"}
    print(out, f"load average {os.getloadavg()[0]:.1f}", flush=True)
    return out


def main() -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=30)
    n = ap.parse_args().sessions
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench_sessions_"))
    env = {**os.environ, "TERRA_LAB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "--port", str(port)]
    rows = []
    with serving(cmd, f"{url}/snow", work / "serve.log", env=env):
        server = _Server(psutil.Process(os.getpid()), "workshop")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = _open(browser, url)
            _run_all([page])  # warm: numba, catalogue, DEM
            page.reload(wait_until="domcontentloaded")
            page.wait_for_selector(RUN, timeout=300_000)
            (alone,), errors = _run_all([page])
            page.close()
            rows.append(_row("one session alone", [alone], alone, errors, server))
            pages = [_open(browser, url) for _ in range(n)]
            times, errors = _run_all(pages)
            rows.append(_row(f"{n} sessions, same preset and area", times, alone, errors, server))
            for page in pages:
                page.reload(wait_until="domcontentloaded")
            for page, box in zip(pages, _areas(n)):
                page.wait_for_selector(RUN, timeout=300_000)
                _type_area(page, box)
            times, errors = _run_all(pages)
            rows.append(_row(f"{n} sessions, {n} different areas", times, alone, errors, server))
            browser.close()
        server.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print(table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
