"""A dashboard's result as a file: Cloud-Optimized GeoTIFF or NetCDF bytes, with its provenance.

No user interface here: the page's download buttons call these with the layer shown and the
provenance attributes (algorithm, parameters, source items, the dashboard and its choices).
"""

from __future__ import annotations

import io
import json
import numbers
import os
import tempfile

import numpy as np
import xarray as xr

__all__ = ["cog_bytes", "netcdf_attr", "netcdf_bytes", "provenance"]


def provenance(attrs: dict, theme: str, parameters: dict) -> dict:
    """The attributes a downloaded file carries: the product's ``terra_lab:*`` and ``references``
    attributes (non-text values as JSON), the dashboard's theme and its parameters (JSON)."""
    return {
        **{k: (json.dumps(v) if not isinstance(v, str) else v) for k, v in attrs.items()
           if k.startswith("terra_lab:") or k == "references"},
        "terra_lab:dashboard": theme,
        "terra_lab:dashboard_parameters": json.dumps(parameters, default=str),
    }


def netcdf_attr(value):
    """An attribute value NetCDF can store: lists and dicts as JSON, other objects (e.g. a
    stackstac RasterSpec) as their text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    if isinstance(value, (str, bytes, numbers.Number, np.ndarray, np.number, tuple)):
        return value
    return str(value)


def _read_back(write) -> io.BytesIO:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out")
        write(path)
        with open(path, "rb") as f:
            return io.BytesIO(f.read())


def cog_bytes(layer: xr.DataArray, attrs: dict) -> io.BytesIO:
    """``layer`` as a Cloud-Optimized GeoTIFF with ``attrs`` as its metadata tags."""
    # GeoTIFF metadata keys cannot hold ':' (GDAL's domain separator)
    tags = {k.replace(":", "_"): v for k, v in attrs.items()}
    return _read_back(lambda path: layer.rio.to_raster(path, driver="COG", tags=tags))


def netcdf_bytes(layer: xr.DataArray, attrs: dict) -> io.BytesIO:
    """``layer`` as NetCDF with ``attrs`` as global attributes (every attribute made storable)."""
    ds = layer.to_dataset(name=str(layer.name or "result"))
    ds.attrs.update(attrs)
    for v in ds.variables.values():
        v.attrs = {k: netcdf_attr(x) for k, x in v.attrs.items()}
    return _read_back(ds.to_netcdf)
