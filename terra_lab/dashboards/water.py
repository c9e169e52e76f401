"""Water workshop dashboard: water surfaces and water quality (turbidity, SPM, chlorophyll-a) of a lake.

It calls :func:`terra_lab.workflows.water.water_workflow` and displays its result: the map
shows the period's median of the chosen product over the lake, a table its monthly median.
"""

from __future__ import annotations

import numpy as np
import panel as pn
import param

from ..workflows.water import PRESETS, PRODUCTS, WaterSettings, parse_threshold, water_workflow
from ._common import DashboardBase

__all__ = ["WaterDashboard"]


class WaterDashboard(DashboardBase):
    """Water surfaces and quality over a chosen water body and period."""

    start = param.Date(default=None, doc="start of the period")
    end = param.Date(default=None, doc="end of the period")
    product = param.Selector(default="turbidity", objects=list(PRODUCTS))
    preset = param.Selector(default="lake", objects=list(PRESETS))
    index = param.Selector(default=WaterSettings.index, objects=["MNDWI", "NDWI"])
    threshold = param.String(default=str(WaterSettings.threshold), doc="'otsu' or a number")
    erode = param.Integer(default=WaterSettings.erode, bounds=(0, 5), doc="shore pixels left out (pixels)")
    theme = "water"
    settings_class, presets = WaterSettings, PRESETS  # preset -> settings: DashboardState._settings
    setting_parsers = {"threshold": parse_threshold}

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

    def _compute(self):
        self._check_period(self.start, self.end)
        return water_workflow(aoi=self.aoi(), start=self.start, end=self.end, settings=self._settings(),
                              **self._sources())

    def _result_attrs(self) -> dict:
        return dict(self.result.products[self.product].attrs)

    def _layer(self, result):
        return result.summary(self.product)

    def _statistics(self, result):
        frame = result.monthly[[self.product]].rename(columns={self.product: f"{self.product} (median)"})
        return pn.pane.DataFrame(frame, sizing_mode="stretch_width", name="stats", escape=True)

    def _point_series(self, x: float, y: float):
        """The shown product through the period at the clicked pixel (water: 1 on water dates)."""
        import holoviews as hv

        series = self.result.products[self.product].sel(x=x, y=y, method="nearest")
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
