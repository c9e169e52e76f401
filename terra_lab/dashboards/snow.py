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

from ._common import DashboardBase, tr

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

        cat = terra_lab.catalog.open(self.catalog)
        start, end = f"{self.year}-08-15", f"{self.year + 1}-09-15"
        res = cat.search(self.aoi(), (start, end), self.collection, max_cloud=self.max_cloud)
        if len(res) == 0:
            raise ValueError(tr("no_data", self.language))
        cube = terra_lab.load(res, bands=["green", "red", "swir16"], resolution=20, raw_masks=True,
                              chunks={"time": -1, "y": 1008, "x": 1008})
        dem = terra_lab.load(cat.search(collections="DEM_DEMO"), bands=["elevation"], like=cube, masks=False)
        th = self._thresholds()
        lines = snowline(cube, dem, ndsi_pass1=th["ndsi_pass1"], red_pass1=th["red_pass1"]).compute()
        l2b = snow_l2b(cube, dem, snowlines=lines, **th)
        annual = snow_l3b(l2b, self.year).compute()
        elevation = dem["elevation"].isel(time=0, drop=True).compute()
        return annual, elevation

    def _statistics(self, result) -> "pn.pane.DataFrame":
        import pandas as pd

        annual, elevation = result
        bands = (np.floor(elevation.values / 200) * 200).astype("float")
        df = pd.DataFrame({"elevation band (m)": bands.ravel(), "SCD (days)": annual["SCD"].values.ravel()})
        df = df[np.isfinite(df["elevation band (m)"])]
        table = df.groupby("elevation band (m)")["SCD (days)"].agg(["mean", "median", "count"]).round(1)
        return pn.pane.DataFrame(table, sizing_mode="stretch_width", name="stats")

    def _result_attrs(self) -> dict:
        return dict(self.result[0].attrs)

    def _layer(self, result):
        annual, _ = result
        return annual[self.product]
