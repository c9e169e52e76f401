"""Forest health workshop dashboard: bark-beetle dieback detected with the fordead method.

The page maps the dieback state, its first detection date or the confidence index over the
forest of the chosen area, aggregates the detected dieback into hexagons (area and share of
forest per cell), and shows a clicked pixel's CR_SWIR series with its harmonic model and the
anomaly threshold.  It calls :mod:`terra_lab.products.dieback` and
:mod:`terra_lab.products.hexagons`; it never re-implements them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import panel as pn
import param

from ..products.dieback import DIEBACK_STATES
from ._common import DashboardBase, tr

__all__ = ["ForestDashboard"]

#: presets by forest type: the fordead reference threshold for spruce, bare-soil detection where
#: clear-cuts follow attacks (plantations) but not in mixed stands (leafless broadleaf look like soil)
PRESETS = {
    "spruce plantations": {"threshold_anomaly": 0.16, "soil_detection": True},
    "mixed mountain forest": {"threshold_anomaly": 0.16, "soil_detection": False},
    "early warning (sensitive)": {"threshold_anomaly": 0.12, "soil_detection": False},
}

#: what the map can show, and its colour map
PRODUCTS = {"state": "Set1", "dieback_date": "viridis", "confidence_index": "OrRd"}
#: colours of the dieback states (healthy, dieback, bare soil, too few dates, outside the forest, too many periods)
STATE_COLOURS = {0: "#2e8b57", 1: "#d62728", 2: "#8c564b", 3: "#bdbdbd", 4: "#ffffff", 5: "#ff7f0e"}

BANDS = ["blue", "green", "red", "nir08", "swir16", "swir22"]
_CODE = {name: code for code, name in DIEBACK_STATES.items()}
DIEBACK, NOT_FOREST = _CODE["dieback"], _CODE["masked"]


class ForestDashboard(DashboardBase):
    """Forest dieback (fordead): training on a healthy period, then anomaly detection."""

    training_end = param.Date(default=dt.date(2024, 1, 1), doc="first date that may be a detection")
    end = param.Date(default=dt.date(2024, 8, 31), doc="end of the monitoring period")
    product = param.Selector(default="state", objects=list(PRODUCTS))
    preset = param.Selector(default="mixed mountain forest", objects=list(PRESETS))
    threshold_anomaly = param.Number(default=0.16, bounds=(0.02, 1.0))
    soil_detection = param.Boolean(default=False)
    cell_km = param.Number(default=0.25, bounds=(0.05, 10.0), doc="hexagon side (km) of the forest-loss summary")
    theme = "forest"

    def _preset_params(self) -> list[str]:
        return ["preset", "training_end", "end", "product"]

    def _standard_params(self) -> list[str]:
        return ["training_end", "end", "product", "cell_km"]

    def _expert_params(self) -> list[str]:
        return ["threshold_anomaly", "soil_detection"]

    def _settings(self) -> dict:
        if self.mode == "preset":
            return dict(PRESETS[self.preset])
        return {"threshold_anomaly": self.threshold_anomaly, "soil_detection": self.soil_detection}

    def _forest_mask(self, cube):
        """The demo's reference land cover (broadleaf 5, conifer 6); elsewhere every pixel is examined."""
        if self.catalog != "demo":
            return None
        import rioxarray

        from .._paths import demo_dir

        lc = rioxarray.open_rasterio(demo_dir() / "truth" / "landcover_R2.tif").squeeze("band", drop=True)
        return lc.rio.reproject_match(cube["blue"].isel(time=0)).isin([5, 6])

    def _compute(self):
        import terra_lab
        from terra_lab.products.dieback import forest_dieback, masked_vegetation_index

        if self.training_end is None or self.end is None or self.training_end >= self.end:
            raise ValueError(tr("bad_period", self.language).format(start=self.training_end, end=self.end))
        # the harmonic model needs at least a year of training dates before training_end
        _, res = self._search(self.training_end - dt.timedelta(days=731), self.end)
        cube = terra_lab.load(res, bands=BANDS, resolution=20, bbox=self.aoi(), chunks={"time": -1, "y": 256, "x": 256})
        s = self._settings()
        training_max_end = self.training_end + dt.timedelta(days=60)
        result = forest_dieback(cube, training_end=str(self.training_end), training_max_end=str(training_max_end),
                                forest_mask=self._forest_mask(cube), **s).compute()
        index = masked_vegetation_index(cube, soil_detection=s["soil_detection"])["vi"]
        return result, index

    def _layer(self, result):
        ds = result[0]
        da = ds[self.product]
        if self.product == "dieback_date":  # datetime64 cannot be coloured: days since the training end
            days = (da - np.datetime64(self.training_end, "ns")) / np.timedelta64(1, "D")
            da = days.astype("float32").assign_attrs(da.attrs, long_name=f"days after {self.training_end}")
        elif self.product == "state":
            # the colour bar names the states (_colorbar_options)
            da = da.where(da != NOT_FOREST).astype("float32").assign_attrs(da.attrs, long_name="dieback state (fordead)")
        out = da.rename(self.product)
        out.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _result_attrs(self) -> dict:
        return dict(self.result[0].attrs)

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
        from terra_lab.products.hexagons import aggregate_hexagons

        state = result[0]["state"]
        pixel_ha = abs(float(np.prod(result[0].rio.resolution()))) / 1e4
        dieback = (state == DIEBACK).where(state != NOT_FOREST).astype("float32")  # NaN outside the examined forest
        cells = aggregate_hexagons(dieback.rio.write_crs(result[0].rio.crs), self.cell_km * 1000.0,
                                   stats=["count", "sum", "mean"])
        cells = cells[cells["count"] > 0].assign(dieback_ha=lambda d: d["sum"] * pixel_ha)
        table = cells[["q", "r", "dieback_ha", "mean", "count"]].rename(columns={
            "dieback_ha": "dieback (ha)", "mean": "share of forest", "count": "forest pixels"})
        table = table.sort_values("dieback (ha)", ascending=False).head(10).round(3).reset_index(drop=True)
        total = float((state == DIEBACK).sum()) * pixel_ha
        title = (f"Dépérissement détecté : {total:.1f} ha" if self.language == "fr"
                 else f"Dieback detected: {total:.1f} ha")
        return pn.Column(pn.pane.Markdown(f"**{title}**"), pn.pane.DataFrame(table, sizing_mode="stretch_width"),
                         name="stats")

    def _point_series(self, x: float, y: float):
        """CR_SWIR of the clicked pixel with its harmonic model and the anomaly threshold."""
        import holoviews as hv
        import pandas as pd

        from terra_lab.products.dieback import predict_index

        ds, index = self.result
        px = ds.sel(x=x, y=y, method="nearest")
        series = index.sel(x=float(px.x), y=float(px.y)).compute().to_series().dropna()
        times = pd.date_range(index["time"].values[0], index["time"].values[-1], freq="5D")
        model = predict_index(px["coefficients"], times).to_series()
        threshold = self._settings()["threshold_anomaly"]
        state = DIEBACK_STATES.get(int(px["state"]), str(int(px["state"])))
        plot = (hv.Curve((model.index, model.values), "date", "CR_SWIR", label="model").opts(color="green")
                * hv.Curve((model.index, model.values + threshold), "date", "CR_SWIR", label="threshold")
                .opts(color="orange", line_dash="dashed")
                * hv.Scatter((series.index, series.values), "date", "CR_SWIR", label="observed").opts(size=5, color="navy"))
        plot = plot * hv.VLine(pd.Timestamp(self.training_end)).opts(color="grey")
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
