"""The basemap under a dashboard map: OpenStreetMap tiles online, a shaded relief of the
catalogue's DEM offline.

Offline (``TERRA_LAB_OFFLINE=1`` in the environment, as in the tests and on a workshop machine
without internet), the browser fetches nothing: the basemap is the hillshade
(:func:`terra_lab.products.terrain.hillshade`) of the elevation the workflow read, drawn in
light sepia tones so that the masked pixels' neutral grey stays distinct from it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from .._offline import OFFLINE_ENV, is_offline
from ._webmercator import to_mercator

__all__ = ["OFFLINE_ENV", "OSM_URL", "basemap", "hillshade_basemap", "is_offline", "osm_basemap"]

#: OpenStreetMap's standard tiles (xyzservices' OpenStreetMap.Mapnik, with its attribution)
OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#: hillshade colours, shadow to sunlit: a light, low-contrast sepia, unlike the masked grey and the
#: products' classes (bare soil brown, water blue...)
_RELIEF = ["#d6ccbc", "#efe9de", "#fcfaf6"]
#: vertical exaggeration of the relief (below 1: softer shading of steep mountains)
_Z_FACTOR = 0.5


def osm_basemap():
    """OpenStreetMap tiles (fetched by the browser; xyzservices comes with Bokeh)."""
    import holoviews as hv
    import xyzservices.providers as xyz

    return hv.Tiles(xyz.OpenStreetMap.Mapnik, name="OpenStreetMap").opts(alpha=0.9)


def hillshade_basemap(dem: xr.DataArray):
    """A light shaded relief of ``dem`` (y, x, with a CRS) in Web Mercator, or None when it holds no elevation."""
    import holoviews as hv

    from ..products.terrain import hillshade

    dem = dem.astype("float32")
    if not np.isfinite(np.asarray(dem.values)).any():
        return None
    shade = hillshade(dem, mode="multidirectional", z_factor=_Z_FACTOR, compute_edges=True)
    shade = shade.where(shade > 0).rio.write_crs(dem.rio.crs)
    relief = to_mercator(shade.rename("relief"))
    return hv.Image(relief, kdims=["x", "y"], vdims=["relief"]).opts(
        cmap=_RELIEF, clim=(1, 255), colorbar=False, tools=[], default_tools=[])


def basemap(dem: Callable[[], xr.DataArray | None], *, offline: bool | None = None):
    """The basemap element: OSM online; offline, the hillshade of ``dem()`` (None without a DEM).
    ``dem`` is called only offline: online, no DEM is read."""
    if not (is_offline() if offline is None else offline):
        return osm_basemap()
    elevation = dem()
    return None if elevation is None else hillshade_basemap(elevation)
