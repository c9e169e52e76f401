"""numba kernels of the LIS (let-it-snow) snow algorithms: L2B detection and L3B annual synthesis.

Arrays in, arrays out; no xarray.  Reflectances are floats in [0, 1] with NaN for no data.

References
----------
.. [1] Gascoin, S., Grizonnet, M., Bouchet, M., Salgues, G., Hagolle, O. (2019). Theia Snow
   collection: high-resolution operational snow cover maps from Sentinel-2 and Landsat-8 data.
   Earth Syst. Sci. Data 11, 493-514. https://doi.org/10.5194/essd-11-493-2019
.. [2] let-it-snow (CNES/CESBIO), ``s2snow/snow_detector.py``, ``cloud_extraction.py``,
   ``histo_utils.cxx``, ``snow_annual_map.py``, ``compute_SOD_SMOD.py``, ``compute_NOBS.py``.
"""

from __future__ import annotations

import numpy as np

from ..profiles._lis import L2B_CLOUD, L2B_NO_SNOW, L2B_NODATA, L2B_NODATA_LIS17, L2B_SNOW
from ..profiles._maja import CLM_LIS_REFINED_CLOUD, bitmask
from ._jit import jit

__all__ = [
    "CLOUD",
    "NODATA",
    "NO_SNOW",
    "REFINED_CLOUD_BITS",
    "SNOW",
    "l2b_block_codes",
    "l2b_block_histogram",
    "l3b_block",
    "snowline_from_histogram",
]

NO_SNOW, SNOW, CLOUD, NODATA = L2B_NO_SNOW, L2B_SNOW, L2B_CLOUD, L2B_NODATA
#: CLM bits that keep a cloud pixel cloud (shadows, high clouds); numba compiles it as a constant.
REFINED_CLOUD_BITS = bitmask(CLM_LIS_REFINED_CLOUD)


#: The types :mod:`terra_lab.products.snow` passes (C-contiguous float32 blocks, uint8 CLM).
_BLOCK = "float32[:, :, ::1], float32[:, :, ::1], float32[:, :, ::1], uint8[:, :, ::1], float32[:, ::1]"


@jit(f"void({_BLOCK}, float64, float64, float64, float64, float64, int64[:, :, ::1])")
def l2b_block_histogram(green, red, swir, clm, dem, zmin, zmax, dz, ndsi_min, red_min, counts):  # pragma: no cover
    """Fused pass 1 + elevation histogram of a (t, y, x) block; ``counts`` is (t, bins, 3).

    Pass 1: clear (CLM = 0) pixels with NDSI > ``ndsi_min`` and red > ``red_min``.  Elevation
    bands follow LIS ``histo_utils``: ``nbins = floor((zmax - zmin) / dz)`` bands of equal
    width spanning [zmin, zmax]; pixels without DEM are ignored; no-data pixels count as
    clear, snow-free pixels (as in the reference, which histograms the whole image).
    Counts per band: (all pixels, clear pixels, pass-1 snow pixels).
    """
    nbins = int(np.floor((zmax - zmin) / dz))
    if nbins < 1:
        return
    width = (zmax - zmin) / nbins
    nt, ny, nx = green.shape
    band = np.empty((ny, nx), np.int64)
    for j in range(ny):
        for i in range(nx):
            z = dem[j, i]
            if np.isnan(z):
                band[j, i] = -1
                continue
            b = int((z - zmin) / width)
            band[j, i] = min(max(b, 0), nbins - 1)
    for t in range(nt):
        for j in range(ny):
            for i in range(nx):
                b = band[j, i]
                if b < 0:
                    continue
                counts[t, b, 0] += 1
                if clm[t, j, i] > 0:
                    continue
                counts[t, b, 1] += 1
                g, r, s = green[t, j, i], red[t, j, i], swir[t, j, i]
                if np.isnan(g) or np.isnan(r) or np.isnan(s) or g + s == 0:
                    continue
                if (g - s) / (g + s) > ndsi_min and r > red_min:
                    counts[t, b, 2] += 1


