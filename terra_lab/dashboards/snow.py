"""Snow workshop dashboard: snow cover duration, onset and melt-out over a hydrological year.

A ``pn.viewable.Viewer`` with ``param`` state: the page shows a map of the chosen L3B
product, statistics per 200 m elevation band, and offers the result as Cloud-Optimized
GeoTIFF and NetCDF (with provenance).  It calls :func:`terra_lab.workflows.snow.snow_workflow`
(reflectance and DEM from the chosen catalogue) and displays its result; it computes nothing itself.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import param
import xarray as xr

from ..products.snow import L2B_CODES
from ..workflows.snow import PRESETS, SnowSettings, elevation_band_table, snow_workflow
from ._common import DashboardBase
from ._i18n import tr

__all__ = ["SnowDashboard"]

log = logging.getLogger(__name__)

#: height of the elevation bands of the statistics table (m)
ELEVATION_BAND = 200.0


class SnowDashboard(DashboardBase):
    """Snow cover duration and dates for a hydrological year (LIS L2B + L3B)."""

    year = param.Integer(default=2023, bounds=(2015, 2030), doc="hydrological year starting 1 September")
    product = param.Selector(default="SCD", objects=["SCD", "SOD", "SMOD", "NOBS"])
    preset = param.Selector(default="alpine", objects=list(PRESETS))
    ndsi_pass1 = param.Number(default=SnowSettings.ndsi_pass1, bounds=(0.0, 1.0))
    red_pass1 = param.Number(default=SnowSettings.red_pass1, bounds=(0.0, 1.0))
    ndsi_pass2 = param.Number(default=SnowSettings.ndsi_pass2, bounds=(0.0, 1.0))
    red_pass2 = param.Number(default=SnowSettings.red_pass2, bounds=(0.0, 1.0))
    dem_collection = param.String(default="", doc="DEM collection id (empty: found in the catalogue)")
    theme = "snow"
    settings_class, presets = SnowSettings, PRESETS  # preset -> settings: DashboardState._settings

    def _expert_params(self) -> list[str]:
        return ["ndsi_pass1", "red_pass1", "ndsi_pass2", "red_pass2", "dem_collection"]

    def _standard_params(self) -> list[str]:
        return ["year", "product"]

    def _preset_params(self) -> list[str]:
        return ["preset", "year", "product"]

    def _compute(self):
        return snow_workflow(aoi=self.aoi(), year=self.year, settings=self._settings(),
                             dem_collection=self.dem_collection.strip() or None, **self._sources())

    def _statistics(self, result):
        """Mean, median and pixel count of the product shown per 200 m elevation band (valid pixels only)."""
        from ._tables import band_label, format_date, format_number, table_pane

        layer, lang = self._layer(result), self.language
        table = elevation_band_table(layer, result.elevation, band=ELEVATION_BAND)
        table = table[table["count"] > 0]  # bands without a valid pixel of this product
        origin = self._date_origin(layer)
        unit = "" if origin is not None else self._units(layer)

        def value(v):
            if origin is not None:
                return format_date(pd.Timestamp(origin) + pd.Timedelta(days=round(v))) if np.isfinite(v) else "–"
            return format_number(v, 0 if self.product == "NOBS" else 1, lang)

        head = f" ({unit})" if unit else ""
        return table_pane(pd.DataFrame({
            tr("col_elevation_band", lang): [band_label(low, ELEVATION_BAND) for low in table.index],
            tr("col_mean", lang) + head: [value(v) for v in table["mean"]],
            tr("col_median", lang) + head: [value(v) for v in table["median"]],
            tr("col_pixels", lang): [format_number(v, 0, lang) for v in table["count"]],
        }), name="stats")

    def _result_attrs(self) -> dict:
        return dict(self.result.annual.attrs)

    def _observed(self, result) -> xr.DataArray:
        """Pixels with at least one acquisition (elsewhere: no data, outside the images)."""
        return (result.l2b != L2B_CODES["nodata"]).any("time")

    def _masked(self, result, layer=None) -> xr.DataArray:
        """Observed pixels without one clear observation in the year (always cloudy)."""
        return self._observed(result) & (result.annual["NOBS"] == 0)

    def _layer(self, result):
        """The product shown, NaN where there is no data or no clear observation (and, for dates, no snow)."""
        annual = result.annual
        valid = self._observed(result) & (annual["NOBS"] > 0)
        if self.product in ("SOD", "SMOD"):
            valid = valid & (annual["SCD"] > 0)  # no snow period: no onset or melt-out date
        layer = annual[self.product].astype("float32").where(valid)
        layer.attrs = dict(annual[self.product].attrs)
        layer.attrs.pop("_FillValue", None)
        return layer.rename(self.product)

    def _units(self, layer) -> str:
        return {"SCD": tr("unit_days", self.language), "NOBS": tr("unit_dates", self.language)}.get(str(layer.name), "")

    def _date_origin(self, layer):
        """SOD and SMOD count days from 1 September of the hydrological year."""
        return f"{self.result.year}-09-01" if str(layer.name) in ("SOD", "SMOD") else None

    def _cmap(self):
        from bokeh.palettes import Blues256, Purples256

        # sequential maps from a light tint, not white: 0 days stays visible over the basemap
        light_to_dark = {"SCD": Blues256[::-1][40:], "NOBS": Purples256[::-1][40:]}
        return light_to_dark.get(self.product, {"SOD": "viridis", "SMOD": "viridis_r"}.get(self.product))

    def _dem(self, result, like):
        return result.elevation.sel(x=like["x"], y=like["y"])

    def _point_series(self, x: float, y: float):
        """L2B snow codes of the clicked pixel through the year, with its onset and melt-out dates."""
        import holoviews as hv

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
