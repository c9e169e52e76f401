"""How terra_lab compiles its numba kernels, and why: every kernel uses :func:`jit` or :func:`gufunc`.

Options (:data:`JIT_OPTIONS`)
-----------------------------
``nogil=True``
    Kernels run inside Dask's threaded scheduler; releasing the GIL lets the chunks of one
    graph run on every core at once.
``parallel=False``
    Dask already parallelises across chunks.  numba's own threads inside each Dask thread
    would oversubscribe the cores, and its threading layer is not fork-safe under
    ``dask.distributed`` workers.
``fastmath=False``
    The kernels mark missing data with NaN (``np.isnan`` tests, NaN results for undefined
    values) and are checked value for value against reference implementations (gdaldem, LIS,
    fordead, FragScape, biodivMapR); fastmath assumes no NaN and reorders float sums.
On-disk cache (:func:`cache_dir`)
    A cold dashboard start compiled ~6.5 CPU s of kernels at import (snow L2B/L3B, dieback's
    normal equations); numba's on-disk cache makes later starts load the machine code
    instead (block kernels only: per-pixel gufuncs compile in memory, see :func:`gufunc`).
    Two risks of numba's own defaults are avoided: the cache is never written
    beside the sources nor in a folder shared with other users (it lives in
    ``$TERRA_LAB_HOME/numba-cache``, else ``~/.cache/terra_lab/numba-cache``, created
    ``0700`` and used only if it is the user's own; otherwise kernels compile in memory as
    before), and it never serves stale code: numba keys a kernel on its own file's
    modification time only, not on the kernels it calls or the format constants it freezes,
    so the folder is named after a hash of every kernels and profiles source file and of the
    numba and Python versions (any change: a fresh folder).  ``TERRA_LAB_JIT_CACHE=0`` turns
    it off.

Block kernels or per-pixel gufuncs
----------------------------------
* A **per-pixel gufunc** (:func:`gufunc`, a numpy generalised ufunc with a layout such as
  ``"(t),(t)->()"``) when each output pixel depends only on that pixel's own series: dieback,
  gap filling, phenology, the WASP synthesis.  ``xr.apply_ufunc(..., dask="parallelized",
  input_core_dims=[["time"]])`` maps it over any chunking, and numpy broadcasting handles the
  other dimensions.  Their explicit signatures compile when the kernel module is imported.
* A **block kernel** (:func:`jit`, loops over a whole numpy block) when an output couples
  neighbouring pixels or a whole block: windows (terrain, diversity), patch labelling (mesh),
  cost distance, the snow algorithm's 240 m red and per-date elevation histogram, hexagon
  ids; or when fusing several passes over a block saves memory traffic (snow L2B).  The
  product wrapper hands it blocks through ``map_blocks``, ``map_overlap`` or ``blockwise``.

Signatures
----------
The hot block kernels list the argument types their product wrapper passes
(``jit("void(float32[:, :, ::1], ...)")``): they compile when their module is imported (a
product family's first use), not inside the first Dask task, so a progress bar's first step
does not stall.  Other argument types (a read-only or non-contiguous block, float64 inputs in
a test) still compile on first call.  Kernels import only numpy, numba, the standard library
and the format constants of :mod:`terra_lab.profiles` (leaf modules ``_maja``, ``_lis``); :mod:`._jit`
also :mod:`terra_lab._paths` (where the cache lives).
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numba
from numba import guvectorize, njit

from .._paths import data_home, private_dir

__all__ = ["JIT_OPTIONS", "cache_dir", "gufunc", "jit"]

#: The options of every block kernel (see the module docstring for why); ``cache`` is decided by
#: :func:`cache_dir`.
JIT_OPTIONS = MappingProxyType({"nogil": True, "parallel": False, "fastmath": False})

#: folders of earlier sources are removed when unused for this long (seconds)
_STALE_AFTER_S = 7 * 86400
_CONFIG_LOCK = threading.RLock()  # re-entrant: a decoration may import another kernel module
_NUMBA_CONFIG: Any = numba.config  # its settings are set from the environment at import (untyped)


def _sources_key() -> str:
    """A hash of what compiled kernels depend on: the kernels' and profiles' sources, numba, Python."""
    pkg = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(f"{numba.__version__} {sys.version}".encode())
    for path in sorted([*(pkg / "kernels").glob("*.py"), *(pkg / "profiles").glob("*.py")]):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@functools.cache
def cache_dir() -> Path | None:
    """The user's private folder of compiled kernels for these sources, or None (no on-disk cache:
    ``TERRA_LAB_JIT_CACHE=0``, or no folder of the user's own could be made)."""
    if os.environ.get("TERRA_LAB_JIT_CACHE", "1") == "0":
        return None
    for root in (data_home() / "numba-cache", Path.home() / ".cache" / "terra_lab" / "numba-cache"):
        if private_dir(root) is None:
            continue
        here = private_dir(root / _sources_key())
        if here is None:
            continue
        for old in root.iterdir():  # earlier sources' folders, unused for a week
            if old != here and old.is_dir() and time.time() - old.stat().st_mtime > _STALE_AFTER_S:
                shutil.rmtree(old, ignore_errors=True)
        os.utime(here)
        return here
    return None


@contextmanager
def _caching() -> Iterator[bool]:
    """numba's cache folder set to :func:`cache_dir` while a kernel is decorated (numba fixes a
    function's cache path then); numba's setting for other libraries is left as it was."""
    folder = cache_dir()
    if folder is None:
        yield False
        return
    with _CONFIG_LOCK:
        before = _NUMBA_CONFIG.CACHE_DIR
        _NUMBA_CONFIG.CACHE_DIR = str(folder)
        try:
            yield True
        finally:
            _NUMBA_CONFIG.CACHE_DIR = before


def jit(*signatures: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with :data:`JIT_OPTIONS`; ``signatures`` compile now, other types on first call.

    ``extra``: further numba options (``inline="always"`` for tiny helpers).
    """
    unknown = set(extra) & {*JIT_OPTIONS, "cache"}
    if unknown:
        raise TypeError(f"jit(): {sorted(unknown)} are fixed for every kernel (see terra_lab.kernels._jit)")

    options: dict[str, Any] = {**JIT_OPTIONS, **extra}

    def wrap(func: Callable[..., Any]) -> Any:
        with _caching() as cache:
            dispatcher = njit(**options, cache=cache)(func)
        for sig in signatures:  # eager, yet the dispatcher stays open to other argument types
            dispatcher.compile(sig)
        return dispatcher

    return wrap


def gufunc(signatures: list[str], layout: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.guvectorize`` in nopython mode, without fastmath, compiled in memory (never cached on disk).

    numba 0.68's on-disk cache of gufuncs crashed the process (segmentation fault in the gufunc's
    ``__call__``) when Dask's threads called a cached gufunc loaded back from disk (fordead's
    ``dieback_pixel`` on the demo, reproduced); compiled in memory it runs.  The block kernels
    (:func:`jit`) it calls stay cached.
    """
    def wrap(func: Callable[..., Any]) -> Any:
        return guvectorize(signatures, layout, nopython=True, cache=False, fastmath=False, **extra)(func)

    return wrap
