"""Basemaps of terra_lab's maps: OpenStreetMap and IGN online, or a hillshade rendered by the kernel offline.

* online (the default): OpenStreetMap, the IGN Géoplateforme plan (PLANIGNV2) and orthophotos
  (WMTS), from xyzservices, all three in the layer control, one shown;
* ``"offline"``: a hillshade of the catalogue's DEM (or of a given DEM), rendered in the kernel
  like any terra_lab layer (:class:`~terra_lab.display._kernel_layer.KernelTileLayer`): it needs
  no network at all (classrooms without internet, tests, CI).  It is chosen by
  ``TerraMap(basemap="offline")``, or for every map when the environment variable
  ``TERRA_LAB_OFFLINE=1`` is set.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import xarray as xr

from .._offline import is_offline
from ._kernel_layer import KernelTileLayer, TerraLabModule

try:
    import ipyleaflet
    import traitlets as t
    import xyzservices.providers as xyz
except ImportError as e:  # pragma: no cover - exercised without the extra
    raise ImportError("the map widgets need the ui extra: pip install 'terra_lab[ui]'") from e

__all__ = ["ONLINE", "BasemapLayer", "basemap_layers", "default_basemap", "offline_basemap"]

#: the online basemaps, by the names ``TerraMap(basemap=...)`` takes
ONLINE = {
    "osm": ("OpenStreetMap", xyz.OpenStreetMap.Mapnik),
    "ign-plan": ("IGN plan", xyz.GeoportailFrance.plan),
    "ign-ortho": ("IGN orthophotos", xyz.GeoportailFrance.orthos),
}


class BasemapLayer(TerraLabModule, ipyleaflet.TileLayer):
    """An online basemap listed in the layer control but loading tiles only while it is the one shown.

    Leaflet's layer control lists the base layers that are on the map, and every base layer on
    the map loads its tiles; the front end (``BasemapLayerView``) takes an inactive basemap
    off the Leaflet map as soon as it is added, so only ``active`` ones are fetched.  The
    control's radio buttons switch them (``active`` follows).
    """

    _view_name = t.Unicode("BasemapLayerView").tag(sync=True)
    _model_name = t.Unicode("BasemapLayerModel").tag(sync=True)

    active = t.Bool(True).tag(sync=True)


def basemap_layers(selected: str = "osm") -> list[BasemapLayer]:
    """The online basemaps (:data:`ONLINE`), ``selected`` the one shown."""
    if selected not in ONLINE:
        raise ValueError(f"unknown basemap {selected!r}; use one of {[*ONLINE, 'offline']}")
    layers = []
    for key, (name, provider) in ONLINE.items():
        layers.append(BasemapLayer(url=provider.build_url(), name=name, base=True, active=key == selected,
                                   max_zoom=int(provider.get("max_zoom", 19)), max_native_zoom=19,
                                   attribution=provider.get("html_attribution") or provider.get("attribution", "")))
    return layers


def default_basemap() -> str:
    """``"offline"`` when ``TERRA_LAB_OFFLINE`` is set (1, true, yes), else ``"osm"``."""
    return "offline" if is_offline() else "osm"


def _catalog_dem(catalog: Any, bbox: tuple[float, float, float, float] | None) -> xr.DataArray | None:
    """Elevations of the catalogue's DEM collection over ``bbox`` (lon/lat) on its own grid, lazy; None if none."""
    import terra_lab
    from terra_lab.workflows._aux import find_collection, open_catalog

    cat = open_catalog(catalog or os.environ.get("TERRA_LAB_CATALOG") or "demo")
    res = cat.search(bbox, collections=find_collection(cat, "dem")) if bbox else \
        cat.search(collections=find_collection(cat, "dem"))
    if len(res) == 0:
        return None
    dem = terra_lab.load(res, bands=["elevation"], masks=False)["elevation"]
    return dem.isel(time=0) if dem.sizes.get("time", 1) == 1 else dem.max("time")


def offline_basemap(dem: xr.DataArray | None = None, *, catalog: Any = None,
                    bbox: tuple[float, float, float, float] | None = None) -> KernelTileLayer | None:
    """A hillshade basemap rendered in the kernel: of ``dem``, else of the catalogue's DEM over ``bbox``.

    ``catalog``: a catalogue or its name (default: ``$TERRA_LAB_CATALOG``, else ``"demo"``).
    None (with a warning naming the reason and the fix) when no DEM can be found: the map
    then has no basemap rather than failing.
    """
    from terra_lab.products.terrain import hillshade

    if dem is None:
        try:
            dem = _catalog_dem(catalog, bbox)
        except Exception as e:  # noqa: BLE001 - a map without relief is better than no map
            warnings.warn(f"no offline basemap: the catalogue's DEM could not be read ({type(e).__name__}: {e}); "
                          "pass TerraMap(dem=<an elevation DataArray>) or use an online basemap", stacklevel=3)
            return None
        if dem is None:
            warnings.warn("no offline basemap: the catalogue's DEM does not cover this area; "
                          "pass TerraMap(dem=<an elevation DataArray>)", stacklevel=3)
            return None
    if "time" in dem.dims:
        dem = dem.isel(time=0)
    shade = hillshade(dem, mode="multidirectional")
    shade = shade.where(shade > 0)  # 0: no data (the border pixels)
    return KernelTileLayer(shade, name="Relief (offline)", cmap="gray", vmin=0, vmax=255, label="relief",
                           base=True, bottom=True)
