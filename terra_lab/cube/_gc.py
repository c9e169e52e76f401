"""The cyclic garbage collector paused while a graph's many small objects are made."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (also as a decorator: ``@gc_paused()``).

    Building the graph of 1,000 items makes hundreds of thousands of small dicts and tuples; each
    collection pass the allocations trigger walks every object alive (the items included), which
    was half of :func:`terra_lab.load`'s time.  Nothing made there forms reference cycles that
    need collecting at once; the collector runs again when the outermost pause ends.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
