"""Water workshop dashboard: water surfaces and water quality (turbidity, SPM, chlorophyll-a) of a lake.

It calls :func:`terra_lab.workflows.water.water_workflow` and displays its result: the map
shows the period's median of the chosen product over the lake, a table its monthly median.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import param

from ..workflows.water import (
    PRESETS,
    PRODUCTS,
    WaterSettings,
    parse_threshold,
    water_workflow,
)
from ._common import DashboardBase
from ._i18n import option_label, tr

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
    setting_parsers: ClassVar[dict] = {"threshold": parse_threshold}

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

    def _statistics(self, result):
        """The area's median of the product shown, per month."""
        from ._tables import format_number, format_share, table_pane

        lang, values = self.language, result.monthly[self.product]
        name = option_label("product", self.product, lang)
        if self.product == "water":
            cells = [format_share(v, lang) for v in values]
        else:
            unit = self._units(self.result.products[self.product])
            name = f"{name}, {tr('col_median', lang).lower()} ({unit})"
            cells = [format_number(v, 1, lang) for v in values]
        return table_pane(pd.DataFrame({tr("col_month", lang): [str(m) for m in values.index], name: cells}),
                          name="stats")

    def _units(self, layer) -> str:
        return "%" if self.product == "water" else super()._units(layer)

    def _point_series(self, x: float, y: float):
        """The shown product through the period at the clicked pixel (water: 1 on water dates)."""
        import holoviews as hv

        series = self.result.products[self.product].sel(x=x, y=y, method="nearest")
        s = series.to_series().dropna()
        lang = self.language
        units = "" if self.product == "water" else self._units(series)
        place = self._pixel_place(float(series.x), float(series.y))
        name = option_label("product", self.product, lang)
        title = f"{name} ({units})" if units else name
        date = tr("date", lang)
        plot = (hv.Curve((s.index, s.values), date, name) * hv.Scatter((s.index, s.values), date, name)
                .opts(size=5, color="navy")).opts(responsive=True, height=240, title=title)
        if self.product == "water":
            summary = tr("water_days", lang).format(n=int(s.sum()), total=len(s))
        else:
            from ._tables import format_number

            median = format_number(s.median(), 2, lang, units) if len(s) else "–"
            summary = tr("water_median", lang).format(n=len(s), median=median)
        return plot, f"{place} : {summary}" if lang == "fr" else f"{place}: {summary}"

    def _cmap(self) -> str:
        return {"water": "Blues", "turbidity": "YlOrBr", "spm": "copper", "chla": "Greens"}[self.product]

    def _clim(self, layer):
        finite = np.isfinite(layer.values)
        return (0, float(np.nanpercentile(layer.values, 98))) if finite.any() else (0, 1)

    def _layer(self, result):
        layer = result.summary(self.product)
        if self.product == "water":  # frequency as a percentage of the clear dates
            layer = (100.0 * layer).assign_attrs(layer.attrs, units="%").rename("water")
        return layer
