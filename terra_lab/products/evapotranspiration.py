"""Evapotranspiration from Landsat surface temperature: TSEB-PT fluxes, an SSEBop fraction, daily and dekad ET.

Three steps, all lazy over cubes made by :func:`terra_lab.load` (Landsat Collection 2 Level-2:
``lwir11`` surface temperature in K and reflectance, see :data:`terra_lab.profiles.LANDSAT_C2_L2`)
and a meteorological forcing (scalars, or arrays broadcast against the cube):

1. instantaneous fluxes at the overpass: :func:`tseb_pt` (two-source energy balance, Priestley-Taylor
   version [1]_ [2]_, numba kernel :mod:`terra_lab.kernels._tseb`, checked against ``pyTSEB``), or the
   ET fraction of :func:`ssebop_fraction` (Senay et al. 2013 [3]_: cold reference ``c * Tmax``, hot =
   cold + ``dT``);
2. daily reference ET :func:`reference_et_daily` (FAO-56 Penman-Monteith [4]_, checked against
   ``refet`` and ``pyet``; SSEBop's clear-sky net radiation :func:`clear_sky_net_radiation`, against
   ``pyet``), daily actual ET by the ET fraction times ET0 (:func:`daily_et`, fractions interpolated
   between overpasses), the evaporative fraction of TSEB (:func:`evaporative_fraction`);
3. ten-day sums :func:`dekad_sums` and a water-stress index :func:`water_stress_index` (``1 - ET/ET0``).

References
----------
.. [1] Norman, J.M., Kustas, W.P., Humes, K.S. (1995). Agric. For. Meteorol. 77, 263-293.
   doi:10.1016/0168-1923(95)02265-Y
.. [2] Kustas, W.P., Norman, J.M. (1999). Agric. For. Meteorol. 94, 13-29.
   doi:10.1016/S0168-1923(99)00005-2
.. [3] Senay, G.B., Bohms, S., Singh, R.K., Gowda, P.H., Velpuri, N.M., Alemu, H., Verdin, J.P. (2013).
   Operational evapotranspiration mapping using remote sensing and weather datasets: a new
   parameterization for the SSEB approach. JAWRA 49(3), 577-591. doi:10.1111/jawr.12057
.. [4] Allen, R.G., Pereira, L.S., Raes, D., Smith, M. (1998). Crop evapotranspiration. FAO
   Irrigation and Drainage Paper 56 (eqs 6-39).
.. [5] Liang, S. (2001). Narrowband to broadband conversions of land surface albedo I: algorithms.
   Remote Sens. Environ. 76, 213-238 (Landsat coefficients).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import RasterInputError
from ..kernels import _tseb as k
from ..kernels._gapfill import gapfill_linear
from ._common import rechunk, require, with_provenance

__all__ = [
    "SSEBopParams", "TSEBParams", "broadband_albedo_landsat", "clear_sky_net_radiation", "daily_et", "dekad_sums",
    "evaporative_fraction", "lai_from_ndvi", "longwave_down", "net_shortwave", "reference_et_daily", "ssebop_dt",
    "ssebop_fraction", "tseb_pt", "water_stress_index",
]

SIGMA = 5.670373e-8  # Stefan-Boltzmann (W m-2 K-4)
#: Liang (2001) Landsat narrow-to-broadband albedo: band -> coefficient, and the intercept [5]_.
LIANG_LANDSAT = ({"blue": 0.356, "red": 0.130, "nir": 0.373, "swir16": 0.085, "swir22": 0.072}, -0.0018)
_TSEB_REF = "Norman et al. 1995; Kustas & Norman 1999 (TSEB-PT); pyTSEB (Nieto et al.)"
_SSEBOP_REF = "Senay et al. 2013, JAWRA 49(3) 577-591, doi:10.1111/jawr.12057"
_FAO56_REF = "Allen et al. 1998, FAO Irrigation and Drainage Paper 56, eq. 6"


@dataclass(frozen=True)
class TSEBParams:
    """Parameters of :func:`tseb_pt`: pyTSEB's defaults, except ``leaf_width`` (0.05 m, crops and grass;
    pyTSEB's default 0.1 m) and the forcing heights.

    ``z_u``, ``z_t``: heights (m) of the wind and air-temperature forcing, above every canopy
    (a blending height; the demo station's values are taken as valid there); ``leaf_width`` (m);
    ``z0_soil`` (m); ``alpha_pt``: Priestley-Taylor coefficient (Priestley & Taylor 1972);
    ``x_lad``: Campbell's leaf-angle chi (1: spherical); ``w_c``: canopy width/height;
    ``g_ratio``: soil heat flux / soil net radiation (Choudhury et al. 1987: 0.35);
    ``emis_c``, ``emis_s``: leaf and soil emissivity; ``z0m_ratio``, ``d0_ratio``: roughness length
    and displacement height as fractions of the canopy height (Brutsaert 1982: 0.125, 0.65).
    """

    emis_c: float = 0.98
    emis_s: float = 0.95
    z_u: float = 30.0
    z_t: float = 30.0
    leaf_width: float = 0.05
    z0_soil: float = 0.01
    alpha_pt: float = 1.26
    x_lad: float = 1.0
    w_c: float = 1.0
    g_ratio: float = 0.35
    z0m_ratio: float = 0.125
    d0_ratio: float = 0.65

    def kernel_params(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in k.PARAMS], dtype=np.float64)


@dataclass(frozen=True)
class SSEBopParams:
    """Parameters of :func:`ssebop_fraction` (Senay et al. 2013 [3]_).

    ``rah``: aerodynamic resistance of the hot dry bare reference (s/m, 110); ``cold_ndvi``: NDVI
    above which pixels are taken as well-watered full cover to fit the c factor; ``c_factor``: a
    fixed c (None: fitted on each date); ``max_fraction``: upper clip of the ET fraction (1.05).
    """

    rah: float = 110.0
    cold_ndvi: float = 0.7
    c_factor: float | None = None
    max_fraction: float = 1.05


# ------------------------------------------------------------------------------ inputs from the cube
def broadband_albedo_landsat(cube: xr.Dataset) -> xr.DataArray:
    """Shortwave broadband albedo from Landsat OLI reflectance (Liang 2001 [5]_)."""
    coeffs, intercept = LIANG_LANDSAT
    require(cube, list(coeffs), "broadband_albedo_landsat")
    out = sum(c * cube[b] for b, c in coeffs.items()) + intercept
    out = out.rename("albedo").assign_attrs(long_name="shortwave broadband albedo", units="1")
    return with_provenance(out, algorithm="albedo_liang_landsat", params={"coefficients": coeffs, "intercept": intercept},
                           source=cube, reference="Liang 2001, Remote Sens. Environ. 76, 213-238")


def lai_from_ndvi(ndvi: xr.DataArray, *, ndvi_soil: float = 0.15, ndvi_veg: float = 0.90, k_ext: float = 0.5,
                  lai_max: float = 6.0) -> xr.DataArray:
    """Leaf area index from NDVI: cover ``fc = ((NDVI - NDVIs) / (NDVIv - NDVIs))**2`` (Carlson &
    Ripley 1997), ``LAI = -ln(1 - fc) / k`` (Beer's law, ``k = 0.5``), clipped to [0.05, lai_max]."""
    fc = (((ndvi - ndvi_soil) / (ndvi_veg - ndvi_soil)).clip(0.0, 0.99)) ** 2
    lai = (-np.log(1.0 - fc) / k_ext).clip(0.05, lai_max)
    return lai.rename("lai").assign_attrs(long_name="leaf area index from NDVI", units="m2 m-2")


# ------------------------------------------------------------------------------ TSEB-PT
def _tseb_numpy(*arrays: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Broadcast the inputs, run the kernel, return (..., N_OUTPUTS) float32."""
    b = np.broadcast_arrays(*arrays)
    shape = b[0].shape
    inp = np.ascontiguousarray(np.stack([np.asarray(a, dtype=np.float64).ravel() for a in b]))
    out = np.empty((k.N_OUTPUTS, inp.shape[1]), dtype=np.float64)
    k.tseb_pt_block(inp, params, out)
    return np.moveaxis(out.reshape((k.N_OUTPUTS, *shape)), 0, -1).astype(np.float32)


def net_shortwave(solar: Any, albedo: Any, lai: Any, sza: Any) -> tuple[Any, Any]:
    """Net shortwave of canopy and soil: ``(1 - albedo) Sdn`` shared by Beer's law with the beam
    extinction of a spherical canopy ``k = 0.5 / cos(sza)``."""
    sn = (1.0 - albedo) * solar
    canopy = 1.0 - np.exp(-0.5 / np.cos(np.radians(sza)) * lai)
    return sn * canopy, sn * (1.0 - canopy)


def longwave_down(air_temperature: Any, vapour_pressure: Any) -> Any:
    """Clear-sky downwelling longwave (W/m2), Brutsaert (1975): ``1.24 (ea/Ta)^(1/7) sigma Ta^4`` (ea in mb)."""
    return 1.24 * (vapour_pressure / air_temperature) ** (1.0 / 7.0) * SIGMA * air_temperature**4


def tseb_pt(
    lst: xr.DataArray,
    lai: xr.DataArray,
    *,
    albedo: Any,
    air_temperature: Any,
    wind_speed: Any,
    vapour_pressure: Any,
    pressure: Any,
    solar_radiation: Any,
    canopy_height: Any,
    solar_zenith: Any = 30.0,
    view_zenith: Any = 0.0,
    longwave: Any = None,
    fractional_cover: Any = 1.0,
    green_fraction: Any = 1.0,
    params: TSEBParams | None = None,
) -> xr.Dataset:
    """Instantaneous surface energy fluxes of the two-source model, Priestley-Taylor version (TSEB-PT).

    Parameters
    ----------
    lst
        Radiometric surface temperature (K), e.g. ``cube["lwir11"]`` of a Landsat C2 L2 cube.
    lai
        Leaf area index (e.g. :func:`lai_from_ndvi`); LAI <= 0 or NaN anywhere gives NaN fluxes.
    albedo, air_temperature, wind_speed, vapour_pressure, pressure, solar_radiation, canopy_height
        Shortwave albedo, air temperature (K), wind speed (m/s), vapour pressure and pressure (mb),
        incoming shortwave (W/m2), canopy height (m): scalars, or arrays broadcast against ``lst``
        (one value per date: a DataArray along ``time``).
    solar_zenith, view_zenith
        Angles (degrees).
    longwave
        Downwelling longwave (W/m2); default: Brutsaert's clear sky, :func:`longwave_down`.
    fractional_cover, green_fraction
        Canopy cover and green fraction of the canopy (0-1).
    params
        :class:`TSEBParams`.

    Returns
    -------
    xarray.Dataset
        ``rn``, ``h``, ``le``, ``g`` (W/m2) and the canopy/soil parts ``le_c``, ``h_c``, ``le_s``,
        ``h_s``; ``t_c``, ``t_s`` (K); ``flag`` (pyTSEB's quality codes: 0 all fluxes, 3 alpha
        reduced, 5 no latent flux, 254 soil temperature failed, 255 invalid); ``l_mo`` (m); ``n_iter``.
        Lazy when ``lst`` is Dask-backed.

    References
    ----------
    Norman et al. (1995); Kustas & Norman (1999); pyTSEB's ``TSEB.TSEB_PT`` (same constants, resistances
    in series, Brutsaert stability functions, G = 0.35 Rn_soil).
    """
    p = params or TSEBParams()
    if not isinstance(lst, xr.DataArray):
        raise RasterInputError(f"tseb_pt: lst must be an xarray.DataArray of surface temperature (K), got {type(lst).__name__}")
    lw = longwave_down(air_temperature, vapour_pressure) if longwave is None else longwave
    sn_c, sn_s = net_shortwave(solar_radiation, albedo, lai, solar_zenith)
    h_c = xr.DataArray(canopy_height) if not isinstance(canopy_height, xr.DataArray) else canopy_height
    values = dict(tr=lst, vza=view_zenith, ta=air_temperature, u=wind_speed, ea=vapour_pressure, p=pressure,
                  sn_c=sn_c, sn_s=sn_s, l_dn=lw, lai=lai, h_c=h_c, z0m=p.z0m_ratio * h_c, d0=p.d0_ratio * h_c,
                  f_c=fractional_cover, f_g=green_fraction)
    args = [v if isinstance(v, xr.DataArray) else xr.DataArray(np.float64(v)) for v in (values[n] for n in k.INPUTS)]
    out = xr.apply_ufunc(
        _tseb_numpy, *args, kwargs={"params": p.kernel_params()},
        output_core_dims=[["flux"]], dask="parallelized", output_dtypes=[np.float32],
        dask_gufunc_kwargs={"output_sizes": {"flux": k.N_OUTPUTS}}, keep_attrs=False,
    )
    units = {"rn": "W m-2", "h": "W m-2", "le": "W m-2", "g": "W m-2", "le_c": "W m-2", "h_c": "W m-2",
             "le_s": "W m-2", "h_s": "W m-2", "t_c": "K", "t_s": "K", "flag": "1", "l_mo": "m", "n_iter": "1"}
    ds = xr.Dataset({name: out.isel(flux=i, drop=True).assign_attrs(units=units[name])
                     for i, name in enumerate(k.OUTPUTS)})
    ds = ds.transpose(*[d for d in lst.dims if d in ds.dims], ...)
    return with_provenance(ds, algorithm="tseb_pt", params=asdict(p), source=lst, reference=_TSEB_REF)


def evaporative_fraction(fluxes: xr.Dataset) -> xr.DataArray:
    """``LE / (Rn - G)`` of :func:`tseb_pt` fluxes, clipped to [0, 1.2] (NaN where Rn - G <= 10 W/m2):
    the fraction of available energy that evaporates, about constant during a clear day."""
    avail = fluxes["rn"] - fluxes["g"]
    ef = (fluxes["le"] / avail.where(avail > 10.0)).clip(0.0, 1.2)
    return ef.rename("evaporative_fraction").assign_attrs(long_name="evaporative fraction LE/(Rn-G)", units="1")


# ------------------------------------------------------------------------------ SSEBop
def ssebop_dt(net_radiation: Any, air_temperature: Any, pressure_kpa: Any, *, rah: float = 110.0) -> Any:
    """Senay et al. (2013) temperature difference between the hot and cold references (K):
    ``dT = Rn rah / (rho cp)``, ``rho = 1000 P / (1.01 Ta R)``, ``R = 287``, ``cp = 1013``;
    ``net_radiation`` the clear-sky net radiation (W/m2) of the day (or overpass)."""
    rho = 1000.0 * pressure_kpa / (1.01 * air_temperature * 287.0)
    return net_radiation * rah / (rho * 1013.0)


def ssebop_fraction(lst: xr.DataArray, tmax: Any, dt_k: Any, *, ndvi: xr.DataArray | None = None,
                    params: SSEBopParams | None = None) -> xr.DataArray:
    """SSEBop ET fraction (Senay et al. 2013 [3]_): ``ETf = (Tc + dT - Ts) / dT``, ``Tc = c Tmax``.

    ``lst``: surface temperature (K); ``tmax``: daily maximum air temperature (K); ``dt_k``: hot - cold
    difference (K, :func:`ssebop_dt`); ``c`` fitted per date as the mean ``Ts / Tmax`` where ``ndvi``
    >= ``params.cold_ndvi`` (or ``params.c_factor``).  Clipped to [0, ``max_fraction``].
    """
    p = params or SSEBopParams()
    if p.c_factor is not None:
        c: Any = p.c_factor
    elif ndvi is None:
        raise RasterInputError("ssebop_fraction: pass ndvi= (to fit the c factor on well-watered pixels) "
                               "or params=SSEBopParams(c_factor=...)")
    else:
        spatial = [d for d in lst.dims if d != "time"]
        c = (lst / tmax).where(ndvi >= p.cold_ndvi).mean(spatial)
    etf = ((c * tmax + dt_k - lst) / dt_k).clip(0.0, p.max_fraction)
    etf = etf.rename("et_fraction").assign_attrs(long_name="SSEBop ET fraction (ET/ET0)", units="1")
    return with_provenance(etf, algorithm="ssebop", params=asdict(p), source=lst, reference=_SSEBOP_REF)


# ------------------------------------------------------------------------------ reference ET, daily ET
def _svp(t_c: Any) -> Any:
    """Saturation vapour pressure (kPa) at ``t_c`` (deg C), FAO-56 eq. 11."""
    return 0.6108 * np.exp(17.27 * t_c / (t_c + 237.3))


def _clear_sky_shortwave(elevation: float, latitude: float, doy: Any) -> Any:
    """FAO-56 clear-sky shortwave Rso (MJ m-2 day-1): eqs 21-25 (Ra) and 37."""
    phi = np.radians(latitude)
    dr = 1.0 + 0.033 * np.cos(2.0 * np.pi / 365.0 * doy)  # eq. 23
    decl = 0.409 * np.sin(2.0 * np.pi / 365.0 * doy - 1.39)  # eq. 24
    ws = np.arccos(-np.tan(phi) * np.tan(decl))  # eq. 25
    ra = 24.0 * 60.0 / np.pi * 0.0820 * dr * (ws * np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.sin(ws))
    return (0.75 + 2e-5 * elevation) * ra  # eq. 37


def _net_longwave(tmax: Any, tmin: Any, ea: Any, rs_rso: Any) -> Any:
    """FAO-56 net outgoing longwave Rnl (MJ m-2 day-1), eq. 39; ``rs_rso`` the relative shortwave (<= 1)."""
    return (4.903e-9 * ((tmax + 273.16) ** 4 + (tmin + 273.16) ** 4) / 2.0 * (0.34 - 0.14 * np.sqrt(ea))
            * (1.35 * rs_rso - 0.35))


def clear_sky_net_radiation(tmax: Any, tmin: Any, ea: Any, *, elevation: float, latitude: float, doy: Any,
                            albedo: float = 0.23) -> Any:
    """The day's clear-sky net radiation (W/m2, day mean) for SSEBop's ``dT`` (Senay et al. 2013 [3]_):
    FAO-56 ``(1 - albedo) Rso - Rnl`` with ``Rs/Rso = 1`` [4]_ (eqs 21-25, 37-39); arguments as
    :func:`reference_et_daily`'s."""
    rn = (1.0 - albedo) * _clear_sky_shortwave(elevation, latitude, doy) - _net_longwave(tmax, tmin, ea, 1.0)
    return rn * 1e6 / 86400.0


def reference_et_daily(tmax: Any, tmin: Any, rs: Any, ea: Any, u2: Any, *, elevation: float, latitude: float,
                       doy: Any) -> Any:
    """FAO-56 Penman-Monteith grass reference ET (mm/day) from daily data [4]_.

    ``tmax``, ``tmin`` (deg C), ``rs`` incoming shortwave (MJ m-2 day-1), ``ea`` actual vapour pressure
    (kPa), ``u2`` wind at 2 m (m/s), ``elevation`` (m), ``latitude`` (deg), ``doy`` day of year.
    Works on numbers, numpy arrays and xarray objects alike (element-wise).
    """
    tmean = (tmax + tmin) / 2.0
    p = 101.3 * ((293.0 - 0.0065 * elevation) / 293.0) ** 5.26  # eq. 7
    gamma = 0.665e-3 * p  # eq. 8
    delta = 4098.0 * _svp(tmean) / (tmean + 237.3) ** 2  # eq. 13
    es = (_svp(tmax) + _svp(tmin)) / 2.0  # eq. 12
    rso = _clear_sky_shortwave(elevation, latitude, doy)
    rns = (1.0 - 0.23) * rs  # eq. 38
    rn = rns - _net_longwave(tmax, tmin, ea, np.minimum(rs / rso, 1.0))
    return (0.408 * delta * rn + gamma * 900.0 / (tmean + 273.0) * u2 * (es - ea)) / (delta + gamma * (1.0 + 0.34 * u2))


def daily_et(fraction: xr.DataArray, et0: xr.DataArray, *, k_factor: float = 1.0) -> xr.DataArray:
    """Daily actual ET (mm/day): the ET fraction of each overpass interpolated linearly in time to
    every day of ``et0`` (a daily DataArray along ``time``), times ``k_factor * ET0`` (Senay et al.
    2013; ``k_factor`` 1 for the grass reference).  NaN fractions (clouds) are bridged from the
    neighbouring clear overpasses; days outside the overpasses keep the nearest one's fraction
    (:func:`terra_lab.kernels._gapfill.gapfill_linear`, the gap filling of iota2)."""
    if "time" not in fraction.dims or "time" not in et0.dims:
        raise RasterInputError("daily_et: fraction and et0 need a 'time' dimension (overpasses, days)")
    origin = np.datetime64("1970-01-01", "D")
    t = (pd.DatetimeIndex(fraction["time"].values).normalize().values.astype("datetime64[D]") - origin).astype(np.float64)
    grid = (pd.DatetimeIndex(et0["time"].values).values.astype("datetime64[D]") - origin).astype(np.float64)
    frac = fraction.astype(np.float32)
    if frac.chunks is not None:
        frac = rechunk(frac, time=-1)
    days = xr.DataArray(t, dims="time")
    daily = xr.apply_ufunc(  # iota2's linear gap filling, holding the first/last valid fraction at the ends
        gapfill_linear, frac, days, xr.DataArray(grid, dims="day"),
        input_core_dims=[["time"], ["time"], ["day"]], output_core_dims=[["day"]],
        dask="parallelized", output_dtypes=[np.float32], keep_attrs=False,
        dask_gufunc_kwargs={"output_sizes": {"day": grid.size}},
    ).rename(day="time").assign_coords(time=et0["time"].values)
    daily = daily.transpose("time", ...)
    out = (daily * k_factor * et0).rename("et").assign_attrs(long_name="actual evapotranspiration", units="mm day-1")
    return with_provenance(out, algorithm="daily_et_fraction_times_et0", params={"k_factor": k_factor},
                           source=fraction, reference=_SSEBOP_REF)


def _dekad_start(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    day = np.where(times.day <= 10, 1, np.where(times.day <= 20, 11, 21))
    return pd.to_datetime({"year": times.year, "month": times.month, "day": day})


def dekad_sums(daily: xr.DataArray) -> xr.DataArray:
    """Ten-day sums (dekads: days 1-10, 11-20, 21-end of each month) of a daily series; the ``time``
    coordinate of the result is each dekad's first day, ``n_days`` the days summed (NaN days are
    skipped, a dekad with no data is NaN)."""
    times = pd.DatetimeIndex(daily["time"].values)
    start = xr.DataArray(_dekad_start(times), dims="time", coords={"time": daily["time"]}, name="dekad")
    grouped = daily.groupby(start)
    out = grouped.sum("time", min_count=1).rename({"dekad": "time"})
    n = start.groupby(start).count().rename({"dekad": "time"})
    out = out.assign_coords(n_days=("time", n.values)).rename(f"{daily.name or 'value'}_dekad")
    out.attrs.update(long_name=f"ten-day sum of {daily.attrs.get('long_name', daily.name)}",
                     units=str(daily.attrs.get("units", "")).replace(" day-1", " dekad-1"))
    return out


def water_stress_index(et: xr.DataArray, et0: xr.DataArray) -> xr.DataArray:
    """``1 - ET / ET0`` (0: no stress, 1: no evapotranspiration), clipped to [0, 1]; NaN where ET0 <= 0."""
    wsi = (1.0 - et / et0.where(et0 > 0)).clip(0.0, 1.0)
    return wsi.rename("water_stress_index").assign_attrs(long_name="water stress index 1 - ET/ET0", units="1")
