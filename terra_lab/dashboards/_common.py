"""What every workshop dashboard shares: AOI and period state, parameter modes, progress,
errors in the page, result downloads with provenance, French/English labels."""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import traceback

import panel as pn
import param

from ..errors import NoItemsFoundError
from ._i18n import LABELS, PARAM_LABELS, page_text, param_label, tr
from ._map_view import MapView

__all__ = ["DashboardBase", "LABELS", "PARAM_LABELS", "page_text", "param_label", "tr"]

log = logging.getLogger("terra_lab.dashboards")


def _netcdf_attr(value):
    """An attribute value NetCDF can store: lists and dicts as JSON, other objects (e.g. a
    stackstac RasterSpec) as their text."""
    import numbers

    import numpy as np

    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    if isinstance(value, (str, bytes, numbers.Number, np.ndarray, np.number, tuple)):
        return value
    return str(value)


class DashboardBase(MapView, pn.viewable.Viewer):
    """Base of the theme dashboards.

    Subclasses define ``_compute`` (a call of their theme's workflow in
    :mod:`terra_lab.workflows`, which returns a typed result), ``_layer`` (the map of the
    result) and ``_statistics``; they display results, they never compute products.
    """

    catalog = param.String(default="demo")
    collection = param.String(default="", doc="reflectance collection id (empty: found in the catalogue)")
    west = param.Number(default=6.28)
    south = param.Number(default=45.17)
    east = param.Number(default=6.34)
    north = param.Number(default=45.21)
    max_cloud = param.Number(default=100.0, bounds=(0, 100))
    mode = param.Selector(default="preset", objects=["preset", "standard", "expert"])
    language = param.Selector(default="fr", objects=["fr", "en"])
    theme = "base"

    def __init__(self, **params):
        super().__init__(**params)
        self.result = None
        self._button = pn.widgets.Button(name=tr("compute", self.language), button_type="primary")
        self._button.on_click(self._on_compute)
        self._message = pn.pane.Alert("", alert_type="light", visible=False, name="message")
        # fixed size: a stretched pane would stretch the frame, break the 1:1 aspect and push the colour bar out
        self._map = pn.pane.HoloViews(None, name="map")
        self._series = pn.pane.HoloViews(None, sizing_mode="stretch_width", height=260, name="series", visible=False)
        self._point = pn.pane.Markdown("", name="point")
        self._stats = pn.Column()
        self._progress = pn.indicators.LoadingSpinner(value=False, size=30, name="progress")
        self._downloads = pn.Row(
            pn.widgets.FileDownload(callback=self._cog_bytes, filename=f"terra_lab_{self.theme}.tif",
                                    label=tr("download_cog", self.language), button_type="success", disabled=True),
            pn.widgets.FileDownload(callback=self._nc_bytes, filename=f"terra_lab_{self.theme}.nc",
                                    label=tr("download_nc", self.language), disabled=True),
        )
        self.param.watch(self._relabel, "language")
        self.param.watch(self._redraw, ["product"] if "product" in self.param else [])

    # ---------------------------------------------------------------- state
    def aoi(self):
        from ..catalog import parse_aoi

        return parse_aoi((self.west, self.south, self.east, self.north))

    def _check_period(self, start, end) -> None:
        """An empty or reversed period raises its message for the page, in the page's language."""
        if start is None or end is None or str(start) > str(end):
            raise ValueError(tr("bad_period", self.language).format(start=start, end=end))

    def _sources(self) -> dict:
        """Catalogue and search options every workflow takes (an empty collection: found by kind)."""
        return {"catalog": self.catalog, "collection": self.collection.strip() or None, "max_cloud": self.max_cloud}

    def _visible_params(self) -> list[str]:
        common = ["language", "mode", "west", "south", "east", "north"]
        if self.mode == "preset":
            return common + self._preset_params()
        if self.mode == "standard":
            return common + self._standard_params() + ["max_cloud"]
        return common + self._standard_params() + ["max_cloud", "catalog", "collection"] + self._expert_params()

    def _preset_params(self) -> list[str]:
        return []

    def _standard_params(self) -> list[str]:
        return []

    def _expert_params(self) -> list[str]:
        return []

    # -------------------------------------------------------------- actions
    def _relabel(self, *_):
        self._button.name = tr("compute", self.language)
        self._downloads[0].label = tr("download_cog", self.language)
        self._downloads[1].label = tr("download_nc", self.language)

    def _say(self, text: str, kind: str = "info"):
        """Show ``text`` (plain text: escaped, never read as Markdown or HTML) in the page's alert."""
        self._message.object = page_text(text)
        self._message.alert_type = kind
        self._message.visible = bool(text)

    def _on_compute(self, _event=None):
        self._progress.value = True
        self._button.disabled = True
        try:
            self.result = self._compute()
            self._redraw()
            self._stats[:] = [self._statistics(self.result)]
            for d in self._downloads:
                d.disabled = False
            notes = getattr(self.result, "notes", ())
            done = tr("done", self.language)
            self._say(f"{done} ({'; '.join(notes)})" if notes else done, "warning" if notes else "success")
        except NoItemsFoundError as e:
            self._say(f"{tr('no_data', self.language)} ({e})", "warning")
        except Exception as e:  # noqa: BLE001 - any failure is shown in the page and logged; the app stays usable
            log.error("dashboard %s failed: %s\n%s", self.theme, e, traceback.format_exc())
            self._say(f"{tr('error', self.language)} : {e}", "danger")
        finally:
            self._progress.value = False
            self._button.disabled = False

    # ------------------------------------------------------------ downloads
    def _result_attrs(self) -> dict:
        """Provenance attributes of the computed product (algorithm, parameters, source items)."""
        return dict(self._layer(self.result).attrs)

    def _provenance(self) -> dict:
        attrs = self._result_attrs()
        return {
            **{k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in attrs.items()
               if k.startswith("terra_lab:") or k == "references"},
            "terra_lab:dashboard": self.theme,
            "terra_lab:dashboard_parameters": json.dumps({k: getattr(self, k) for k in self._visible_params()}, default=str),
        }

    def _cog_bytes(self):
        layer = self._layer(self.result)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.tif")
            # GeoTIFF metadata keys cannot hold ':' (GDAL's domain separator)
            tags = {k.replace(":", "_"): v for k, v in self._provenance().items()}
            layer.rio.to_raster(path, driver="COG", tags=tags)
            with open(path, "rb") as f:
                return io.BytesIO(f.read())

    def _nc_bytes(self):
        layer = self._layer(self.result)
        ds = layer.to_dataset(name=str(layer.name or "result"))
        ds.attrs.update(self._provenance())
        for v in ds.variables.values():
            v.attrs = {k: _netcdf_attr(x) for k, x in v.attrs.items()}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "out.nc")
            ds.to_netcdf(path)
            with open(path, "rb") as f:
                return io.BytesIO(f.read())

    # --------------------------------------------------------------- layout
    def controls(self):
        """The parameter widgets of the current mode (preset, standard or expert), labelled in the chosen language."""
        def widgets(_mode, lang):
            names = self._visible_params()
            return pn.Param(self.param, parameters=names, show_name=False, width=300,
                            widgets={n: {"name": param_label(n, lang)} for n in names})

        return pn.bind(widgets, self.param.mode, self.param.language)

    def __panel__(self):
        return pn.Row(
            pn.Column(self.controls(), pn.Row(self._button, self._progress), self._message, width=320),
            pn.Column(self._map, self._point, self._series, self._downloads, self._stats, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def template(self):
        """The dashboard in a page template, as ``terra-lab workshop serve`` shows it."""
        return pn.template.BootstrapTemplate(
            title=f"terra_lab - {tr(self.theme, self.language)}",
            sidebar=[self.controls(), pn.Row(self._button, self._progress), self._message],
            main=[self._map, self._point, self._series, self._downloads, self._stats],
        )
