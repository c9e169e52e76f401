"""The map and pixel-series view of a dashboard: how a result layer is drawn, and what a click on it shows.

The layer is cut to its data, reprojected to Web Mercator and drawn over a basemap
(:mod:`._basemap`: OpenStreetMap online, the DEM's shaded relief offline) with longitude/latitude
ticks, in a frame of the data's shape.  Three kinds of pixels stay apart: values (the colour
map), masked pixels (clouds, no clear observation: :data:`MASKED_COLOUR`, named in the legend)
and no data (transparent: the basemap shows through).  Hovering names the class of a categorical
layer, or gives the value with its unit; a click gives the pixel's series in the layer's own
coordinates.
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import xarray as xr

from .._offline import is_offline
from ._basemap import basemap
from ._i18n import error_text, option_label, tr
from ._legend_map import categorical_options
from ._shared_render import memo
from ._webmercator import crop_to, to_mercator, to_native

__all__ = ["MASKED_COLOUR", "MapView", "clearest_time", "frame_size"]

log = logging.getLogger("terra_lab.dashboards")

#: colour of masked pixels (clouds, no clear observation): a neutral grey, unlike the basemaps
#: (sepia relief, OSM's colours) and unlike no data (transparent)
MASKED_COLOUR = "#5f6b7a"
#: largest map frame (pixels); the frame takes the data's shape within it
MAX_FRAME = (620, 440)
#: most pixels sent to the browser (a larger layer is thinned: :func:`_thin`)
MAX_PIXELS = 1_000_000
#: units of the layers' ``units`` attribute, as the page shows them (unitless: nothing)
_UNITS = {"FNU": "FNU", "NTU": "NTU", "g m-3": "g/m³", "g/m3": "g/m³", "mg m-3": "mg/m³", "mg/m3": "mg/m³",
          "ha": "ha", "%": "%", "m": "m", "1": "", "": ""}
#: Web Mercator metres -> degrees, in the browser (hover)
_LON_JS = "return (value / 6378137 * 180 / Math.PI).toFixed(5) + '°';"
_LAT_JS = "return ((2 * Math.atan(Math.exp(value / 6378137)) - Math.PI / 2) * 180 / Math.PI).toFixed(5) + '°';"


def clearest_time(layer: xr.DataArray) -> xr.DataArray:
    """``layer`` at its date with the most valid pixels when it has a time dimension (else itself)."""
    if "time" not in layer.dims or layer.sizes["time"] < 2:
        return layer.squeeze("time", drop=True) if "time" in layer.dims else layer
    valid = np.isfinite(np.asarray(layer.values, dtype="float64")).sum(axis=tuple(
        i for i, d in enumerate(layer.dims) if d != "time"))
    return layer.isel(time=int(np.argmax(valid)))


def frame_size(width: float, height: float, limit: tuple[int, int] = MAX_FRAME) -> tuple[int, int]:
    """(frame width, frame height) in pixels of a map of ``width`` x ``height`` metres, as large as fits ``limit``."""
    scale = min(limit[0] / max(width, 1e-9), limit[1] / max(height, 1e-9))
    return max(round(width * scale), 120), max(round(height * scale), 120)


def _decimals(values: np.ndarray) -> int:
    """Decimals showing about three significant digits of ``values``' typical size."""
    finite = np.abs(values[np.isfinite(values)])
    typical = float(np.nanmedian(finite)) if finite.size else 1.0
    return int(np.clip(2 - np.floor(np.log10(typical)) if typical > 0 else 2, 0, 4))


