"""Terrain analysis from a DEM: slope, aspect and hillshades, lazily, as GDAL's ``gdaldem``.

Every function takes an elevation :class:`xarray.DataArray` on ``(y, x)`` (a leading
``time``/``band`` of length 1, as :func:`terra_lab.load` returns for a DEM item, is dropped)
and returns a new DataArray on the same grid, with the CRS, transform and coordinates of
the input.  Dask-backed inputs stay lazy: the 3 x 3 neighbourhoods are formed with a one-pixel
overlap between chunks and the kernel is told where each chunk lies in the raster, so results
do not depend on chunking.

The results reproduce ``gdaldem`` (GDAL 3.x) exactly: slope and aspect to the float32 GDAL
writes, hillshades to its bytes (see :mod:`terra_lab.kernels._terrain` for how).  As in
``gdaldem``, the border pixels are no data unless ``compute_edges=True`` (then the DEM is
extrapolated linearly beyond the edge), and a pixel is no data when it or, without
``compute_edges``, any of its 8 neighbours is (with ``compute_edges`` missing neighbours take
the centre's elevation).  No data is NaN in slope and aspect, 0 in hillshades (uint8, 1-255).

References
----------
.. [1] Horn, B. K. P. (1981). Hill shading and the reflectance map. Proc. IEEE 69(1), 14-47.
.. [2] Zevenbergen, L. W., Thorne, C. R. (1987). Quantitative analysis of land surface
   topography. Earth Surf. Process. Landforms 12, 47-56.
.. [3] Burrough, P. A., McDonnell, R. A. (1998). Principles of Geographical Information
   Systems. Oxford University Press, p. 190.
.. [4] Mark, R. K. (1992). Multidirectional, oblique-weighted, shaded-relief image of the
   Island of Hawaii. USGS Open-File Report 92-422.
.. [5] GDAL ``gdaldem`` documentation and source (apps/gdaldem_lib.cpp), https://gdal.org/programs/gdaldem.html
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from ..errors import MissingBandError, RasterInputError
from ..kernels import _terrain as k
from ._common import with_provenance
from ._grid import as_yx, resolution

__all__ = ["aspect", "hillshade", "slope"]

_METHODS = {"horn": k.HORN, "zevenbergenthorne": k.ZEVENBERGEN_THORNE, "zevenbergen_thorne": k.ZEVENBERGEN_THORNE}
_MODES = {"single": k.HILLSHADE, "combined": k.HILLSHADE_COMBINED, "igor": k.HILLSHADE_IGOR,
          "multidirectional": k.HILLSHADE_MULTI}
_REF = "Horn 1981; Zevenbergen & Thorne 1987; Mark 1992 (multidirectional); GDAL gdaldem"


def _method(method: str) -> int:
    key = str(method).lower().replace("-", "_")
    if key not in _METHODS:
        raise ValueError(f"method={method!r} is not a gradient method; use 'horn' (default) or 'zevenbergen_thorne'")
    return _METHODS[key]


def _prepare(dem: Any, product: str, integer_input: bool | None, *, name: str = "dem",
             drop: bool = True) -> tuple[xr.DataArray, bool]:
    """The DEM as float32 (y, x) with NaN for no data, and whether the source was integer.

    ``name``: the argument's name in messages; ``drop=False`` keeps a length-1 ``time``/``band``
    as a scalar coordinate (:mod:`terra_lab.products.relief` dates its DEMs with it)."""
    if isinstance(dem, xr.Dataset):
        if "elevation" not in dem:
            raise MissingBandError(
                f"{product} needs an 'elevation' variable, which the dataset lacks (it has "
                f"{sorted(map(str, dem.data_vars))}); pass the DEM DataArray, e.g. cube['elevation']"
            )
        dem = dem["elevation"]
    if isinstance(dem, xr.DataArray):
        for extra in [d for d in dem.dims if d not in ("y", "x")]:
            if dem.sizes[extra] != 1:
                raise RasterInputError(
                    f"{product} works on one elevation raster but the DEM has {dem.sizes[extra]} steps along "
                    f"{extra!r}; select one, e.g. {name}.isel({extra}=0)"
                )
            dem = dem.isel({extra: 0}, drop=drop)
    dem = as_yx(dem, name)
    is_int = np.issubdtype(dem.dtype, np.integer) if integer_input is None else bool(integer_input)
    nodata = dem.rio.nodata if dem.rio.nodata is not None else dem.attrs.get("_FillValue")
    out = dem.astype(np.float32)
    if nodata is not None and not np.isnan(nodata):
        out = out.where(out != np.float32(nodata))
    return out, is_int


def _line_nodata(z: np.ndarray) -> np.ndarray:
    return np.isnan(z).any(axis=1)


def _run(dem: xr.DataArray, *, product: int, method: int, params: np.ndarray, is_int: bool, compute_edges: bool,
         zero_for_flat: bool = False) -> xr.DataArray:
    ny, nx = dem.shape
    ew, ns = params[k.P_EW], params[k.P_NS]
    same_res = bool(ew == -ns)
    dtype = np.uint8 if product >= k.HILLSHADE else np.float32
    needs_lines = is_int and product == k.HILLSHADE and method == k.HORN and same_res
    kw = dict(ny=ny, nx=nx, product=product, method=method, p=params, same_res=same_res, integer_path=is_int,
              compute_edges=bool(compute_edges), zero_for_flat=bool(zero_for_flat))

    def block(zp, rows, cols, lines):
        out = np.empty((zp.shape[0] - 2, zp.shape[1] - 2), dtype)
        k.terrain_block(zp, rows, cols, lines, out=out, **kw)
        return out

    if dem.chunks is None:
        z = dem.values
        zp = np.pad(z, 1, constant_values=np.nan)
        lines = np.pad(_line_nodata(z), 1) if needs_lines else np.zeros(ny + 2, bool)
        data = block(zp, np.arange(ny), np.arange(nx), lines)
    else:
        zd = dem.data
        ov = da.overlap.overlap(zd, depth={0: 1, 1: 1}, boundary={0: np.nan, 1: np.nan})
        ychunks = tuple(c - 2 for c in ov.chunks[0])
        xchunks = tuple(c - 2 for c in ov.chunks[1])
        rows = da.arange(ny, chunks=(ychunks,))
        cols = da.arange(nx, chunks=(xchunks,))
        if needs_lines:
            lines = da.map_blocks(_line_nodata, zd.rechunk((ychunks, -1)), drop_axis=1, dtype=bool)
        else:
            lines = da.zeros(ny, dtype=bool, chunks=(ychunks,))
        lines = da.overlap.overlap(lines, depth={0: 1}, boundary={0: False})
        data = da.blockwise(block, "yx", ov, "yx", rows, "y", cols, "x", lines, "y", dtype=dtype,
                            align_arrays=False, concatenate=True,
                            adjust_chunks={"y": ychunks, "x": xchunks})
    out = xr.DataArray(data, dims=("y", "x"), coords=dem.coords)
    if dem.rio.crs is not None:
        out = out.rio.write_crs(dem.rio.crs)
    return out.rio.write_transform(dem.rio.transform())


def slope(dem: xr.DataArray, *, units: str = "degrees", method: str = "horn", scale: float = 1.0,
          z_factor: float = 1.0, compute_edges: bool = False, integer_input: bool | None = None) -> xr.DataArray:
    """Slope of the terrain in degrees (or percent), as ``gdaldem slope``.

    Horn's 3 x 3 finite differences [1]_ (``method="horn"``, smoother, the default) or
    Zevenbergen-Thorne's 4-neighbour ones [2]_, divided by the pixel size:
    ``slope = atan(sqrt(dz/dx^2 + dz/dy^2) / scale)`` [3]_.

    Parameters
    ----------
    dem
        Elevations on ``(y, x)`` with a CRS and transform (rioxarray); NaN, or the raster's
        ``nodata``, for no data.  A Dataset with an ``elevation`` variable is accepted.
    units
        ``"degrees"`` (0-90) or ``"percent"`` (100 tan(slope)).
    scale
        Ratio of horizontal to vertical units (``gdaldem -s``: 111120 for metres over degrees).
    z_factor
        Vertical exaggeration (applied as ``scale / z_factor``; ``gdaldem slope`` has no -z).
    compute_edges
        Compute the border pixels by linear extrapolation of the DEM (``-compute_edges``).
    integer_input
        Only affects hillshades; accepted for symmetry with :func:`hillshade`.

    Returns
    -------
    xarray.DataArray
        float32 slope, NaN for no data (and on the border without ``compute_edges``).

    References
    ----------
    See the module references; GDAL's ``gdaldem slope`` gives the same float32 values.

    Examples
    --------
    >>> import numpy as np, xarray as xr, rioxarray  # noqa: F401
    >>> z = xr.DataArray(np.add.outer(np.arange(5.0), np.arange(5.0)) * 10, dims=("y", "x"),
    ...                  coords={"y": np.arange(5.0)[::-1] * 10, "x": np.arange(5.0) * 10})
    >>> round(float(slope(z)[2, 2]), 3)  # dz = 10 per 10 m in both directions: atan(sqrt(2))
    54.736
    """
    if units not in ("degrees", "percent"):
        raise ValueError(f"units={units!r}; use 'degrees' or 'percent'")
    m = _method(method)
    z, is_int = _prepare(dem, "slope", integer_input)
    ew, ns = resolution(z, "dem")
    params = k.hillshade_params(ew, ns, scale=scale / z_factor, method=m)
    product = k.SLOPE_DEGREES if units == "degrees" else k.SLOPE_PERCENT
    out = _run(z, product=product, method=m, params=params, is_int=is_int, compute_edges=compute_edges)
    out = out.rio.write_nodata(np.nan, encoded=False).rename("slope")
    out.attrs.update(long_name=f"slope ({units})", units="degree" if units == "degrees" else "%")
    p = dict(units=units, method=method, scale=scale, z_factor=z_factor, compute_edges=compute_edges)
    return with_provenance(out, algorithm="slope (gdaldem)", params=p, source=dem, reference=_REF)


def aspect(dem: xr.DataArray, *, method: str = "horn", zero_for_flat: bool = False, compute_edges: bool = False,
           integer_input: bool | None = None) -> xr.DataArray:
    """Aspect: the azimuth the slope faces, in degrees clockwise from north, as ``gdaldem aspect``.

    0 is north, 90 east, 180 south, 270 west; flat pixels (zero gradient) are NaN, or 0 with
    ``zero_for_flat=True`` (``-zero_for_flat``; GDAL then also writes 0 on no data and
    borders, which stay NaN here).  Horn [1]_ or Zevenbergen-Thorne [2]_ gradients.

    Parameters
    ----------
    dem
        Elevations on ``(y, x)``, see :func:`slope`.
    method
        ``"horn"`` (default) or ``"zevenbergen_thorne"``.
    zero_for_flat
        Give flat areas 0 instead of no data.
    compute_edges
        Compute the border pixels by linear extrapolation of the DEM.
    integer_input
        Only affects hillshades; accepted for symmetry with :func:`hillshade`.

    Returns
    -------
    xarray.DataArray
        float32 azimuth in [0, 360), NaN for no data.

    References
    ----------
    See the module references; GDAL's ``gdaldem aspect`` gives the same float32 values.
    """
    m = _method(method)
    z, is_int = _prepare(dem, "aspect", integer_input)
    ew, ns = resolution(z, "dem")
    params = k.hillshade_params(ew, ns, method=m)
    out = _run(z, product=k.ASPECT, method=m, params=params, is_int=is_int, compute_edges=compute_edges,
               zero_for_flat=zero_for_flat)
    out = out.rio.write_nodata(np.nan, encoded=False).rename("aspect")
    out.attrs.update(long_name="aspect (azimuth of the downslope direction, clockwise from north)", units="degree")
    p = dict(method=method, zero_for_flat=zero_for_flat, compute_edges=compute_edges)
    return with_provenance(out, algorithm="aspect (gdaldem)", params=p, source=dem, reference=_REF)


def hillshade(dem: xr.DataArray, *, azimuth: float = 315.0, altitude: float = 45.0, z_factor: float = 1.0,
              scale: float = 1.0, mode: str = "single", method: str = "horn", compute_edges: bool = False,
              integer_input: bool | None = None) -> xr.DataArray:
    """Shaded relief (uint8, 1-255, 0 = no data), as ``gdaldem hillshade``.

    ``mode``:

    * ``"single"``: Lambertian reflectance under a sun at ``azimuth`` (degrees clockwise from
      north) and ``altitude`` (degrees above the horizon): ``1 + 254 cos(i)`` [1]_, 1 in shadow;
    * ``"multidirectional"``: four lights at azimuths 225, 270, 315 and 360 weighted by
      ``sin^2(aspect - azimuth)`` (Mark 1992 [4]_, with GDAL's weights); ``azimuth`` is unused;
    * ``"combined"``: the single-direction shade darkened by the slope
      (``1 - acos(cos i) atan(slope) / (pi/2)^2``), GDAL's ``-combined``;
    * ``"igor"``: slope-and-aspect shading without cast shadows (Igor-style, GDAL's ``-igor``),
      ``255 (1 - slope/90 (1 - |aspect - light| / 180))``; ``altitude`` is unused.

    Parameters
    ----------
    dem
        Elevations on ``(y, x)``, see :func:`slope`.
    azimuth, altitude
        The light's direction in degrees.
    z_factor
        Vertical exaggeration (``gdaldem -z``).
    scale
        Ratio of horizontal to vertical units (``gdaldem -s``).
    method
        Gradient: ``"horn"`` (default) or ``"zevenbergen_thorne"``.
    compute_edges
        Compute the border pixels by linear extrapolation of the DEM.
    integer_input
        Whether to reproduce GDAL's arithmetic for integer rasters (Byte, Int16, UInt16),
        which rounds a last addition differently for some pixels; default: from ``dem.dtype``.

    Returns
    -------
    xarray.DataArray
        uint8 shade, 0 for no data (``rio.nodata`` = 0).

    References
    ----------
    See the module references; GDAL's ``gdaldem hillshade`` gives the same bytes.
    """
    if mode not in _MODES:
        raise ValueError(f"mode={mode!r}; use one of {sorted(_MODES)}")
    m = _method(method)
    z, is_int = _prepare(dem, "hillshade", integer_input)
    ew, ns = resolution(z, "dem")
    params = k.hillshade_params(ew, ns, z=z_factor, scale=scale, altitude=altitude, azimuth=azimuth, method=m)
    out = _run(z, product=_MODES[mode], method=m, params=params, is_int=is_int, compute_edges=compute_edges)
    out = out.rio.write_nodata(0, encoded=False).rename("hillshade")
    out.attrs.update(long_name=f"hillshade ({mode})", valid_range=[1, 255])
    p = dict(azimuth=azimuth, altitude=altitude, z_factor=z_factor, scale=scale, mode=mode, method=method,
             compute_edges=compute_edges)
    return with_provenance(out, algorithm="hillshade (gdaldem)", params=p, source=dem, reference=_REF)
