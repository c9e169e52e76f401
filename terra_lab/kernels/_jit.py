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
``cache=False``
    numba's on-disk cache writes beside the sources (``__pycache__``) or in a per-user
    folder, is keyed on file paths and modification times, and has served stale machine code
    after editable reinstalls; compiling costs a few seconds once per process, which a
    workshop session pays once.  Turn it on only deliberately, with a measurement.

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
and the format constants of :mod:`terra_lab.profiles` (leaf modules ``_maja``, ``_lis``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from numba import guvectorize, njit

__all__ = ["JIT_OPTIONS", "gufunc", "jit"]

#: The options of every block kernel (see the module docstring for why).
JIT_OPTIONS = MappingProxyType({"nogil": True, "parallel": False, "fastmath": False, "cache": False})


def jit(*signatures: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit`` with :data:`JIT_OPTIONS`; ``signatures`` compile now, other types on first call.

    ``extra``: further numba options (``inline="always"`` for tiny helpers).
    """
    unknown = set(extra) & set(JIT_OPTIONS)
    if unknown:
        raise TypeError(f"jit(): {sorted(unknown)} are fixed for every kernel (see terra_lab.kernels._jit)")

    options: dict[str, Any] = {**JIT_OPTIONS, **extra}

    def wrap(func: Callable[..., Any]) -> Any:
        dispatcher = njit(**options)(func)
        for sig in signatures:  # eager, yet the dispatcher stays open to other argument types
            dispatcher.compile(sig)
        return dispatcher

    return wrap


def gufunc(signatures: list[str], layout: str, **extra: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.guvectorize`` in nopython mode, without on-disk cache or fastmath (see the module docstring)."""
    return guvectorize(signatures, layout, nopython=True, cache=False, fastmath=False, **extra)
