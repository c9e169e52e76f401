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
``[mv_min, mv_max]``; NaN where an input is NaN or NDVI is above ``ndvi_max`` (dense vegetation, where
the soil is not seen).

**Range of the model** (:func:`wcm_range_flag`): at a given NDVI and angle the model spans
``[sigma0(mv_min), sigma0(mv_max)]``.  A sigma0 more than ``range_tol_db`` above the top of that span
(:data:`ABOVE_RANGE`: built-up areas, dihedral or layover returns) or below its bottom
(:data:`BELOW_RANGE`: open water, radar shadow, very smooth surfaces) is not a soil the model
describes.  Above the range no soil moisture explains the signal (a soil wetter than ``mv_max`` is
not brighter): :func:`wcm_invert` returns NaN there, where clipping to ``mv_max`` would paint a
built-up block as saturated soil.  Below it the nearest reading is still the driest soil (a drier or
smoother soil than the calibration's): the inversion keeps ``mv_min`` and the flag says so, for
the caller to mask (water is masked from the optical water flag upstream).  Within the tolerance
(speckle, calibration noise) the inversion is clipped to the range.

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

from ._jit import gufunc, jit

__all__ = ["ABOVE_RANGE", "BELOW_RANGE", "IN_RANGE", "PARAM_ORDER", "wcm_forward", "wcm_invert", "wcm_range_flag"]

#: Order of the parameter vector ``p`` the kernels take.
PARAM_ORDER = ("a", "b", "c", "d", "d_slope", "theta_ref", "mv_min", "mv_max", "ndvi_max", "range_tol_db")

#: :func:`wcm_range_flag` codes: sigma0 within the model's range, above it (brighter than the wettest soil
#: under that vegetation), below it (darker than the driest)
IN_RANGE, ABOVE_RANGE, BELOW_RANGE = 0, 1, 2

_SIGS = ["void(float32, float32, float32, float64[:], float32[:])",
         "void(float64, float64, float64, float64[:], float64[:])"]


@jit(inline="always")
def _sigma(mv, v, theta_deg, cos_t, t2, p):  # pragma: no cover - numba
    """The model (linear): vegetation term plus the attenuated soil term (``v``: NDVI clipped at 0)."""
    veg = p[0] * v * cos_t * (1.0 - t2)
    soil_db = p[2] * mv + p[3] + p[4] * (theta_deg - p[5])
    return veg + t2 * 10.0 ** (soil_db / 10.0)


@jit(inline="always")
def _range(sigma, v, theta_deg, cos_t, t2, p):  # pragma: no cover - numba
    """:data:`IN_RANGE`, :data:`ABOVE_RANGE` or :data:`BELOW_RANGE` (tolerance ``p[9]`` dB)."""
    db = 10.0 * math.log10(sigma)
    if db > 10.0 * math.log10(_sigma(p[7], v, theta_deg, cos_t, t2, p)) + p[9]:
        return ABOVE_RANGE
    if db < 10.0 * math.log10(_sigma(p[6], v, theta_deg, cos_t, t2, p)) - p[9]:
        return BELOW_RANGE
    return IN_RANGE


@gufunc(_SIGS, "(),(),(),(p)->()")
def wcm_forward(mv, ndvi, theta_deg, p, out):  # pragma: no cover - numba
    """sigma0 VV (linear) of soil moisture ``mv`` (vol.%) under ``ndvi`` at incidence ``theta_deg``."""
    if math.isnan(mv) or math.isnan(ndvi) or math.isnan(theta_deg):
        out[0] = np.nan
        return
    cos_t = math.cos(math.radians(theta_deg))
    v = max(ndvi, 0.0)
    out[0] = _sigma(mv, v, theta_deg, cos_t, math.exp(-2.0 * p[1] * v / cos_t), p)


@gufunc(_SIGS, "(),(),(),(p)->()")
def wcm_range_flag(sigma, ndvi, theta_deg, p, out):  # pragma: no cover - numba
    """Where sigma0 (linear) lies against the model's range at this NDVI and angle (NaN: an input missing)."""
    if math.isnan(sigma) or math.isnan(ndvi) or math.isnan(theta_deg) or sigma <= 0.0:
        out[0] = np.nan
        return
    cos_t = math.cos(math.radians(theta_deg))
    v = max(ndvi, 0.0)
    out[0] = _range(sigma, v, theta_deg, cos_t, math.exp(-2.0 * p[1] * v / cos_t), p)


@gufunc(_SIGS, "(),(),(),(p)->()")
def wcm_invert(sigma, ndvi, theta_deg, p, out):  # pragma: no cover - numba
    """Soil moisture (vol.%) from sigma0 VV (linear), NDVI and incidence (closed-form WCM inversion)."""
    if math.isnan(sigma) or math.isnan(ndvi) or math.isnan(theta_deg) or ndvi > p[8] or sigma <= 0.0:
        out[0] = np.nan
        return
    cos_t = math.cos(math.radians(theta_deg))
    v = max(ndvi, 0.0)
    t2 = math.exp(-2.0 * p[1] * v / cos_t)
    if _range(sigma, v, theta_deg, cos_t, t2, p) == ABOVE_RANGE:  # brighter than any soil the model describes
        out[0] = np.nan
        return
    soil = (sigma - p[0] * v * cos_t * (1.0 - t2)) / t2
    if soil <= 0.0:  # the vegetation term alone exceeds the signal (within the tolerance): driest soil
        out[0] = p[6]
        return
    mv = (10.0 * math.log10(soil) - p[3] - p[4] * (theta_deg - p[5])) / p[2]
    out[0] = min(max(mv, p[6]), p[7])