@jit(f"void({_BLOCK}, float32[::1], uint8[::1], int64, float64, float64, float64, float64, float64, float64, "
     "uint8[:, :, ::1])")
def l2b_block_codes(green, red, swir, clm, dem, zs, run, rf, ndsi1, red1, ndsi2, red2, red_darkcloud,
                    red_backtocloud, out):  # pragma: no cover - numba
    """Fused L2B of a (t, y, x) block whose origin is on the rf x rf grid: 240 m red, both passes, codes.

    Codes: 0 no snow, 100 snow, 205 cloud, 254 no data (any band NaN).  Cloud refinement: a
    cloud pixel (CLM > 0) stays cloud if the mean red of its rf x rf block (LIS' 240 m red,
    NaN ignored) exceeds ``red_darkcloud``, or it is a cloud shadow (CLM bits 5, 6) or a high
    cloud (bit 7).  Pass 2 (dates with ``run``) applies to non-refined pixels above ``zs``.
    A cloud pixel that is not snow becomes no-snow unless refined or red > ``red_backtocloud``.
    """
    nt, ny, nx = green.shape
    nby = (ny + rf - 1) // rf
    nbx = (nx + rf - 1) // rf
    coarse = np.empty((nby, nbx), np.float32)
    for t in range(nt):
        for bj in range(nby):
            for bi in range(nbx):
                acc = 0.0
                n = 0
                for j in range(bj * rf, min(ny, (bj + 1) * rf)):
                    for i in range(bi * rf, min(nx, (bi + 1) * rf)):
                        v = red[t, j, i]
                        if not np.isnan(v):
                            acc += v
                            n += 1
                coarse[bj, bi] = acc / n if n > 0 else np.nan
        z_line = zs[t]
        do2 = run[t] != 0
        for j in range(ny):
            for i in range(nx):
                g, r, s = green[t, j, i], red[t, j, i], swir[t, j, i]
                if np.isnan(s) or np.isnan(g) or np.isnan(r):
                    out[t, j, i] = NODATA
                    continue
                c = clm[t, j, i]
                all_cloud = c > 0
                ndsi = (g - s) / (g + s) if g + s != 0 else np.nan
                snow = (not all_cloud) and ndsi > ndsi1 and r > red1
                rc = coarse[j // rf, i // rf]
                refined = (all_cloud and rc > red_darkcloud) or (c & REFINED_CLOUD_BITS) != 0
                if not snow and do2 and not refined:
                    z = dem[j, i]
                    if not np.isnan(z) and z > z_line and ndsi > ndsi2 and r > red2:
                        snow = True
                if snow:
                    out[t, j, i] = SNOW
                elif refined or (all_cloud and r > red_backtocloud):
                    out[t, j, i] = CLOUD
                else:
                    out[t, j, i] = NO_SNOW


def snowline_from_histogram(counts: np.ndarray, zmin: float, zmax: float, dz: float,
                            fsnow_lim: float = 0.1, fclear_lim: float = 0.1) -> float:
    """Snowline elevation ``zs`` (m) from the elevation-band counts, or NaN when none qualifies.

    The lowest band whose clear fraction exceeds ``fclear_lim`` and whose snow fraction among
    clear pixels exceeds ``fsnow_lim`` is found; ``zs`` is the lower edge of the band two
    below it (clamped to the first band): ``floor(centre(max(i - 2, 0)) - dz / 2)``.
    """
    nbins = int(np.floor((zmax - zmin) / dz)) if np.isfinite(zmin) and np.isfinite(zmax) else 0
    if nbins < 1:
        return float("nan")
    width = (zmax - zmin) / nbins
    for i in range(nbins):
        n_all, n_clear, n_snow = counts[i]
        if n_all > 0 and n_clear / n_all > fclear_lim and n_clear > 0 and n_snow / n_clear > fsnow_lim:
            k = max(i - 2, 0)
            centre = zmin + (k + 0.5) * width
            return float(np.floor(centre - dz / 2))
    return float("nan")


@jit(inline="always")
def _add_segment(start, end, snow, n_days, st, j, i):  # pragma: no cover - numba
    """Add days [start, end) of constant ``snow`` state to pixel (j, i) of the state arrays
    ``st`` = (scd, run_start, run_end, best_start, best_len)."""
    if start < 0:
        start = 0
    if end > n_days:
        end = n_days
    if end <= start or not snow:
        return
    st[0, j, i] += end - start
    if st[2, j, i] == start and st[2, j, i] > st[1, j, i]:  # continues the current run
        st[2, j, i] = end
    else:
        st[1, j, i] = start
        st[2, j, i] = end
    if st[2, j, i] - st[1, j, i] > st[4, j, i]:
        st[3, j, i] = st[1, j, i]
        st[4, j, i] = st[2, j, i] - st[1, j, i]


@jit("void(uint8[:, :, ::1], int64[::1], int64, int64, uint16[:, :, ::1])")
def l3b_block(codes, days, n_days, min_days, out):  # pragma: no cover - numba
    """Annual synthesis (LIS ``snow_annual_map``) of every pixel of a (t, y, x) block of L2B codes.

    ``codes``: L2B codes (0 / 1-100 snow or FSC / 205 / 254 / 255), dates sorted by ``days``
    (day index relative to the synthesis start, < 0 or >= n_days for the margin dates).

    Gap filling as LIS >= 1.7: each day takes the snow state linearly interpolated between
    the clear observations around it and thresholded at 0.5 (the nearer observation wins;
    a day exactly half-way counts as snow); days before the first / after the last clear
    observation copy it; a pixel never seen clear has no snow.  The daily series is never
    materialised: it is a sequence of constant segments between observations, and the
    block is streamed date by date (O(t) work per pixel, contiguous memory access).

    ``out`` (4, y, x) = SCD, SOD, SMOD, NOBS: snow cover duration (days), snow onset and
    melt-out day indices (first and last day of the longest snow period, earliest on ties;
    0 when SCD <= ``min_days``), number of clear observations.
    """
    nt, ny, nx = codes.shape
    st = np.zeros((5, ny, nx), np.int64)
    nobs = np.zeros((ny, nx), np.int64)
    prev_day = np.zeros((ny, nx), np.int64)
    prev_snow = np.zeros((ny, nx), np.bool_)
    for t in range(nt):
        d = days[t]
        for j in range(ny):
            for i in range(nx):
                c = codes[t, j, i]
                if c in (CLOUD, NODATA, L2B_NODATA_LIS17):
                    continue
                snow = NO_SNOW < c <= SNOW
                if nobs[j, i] == 0:
                    _add_segment(-(2**30), d, snow, n_days, st, j, i)  # before the first clear observation
                elif snow == prev_snow[j, i]:
                    _add_segment(prev_day[j, i], d, snow, n_days, st, j, i)
                elif prev_snow[j, i]:  # 1 -> 0: snow while 2 (day - a) <= (b - a)
                    a = prev_day[j, i]
                    _add_segment(a, a + (d - a) // 2 + 1, True, n_days, st, j, i)
                else:  # 0 -> 1: snow from the first day with 2 (day - a) >= (b - a)
                    a = prev_day[j, i]
                    _add_segment(a + (d - a + 1) // 2, d, True, n_days, st, j, i)
                prev_day[j, i] = d
                prev_snow[j, i] = snow
                nobs[j, i] += 1
    for j in range(ny):
        for i in range(nx):
            if nobs[j, i] > 0:  # after the last clear observation
                _add_segment(prev_day[j, i], 2**30, prev_snow[j, i], n_days, st, j, i)
            scd = st[0, j, i]
            out[0, j, i] = scd
            out[3, j, i] = nobs[j, i]
            if scd > min_days:
                out[1, j, i] = st[3, j, i]
                out[2, j, i] = st[3, j, i] + st[4, j, i] - 1
            else:
                out[1, j, i] = 0
                out[2, j, i] = 0