class MapView:
    """Mixin of the dashboards: draws ``self._layer(self.result)`` in ``self._map`` and answers
    clicks with ``self._point_series`` in ``self._series`` / ``self._point``.

    Themes may override ``_cmap``, ``_clim``, ``_units``, ``_categories`` (categorical layers),
    ``_masked`` (masked pixels), ``_date_origin`` (layers of days since a date), ``_dem``.
    """

    if TYPE_CHECKING:  # what DashboardBase provides (state, panes, messages)
        result: Any
        language: str
        catalog: str
        theme: ClassVar[str]
        _map: Any
        _point: Any
        _series: Any

        def _say(self, text: str, kind: str = "info", details: str = "") -> None: ...

        def _layer(self, result: Any) -> xr.DataArray: ...

        def _run_key(self) -> tuple: ...

    _map_crs = None  # the CRS of the drawn layer: clicks are turned back into it
    _dem_cache: tuple = ()  # (result, bounds, DEM) of the last basemap: redrawing reads no DEM again

    def _cmap(self):
        return "Blues"

    def _clim(self, layer) -> tuple[float, float] | None:
        """Colour range of the map (None: the data's range)."""
        return None

    def _units(self, layer) -> str:
        """The unit of ``layer`` as the page shows it (empty for unitless indices)."""
        units = str(layer.attrs.get("units", ""))
        return tr("unit_days", self.language) if units in ("days", "d") else _UNITS.get(units, units)

    def _categories(self, layer) -> list[tuple[int, str, str]] | None:
        """``[(code, colour, class name)]`` of a categorical layer in the page's language (its producer's legend)."""
        from ..display._legend import legend_entries

        return legend_entries(layer, self.language)

    def _masked(self, result, layer) -> xr.DataArray | None:
        """Pixels of ``layer``'s grid masked by clouds or without a clear observation (None: none known)."""
        return None

    def _masked_label(self) -> str:
        """The legend's name of the masked pixels, in the page's language."""
        return tr("masked", self.language)

    def _date_origin(self, layer):
        """The date a layer of day counts starts from (its hover and colour bar then show dates); None otherwise."""
        return

    def _dem(self, result, like: xr.DataArray) -> xr.DataArray | None:
        """Elevation on ``like``'s grid for the offline basemap: the catalogue's DEM (None without one)."""
        try:
            from ..workflows._aux import load_dem

            return load_dem(self.catalog, like).compute()
        except Exception as e:  # noqa: BLE001 - no DEM: the map has no relief, and says why in the log
            log.info("dashboard %s: no DEM for the basemap: %s", self.theme, e)
            return None

    def _cached_dem(self, like: xr.DataArray, result: Any = None):
        result = self.result if result is None else result
        bounds = tuple(like.rio.bounds())
        if not self._dem_cache or self._dem_cache[0] is not result or self._dem_cache[1] != bounds:
            self._dem_cache = (result, bounds, self._dem(result, like))
        return self._dem_cache[2]

    def _title(self, layer) -> str:
        """Short title: the product's name in the page's language, and its unit."""
        name = option_label("product", str(layer.name), self.language)
        units = self._units(layer)
        if not units or self._date_origin(layer) is not None:
            return name
        return f"{name}, {units}" if name.endswith(")") else f"{name} ({units})"  # never "(SCD) (days)"

    # ---------------------------------------------------------------- drawing
    def map_element(self, layer: xr.DataArray | None = None):
        """The HoloViews map of ``layer`` (default: the current result's): basemap, data, masked pixels."""
        import holoviews as hv
        import holoviews.plotting.bokeh  # the Bokeh backend's options (as hv.extension("bokeh") loads them)
        from bokeh.models import CustomJSHover, MercatorTicker, MercatorTickFormatter

        if layer is None:  # the same for every session showing this result and product: drawn once
            layer, crs, data, grey = self._shared_rasters(self.result)
        else:
            layer, crs, data, grey = self._map_rasters(layer)
        self._map_crs = crs
        left, bottom, right, top = (float(v) for v in data.rio.bounds())
        width, height = frame_size(right - left, top - bottom)
        lang = self.language

        categories = self._categories(layer)
        if categories:  # classes drawn as 0..n-1: the colour bar shows only the classes, with no gaps
            data, categories = _class_indices(data, categories)
        value_js = self._value_js(data, categories)
        opts = {"clim": self._clim(layer)} if self._clim(layer) is not None else {}
        clabel = self._units(layer) if self._date_origin(layer) is None else ""  # "" (not None): no long_name
        colorbar = {}
        cmap = self._cmap()
        if categories:
            cat = categorical_options(categories)
            cmap, colorbar = cat.pop("cmap"), {**colorbar, **cat.pop("colorbar_opts")}
            opts.update(cat)
        origin = self._date_origin(layer)
        if origin is not None:
            from bokeh.models import CustomJSTickFormatter

            colorbar["formatter"] = CustomJSTickFormatter(args={"origin": _epoch_ms(origin)}, code=_DATE_JS)
        hover = [(tr("lon", lang), "$x{custom}"), (tr("lat", lang), "$y{custom}"),
                 (tr("class", lang) if categories else tr("value", lang), "@image{custom}")]
        formatters = {"$x": CustomJSHover(code=_LON_JS), "$y": CustomJSHover(code=_LAT_JS),
                      "@image": CustomJSHover(code=value_js)}
        opts.pop("aggregator", None)  # drawn at full resolution (thinned when huge): nothing is aggregated
        image = hv.Image(_thin(data), kdims=["x", "y"], vdims=[str(data.name)]).opts(
            cmap=cmap, colorbar=True, tools=["hover", "tap"], hover_tooltips=hover, hover_formatters=formatters,
            clabel=clabel, colorbar_opts=colorbar, clipping_colors={"NaN": "transparent"}, **opts)
        layers = [image]
        if grey is not None:
            layers.append(hv.Image(grey, kdims=["x", "y"], vdims=["masked"]).opts(
                cmap=[MASKED_COLOUR], alpha=0.85, colorbar=False, tools=[]))
            layers.append(hv.Points([(np.nan, np.nan)], label=self._masked_label()).opts(
                color=MASKED_COLOUR, marker="square", size=12))
        base = self._shared_basemap(self.result, layer)
        overlay = hv.Overlay(([base] if base is not None else []) + layers)
        title = self._title(layer)
        overlay = overlay.opts(
            title=title, xlim=(left, right), ylim=(bottom, top), frame_width=width, frame_height=height,
            xlabel=tr("lon", lang), ylabel=tr("lat", lang),
            xformatter=MercatorTickFormatter(dimension="lon"), xticks=MercatorTicker(dimension="lon"),
            yformatter=MercatorTickFormatter(dimension="lat"), yticks=MercatorTicker(dimension="lat"),
            fontsize={"title": "11pt" if len(title) < 45 else "9pt"}, legend_position="bottom",
            active_tools=["wheel_zoom"])
        return overlay, image

    def prepare_map(self, result: Any) -> None:
        """Make the parts of ``result``'s map that every session showing it shares (its Web Mercator
        rasters, the relief basemap), in the calling thread: the shared run's worker calls it, so
        that the sessions' event loop only builds each page's own plot (the relief's numba kernel
        compiles there too, not on the loop).  A failure is left to the drawing, which shows it."""
        try:
            layer = self._shared_rasters(result)[0]
            self._shared_basemap(result, layer)
        except Exception as e:  # noqa: BLE001 - the page's own drawing meets it again and shows it
            log.info("dashboard %s: map not prepared in the worker: %s", self.theme, e)

    def _shared_rasters(self, result: Any):
        """:meth:`_map_rasters` of ``result`` and the current product, made once for every session."""
        return memo(result, ("map", self._run_key()), lambda: self._map_rasters(None, result))

    def _shared_basemap(self, result: Any, layer: xr.DataArray):
        """The basemap under ``layer`` (cut to its data), made once for every session showing ``result``."""
        return memo(result, ("basemap", tuple(layer.rio.bounds()), is_offline()),
                    lambda: basemap(lambda: self._cached_dem(layer, result)))

    def _map_rasters(self, layer: xr.DataArray | None, result: Any = None):
        """(layer cut to its data, its CRS, the layer in Web Mercator, the masked pixels in Web
        Mercator or None): what the map draws, the same in every session and language.  ``result``:
        the result drawn (default: the page's current one)."""
        result = self.result if result is None else result
        layer = clearest_time(self._layer(result) if layer is None else layer)
        masked = self._masked(result, layer)
        keep = np.isfinite(layer.astype("float32"))
        if masked is not None:
            masked = masked.fillna(False).astype(bool)
            keep = keep | masked
        crs = layer.rio.crs
        layer = crop_to(layer, keep)
        grey = None
        if masked is not None and bool(masked.any()):
            cut = crop_to(masked, keep)
            grey = to_mercator(cut.astype("float32").where(cut).rename("masked"))
        return layer, crs, to_mercator(layer), grey

    def _value_js(self, data: xr.DataArray, categories) -> str:
        """Browser code showing a hovered value: its class name, its date, or the value with its unit."""
        if categories:
            names = {int(code): name for code, _, name in categories}
            import json

            table = json.dumps(names, ensure_ascii=False)
            return f"const n = {table}; return isNaN(value) ? '' : (n[Math.round(value)] ?? String(value));"
        origin = self._date_origin(data)
        if origin is not None:
            return f"const origin = {_epoch_ms(origin)}; {_DATE_JS.replace('tick', 'value')}"
        digits = _decimals(np.asarray(data.values, dtype="float64"))
        units = self._units(data)
        suffix = f" + ' {units}'" if units else ""
        locale = "fr-FR" if self.language == "fr" else "en-GB"  # 1,5 or 1.5
        number = f"value.toLocaleString('{locale}', {{minimumFractionDigits: {digits}, maximumFractionDigits: {digits}}})"
        return f"return isNaN(value) ? '' : {number}{suffix};"

    def _redraw(self, *_):
        """Map of the current layer (see :meth:`map_element`); a click on it shows the pixel's series."""
        if self.result is None:
            return
        import holoviews as hv

        overlay, image = self.map_element()
        if self._has_series():  # the stream must exist before the pane renders the plot, or clicks are not linked
            tap = hv.streams.Tap(source=image, x=None, y=None)
            tap.add_subscriber(self._on_tap)
            self._point.object = tr("click_hint", self.language)
        self._map.object = overlay

    def _has_series(self) -> bool:
        return type(self)._point_series is not MapView._point_series

    def _point_series(self, x: float, y: float):
        """(HoloViews element, Markdown text) for the pixel at ``x, y`` in the layer's CRS; themes override it."""
        raise NotImplementedError

    def _pixel_place(self, x: float, y: float) -> str:
        """"**Pixel** lon, lat" of the point ``x, y`` in the layer's CRS, in the page's language."""
        from ._webmercator import to_lonlat

        lon, lat = to_lonlat(x, y, self._map_crs)
        return tr("pixel_at", self.language).format(lon=f"{lon:.5f}°", lat=f"{lat:.5f}°")

    def _on_tap(self, x, y):
        if x is None or y is None or self.result is None:
            return
        try:
            if self._map_crs is not None:  # the map is in Web Mercator, the result in its own CRS
                x, y = to_native(x, y, self._map_crs)
            plot, text = self._point_series(x, y)
            self._series.object = None  # a series hidden since (a recompute) must not be shown with its old plot
            self._series.visible = True  # before the plot: a visible change syncs the rendered plot's properties
            self._series.object, self._point.object = plot, text
        except Exception as e:  # noqa: BLE001 - shown in the page, logged, the app stays usable
            log.error("dashboard %s: pixel series failed: %s\n%s", self.theme, e, traceback.format_exc())
            said, details = error_text(e, self.language)
            self._say(said, "danger", details=details)


#: browser code: a day count ``tick`` since ``origin`` (ms since 1970) as an ISO date
_DATE_JS = ("if (isNaN(tick)) return ''; "
            "return new Date(origin + Math.round(tick) * 86400000).toISOString().slice(0, 10);")


def _thin(data: xr.DataArray) -> xr.DataArray:
    """``data`` with every n-th row and column when it has more than :data:`MAX_PIXELS` pixels (the
    browser gets a picture of about the screen's size, not the whole raster)."""
    step = int(np.ceil(np.sqrt(data.size / MAX_PIXELS)))
    return data if step <= 1 else data.isel(x=slice(None, None, step), y=slice(None, None, step))


def _class_indices(data: xr.DataArray, categories):
    """``data``'s class codes as their positions in ``categories`` (NaN for other codes), and the
    categories renumbered accordingly."""
    values = np.asarray(data.values)
    out = np.full(values.shape, np.nan, dtype="float32")
    for i, (code, _, _) in enumerate(categories):
        out[values == code] = i
    return data.copy(data=out), [(i, colour, name) for i, (_, colour, name) in enumerate(categories)]


def _epoch_ms(day) -> int:
    import pandas as pd

    return int(pd.Timestamp(day).value // 1_000_000)
