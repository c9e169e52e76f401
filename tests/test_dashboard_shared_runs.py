"""Identical dashboard computations run once for every session (terra_lab.dashboards._shared_runs):
sessions asking the same thing at the same time wait on one run and see its steps; a cancel
detaches one session and stops the run only when every session cancelled; errors reach everyone
and are not kept; finished results are kept, bounded, for a while."""

from __future__ import annotations

import threading

import pytest

from terra_lab.dashboards import _shared_runs
from terra_lab.dashboards._shared_runs import shared_run
from terra_lab.workflows._progress import STEPS, Cancelled


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    monkeypatch.setattr(_shared_runs, "TTL_S", 600.0)  # a server that keeps finished results 10 min
    _shared_runs.clear()
    yield
    _shared_runs.clear()


class Session:
    """A page: records the steps it is shown; cancels when asked (at the next step, as the runner does)."""

    def __init__(self):
        self.steps, self.cancel, self.outcome = [], threading.Event(), None

    def progress(self, step):
        if self.cancel.is_set():
            raise Cancelled("cancelled")
        self.steps.append(step)

    def run(self, key, work):
        try:
            self.outcome = shared_run(key, work, self.progress)
        except BaseException as e:  # noqa: BLE001 - recorded for the test's assertions
            self.outcome = e


def _held_work(calls, gate, reached):
    def work(progress):
        calls.append(1)
        progress("search")
        reached.set()
        assert gate.wait(10)
        progress("read")
        progress("compute")
        return {"value": 42}
    return work


def _start(session, key, work):
    t = threading.Thread(target=session.run, args=(key, work))
    t.start()
    return t


def test_sessions_asking_the_same_computation_share_one_run_and_see_its_steps():
    calls, gate, reached = [], threading.Event(), threading.Event()
    work = _held_work(calls, gate, reached)
    first, others = Session(), [Session() for _ in range(5)]
    threads = [_start(first, "k", work)]
    assert reached.wait(10)
    threads += [_start(s, "k", work) for s in others]
    gate.set()
    for t in threads:
        t.join(10)
    assert calls == [1]  # computed once for six sessions
    assert all(s.outcome == {"value": 42} for s in [first, *others])
    assert first.steps == ["search", "read", "compute"]
    assert all(s.steps[-2:] == ["read", "compute"] and s.steps[0] == "search" for s in others)  # joined at "search"
    late = Session()
    late.run("k", work)  # finished: served from memory, steps shown, nothing computed
    assert late.outcome == {"value": 42} and calls == [1] and late.steps == list(STEPS)
    other = Session()
    other.run("another area", _held_work(calls, gate, threading.Event()))
    assert calls == [1, 1]  # another key computes


def test_a_cancel_detaches_one_session_and_stops_the_run_only_when_all_cancelled():
    calls, gate, reached = [], threading.Event(), threading.Event()
    work = _held_work(calls, gate, reached)
    a, b = Session(), Session()
    ta = _start(a, "k", work)
    assert reached.wait(10)
    tb = _start(b, "k", work)
    b.cancel.set()
    gate.set()
    ta.join(10), tb.join(10)
    assert isinstance(b.outcome, Cancelled) and a.outcome == {"value": 42}

    _shared_runs.clear()
    calls2, gate2, reached2 = [], threading.Event(), threading.Event()
    steps_done = []

    def work2(progress):
        calls2.append(1)
        progress("search")
        reached2.set()
        assert gate2.wait(10)
        progress("read")  # every session cancelled: stops here
        steps_done.append("read")
        return 1

    c, d = Session(), Session()
    tc = _start(c, "k2", work2)
    assert reached2.wait(10)
    td = _start(d, "k2", work2)
    c.cancel.set(), d.cancel.set()
    gate2.set()
    tc.join(10), td.join(10)
    assert isinstance(c.outcome, Cancelled) and isinstance(d.outcome, Cancelled) and not steps_done
    e = Session()
    e.run("k2", lambda p: 7)
    assert e.outcome == 7  # a cancelled run leaves nothing behind


def test_errors_reach_every_waiting_session_and_are_not_kept():
    gate, reached = threading.Event(), threading.Event()

    def failing(progress):
        progress("search")
        reached.set()
        assert gate.wait(10)
        raise ValueError("no items in this area")

    a, b = Session(), Session()
    ta = _start(a, "k", failing)
    assert reached.wait(10)
    tb = _start(b, "k", failing)
    gate.set()
    ta.join(10), tb.join(10)
    assert all(isinstance(s.outcome, ValueError) and "no items" in str(s.outcome) for s in (a, b))
    c = Session()
    c.run("k", lambda p: "fresh")
    assert c.outcome == "fresh"


