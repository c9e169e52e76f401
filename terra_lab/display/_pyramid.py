"""Recipes: a product defined as a function of the cube, re-evaluated at the resolution it is viewed.

A map layer of a plain DataArray reads its full-resolution pixels for every tile, however far
out the view is zoomed.  A :class:`Recipe` keeps what made the product (the items, the load
arguments and a function of the cube) so that a map can load the cube again at the pixel size
of the zoom (native, x2, x4, ... read from the COG overviews, see
:func:`terra_lab.cube._reader.overview_level`) and evaluate the function there: a zoomed-out
view of a year over a whole tile costs about what one screen at full resolution costs.

>>> ndvi = terra_lab.recipe(items, lambda c: ((c.nir - c.red) / (c.nir + c.red)).median("time"),
...                         bands=["red", "nir"], masks=False)          # doctest: +SKIP
>>> m.add_layer(ndvi, cmap="RdYlGn", vmin=0, vmax=0.9)                  # doctest: +SKIP
>>> ndvi.array(0)          # the full-resolution product, lazy          # doctest: +SKIP

Level ``k`` is the cube at ``2**k`` times the native pixel size.  Levels (their lazy cube and
product) are built once and kept; nothing is read until a tile is drawn.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import xarray as xr

__all__ = ["Recipe", "recipe"]


class Recipe:
    """``fn(terra_lab.load(items, bands=bands, resolution=native * 2**level, **load_kwargs))`` per level.

    ``fn`` takes the loaded :class:`xarray.Dataset` and returns a DataArray of dims (y, x) or
    (time, y, x) (what a map layer shows).  ``resolution``: the native pixel size (default:
    the one :func:`terra_lab.load` picks).  ``max_level``: the coarsest level (x ``2**max_level``).
    Levels above 0 are loaded in chunks of ``level_chunks`` pixels (default 512: a tile's window
    reads little more than itself) unless ``chunks=`` is given.  Each level reads the overview of
    its pixel size (averaged by GDAL when the COG was built): keep ``resampling="nearest"`` (the
    default) for speed; files without overviews are then decimated, not averaged
    (``resampling="average"`` averages them, slower).
    """

    def __init__(self, items: Any, fn: Callable[[xr.Dataset], xr.DataArray], *, bands: Sequence[str] | None = None,
                 resolution: float | None = None, max_level: int = 8, name: str | None = None,
                 level_chunks: int = 512, **load_kwargs: Any):
        if not callable(fn):
            raise TypeError(f"a recipe needs a function of the cube, got {type(fn).__name__}")
        if not isinstance(max_level, int) or not 0 <= max_level <= 16:
            raise ValueError(f"max_level={max_level!r}: give an integer in 0..16 (level k is 2**k x the native pixel)")
        for key in ("like", "resolution"):
            if key in load_kwargs:
                raise TypeError(f"{key}= is chosen per level by the recipe; give the native pixel size as resolution=")
        self.items = items
        self.fn = fn
        self.bands = None if bands is None else list(bands)
        self.max_level = max_level
        self.name = name or getattr(fn, "__name__", "recipe")
        self.load_kwargs = dict(load_kwargs)
        self.level_chunks = level_chunks
        self._native = None if resolution is None else float(resolution)
        self._arrays: dict[int, xr.DataArray] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Recipe({self.name!r}, bands={self.bands}, native={self._native}, max_level={self.max_level})"

    # ------------------------------------------------------------------ levels
    @property
    def native_resolution(self) -> float:
        """The pixel size of level 0 (in units of the cube's CRS)."""
        if self._native is None:
            self._native = _pixel_size(self.array(0))
        return self._native

    def resolution(self, level: int) -> float:
        """Pixel size of ``level``: native x ``2**level``."""
        return self.native_resolution * 2**level

    def level_for(self, pixel_size: float) -> int:
        """The coarsest level whose pixel is not coarser than ``pixel_size`` (as GDAL picks an overview).

        So a tile is never drawn from pixels coarser than its own (no blur), and from at most
        twice finer ones (at most 4x the pixels of the tile are computed)."""
        if not pixel_size > 0:
            return 0
        k = math.floor(math.log2(pixel_size / self.native_resolution) + 1e-9)
        return max(0, min(self.max_level, k))

    def preview_level(self, max_pixels: int = 1024) -> int:
        """The finest level whose product is at most ``max_pixels`` a side (for colour ranges, bounds)."""
        a = self.array(0)
        side = max(a.sizes["y"], a.sizes["x"])
        return max(0, min(self.max_level, math.ceil(math.log2(max(1.0, side / max_pixels)))))

    def array(self, level: int = 0) -> xr.DataArray:
        """The product at ``level`` (lazy; built once per level)."""
        from ._kernel_layer import as_layer_data

        if not isinstance(level, int) or not 0 <= level <= self.max_level:
            raise ValueError(f"level {level!r} outside 0..{self.max_level}")
        with self._lock:
            found = self._arrays.get(level)
        if found is not None:
            return found
        from ..cube import load

        res = None if level == 0 and self._native is None else self.resolution(level)
        kwargs = self.load_kwargs if level == 0 else {"chunks": self.level_chunks, **self.load_kwargs}
        cube = load(self.items, bands=self.bands, resolution=res, **kwargs)
        out = as_layer_data(self.fn(cube), f"the recipe {self.name!r} (its function's result)")
        with self._lock:
            return self._arrays.setdefault(level, out)

    __call__ = array


def recipe(items: Any, fn: Callable[[xr.Dataset], xr.DataArray], *, bands: Sequence[str] | None = None,
           **load_kwargs: Any) -> Recipe:
    """A :class:`Recipe`: ``fn`` of the cube of ``items``, re-evaluated by a map at the pixel size of its zoom."""
    return Recipe(items, fn, bands=bands, **load_kwargs)


def _pixel_size(da: xr.DataArray) -> float:
    x = da["x"].values
    if x.size < 2:
        raise ValueError("the recipe's product has fewer than 2 pixels a row: give a larger area")
    return abs(float(x[1] - x[0]))
