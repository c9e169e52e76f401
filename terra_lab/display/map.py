"""TerraMap: a Leaflet map widget showing lazy xarray results, tiles rendered in the kernel.

Why tiles over the widget comm: kernels on JupyterHub, Binder or a remote machine have no
port the browser can reach, and a tile server on a kernel port is the most common failure of
map widgets there.  Here the browser asks for each tile on the widget's own comm (the
kernel's websocket, under Jupyter's authentication) and the kernel answers with a PNG
buffer.  Nothing listens on a port, and tiles exist only for layers registered on this
widget, in this kernel.

Requires the ``ui`` extra (anywidget, ipywidgets).
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._tiles import Style, TileError, lonlat_to_index, render_tile, tile_failure

try:
    import anywidget
    import traitlets as t
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("the map widgets need the ui extra: pip install 'terra_lab[ui]'") from e

__all__ = ["TerraMap"]

STATIC = Path(__file__).parent / "static"


def _esm() -> Path | str:
    path = STATIC / "map.js"
    if not path.exists():
        raise ImportError(
            "the map widget's front end is not built: run `make env` (or `cd widgets && npm ci && npm run build`)"
        )
    return path


def _sample_range(da: xr.DataArray) -> tuple[float, float]:
    """2nd-98th percentiles of a decimated sample (at most 256 x 256 pixels of the first date)."""
    if "time" in da.dims:
        da = da.isel(time=0)
    sy = max(1, da.sizes["y"] // 256)
    sx = max(1, da.sizes["x"] // 256)
    v = np.asarray(da.isel(y=slice(None, None, sy), x=slice(None, None, sx)).values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = np.percentile(v, [2, 98])
    return float(lo), float(hi if hi > lo else lo + 1)


class TerraMap(anywidget.AnyWidget):
    """An interactive map of lazy DataArrays (2-D, or 3-D with a time slider), footprints and an AOI.

    >>> m = TerraMap(center=(45.19, 6.30), zoom=13)          # doctest: +SKIP
    >>> m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)  # doctest: +SKIP
    >>> m                                                    # doctest: +SKIP

    Draw an AOI with shift + drag (``m.aoi`` holds its GeoJSON); a click sets ``m.clicked``
    (lat, lon), used by :meth:`pixel_series`.  ``m.split = True`` compares the last two
    layers side by side, with a divider at ``m.split_position`` (0..1, draggable).
    """

    _esm = _esm()
    _css = STATIC / "map.css"

    center = t.List([45.19, 6.30]).tag(sync=True)
    zoom = t.Int(12).tag(sync=True)
    height = t.Unicode("420px").tag(sync=True)
    basemap = t.Unicode("").tag(sync=True)
    basemap_attribution = t.Unicode("").tag(sync=True)
    layers = t.List([]).tag(sync=True)
    footprints = t.Dict({}).tag(sync=True)
    selected = t.Unicode("").tag(sync=True)
    aoi = t.Dict({}).tag(sync=True)
    clicked = t.List([]).tag(sync=True)
    bounds = t.List([]).tag(sync=True)
    split = t.Bool(False).tag(sync=True)
    split_position = t.Float(0.5).tag(sync=True)

    def __init__(self, center=(45.19, 6.30), zoom: int = 12, **kwargs):
        super().__init__(center=list(center), zoom=int(zoom), **kwargs)
        self._data: dict[str, tuple[xr.DataArray, Style]] = {}
        self.tiles_served = 0
        self.on_msg(self._on_msg)

    # ---------------------------------------------------------------- layers
    def add_layer(self, data: xr.DataArray, *, name: str | None = None, cmap: str | None = None,
                  vmin: float | None = None, vmax: float | None = None, opacity: float = 1.0,
                  label: str = "") -> str:
        """Show ``data`` (dims (y, x) or (time, y, x), any CRS, lazy or not); returns the layer id.

        A categorical product loaded by terra_lab (snow codes, OSO classes...) is drawn in its
        producer's class colours with its class names in the legend unless ``cmap`` is given;
        other layers default to ``viridis`` between the 2nd and 98th percentiles.
        """
        if not isinstance(data, xr.DataArray):
            raise TypeError(f"add_layer needs an xarray.DataArray, got {type(data).__name__}")
        extra = set(data.dims) - {"time", "y", "x"}
        if extra or not {"y", "x"} <= set(data.dims):
            raise ValueError(f"a layer needs dims (y, x) or (time, y, x); got {data.dims}")
        if data.rio.crs is None:
            raise ValueError("the layer has no CRS: give a DataArray from terra_lab (or call .rio.write_crs)")
        from ._legend import legend_style

        by_legend = legend_style(data, opacity) if cmap is None else None
        cmap = cmap or "viridis"
        if by_legend is None and (vmin is None or vmax is None):
            lo, hi = _sample_range(data)
            vmin = lo if vmin is None else vmin
            vmax = hi if vmax is None else vmax
        style = by_legend[0] if by_legend else Style(cmap=cmap, vmin=float(vmin), vmax=float(vmax), opacity=float(opacity))
        layer_id = uuid.uuid4().hex
        self._data[layer_id] = (data.transpose(*[d for d in ("time", "y", "x") if d in data.dims]), style)
        import matplotlib

        colors = [matplotlib.colors.to_hex(c) for c in matplotlib.colormaps[cmap](np.linspace(0, 1, 8))]
        spec = {
            "id": layer_id,
            "name": html.escape(name or str(data.name or "layer")),
            "opacity": float(opacity),
            "time_index": 0,
            "n_times": int(data.sizes.get("time", 1)),
            "legend": {"colors": colors, "vmin": float(vmin), "vmax": float(vmax), "label": label or (name or str(data.name or ""))}
            if by_legend is None else {**by_legend[1], "label": label or by_legend[1]["label"]},
        }
        self.layers = [*self.layers, spec]
        return layer_id

    def remove_layer(self, layer_id: str) -> None:
        self._data.pop(layer_id, None)
        self.layers = [s for s in self.layers if s["id"] != layer_id]

    def set_time(self, layer_id: str, index: int) -> None:
        """Show date ``index`` of a 3-D layer (tiles are re-requested)."""
        specs = []
        for s in self.layers:
            if s["id"] == layer_id:
                if not 0 <= index < s["n_times"]:
                    raise IndexError(f"time index {index} outside 0..{s['n_times'] - 1}")
                s = {**s, "time_index": int(index)}
            specs.append(s)
        self.layers = specs

    def time_slider(self, layer_id: str):
        """An ipywidgets slider driving :meth:`set_time`, labelled with the dates."""
        import ipywidgets as w

        da = self._data[layer_id][0]
        dates = [str(v)[:10] for v in da["time"].values] if "time" in da.dims else ["-"]
        slider = w.SelectionSlider(options=[(d, i) for i, d in enumerate(dates)],
                                   description="date", continuous_update=False, layout={"width": "95%"})
        slider.observe(lambda ch: self.set_time(layer_id, ch["new"]), names="value")
        return slider

    # ------------------------------------------------------------ footprints
    def show_items(self, results) -> None:
        """Draw the footprints of search results (SearchResults or item dicts)."""
        items = getattr(results, "items", results)
        feats = []
        for it in items:
            props = {k: html.escape(str(v)) for k, v in it.get("properties", {}).items()
                     if k in ("datetime", "eo:cloud_cover", "platform")}
            feats.append({"type": "Feature", "id": it["id"], "geometry": it["geometry"], "properties": props})
        self.footprints = {"type": "FeatureCollection", "features": feats}
        if feats:
            import shapely

            b = shapely.union_all([shapely.geometry.shape(f["geometry"]) for f in feats]).bounds
            self.center = [(b[1] + b[3]) / 2, (b[0] + b[2]) / 2]

    # ----------------------------------------------------------------- comm
    hovered = t.Unicode("")  # kernel-side only: the footprint under the mouse (not synced back)

    def _on_msg(self, _widget, content: dict[str, Any], _buffers) -> None:
        if isinstance(content, dict) and content.get("type") == "hover":
            self.hovered = str(content.get("id", ""))[:256]
            return
        if not isinstance(content, dict) or content.get("type") != "tile":
            return
        req = content.get("req")
        try:
            png = self.tile(content.get("layer"), content.get("z"), content.get("x"), content.get("y"), content.get("t", 0))
        except (TileError, KeyError, IndexError, ValueError, TypeError) as e:
            self.send({"type": "tile", "req": req, "ok": False, "error": str(e)})
            return
        except Exception as e:  # noqa: BLE001 - a vanished file, a failed compute: the browser still gets a reply
            name = next((s["name"] for s in self.layers if s.get("id") == content.get("layer")), content.get("layer"))
            self.send({"type": "tile", "req": req, "ok": False, "error": tile_failure(name, e)})
            return
        self.send({"type": "tile", "req": req, "ok": png is not None}, buffers=[png] if png else None)

    def tile(self, layer_id: str, z: int, x: int, y: int, t: int = 0) -> bytes | None:
        """PNG of tile z/x/y of a registered layer (what the browser receives), or None if empty."""
        if layer_id not in self._data:
            raise KeyError(f"unknown layer {str(layer_id)[:64]!r}")
        da, style = self._data[layer_id]
        if "time" in da.dims:
            if not isinstance(t, (int, np.integer)) or not 0 <= t < da.sizes["time"]:
                raise IndexError(f"time index {t!r} outside 0..{da.sizes['time'] - 1}")
            da = da.isel(time=int(t))
        png = render_tile(da, z, x, y, style)
        self.tiles_served += 1
        return png

    # --------------------------------------------------------- time series
    def pixel_series(self, layer_id: str | None = None, latlon: tuple[float, float] | None = None) -> xr.DataArray | None:
        """The time series at the clicked point (or ``latlon``) of a 3-D layer: one pixel computed."""
        layer_id = layer_id or next((s["id"] for s in self.layers if s["n_times"] > 1), None)
        latlon = latlon or (tuple(self.clicked) if self.clicked else None)
        if layer_id is None or latlon is None:
            return None
        da, _ = self._data[layer_id]
        idx = lonlat_to_index(da, latlon[1], latlon[0])
        if idx is None or "time" not in da.dims:
            return None
        return da.isel(y=idx[0], x=idx[1]).compute()
