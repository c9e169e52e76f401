"""Workshop dashboard load through the JupyterLab launcher: click on the card -> the dashboard's
run button visible, in a real JupyterLab + Chromium (1280x720), behind jupyter-server-proxy.

Rows:
- ``cold``: the first dashboard opened, clicked as soon as the launcher shows (the worst case:
  the dashboard server has had no time to start);
- ``cold, click 20 s after the launcher shows``: the same in a fresh JupyterLab (the usual case);
- ``warm``: the same theme opened again (server and session code already loaded);
- ``other theme``: each other theme's first opening on the running server;
- the comparison: a plain Panel "hello" page (one Markdown pane and one button, no terra_lab)
  served by ``panel serve`` through the same jupyter-server-proxy, opened the same way (typed URL),
  cold and warm: the floor set by Python, Panel, Bokeh and the proxy.

Each row gives the click-to-button time and its parts (the document's first byte, i.e. server
start and session creation; DOMContentLoaded; button visible), the ratio to the comparison, and
the peak resident memory of the dashboard server process.

Where the time goes (CPU seconds of the dashboard server, measured with time.process_time, so
independent of the machine's load): ``python -m terra_lab.cli`` (terra_lab, catalogue, cube) 1.6,
Panel 0.9, the numba kernels compiled at import (terra_lab.kernels._snow 4.0, _dieback 2.5),
HoloViews/hvPlot/Datashader 1.5, the dashboards 0.1: about 10.6 s before the first page can be
made, then about 1 s for Panel's first page.  Before the change, all of it came after the click
(the server started on the first request, loaded the themes in the first session), plus
jupyter-server-proxy's readiness poll, which doubles its delay (2.56 s, 5.12 s...) and found the
socket up to seconds after it appeared.  Now the socket listens at once (the poll is answered as
soon as Panel serves), the themes load in the background, and a launcher on screen starts the
server, so a click made after those ~11 s CPU seconds finds it warm.

Measured (2 cores shared with other jobs; totals in s, click to run button; "x" is the ratio to
the plain Panel page of the same run, cold for the cold rows):

==========================  ==============  ================  ================  ================
case                        before, load 1  before / after,   before / after,   before / after,
                            (00:42, below)  load 7-9 (01:59)  load 9-11         load 11-22
==========================  ==============  ================  ================  ================
cold, click at 0 s          8.1 (3.7x)      43.5 / 23.5       16.1 / 65.1       56.1 / 40.2
                                            (6.3x / 6.4x)
cold, click at 20 s         10.8 (4.9x)     39.2 / 4.8        46.5 / 37.9       113.0 / 28.8
                                            (5.7x / 1.3x)
warm (same theme again)     1.2             3.8 / 3.5         2.0 / 2.8         6.7 / 1.4
Panel hello page, cold      2.2             6.9 / 3.7         3.9 / 6.7         12.3 / 7.0
server CPU at first page    -               9.2 / 8.7         8.5 / 12.1        10.0 / 10.0
server peak memory (MiB)    410             430 / 434         430 / 433         428 / 433
==========================  ==============  ================  ================  ================

Under that load the wall times partly measure the other jobs: the ratios, the CPU seconds and
the memory are the comparable figures, and a run on an idle machine is still to be made for the
"after" column.  The run at load 7-9 shows the change: a click 20 s after the launcher shows
finds the server warm (4.8 s, 1.3x the plain Panel page, against 39.2 s, 5.7x, before); a
click at once still waits for the ~11 CPU seconds of loading.

"before, load 1" ran on the tree of commit ca9905a, whose snow kernels still compiled on first
use (commit 076fb05 later compiled them at import: +4 s CPU on every server start); the
paired columns ran "before" from a worktree of commit e0c4fde with this change reverted
(PYTHONPATH, and JUPYTER_PATH holding its labextension build) and "after" from one of e0c4fde
(load 9-22) or from the tree of commit b61c99d (load 7-9).

    python benchmarks/bench_dashboard_load.py [--themes snow water forest biodiversity]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import table

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RUN_BUTTON = "button:has-text('Calculer'), button:has-text('Compute')"
HELLO = """\
import panel as pn

pn.extension()
pn.Column(pn.pane.Markdown("# Hello"), pn.widgets.Button(name="Go", button_type="primary")).servable(title="hello")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """The processes under ``root`` whose command line holds ``marker`` (but whose program is not
    ``exclude``: a profiler wrapping the server is not the server): their peak resident memory
    (MiB, sampled every 50 ms) and the CPU time they have used (s, load-independent)."""

    def __init__(self, root: psutil.Process, marker: str, exclude: str = "py-spy"):
        self.root, self.marker, self.exclude, self.peak = root, marker, exclude, 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _procs(self) -> list[psutil.Process]:
        out = []
        for p in self.root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                cmd = p.cmdline()
                if self.marker in " ".join(cmd) and not (cmd and Path(cmd[0]).name == self.exclude):
                    out.append(p)
        return out

    def _run(self):
        while not self._stop.is_set():
            rss = 0
            for p in self._procs():
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss
            self.peak = max(self.peak, rss / 2**20)
            time.sleep(0.05)

    def cpu(self) -> str:
        total = 0.0
        for p in self._procs():
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                total += t.user + t.system
        return f"{total:.1f}"

    def stop(self) -> float:
        self._stop.set()
        self._t.join()
        return self.peak