def test_finished_results_are_not_kept_by_default(monkeypatch):
    monkeypatch.setattr(_shared_runs, "TTL_S", 0.0)
    calls = []
    for _ in range(2):
        Session().run("k", lambda p: calls.append(1))
    assert len(calls) == 2 and not _shared_runs._RESULTS


def test_kept_results_are_bounded_and_expire(monkeypatch):
    monkeypatch.setattr(_shared_runs, "MAX_RESULTS", 3)
    for i in range(5):
        Session().run(i, lambda p, i=i: i)
    assert list(_shared_runs._RESULTS) == [2, 3, 4]  # least recently used dropped
    monkeypatch.setattr(_shared_runs, "TTL_S", 0.0)
    s = Session()
    s.run(4, lambda p: "recomputed")
    assert s.outcome == "recomputed"


def test_a_session_joins_a_queued_computation_and_waiting_takes_no_slot(monkeypatch):
    """One computing slot, held by area A: area B waits for it (queued, nothing computed), and the
    sessions asking B meanwhile join that queued run; B computes once when A is done."""
    monkeypatch.setattr(_shared_runs, "_SLOTS", threading.Semaphore(1))
    calls_a, gate_a, reached_a = [], threading.Event(), threading.Event()
    threads = [_start(Session(), "A", _held_work(calls_a, gate_a, reached_a))]
    assert reached_a.wait(10)
    calls_b = []
    b_sessions = [Session() for _ in range(4)]
    threads += [_start(s, "B", lambda p: calls_b.append(1) or "B done") for s in b_sessions]
    assert _wait_for(lambda: len(_shared_runs._RUNNING.get("B", _shared_runs._Run()).listeners) == 4)
    assert calls_b == []  # queued behind A's slot: joined, not computed
    gate_a.set()
    for t in threads:
        t.join(10)
    assert calls_b == [1] and all(s.outcome == "B done" for s in b_sessions)


def test_dashboard_runners_of_one_preset_compute_once_even_with_fewer_slots_than_sessions(monkeypatch):
    """Ten sessions' runners (the server's thread pool) press "Calculer" on one preset while there
    are two computing slots: one computation, every page gets its result.  (Before, each waiting
    session held one of two worker threads: the computation ran five times in a row.)"""
    from terra_lab.dashboards._runner import Runner

    monkeypatch.setattr(_shared_runs, "_SLOTS", threading.Semaphore(2))
    calls, gate, reached = [], threading.Event(), threading.Event()
    work = _held_work(calls, gate, reached)
    done, futures = [], []
    for _ in range(10):
        runner = Runner("snow", on_step=lambda e: None, on_done=done.append, on_error=done.append,
                        on_cancelled=lambda: done.append("cancelled"))
        futures.append(runner.start(lambda p, r=runner: shared_run("preset", work, p, cancelled=lambda: r.cancelled),
                                    lambda value: None))
        if len(futures) == 1:
            assert reached.wait(10)
    assert _wait_for(lambda: len(_shared_runs._RUNNING["preset"].listeners) == 10)
    gate.set()
    for f in futures:
        f.result(10)
    assert calls == [1] and done == [{"value": 42}] * 10


def test_a_queued_computation_every_session_cancelled_never_starts(monkeypatch):
    monkeypatch.setattr(_shared_runs, "_SLOTS", threading.Semaphore(1))
    gate, reached = threading.Event(), threading.Event()
    ta = _start(Session(), "A", _held_work([], gate, reached))
    assert reached.wait(10)
    calls, stop = [], threading.Event()
    outcome = []
    tb = threading.Thread(target=lambda: outcome.append(_outcome(
        lambda: shared_run("B", lambda p: calls.append(1), lambda s: None, cancelled=stop.is_set))))
    tb.start()
    stop.set()  # the only session asking B cancels while B waits for a slot
    tb.join(5)
    assert not tb.is_alive() and isinstance(outcome[0], Cancelled) and "B" not in _shared_runs._RUNNING
    gate.set()
    ta.join(10)
    assert calls == []  # never computed
    assert shared_run("B", lambda p: "fresh", lambda s: None) == "fresh"  # the next asker computes


def _outcome(call):
    try:
        return call()
    except BaseException as e:  # noqa: BLE001 - recorded for the test's assertions
        return e


