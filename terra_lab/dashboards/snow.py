"""Snow workshop dashboard: snow cover duration, onset and melt-out over a hydrological year.

A ``pn.viewable.Viewer`` with ``param`` state: the page shows a map of the chosen L3B
product, statistics per 200 m elevation band, and offers the result as Cloud-Optimized
GeoTIFF and NetCDF (with provenance).  It calls :func:`terra_lab.workflows.snow.snow_workflow`
(reflectance and DEM from the chosen catalogue) and displays its result; it computes nothing itself.

The ``analysis`` parameter switches the page to glacier change (issues 16 and 17):
:func:`terra_lab.workflows.glacier.glacier_workflow` compares the catalogue's two DEMs over the
glaciers of its outline collection; the map shows the elevation change (m, a diverging colour
map centred on 0) or the coloured multidirectional shaded relief, with the outlines and the
equilibrium line of the chosen summer (:mod:`._glacier_view`), and the tables the change per
glacier and the ELA per summer.  The default analysis, snow, is the page as it was.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import param
import xarray as xr

from ..products.snow import L2B_CODES
from ..workflows.glacier import GlacierResult, GlacierSettings, glacier_workflow
from ..workflows.snow import PRESETS, SnowSettings, elevation_band_table, snow_workflow
from ._common import DashboardBase
from ._i18n import tr

__all__ = ["ANALYSES", "SnowDashboard"]

log = logging.getLogger(__name__)

#: height of the elevation bands of the statistics table (m)
ELEVATION_BAND = 200.0
#: the products of each analysis, the first shown by default: the L3B syntheses, or the glacier's
#: elevation change and coloured shaded relief
ANALYSES = {"snow": ["SCD", "SOD", "SMOD", "NOBS"], "glacier": ["dh", "relief"]}


class SnowDashboard(DashboardBase):
    """Snow cover duration and dates for a hydrological year (LIS L2B + L3B)."""

    year = param.Integer(default=2023, bounds=(2015, 2030), doc="hydrological year starting 1 September")
    # every analysis' products (a page may be opened on either); the analysis narrows them (DashboardBase)
    product = param.Selector(default="SCD", objects=[p for products in ANALYSES.values() for p in products])
    preset = param.Selector(default="alpine", objects=list(PRESETS))
    ndsi_pass1 = param.Number(default=SnowSettings.ndsi_pass1, bounds=(0.0, 1.0))
    red_pass1 = param.Number(default=SnowSettings.red_pass1, bounds=(0.0, 1.0))
    ndsi_pass2 = param.Number(default=SnowSettings.ndsi_pass2, bounds=(0.0, 1.0))
    red_pass2 = param.Number(default=SnowSettings.red_pass2, bounds=(0.0, 1.0))
    dem_collection = param.String(default="", doc="DEM collection id (empty: found in the catalogue)")
    analysis = param.Selector(default="snow", objects=list(ANALYSES), doc="snow cover, or glacier change and ELA")
    summer = param.Integer(default=2023, bounds=(2015, 2030),
                           doc="the summer whose end-of-summer snowline gives the ELA (the later DEM: that year or before)")
    max_slope = param.Number(default=GlacierSettings.max_slope, bounds=(10.0, 90.0),
                             doc="steeper slopes (degrees) are left out of the stable terrain")
    ela_years = param.Integer(default=GlacierSettings.ela_years, bounds=(1, 10), doc="summers in the ELA table")
    outline_collection = param.String(default="", doc="glacier-outline collection id (empty: found in the catalogue)")
    theme = "snow"
    settings_class, presets = SnowSettings, PRESETS  # preset -> settings: DashboardState._settings
    analysis_products = ANALYSES

    def _expert_params(self) -> list[str]:
        if self.analysis == "glacier":
            return ["ela_years", "outline_collection", "dem_collection"]
        return ["ndsi_pass1", "red_pass1", "ndsi_pass2", "red_pass2", "dem_collection"]

    def _standard_params(self) -> list[str]:
        if self.analysis == "glacier":
            return ["analysis", "summer", "product", "max_slope"]
        return ["analysis", "year", "product"]

    def _preset_params(self) -> list[str]:
        if self.analysis == "glacier":
            return ["analysis", "summer", "product"]
        return ["analysis", "preset", "year", "product"]

    @staticmethod
    def _is_glacier(result) -> bool:
        return isinstance(result, GlacierResult)

    def _analysis_of(self, result) -> str:
        return "glacier" if self._is_glacier(result) else "snow"

    def _compute(self):
        if self.analysis == "glacier":
            settings = GlacierSettings(max_slope=float(self.max_slope), ela_years=int(self.ela_years))
            return glacier_workflow(aoi=self.aoi(), year=self.summer, settings=settings,
                                    outline_collection=self.outline_collection.strip() or None,
                                    dem_collection=self.dem_collection.strip() or None, **self._sources())
        return snow_workflow(aoi=self.aoi(), year=self.year, settings=self._settings(),
                             dem_collection=self.dem_collection.strip() or None, **self._sources())

    def _statistics(self, result):
        """Mean, median and pixel count of the product shown per 200 m elevation band (valid pixels only);
        glacier: the change per glacier and the ELA per summer."""
        from ._tables import band_label, format_date, format_number, table_pane

        if self._is_glacier(result):
            from ._glacier_view import glacier_tables

            return glacier_tables(result, self.language)
        layer, lang = self._layer(result), self.language
        table = elevation_band_table(layer, result.elevation, band=ELEVATION_BAND)
        table = table[table["count"] > 0]  # bands without a valid pixel of this product
        origin = self._date_origin(layer)
        unit = "" if origin is not None else self._units(layer)

        def value(v):
            if origin is not None:
                return format_date(pd.Timestamp(origin) + pd.Timedelta(days=round(v))) if np.isfinite(v) else "–"
            return format_number(v, 0 if str(layer.name) == "NOBS" else 1, lang)

        head = f" ({unit})" if unit else ""
        return table_pane(pd.DataFrame({
            tr("col_elevation_band", lang): [band_label(low, ELEVATION_BAND) for low in table.index],
            tr("col_mean", lang) + head: [value(v) for v in table["mean"]],
            tr("col_median", lang) + head: [value(v) for v in table["median"]],
            tr("col_pixels", lang): [format_number(v, 0, lang) for v in table["count"]],
        }), name="stats")

    def _result_attrs(self) -> dict:
        return dict(self.result.dh.attrs if self._is_glacier(self.result) else self.result.annual.attrs)

    def _observed(self, result) -> xr.DataArray:
        """Pixels with at least one acquisition (elsewhere: no data, outside the images)."""
        return (result.l2b != L2B_CODES["nodata"]).any("time")

    def _masked(self, result, layer=None) -> xr.DataArray | None:
        """Observed pixels without one clear observation in the year (always cloudy); glacier: none."""
        if self._is_glacier(result):
            return None
        return self._observed(result) & (result.annual["NOBS"] == 0)

    def _glacier_layer(self, result):
        """The elevation change (m), or the later DEM's elevation under the coloured relief (its colour bar)."""
        name = self._shown(result)
        source = result.dh if name == "dh" else result.elevation
        layer = source.astype("float32").rename(name)
        layer.attrs = {k: v for k, v in source.attrs.items() if k != "_FillValue"}
        layer.attrs["units"] = "m"
        return layer

    def _layer(self, result):
        """The product shown, NaN where there is no data or no clear observation (and, for dates, no snow)."""
        if self._is_glacier(result):
            return self._glacier_layer(result)
        annual = result.annual
        valid = self._observed(result) & (annual["NOBS"] > 0)
        product = self._shown(result)
        if product in ("SOD", "SMOD"):
            valid = valid & (annual["SCD"] > 0)  # no snow period: no onset or melt-out date
        layer = annual[product].astype("float32").where(valid)
        layer.attrs = dict(annual[product].attrs)
        layer.attrs.pop("_FillValue", None)
        return layer.rename(product)

    def _units(self, layer) -> str:
        if self._is_glacier(self.result):
            return "m"
        return {"SCD": tr("unit_days", self.language), "NOBS": tr("unit_dates", self.language)}.get(str(layer.name), "")

    def _date_origin(self, layer):
        """SOD and SMOD count days from 1 September of the hydrological year."""
        if self._is_glacier(self.result):
            return None
        return f"{self.result.year}-09-01" if str(layer.name) in ("SOD", "SMOD") else None

    def _glacier_range(self) -> tuple[float, float]:
        layer = np.asarray(self._glacier_layer(self.result).values, np.float64)
        finite = layer[np.isfinite(layer)]
        if not finite.size:
            return (-1.0, 1.0)
        if self._shown(self.result) == "dh":  # centred on 0: thinning red, thickening blue
            edge = max(float(np.percentile(np.abs(finite), 99)), 1.0)
            return (-edge, edge)
        return (float(finite.min()), float(finite.max()))

    def _clim(self, layer):
        return self._glacier_range() if self._is_glacier(self.result) else None

    def _cmap(self):
        from bokeh.palettes import Blues256, Purples256

        if self._is_glacier(self.result):
            from ._glacier_view import ramp_cmap

            return "RdBu" if self._shown(self.result) == "dh" else ramp_cmap(*self._glacier_range())

        # sequential maps from a light tint, not white: 0 days stays visible over the basemap
        light_to_dark = {"SCD": Blues256[::-1][40:], "NOBS": Purples256[::-1][40:]}
        product = self._shown(self.result)
        return light_to_dark.get(product, {"SOD": "viridis", "SMOD": "viridis_r"}.get(product))

    def _dem(self, result, like):
        return result.elevation.sel(x=like["x"], y=like["y"])

    def map_element(self, layer=None):
        """The map; glacier: the coloured relief drawn over its elevation layer (whose colour bar and hover
        it keeps), the outlines and the equilibrium line of the summer."""
        overlay, image = super().map_element(layer)
        if not self._is_glacier(self.result):
            return overlay, image
        import holoviews as hv

        from ._glacier_view import glacier_lines, relief_rgb

        shown = self._glacier_layer(self.result)
        elements = list(overlay)
        if self._shown(self.result) == "relief":
            keep = np.isfinite(shown)
            from ._webmercator import crop_to

            left, bottom, right, top = (float(v) for v in crop_to(shown, keep).rio.bounds())
            elements.insert(elements.index(image) + 1, relief_rgb(self.result.relief, (left, bottom, right, top)))
        elements += glacier_lines(self.result, self.language)
        return hv.Overlay(elements).opts(**overlay.opts.get("plot").kwargs), image

    def _redraw(self, *_):
        super()._redraw()
        if self._is_glacier(self.result):  # a click gives the ELA per summer against the pixel, not a time series
            self._point.object = tr("glacier_click_hint", self.language)

    def _glacier_point(self, x: float, y: float):
        """The ELA per summer with the clicked pixel's elevation, and the pixel's elevation change."""
        import holoviews as hv

        from ._glacier_view import ELA_COLOUR
        from ._tables import format_number

        lang, result = self.language, self.result
        z = float(result.elevation.sel(x=x, y=y, method="nearest"))
        dh = float(result.dh.sel(x=x, y=y, method="nearest"))
        summer, ela_axis = tr("col_summer", lang), tr("col_ela", lang)
        table = result.ela.groupby("year")["ela_m"].mean()
        plot = (hv.Curve((table.index, table.values), summer, ela_axis).opts(color=ELA_COLOUR)
                * hv.Scatter((table.index, table.values), summer, ela_axis).opts(color=ELA_COLOUR, size=7)
                * hv.HLine(z).opts(color="grey", line_dash="dashed"))
        plot = plot.opts(responsive=True, height=240, title=tr("ela_series", lang).format(z=f"{z:.0f}"))
        place = self._pixel_place(x, y)
        text = tr("glacier_pixel", lang).format(z=f"{z:.0f}", dh=format_number(dh, 1, lang, "m"))
        return plot, f"{place} : {text}" if lang == "fr" else f"{place}: {text}"

    def _point_series(self, x: float, y: float):
        """L2B snow codes of the clicked pixel through the year, with its onset and melt-out dates
        (glacier: the ELA per summer against the pixel's elevation)."""
        import holoviews as hv

        if self._is_glacier(self.result):
            return self._glacier_point(x, y)
        annual, elevation, l2b = self.result.annual, self.result.elevation, self.result.l2b
        codes = l2b.sel(x=x, y=y, method="nearest").values
        dates = pd.DatetimeIndex(l2b["time"].values)
        seen = (codes == L2B_CODES["no_snow"]) | (codes == L2B_CODES["snow"])
        lang = self.language
        date, snow = tr("date", lang), tr("snow_axis", lang)
        df = pd.DataFrame({date: dates[seen], snow: (codes[seen] == L2B_CODES["snow"]).astype(int)})
        pixel = annual.sel(x=x, y=y, method="nearest")
        scd, nobs = int(pixel["SCD"]), int(pixel["NOBS"])
        z = float(elevation.sel(x=x, y=y, method="nearest"))
        title = tr("snow_series", lang).format(z=f"{z:.0f}")
        plot = hv.Curve(df, date, snow).opts(interpolation="steps-post", color="steelblue", title=title,
                                             ylim=(-0.1, 1.1), responsive=True, height=240, tools=["hover"])
        plot = plot * hv.Scatter(df, date, snow).opts(size=5, color="navy")
        base = pd.Timestamp(f"{self.result.year}-09-01")
        for name, color in (("SOD", "green"), ("SMOD", "red")):
            if int(pixel[name]) > 0:
                plot = plot * hv.VLine(base + pd.Timedelta(days=int(pixel[name]))).opts(color=color, line_dash="dashed")
        place = self._pixel_place(float(pixel.x), float(pixel.y))
        sep = " : " if lang == "fr" else ", "
        return plot, place + sep + tr("snow_pixel", lang).format(z=f"{z:.0f}", scd=scd, nobs=nobs)
