"""Water surfaces and water quality (OBS2CO-type products) from Sentinel-2 reflectance.

Water detection follows the SURFWATER optical approach with a water index (MNDWI or NDWI)
thresholded by Otsu's method per date, or by a fixed value.  Water quality uses the
published semi-analytical single-band algorithms on water-leaving reflectance (taken here as
the MAJA surface reflectance of water pixels), over water pixels only.

References
----------
.. [1] Xu, H. (2006). Modification of normalised difference water index (NDWI) to enhance
   open water features. Int. J. Remote Sens. 27(14), 3025-3033.
.. [2] Otsu, N. (1979). A threshold selection method from gray-level histograms. IEEE SMC 9(1).
.. [3] Dogliotti, A. I., Ruddick, K. G., Nechad, B., Doxaran, D., Knaeps, E. (2015). A single
   algorithm to retrieve turbidity from remotely-sensed data in all coastal and estuarine
   waters. Remote Sens. Environ. 156, 157-168.
.. [4] Nechad, B., Ruddick, K. G., Park, Y. (2010). Calibration and validation of a generic
   multisensor algorithm for mapping of total suspended matter in turbid waters. RSE 114;
   Sentinel-2 MSI calibration of 2016 as distributed with ACOLITE (Nechad_calibration_201609).
.. [5] Mishra, S., Mishra, D. R. (2012). Normalized difference chlorophyll index: a novel model
   for remote estimation of chlorophyll-a concentration in turbid productive waters.
   Remote Sens. Environ. 117, 394-406.
"""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
import xarray as xr

from ..kernels._water import histogram_masked, otsu_from_counts
from ._common import require, with_provenance
from ._reduce import per_date_sum
from .indices import spectral_index

__all__ = [
    "DOGLIOTTI",
    "NECHAD_S2",
    "chlorophyll_a",
    "pure_water",
    "suspended_matter",
    "turbidity",
    "water_mask",
    "water_quality",
]

#: Dogliotti et al. (2015) turbidity (FNU): T = A rho / (1 - rho / C), per band.
DOGLIOTTI = {"red": (228.1, 0.1641), "nir08": (3078.9, 0.2112)}
#: Nechad S2 MSI calibration (2016, ACOLITE): SPM (g m-3) = A rho / (1 - rho / C).
NECHAD_S2 = {"red": (342.10, 0.19563), "rededge1": (444.36, 0.18753), "nir08": (2932.21, 0.21151)}

_BINS, _LO, _HI = 200, -1.0, 1.0


def _hist_blocks(index, valid, *, nbins):
    out = np.zeros((index.shape[0], nbins), np.int64)
    for i in range(index.shape[0]):
        histogram_masked(index[i], valid[i], _LO, _HI, out[i])
    return out


def _otsu_blocks(hist):
    return np.array([otsu_from_counts(h, _LO, _HI) for h in hist], dtype=np.float32)


def _clear(cube: xr.Dataset) -> xr.DataArray:
    bad = None
    for layer in ("cloud", "shadow", "edge", "snow"):
        if layer in cube:
            bad = cube[layer] if bad is None else bad | cube[layer]
    return ~bad if bad is not None else xr.ones_like(cube[next(iter(cube.data_vars))], dtype=bool)


def water_mask(cube: xr.Dataset, *, index: str = "MNDWI", threshold: float | str = 0.0) -> xr.DataArray:
    """Water surfaces per date: ``index > threshold`` on clear pixels (NaN-free boolean, lazy).

    Parameters
    ----------
    index
        ``"MNDWI"`` (green, swir16; [1]_) or ``"NDWI"`` (green, nir), computed with spyndex.
    threshold
        A number (default 0, the usual fixed MNDWI/NDWI threshold), or ``"otsu"``: Otsu's
        threshold [2]_ of each date's index histogram over clear pixels (kept as coordinate
        ``threshold``).  Otsu needs a bimodal histogram: use it on an area around the water
        body (water a sizeable share of the pixels), not on a mountain scene with a small lake.

    Returns
    -------
    xarray.DataArray
        bool (time, y, x): True for water; False for land and for cloudy/no-data pixels
        (the ``clear`` coordinate-free companion is the cube's mask layers).
    """
    if index not in ("MNDWI", "NDWI"):
        raise ValueError(f"index={index!r}: water_mask uses 'MNDWI' (green, swir16) or 'NDWI' (green, nir)")
    if not (isinstance(threshold, str) and threshold == "otsu"):
        try:
            ok = not isinstance(threshold, bool) and math.isfinite(float(threshold))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"threshold={threshold!r}: give a finite number (e.g. 0.0) or 'otsu'")
    idx = spectral_index(cube, index)
    clear = _clear(cube) & idx.notnull()
    if threshold == "otsu":
        hist = per_date_sum(_hist_blocks, [idx.astype(np.float32), clear], shape=(_BINS,), nbins=_BINS)
        thr_d = da.map_blocks(_otsu_blocks, hist, dtype=np.float32, drop_axis=[1])
        thr = xr.DataArray(thr_d, dims="time", coords={"time": cube["time"]})
    else:
        thr = xr.full_like(cube["time"], float(threshold), dtype=np.float32)
    water = (idx > thr) & clear
    water = water.assign_coords(threshold=thr).rename("water")
    water.attrs.update(long_name=f"water ({index} > threshold)")
    return with_provenance(water, algorithm="water detection", params={"index": index, "threshold": threshold},
                           source=cube, reference="Xu 2006; Otsu 1979")


