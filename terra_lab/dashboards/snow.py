"""Snow workshop dashboard: snow cover duration, onset and melt-out over a hydrological year.

A ``pn.viewable.Viewer`` with ``param`` state: the page shows a map of the chosen L3B
product, statistics per 200 m elevation band, and offers the result as Cloud-Optimized
GeoTIFF and NetCDF (with provenance).  It calls :func:`terra_lab.workflows.snow.snow_workflow`
(reflectance and DEM from the chosen catalogue) and displays its result; it computes nothing itself.
"""

from __future__ import annotations

import logging

import panel as pn
import param

from ..workflows.snow import PRESETS, SnowSettings, snow_workflow
from ._common import DashboardBase

__all__ = ["SnowDashboard"]

log = logging.getLogger(__name__)


class SnowDashboard(DashboardBase):
    """Snow cover duration and dates for a hydrological year (LIS L2B + L3B)."""

    year = param.Integer(default=2023, bounds=(2015, 2030), doc="hydrological year starting 1 September")
    product = param.Selector(default="SCD", objects=["SCD", "SOD", "SMOD", "NOBS"])
    preset = param.Selector(default="alpine", objects=list(PRESETS))
    ndsi_pass1 = param.Number(default=0.4, bounds=(0.0, 1.0))
    red_pass1 = param.Number(default=0.20, bounds=(0.0, 1.0))
    ndsi_pass2 = param.Number(default=0.15, bounds=(0.0, 1.0))
    red_pass2 = param.Number(default=0.04, bounds=(0.0, 1.0))
    dem_collection = param.String(default="", doc="DEM collection id (empty: found in the catalogue)")
    theme = "snow"

    def _expert_params(self) -> list[str]:
        return ["ndsi_pass1", "red_pass1", "ndsi_pass2", "red_pass2", "dem_collection"]

    def _standard_params(self) -> list[str]:
        return ["year", "product"]

    def _preset_params(self) -> list[str]:
        return ["preset", "year", "product"]

    def _settings(self) -> SnowSettings:
        if self.mode == "preset":
            return PRESETS[self.preset]
        return SnowSettings(self.ndsi_pass1, self.red_pass1, self.ndsi_pass2, self.red_pass2)

    def _compute(self):
        return snow_workflow(aoi=self.aoi(), year=self.year, settings=self._settings(),
                             dem_collection=self.dem_collection.strip() or None, **self._sources())

    def _statistics(self, result) -> "pn.pane.DataFrame":
        return pn.pane.DataFrame(result.elevation_bands, sizing_mode="stretch_width", name="stats", escape=True)

    def _result_attrs(self) -> dict:
        return dict(self.result.annual.attrs)

    def _layer(self, result):
        return result.annual[self.product]

    def _point_series(self, x: float, y: float):
        """L2B snow codes of the clicked pixel through the year, with its onset and melt-out dates."""
        import holoviews as hv
        import pandas as pd

        annual, elevation, l2b = self.result.annual, self.result.elevation, self.result.l2b
        codes = l2b.sel(x=x, y=y, method="nearest").values
        dates = pd.DatetimeIndex(l2b["time"].values)
        seen = (codes == 0) | (codes == 100)
        df = pd.DataFrame({"date": dates[seen], "snow": (codes[seen] == 100).astype(int)})
        pixel = annual.sel(x=x, y=y, method="nearest")
        scd, nobs = int(pixel["SCD"]), int(pixel["NOBS"])
        z = float(elevation.sel(x=x, y=y, method="nearest"))
        lang = self.language
        title = f"L2B (1 = {'neige' if lang == 'fr' else 'snow'}) x={float(pixel.x):.0f} y={float(pixel.y):.0f}, {z:.0f} m"
        plot = hv.Curve(df, "date", "snow").opts(interpolation="steps-post", color="steelblue", title=title,
                                                 ylim=(-0.1, 1.1), responsive=True, height=240, tools=["hover"])
        plot = plot * hv.Scatter(df, "date", "snow").opts(size=5, color="navy")
        base = pd.Timestamp(f"{self.result.year}-09-01")
        for name, color in (("SOD", "green"), ("SMOD", "red")):
            if int(pixel[name]) > 0:
                plot = plot * hv.VLine(base + pd.Timedelta(days=int(pixel[name]))).opts(color=color, line_dash="dashed")
        if lang == "fr":
            text = (f"**Pixel** ({float(pixel.x):.0f}, {float(pixel.y):.0f}), altitude {z:.0f} m : "
                    f"durée d'enneigement **{scd} jours**, {nobs} observations claires")
        else:
            text = (f"**Pixel** ({float(pixel.x):.0f}, {float(pixel.y):.0f}), elevation {z:.0f} m: "
                    f"snow cover duration **{scd} days**, {nobs} clear observations")
        return plot, text