def _wait_for(condition, timeout: float = 10.0) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_two_dashboard_sessions_with_the_same_parameters_compute_once(monkeypatch):
    """Two snow dashboards (two attendees) on the same preset: the workflow runs once; another
    preset or area computes again; the page language does not matter."""
    from terra_lab.dashboards import snow

    calls = []

    def fake_workflow(**kwargs):
        calls.append(kwargs["aoi"])
        return object()

    monkeypatch.setattr(snow, "snow_workflow", fake_workflow)
    monkeypatch.setattr(snow.SnowDashboard, "_render", lambda self, result: setattr(self, "result", result))
    a, b = snow.SnowDashboard(language="fr"), snow.SnowDashboard(language="en")
    a._on_compute()
    b._on_compute()
    assert len(calls) == 1 and a.result is b.result
    c = snow.SnowDashboard(west=6.29)
    c._on_compute()
    assert len(calls) == 2


# ------------------------------------------------------------------ what sessions share of one result
def test_a_shared_result_is_read_once_and_its_map_rasters_drawn_once(demo_root, monkeypatch):
    """Thirty attendees drawing the same result: its dask arrays are loaded once (in the shared
    run), and the Web Mercator rasters and relief of its map are made once; each session still
    builds its own page, in its own language."""
    import gc
    import weakref

    import dask.array as da
    import xarray as xr

    from terra_lab.dashboards import _shared_render
    from terra_lab.dashboards.snow import SnowDashboard

    made = []
    original = SnowDashboard._map_rasters

    def counting(self, *args):
        made.append(self)
        return original(self, *args)

    monkeypatch.setattr(SnowDashboard, "_map_rasters", counting)
    first = SnowDashboard(language="fr")
    first._on_compute()  # computes and draws
    result = first.result
    assert result is not None and all(
        not getattr(result, f).chunks for f in ("l2b", "elevation"))  # in memory: drawing reads no dask graph
    sessions = [SnowDashboard(language=lang) for lang in ("fr", "en", "en")]
    for s in sessions:
        s._render(result)  # what the runner does with the shared run's result
    assert len(made) == 1  # drawn once for four sessions
    assert sessions[0]._map.object is not sessions[1]._map.object  # each page has its own plot
    assert sessions[1]._map.object.opts.get().kwargs["title"] != sessions[0]._map.object.opts.get().kwargs["title"]
    sessions[0].product = "NOBS"
    sessions[0]._render(result)
    assert len(made) == 2  # another product: another drawing

    # the memo holds results weakly: a result no session holds any more is forgotten
    class Result:
        pass

    r, calls = Result(), []
    assert _shared_render.memo(r, "k", lambda: calls.append(1) or 5) == 5
    assert _shared_render.memo(r, "k", lambda: calls.append(1) or 6) == 5 and calls == [1]
    ref, key = weakref.ref(r), id(r)
    del r
    gc.collect()
    assert ref() is None and key not in _shared_render._MEMO
    lazy = xr.DataArray(da.ones((4, 4), chunks=2), dims=("y", "x"))
    assert _shared_render.in_memory(lazy) is lazy and lazy.chunks  # not a dataclass: untouched


def test_the_shared_map_is_made_in_the_worker_and_not_on_the_event_loop(demo_root, monkeypatch):
    """The shared run's worker makes the map's Web Mercator rasters and its relief (hillshade, a numba
    kernel): the event loop that serves every session then only builds the page's own plot."""
    from terra_lab.dashboards import _map_view
    from terra_lab.dashboards.snow import SnowDashboard

    where = []
    rasters, relief = SnowDashboard._map_rasters, _map_view.basemap

    def recording_rasters(self, *args):
        where.append(("rasters", threading.current_thread().name))
        return rasters(self, *args)

    def recording_relief(*args, **kwargs):
        where.append(("relief", threading.current_thread().name))
        return relief(*args, **kwargs)

    monkeypatch.setattr(SnowDashboard, "_map_rasters", recording_rasters)
    monkeypatch.setattr(_map_view, "basemap", recording_relief)
    page, out = SnowDashboard(language="fr"), []
    worker = threading.Thread(target=lambda: out.append(page._work(lambda step: None)), name="shared-run-worker")
    worker.start()
    worker.join(300)
    assert out and where == [("rasters", "shared-run-worker"), ("relief", "shared-run-worker")]
    page._render(out[0])  # the event loop's part: the page's plot from the prepared rasters and relief
    assert len(where) == 2 and page._map.object is not None
