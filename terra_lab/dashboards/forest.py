"""Forest health workshop dashboard: bark-beetle dieback detected with the fordead method.

The page maps the dieback state, its first detection date or the confidence index over the
forest of the chosen area, aggregates the detected dieback into hexagons (area and share of
forest per cell), and shows a clicked pixel's CR_SWIR series with its harmonic model and the
anomaly threshold.  It calls :func:`terra_lab.workflows.forest.forest_workflow` (forest mask:
the forest classes of the catalogue's OSO land cover) and displays its result.

The ``analysis`` parameter switches the page to fire severity (issue 16): the fire workflow
(:func:`terra_lab.workflows.fire.fire_workflow`) maps dNBR, RdNBR, RBR or the severity classes of
a scheme (Key & Benson by default) on the burnable land, and the table gives the burnt area per
class.  The ``structure`` analysis (issue 16, FORMS-like): the structure workflow
(:func:`terra_lab.workflows.structure.structure_workflow`, trained on the catalogue's lidar
footprints) maps the canopy height, the width of its 5-95 % interval, the wood volume or the
biomass of the forest; the table gives them per forest type, and a line the training's figures
(shots kept and dropped, held-out RMSE).  The default analysis, dieback, is the page as it was.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import panel as pn
import param

from ..kernels._dieback import TOO_FEW_DATES
from ..products.dieback import DIEBACK_STATES, FORDEAD_MAX_CLOUDINESS
from ..products.fire import NO_CLASS, SEVERITY_SCHEMES
from ..workflows.fire import FireResult, FireSettings, fire_workflow
from ..workflows.forest import NOT_FOREST, PRESETS, ForestSettings, forest_workflow
from ..workflows.structure import StructureResult, StructureSettings, structure_workflow
from ._common import DashboardBase, page_text, tr
from ._i18n import PageError

__all__ = ["ForestDashboard"]

#: what the map can show, and its colour map
PRODUCTS = {"state": "Set1", "dieback_date": "viridis", "confidence_index": "OrRd"}
#: colours of the dieback states (healthy, dieback, bare soil, too few dates, outside the forest, too many
#: periods); too few dates and outside the forest are drawn as masked (grey) and no data (transparent)
STATE_COLOURS = {0: "#2e8b57", 1: "#d62728", 2: "#8c564b", 3: "#bdbdbd", 4: "#ffffff", 5: "#ff7f0e"}
#: what the map can show in the fire analysis, and its colour map (the severity classes: SEVERITY_COLOURS)
FIRE_PRODUCTS = {"severity": "YlOrRd", "dNBR": "RdYlGn_r", "RdNBR": "RdYlGn_r", "RBR": "RdYlGn_r"}
#: colours of the severity classes, by the number of classes of the scheme (regrowth greens, unburnt
#: grey, then yellow to dark red)
SEVERITY_COLOURS = {4: ("#d9d9d9", "#ffffb2", "#fd8d3c", "#bd0026"),
                    7: ("#1a9850", "#91cf60", "#d9d9d9", "#ffffb2", "#fecc5c", "#f03b20", "#bd0026")}
#: what the map can show in the structure analysis, and its colour map
STRUCTURE_PRODUCTS = {"height": "YlGn", "height_interval": "Purples", "volume": "YlGnBu", "agb": "YlOrBr"}
#: the structure layers' units as the page shows them
STRUCTURE_UNITS = {"m": "m", "m3 ha-1": "m³/ha", "Mg ha-1": "Mg/ha"}
#: the products of each analysis, the first shown by default
ANALYSES = {"dieback": list(PRODUCTS), "fire": list(FIRE_PRODUCTS), "structure": list(STRUCTURE_PRODUCTS)}


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
    analysis = param.Selector(default="dieback", objects=list(ANALYSES),
                              doc="dieback (fordead), fire severity or forest structure")
    fire_date = param.Date(default=dt.date(2023, 7, 22), doc="the fire's (start) date")
    window_days = param.Integer(default=FireSettings.window_days, bounds=(5, 365),
                                doc="days of the pre- and post-fire composites, each side of the fire date")
    scheme = param.Selector(default=FireSettings.scheme, objects=list(SEVERITY_SCHEMES), doc="severity classes")
    map_year = param.Integer(default=2023, bounds=(2016, 2030), doc="year of the structure map (its Sentinel-2 images)")
    structure_method = param.Selector(default=StructureSettings.method, objects=["qrf", "hgb"],
                                      doc="quantile regression of the canopy height")
    footprint_collection = param.String(default="", doc="lidar footprint collection id (empty: found in the catalogue)")
    theme = "forest"
    settings_class, presets = ForestSettings, PRESETS  # preset -> settings: DashboardState._settings
    analysis_products = ANALYSES  # the base switches the products and the heading (forest_fire, forest_structure)

    def _preset_params(self) -> list[str]:
        if self.analysis == "structure":
            return ["analysis", "map_year", "product"]
        if self.analysis == "fire":
            return ["analysis", "fire_date", "product"]
        return ["analysis", "preset", "training_end", "end", "product"]

    def _standard_params(self) -> list[str]:
        if self.analysis == "structure":
            return ["analysis", "map_year", "product"]
        if self.analysis == "fire":
            return ["analysis", "fire_date", "window_days", "product"]
        return ["analysis", "training_end", "end", "product", "cell_km"]

    def _expert_params(self) -> list[str]:
        if self.analysis == "structure":
            return ["structure_method", "footprint_collection", "landcover_collection"]
        if self.analysis == "fire":
            return ["scheme", "landcover_collection"]
        return ["threshold_anomaly", "soil_detection", "landcover_collection"]

    # ------------------------------------------------------------ the analysis
    @staticmethod
    def _is_fire(result) -> bool:
        return isinstance(result, FireResult)

    @staticmethod
    def _is_structure(result) -> bool:
        return isinstance(result, StructureResult)

    def _analysis_of(self, result) -> str:
        return "fire" if self._is_fire(result) else "structure" if self._is_structure(result) else "dieback"

    def _scheme_of(self, result) -> str:
        return result.provenance.get("settings", {}).get("scheme", FireSettings.scheme)

    def _compute(self):
        if self.analysis == "structure":
            return structure_workflow(aoi=self.aoi(), year=int(self.map_year),
                                      settings=StructureSettings(method=self.structure_method),
                                      require_landcover=False,
                                      footprint_collection=self.footprint_collection.strip() or None,
                                      landcover_collection=self.landcover_collection.strip() or None, **self._sources())
        if self.analysis == "fire":
            settings = FireSettings(window_days=int(self.window_days), scheme=self.scheme)
            return fire_workflow(aoi=self.aoi(), fire_date=self.fire_date, settings=settings, require_landcover=False,
                                 landcover_collection=self.landcover_collection.strip() or None, **self._sources())
        if self.training_end is None or self.end is None or self.training_end >= self.end:
            raise PageError(tr("bad_period", self.language).format(start=self.training_end, end=self.end))
        # a catalogue without OSO land cover: every pixel is examined, and the page says so
        return forest_workflow(aoi=self.aoi(), training_end=self.training_end, end=self.end,
                               settings=self._settings(), require_landcover=False,
                               landcover_collection=self.landcover_collection.strip() or None, **self._sources())

    def _layer(self, result):
        """The product shown on the examined forest: NaN outside it and where too few dates were clear
        (fire: on the burnable land, NaN without a clear pre- or post-fire observation)."""
        if self._is_fire(result):
            return self._fire_layer(result)
        if self._is_structure(result):
            return self._structure_layer(result)
        ds = result.dieback
        shown = (ds["state"] != NOT_FOREST) & (ds["state"] != TOO_FEW_DATES)
        da = ds[self.product]
        if self.product == "dieback_date":  # datetime64 cannot be coloured: days since the training end
            da = (da - np.datetime64(result.training_end, "ns")) / np.timedelta64(1, "D")
        out = da.astype("float32").where(shown).rename(self.product)
        out.attrs = {k: v for k, v in ds[self.product].attrs.items() if k not in ("flag_values", "flag_meanings")}
        out.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _fire_layer(self, result):
        ds, name = result.severity, self._shown(result)
        shown = ds["severity"] != NO_CLASS
        if result.burnable is not None:
            shown = shown & result.burnable
        out = ds[name].astype("float32").where(shown).rename(name)
        out.attrs = {k: v for k, v in ds[name].attrs.items() if k not in ("flag_values", "flag_meanings", "_FillValue")}
        out.attrs.update({k: v for k, v in ds.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _structure_layer(self, result):
        """The structure product on the forest (every pixel without land cover); volume and biomass need
        the forest type: without it the page says so."""
        name = self._shown(result)
        if name not in result.maps:
            raise PageError(tr("note_no_landcover_structure", self.language).format(catalog=result.provenance["catalog"]))
        out = result.maps[name].astype("float32").rename(name)
        out.attrs.update({k: v for k, v in result.maps.attrs.items() if k.startswith("terra_lab:") or k == "references"})
        return out

    def _result_attrs(self) -> dict:
        if self._is_structure(self.result):
            return dict(self.result.maps.attrs)
        return dict(self.result.severity.attrs if self._is_fire(self.result) else self.result.dieback.attrs)

    def _masked(self, result, layer=None):
        """Forest pixels with too few clear dates to be judged (clouds, snow); fire: burnable pixels without
        a clear pre- or post-fire observation (elsewhere, e.g. outside the images, nothing is drawn)."""
        if self._is_structure(result):
            return None  # a forest pixel without a prediction lacks a clear season: no data, as outside the forest
        if self._is_fire(result):
            ds = result.severity
            unclear = (ds["n_pre"] == 0) | (ds["n_post"] == 0)
            return unclear & result.burnable if result.burnable is not None else unclear
        return result.dieback["state"] == TOO_FEW_DATES

    def _date_origin(self, layer):
        return self.result.training_end if str(layer.name) == "dieback_date" else None

    def _units(self, layer) -> str:
        if str(layer.name) in STRUCTURE_PRODUCTS:  # metres, m³/ha, Mg/ha
            units = str(layer.attrs.get("units", ""))
            return STRUCTURE_UNITS.get(units, units)
        return ""  # a state, a date, a class or an index (NBR x 1000: said in the product's name)

    def _cmap(self):
        name = self._shown(self.result)
        return {**PRODUCTS, **FIRE_PRODUCTS, **STRUCTURE_PRODUCTS}[name]

    def _categories(self, layer):
        """The dieback states drawn (outside the forest and too few dates are not: blank and masked grey);
        fire: the severity classes of the scheme, named in the page's language."""
        if str(layer.name) == "severity":
            labels = SEVERITY_SCHEMES[self._scheme_of(self.result)].labels
            colours = SEVERITY_COLOURS[len(labels)]
            return [(code, colours[code], tr(f"sev_{label}", self.language)) for code, label in enumerate(labels)]
        if str(layer.name) != "state":
            return None
        return [(code, STATE_COLOURS[code], self._state_name(code)) for code in sorted(DIEBACK_STATES)
                if code not in (NOT_FOREST, TOO_FEW_DATES)]

    def _state_name(self, code: int) -> str:
        name = DIEBACK_STATES.get(int(code), str(code))
        return tr(f"state_{name}", self.language)

    def _fire_statistics(self, result):
        """Burnt area per severity class (ha, share of the burnt area, pixels), in the page's locale."""
        from ._tables import format_number, format_share, table_pane

        lang, table = self.language, result.classes
        total = result.burnt_ha
        frame = pd.DataFrame({
            tr("col_severity", lang): [tr(f"sev_{name}", lang) for name in table["name"]],
            tr("col_burnt_ha", lang): [format_number(v, 2, lang) for v in table["area (ha)"]],
            tr("col_burnt_share", lang): [format_share(v / total if total else None, lang, 1)
                                          for v in table["area (ha)"]],
            tr("col_burnt_pixels", lang): [format_number(v, 0, lang) for v in table["pixels"]],
        })
        said = tr("burnt_total", lang).format(ha=format_number(total, 1, lang))
        return pn.Column(pn.pane.Markdown(f"**{page_text(said)}**"), table_pane(frame), name="stats")

    def _structure_statistics(self, result):
        """Per forest type: area, mean height and interval width, mean volume and biomass, total biomass;
        and the training's figures (shots kept and dropped by the quality filter, held-out RMSE)."""
        from ._tables import format_number, format_share, table_pane

        lang, table, diag = self.language, result.table, result.diagnostics
        frame = pd.DataFrame({
            tr("col_forest_type", lang): [tr(f"ftype_{name}", lang) for name in table["forest type"]],
            tr("col_area_ha", lang): [format_number(v, 1, lang) for v in table["area (ha)"]],
            tr("col_mean_height", lang): [format_number(v, 1, lang) for v in table["mean height (m)"]],
            tr("col_mean_interval", lang): [format_number(v, 1, lang) for v in table["mean interval width (m)"]],
            tr("col_mean_volume", lang): [format_number(v, 0, lang) for v in table["mean volume (m3/ha)"]],
            tr("col_mean_agb", lang): [format_number(v, 0, lang) for v in table["mean biomass (Mg/ha)"]],
            tr("col_total_agb", lang): [format_number(v, 0, lang) for v in table["biomass (Mg)"]],
        })
        said = tr("structure_training", lang).format(
            shots=format_number(diag["shots"], 0, lang), kept=format_number(diag["kept"], 0, lang),
            dropped=format_number(diag["dropped"], 0, lang), n=format_number(diag["n_held_out"], 0, lang),
            rmse=format_number(diag["rmse_m"], 1, lang), bias=format_number(diag["bias_m"], 1, lang),
            picp=format_share(diag["picp"], lang))
        return pn.Column(pn.pane.Markdown(page_text(said), name="diagnostics"), table_pane(frame), name="stats")

    def _statistics(self, result):
        """Forest loss per hexagon: dieback area (ha) and share of the examined forest, largest first
        (fire: the burnt area per severity class)."""
        import shapely

        if self._is_fire(result):
            return self._fire_statistics(result)
        if self._is_structure(result):
            return self._structure_statistics(result)

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

    def _redraw(self, *_):
        super()._redraw()
        if self._is_fire(self.result):  # a click gives the pixel's NBR, not a time series
            self._point.object = tr("fire_click_hint", self.language)
        elif self._is_structure(self.result):  # a click gives the pixel's height and its interval
            self._point.object = tr("structure_click_hint", self.language)

    def _fire_point(self, x: float, y: float):
        """Pre- and post-fire NBR of the clicked pixel, its dNBR and severity class."""
        import holoviews as hv

        from ._tables import format_number

        lang = self.language
        px = self.result.severity.sel(x=x, y=y, method="nearest")
        bars = [(tr("nbr_pre", lang), float(px["pre_nbr"])), (tr("nbr_post", lang), float(px["post_nbr"]))]
        code = int(px["severity"])
        labels = SEVERITY_SCHEMES[self._scheme_of(self.result)].labels
        cls = tr(f"sev_{labels[code]}", lang) if code < len(labels) else "–"
        place = self._pixel_place(float(px.x), float(px.y))
        plot = hv.Bars(bars, kdims=["composite"], vdims=["NBR"]).opts(
            responsive=True, height=240, color="#bd0026", xlabel="", title=place.replace("**", ""))
        text = tr("fire_pixel", lang).format(dnbr=format_number(float(px["dNBR"]), 0, lang), cls=cls)
        return plot, f"{place} : {text}" if lang == "fr" else f"{place}: {text}"

    def _structure_point(self, x: float, y: float):
        """The clicked pixel's canopy height (5 %, median, 95 % quantiles), volume and biomass."""
        import holoviews as hv

        from ._tables import format_number

        lang, maps = self.language, self.result.maps
        px = maps.sel(x=x, y=y, method="nearest")

        def value(name, decimals=1):
            return format_number(float(px[name]) if name in px else np.nan, decimals, lang)

        bars = [(tr(key, lang), float(px[name])) for key, name in
                (("q05", "height_p05"), ("q50", "height"), ("q95", "height_p95"))]
        place = self._pixel_place(float(px.x), float(px.y))
        plot = hv.Bars(bars, kdims=["quantile"], vdims=[tr("height_axis", lang)]).opts(
            responsive=True, height=240, color="#31a354", xlabel="", title=place.replace("**", ""))
        text = tr("structure_pixel", lang).format(h=value("height"), lo=value("height_p05"), hi=value("height_p95"),
                                                   v=value("volume", 0), agb=value("agb", 0))
        return plot, f"{place} : {text}" if lang == "fr" else f"{place}: {text}"

    def _point_series(self, x: float, y: float):
        """CR_SWIR of the clicked pixel with its harmonic model and the anomaly threshold (fire: its NBR)."""
        import holoviews as hv

        from terra_lab.products.dieback import predict_index

        if self._is_fire(self.result):
            return self._fire_point(x, y)
        if self._is_structure(self.result):
            return self._structure_point(x, y)
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