def _erode_block(block: np.ndarray, iterations: int) -> np.ndarray:
    from scipy import ndimage

    out = np.zeros_like(block)
    for idx in np.ndindex(block.shape[:-2]):
        out[idx] = ndimage.binary_erosion(block[idx], iterations=iterations, border_value=1)
    return out


def pure_water(water: xr.DataArray, erode: int = 1) -> xr.DataArray:
    """The water mask eroded by ``erode`` pixels: shore pixels mix land and water reflectance,
    so water-quality retrievals keep to the water bodies' interior (as OBS2CO does)."""
    if not isinstance(erode, (int, np.integer)) or isinstance(erode, bool) or erode < 0:
        raise ValueError(f"erode={erode!r}: give a whole number of pixels >= 0 (0: no erosion)")
    if erode == 0:
        return water
    water = water.transpose(..., "y", "x")
    if water.chunks is None:
        return water.copy(data=_erode_block(water.values, erode))
    depth = {water.ndim - 2: erode, water.ndim - 1: erode}
    data = water.data.map_overlap(_erode_block, depth=depth, boundary="none", iterations=erode, dtype=bool)
    return water.copy(data=data)


def _semi_analytic(rho: xr.DataArray, a: float, c: float) -> xr.DataArray:
    """A rho / (1 - rho / C), undefined (NaN) where rho >= C (saturation of the model)."""
    out = a * rho / (1 - rho / c)
    return out.where((rho < c) & (rho >= 0))


def turbidity(cube: xr.Dataset, water: xr.DataArray | None = None) -> xr.DataArray:
    """Turbidity (FNU) with the Dogliotti et al. (2015) switching algorithm [3]_.

    Red-band retrieval where rho_red < 0.05, NIR (B8A) where rho_red > 0.07, and a linear blend
    in between; over water pixels only (``water``, default: the interior of :func:`water_mask`,
    see :func:`pure_water`), NaN elsewhere.
    """
    require(cube, ["red", "nir08"], "turbidity")
    water = pure_water(water_mask(cube)) if water is None else water
    t_red = _semi_analytic(cube["red"], *DOGLIOTTI["red"])
    t_nir = _semi_analytic(cube["nir08"], *DOGLIOTTI["nir08"])
    w = ((cube["red"] - 0.05) / 0.02).clip(0, 1)
    t = xr.where(cube["red"] < 0.05, t_red, xr.where(cube["red"] > 0.07, t_nir, (1 - w) * t_red + w * t_nir))
    t = t.where(water).astype(np.float32).rename("turbidity")
    t.attrs.update(units="FNU", long_name="turbidity (Dogliotti et al. 2015)")
    return with_provenance(t, algorithm="Dogliotti 2015 turbidity", params={"coefficients": DOGLIOTTI},
                           source=cube, reference="Dogliotti et al. 2015, RSE 156:157-168")


def suspended_matter(cube: xr.Dataset, water: xr.DataArray | None = None, *, band: str = "red") -> xr.DataArray:
    """Suspended particulate matter (g m-3), Nechad et al. single-band algorithm [4]_ (S2 calibration)."""
    if band not in NECHAD_S2:
        raise ValueError(f"band={band!r}: the Nechad S2 calibration covers {sorted(NECHAD_S2)}")
    require(cube, [band], "suspended_matter")
    water = pure_water(water_mask(cube)) if water is None else water
    spm = _semi_analytic(cube[band], *NECHAD_S2[band]).where(water).astype(np.float32).rename("spm")
    spm.attrs.update(units="g m-3", long_name=f"suspended particulate matter (Nechad, {band})")
    return with_provenance(spm, algorithm="Nechad SPM", params={"band": band, "coefficients": NECHAD_S2[band]},
                           source=cube, reference="Nechad et al. 2010, RSE 114; S2 calibration 2016 (ACOLITE)")


def chlorophyll_a(cube: xr.Dataset, water: xr.DataArray | None = None) -> xr.DataArray:
    """Chlorophyll-a (mg m-3) from the NDCI band ratio [5]_: 14.039 + 86.115 NDCI + 194.325 NDCI^2.

    NDCI = (B5 - B4) / (B5 + B4) comes from spyndex.  Water pixels only.
    """
    water = pure_water(water_mask(cube)) if water is None else water
    ndci = spectral_index(cube, "NDCI")
    chl = (14.039 + 86.115 * ndci + 194.325 * ndci**2).where(water).astype(np.float32).rename("chla")
    chl.attrs.update(units="mg m-3", long_name="chlorophyll-a (NDCI, Mishra & Mishra 2012)")
    return with_provenance(chl, algorithm="NDCI chlorophyll-a", params={}, source=cube,
                           reference="Mishra & Mishra 2012, RSE 117:394-406")


def water_quality(cube: xr.Dataset, water: xr.DataArray | None = None, *, erode: int = 1,
                  threshold: float | str = 0.0) -> xr.Dataset:
    """Water mask, turbidity, SPM and chlorophyll-a in one Dataset.

    The products are computed on the water mask (default :func:`water_mask` with
    ``threshold``) eroded by ``erode`` pixels (:func:`pure_water`); ``water`` in the result is
    the full mask.
    """
    water = water_mask(cube, threshold=threshold) if water is None else water
    inner = pure_water(water, erode)
    return xr.Dataset({
        "water": water,
        "turbidity": turbidity(cube, inner),
        "spm": suspended_matter(cube, inner),
        "chla": chlorophyll_a(cube, inner),
    })