@contextlib.contextmanager
def _lab(work: Path):
    """``(url, token, process)``: a JupyterLab on 127.0.0.1 serving ``work``, with a ``panel-hello``
    proxied server beside terra_lab's."""
    port, token = _free_port(), secrets.token_hex(16)
    (work / "hello.py").write_text(HELLO)
    config = work / "bench_config.py"
    hello = {"command": [sys.executable, "-m", "panel", "serve", str(work / "hello.py"), "--unix-socket", "{unix_socket}",
                         "--prefix", "{base_url}panel-hello", "--allow-websocket-origin", "*"],
             "unix_socket": True, "absolute_url": True, "timeout": 120, "launcher_entry": {"enabled": False}}
    config.write_text(f"c.ServerProxy.servers = {{'panel-hello': {hello!r}}}\n")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root", f"--config={config}",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    url = f"http://127.0.0.1:{port}"
    with serving(cmd, f"{url}/api/status?token={token}", work / "lab.log") as proc:
        yield url, token, psutil.Process(proc.pid)


@contextlib.contextmanager
def serving(cmd: list[str], probe: str, log_path: Path, env: dict | None = None, timeout: float = 180):
    """The process running ``cmd`` (a server on 127.0.0.1), once ``probe`` answers; stopped on exit."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=10)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{cmd[2:4]} did not start; see {log_path}") from None
                    time.sleep(0.3)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _parts(page, t0: float, t_button: float) -> dict:
    nav = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                        " return [performance.timeOrigin, n.responseStart, n.domContentLoadedEventEnd]; }")
    origin_s = nav[0] / 1000  # the popup's navigation start, epoch seconds
    return {"first byte (s)": f"{origin_s + nav[1] / 1000 - t0:.2f}",
            "DOM ready (s)": f"{origin_s + nav[2] / 1000 - t0:.2f}", "total (s)": t_button - t0}


def _card(page, theme: str):
    """The launcher's card of ``theme``'s dashboard."""
    return page.locator(".jp-LauncherCard").filter(has_text=re.compile(rf"\b{theme}\b.*dashboard", re.IGNORECASE)).first


def _open_card(page, theme: str) -> dict:
    """Click the launcher's ``theme`` dashboard card; the time until the run button shows."""
    card = _card(page, theme)
    card.scroll_into_view_if_needed()
    t0 = time.time()
    with page.context.expect_page(timeout=300_000) as popup:  # emitted once its first page came
        card.click()
    tab = popup.value
    tab.wait_for_selector(RUN_BUTTON, state="visible", timeout=300_000)
    out = _parts(tab, t0, time.time())
    tab.close()
    return out


def _open_url(context, url: str, selector: str) -> dict:
    tab = context.new_page()
    t0 = time.time()
    tab.goto(url, wait_until="commit", timeout=180_000)
    tab.wait_for_selector(selector, state="visible", timeout=180_000)
    out = _parts(tab, t0, time.time())
    tab.close()
    return out


def _launcher(browser, url: str, token: str, theme: str):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{url}/lab?reset&token={token}", wait_until="domcontentloaded")
    _card(page, theme).wait_for(timeout=120_000)
    page.wait_for_timeout(500)  # the launcher re-renders as the kernel specs come
    return context, page


def run(themes: list[str]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for delay in (0, 20):
            work = Path(tmp) / f"lab{delay}"
            work.mkdir()
            with _lab(work) as (url, token, lab):
                server = _Server(lab, "workshop serve")
                context, page = _launcher(browser, url, token, themes[0])
                page.wait_for_timeout(delay * 1000)
                cases = [(f"cold, click {delay} s after the launcher shows", "cold", themes[0])]
                if not delay:
                    cases += [(f"warm ({themes[0]} again)", "warm", themes[0])]
                    cases += [(f"other theme ({theme}, first time)", "warm", theme) for theme in themes[1:]]
                ours = []
                for case, kind, theme in cases:
                    ours.append({"case": case, "ref": kind, **_open_card(page, theme), "server CPU (s)": server.cpu()})
                peak = server.stop()
                rows += [{**r, "server peak (MiB)": f"{peak:.0f}"} for r in ours]
                if not delay:  # the comparison, in the same JupyterLab
                    hello = _Server(lab, "panel serve")
                    ref = {}
                    for name in ("cold", "warm"):
                        ref[name] = _open_url(context, f"{url}/panel-hello/hello?token={token}", "button:has-text('Go')")
                        ref[name]["server CPU (s)"] = hello.cpu()
                    hpeak = hello.stop()
                    rows += [{"case": f"Panel hello page, {name}", "ref": name, **r, "server peak (MiB)": f"{hpeak:.0f}"}
                             for name, r in ref.items()]
                context.close()
        browser.close()
    for r in rows:
        r["vs Panel hello"] = f"{r['total (s)'] / ref[r['ref']]['total (s)']:.1f}x"
        r["total (s)"] = f"{r['total (s)']:.2f}"
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--themes", nargs="+", default=["snow", "water", "forest", "biodiversity"])
    args = ap.parse_args()
    rows = run(args.themes)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(table(rows, ["case", "first byte (s)", "DOM ready (s)", "total (s)", "vs Panel hello", "server CPU (s)",
                       "server peak (MiB)"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
