"""A bounded-memory LRU cache of what map layers computed: rendered tiles and small level arrays.

One cache serves every layer of the kernel (:data:`TILE_CACHE`); its size is in bytes and
configurable (``TERRA_LAB_TILE_CACHE_MB``, default 256, or :func:`set_tile_cache_bytes`).
Entries are evicted least recently used first once the total passes the limit; an entry
larger than the whole limit is never stored.  Thread safe (tiles may be rendered from
several threads).
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import numpy as np

__all__ = ["TILE_CACHE", "TileCache", "set_tile_cache_bytes", "size_of"]

_MISSING = object()


def size_of(value: Any) -> int:
    """Bytes held by a cached value (PNG bytes, a NumPy or in-memory xarray array, None)."""
    if value is None:
        return 16
    if isinstance(value, (bytes, bytearray)):
        return len(value) + 64
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, (int, np.integer)):
        return int(nbytes) + 256
    return sys.getsizeof(value)


class TileCache:
    """LRU mapping ``key -> value`` holding at most ``max_bytes`` (as counted by :func:`size_of`)."""

    def __init__(self, max_bytes: int = 256 * 2**20) -> None:
        if not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0:
            raise ValueError(f"max_bytes={max_bytes!r}: give a size in bytes >= 0 (0 disables the cache)")
        self.max_bytes = int(max_bytes)
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.nbytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def get(self, key: Hashable, default: Any = _MISSING) -> Any:
        """The value of ``key`` (now the most recently used), else ``default`` (a miss)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return None if default is _MISSING else default
            self._data.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``, evicting the least recently used entries past ``max_bytes``."""
        size = size_of(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self.nbytes -= old[1]
            if size > self.max_bytes:
                return
            self._data[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, s) = self._data.popitem(last=False)
                self.nbytes -= s

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.nbytes = 0

    def resize(self, max_bytes: int) -> None:
        """Change the limit (evicting at once if it shrinks)."""
        if not isinstance(max_bytes, (int, np.integer)) or max_bytes < 0:
            raise ValueError(f"max_bytes={max_bytes!r}: give a size in bytes >= 0 (0 disables the cache)")
        with self._lock:
            self.max_bytes = int(max_bytes)
            while self.nbytes > self.max_bytes and self._data:
                _, (_, s) = self._data.popitem(last=False)
                self.nbytes -= s


def _default_bytes() -> int:
    raw = os.environ.get("TERRA_LAB_TILE_CACHE_MB", "256")
    try:
        return int(float(raw) * 2**20)
    except ValueError:
        raise ValueError(f"TERRA_LAB_TILE_CACHE_MB={raw!r}: give a number of MiB, e.g. 256") from None


#: the kernel's cache of tiles and level arrays, shared by every map layer
TILE_CACHE = TileCache(_default_bytes())


def set_tile_cache_bytes(max_bytes: int) -> None:
    """Set the size limit of the kernel's tile cache (bytes; 0 disables it)."""
    TILE_CACHE.resize(max_bytes)
