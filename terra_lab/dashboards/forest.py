"""Forest health workshop dashboard: bark-beetle dieback detected with the fordead method.

The page maps the dieback state, its first detection date or the confidence index over the
forest of the chosen area, aggregates the detected dieback into hexagons (area and share of
forest per cell), and shows a clicked pixel's CR_SWIR series with its harmonic model and the
anomaly threshold.  It calls :func:`terra_lab.workflows.forest.forest_workflow` (forest mask:
the forest classes of the catalogue's OSO land cover) and displays its result.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import panel as pn
import param

from ..kernels._dieback import TOO_FEW_DATES
from ..products.dieback import DIEBACK_STATES, FORDEAD_MAX_CLOUDINESS
from ..workflows.forest import NOT_FOREST, PRESETS, ForestSettings, forest_workflow
from ._common import DashboardBase, page_text, tr
from ._i18n import PageError

__all__ = ["ForestDashboard"]

#: what the map can show, and its colour map
PRODUCTS = {"state": "Set1", "dieback_date": "viridis", "confidence_index": "OrRd"}
#: colours of the dieback states (healthy, dieback, bare soil, too few dates, outside the forest, too many
#: periods); too few dates and outside the forest are drawn as masked (grey) and no data (transparent)
STATE_COLOURS = {0: "#2e8b57", 1: "#d62728", 2: "#8c564b", 3: "#bdbdbd", 4: "#ffffff", 5: "#ff7f0e"}


class ForestDashboard(DashboardBase):
    """Forest dieback (fordead): training on a healthy period, then anomaly detection."""

    training_end = param.Date(default=dt.date(2024, 1, 1), doc="first date that may be a detection")
    # fordead's own date filter: cloudier training dates change the harmonic model (issue 15: 91.9 % vs
    # 99.7 % agreement with fordead on ZoneTest when the dashboard searched with 100 %)
    max_cloud = param.Number(default=FORDEAD_MAX_CLOUDINESS, bounds=(0, 100))
    end = param.Date(default=dt.date(2024, 8, 31), doc="end of the monitoring period")
    product = param.Selector(default="state", objects=list(PRODUCTS))
    preset = param.Selector(default="mixed mountain forest", objects=list(PRESETS))
    threshold_anomaly = param.Number(default=ForestSettings.threshold_anomaly, bounds=(0.02, 1.0))
    soil_detection = param.Boolean(default=ForestSettings.soil_detection)
    cell_km = param.Number(default=ForestSettings.cell_km, bounds=(0.05, 10.0),
                           doc="hexagon side (km) of the forest-loss summary")
    landcover_collection = param.String(default="", doc="OSO land-cover collection id (empty: found in the catalogue)")
    theme = "forest"
    settings_class, presets = ForestSettings, PRESETS  # preset -> settings: DashboardState._settings

    def _preset_params(self) -> list[str]:
        return ["preset", "training_end", "end", "product"]

    def _standard_params(self) -> list[str]:
        return ["training_end", "end", "product", "cell_km"]

    def _expert_params(self) -> list[str]:
        return ["threshold_anomaly", "soil_detection", "landcover_collection"]

    def _compute(self):
        if self.training_end is None or self.end is None or self.training_end >= self.end:
            raise PageError(tr("bad_period", self.language).format(start=self.training_end, end=self.end))
        # a catalogue without OSO land cover: every pixel is examined, and the page says so
        return forest_workflow(aoi=self.aoi(), training_end=self.training_end, end=self.end,
                               settings=self._settings(), require_landcover=False,
                               landcover_collection=self.landcover_collection.strip() or None, **self._sources())

    def _layer(self, result):
        """The product shown on the examined forest: NaN outside it and where too few dates were clear."""
        ds = result.dieback
        shown = (ds["state"] != NOT_FOREST) & (ds["state"] != TOO_FEW_DATES)
        da = ds[self.product]
        if self.product == "dieback_date":  # datetime64 cannot be coloured: days since the training end
            da = (da - np.datetime64(result.training_end, "ns")) / np.timedelta64(1, "D")
        out = da.astype("float32").where(shown).rename(self.product)
        out.attrs = {k: v for k, v in ds[self.product].attrs.items() if k not in ("flag_values", "flag_meanings")}
        out.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _result_attrs(self) -> dict:
        return dict(self.result.dieback.attrs)

    def _masked(self, result, layer=None):
        """Forest pixels with too few clear dates to be judged (clouds, snow)."""
        return result.dieback["state"] == TOO_FEW_DATES

    def _date_origin(self, layer):
        return self.result.training_end if str(layer.name) == "dieback_date" else None

    def _units(self, layer) -> str:
        return ""  # a state, a date or a unitless index

    def _cmap(self):
        return PRODUCTS[self.product]

    def _categories(self, layer):
        """The dieback states drawn (outside the forest and too few dates are not: blank and masked grey)."""
        if self.product != "state":
            return None
        return [(code, STATE_COLOURS[code], self._state_name(code)) for code in sorted(DIEBACK_STATES)
                if code not in (NOT_FOREST, TOO_FEW_DATES)]

    def _state_name(self, code: int) -> str:
        name = DIEBACK_STATES.get(int(code), str(code))
        return tr(f"state_{name}", self.language)

    def _statistics(self, result):
        """Forest loss per hexagon: dieback area (ha) and share of the examined forest, largest first."""
        import shapely

        from ..products.hexagons import hexagon_polygons
        from ._tables import format_number, format_share, table_pane
        from ._webmercator import to_lonlat

        lang, table = self.language, result.hexagons
        size = result.provenance["settings"]["cell_km"] * 1000.0
        centres = shapely.centroid(hexagon_polygons(table["q"], table["r"], size)) if len(table) else []
        crs = result.dieback.rio.crs
        places = [to_lonlat(c.x, c.y, crs) for c in centres]
        frame = pd.DataFrame({
            tr("col_rank", lang): [str(i + 1) for i in range(len(table))],
            tr("col_centre", lang): [f"{lon:.4f}°, {lat:.4f}°" for lon, lat in places],
            tr("col_dieback_ha", lang): [format_number(v, 2, lang) for v in table["dieback (ha)"]],
            tr("col_forest_share", lang): [format_share(v, lang, 1) for v in table["share of forest"]],
            tr("col_forest_pixels", lang): [format_number(v, 0, lang) for v in table["forest pixels"]],
        })
        total = tr("dieback_total", lang).format(ha=format_number(result.dieback_ha, 1, lang))
        return pn.Column(pn.pane.Markdown(f"**{page_text(total)}**"), table_pane(frame), name="stats")

    def _point_series(self, x: float, y: float):
        """CR_SWIR of the clicked pixel with its harmonic model and the anomaly threshold."""
        import holoviews as hv

        from terra_lab.products.dieback import predict_index

        ds, index = self.result.dieback, self.result.index
        px = ds.sel(x=x, y=y, method="nearest")
        series = index.sel(x=float(px.x), y=float(px.y)).compute().to_series().dropna()
        times = pd.date_range(index["time"].values[0], index["time"].values[-1], freq="5D")
        model = predict_index(px["coefficients"], times).to_series()
        threshold = self.result.provenance["settings"]["threshold_anomaly"]
        state, lang = self._state_name(int(px["state"])), self.language
        plot = (hv.Curve((model.index, model.values), "date", "CR_SWIR", label=tr("model", lang)).opts(color="green")
                * hv.Curve((model.index, model.values + threshold), "date", "CR_SWIR", label=tr("threshold", lang))
                .opts(color="orange", line_dash="dashed")
                * hv.Scatter((series.index, series.values), "date", "CR_SWIR", label=tr("observed", lang))
                .opts(size=5, color="navy"))
        plot = plot * hv.VLine(pd.Timestamp(self.result.training_end)).opts(color="grey")
        detected = px["dieback_date"].values
        if not np.isnat(detected):
            plot = plot * hv.VLine(pd.Timestamp(detected)).opts(color="red", line_dash="dotted")
        place = self._pixel_place(float(px.x), float(px.y))
        plot = plot.opts(responsive=True, height=240, legend_position="top_left", xlabel=tr("date", lang),
                         title=f"{place.replace('**', '')} — {state}")
        when = "" if np.isnat(detected) else f" ({pd.Timestamp(detected).date()})"
        text = tr("forest_pixel", lang).format(state=state, when=when, n=len(series))
        return plot, f"{place} : {text}" if lang == "fr" else f"{place}: {text}"
