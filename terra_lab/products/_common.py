"""Checks and provenance shared by the product wrappers."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import xarray as xr

from .._version import __version__
from ..errors import MissingBandError

__all__ = ["chunks_along", "per_block", "provenance_attrs", "rechunk", "require", "require_single_time_chunk",
           "valid_rows", "whole_raster", "with_provenance"]


def rechunk(da: xr.DataArray, **chunks: int) -> xr.DataArray:
    """Rechunk the data only (``DataArray.chunk`` would also turn coordinates into Dask arrays,
    which xarray later computes to compare them)."""
    import dask.array

    spec = {da.dims.index(d): c for d, c in chunks.items() if d in da.dims}
    if da.chunks is None:
        full = dict.fromkeys(range(da.ndim), -1)
        full.update(spec)
        return da.copy(data=dask.array.from_array(da.data, chunks=tuple(full[i] for i in range(da.ndim))))
    return da.copy(data=da.data.rechunk(spec))


def per_block(fn: Any, data: Any, dtype: Any) -> Any:
    """``fn`` on every block of a Dask array (lazy), or on a numpy array now (pointwise work)."""
    import dask.array

    return dask.array.map_blocks(fn, data, dtype=dtype) if isinstance(data, dask.array.Array) else fn(data)


def whole_raster(fn, *arrays, dtype):
    """``fn`` on whole rasters (labelling, cost propagation: work that couples every pixel).

    Numpy inputs run now; with any Dask input the rasters are gathered into one chunk and ``fn``
    becomes one lazy task, so its errors are raised when the result is computed.
    """
    import dask.array

    if not any(isinstance(a, dask.array.Array) for a in arrays):
        return fn(*arrays)
    whole = [dask.array.asarray(a).rechunk(-1) for a in arrays]
    return dask.array.map_blocks(fn, *whole, dtype=dtype)


def valid_rows(x):
    """A (..., feature) block as (rows, ok, shape): one row per pixel, ``ok`` where no feature is NaN."""
    import numpy as np

    rows = x.reshape(-1, x.shape[-1])
    return rows, ~np.isnan(rows).any(axis=1), x.shape[:-1]


def require(ds: xr.Dataset, names: Iterable[str], product: str) -> None:
    """Raise :class:`MissingBandError` naming what ``product`` needs and how to load it."""
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise MissingBandError(
            f"{product} needs {missing}, which the cube lacks (it has {sorted(map(str, ds.data_vars))}); "
            f"load them, e.g. terra_lab.load(items, bands=[...{', '.join(repr(m) for m in missing)}...])"
        )


def chunks_along(da: xr.DataArray, dim: str) -> tuple[int, ...]:
    """Chunk sizes of the data along ``dim`` (coordinates' chunks, which may differ, are ignored)."""
    if da.chunks is None or dim not in da.dims:
        return (da.sizes.get(dim, 1),)
    return da.data.chunks[da.dims.index(dim)]


def require_single_time_chunk(da: xr.DataArray, product: str) -> None:
    """Per-pixel time-series algorithms need the whole time axis in one chunk."""
    n = len(chunks_along(da, "time"))
    if n > 1:
        raise ValueError(
            f"{product} works on whole time series but the time axis of {da.name!r} is split into "
            f"{n} chunks; rechunk first: cube = cube.chunk(time=-1, x=256, y=256) "
            "(or load with chunks={'time': -1, 'x': 256, 'y': 256})"
        )


def provenance_attrs(*, algorithm: str, params: dict[str, Any], source=None, reference: str = "") -> dict:
    """The algorithm, its parameters, the version and the source's items, as attributes."""
    attrs = {
        "terra_lab:algorithm": algorithm,
        "terra_lab:parameters": json.dumps(params, default=str, sort_keys=True),
        "terra_lab:version": __version__,
    }
    if reference:
        attrs["references"] = reference
    if source is not None:
        for key in ("terra_lab:source_items", "terra_lab:collections", "source"):
            if key in source.attrs:
                attrs[key] = source.attrs[key]
    return attrs


def with_provenance(obj, *, algorithm: str, params: dict[str, Any], source: xr.Dataset | xr.DataArray | None = None,
                    reference: str = ""):
    """Attach the algorithm, its parameters, the source items and the version to ``obj.attrs``
    (and the source's CRS when ``obj`` has none)."""
    if source is not None and source.rio.crs is not None and obj.rio.crs is None:
        obj = obj.rio.write_crs(source.rio.crs)
    obj.attrs.update(provenance_attrs(algorithm=algorithm, params=params, source=source, reference=reference))
    return obj
