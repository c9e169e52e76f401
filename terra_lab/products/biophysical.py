"""Vegetation biophysical variables with the Sentinel-2 biophysical processor's neural networks.

LAI, FAPAR, FCOVER, canopy chlorophyll content (CCC = Cab x LAI) and canopy water content
(CWC = Cw x LAI) from the eight 20 m-capable reflectances B3, B4, B5, B6, B7, B8A, B11, B12 and
the cosines of the view zenith, sun zenith and relative azimuth angles, with the networks the
ATBD [1]_ publishes through the SNAP toolbox (auxdata version 2_1, :mod:`._snap_weights`), and
the ATBD's validity flags.  Lazy: a Dask graph over the cube, one numba kernel call per block.

References
----------
.. [1] Weiss, M., Baret, F. (2016). S2ToolBox Level 2 products: LAI, FAPAR, FCOVER, version 1.1.
   INRA EMMAH (ATBD of the SNAP biophysical processor), http://step.esa.int/docs/extra/ATBD_S2ToolBox_L2B_V1.1.pdf
.. [2] SNAP s2tbx-biophysical, auxdata 2_1 (the coefficient files), https://github.com/senbox-org/s2tbx
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import TerraLabWarning
from ..kernels import _biophysical as k
from ._common import rechunk, require, with_provenance
from ._snap_weights import SNAP_VARIABLES, networks
from .params import with_overrides

__all__ = ["BIOPHYSICAL_BANDS", "BIOPHYSICAL_FLAGS", "BIOPHYSICAL_VARIABLES", "BiophysicalParams", "biophysical",
           "biophysical_inputs", "view_geometry"]

#: The cube's bands the networks take, in their order (Sentinel-2 B3, B4, B5, B6, B7, B8A, B11, B12).
BIOPHYSICAL_BANDS = ("green", "red", "rededge1", "rededge2", "rededge3", "nir08", "swir16", "swir22")

#: Variables: long name and units (CCC and CWC in the PROSPECT units of Cab and Cw times LAI).
BIOPHYSICAL_VARIABLES = {
    "lai": ("leaf area index", "m2 m-2"),
    "fapar": ("fraction of absorbed photosynthetically active radiation (black sky, 10:00 solar time)", "1"),
    "fcover": ("fraction of vegetation cover (nadir)", "1"),
    "ccc": ("canopy chlorophyll content (Cab x LAI)", "ug cm-2"),
    "cwc": ("canopy water content (Cw x LAI)", "g cm-2"),
}

#: The flag bits of every ``<var>_flags`` layer (SNAP's coding), and the no-data value.
BIOPHYSICAL_FLAGS = {
    k.INPUT_OUT_OF_DOMAIN: "input_out_of_domain",
    k.OUTPUT_CLIPPED_TO_MIN: "output_set_to_min",
    k.OUTPUT_CLIPPED_TO_MAX: "output_set_to_max",
    k.OUTPUT_TOO_LOW: "output_too_low",
    k.OUTPUT_TOO_HIGH: "output_too_high",
}

_REF = ("Weiss & Baret 2016, S2ToolBox Level 2 products: LAI, FAPAR, FCOVER, ATBD v1.1; SNAP s2tbx-biophysical "
        "auxdata 2_1 networks")
_SOURCE_LAYERS = ("cloud", "shadow", "snow", "water", "edge", "saturated")
#: Sentinel-2's mean local solar time at the descending node (10:30): the sun-zenith fallback.
_OVERPASS_SOLAR_HOURS = 10.5


@dataclass(frozen=True)
class BiophysicalParams:
    """Options of :func:`biophysical`.

    ``variables``: those to compute (names of :data:`BIOPHYSICAL_VARIABLES`).  ``mask_invalid``:
    NaN where the output is too low or too high (beyond the tolerance, flags 8 and 16; SNAP keeps the
    raw network value there).  ``mask_out_of_domain``: also NaN where the input reflectances are
    outside the definition domain (flag 1; kept by default, as SNAP does).  ``source_mask``: the
    cube's MAJA layers (cloud, shadow, snow, water, edge, saturated, those present) make no data.
    ``view_zenith`` and ``relative_azimuth``: fallbacks in degrees when the items do not carry
    ``view:incidence_angle`` / ``view:azimuth`` (nadir view; the relative azimuth then hardly matters).
    """

    variables: tuple[str, ...] = tuple(BIOPHYSICAL_VARIABLES)
    mask_invalid: bool = True
    mask_out_of_domain: bool = False
    source_mask: bool = True
    view_zenith: float = 0.0
    relative_azimuth: float = 0.0


def _solar_zenith_at_overpass(times: pd.DatetimeIndex, lat: float) -> np.ndarray:
    """Sun zenith (degrees) at 10:30 local solar time on ``times`` at latitude ``lat``
    (Cooper's declination ``23.45 sin(360 (284 + doy) / 365)``; hour angle -22.5 degrees)."""
    doy = np.asarray(times.dayofyear, dtype=np.float64)
    decl = np.radians(23.45) * np.sin(np.radians(360.0 * (284.0 + doy) / 365.0))
    hour = np.radians(15.0 * (_OVERPASS_SOLAR_HOURS - 12.0))
    phi = np.radians(lat)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(hour)
    return np.degrees(np.arccos(np.clip(cosz, -1.0, 1.0)))


def _centre_latitude(cube: xr.Dataset) -> float:
    from pyproj import Transformer

    crs = cube.rio.crs
    x, y = float(cube["x"].mean()), float(cube["y"].mean())
    if crs is None:
        raise ValueError("biophysical: the cube has no CRS, so the sun zenith cannot be estimated; pass items= "
                         "(their view:sun_elevation) or sun_zenith= in degrees")
    _, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)
    return float(lat)


