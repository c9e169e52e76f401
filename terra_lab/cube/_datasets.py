"""Open rasterio datasets kept per thread: a bounded LRU cache, as stackstac's and odc-stac's
thread-local readers keep theirs.

A read task of the direct graph (``cube/_graph.py``) would otherwise open its file, read one
window and close it: one open (header parse, directory listing) per chunk, and the file's GDAL
block cache dropped after each.  With :func:`opened`:

* each thread has its own datasets (rasterio datasets are not thread-safe): a dataset is only
  read and closed by the thread that opened it;
* keyed by GDAL path, overview level and the rasterio/GDAL options in force (``rasterio.Env``);
* checked against the file's version at each use: a local file, or the zip that holds it
  (``/vsizip/``), rewritten since it was opened (other mtime, size or inode) is re-opened;
* bounded: at most :func:`cache_size` datasets per thread (the environment variable
  ``TERRA_LAB_DATASET_CACHE``, else 8, see :func:`_default_size`); the least recently
  used is closed first; a dataset that failed a read is closed at once; :func:`invalidate`
  makes every thread close its datasets at its next use, and a thread's datasets are closed
  when the thread ends;
* paths that cannot be checked (``/vsicurl/``, ``/vsis3/``...) are not kept: opened and closed
  for each use;
* nothing of it travels with a task: tasks carry paths, and a Dask worker (thread or process)
  opens its own datasets lazily.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import rasterio
from rasterio.env import getenv, hasenv

from ..catalog._zip import split_vsizip

__all__ = ["Opened", "cache_size", "invalidate", "open_count", "opened", "set_cache_size"]



def _default_size() -> int:
    """``TERRA_LAB_DATASET_CACHE``, else 8 datasets per thread (fewer when a quarter of the open-file
    limit shared by one thread per core allows fewer: each holds a file descriptor).

    Small on purpose: it serves the next chunks of the same file (a date's spatial chunks run one
    after another), and a file re-read soon after.  Keeping every file of a cube open costs more
    than it saves on a single pass: GDAL keeps the decoded blocks of open datasets, so a pass over
    440 demo files read 0.6-0.77x the raw read with 256 per thread, 0.87x with 8, 0.92x with none
    (``benchmarks/bench_load.py``, cold rows); set it higher for cubes recomputed whole."""
    if os.environ.get("TERRA_LAB_DATASET_CACHE"):
        return max(0, int(os.environ["TERRA_LAB_DATASET_CACHE"]))
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft == resource.RLIM_INFINITY or soft <= 0:
            soft = 65536
    except (ImportError, OSError, ValueError):  # no such limit (Windows)
        soft = 1024
    return max(2, min(8, soft // (4 * (os.cpu_count() or 1))))


#: datasets kept per thread, and the generation of the caches (:func:`invalidate` moves it on)
_state = {"size": _default_size(), "generation": 0}
_local = threading.local()


class Opened:
    """A dataset from :func:`opened`, its file version, and ``memo``: facts derived from it
    (its place in an output grid...), kept as long as the dataset."""

    __slots__ = ("ds", "memo", "signature")

    def __init__(self, ds: rasterio.DatasetReader, signature: tuple | None) -> None:
        self.ds, self.signature = ds, signature
        self.memo: dict[Any, Any] = {}

    def close(self) -> None:
        self.ds.close()


def cache_size() -> int:
    """How many datasets each thread keeps open."""
    return _state["size"]


def set_cache_size(n: int) -> int:
    """Keep at most ``n`` datasets open per thread (0: none); returns the previous size.  Threads
    with more close their least recently used ones at their next use."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"set_cache_size({n!r}): give a number of datasets >= 0, e.g. 32")
    before, _state["size"] = _state["size"], n
    return before


def invalidate() -> None:
    """Every thread closes its open datasets at its next use (files rewritten in place with the
    same size and time stamp, or to release them); the calling thread at once."""
    _state["generation"] += 1
    _cache()


def open_count() -> int:
    """How many datasets the calling thread keeps open."""
    return len(_cache())


def _signature(url: str) -> tuple | None:
    """The version of a local file or of the zip holding it (mtime, size, inode), None when unknown."""
    parts = split_vsizip(url) if url.startswith("/vsizip/") else None
    path = parts[0] if parts else url
    if path.startswith("/vsi") or "://" in path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


def _env_key() -> tuple:
    if not hasenv():
        return ()
    return tuple(sorted((str(k), repr(v)) for k, v in getenv().items()))


def _cache() -> OrderedDict:
    """This thread's datasets (emptied when :func:`invalidate` was called or the process forked)."""
    state = getattr(_local, "state", None)
    if state is None or state[0] != _state["generation"] or state[1] != os.getpid():
        if state is not None and state[1] == os.getpid():
            _close_all(state[2])
        state = _local.state = (_state["generation"], os.getpid(), _Datasets())
    return state[2]


class _Datasets(OrderedDict):
    """One thread's datasets; closed with the thread (its thread-local storage is then released)."""

    def __del__(self) -> None:
        _close_all(self)


def _close_all(cache: OrderedDict) -> None:
    while cache:
        _, entry = cache.popitem(last=False)
        entry.close()


@contextmanager
def opened(url: str, overview_level: int | None = None) -> Iterator[Opened]:
    """This thread's open dataset of ``url`` (at ``overview_level``), opened if need be.

    Raises what ``rasterio.open`` raises; a dataset whose use raises is closed and forgotten.
    """
    kw = {} if overview_level is None else {"overview_level": overview_level}
    signature = _signature(url)
    size = _state["size"]
    if signature is None or size == 0:
        with rasterio.open(url, sharing=False, **kw) as ds:
            yield Opened(ds, None)
        return
    cache = _cache()
    key = (url, overview_level, _env_key())
    found: Opened | None = cache.get(key)
    if found is not None and found.signature != signature:  # the file was rewritten: open it again
        del cache[key]
        found.close()
        found = None
    if found is None:
        entry = cache[key] = Opened(rasterio.open(url, sharing=False, **kw), signature)
    else:
        entry = found
        cache.move_to_end(key)
    while len(cache) > size:  # the least recently used first (never this one: it is the most recent)
        _, old = cache.popitem(last=False)
        old.close()
    try:
        yield entry
    except BaseException:
        if cache.get(key) is entry:
            del cache[key]
        entry.close()
        raise
