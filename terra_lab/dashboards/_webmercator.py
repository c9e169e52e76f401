"""A result layer on the web map's grid: cropped to its data, reprojected to Web Mercator (EPSG:3857),
and the way back from a clicked map point to the layer's own coordinates.

Dashboard layers are small in-memory rasters on a UTM grid; the map draws them over a basemap
in Web Mercator, as web maps do, with longitude/latitude ticks.  Nearest-neighbour resampling
keeps class codes and counts exact; pixels outside the source grid become NaN (transparent).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["MERCATOR", "crop_to", "mercator_bounds", "to_lonlat", "to_mercator", "to_native"]

#: the web map's CRS
MERCATOR = "EPSG:3857"


def crop_to(layer: xr.DataArray, keep: xr.DataArray) -> xr.DataArray:
    """``layer`` cut to the bounding box of the pixels where ``keep`` is true (all of it when none is)."""
    rows = np.flatnonzero(np.asarray(keep.any("x")))
    cols = np.flatnonzero(np.asarray(keep.any("y")))
    if not len(rows) or not len(cols):
        return layer
    return layer.isel(y=slice(rows[0], rows[-1] + 1), x=slice(cols[0], cols[-1] + 1))


def to_mercator(layer: xr.DataArray) -> xr.DataArray:
    """``layer`` (y, x, with a rioxarray CRS) as float32 on a Web Mercator grid of about the same
    resolution; NaN where it had none and outside its grid."""
    from rasterio.enums import Resampling

    src = layer.astype("float32")
    src = src.rio.write_nodata(np.nan, encoded=False)
    out = src.rio.reproject(MERCATOR, resampling=Resampling.nearest, nodata=np.nan)
    out.attrs = dict(layer.attrs)
    out.attrs.pop("_FillValue", None)
    return out.rename(layer.name)


def mercator_bounds(layer: xr.DataArray) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of ``layer``'s pixels (edges, not centres) in its own coordinates."""
    left, bottom, right, top = (float(v) for v in layer.rio.bounds())
    return left, bottom, right, top


def _transformer(src, dst):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_native(x: float, y: float, crs) -> tuple[float, float]:
    """The Web Mercator point ``x, y`` of the map in ``crs`` (the layer's own coordinates)."""
    a, b = _transformer(MERCATOR, crs).transform(x, y)
    return float(a), float(b)


def to_lonlat(x: float, y: float, crs) -> tuple[float, float]:
    """(longitude, latitude) in degrees of the point ``x, y`` given in ``crs``."""
    lon, lat = _transformer(crs, "EPSG:4326").transform(x, y)
    return float(lon), float(lat)
