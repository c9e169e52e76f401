"""The map and pixel-series view of a dashboard: how a result layer is drawn, and what a click on it shows."""

from __future__ import annotations

import logging
import traceback

from ._i18n import tr
from ._legend_map import legend_map_options

__all__ = ["MapView"]

log = logging.getLogger("terra_lab.dashboards")


class MapView:
    """Mixin of :class:`~terra_lab.dashboards._common.DashboardBase`: draws ``self._layer(self.result)``
    in ``self._map`` and answers clicks with ``self._point_series`` in ``self._series`` / ``self._point``."""

    def _cmap(self) -> str:
        return "Blues"

    def _clim(self, layer) -> tuple[float, float] | None:
        """Colour range of the map (None: the data's range)."""
        return None

    def _map_options(self, layer) -> dict:
        """Further hvplot options of the map (e.g. the aggregator of categorical layers); none by default."""
        return {}

    def _colorbar_options(self, layer) -> dict:
        """Bokeh colour-bar options (e.g. category names on the ticks); none by default."""
        return {}

    def _title(self, layer) -> str:
        return f"{layer.name} ({layer.attrs.get('long_name', layer.attrs.get('units', ''))})"

    def _redraw(self, *_):
        """Map of the current layer, rasterised by datashader at the zoom level the browser shows."""
        if self.result is None:
            return
        import holoviews as hv
        import hvplot.xarray  # noqa: F401

        layer = self._layer(self.result)
        legend = legend_map_options(layer, self.language)  # a categorical product: its producer's legend
        if legend is not None:
            cmap, clim, colorbar = legend.pop("cmap"), legend.pop("clim"), legend.pop("colorbar_opts")
            opts = {"clim": clim, **legend}
        else:
            cmap, clim, colorbar = self._cmap(), self._clim(layer), self._colorbar_options(layer)
            opts = {"clim": clim} if clim is not None else {}
            opts.update(self._map_options(layer))
        image = layer.hvplot.image(x="x", y="y", cmap=cmap, colorbar=True, data_aspect=1, rasterize=True,
                                   title=self._title(layer), frame_height=360, tools=["tap", "hover"], **opts)
        if colorbar:
            image = image.opts(hv.opts.Image(colorbar_opts=colorbar))
        if self._has_series():  # the stream must exist before the pane renders the plot, or clicks are not linked
            tap = hv.streams.Tap(source=image, x=None, y=None)
            tap.add_subscriber(lambda x, y: self._on_tap(x, y))
            self._point.object = tr("click_hint", self.language)
        self._map.object = image

    def _has_series(self) -> bool:
        return type(self)._point_series is not MapView._point_series

    def _point_series(self, x: float, y: float):
        """(HoloViews element, Markdown text) for the pixel at map coordinates ``x, y``; themes override it."""
        raise NotImplementedError

    def _on_tap(self, x, y):
        if x is None or y is None or self.result is None:
            return
        try:
            plot, text = self._point_series(x, y)
            self._series.object, self._series.visible, self._point.object = plot, True, text
        except Exception as e:  # noqa: BLE001 - shown in the page, logged, the app stays usable
            log.error("dashboard %s: pixel series failed: %s\n%s", self.theme, e, traceback.format_exc())
            self._say(f"{tr('error', self.language)} : {e}", "danger")
