"""Snow workshop dashboard: snow cover duration, onset and melt-out over a hydrological year.

A ``pn.viewable.Viewer`` with ``param`` state: the page shows a map of the chosen L3B
product, statistics per 200 m elevation band, and offers the result as Cloud-Optimized
GeoTIFF and NetCDF (with provenance).  It calls :mod:`terra_lab.products.snow`; it never
re-implements it.
"""

from __future__ import annotations

import logging

import numpy as np
import panel as pn
import param

from ._common import DashboardBase

__all__ = ["SnowDashboard"]

log = logging.getLogger(__name__)

#: parameter presets by landscape type (THEIA on-demand services offer such presets)
PRESETS = {
    "alpine": {"ndsi_pass1": 0.4, "red_pass1": 0.20, "ndsi_pass2": 0.15, "red_pass2": 0.04},
    "forested mountains": {"ndsi_pass1": 0.4, "red_pass1": 0.15, "ndsi_pass2": 0.15, "red_pass2": 0.04},
    "low mountains": {"ndsi_pass1": 0.45, "red_pass1": 0.20, "ndsi_pass2": 0.20, "red_pass2": 0.06},
}


class SnowDashboard(DashboardBase):
    """Snow cover duration and dates for a hydrological year (LIS L2B + L3B)."""

    year = param.Integer(default=2023, bounds=(2015, 2030), doc="hydrological year starting 1 September")
    product = param.Selector(default="SCD", objects=["SCD", "SOD", "SMOD", "NOBS"])
    preset = param.Selector(default="alpine", objects=list(PRESETS))
    ndsi_pass1 = param.Number(default=0.4, bounds=(0.0, 1.0))
    red_pass1 = param.Number(default=0.20, bounds=(0.0, 1.0))
    ndsi_pass2 = param.Number(default=0.15, bounds=(0.0, 1.0))
    red_pass2 = param.Number(default=0.04, bounds=(0.0, 1.0))
    theme = "snow"

    def _expert_params(self) -> list[str]:
        return ["ndsi_pass1", "red_pass1", "ndsi_pass2", "red_pass2"]

    def _standard_params(self) -> list[str]:
        return ["year", "product"]

    def _preset_params(self) -> list[str]:
        return ["preset", "year", "product"]

    def _thresholds(self) -> dict:
        if self.mode == "preset":
            return dict(PRESETS[self.preset])
        return {k: getattr(self, k) for k in self._expert_params()}

    def _compute(self):
        import terra_lab
        from terra_lab.products.snow import snow_l2b, snow_l3b, snowline

        start, end = f"{self.year}-08-15", f"{self.year + 1}-09-15"
        cat, res = self._search(start, end)
        cube = terra_lab.load(res, bands=["green", "red", "swir16"], resolution=20, raw_masks=True,
                              chunks={"time": -1, "y": 1008, "x": 1008})
        dem = terra_lab.load(cat.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"], like=cube, masks=False)
        th = self._thresholds()
        lines = snowline(cube, dem, ndsi_pass1=th["ndsi_pass1"], red_pass1=th["red_pass1"]).compute()
        # the L2B codes are kept in memory (1 byte per pixel-date) for the clicked-pixel time series
        l2b = snow_l2b(cube, dem, snowlines=lines, **th).persist()
        annual = snow_l3b(l2b, self.year).compute()
        elevation = dem["elevation"].isel(time=0, drop=True).compute()
        return annual, elevation, l2b

    def _statistics(self, result) -> "pn.pane.DataFrame":
        import pandas as pd

        annual, elevation, _ = result
        bands = (np.floor(elevation.values / 200) * 200).astype("float")
        df = pd.DataFrame({"elevation band (m)": bands.ravel(), "SCD (days)": annual["SCD"].values.ravel()})
        df = df[np.isfinite(df["elevation band (m)"])]
        table = df.groupby("elevation band (m)")["SCD (days)"].agg(["mean", "median", "count"]).round(1)
        return pn.pane.DataFrame(table, sizing_mode="stretch_width", name="stats")

    def _result_attrs(self) -> dict:
        return dict(self.result[0].attrs)

    def _layer(self, result):
        return result[0][self.product]

    def _point_series(self, x: float, y: float):
        """L2B snow codes of the clicked pixel through the year, with its onset and melt-out dates."""
        import holoviews as hv
        import pandas as pd

        annual, elevation, l2b = self.result
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
        base = pd.Timestamp(f"{self.year}-09-01")
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
