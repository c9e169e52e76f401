"""Identical computations run once for every session of a dashboard server.

A workshop room presses "Calculer" on the same preset over the same area within a minute: the
first session's run computes and every session asking for the same computation meanwhile waits
on that run (and sees its steps).  A server may also serve finished results from memory for
:data:`TTL_S` seconds (``TERRA_LAB_SHARED_TTL_S``; 0 by default: a finished run is not reused,
so a catalogue that changed is read again and a rerun shows its steps).  The key is everything
the computation depends on (theme, catalogue, parameters, the compute function); the result is
shared read-only.

Computing slots: at most :data:`WORKERS` computations run at once on a server
(``TERRA_LAB_DASHBOARD_WORKERS``; dask's threads parallelise inside each); the others wait for a
slot, shown as queued.  A session asking for a computation that is queued or running joins it at
once: waiting takes no slot (before, each waiting session held one of the runner's few worker
threads, so ten sessions of one preset queued behind each other and the computation ran five times).

Cancel: a session that cancels stops waiting at once (within 0.25 s) when it gives its
``cancelled`` check, else at the next step boundary; the computation itself
stops only when every session waiting on it has cancelled (a step already running finishes
first, as for a single run).  Errors reach every waiting session and are never kept.
Memory: at most :data:`MAX_RESULTS` finished results are kept (least recently used dropped).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from ..workflows._progress import STEPS as WORKFLOW_STEPS
from ..workflows._progress import Cancelled

__all__ = ["MAX_RESULTS", "TTL_S", "WORKERS", "clear", "shared_run"]

#: finished results kept for the next identical request (``TERRA_LAB_SHARED_RESULTS``)
MAX_RESULTS = int(os.environ.get("TERRA_LAB_SHARED_RESULTS", "8"))
#: seconds a finished result is served to identical requests (``TERRA_LAB_SHARED_TTL_S``; 0: never)
TTL_S = float(os.environ.get("TERRA_LAB_SHARED_TTL_S", "0"))
#: computations running at once (``TERRA_LAB_DASHBOARD_WORKERS``); the others wait for a slot
WORKERS = int(os.environ.get("TERRA_LAB_DASHBOARD_WORKERS", str(max(2, min(8, os.cpu_count() or 2)))))
#: seconds between two looks at the sessions' cancel checks while waiting
_POLL_S = 0.25

Progress = Callable[[str], None]

_LOCK = threading.Lock()
_RUNNING: dict[Hashable, _Run] = {}
_RESULTS: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_SLOTS = threading.Semaphore(WORKERS)


def _never() -> bool:
    return False


class _Run:
    """One computation in progress and the sessions waiting on it (their ``progress`` callables)."""

    def __init__(self) -> None:
        self.listeners: dict[int, Progress] = {}
        self.checks: dict[int, Callable[[], bool]] = {}  # each session's "has it cancelled?"
        self.cancelled: set[int] = set()
        self.step: str | None = None
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def relay(self, step: str) -> None:
        """The workflow's ``progress``: tell every waiting session; stop when all of them cancelled."""
        self.step = step
        with _LOCK:
            listeners = [(k, p) for k, p in self.listeners.items() if k not in self.cancelled]
        for key, progress in listeners:
            try:
                progress(step)
            except Cancelled:
                self.cancelled.add(key)
        if len(self.cancelled) >= len(self.listeners):
            raise Cancelled(f"every session waiting on this computation cancelled before {step!r}")

    def abandoned(self) -> bool:
        """Whether every session waiting on this run has cancelled (the run is then not worth
        starting; the caller holds the lock, so that no session joins meanwhile)."""
        for key, check in self.checks.items():
            if key not in self.cancelled and check():
                self.cancelled.add(key)
        return len(self.cancelled) >= len(self.listeners)


def shared_run(key: Hashable, work: Callable[[Progress], Any], progress: Progress,
               cancelled: Callable[[], bool] = _never) -> Any:
    """``work(progress)`` run once for every caller with an equal ``key`` at the same time (and
    served from memory for :data:`TTL_S` s afterwards), in one of :data:`WORKERS` computing slots;
    this caller's ``progress`` sees the steps, and its ``cancelled()`` (polled while it waits)
    detaches it."""
    me = object()
    with _LOCK:
        hit = _fresh(key)
        run = None if hit is not None else _RUNNING.get(key)
        owner = hit is None and run is None
        if owner:
            run = _RUNNING[key] = _Run()
        if run is not None:
            run.listeners[id(me)] = progress
            run.checks[id(me)] = cancelled
            step = run.step
    if hit is not None:
        for s in WORKFLOW_STEPS:  # the page shows the steps pass (and a cancel still counts)
            progress(s)
        return hit
    assert run is not None
    if owner:
        _compute(key, run, work)
    else:
        if step is not None:
            try:
                progress(step)  # this session joins at the step the computation is at
            except Cancelled:
                run.cancelled.add(id(me))
        while not run.done.wait(_POLL_S):
            if id(me) in run.cancelled or cancelled():
                run.cancelled.add(id(me))
                break
    if id(me) in run.cancelled:
        raise Cancelled("cancelled while waiting for a shared computation")
    if run.error is not None:
        raise run.error
    return run.value


def _compute(key: Hashable, run: _Run, work: Callable[[Progress], Any]) -> None:
    try:
        while not _SLOTS.acquire(timeout=_POLL_S):  # queued: sessions asking the same join meanwhile
            with _LOCK:
                if run.abandoned():
                    _RUNNING.pop(key, None)  # a session asking from now on starts its own run
                    raise Cancelled("every session waiting on this computation cancelled while it was queued")
        try:
            run.value = work(run.relay)
        finally:
            _SLOTS.release()
        if TTL_S <= 0:
            return
        with _LOCK:
            _RESULTS[key] = (time.monotonic(), run.value)
            _RESULTS.move_to_end(key)
            while len(_RESULTS) > MAX_RESULTS:
                _RESULTS.popitem(last=False)
    except BaseException as e:  # noqa: BLE001 - handed to every waiting session
        run.error = e
    finally:
        with _LOCK:
            _RUNNING.pop(key, None)
        run.done.set()


def _fresh(key: Hashable) -> Any:
    """The kept result of ``key`` if younger than :data:`TTL_S` (caller holds the lock), else None."""
    kept = _RESULTS.get(key)
    if kept is None:
        return None
    if time.monotonic() - kept[0] > TTL_S:
        del _RESULTS[key]
        return None
    _RESULTS.move_to_end(key)
    return kept[1]


def clear() -> None:
    """Forget every kept result (a catalogue changed under the server, tests)."""
    with _LOCK:
        _RESULTS.clear()
