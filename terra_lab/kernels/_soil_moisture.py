"""numba kernels of the Water Cloud Model (WCM) for Sentinel-1 VV over vegetated soil, NDVI-driven.

Arrays in, arrays out; no xarray.  Per pixel (numba ``guvectorize`` with scalar core dimensions;
Dask supplies the parallelism), with the model's parameters packed in one vector ``p`` (layout of
:data:`PARAM_ORDER`):

    sigma0_tot  = sigma0_veg + T2 * sigma0_soil                  (linear power)
    sigma0_veg  = A * NDVI * cos(theta) * (1 - T2)
    T2          = exp(-2 * B * NDVI / cos(theta))                (two-way attenuation)
    sigma0_soil = C * mv + D + D_slope * (theta - theta_ref)     (dB; mv in vol.%)

(Attema & Ulaby 1978 [1]_, with V1 = V2 = NDVI and a linear soil term in dB as Baghdadi et al. and
El Hajj et al. use it [2]_ [3]_).  :func:`wcm_forward` evaluates it; :func:`wcm_invert` solves it for
``mv`` in closed form: ``mv = (10 log10((sigma0_tot - sigma0_veg) / T2) - D(theta)) / C``, clipped to
``[mv_min, mv_max]`` (``mv_min`` where the vegetation alone explains the signal); NaN where an input is
NaN or NDVI is above ``ndvi_max`` (dense vegetation, where the soil is not seen).

References
----------
.. [1] Attema, E. P. W., Ulaby, F. T. (1978). Vegetation modeled as a water cloud. Radio Science 13(2), 357-364.
.. [2] El Hajj, M., Baghdadi, N., Zribi, M., Bazzi, H. (2017). Synergic use of Sentinel-1 and Sentinel-2 images
   for operational soil moisture mapping at high spatial resolution over agricultural areas. Remote Sensing
   9(12), 1292. doi:10.3390/rs9121292
.. [3] Baghdadi, N., El Hajj, M., Zribi, M., Bousbih, S. (2017). Calibration of the Water Cloud Model at C-band
   for winter crop fields and grasslands. Remote Sensing 9(9), 969. doi:10.3390/rs9090969
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import gufunc

__all__ = ["PARAM_ORDER", "wcm_forward", "wcm_invert"]

#: Order of the parameter vector ``p`` the kernels take.
PARAM_ORDER = ("a", "b", "c", "d", "d_slope", "theta_ref", "mv_min", "mv_max", "ndvi_max")

_SIGS = ["void(float32, float32, float32, float64[:], float32[:])",
         "void(float64, float64, float64, float64[:], float64[:])"]


@gufunc(_SIGS, "(),(),(),(p)->()")
def wcm_forward(mv, ndvi, theta_deg, p, out):  # pragma: no cover - numba
    """sigma0 VV (linear) of soil moisture ``mv`` (vol.%) under ``ndvi`` at incidence ``theta_deg``."""
    if math.isnan(mv) or math.isnan(ndvi) or math.isnan(theta_deg):
        out[0] = np.nan
        return
    cos_t = math.cos(math.radians(theta_deg))
    v = max(ndvi, 0.0)
    t2 = math.exp(-2.0 * p[1] * v / cos_t)
    veg = p[0] * v * cos_t * (1.0 - t2)
    soil_db = p[2] * mv + p[3] + p[4] * (theta_deg - p[5])
    out[0] = veg + t2 * 10.0 ** (soil_db / 10.0)


@gufunc(_SIGS, "(),(),(),(p)->()")
def wcm_invert(sigma, ndvi, theta_deg, p, out):  # pragma: no cover - numba
    """Soil moisture (vol.%) from sigma0 VV (linear), NDVI and incidence (closed-form WCM inversion)."""
    if math.isnan(sigma) or math.isnan(ndvi) or math.isnan(theta_deg) or ndvi > p[8] or sigma <= 0.0:
        out[0] = np.nan
        return
    cos_t = math.cos(math.radians(theta_deg))
    v = max(ndvi, 0.0)
    t2 = math.exp(-2.0 * p[1] * v / cos_t)
    soil = (sigma - p[0] * v * cos_t * (1.0 - t2)) / t2
    if soil <= 0.0:  # the vegetation term alone exceeds the signal: driest soil
        out[0] = p[6]
        return
    mv = (10.0 * math.log10(soil) - p[3] - p[4] * (theta_deg - p[5])) / p[2]
    out[0] = min(max(mv, p[6]), p[7])
