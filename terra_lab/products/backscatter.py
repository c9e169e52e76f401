"""Sentinel-1 backscatter decoding: linear power <-> decibels, and per-orbit grouping.

Cubes of the Sentinel-1 profiles (:mod:`terra_lab.profiles._sentinel1`) hold linear power (sigma0 for
S1Tiling, gamma0 for the RTC collections), NaN for no data, with the orbit of each date as the
coordinates ``sat:orbit_state`` (``ascending`` / ``descending``) and ``sat:relative_orbit``.

* :func:`to_db`: ``10 log10(x)``; 0, negative and no-data values become NaN (S1Tiling writes 0 for no data);
* :func:`from_db`: ``10 ** (x / 10)``;
* :func:`orbit_key`: one label per date, ``"DES_008"``, to group a cube per orbit
  (``cube.groupby(orbit_key(cube))``): backscatter depends on the viewing geometry, so the dates of one
  orbit are compared with each other, as change-detection and soil-moisture methods do.

All functions are lazy on Dask-backed inputs and keep coordinates and the CRS.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import MissingBandError

__all__ = ["from_db", "orbit_key", "to_db"]

_DIRECTIONS = {"ascending": "ASC", "descending": "DES"}


def to_db(da: xr.DataArray) -> xr.DataArray:
    """Linear power to decibels, ``10 log10(da)``; NaN where ``da`` is not positive or is NaN.

    >>> import numpy as np, xarray as xr
    >>> to_db(xr.DataArray(np.array([1.0, 0.1, 0.0], "float32"))).values.tolist()
    [0.0, -10.0, nan]
    """
    out = (10 * np.log10(da.where(da > 0))).astype(np.float32)
    out.attrs = {**da.attrs, "units": "dB", "long_name": f"{da.attrs.get('long_name', da.name or 'backscatter')} (dB)"}
    return out.rename(da.name)


def from_db(da: xr.DataArray) -> xr.DataArray:
    """Decibels to linear power, ``10 ** (da / 10)`` (NaN stays NaN)."""
    out = (10 ** (da / 10)).astype(np.float32)
    name = str(da.attrs.get("long_name", da.name or "backscatter")).removesuffix(" (dB)")
    out.attrs = {**da.attrs, "units": "1", "long_name": name}
    return out.rename(da.name)


def orbit_key(cube: xr.Dataset | xr.DataArray) -> xr.DataArray:
    """The orbit of each date as ``"ASC_088"`` / ``"DES_008"`` (a ``time`` coordinate named ``orbit``)."""
    missing = [c for c in ("sat:orbit_state", "sat:relative_orbit") if c not in cube.coords]
    if missing:
        raise MissingBandError(
            f"the cube has no {missing} coordinate(s): load Sentinel-1 items whose properties carry "
            "sat:orbit_state and sat:relative_orbit (S1Tiling or RTC collections), with terra_lab.load"
        )
    states = [_DIRECTIONS.get(str(s).lower(), str(s).upper()[:3]) for s in cube["sat:orbit_state"].values]
    labels = [f"{s}_{int(o):03d}" for s, o in zip(states, cube["sat:relative_orbit"].values)]
    return xr.DataArray(labels, dims="time", coords={"time": cube["time"]}, name="orbit")
