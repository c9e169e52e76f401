"""numba/numpy kernels of the WASP weighted-average synthesis (THEIA L3A).

References
----------
.. [1] Hagolle, O., Morin, D., Kadiri, M. (2018). Detailed processing model for the Weighted
   Average Synthesis Processor (WASP) for Sentinel-2. CNES/CESBIO, doi:10.5281/zenodo.1401360.
.. [2] CNES WASP source: ``WeightOnClouds``, ``WeightAOT``, ``TotalWeight``, ``UpdateSynthesis``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ._jit import gufunc

__all__ = ["CLOUD", "LAND", "NODATA", "SNOW", "WATER", "aot_weight", "cloud_weight_2d", "wasp_pixel"]

NODATA, CLOUD, SNOW, WATER, LAND = 0, 1, 2, 3, 4


def cloud_weight_2d(cloud: np.ndarray, factor: int, sigma_small: float, sigma_large: float) -> np.ndarray:
    """WASP cloud weight of one date: ``(1 - G_small)(1 - G_large)``, 0 where either is >= 1.

    The cloud mask is reduced to coarse pixels of ``factor`` x ``factor`` (a coarse pixel is
    cloudy when more than half of it is), blurred by Gaussians of ``sigma_small`` and
    ``sigma_large`` coarse pixels (cloud fractions of the neighbourhood), and brought back to
    full resolution.  Works on (..., y, x) arrays.
    """
    cloud = np.asarray(cloud, dtype=np.float32)
    ny, nx = cloud.shape[-2:]
    py, px = -ny % factor, -nx % factor
    padded = np.pad(cloud, [(0, 0)] * (cloud.ndim - 2) + [(0, py), (0, px)], mode="edge")
    blocks = padded.reshape(*padded.shape[:-2], padded.shape[-2] // factor, factor, padded.shape[-1] // factor, factor)
    coarse = (blocks.mean(axis=(-3, -1)) > 0.5).astype(np.float32)
    sig = [0.0] * (coarse.ndim - 2)
    g_small = ndimage.gaussian_filter(coarse, sigma=sig + [sigma_small] * 2, mode="nearest")
    g_large = ndimage.gaussian_filter(coarse, sigma=sig + [sigma_large] * 2, mode="nearest")
    w = (1 - g_small) * (1 - g_large)
    w[(g_small >= 1) | (g_large >= 1)] = 0
    w = np.clip(w, 0, 1)
    full = np.repeat(np.repeat(w, factor, axis=-2), factor, axis=-1)
    return full[..., :ny, :nx].astype(np.float32)


def aot_weight(aot, aot_max: float = 0.8, w_min: float = 0.33, w_max: float = 1.0):
    """WASP aerosol weight: w_min + (w_max - w_min)(1 - AOT / aot_max) below aot_max, w_min above, 0 if AOT < 0."""
    w = w_min + (w_max - w_min) * (1 - aot / aot_max)
    return np.where(aot < 0, 0.0, np.where(aot < aot_max, w, w_min))


@gufunc(
    ["void(float32[:, :], float32[:], uint8[:], float32[:], float32[:], float32[:], float32[:], uint8[:], uint16[:])"],
    "(t,b),(t),(t),(t)->(b),(),(),(),()")
def wasp_pixel(refl, weight, state, days, out, wsum, date, flag, count):  # pragma: no cover - numba
    """One pixel's synthesis over its dates (sorted by time).

    ``state``: 0 no data, 1 cloud, 2 snow, 3 water, 4 clear land.  Clear land dates are
    averaged with ``weight``; if a pixel never had clear land, the latest snow/water date is
    kept (weight 0); if it only had clouds, the cloudy date with the lowest first band (blue)
    is kept.  Outputs: reflectance, summed weight, weighted mean of ``days``, flag (0 no data,
    1 cloud, 2 snow, 3 water, 4 land) and the number of clear land dates used.
    """
    nt, nb = refl.shape
    acc = np.zeros(nb, np.float64)
    plain = np.zeros(nb, np.float64)
    sw = 0.0
    sd = 0.0
    n = 0
    f = 0
    other = -1  # index of the kept snow/water/cloud date
    for t in range(nt):
        s = state[t]
        if s == 4:
            bad = False
            for b in range(nb):
                if np.isnan(refl[t, b]):
                    bad = True
            if bad:
                continue
            w = abs(weight[t])
            for b in range(nb):
                acc[b] += w * refl[t, b]
                plain[b] += refl[t, b]
            sw += w
            sd += w * days[t]
            n += 1
            f = 4
        elif (s == 2 or s == 3) and f != 4:
            other = t
            f = s
        elif s == 1 and (f == 0 or f == 1):
            if other < 0 or refl[t, 0] < refl[other, 0] or np.isnan(refl[other, 0]):
                other = t
            f = 1
    flag[0] = f
    count[0] = n
    if f == 4:
        wsum[0] = sw
        if sw > 0:
            for b in range(nb):
                out[b] = acc[b] / sw
            date[0] = sd / sw
        else:  # clear dates all of weight 0: their plain mean
            for b in range(nb):
                out[b] = plain[b] / n
            date[0] = np.nan
    elif f != 0:
        wsum[0] = 0.0
        for b in range(nb):
            out[b] = refl[other, b]
        date[0] = days[other]
    else:
        wsum[0] = 0.0
        for b in range(nb):
            out[b] = np.nan
        date[0] = np.nan
