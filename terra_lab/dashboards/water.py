"""Water workshop dashboard: water surfaces and water quality (turbidity, SPM, chlorophyll-a) of a lake.

Calls :mod:`terra_lab.products.water`; the map shows the period's median of the chosen
product over the lake, and a table gives its monthly median.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from ._common import DashboardBase

__all__ = ["WaterDashboard"]

PRESETS = {
    "lake": {"index": "MNDWI", "threshold": "otsu", "erode": 1},
    "river": {"index": "MNDWI", "threshold": 0.0, "erode": 0},
    "turbid estuary": {"index": "NDWI", "threshold": 0.0, "erode": 1},
}


class WaterDashboard(DashboardBase):
    """Water surfaces and quality over a chosen water body and period."""

    start = param.Date(default=None, doc="start of the period")
    end = param.Date(default=None, doc="end of the period")
    product = param.Selector(default="turbidity", objects=["water", "turbidity", "spm", "chla"])
    preset = param.Selector(default="lake", objects=list(PRESETS))
    index = param.Selector(default="MNDWI", objects=["MNDWI", "NDWI"])
    threshold = param.String(default="otsu", doc="'otsu' or a number")
    erode = param.Integer(default=1, bounds=(0, 5), doc="shore pixels left out (pixels)")
    theme = "water"

    def __init__(self, **params):
        import datetime as dt

        params.setdefault("west", 6.272)  # the demo's lake and its shores
        params.setdefault("south", 45.183)
        params.setdefault("east", 6.294)
        params.setdefault("north", 45.195)
        params.setdefault("start", dt.date(2024, 4, 1))
        params.setdefault("end", dt.date(2024, 8, 31))
        super().__init__(**params)

    def _preset_params(self) -> list[str]:
        return ["preset", "start", "end", "product"]

    def _standard_params(self) -> list[str]:
        return ["start", "end", "product"]

    def _expert_params(self) -> list[str]:
        return ["index", "threshold", "erode"]

    def _settings(self) -> dict:
        if self.mode == "preset":
            return dict(PRESETS[self.preset])
        thr = self.threshold.strip()
        try:
            threshold = float(thr)
        except ValueError:
            if thr != "otsu":
                raise ValueError(f"threshold {thr!r}: give 'otsu' or a number such as 0") from None
            threshold = "otsu"
        return {"index": self.index, "threshold": threshold, "erode": self.erode}

    def _compute(self):
        import terra_lab
        from terra_lab.products.water import pure_water, water_mask, water_quality

        _, res = self._search(self.start, self.end)
        cube = terra_lab.load(res, bands=["green", "red", "rededge1", "nir", "nir08", "swir16"], resolution=20,
                              bbox=self.aoi())
        s = self._settings()
        water = water_mask(cube, index=s["index"], threshold=s["threshold"])
        quality = water_quality(cube, water, erode=s["erode"]).compute()
        quality["water"] = pure_water(water, 0).astype("float32").compute()
        return quality

    def _result_attrs(self) -> dict:
        return dict(self.result[self.product].attrs)

    def _layer(self, result):
        da = result[self.product]
        out = da.mean("time") if self.product == "water" else da.median("time")
        out.attrs.update(da.attrs)
        return out.rename(self.product)

    def _statistics(self, result):
        import pandas as pd

        monthly = result[self.product].median(("x", "y")).to_series()
        table = monthly.groupby(pd.DatetimeIndex(monthly.index).to_period("M")).median().round(3)
        frame = table.rename(f"{self.product} (median)").to_frame()
        frame.index = frame.index.astype(str)
        return pn.pane.DataFrame(frame, sizing_mode="stretch_width", name="stats")

    def _point_series(self, x: float, y: float):
        """The shown product through the period at the clicked pixel (water: 1 on water dates)."""
        import holoviews as hv

        series = self.result[self.product].sel(x=x, y=y, method="nearest")
        s = series.to_series().dropna()
        units = series.attrs.get("units", "")
        title = f"{self.product} ({units}) x={float(series.x):.0f} y={float(series.y):.0f}"
        plot = (hv.Curve((s.index, s.values), "date", self.product) * hv.Scatter((s.index, s.values), "date", self.product)
                .opts(size=5, color="navy")).opts(responsive=True, height=240, title=title)
        fr = self.language == "fr"
        if self.product == "water":
            summary = (f"en eau {int(s.sum())} dates sur {len(s)}" if fr else f"water on {int(s.sum())} of {len(s)} dates")
        else:
            median = f"{s.median():.3g} {units}" if len(s) else "-"
            summary = f"{len(s)} dates valides, médiane {median}" if fr else f"{len(s)} valid dates, median {median}"
        where = f"**Pixel** ({float(series.x):.0f}, {float(series.y):.0f})"
        return plot, f"{where} : {summary}" if fr else f"{where}: {summary}"

    def _cmap(self) -> str:
        return {"water": "Blues", "turbidity": "YlOrBr", "spm": "copper", "chla": "Greens"}[self.product]

    def _clim(self, layer):
        finite = np.isfinite(layer.values)
        return (0, float(np.nanpercentile(layer.values, 98))) if finite.any() else (0, 1)

    def _title(self, layer) -> str:
        return f"{layer.name} ({layer.attrs.get('units', '')})"
