"""TerraMap: an ``ipyleaflet.Map`` showing lazy xarray results, tiles rendered in the kernel.

Every data layer is a :class:`~terra_lab.display._kernel_layer.KernelTileLayer` (tiles sent
over the widget comm: no tile server, no port, works on JupyterHub and Binder).  The map adds
what a workshop needs to ipyleaflet's own controls: a basemap (OpenStreetMap / IGN online, a
kernel-rendered hillshade offline, see :mod:`terra_lab.display._basemaps`), a layer control,
a scale, a legend, drawing of an area of interest (rectangle or polygon, ``m.aoi``), a marker
at the clicked pixel (``m.clicked``), a split view (:meth:`TerraMap.split`) and a view fitted
to the first data layer, on its clearest date.

Requires the ``ui`` extra (ipyleaflet, ipywidgets).
"""

from __future__ import annotations

import math
from typing import Any

import xarray as xr

from ._basemaps import ONLINE, basemap_layers, default_basemap, offline_basemap
from ._kernel_layer import KernelTileLayer
from ._legend import legend_html
from ._tiles import lonlat_to_index

try:
    import ipyleaflet
    import ipywidgets as w
    import traitlets as t
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("the map widgets need the ui extra: pip install 'terra_lab[ui]'") from e

__all__ = ["KernelTileLayer", "TerraMap"]

#: the map size (px) assumed when fitting a layer before the browser has drawn the map
_FIT_SIZE = (700, 420)
_AOI_STYLE = {"color": "#ff7f0e", "weight": 2, "fillOpacity": 0.08}


def fit_view(bounds: tuple[tuple[float, float], tuple[float, float]], size: tuple[int, int] = _FIT_SIZE,
             max_zoom: int = 18) -> tuple[tuple[float, float], int]:
    """(center, zoom) showing lat/lon ``bounds`` ((south, west), (north, east)) whole in a ``size`` px map."""
    (s, w_), (n, e) = bounds

    def merc(lat: float) -> float:
        lat = max(min(lat, 85.05), -85.05)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zx = math.log2(size[0] * 360 / (256 * max(e - w_, 1e-9)))
    zy = math.log2(size[1] * 2 * math.pi / (256 * max(merc(n) - merc(s), 1e-9)))
    zoom = int(max(1, min(max_zoom, math.floor(min(zx, zy)))))
    lat_c = math.degrees(math.atan(math.sinh((merc(n) + merc(s)) / 2)))
    return (lat_c, (w_ + e) / 2), zoom


