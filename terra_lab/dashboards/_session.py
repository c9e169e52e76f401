"""The bridge from a worker thread to one browser session: run a callback on that session's
Bokeh event loop, holding its document (the only thread-safe way to change what it shows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["dispatcher"]


def dispatcher() -> Callable[..., None]:
    """``dispatch(callback, *args)`` for the session being served now: schedules ``callback(*args)``
    on its event loop (Bokeh's ``add_next_tick_callback``, callable from any thread).  Outside a
    served session (a notebook, a test) the callback is called at once, in the caller's thread."""
    import panel as pn
    from panel.io.state import set_curdoc

    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return _now

    def dispatch(callback: Callable[..., Any], *args: Any) -> None:
        def on_loop():
            with set_curdoc(doc):
                callback(*args)

        doc.add_next_tick_callback(on_loop)

    return dispatch


def _now(callback: Callable[..., Any], *args: Any) -> None:
    callback(*args)
