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
import panel as pn
import param

from ..products.dieback import DIEBACK_STATES
from ..workflows.forest import NOT_FOREST, PRESETS, ForestSettings, forest_workflow
from ._common import DashboardBase, tr

__all__ = ["ForestDashboard"]

#: what the map can show, and its colour map
PRODUCTS = {"state": "Set1", "dieback_date": "viridis", "confidence_index": "OrRd"}
#: colours of the dieback states (healthy, dieback, bare soil, too few dates, outside the forest, too many periods)
STATE_COLOURS = {0: "#2e8b57", 1: "#d62728", 2: "#8c564b", 3: "#bdbdbd", 4: "#ffffff", 5: "#ff7f0e"}


class ForestDashboard(DashboardBase):
    """Forest dieback (fordead): training on a healthy period, then anomaly detection."""

    training_end = param.Date(default=dt.date(2024, 1, 1), doc="first date that may be a detection")
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
            raise ValueError(tr("bad_period", self.language).format(start=self.training_end, end=self.end))
        # a catalogue without OSO land cover: every pixel is examined, and the page says so
        return forest_workflow(aoi=self.aoi(), training_end=self.training_end, end=self.end,
                               settings=self._settings(), require_landcover=False,
                               landcover_collection=self.landcover_collection.strip() or None, **self._sources())

    def _layer(self, result):
        ds = result.dieback
        da = ds[self.product]
        if self.product == "dieback_date":  # datetime64 cannot be coloured: days since the training end
            days = (da - np.datetime64(result.training_end, "ns")) / np.timedelta64(1, "D")
            da = days.astype("float32").assign_attrs(da.attrs, long_name=f"days after {result.training_end}")
        elif self.product == "state":
            # the colour bar names the states (_colorbar_options)
            da = da.where(da != NOT_FOREST).astype("float32").assign_attrs(da.attrs, long_name="dieback state (fordead)")
        out = da.rename(self.product)
        out.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _result_attrs(self) -> dict:
        return dict(self.result.dieback.attrs)

    def _cmap(self):
        if self.product == "state":  # one colour per state code 0..5 (4, outside the forest, is left blank)
            return [STATE_COLOURS[code] for code in sorted(STATE_COLOURS)]
        return PRODUCTS[self.product]

    def _clim(self, layer):
        return (-0.5, max(DIEBACK_STATES) + 0.5) if self.product == "state" else None

    def _map_options(self, layer) -> dict:
        """Zoomed-out pixels of the categorical state map take the first state, not a mean of codes."""
        return {"aggregator": "first"} if self.product == "state" else {}

    def _colorbar_options(self, layer) -> dict:
        """The colour bar of the state map names the states."""
        if self.product != "state":
            return {}
        from bokeh.models import FixedTicker

        return {"ticker": FixedTicker(ticks=list(DIEBACK_STATES)),
                "major_label_overrides": {code: name.replace("_", " ") for code, name in DIEBACK_STATES.items()}}

    def _statistics(self, result):
        """Forest loss per hexagon: dieback area (ha) and share of the examined forest, largest first."""
        title = (f"Dépérissement détecté : {result.dieback_ha:.1f} ha" if self.language == "fr"
                 else f"Dieback detected: {result.dieback_ha:.1f} ha")
        return pn.Column(pn.pane.Markdown(f"**{title}**"), pn.pane.DataFrame(result.hexagons, sizing_mode="stretch_width", escape=True),
                         name="stats")

    def _point_series(self, x: float, y: float):
        """CR_SWIR of the clicked pixel with its harmonic model and the anomaly threshold."""
        import holoviews as hv
        import pandas as pd

        from terra_lab.products.dieback import predict_index

        ds, index = self.result.dieback, self.result.index
        px = ds.sel(x=x, y=y, method="nearest")
        series = index.sel(x=float(px.x), y=float(px.y)).compute().to_series().dropna()
        times = pd.date_range(index["time"].values[0], index["time"].values[-1], freq="5D")
        model = predict_index(px["coefficients"], times).to_series()
        threshold = self.result.provenance["settings"]["threshold_anomaly"]
        state = DIEBACK_STATES.get(int(px["state"]), str(int(px["state"])))
        plot = (hv.Curve((model.index, model.values), "date", "CR_SWIR", label="model").opts(color="green")
                * hv.Curve((model.index, model.values + threshold), "date", "CR_SWIR", label="threshold")
                .opts(color="orange", line_dash="dashed")
                * hv.Scatter((series.index, series.values), "date", "CR_SWIR", label="observed").opts(size=5, color="navy"))
        plot = plot * hv.VLine(pd.Timestamp(self.result.training_end)).opts(color="grey")
        detected = px["dieback_date"].values
        if not np.isnat(detected):
            plot = plot * hv.VLine(pd.Timestamp(detected)).opts(color="red", line_dash="dotted")
        plot = plot.opts(responsive=True, height=240, legend_position="top_left",
                         title=f"x={float(px.x):.0f} y={float(px.y):.0f}: {state}")
        when = "" if np.isnat(detected) else f" ({pd.Timestamp(detected).date()})"
        if self.language == "fr":
            text = f"**Pixel** ({float(px.x):.0f}, {float(px.y):.0f}) : état **{state}**{when}, {len(series)} dates valides"
        else:
            text = f"**Pixel** ({float(px.x):.0f}, {float(px.y):.0f}): state **{state}**{when}, {len(series)} valid dates"
        return plot, text
