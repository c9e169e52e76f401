"""What the sessions of a dashboard server share of one result: its arrays in memory, and the
session-independent parts of its drawing.

A computation asked by several sessions at once runs once (:mod:`._shared_runs`) and hands every
session the same result object.  Each session then draws it: without sharing, each one would read
the result's dask arrays again and crop, reproject and shade the same rasters on the server's one
event loop, so thirty attendees pressing "Calculer" together would wait for thirty drawings in a
row.  :func:`in_memory` loads a result's arrays once, in the worker thread of the shared run; and
:func:`memo` keeps, per result object (weakly: gone with the result), what a drawing computes that
depends neither on the session nor on its language (the Web Mercator rasters, the relief).
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import xarray as xr

__all__ = ["in_memory", "memo"]

T = TypeVar("T")

#: id(result) -> {key: value}; an entry goes with its result (weakref.finalize).  Keyed by id, not
#: by the result: frozen dataclasses of arrays are weakly referenceable but not hashable
_MEMO: dict[int, dict[Hashable, Any]] = {}
_LOCK = threading.Lock()


def in_memory(result: T) -> T:
    """``result`` with the dask-backed xarray objects among its dataclass fields loaded in place
    (a persisted array is still read through dask's scheduler at every access)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        for f in dataclasses.fields(result):
            value = getattr(result, f.name)
            if isinstance(value, xr.DataArray | xr.Dataset) and value.chunks:
                value.load()
    return result


def memo(result: Any, key: Hashable, make: Callable[[], T]) -> T:
    """``make()`` computed once per ``result`` object and ``key``; later calls (any session) get
    the same value.  Results that cannot be weakly referenced are not cached."""
    with _LOCK:
        kept = _MEMO.get(id(result))
        if kept is None:
            try:
                weakref.finalize(result, _MEMO.pop, id(result), None)
            except TypeError:  # not weakly referenceable: its id could be reused, nothing is kept
                return make()
            kept = _MEMO[id(result)] = {}
        elif key in kept:
            return kept[key]
    value = make()
    with _LOCK:
        kept[key] = value
    return value
