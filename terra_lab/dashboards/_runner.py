"""A dashboard's run: the workflow in a worker thread (off the Bokeh event loop), its steps
reported as they start, a cancel that stops it at the next step boundary, the result handed
to the page.

No user interface here (no Panel): the page gives the runner its callbacks and a ``dispatch``
that runs them on its own session's event loop (:func:`._session.dispatcher`), so each session
sees only its own progress, and a session stays responsive (its Cancel button too) while its
workflow computes.

Steps: the workflow's own (:data:`terra_lab.workflows.STEPS`: search, read, compute), then
``render`` (the page draws the result).  A cancel is honoured when the next step starts; a step
already running finishes first, a dask compute included (dask offers no safe way to stop a
running graph), so a cancel during "compute" takes effect when the compute is done and the
result is dropped instead of drawn.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..workflows._progress import STEPS as WORKFLOW_STEPS
from ..workflows._progress import Cancelled

__all__ = ["QUEUED", "SESSION_THREADS", "STEPS", "Cancelled", "Runner", "StepEvent", "estimate"]

log = logging.getLogger("terra_lab.dashboards")

#: the steps of a dashboard run, in order
STEPS = (*WORKFLOW_STEPS, "render")
#: the step shown while a run waits for a computing slot (see :data:`._shared_runs.WORKERS`)
QUEUED = "queued"

#: threads of the runs in progress, shared by every session of the server.  A run mostly waits (on
#: a computation shared with other sessions, or for one of the few computing slots of
#: :data:`._shared_runs.WORKERS`, shown as "queued"), so a waiting session must not hold back the
#: others: with one thread per computing slot, ten sessions of one preset queued for threads
#: and their shared computation ran again for every pair of them
SESSION_THREADS = int(os.environ.get("TERRA_LAB_DASHBOARD_SESSION_THREADS", "64"))
_POOL = ThreadPoolExecutor(max_workers=SESSION_THREADS, thread_name_prefix="terra_lab-dashboard")

#: seconds each step took in the last finished run of each key (theme): the next run's estimate
_LAST: dict[str, dict[str, float]] = {}


@dataclass(frozen=True)
class StepEvent:
    """The step a run is at: its name, its position (``index`` of ``total``; -1 while queued)
    and the estimated seconds left (None before a first run of this theme finished)."""

    step: str
    index: int
    total: int
    remaining_s: float | None

    @property
    def percent(self) -> int:
        """Share of the steps already done, 0..100 (the progress bar's value)."""
        return 0 if self.index < 0 else round(100 * self.index / self.total)


def estimate(key: str, step: str) -> float | None:
    """Seconds the steps from ``step`` to the end took in the last finished run of ``key`` (None: no run yet)."""
    last = _LAST.get(key)
    if not last:
        return None
    start = STEPS.index(step) if step in STEPS else 0
    return sum(last.get(s, 0.0) for s in STEPS[start:])


def _direct(callback: Callable[..., Any], *args: Any) -> None:
    callback(*args)


class Runner:
    """One run at a time for one page.

    ``on_step(StepEvent)`` as each step starts, then exactly one of ``on_done(value)``,
    ``on_error(exception)`` or ``on_cancelled()``; every callback goes through ``dispatch``
    (default: called directly, as in a notebook or a test).
    """

    def __init__(self, key: str, *, on_step: Callable[[StepEvent], None], on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], on_cancelled: Callable[[], None],
                 dispatch: Callable[..., None] = _direct, executor: ThreadPoolExecutor | None = None):
        self.key = key
        self.on_step, self.on_done, self.on_error, self.on_cancelled = on_step, on_done, on_error, on_cancelled
        self.dispatch = dispatch
        self._executor = executor or _POOL
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._running = False
        self._step: str | None = None
        self._durations: dict[str, float] = {}
        self._step_start = 0.0

    @property
    def running(self) -> bool:
        return self._running

    @property
    def cancelled(self) -> bool:
        """Whether the current run was asked to stop (a shared computation's waiter polls it)."""
        return self._cancel.is_set()

    @property
    def step(self) -> str | None:
        """The step the current run is at (None when idle)."""
        return self._step

    def cancel(self) -> None:
        """Stop the current run when its next step starts (the running step finishes first)."""
        self._cancel.set()

    def start(self, work: Callable[[Callable[[str], None]], Any], render: Callable[[Any], None]) -> Future | None:
        """Run ``work(progress)`` in a worker thread, then ``render(value)`` through ``dispatch``
        (on the page's event loop).  Returns the worker's future, or None if a run is already going."""
        if not self._begin():
            return None
        self._report(QUEUED)
        return self._executor.submit(self._execute, work, render)

    def run(self, work: Callable[[Callable[[str], None]], Any], render: Callable[[Any], None]) -> None:
        """The same run in the calling thread (a notebook, a test): returns when it is over."""
        if self._begin():
            self._execute(work, render)

    # ------------------------------------------------------------------ internals
    def _begin(self) -> bool:
        with self._lock:
            if self._running:
                return False
            self._running = True
        self._cancel.clear()
        self._durations, self._step = {}, None
        return True

    def _progress(self, step: str) -> None:
        """The workflow's ``progress`` callable: time the step that ends, stop if cancelled, report ``step``."""
        now = time.monotonic()
        if self._step in STEPS:
            self._durations[self._step] = now - self._step_start
        if self._cancel.is_set():
            raise Cancelled(f"cancelled before the {step!r} step")
        self._step, self._step_start = step, now
        self._report(step)

    def _report(self, step: str) -> None:
        index = STEPS.index(step) if step in STEPS else -1
        event = StepEvent(step, index, len(STEPS), estimate(self.key, step))
        self._safe_dispatch(self.on_step, event)

    def _execute(self, work, render) -> None:
        try:
            value = work(self._progress)
            self._progress("render")
        except Cancelled:
            self._safe_dispatch(self._end, self.on_cancelled)
            return
        except BaseException as e:  # noqa: BLE001 - every failure goes to the page
            self._safe_dispatch(self._end, self.on_error, e)
            return
        self._safe_dispatch(self._render, render, value)

    def _render(self, render, value) -> None:
        """The last step, on the page's event loop: draw, then record the step times for the next estimate."""
        try:
            render(value)
        except Exception as e:  # noqa: BLE001 - shown in the page
            self._end(self.on_error, e)
            return
        self._durations["render"] = time.monotonic() - self._step_start
        _LAST[self.key] = dict(self._durations)
        self._end(self.on_done, value)

    def _end(self, callback, *args) -> None:
        self._running, self._step = False, None
        callback(*args)

    def _safe_dispatch(self, callback, *args) -> None:
        try:
            self.dispatch(callback, *args)
        except Exception:  # the session closed under the run: nothing left to show it in
            log.exception("dashboard %s: could not hand %s to its page", self.key, getattr(callback, "__name__", callback))
            self._running = False
