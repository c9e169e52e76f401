"""A dashboard's run without a browser: the workflow in a worker thread, its steps in order, a
cancel honoured at the next step boundary (the running step finishes), failures handed to the page."""

import threading

import pytest

from terra_lab.dashboards._runner import QUEUED, STEPS, Cancelled, Runner, estimate
from terra_lab.workflows import STEPS as WORKFLOW_STEPS


class Recorder:
    def __init__(self):
        self.events, self.done, self.errors, self.cancelled, self.rendered = [], [], [], 0, []
        self.over = threading.Event()

    def runner(self, key="toy"):
        return Runner(key, on_step=self.events.append, on_done=self._done, on_error=self._error,
                      on_cancelled=self._cancelled)

    def _done(self, value):
        self.done.append(value)
        self.over.set()

    def _error(self, e):
        self.errors.append(e)
        self.over.set()

    def _cancelled(self):
        self.cancelled += 1
        self.over.set()

    def render(self, value):
        self.rendered.append((value, threading.current_thread().name))


def slow_workflow(gate: threading.Event, reached: threading.Event, ran: list):
    """A fake workflow that reports its steps and waits at "read" until ``gate`` opens."""
    def work(progress):
        for step in WORKFLOW_STEPS:
            progress(step)
            ran.append(step)
            if step == "read":
                reached.set()
                assert gate.wait(10)
        return 42
    return work


def test_steps_are_reported_in_order_and_the_work_runs_off_the_calling_thread():
    rec, gate, reached, ran = Recorder(), threading.Event(), threading.Event(), []
    runner = rec.runner("toy-order")
    future = runner.start(slow_workflow(gate, reached, ran), rec.render)
    assert future is not None and reached.wait(10)   # start() returned while the work waits in its thread
    assert runner.running and runner.step == "read"
    assert runner.start(slow_workflow(gate, reached, ran), rec.render) is None  # one run at a time
    gate.set()
    assert rec.over.wait(10)
    assert [e.step for e in rec.events] == [QUEUED, *STEPS] and STEPS[-1] == "render"
    assert [e.percent for e in rec.events] == [0, 0, 25, 50, 75]
    assert rec.done == [42] and not rec.errors and not rec.cancelled and not runner.running
    assert rec.rendered[0][1].startswith("terra_lab-dashboard")  # dispatch: direct here, the page's loop when served
    # the next run of the theme is estimated from this one
    assert estimate("toy-order", "search") >= estimate("toy-order", "compute") >= 0
    assert estimate("never-run", "search") is None


def test_cancel_stops_at_the_next_step_boundary_after_the_running_step_finishes():
    rec, gate, reached, ran = Recorder(), threading.Event(), threading.Event(), []
    runner = rec.runner()
    runner.start(slow_workflow(gate, reached, ran), rec.render)
    assert reached.wait(10)
    runner.cancel()                 # while "read" runs
    gate.set()                      # "read" finishes ...
    assert rec.over.wait(10)
    assert ran == ["search", "read"]  # ... and "compute" never starts
    assert rec.cancelled == 1 and not rec.done and not rec.rendered and not runner.running
    # the runner is usable again, and a cancel of the previous run does not carry over
    rec.over.clear()
    runner.run(lambda progress: "again", rec.render)
    assert rec.done == ["again"]


def test_failures_of_the_work_or_of_the_render_go_to_on_error():
    rec = Recorder()
    runner = rec.runner()

    def fails(progress):
        progress("search")
        raise ValueError("no such collection")

    runner.run(fails, rec.render)
    assert [type(e) for e in rec.errors] == [ValueError] and not runner.running

    def bad_render(value):
        raise RuntimeError("cannot draw")

    runner.run(lambda progress: 1, bad_render)
    assert type(rec.errors[-1]) is RuntimeError and not rec.done and not runner.running


def test_a_workflow_stops_on_cancelled_from_its_progress(demo_catalog):
    """The real workflows call ``progress`` at each step: raising Cancelled there stops them before reading."""
    from terra_lab.workflows import water_workflow

    seen = []

    def progress(step):
        seen.append(step)
        if step == "read":
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        water_workflow("demo", (6.272, 45.183, 6.294, 45.195), "2024-04-01", "2024-05-31", progress=progress)
    assert seen == ["search", "read"]