def _per_time(cube: xr.Dataset, items: Any, key: str) -> np.ndarray | None:
    """Item property ``key`` per time step of ``cube`` (mean over the items a step mosaics), or None
    when an item lacks it."""
    if items is None or "id" not in cube.coords:
        return None
    if hasattr(items, "items") and isinstance(items.items, list):
        items = items.items
    props = {}
    for it in items:
        d = it if isinstance(it, dict) else it.to_dict(transform_hrefs=False)
        props[d["id"]] = d.get("properties", {})
    out = []
    for ids in np.atleast_1d(cube["id"].values):
        vals = [props.get(i, {}).get(key) for i in str(ids).split(",")]
        if any(v is None for v in vals):
            return None
        out.append(float(np.mean(vals)))
    return np.asarray(out)


def _as_angle(value: Any, cube: xr.Dataset) -> xr.DataArray:
    da = value if isinstance(value, xr.DataArray) else xr.DataArray(np.asarray(value, dtype=np.float64))
    if da.ndim == 1 and not isinstance(value, xr.DataArray):
        da = xr.DataArray(da.values, dims=("time",), coords={"time": cube["time"]})
    return da.astype(np.float64)


def view_geometry(cube: xr.Dataset, *, items: Any = None, sun_zenith: Any = None, view_zenith: Any = None,
                  relative_azimuth: Any = None, params: BiophysicalParams | None = None) -> xr.Dataset:
    """The three angles (degrees) the networks take, per time step (or per pixel when given so).

    In order of preference: the arguments (scalars, one value per time step, or DataArrays that
    broadcast against the cube); the items' STAC ``view`` fields (sun zenith ``90 -
    view:sun_elevation``, view zenith ``view:incidence_angle``, relative azimuth ``view:sun_azimuth -
    view:azimuth``), matched to the cube's time steps by its ``id`` coordinate; then fallbacks,
    each with a :class:`~terra_lab.errors.TerraLabWarning`: the sun zenith at 10:30 local solar
    time (Sentinel-2's overpass) at the cube's centre, a nadir view (``params.view_zenith``) and a
    relative azimuth of ``params.relative_azimuth``.
    """
    p = params or BiophysicalParams()
    assumed = []
    if sun_zenith is None:
        elev = _per_time(cube, items, "view:sun_elevation")
        if elev is not None:
            sun_zenith = 90.0 - elev
        else:
            times = pd.DatetimeIndex(np.atleast_1d(cube["time"].values)) if "time" in cube.dims else None
            if times is None:
                raise ValueError("biophysical: no time axis and no sun angle; pass sun_zenith= in degrees")
            sun_zenith = _solar_zenith_at_overpass(times, _centre_latitude(cube))
            assumed.append("sun zenith at 10:30 local solar time (no view:sun_elevation)")
    if view_zenith is None:
        view_zenith = _per_time(cube, items, "view:incidence_angle")
        if view_zenith is None:
            view_zenith = p.view_zenith
            assumed.append(f"view zenith {p.view_zenith} degrees (no view:incidence_angle)")
    if relative_azimuth is None:
        saz, vaz = _per_time(cube, items, "view:sun_azimuth"), _per_time(cube, items, "view:azimuth")
        if saz is not None and vaz is not None:
            relative_azimuth = saz - vaz
        else:
            relative_azimuth = p.relative_azimuth
            assumed.append(f"relative azimuth {p.relative_azimuth} degrees (no view:sun_azimuth and view:azimuth)")
    if assumed:
        warnings.warn("biophysical: " + "; ".join(assumed) + "; pass items= whose properties carry them, or the "
                      "angles (sun_zenith=, view_zenith=, relative_azimuth=)", TerraLabWarning, stacklevel=3)
    return xr.Dataset({"view_zenith": _as_angle(view_zenith, cube), "sun_zenith": _as_angle(sun_zenith, cube),
                       "relative_azimuth": _as_angle(relative_azimuth, cube)})


