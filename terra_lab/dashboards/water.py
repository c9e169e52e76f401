"""Water workshop dashboard: water surfaces and water quality (turbidity, SPM, chlorophyll-a) of a lake.

It calls :func:`terra_lab.workflows.water.water_workflow` and displays its result: the map
shows the period's median of the chosen product over the lake, a table its monthly median.

The ``analysis`` parameter switches the page to soil moisture (issue 17):
:func:`terra_lab.workflows.soil_moisture.soil_moisture_workflow` (Sentinel-1 VV + Sentinel-2 NDVI,
Water Cloud Model inversion); the map shows soil moisture (vol.%) on the radar date with the most
estimated pixels, dense vegetation, snow and open water as masked pixels, and the table the mean per radar date.
The analysis ``"evapotranspiration"`` runs :func:`terra_lab.workflows.evapotranspiration.et_workflow`
(Landsat C2 L2 surface temperature + the nearest station of the catalogue's weather-station collection):
the map shows the daily actual ET of the clearest overpass, or the ten-day ET or water-stress index of
its dekad (``et_product``), the table the means per Landsat date.  Each analysis has its own heading
(``water_<analysis>``, :meth:`DashboardBase._heading_key`).
The default analysis, quality, is the page as it was.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import param

from ..workflows.evapotranspiration import ETResult, et_workflow
from ..workflows.soil_moisture import SoilMoistureResult, soil_moisture_workflow
from ..workflows.water import (
    PRESETS,
    PRODUCTS,
    WaterSettings,
    parse_threshold,
    water_workflow,
)
from ._common import DashboardBase
from ._i18n import option_label, page_text, tr

__all__ = ["ANALYSES", "WaterDashboard"]

#: what the page computes: water surfaces and quality (the lake), soil moisture (its shores) or evapotranspiration
ANALYSES = ("quality", "soil_moisture", "evapotranspiration")
#: the maps of the evapotranspiration analysis
ET_PRODUCTS = ("et_daily", "et_dekad", "stress")
#: the soil-moisture layer's unit as the page shows it (the same in both languages)
SOIL_MOISTURE_UNIT = "vol.%"


class WaterDashboard(DashboardBase):
    """Water surfaces and quality over a chosen water body and period."""

    analysis = param.Selector(default="quality", objects=list(ANALYSES),
                              doc="water surfaces and quality, or soil moisture (Sentinel-1 + Sentinel-2)")
    start = param.Date(default=None, doc="start of the period")
    end = param.Date(default=None, doc="end of the period")
    product = param.Selector(default="turbidity", objects=list(PRODUCTS))
    preset = param.Selector(default="lake", objects=list(PRESETS))
    index = param.Selector(default=WaterSettings.index, objects=["MNDWI", "NDWI"])
    threshold = param.String(default=str(WaterSettings.threshold), doc="'otsu' or a number")
    erode = param.Integer(default=WaterSettings.erode, bounds=(0, 5), doc="shore pixels left out (pixels)")
    et_product = param.Selector(default="et_daily", objects=list(ET_PRODUCTS),
                                doc="evapotranspiration map: daily ET, ten-day ET or water-stress index")
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
        self.param.watch(self._show_result, ["et_product"])  # another ET map of the same result: no new run

    def _preset_params(self) -> list[str]:
        if self.analysis == "soil_moisture":
            return ["analysis", "start", "end"]
        if self.analysis == "evapotranspiration":
            return ["analysis", "start", "end", "et_product"]
        return ["analysis", "preset", "start", "end", "product"]

    def _standard_params(self) -> list[str]:
        if self.analysis == "soil_moisture":
            return ["analysis", "start", "end"]
        if self.analysis == "evapotranspiration":
            return ["analysis", "start", "end", "et_product"]
        return ["analysis", "start", "end", "product"]

    def _expert_params(self) -> list[str]:
        return ["index", "threshold", "erode"] if self.analysis == "quality" else []

    @staticmethod
    def _is_soil_moisture(result) -> bool:
        return isinstance(result, SoilMoistureResult)

    @staticmethod
    def _is_et(result) -> bool:
        return isinstance(result, ETResult)

    def _compute(self):
        self._check_period(self.start, self.end)
        if self.analysis == "soil_moisture":
            return soil_moisture_workflow(aoi=self.aoi(), start=self.start, end=self.end, **self._sources())
        if self.analysis == "evapotranspiration":  # no Sentinel-2: the sources' reflectance collection is not used
            sources = {k: v for k, v in self._sources().items() if k != "collection"}
            return et_workflow(aoi=self.aoi(), start=self.start, end=self.end, **sources)
        return water_workflow(aoi=self.aoi(), start=self.start, end=self.end, settings=self._settings(),
                              **self._sources())

    def _result_attrs(self) -> dict:
        if self._is_soil_moisture(self.result):
            return dict(self.result.moisture.attrs)
        if self._is_et(self.result):
            return dict(self._layer(self.result).attrs)
        return dict(self.result.products[self.product].attrs)

    def _statistics(self, result):
        """The area's median of the product shown, per month (soil moisture: the mean per radar date)."""
        from ._tables import format_number, format_share, table_pane

        if self._is_soil_moisture(result):
            return self._soil_moisture_table(result)
        if self._is_et(result):
            return self._et_table(result)
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

    def _soil_moisture_table(self, result):
        """Per radar date: the mean soil moisture over the estimated pixels, their share and the masked share."""
        from ._tables import format_date, format_number, format_share, table_pane

        lang, dates = self.language, result.dates
        return table_pane(pd.DataFrame({
            tr("col_radar_date", lang): [format_date(t) for t in dates.index],
            tr("col_soil_moisture_mean", lang): [format_number(v, 1, lang) for v in dates["mean"]],
            tr("col_valid_share", lang): [format_share(v, lang) for v in dates["valid"]],
            tr("col_masked_share", lang): [format_share(v, lang) for v in dates["masked"]],
        }), name="stats")

    def _et_table(self, result):
        """Per Landsat date of the period: mean actual ET, reference ET0, stress index, cloud-free share."""
        import panel as pn

        from ._tables import format_date, format_number, format_share, table_pane

        lang, dates, st = self.language, result.dates, result.station
        table = table_pane(pd.DataFrame({
            tr("col_landsat_date", lang): [format_date(t) for t in dates.index],
            tr("col_et_mean", lang): [format_number(v, 2, lang) for v in dates["et"]],
            tr("col_et0", lang): [format_number(v, 2, lang) for v in dates["et0"]],
            tr("col_stress_mean", lang): [format_number(v, 2, lang) for v in dates["stress"]],
            tr("col_clear_share", lang): [format_share(v, lang) for v in dates["clear"]],
        }), name="stats")
        where = tr("et_station", lang).format(name=st["name"], km=format_number(st["distance_km"], 1, lang))
        return pn.Column(pn.pane.Markdown(page_text(where), name="station"), table)

    def _units(self, layer) -> str:
        if self._is_soil_moisture(self.result):
            return SOIL_MOISTURE_UNIT
        if self._is_et(self.result):
            return {"et_daily": tr("unit_mm_day", self.language), "et_dekad": "mm", "stress": ""}[self.et_product]
        return "%" if self.product == "water" else super()._units(layer)

    def _title(self, layer) -> str:
        """Soil moisture: the product, its unit and the radar date shown."""
        if self._is_et(self.result):
            return self._et_title(layer)
        if not self._is_soil_moisture(self.result):
            return super()._title(layer)
        from ._tables import format_date

        name = option_label("product", "soil_moisture", self.language)
        when = format_date(layer["time"].values) if "time" in layer.coords else ""
        return f"{name} ({SOIL_MOISTURE_UNIT}), {when}" if when else f"{name} ({SOIL_MOISTURE_UNIT})"

    def _et_title(self, layer) -> str:
        """The map, its unit and its day (daily ET) or its dekad's first day."""
        from ._tables import format_date

        name = option_label("et_product", self.et_product, self.language)
        unit = self._units(layer)
        when = format_date(layer["time"].values) if "time" in layer.coords else ""
        head = f"{name} ({unit})" if unit else name
        return f"{head}, {when}" if when else head

    def _masked(self, result, layer):
        """Soil moisture: the pixels the method masks (dense vegetation, snow, water) on the date shown."""
        if not self._is_soil_moisture(result):
            return None
        masked = result.masked
        if "time" in layer.coords and "time" in masked.dims:
            masked = masked.sel(time=layer["time"].values)
        return masked

    def _masked_label(self) -> str:
        key = "masked_soil_moisture" if self._is_soil_moisture(self.result) else "masked"
        return tr(key, self.language)

    def _point_series(self, x: float, y: float):
        """The shown product through the period at the clicked pixel (water: 1 on water dates)."""
        import holoviews as hv

        if self._is_soil_moisture(self.result):
            return self._soil_moisture_series(x, y)
        if self._is_et(self.result):
            return self._et_series(x, y)
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

    def _soil_moisture_series(self, x: float, y: float):
        """Soil moisture at the clicked pixel through the radar dates."""
        import holoviews as hv

        from ._tables import format_number

        series = self.result.moisture.sel(x=x, y=y, method="nearest")
        s = series.to_series().dropna()
        lang = self.language
        name = option_label("product", "soil_moisture", lang)
        date = tr("date", lang)
        plot = (hv.Curve((s.index, s.values), date, name) * hv.Scatter((s.index, s.values), date, name)
                .opts(size=5, color="saddlebrown")).opts(responsive=True, height=240,
                                                         title=f"{name} ({SOIL_MOISTURE_UNIT})")
        mean = format_number(s.mean(), 1, lang, SOIL_MOISTURE_UNIT) if len(s) else "–"
        summary = tr("soil_moisture_pixel", lang).format(n=len(s), mean=mean)
        place = self._pixel_place(float(series.x), float(series.y))
        return plot, f"{place} : {summary}" if lang == "fr" else f"{place}: {summary}"

    def _et_series(self, x: float, y: float):
        """Ten-day actual ET (or stress index) at the clicked pixel through the period."""
        import holoviews as hv

        from ._tables import format_number

        stack = self.result.stress if self.et_product == "stress" else self.result.et_dekad
        series = stack.sel(x=x, y=y, method="nearest")
        s = series.to_series().dropna()
        lang = self.language
        name = option_label("et_product", "stress" if self.et_product == "stress" else "et_dekad", lang)
        date = tr("date", lang)
        unit = "" if self.et_product == "stress" else "mm"
        plot = (hv.Curve((s.index, s.values), date, name) * hv.Scatter((s.index, s.values), date, name)
                .opts(size=5, color="teal")).opts(responsive=True, height=240,
                                                   title=f"{name} ({unit})" if unit else name)
        total = format_number(s.mean() if unit == "" else s.sum(), 2 if unit == "" else 1, lang, unit) if len(s) else "–"
        summary = tr("et_pixel", lang).format(n=len(s), total=total)
        place = self._pixel_place(float(series.x), float(series.y))
        return plot, f"{place} : {summary}" if lang == "fr" else f"{place}: {summary}"

    def _cmap(self) -> str:
        if self._is_soil_moisture(self.result):
            return "BrBG"
        if self._is_et(self.result):
            return "YlOrRd" if self.et_product == "stress" else "YlGnBu"
        return {"water": "Blues", "turbidity": "YlOrBr", "spm": "copper", "chla": "Greens"}[self.product]

    def _clim(self, layer):
        if self._is_soil_moisture(self.result):
            return (5.0, 40.0)
        if self._is_et(self.result) and self.et_product == "stress":
            return (0.0, 1.0)
        finite = np.isfinite(layer.values)
        return (0, float(np.nanpercentile(layer.values, 98))) if finite.any() else (0, 1)

    def _layer(self, result):
        if self._is_soil_moisture(result):  # the radar date with the most estimated pixels (its time kept)
            from ._map_view import clearest_time

            return clearest_time(result.moisture)
        if self._is_et(result):
            return self._et_layer(result)
        layer = result.summary(self.product)
        if self.product == "water":  # frequency as a percentage of the clear dates
            layer = (100.0 * layer).assign_attrs(layer.attrs, units="%").rename("water")
        return layer

    def _et_layer(self, result):
        """Daily ET of the clearest day, or the ten-day ET / stress index of the dekad holding that day."""
        if self.et_product == "et_daily":
            return result.et_daily
        stack = result.et_dekad if self.et_product == "et_dekad" else result.stress
        return stack.sel(time=result.et_daily["time"].values, method="pad")
