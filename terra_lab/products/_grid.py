"""Raster grid checks shared by the product wrappers: (y, x) layers, pixel size, same-grid checks."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import GridMismatchError, RasterInputError

__all__ = ["as_yx", "check_same_grid", "grid_differences", "pixel_size", "resolution"]


def as_yx(da: xr.DataArray, name: str) -> xr.DataArray:
    """``da`` as a (y, x) layer (a single band squeezed), or :class:`RasterInputError` naming ``name``."""
    if not isinstance(da, xr.DataArray):
        raise RasterInputError(f"{name} must be an xarray.DataArray with dims (y, x), got {type(da).__name__}; "
                               "open rasters with rioxarray.open_rasterio(path).squeeze('band', drop=True)")
    if "band" in da.dims and da.sizes["band"] == 1:
        da = da.squeeze("band", drop=True)
    if set(da.dims) != {"y", "x"}:
        raise RasterInputError(f"{name} must have dims (y, x), it has {da.dims}; select one layer first, "
                               "e.g. da.isel(time=0) or da.squeeze('band', drop=True)")
    return da.transpose("y", "x")


def grid_differences(a: xr.DataArray | xr.Dataset, b: xr.DataArray | xr.Dataset) -> list[str]:
    """How ``b``'s grid differs from ``a``'s (CRS, shape, pixel coordinates); empty when they match."""
    why = []
    ca, cb = a.rio.crs, b.rio.crs
    if ca is not None and cb is not None and ca != cb:
        why.append(f"CRS {cb} vs {ca}")
    if (b.sizes.get("y"), b.sizes.get("x")) != (a.sizes.get("y"), a.sizes.get("x")):
        why.append(f"shape {dict(b.sizes)} vs {dict(a.sizes)}")
        return why
    for d in ("y", "x"):
        if d in a.coords and d in b.coords:
            step = abs(float(a[d].values[1] - a[d].values[0])) if a.sizes[d] > 1 else 1.0
            if not np.allclose(a[d].values, b[d].values, rtol=0, atol=1e-6 * step):
                why.append(f"different {d} coordinates")
    return why


def check_same_grid(a: xr.DataArray | xr.Dataset, b: xr.DataArray | xr.Dataset, name_a: str, name_b: str, *,
                    fix: str | None = None) -> None:
    """Raise :class:`~terra_lab.errors.GridMismatchError` naming both inputs unless they share a grid.

    ``fix``: how to put ``name_b`` on the grid (default: ``rio.reproject_match``).
    """
    why = grid_differences(a, b)
    if why:
        fix = fix or (f"put it on that grid first: {name_b} = {name_b}.rio.reproject_match({name_a}, "
                      "resampling=Resampling.nearest)")
        raise GridMismatchError(f"{name_b} is not on the grid of {name_a} ({'; '.join(why)}); {fix}")


def resolution(da: xr.DataArray, name: str) -> tuple[float, float]:
    """The signed pixel size (x, y) of the geotransform (y < 0 for north-up), or :class:`RasterInputError`."""
    try:
        rx, ry = da.rio.resolution()
    except Exception as exc:  # rioxarray raises several kinds when the grid is not regular
        raise RasterInputError(f"{name} has no usable x/y coordinates to derive its pixel size ({exc}); "
                               "keep the x/y coordinates of the raster you opened (or write a transform with "
                               f"{name}.rio.write_transform(...))") from exc
    return float(rx), float(ry)


def pixel_size(da: xr.DataArray, name: str) -> tuple[float, float]:
    """Pixel size (x, y) in metres, or :class:`RasterInputError` for lon/lat or coordinate-less rasters."""
    rx, ry = resolution(da, name)
    if da.rio.crs is not None and not da.rio.crs.is_projected:
        raise RasterInputError(f"{name} is in geographic coordinates ({da.rio.crs}); areas need a projected CRS "
                              f"in metres: {name}.rio.reproject('EPSG:32631') (or the local UTM zone)")
    return abs(float(rx)), abs(float(ry))