def biophysical_inputs(cube: xr.Dataset, *, source_mask: bool = True) -> xr.DataArray:
    """The eight reflectances as one float32 DataArray (..., band), NaN where a MAJA layer masks the pixel."""
    require(cube, BIOPHYSICAL_BANDS, "biophysical")
    refl = xr.concat([cube[b].astype(np.float32) for b in BIOPHYSICAL_BANDS], dim="band", coords="minimal",
                     compat="override", join="override")
    refl = refl.assign_coords(band=list(BIOPHYSICAL_BANDS))
    if source_mask:
        layers = [cube[name] for name in _SOURCE_LAYERS if name in cube]
        if layers:
            masked = layers[0]
            for layer in layers[1:]:
                masked = masked | layer
            refl = refl.where(~masked)
    refl = refl.transpose(..., "band")
    return rechunk(refl, band=-1) if refl.chunks is not None else refl


def _run(refl: np.ndarray, cosines: np.ndarray, variables: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The kernel on one block: ``refl`` (..., 8), ``cosines`` broadcastable to (..., 3)."""
    nets = networks(variables)
    shape = refl.shape[:-1]
    r = np.ascontiguousarray(refl.reshape(-1, k.N_REFLECTANCES), dtype=np.float32)
    c = np.ascontiguousarray(np.broadcast_to(cosines, (*shape, 3)).reshape(-1, 3), dtype=np.float32)
    values = np.empty((r.shape[0], len(variables)), dtype=np.float32)
    flags = np.empty((r.shape[0], len(variables)), dtype=np.uint8)
    k.biophysical_block(r, c, nets.norm, nets.w1, nets.b1, nets.w2, nets.b2, nets.denorm, nets.extremes,
                        nets.dmin, nets.dmax, nets.grid, values, flags)
    return values.reshape(*shape, len(variables)), flags.reshape(*shape, len(variables))


def biophysical(
    cube: xr.Dataset,
    params: BiophysicalParams | None = None,
    *,
    items: Any = None,
    sun_zenith: Any = None,
    view_zenith: Any = None,
    relative_azimuth: Any = None,
    **overrides: Any,
) -> xr.Dataset:
    """LAI, FAPAR, FCOVER, CCC and CWC with the Sentinel-2 biophysical processor's networks [1]_, lazily.

    Per pixel: the 11 inputs (reflectances B3, B4, B5, B6, B7, B8A, B11, B12; cos of the view
    zenith, sun zenith and relative azimuth) are scaled to [-1, 1] with the published minima and
    maxima, go through 5 tansig neurons and a linear output neuron, and the output is scaled back
    to the variable's range.  Flags (the ATBD's quality indicators, SNAP's bit coding): bit 0 (1)
    the reflectances are outside the definition domain (a band beyond the training set's min/max,
    or the pixel's cell on the 10-step grid of the 8 reflectances is not one the training set
    occupies: the convex-hull test); bit 1 (2) / bit 2 (4) the output was below its minimum / above
    its maximum by less than the tolerance and was set to it; bit 3 (8) / bit 4 (16) beyond the
    tolerance (the value is NaN unless ``mask_invalid=False``); 255 no data.

    Parameters
    ----------
    cube
        From :func:`terra_lab.load` with the bands of :data:`BIOPHYSICAL_BANDS` (20 m; surface
        reflectance 0-1, NaN for no data), and its MAJA layers for ``source_mask``.
    params, **overrides
        :class:`BiophysicalParams` and fields to replace (``variables=("lai",)``).
    items, sun_zenith, view_zenith, relative_azimuth
        Where the angles come from: see :func:`view_geometry` (the cube does not carry them).

    Returns
    -------
    xarray.Dataset
        ``<var>`` (float32) and ``<var>_flags`` (uint8) for each requested variable, on the cube's
        dims (time, y, x), with the angles used as ``sun_zenith``, ``view_zenith`` and
        ``relative_azimuth`` coordinates where they vary with time only.

    Examples
    --------
    >>> cube = terra_lab.load(items, bands=list(BIOPHYSICAL_BANDS), resolution=20)  # doctest: +SKIP
    >>> bio = biophysical(cube, items=items)  # doctest: +SKIP
    >>> bio.lai.isel(time=0).compute()  # doctest: +SKIP
    """
    p = with_overrides(params, BiophysicalParams, overrides, "biophysical")
    variables = tuple(p.variables)
    networks(variables)  # unknown names fail now, with the list of known ones
    angles = view_geometry(cube, items=items, sun_zenith=sun_zenith, view_zenith=view_zenith,
                           relative_azimuth=relative_azimuth, params=p)
    parts = [cast(xr.DataArray, np.cos(np.radians(angles[a]))) for a in ("view_zenith", "sun_zenith", "relative_azimuth")]
    cosines = xr.concat(parts,
                        dim="angle", coords="minimal", compat="override").transpose(..., "angle")
    refl = biophysical_inputs(cube, source_mask=p.source_mask)
    values, flags = xr.apply_ufunc(
        _run, refl, cosines.astype(np.float32), kwargs={"variables": variables},
        input_core_dims=[["band"], ["angle"]], output_core_dims=[["variable"], ["variable"]],
        dask="parallelized", output_dtypes=[np.float32, np.uint8], keep_attrs=False,
        dask_gufunc_kwargs={"output_sizes": {"variable": len(variables)}},
    )
    ds = xr.Dataset()
    for i, name in enumerate(variables):
        f = flags.isel(variable=i, drop=True)
        v = values.isel(variable=i, drop=True)
        bad = (f & (k.OUTPUT_TOO_LOW | k.OUTPUT_TOO_HIGH)) > 0 if p.mask_invalid else None
        if p.mask_out_of_domain:
            ood = ((f & k.INPUT_OUT_OF_DOMAIN) > 0) & (f != k.NO_DATA)
            bad = ood if bad is None else bad | ood
        if bad is not None:
            v = v.where(~bad | (f == k.NO_DATA))
        long_name, units = BIOPHYSICAL_VARIABLES[name]
        ds[name] = v.astype(np.float32).assign_attrs(long_name=long_name, units=units,
                                                     snap_name=SNAP_VARIABLES[name])
        ds[f"{name}_flags"] = f.assign_attrs(
            long_name=f"{name} validity flags", flag_masks=list(BIOPHYSICAL_FLAGS),
            flag_meanings=" ".join(BIOPHYSICAL_FLAGS.values()), no_data=k.NO_DATA)
    ds = _with_angle_coords(ds, angles)
    keep = set(ds.dims) | {"spatial_ref", "solar_day", "id", "platform", "sun_zenith", "view_zenith",
                           "relative_azimuth"}
    ds = ds.drop_vars([c for c in ds.coords if c not in keep])
    recorded = asdict(p) | {"variables": list(variables), "weights": "SNAP s2tbx-biophysical auxdata 2_1"}
    return with_provenance(ds, algorithm="Sentinel-2 biophysical processor neural networks (Weiss & Baret)",
                           params=recorded, source=cube, reference=_REF)


def _with_angle_coords(ds: xr.Dataset, angles: xr.Dataset) -> xr.Dataset:
    """The angles as coordinates where they are scalars or vary along time only."""
    for name, da in angles.data_vars.items():
        if set(da.dims) <= {"time"} and set(da.dims) <= set(ds.dims):
            ds = ds.assign_coords({name: da.assign_attrs(units="degree")})
    return ds
