"""Forest dieback detection with the fordead method (bark-beetle attacks on conifers, Sentinel-2).

Per pixel, a harmonic model of a water-sensitive vegetation index (CR_SWIR by default) is
trained on the first years of the series; later acquisitions that depart from it by more
than a threshold, three times in a row, flag the pixel as suffering from dieback.  All
functions are lazy: they build Dask graphs from a cube made by :func:`terra_lab.load`.

References
----------
.. [1] Dutrieux, R., Feret, J.-B., Ose, K., de Boissieu, F. (2021). Package fordead (FORest
   DEgradation And Dieback). INRAE, UMR TETIS. https://gitlab.com/fordead/fordead_package;
   documentation and tutorial: https://fordead.gitlab.io/fordead_package
.. [2] Dutrieux, R., Feret, J.-B., Ose, K. (2021). Mise au point d'une methode de detection
   precoce des attaques de scolytes sur epiceas a partir d'images Sentinel-2 (fordead).
   Rendez-vous techniques de l'ONF 69-70 (the CR_SWIR index).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DateRangeError, RasterInputError
from ..kernels import _dieback as k
from ._common import require, require_single_time_chunk, with_provenance
from ._grid import check_same_grid
from .indices import spectral_index
from .params import FORDEAD_MAX_CLOUDINESS, FordeadParams, with_overrides

__all__ = ["DIEBACK_STATES", "FORDEAD_MAX_CLOUDINESS", "VEGETATION_INDICES", "FordeadParams", "crswir",
           "forest_dieback", "masked_vegetation_index", "predict_index"]

#: Pixel states of :func:`forest_dieback`.
DIEBACK_STATES = {
    k.HEALTHY: "healthy",
    k.DIEBACK: "dieback",
    k.BARE_SOIL: "bare_soil",
    k.TOO_FEW_DATES: "too_few_dates",
    k.NOT_FOREST: "masked",
    k.TOO_MANY_STRESS_PERIODS: "too_many_stress_periods",
}

#: Central wavelengths (nm) of B8A, B11, B12 in fordead's CR_SWIR formula.
CRSWIR_WAVELENGTHS = (864.0, 1610.4, 2185.7)

#: Indices fordead ships, their bands and the direction of change with dieback (+1 rises).
VEGETATION_INDICES = {
    "CRSWIR": (("nir08", "swir16", "swir22"), +1),
    "NDVI": (("nir", "red"), -1),
    "NDWI": (("nir08", "swir16"), -1),
}

#: How each index is read from spyndex: its spyndex name, fordead's bands for spyndex's
#: symbols, and fordead's constants.  fordead's NDWI is Gao's, spyndex's ``NDMI`` on B8A.
_SPYNDEX: dict[str, tuple[str, dict[str, str], dict[str, float]]] = {
    "CRSWIR": ("CRSWIR", {"N2": "nir08", "S1": "swir16", "S2": "swir22"},
               dict(zip(("lambdaN2", "lambdaS1", "lambdaS2"), CRSWIR_WAVELENGTHS))),
    "NDVI": ("NDVI", {"N": "nir", "R": "red"}, {}),
    "NDWI": ("NDMI", {"N": "nir08", "S1": "swir16"}, {}),
}

#: fordead's origin of time for the harmonic model.
TIME_ORIGIN = pd.Timestamp("2015-01-01")

_REF = ("Dutrieux, Feret, Ose, de Boissieu 2021, fordead (INRAE/UMR TETIS), "
        "https://fordead.gitlab.io/fordead_package")
_SOURCE_LAYERS = ("cloud", "shadow", "snow", "edge", "saturated")


def crswir(cube: xr.Dataset) -> xr.DataArray:
    """Continuum removal in the SWIR: ``B11 / (B8A + (B12 - B8A) (1610.4 - 864) / (2185.7 - 864))``.

    The reflectance of B11 over the straight line joining B8A and B12 at B11's wavelength
    (fordead's formula and wavelengths [1]_ [2]_): spyndex's ``CRSWIR`` formula with fordead's
    wavelengths instead of the Sentinel-2A centre wavelengths 864.7, 1613.7, 2202.4 nm.  It
    rises as the canopy dries.  A zero denominator gives NaN.
    """
    require(cube, ["nir08", "swir16", "swir22"], "crswir")
    out = _index(cube, "CRSWIR")
    out.attrs.update(long_name="continuum removal in the SWIR (CR_SWIR)", units="1")
    return out


def _index(cube: xr.Dataset, vi: str) -> xr.DataArray:
    """Index ``vi`` with spyndex's formula on fordead's bands (float32), NaN where undefined."""
    name, bands, constants = _SPYNDEX[vi]
    refl = cube[list(bands.values())].astype(np.float32)
    return spectral_index(refl, name, bands=bands, **constants).rename(vi)


def masked_vegetation_index(
    cube: xr.Dataset,
    *,
    vi: str = "CRSWIR",
    soil_detection: bool = False,
    source_mask: bool = True,
    blue_max: float = 0.06,
) -> xr.Dataset:
    """fordead step 1: the vegetation index of every date with its mask, and the bare-soil codes.

    Parameters
    ----------
    cube
        From :func:`terra_lab.load` with the index bands (CRSWIR: nir08, swir16, swir22), blue,
        and with ``soil_detection`` also green and red; reflectance 0-1, NaN for no data.
    vi
        ``"CRSWIR"`` (rises with dieback), ``"NDVI"`` or ``"NDWI"`` (fall), see
        :data:`VEGETATION_INDICES`.
    soil_detection
        fordead's bare-soil mode.  Off (the fordead tutorial's setting), a date is masked
        where blue > ``blue_max`` (fordead's ``formula_mask="B2 > 600"``).  On, a soil
        anomaly is ``swir16 > 0.125 & blue < 0.06 & green + red > 0.08`` and clouds are
        ``blue > 0.07 | (green / (nir08 + red + green) > 0.15 & blue > 0.04)`` (fordead's
        rules, reflectance units); the soil state itself is sequential and decided per
        pixel by :func:`forest_dieback`.  fordead's 3-pixel dilation of these clouds is not
        applied (the MAJA cloud mask is already dilated).
    source_mask
        Also mask the cube's MAJA layers (cloud, shadow, snow, edge, saturated; those present).
        They are skipped by the soil detection too (fordead skips only its own invalid dates).
    blue_max
        Blue threshold of the mask (0.06, fordead's B2 = 600).

    Returns
    -------
    xarray.Dataset
        ``vi`` (float32, NaN on masked dates) and ``soil`` (uint8 per-date codes: 0 clear,
        1 soil anomaly, 2 not usable for soil detection) on (time, y, x).
    """
    if vi not in VEGETATION_INDICES:
        raise ValueError(f"unknown vegetation index {vi!r} for forest_dieback; choose one of "
                               f"{sorted(VEGETATION_INDICES)}")
    bands = [*list(VEGETATION_INDICES[vi][0]), "blue"]
    if soil_detection:
        bands += ["green", "red", "swir16", "nir08"]
    bands = list(dict.fromkeys(bands))
    require(cube, bands, f"forest_dieback (vi={vi!r}, soil_detection={soil_detection})")
    refl = {b: cube[b].astype(np.float32) for b in bands}
    index = _index(cube, vi)
    nodata = None
    for b in bands:  # fordead: no data, and any band at 0 (dark shadows)
        bad = refl[b].isnull() | (refl[b] == 0)
        nodata = bad if nodata is None else nodata | bad
    nodata = nodata | index.isnull()
    src = None
    if source_mask:
        for layer in _SOURCE_LAYERS:
            if layer in cube:
                src = cube[layer] if src is None else src | cube[layer]
    blue = refl["blue"]
    if soil_detection:
        green, red = refl["green"], refl["red"]
        ng = green / (refl["nir08"] + red + green)
        cloud = (blue > 0.07) | ((ng > 0.15) & (blue > 0.04))
        anomaly = (refl["swir16"] > 0.125) & (blue < 0.06) & (green + red > 0.08)
        invalid = nodata | (blue >= blue_max)
        if src is not None:
            invalid = invalid | src
        soil = xr.where(invalid, np.uint8(k.SOIL_INVALID),
                        xr.where(anomaly, np.uint8(k.SOIL_ANOMALY), np.uint8(k.SOIL_VALID))).astype(np.uint8)
        masked = nodata | cloud
    else:
        soil = xr.zeros_like(blue, dtype=np.uint8)
        masked = nodata | (blue > blue_max)
    if src is not None:
        masked = masked | src
    out = xr.Dataset({"vi": index.where(~masked).astype(np.float32), "soil": soil.astype(np.uint8)})
    out["vi"].attrs = {"long_name": f"{vi}, NaN where masked", "units": "1"}
    out["soil"].attrs = {"flag_values": [k.SOIL_VALID, k.SOIL_ANOMALY, k.SOIL_INVALID],
                         "flag_meanings": "clear soil_anomaly not_usable"}
    return out


def _days(times) -> np.ndarray:
    t = pd.DatetimeIndex(times).normalize()
    return np.asarray((t - TIME_ORIGIN) / pd.Timedelta(days=1), dtype=np.float64)


def predict_index(coefficients: xr.DataArray, times) -> xr.DataArray:
    """The harmonic model's vegetation index at ``times`` from :func:`forest_dieback`'s ``coefficients``.

    ``a1 + b1 sin(2 pi t / T) + b2 cos(2 pi t / T) + b3 sin(4 pi t / T) + b4 cos(4 pi t / T)``,
    ``t`` in days since 2015-01-01, ``T = 365.25`` d (fordead's model).
    """
    times = pd.DatetimeIndex(np.atleast_1d(np.asarray(times, dtype="datetime64[ns]")))
    design = xr.DataArray(k.harmonic_design(_days(times)).astype(np.float32), dims=("time", "coeff"),
                          coords={"time": times, "coeff": coefficients["coeff"].values})
    return xr.dot(coefficients, design, dim="coeff").rename("predicted_index")


def _index_to_date(idx: np.ndarray, dates: np.ndarray) -> np.ndarray:
    out = np.full(idx.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = idx >= 0
    out[ok] = dates[idx[ok]]
    return out


def _on_grid(mask: xr.DataArray, cube: xr.Dataset) -> xr.DataArray:
    if isinstance(mask, xr.Dataset):
        mask = mask[next(iter(mask.data_vars))]
    mask = mask.squeeze(drop=True)
    if set(mask.dims) != {"y", "x"}:
        raise RasterInputError(f"forest_mask must be a (y, x) layer, it has dims {dict(mask.sizes)}; select one layer")
    check_same_grid(cube, mask, "cube", "forest_mask")
    if mask.dtype != bool:
        mask = mask.fillna(0) != 0
    return mask.drop_vars([c for c in mask.coords if c not in ("x", "y")]).assign_coords(x=cube["x"], y=cube["y"])


def forest_dieback(
    cube: xr.Dataset,
    params: FordeadParams | None = None,
    *,
    forest_mask: xr.DataArray | None = None,
    **overrides: Any,
) -> xr.Dataset:
    """Forest dieback map with the fordead method [1]_ (bark-beetle attacks), lazily.

    1. **Index and masks** (:func:`masked_vegetation_index`): CR_SWIR of every date, masked
       by the MAJA layers, no data, zero reflectance, and blue > 0.06 (or fordead's cloud
       rules and bare-soil detection with ``soil_detection=True``: a soil anomaly on three
       successive usable dates makes the pixel bare soil / clear-cut, dated by the first).
    2. **Training**: per pixel, the harmonic model ``a1 + b1 sin(2 pi t/T) + b2 cos(2 pi t/T)
       + b3 sin(4 pi t/T) + b4 cos(4 pi t/T)`` (t in days since 2015-01-01, T = 365.25 d) is
       fitted by least squares on the valid dates before ``training_end``; a pixel with
       fewer than ``nb_min_date`` of them keeps training on later dates until it has them,
       but not past ``training_max_end`` (then: state ``too_few_dates``, NaN coefficients).
    3. **Detection** on the later valid dates: an anomaly is ``vi - model > threshold_anomaly``
       (the opposite sign for indices that fall with dieback); three successive anomalies make
       the pixel ``dieback``, dated by the first of them; three successive normal dates bring
       it back to healthy and close a stress period.
    4. **Confidence**: the stress index of the current dieback period, the mean of ``vi -
       model`` over its valid dates weighted by their rank 1, 2, 3... (``"weighted_mean"``)
       or not (``"mean"``), discretised by ``confidence_thresholds``; a period of only three
       dates gets the lowest class, as in fordead's export.

    Parameters
    ----------
    cube
        From :func:`terra_lab.load` (20 m) with blue, nir08, swir16, swir22 (and green, red for
        ``soil_detection``) and the mask layers, the whole time axis in one chunk
        (``chunks={"time": -1, "x": 256, "y": 256}``).  fordead only uses dates whose
        cloudiness is at most :data:`FORDEAD_MAX_CLOUDINESS` (40 %): search with
        ``max_cloud=FORDEAD_MAX_CLOUDINESS`` to reproduce it (cloudier training dates change
        the model: 91.9 % instead of 99.7 % agreement with fordead on its ZoneTest sample).
    params
        fordead's parameters (default :class:`FordeadParams`, its published values):
        ``training_end`` and ``training_max_end`` (fordead's ``min_last_date_training`` and
        ``max_last_date_training``), ``nb_min_date`` (minimum valid training dates, 10),
        ``threshold_anomaly`` (0.16 for CR_SWIR), ``vi``, ``soil_detection``, ``source_mask``
        and ``blue_max`` (see :func:`masked_vegetation_index`), ``stress_index_mode``,
        ``max_nb_stress_periods`` (pixels that went through more stress periods are flagged
        ``too_many_stress_periods``), ``confidence_thresholds`` and ``confidence_classes``.
    **overrides
        Fields of ``params`` to replace, e.g. ``forest_dieback(cube, training_end="2024-01-01")``.
    forest_mask
        Optional boolean (y, x) array on the cube's grid; pixels outside get state ``masked``.

    Returns
    -------
    xarray.Dataset
        On (y, x): ``state`` (uint8, see :data:`DIEBACK_STATES`), ``dieback_date`` (first
        anomaly of the confirmed dieback, NaT if none), ``soil_date`` (first soil anomaly of
        the confirmed bare soil, NaT), ``detection_start`` (first date used for detection),
        ``coefficients`` (coeff, y, x: a1, b1, b2, b3, b4), ``n_training_dates``,
        ``confidence_index`` (NaN unless dieback), ``confidence_class`` (0 none, 1... by
        increasing intensity), ``n_stress_dates`` and ``n_stress_periods``.

    Examples
    --------
    >>> cube = terra_lab.load(items, bands=["blue", "green", "red", "nir08", "swir16", "swir22"],
    ...                       resolution=20, chunks={"time": -1, "x": 256, "y": 256})  # doctest: +SKIP
    >>> res = forest_dieback(cube, training_end="2018-01-01", training_max_end="2018-06-01")  # doctest: +SKIP
    >>> res.state.compute()  # doctest: +SKIP
    """
    p = with_overrides(params, FordeadParams, overrides, "forest_dieback")
    thresholds = list(p.confidence_thresholds)
    t_end, t_max = pd.Timestamp(p.training_end), pd.Timestamp(p.training_max_end)
    masked = masked_vegetation_index(cube, vi=p.vi, soil_detection=p.soil_detection, source_mask=p.source_mask,
                                     blue_max=p.blue_max)
    vi_da = masked["vi"].transpose("y", "x", "time")
    soil = masked["soil"].transpose("y", "x", "time")
    require_single_time_chunk(vi_da, "forest_dieback")
    times = pd.DatetimeIndex(cube["time"].values)
    if not times.is_monotonic_increasing:
        raise ValueError("forest_dieback needs the cube sorted by time: cube = cube.sortby('time')")
    day = times.normalize()
    i_min = int(np.sum(day < t_end.normalize()))
    n_max = int(np.sum(day <= t_max.normalize()))
    if i_min >= len(times):
        raise DateRangeError(f"no acquisition after training_end={t_end.date()} (the cube ends "
                             f"{times[-1].date()}); choose an earlier training_end")
    design = xr.DataArray(k.harmonic_design(_days(times)), dims=("time", "coeff"), coords={"time": cube["time"]})
    sign = float(VEGETATION_INDICES[p.vi][1])
    outs = xr.apply_ufunc(
        k.dieback_pixel, vi_da, soil, design, i_min, n_max, int(p.nb_min_date), float(p.threshold_anomaly), sign,
        float(p.stress_index_mode == "weighted_mean"), int(p.max_nb_stress_periods),
        input_core_dims=[["time"], ["time"], ["time", "coeff"], [], [], [], [], [], [], []],
        output_core_dims=[["coeff"], [], [], [], [], [], [], [], []],
        dask="parallelized",
        keep_attrs=False,  # the index's units="1" would stick to the dates and break .to_netcdf()
        output_dtypes=[np.float32, np.int16, np.int32, np.uint8, np.int32, np.int32, np.float32, np.int16, np.int16],
        dask_gufunc_kwargs={"output_sizes": {"coeff": k.N_COEFFS}},
    )
    ds = _result_dataset(outs, times, thresholds)
    if forest_mask is not None:
        ds = _mask_outside_forest(ds, _on_grid(forest_mask, cube))
    ds = _describe(ds, p)
    recorded = asdict(p) | {"confidence_thresholds": thresholds, "confidence_classes": list(p.confidence_classes),
                            "forest_mask": forest_mask is not None, "n_dates": len(times)}
    return with_provenance(ds, algorithm="fordead forest dieback detection", params=recorded, source=cube,
                           reference=_REF)


def _result_dataset(outs: tuple[xr.DataArray, ...], times: pd.DatetimeIndex, thresholds: list[float]) -> xr.Dataset:
    """The per-pixel outputs of the kernel as the result's variables (dates, confidence classes)."""
    coeff, n_train, i_detect, state, i_dieback, i_soil, stress, n_stress, n_periods = outs
    dates = times.values.astype("datetime64[ns]")

    def as_date(idx):
        return xr.apply_ufunc(_index_to_date, idx, kwargs={"dates": dates}, dask="parallelized",
                              output_dtypes=["datetime64[ns]"], keep_attrs=False)

    dieback = state == k.DIEBACK
    cls = xr.apply_ufunc(lambda s: np.digitize(s, thresholds).astype(np.uint8) + np.uint8(1), stress,
                         dask="parallelized", output_dtypes=[np.uint8])
    cls = xr.where(n_stress <= 3, np.uint8(1), cls)
    cls = xr.where(dieback, cls, np.uint8(0)).astype(np.uint8)
    ds = xr.Dataset({
        "state": state,
        "dieback_date": as_date(i_dieback),
        "soil_date": as_date(i_soil),
        "detection_start": as_date(i_detect),
        "coefficients": coeff.transpose("coeff", "y", "x"),
        "n_training_dates": n_train,
        "confidence_index": stress.where(dieback),
        "confidence_class": cls,
        "n_stress_dates": n_stress,
        "n_stress_periods": n_periods,
    })
    return ds


def _mask_outside_forest(ds: xr.Dataset, forest: xr.DataArray) -> xr.Dataset:
    """State ``masked`` and no date, index or class outside ``forest``."""
    ds["state"] = xr.where(forest, ds["state"], np.uint8(k.NOT_FOREST)).astype(np.uint8)
    for name in ("dieback_date", "soil_date", "confidence_index"):
        ds[name] = ds[name].where(forest)
    ds["confidence_class"] = xr.where(forest, ds["confidence_class"], np.uint8(0)).astype(np.uint8)
    return ds


def _describe(ds: xr.Dataset, p: FordeadParams) -> xr.Dataset:
    """Coordinates, dimension order and CF attributes of the result."""
    ds = ds.assign_coords(coeff=["a1", "b1", "b2", "b3", "b4"])
    ds = ds.drop_vars([c for c in ds.coords if c not in ("x", "y", "coeff", "spatial_ref")])
    ds = ds.transpose("coeff", "y", "x")
    ds["state"].attrs.update(long_name="fordead pixel state", flag_values=list(DIEBACK_STATES),
                             flag_meanings=" ".join(DIEBACK_STATES.values()))
    ds["dieback_date"].attrs["long_name"] = "first anomaly of the confirmed dieback"
    ds["soil_date"].attrs["long_name"] = "first soil anomaly of the confirmed bare soil / clear-cut"
    ds["detection_start"].attrs["long_name"] = "first date used for detection (end of the training period)"
    ds["coefficients"].attrs.update(long_name=f"harmonic model of {p.vi}",
                                    model="a1 + b1 sin(2 pi t/T) + b2 cos(2 pi t/T) + b3 sin(4 pi t/T) "
                                          "+ b4 cos(4 pi t/T)",
                                    time_origin=str(TIME_ORIGIN.date()), period_days=k.PERIOD_DAYS)
    ds["n_training_dates"].attrs["long_name"] = "number of valid dates used to fit the model"
    ds["confidence_index"].attrs["long_name"] = f"stress index ({p.stress_index_mode}) of the current dieback period"
    ds["confidence_class"].attrs.update(
        long_name="confidence class", flag_values=list(range(len(p.confidence_classes) + 1)),
        flag_meanings=" ".join(["none"] + [c.replace(" ", "_") for c in p.confidence_classes]),
        thresholds=list(p.confidence_thresholds))
    ds["n_stress_dates"].attrs["long_name"] = "valid dates in the current stress period"
    ds["n_stress_periods"].attrs["long_name"] = "completed stress periods (dieback then return to normal)"
    return ds