class TerraMap(ipyleaflet.Map):
    """An ipyleaflet map of lazy DataArrays (2-D, or 3-D with a date slider), with an AOI and a clicked pixel.

    >>> m = TerraMap(center=(45.19, 6.30), zoom=13)                       # doctest: +SKIP
    >>> ndvi_layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)  # doctest: +SKIP
    >>> w.VBox([m, m.time_slider(ndvi_layer)])                            # doctest: +SKIP

    ``basemap``: ``"osm"`` (default), ``"ign-plan"``, ``"ign-ortho"`` (all three in the layer
    control), ``"offline"`` (a hillshade of ``dem``, else of the catalogue's DEM, rendered in
    the kernel: no network; the default when ``TERRA_LAB_OFFLINE=1``), or None.  ``catalog``:
    the catalogue whose DEM the offline basemap shades (default ``$TERRA_LAB_CATALOG``, else
    ``"demo"``).

    Draw a rectangle or polygon with the draw tool: ``m.aoi`` holds its GeoJSON geometry.  A
    click sets ``m.clicked`` (lat, lon of the clicked pixel's centre) and moves a marker there;
    :meth:`pixel_series` gives that pixel's time series.  The map is an ``ipyleaflet.Map``:
    ``m.add(any_ipyleaflet_layer_or_control)`` works too.
    """

    #: GeoJSON geometry of the last drawn shape ({} when none)
    aoi = t.Dict()
    #: (lat, lon) of the last click, snapped to the centre of the clicked pixel of the top data layer
    clicked: t.List[float] = t.List()

    def __init__(self, center=(45.19, 6.30), zoom: float = 12, *, basemap: str | None = "default",
                 dem: xr.DataArray | None = None, catalog: Any = None, height: str = "420px", draw: bool = True,
                 **kwargs):
        basemap = default_basemap() if basemap == "default" else basemap
        if basemap not in (None, "offline", *ONLINE):
            raise ValueError(f"unknown basemap {basemap!r}; use one of {[*ONLINE, 'offline', None]}")
        kwargs.setdefault("scroll_wheel_zoom", True)
        layers = tuple(basemap_layers(basemap)) if basemap in ONLINE else ()
        super().__init__(center=list(center), zoom=zoom, layers=layers, **kwargs)
        self.layout.height = height
        self.add_class("terra-map")
        self.layout.width = "100%"
        self.layout.min_width = "320px"
        self._offline = basemap == "offline"
        self._catalog = catalog
        if self._offline and dem is not None:
            self._add_offline(dem=dem)
        elif self._offline:  # the catalogue's DEM around the centre; retried over the first data layer
            lat, lon = center
            self._add_offline(bbox=(lon - 0.1, lat - 0.1, lon + 0.1, lat + 0.1), quiet=True)
        self.add(ipyleaflet.ScaleControl(position="bottomleft", imperial=False))
        self.add(ipyleaflet.LayersControl(position="topright", collapsed=False))
        self._legend = w.HTML("", layout={"max_width": "260px"})
        self._legend_control = ipyleaflet.WidgetControl(widget=self._legend, position="bottomright")
        self._marker: ipyleaflet.CircleMarker | None = None
        self._status: w.HTML | None = None  # the last tile error, once one happened
        self._split: ipyleaflet.SplitMapControl | None = None
        if draw:
            self._draw = ipyleaflet.DrawControl(
                rectangle={"shapeOptions": _AOI_STYLE}, polygon={"shapeOptions": _AOI_STYLE},
                polyline={}, circlemarker={}, circle={}, marker={}, edit=False, position="topleft")
            self._draw.on_draw(self._on_draw)
            self.add(self._draw)
        self.on_interaction(self._on_interaction)

    # ---------------------------------------------------------------- layers
    @property
    def data_layers(self) -> list[KernelTileLayer]:
        """The terra_lab layers on the map (not basemaps), bottom to top."""
        return [ly for ly in self.layers if isinstance(ly, KernelTileLayer) and not ly.base]

    def add_layer(self, data, *, name: str | None = None, cmap: str | None = None, vmin: float | None = None,
                  vmax: float | None = None, opacity: float = 1.0, label: str = "",
                  masked: xr.DataArray | None = None, fit: bool | None = None):
        """Show ``data`` (dims (y, x) or (time, y, x), any CRS, lazy or not); returns the layer.

        ``data`` may be a :func:`terra_lab.recipe` (a product as a function of the cube): each
        zoom then shows the product evaluated on the cube loaded at that zoom's pixel size, from
        the COG overviews, instead of the full-resolution pixels.

        See :class:`KernelTileLayer` for the colours, ``masked`` and the date shown.  An
        ipyleaflet layer is added as it is.  ``fit`` (default: for the first data layer) sets
        the view on the layer.
        """
        if isinstance(data, ipyleaflet.Layer):
            self.add(data)
            self._update_legend()
            return data
        layer = KernelTileLayer(data, name=name, cmap=cmap, vmin=vmin, vmax=vmax, opacity=opacity, label=label,
                                masked=masked)
        first = not self.data_layers
        if self._offline and not any(isinstance(ly, KernelTileLayer) and ly.base for ly in self.layers):
            (s, w_), (n, e) = layer.bounds_latlon()
            self._add_offline(bbox=(w_, s, e, n))
        self.add(layer)
        layer.observe(self._show_error, names="error")
        if fit or (fit is None and first):
            center, zoom = fit_view(layer.bounds_latlon())
            self.center, self.zoom = list(center), zoom
        self._update_legend()
        return layer

    def remove_layer(self, layer) -> None:
        """Take a layer off the map (the layer, its ``layer_id``/``model_id`` or its name)."""
        found = self._layer(layer)
        if self._split is not None and found in (self._split.left_layer, self._split.right_layer):
            self.unsplit()
        self.remove(found)
        self._update_legend()

    def _layer(self, layer) -> ipyleaflet.Layer:
        if isinstance(layer, ipyleaflet.Layer):
            if layer not in self.layers:
                raise ValueError(f"the layer {layer.name!r} is not on this map")
            return layer
        for ly in self.layers:
            if layer in (ly.model_id, ly.name, getattr(ly, "title", None)):
                return ly
        names = [getattr(ly, "title", ly.name) for ly in self.data_layers]
        raise KeyError(f"no layer {str(layer)[:64]!r} on this map; its layers: {names}")

    def _data_layer(self, layer) -> KernelTileLayer:
        found = self._layer(layer)
        if not isinstance(found, KernelTileLayer):
            raise TypeError(f"{found.name!r} is not a terra_lab data layer (an ipyleaflet {type(found).__name__})")
        return found

    def _add_offline(self, dem=None, bbox=None, quiet: bool = False) -> None:
        import warnings

        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            base = offline_basemap(dem, catalog=self._catalog, bbox=bbox)
        if base is not None:
            self.add(base, index=0)

    def _show_error(self, change) -> None:
        """A tile of a layer failed (file moved, compute raised): say so on the map, as text."""
        import html

        if self._status is None:
            self._status = w.HTML(layout={"max_width": "420px"})
            self.add(ipyleaflet.WidgetControl(widget=self._status, position="bottomleft"))
        self._status.value = f'<div class="terra-status">{html.escape(change["new"])}</div>'

    def _update_legend(self) -> None:
        specs = [(ly.title, ly.legend) for ly in self.data_layers if ly.legend]
        self._legend.value = legend_html(specs)
        on_map = self._legend_control in self.controls
        if specs and not on_map:
            self.add(self._legend_control)
        elif not specs and on_map:
            self.remove(self._legend_control)

    def show_items(self, results, name: str = "footprints", **options):
        """Outline the footprints of search results (one per date and tile, counted; no fill), replacing
        earlier ones; returns the :class:`~terra_lab.display._footprints.Footprints` layer (``options``: its own)."""
        from ._footprints import Footprints

        for old in [ly for ly in self.layers if isinstance(ly, Footprints) and ly.name == name]:
            self.remove(old)
        layer = Footprints(results, name=name, **options)
        self.add(layer)
        return layer

    # ------------------------------------------------------------------ time
    def set_time(self, layer, index: int) -> None:
        """Show date ``index`` of a 3-D layer (the browser re-requests its tiles)."""
        self._data_layer(layer).time_index = int(index)

    def time_slider(self, layer):
        """An ipywidgets slider labelled with the layer's dates, driving :meth:`set_time`."""
        found = self._data_layer(layer)
        slider = w.SelectionSlider(options=[(d, i) for i, d in enumerate(found.dates)], value=found.time_index,
                                   description="date", continuous_update=False, layout={"width": "95%"})
        slider.observe(lambda ch: self.set_time(found, ch["new"]), names="value")
        return slider

    # ------------------------------------------------------------------ split
    @property
    def split(self):
        """``m.split(left=None, right=None)``: compare two layers side by side (default: the last two data
        layers) with a draggable divider; the older ``m.split = True`` / ``False`` works too."""
        return self._split_layers

    @split.setter
    def split(self, on: bool) -> None:
        if on:
            self._split_layers()
        else:
            self.unsplit()

    def _split_layers(self, left=None, right=None) -> ipyleaflet.SplitMapControl:
        layers = self.data_layers
        if left is None or right is None:
            if len(layers) < 2:
                raise ValueError("split() needs two layers: add another layer or pass left= and right=")
            left, right = left or layers[-2], right or layers[-1]
        self.unsplit()
        self._split = ipyleaflet.SplitMapControl(left_layer=self._layer(left), right_layer=self._layer(right))
        self.add(self._split)
        return self._split

    def unsplit(self) -> None:
        """End the split view."""
        if self._split is not None and self._split in self.controls:
            self.remove(self._split)
        self._split = None

    # ------------------------------------------------------- AOI and clicks
    def _on_draw(self, _control, action: str, geo_json: dict) -> None:
        if action == "created":
            self.aoi = dict(geo_json.get("geometry") or {})
            _control.data = [geo_json]  # one AOI at a time: the previous shape goes
        elif action == "deleted":
            self.aoi = {}

    def _on_interaction(self, **event) -> None:
        if event.get("type") != "click" or "coordinates" not in event:
            return
        lat, lon = (float(v) for v in event["coordinates"])
        lat, lon = self._pixel_centre(lat, lon)
        if self._marker is None:
            self._marker = ipyleaflet.CircleMarker(location=(lat, lon), radius=7, weight=2, color="#d62728",
                                                   fill_color="#ffffff", fill_opacity=0.9, name="clicked pixel")
            self.add(self._marker)
        else:
            self._marker.location = (lat, lon)
        self.clicked = [lat, lon]

    def _pixel_centre(self, lat: float, lon: float) -> tuple[float, float]:
        """(lat, lon) of the centre of the pixel of the top data layer under the point (the point if none)."""
        from pyproj import Transformer

        for layer in reversed(self.data_layers):
            idx = lonlat_to_index(layer.data, lon, lat)
            if idx is not None:
                x = float(layer.data["x"].values[idx[1]])
                y = float(layer.data["y"].values[idx[0]])
                lon_c, lat_c = Transformer.from_crs(layer.data.rio.crs, 4326, always_xy=True).transform(x, y)
                return float(lat_c), float(lon_c)
        return lat, lon

    # ------------------------------------------------------------ time series
    def pixel_series(self, layer=None, latlon: tuple[float, float] | None = None) -> xr.DataArray | None:
        """The time series at the clicked point (or ``latlon``) of a 3-D layer: one pixel computed."""
        if layer is None:
            layer = next((ly for ly in self.data_layers if ly.n_times > 1), None)
        latlon = latlon or ((self.clicked[0], self.clicked[1]) if self.clicked else None)
        if layer is None or latlon is None:
            return None
        da = self._data_layer(layer).data
        idx = lonlat_to_index(da, latlon[1], latlon[0])
        if idx is None or "time" not in da.dims:
            return None
        return da.isel(y=idx[0], x=idx[1]).compute()
