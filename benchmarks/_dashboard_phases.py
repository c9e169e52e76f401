"""Server-side phase timestamps of a workshop dashboard server, for ``bench_dashboard_sessions --phases``.

Run as ``python benchmarks/_dashboard_phases.py OUT.jsonl workshop serve snow --port N``: it wraps
the server's phases with wall-clock timestamps (one JSON line per call: phase, start, end, thread),
then runs ``terra_lab.cli``.  Each line also holds the CPU seconds of the calling thread (load-independent,
unlike the wall times on a shared machine).  Phases:

- ``document``: a session's document made (Bokeh ``Application.initialize_document``: the page's
  widgets, the template, Panel's models), on the event loop;
- ``pull serialise``: the new document serialised for the browser (``PULL-DOC-REPLY``);
- ``click``: the run button's callback (``_on_run``) on the event loop;
- ``compute``: the shared run in a worker thread (``_work``: waiting on the shared computation included);
- ``render``: the result drawn on the session's event loop (``_render``: HoloViews -> Bokeh models);
- ``map element``: the HoloViews map of the result (part of ``render``);
- ``patch serialise``: a document change serialised for the browser (``PATCH-DOC``);
- ``ws write``: a message written on a websocket (Tornado framing and compression).

:func:`summary` reads such a file back: per phase, calls, total and p95 seconds, and the share of
the event loop (the main thread) each phase took.
"""

from __future__ import annotations

import functools
import json
import statistics
import sys
import threading
import time
from pathlib import Path

_LOCK = threading.Lock()


def _timed(owner, name: str, phase: str, out: Path) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        t0, c0 = time.time(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            line = json.dumps([phase, t0, time.time(), threading.current_thread().name, time.thread_time() - c0])
            with _LOCK, open(out, "a") as f:
                f.write(line + "\n")

    setattr(owner, name, wrapper)


def install(out: Path) -> None:
    """Wrap the phases (see the module's docstring); each call appends one line to ``out``."""
    from bokeh.application import Application
    from bokeh.protocol.messages.patch_doc import patch_doc
    from bokeh.protocol.messages.pull_doc_reply import pull_doc_reply
    from bokeh.server.views.ws import WSHandler

    from terra_lab.dashboards._common import DashboardBase
    from terra_lab.dashboards._map_view import MapView

    _timed(Application, "initialize_document", "document", out)
    _timed(pull_doc_reply, "create", "pull serialise", out)
    _timed(patch_doc, "create", "patch serialise", out)
    _timed(WSHandler, "write_message", "ws write", out)
    _timed(DashboardBase, "_on_run", "click", out)
    _timed(DashboardBase, "_work", "compute", out)
    _timed(DashboardBase, "_render", "render", out)
    _timed(MapView, "map_element", "map element", out)


def summary(path: Path, since: float = 0.0) -> list[dict]:
    """Per phase (calls from ``since``, epoch s): calls, total, median and p95 wall seconds, those on the
    event loop (main thread), and the CPU seconds of the calling threads."""
    rows: dict[str, list[tuple[float, str, float]]] = {}
    for line in path.read_text().splitlines():
        phase, t0, t1, thread, cpu = json.loads(line)
        if t0 >= since:
            rows.setdefault(phase, []).append((t1 - t0, thread, cpu))
    out = []
    for phase, calls in rows.items():
        d = sorted(c[0] for c in calls)
        p95 = statistics.quantiles(d, n=20, method="inclusive")[-1] if len(d) > 1 else d[0]
        on_loop = sum(c[0] for c in calls if c[1] == "MainThread")
        out.append({"phase": phase, "calls": len(d), "total (s)": f"{sum(d):.2f}", "median (s)": f"{statistics.median(d):.3f}",
                    "p95 (s)": f"{p95:.3f}", "on event loop (s)": f"{on_loop:.2f}",
                    "CPU (s)": f"{sum(c[2] for c in calls):.2f}"})
    return out


if __name__ == "__main__":
    install(Path(sys.argv[1]))
    from terra_lab.cli import main

    sys.exit(main(sys.argv[2:]))
