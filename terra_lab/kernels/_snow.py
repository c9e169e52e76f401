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
from numba import guvectorize, njit

__all__ = [
    "NO_SNOW",
    "SNOW",
    "CLOUD",
    "NODATA",
    "l2b_pass1",
    "l2b_final",
    "elevation_histogram",
    "snowline_from_histogram",
    "l3b_pixel",
]

NO_SNOW, SNOW, CLOUD, NODATA = 0, 100, 205, 254


@guvectorize(
    ["void(float32, float32, float32, uint8, float32, float32, uint8[:], uint8[:], uint8[:])"],
    "(),(),(),(),(),()->(),(),()",
    nopython=True,
    cache=False,
)
def l2b_pass1(green, red, swir, clm, ndsi_min, red_min, snow_out, cloud_out, valid_out):  # pragma: no cover - numba
    """Per pixel: (pass-1 snow, 'all cloud' (CLM > 0), valid)."""
    valid = not (np.isnan(swir) or np.isnan(green) or np.isnan(red))
    cloud = clm > 0
    snow = False
    if valid and not cloud:
        s = green + swir
        if s != 0:
            ndsi = (green - swir) / s
            snow = ndsi > ndsi_min and red > red_min
    snow_out[0] = snow
    cloud_out[0] = cloud
    valid_out[0] = valid


@njit(nogil=True, cache=False)
def elevation_histogram(dem, pass1, cloud, zmin, zmax, dz, counts):  # pragma: no cover - numba
    """Accumulate, per elevation band, (all pixels, clear pixels, pass-1 snow pixels) into ``counts``.

    Bands follow LIS ``histo_utils``: ``nbins = floor((zmax - zmin) / dz)`` bands of equal
    width spanning [zmin, zmax]; pixels without DEM are ignored; no-data pixels count as
    clear, snow-free pixels (as in the reference, which histograms the whole image).
    """
    nbins = int(np.floor((zmax - zmin) / dz))
    if nbins < 1:
        return
    width = (zmax - zmin) / nbins
    ny, nx = dem.shape
    for j in range(ny):
        for i in range(nx):
            z = dem[j, i]
            if np.isnan(z):
                continue
            b = int((z - zmin) / width)
            if b >= nbins:
                b = nbins - 1
            if b < 0:
                b = 0
            counts[b, 0] += 1
            if not cloud[j, i]:
                counts[b, 1] += 1
                if pass1[j, i]:
                    counts[b, 2] += 1


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


@guvectorize(
    ["void(float32, float32, float32, uint8, float32, float32, float32, uint8, uint8, float32, float32,"
     " float32, float32, uint8[:])"],
    "(),(),(),(),(),(),(),(),(),(),(),(),()->()",
    nopython=True,
    cache=False,
)
def l2b_final(green, red, swir, clm, red_coarse, dem, zs, pass1, run_pass2, ndsi_min, red_min,
              red_darkcloud, red_backtocloud, out):  # pragma: no cover - numba
    """Per pixel: the LIS L2B code (0 no snow, 100 snow, 205 cloud, 254 no data).

    Cloud refinement: a cloud pixel stays cloud if its 240 m-smoothed red exceeds
    ``red_darkcloud``, or it is a cloud shadow (CLM bits 5, 6) or a high cloud (bit 7).
    Pass 2 (above the snowline ``zs``, relaxed thresholds) applies to non-refined-cloud
    pixels.  A cloud pixel that is not snow becomes no-snow unless refined cloud or
    bright in red (> ``red_backtocloud``).
    """
    if np.isnan(swir) or np.isnan(green) or np.isnan(red):
        out[0] = 254
        return
    all_cloud = clm > 0
    shadow = (clm & 96) != 0
    high = (clm & 128) != 0
    refined = (all_cloud and red_coarse > red_darkcloud) or shadow or high
    snow = pass1 != 0
    if not snow and run_pass2 != 0 and not refined and not np.isnan(dem) and dem > zs:
        s = green + swir
        if s != 0:
            ndsi = (green - swir) / s
            snow = ndsi > ndsi_min and red > red_min
    if snow:
        out[0] = 100
    elif refined or (all_cloud and red > red_backtocloud):
        out[0] = 205
    else:
        out[0] = 0


@guvectorize(
    ["void(uint8[:], int32[:], int32[:], int32[:])"],
    "(t),(t),(k)->(k)",
    nopython=True,
    cache=False,
)
def l3b_pixel(codes, days, params, out):  # pragma: no cover - numba
    """Annual synthesis of one pixel's L2B series (LIS ``snow_annual_map``).

    ``codes``: L2B codes (0 / 1-100 snow or FSC / 205 / 254 / 255) of the dates, sorted by
    ``days`` (day index relative to the synthesis start, may be < 0 or >= n_days for the
    margin dates).  ``params = (n_days, min_snow_days, 0, 0)``.

    Gap filling as LIS >= 1.7: each day takes the snow state linearly interpolated between
    the clear observations around it and thresholded at 0.5 (the nearer observation wins;
    a day exactly half-way counts as snow); days before the first / after the last clear
    observation copy it; a pixel never seen clear has no snow.

    ``out = (SCD, SOD, SMOD, NOBS)``: snow cover duration (days), snow onset and melt-out
    day indices (first and last day of the longest snow period, earliest on ties; 0 when
    SCD <= ``min_snow_days``), number of clear observations.
    """
    n_days = params[0]
    min_days = params[1]
    t = codes.shape[0]
    nobs = 0
    for k in range(t):
        c = codes[k]
        if c != 205 and c != 254 and c != 255:
            nobs += 1
    scd = 0
    best_len = 0
    best_start = 0
    run_len = 0
    run_start = 0
    prev = -1  # index of the last clear observation at or before the day
    nxt = 0  # search position for the next clear observation
    for d in range(n_days):
        # advance prev to the last clear observation with day <= d
        while nxt < t and days[nxt] <= d:
            c = codes[nxt]
            if c != 205 and c != 254 and c != 255:
                prev = nxt
            nxt += 1
        # next clear observation with day > d
        k = nxt
        while k < t:
            c = codes[k]
            if c != 205 and c != 254 and c != 255:
                break
            k += 1
        has_prev = prev >= 0
        has_next = k < t
        if not has_prev and not has_next:
            snow = False
        elif not has_next:
            snow = 0 < codes[prev] <= 100
        elif not has_prev:
            snow = 0 < codes[k] <= 100
        else:
            a = 1.0 if 0 < codes[prev] <= 100 else 0.0
            b = 1.0 if 0 < codes[k] <= 100 else 0.0
            if days[prev] == d:
                v = a
            else:
                v = a + (b - a) * (d - days[prev]) / (days[k] - days[prev])
            snow = v >= 0.5
        if snow:
            scd += 1
            if run_len == 0:
                run_start = d
            run_len += 1
            if run_len > best_len:
                best_len = run_len
                best_start = run_start
        else:
            run_len = 0
    out[0] = scd
    out[3] = nobs
    if scd > min_days:
        out[1] = best_start
        out[2] = best_start + best_len - 1
    else:
        out[1] = 0
        out[2] = 0
