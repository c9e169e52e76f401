"""KernelTileLayer: an ipyleaflet layer whose tiles are rendered in this kernel and sent over its comm.

Why tiles over the widget comm: kernels on JupyterHub, Binder or a remote machine have no
port the browser can reach, and a tile server on a kernel port is the most common failure of
map widgets there.  Here the browser asks for each tile on the layer's own comm (the kernel's
websocket, under Jupyter's authentication) and the kernel answers with a PNG buffer.  Nothing
listens on a port, and tiles exist only for layers of this kernel.

It is an ordinary ipyleaflet layer: it goes on any ``ipyleaflet.Map`` (a leafmap map too),
in its layer control and split view.  Its front end (``KernelTileLayerView`` of the
``terra-lab-widgets`` JupyterLab extension) extends jupyter-leaflet's raster layer view.

Protocol (browser -> kernel): ``{"type": "tile", "req": int, "z": int, "x": int, "y": int,
"t": int}``; reply ``{"type": "tile", "req": req, "ok": bool, "error"?: str}`` with the PNG
as the one buffer when ``ok`` (``ok`` without a buffer: an empty tile).

Reuse: rendered tiles are kept in a bounded LRU cache (:mod:`._tile_cache`, shared by the
kernel's layers) keyed by layer, level, z/x/y and date, so panning back computes nothing.  A
:class:`~terra_lab.display._pyramid.Recipe` layer draws each zoom from the recipe's level
whose pixel is closest to the tile's (read from the COG overviews); a small level (at most
1024 x 1024 pixels a date, a quarter of the cache, 64 MiB) is computed whole once and its
tiles are cut from memory; a larger one is computed tile window by tile window.  A tile of a recipe
layer that must be computed, while a coarser level of the layer is in memory, is first
answered at once by a preview cut from that level (``"final": false``, same ``req``), then by
the tile itself (the reply without ``final``).  A malformed request,
or a tile whose computation fails, gets ``ok: false`` and a one-line error, never a traceback.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import numpy as np
import xarray as xr

from ._pyramid import Recipe
from ._sampling import clearest_time, sample_range
from ._tile_cache import TILE_CACHE, TileCache
from ._tiles import TILE, Style, TileError, _to_crs, render_tile, tile_bounds, tile_failure

try:
    import ipyleaflet
    import traitlets as t
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("the map widgets need the ui extra: pip install 'terra_lab[ui]'") from e

__all__ = ["FRONTEND_VERSION", "KernelTileLayer", "TerraLabModule", "as_layer_data"]

#: semver range of the ``terra-lab-widgets`` front end (widgets/package.json) these models need
FRONTEND_VERSION = "^0.1.0"


def as_layer_data(data: Any, what: str = "a layer") -> xr.DataArray:
    """``data`` as a (y, x) or (time, y, x) DataArray with a CRS, or a clear error."""
    if not isinstance(data, xr.DataArray):
        raise TypeError(f"{what} needs an xarray.DataArray, got {type(data).__name__}")
    extra = set(data.dims) - {"time", "y", "x"}
    if extra or not {"y", "x"} <= set(data.dims):
        raise ValueError(f"{what} needs dims (y, x) or (time, y, x); got {data.dims}")
    if data.rio.crs is None:
        raise ValueError(f"{what} has no CRS: give a DataArray from terra_lab (or call .rio.write_crs)")
    return data.transpose(*[d for d in ("time", "y", "x") if d in data.dims])


class TerraLabModule(t.HasTraits):
    """Mixin: a widget whose front end is in the ``terra-lab-widgets`` JupyterLab extension."""

    _view_module = t.Unicode("terra-lab-widgets").tag(sync=True)
    _model_module = t.Unicode("terra-lab-widgets").tag(sync=True)
    _view_module_version = t.Unicode(FRONTEND_VERSION).tag(sync=True)
    _model_module_version = t.Unicode(FRONTEND_VERSION).tag(sync=True)


class KernelTileLayer(TerraLabModule, ipyleaflet.RasterLayer):
    """A lazy DataArray (2-D, or 3-D with a date index) as an ipyleaflet layer.

    >>> m = ipyleaflet.Map(center=(45.19, 6.30), zoom=13)     # doctest: +SKIP
    >>> m.add(KernelTileLayer(ndvi, cmap="RdYlGn", vmin=0, vmax=0.9))  # doctest: +SKIP

    A categorical product loaded by terra_lab (snow codes, OSO classes...) is drawn in its
    producer's class colours with its class names in ``legend`` unless ``cmap`` is given; other
    layers default to ``viridis`` between the 2nd and 98th percentiles of a small sample.  A 3-D
    layer opens on its clearest date (most valid pixels, :func:`clearest_time`); ``time_index``
    changes the date shown.  ``masked``: an optional boolean DataArray (same dims, any grid)
    whose true pixels are drawn hatched grey (clouds, snow, outside the forest...), while
    no-data pixels (NaN) stay transparent.
    """

    _view_name = t.Unicode("KernelTileLayerView").tag(sync=True)
    _model_name = t.Unicode("KernelTileLayerModel").tag(sync=True)

    time_index = t.Int(0).tag(sync=True)
    n_times = t.Int(1).tag(sync=True)
    legend = t.Dict().tag(sync=True)
    max_zoom = t.Int(22).tag(sync=True, o=True)
    #: the last tile error (kernel side; also shown by the front end as the layer's tooltip)
    error = t.Unicode("").tag(sync=True)

    def __init__(self, data: xr.DataArray | Recipe, *, name: str | None = None, cmap: str | None = None,
                 vmin: float | None = None, vmax: float | None = None, opacity: float = 1.0, label: str = "",
                 masked: xr.DataArray | None = None, time_index: int | None = None,
                 cache: TileCache | None = None, **kwargs):
        recipe = data if isinstance(data, Recipe) else None
        if recipe is not None:  # colour range, clearest date and bounds from a coarse level
            data = recipe.array(recipe.preview_level())
            name = name or recipe.name
        da = as_layer_data(data)
        if masked is not None:
            masked = as_layer_data(masked, "masked=")
            if "time" in masked.dims and "time" not in da.dims:
                raise ValueError("masked= has a time dimension but the layer has none: pass masked.isel(time=...)")
        n_times = int(da.sizes.get("time", 1))
        if time_index is None:
            time_index = clearest_time(da, masked)
        elif not 0 <= int(time_index) < n_times:
            raise IndexError(f"time index {time_index} outside 0..{n_times - 1}")
        from ._legend import legend_style

        by_legend = legend_style(da) if cmap is None else None
        if by_legend is not None:
            style, spec = by_legend
            spec = {**spec, "label": label or spec["label"]}
        else:
            if vmin is None or vmax is None:
                lo, hi = sample_range(da, int(time_index))
                vmin = lo if vmin is None else vmin
                vmax = hi if vmax is None else vmax
            style = Style(cmap=cmap or "viridis", vmin=float(vmin), vmax=float(vmax))
            spec = {"colors": _colours(style.cmap), "vmin": style.vmin, "vmax": style.vmax,
                    "label": label or (name or str(da.name or ""))}
        text = name or str(da.name or "layer")
        super().__init__(name=html.escape(text), opacity=float(opacity), time_index=int(time_index),
                         n_times=n_times, legend=spec, **kwargs)
        self.data = da
        self.masked = masked
        self.style = style
        self.title = text  # the unescaped name (for Python-side messages)
        self.tiles_served = 0
        #: the recipe re-evaluated per zoom (None: ``data`` is drawn at its own resolution)
        self.recipe = recipe
        #: where tiles and small levels are kept (default: the kernel's shared :data:`TILE_CACHE`)
        self.cache = TILE_CACHE if cache is None else cache
        self._token = object()  # this layer in cache keys
        self._level_lock = threading.Lock()
        self.on_msg(self._on_tile_message)

    @t.validate("time_index")
    def _valid_time(self, proposal):
        v = int(proposal["value"])
        if not 0 <= v < max(1, self.n_times):
            raise IndexError(f"time index {v} outside 0..{self.n_times - 1}")
        return v

    # ------------------------------------------------------------------ data
    @property
    def layer_id(self) -> str:
        """The layer's widget id (what older code got from ``TerraMap.add_layer``)."""
        return self.model_id

    @property
    def dates(self) -> list[str]:
        """The layer's dates (``YYYY-MM-DD``), ``["-"]`` for a 2-D layer."""
        if "time" not in self.data.dims:
            return ["-"]
        return [str(v)[:10] for v in self.data["time"].values]

    def bounds_latlon(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, west), (north, east)) of the layer, in degrees."""
        from pyproj import Transformer

        x, y = self.data["x"].values, self.data["y"].values
        dx, dy = abs(float(x[1] - x[0])), abs(float(y[1] - y[0]))
        xs = [x.min() - dx / 2, x.max() + dx / 2]
        ys = [y.min() - dy / 2, y.max() + dy / 2]
        tr = Transformer.from_crs(self.data.rio.crs, 4326, always_xy=True)
        lon, lat = tr.transform([xs[0], xs[1], xs[0], xs[1]], [ys[0], ys[0], ys[1], ys[1]])
        return (float(min(lat)), float(min(lon))), (float(max(lat)), float(max(lon)))

    def tile(self, z: Any, x: Any, y: Any, t: Any = None) -> bytes | None:
        """PNG of tile z/x/y of date ``t`` (default: the shown one), or None if the tile is empty.

        The arguments come from the browser: anything but integers in range raises
        :class:`~terra_lab.display._tiles.TileError` or ``IndexError``."""
        bounds = tile_bounds(z, x, y)  # validates z, x, y
        da, masked = self.data, self.masked
        t = self._time(t)
        level = self.level_for(z, x, y, bounds)
        key = self._key(level, z, x, y, t)
        missing = object()
        png = self.cache.get(key, missing)
        if png is missing:
            if level is not None:
                da = self.level_array(level)
            if "time" in da.dims:
                da = da.isel(time=t)
                if masked is not None and "time" in masked.dims:
                    masked = masked.isel(time=t)
            png = render_tile(da, z, x, y, self.style, masked=masked)
            self.cache.put(key, png)
        self.tiles_served += 1
        return png

    def _key(self, level: int | None, z: int, x: int, y: int, t: int) -> tuple:
        return (self._token, id(self.data), id(self.masked), level, int(z), int(x), int(y), t, self.style)

    def preview(self, z: Any, x: Any, y: Any, t: Any = None) -> bytes | None:
        """A quick PNG of tile z/x/y from a coarser level already in memory, or None.

        None when the layer is no recipe, the tile or its level is in memory (it comes at once
        anyway) or no coarser level of the layer has been computed."""
        level = self.level_for(z, x, y)
        if self.recipe is None or level is None:
            return None
        t = self._time(t)
        if self._key(level, z, x, y, t) in self.cache or (self._token, "level", level) in self.cache:
            return None  # the tile, or its whole level, is in memory: the tile itself comes at once
        for k in range(level + 1, self.recipe.max_level + 1):
            coarse = self.cache.get((self._token, "level", k))
            if coarse is not None:
                return render_tile(coarse.isel(time=t) if "time" in coarse.dims else coarse, z, x, y, self.style)
        return None

    def _time(self, t: Any) -> int:
        """The date index ``t`` asked (default: the shown one), checked; 0 for a 2-D layer."""
        da = self.data
        if "time" not in da.dims:
            return 0
        t = self.time_index if t is None else t
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t < da.sizes["time"]:
            raise IndexError(f"time index {t!r} outside 0..{da.sizes['time'] - 1}")
        return int(t)

    def level_for(self, z: int, x: int, y: int, bounds: tuple[float, float, float, float] | None = None) -> int | None:
        """The recipe level that draws tile z/x/y (None for a plain DataArray layer)."""
        if self.recipe is None:
            return None
        west, south, east, north = tile_bounds(z, x, y) if bounds is None else bounds
        mid = (south + north) / 2
        (x0, x1), (y0, y1) = _to_crs(self.data.rio.crs.to_epsg()).transform([west, east], [mid, mid])
        return self.recipe.level_for(float(np.hypot(x1 - x0, y1 - y0)) / TILE)

    def level_array(self, level: int) -> xr.DataArray:
        """The recipe's product at ``level``: in memory (computed once, cached) when small, else lazy."""
        if self.recipe is None:
            raise TypeError(f"layer {self.name!r} is no recipe: it has no levels")
        da = self.recipe.array(level)
        if da.sizes["y"] * da.sizes["x"] > MAX_LEVEL_PIXELS or da.nbytes > min(self.cache.max_bytes // 4, 64 * 2**20):
            return da
        key = (self._token, "level", level)
        with self._level_lock:  # concurrent tiles of one level compute it once
            found = self.cache.get(key)
            if found is None:
                found = da.compute()
                self.cache.put(key, found)
        return found

    # ------------------------------------------------------------------ comm
    def _on_tile_message(self, _widget, content: dict[str, Any], _buffers) -> None:
        if not isinstance(content, dict) or content.get("type") != "tile":
            return
        req = content.get("req")
        req = req if isinstance(req, int) and not isinstance(req, bool) else None
        try:
            preview = self.preview(content.get("z"), content.get("x"), content.get("y"), content.get("t"))
            if preview is not None:  # coarse first, refined when ready
                self.send({"type": "tile", "req": req, "ok": True, "final": False}, buffers=[preview])
            png = self.tile(content.get("z"), content.get("x"), content.get("y"), content.get("t"))
        except (TileError, KeyError, IndexError, ValueError, TypeError) as e:
            self.send({"type": "tile", "req": req, "ok": False, "error": str(e)[:500]})
            return
        except Exception as e:  # noqa: BLE001 - a vanished file, a failed compute: the browser still gets a reply
            self.error = tile_failure(self.title, e)
            self.send({"type": "tile", "req": req, "ok": False, "error": self.error})
            return
        self.send({"type": "tile", "req": req, "ok": png is not None}, buffers=[png] if png else None)


#: a recipe level of at most this many pixels a date (about 16 tiles) is computed whole on its first tile
MAX_LEVEL_PIXELS = 1024 * 1024


def _colours(cmap: str, n: int = 8) -> list[str]:
    """``n`` hex colours along matplotlib colormap ``cmap`` (for a colour bar)."""
    import matplotlib

    return [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps[cmap](np.linspace(0, 1, n))]
