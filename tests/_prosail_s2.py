"""Sentinel-2 reflectances of random canopies simulated with PROSAIL (the ``prosail`` package), for
the independent check of the biophysical networks (tests/test_products_biophysical.py and
benchmarks/bench_biophysical.py use the same simulation, so they report the same RMSE).

* **Canopies**: PROSPECT-5 + 4SAIL through ``prosail.run_prospect`` and ``prosail.FourSAIL``,
  with distributions that approximate the ATBD's training set (Weiss & Baret 2016, section 2.1.2,
  table 2: truncated Gaussians over the stated ranges): LAI 0-15 (mean 2, sd 3), average leaf angle
  30-80 degrees (60, 20), hot spot 0.1-0.5, N 1.2-2.2 (1.5, 0.3), Cab 20-90 ug cm-2 (45, 30), Cdm
  0.003-0.011 g cm-2 (0.005, 0.005), relative water content Cw_rel 0.6-0.85 (Cw = Cdm Cw_rel / (1 -
  Cw_rel)), brown pigments 0-2 (0, 0.3); the soil is prosail's dry/wet mixture (moisture 0-1) times a
  brightness 0.5-1.5 (1, 0.3), not the ATBD's 0.5-3.5 (1.2, 2), which scales a darker reference
  soil: prosail's dry soil is already 0.41 at 865 nm; sun zenith 0-60, view zenith 0-10, relative
  azimuth 0-360 degrees (or the fixed angles given).  The ATBD also co-distributes some variables
  with LAI; that is not reproduced here.
* **Bands**: each band is the reflectance spectrum weighted by a Gaussian spectral response with
  the Sentinel-2A central wavelength and bandwidth (FWHM) of the S2 MSI L1C product definition
  (B3 559.8/36, B4 664.6/31, B5 704.1/15, B6 740.5/15, B7 782.8/20, B8A 864.7/21, B11 1613.7/91,
  B12 2202.4/175 nm): an approximation of the published SRF tables.
* **Truth**: LAI; CCC = Cab LAI; CWC = Cw LAI; FCOVER = 1 - the nadir gap fraction (4SAIL's
  ``too`` with a nadir view); FAPAR = the canopy's black-sky absorptance over 400-700 nm at the
  simulated sun zenith: ``1 - rsdt - (1 - rs) (tss + tsd) / (1 - rs rdd)`` from 4SAIL's terms (the
  ATBD computes FAPAR at 10:00 solar time, not at the observation's sun: a difference of definition).
"""

from __future__ import annotations

import numpy as np

__all__ = ["S2A_BANDS", "simulate"]

#: Sentinel-2A band: (central wavelength nm, bandwidth nm), the 8 bands the networks take.
S2A_BANDS = {"B3": (559.8, 36.0), "B4": (664.6, 31.0), "B5": (704.1, 15.0), "B6": (740.5, 15.0),
             "B7": (782.8, 20.0), "B8A": (864.7, 21.0), "B11": (1613.7, 91.0), "B12": (2202.4, 175.0)}
_WL = np.arange(400.0, 2501.0)


def _truncnorm(rng, n, lo, hi, mean, sd):
    out = rng.normal(mean, sd, n)
    bad = (out < lo) | (out > hi)
    while bad.any():
        out[bad] = rng.normal(mean, sd, bad.sum())
        bad = (out < lo) | (out > hi)
    return out


def _srf_weights() -> np.ndarray:
    w = np.stack([np.exp(-0.5 * ((_WL - c) / (fwhm / 2.3548)) ** 2) for c, fwhm in S2A_BANDS.values()])
    return w / w.sum(axis=1, keepdims=True)


def simulate(n: int, seed: int = 0, *, sun_zenith: float | None = None, view_zenith: float | None = None,
             relative_azimuth: float | None = None) -> dict[str, np.ndarray]:
    """``n`` random canopies: ``refl`` (n, 8), angles in degrees (``sun_zenith``, ``view_zenith``,
    ``relative_azimuth``: random, or the values given) and the true ``lai``, ``fapar``, ``fcover``,
    ``ccc``, ``cwc``."""
    import prosail
    from prosail.FourSAIL import foursail

    rng = np.random.default_rng(seed)
    lai = _truncnorm(rng, n, 0.0, 15.0, 2.0, 3.0)
    ala = _truncnorm(rng, n, 30.0, 80.0, 60.0, 20.0)
    hspot = _truncnorm(rng, n, 0.1, 0.5, 0.2, 0.5)
    nlayers = _truncnorm(rng, n, 1.2, 2.2, 1.5, 0.3)
    cab = _truncnorm(rng, n, 20.0, 90.0, 45.0, 30.0)
    cdm = _truncnorm(rng, n, 0.003, 0.011, 0.005, 0.005)
    cw_rel = rng.uniform(0.6, 0.85, n)
    cw = cdm * cw_rel / (1.0 - cw_rel)
    cbrown = _truncnorm(rng, n, 0.0, 2.0, 0.0, 0.3)
    bs = _truncnorm(rng, n, 0.5, 1.5, 1.0, 0.3)
    psoil = rng.uniform(0.0, 1.0, n)
    tts = rng.uniform(0.0, 60.0, n) if sun_zenith is None else np.full(n, float(sun_zenith))
    tto = rng.uniform(0.0, 10.0, n) if view_zenith is None else np.full(n, float(view_zenith))
    psi = rng.uniform(0.0, 360.0, n) if relative_azimuth is None else np.full(n, float(relative_azimuth))
    soil1, soil2 = prosail.spectral_lib.soil.rsoil1, prosail.spectral_lib.soil.rsoil2
    weights = _srf_weights()
    par = (_WL >= 400) & (_WL <= 700)
    refl = np.empty((n, len(S2A_BANDS)))
    fapar, fcover = np.empty(n), np.empty(n)
    for i in range(n):
        rs = np.clip(bs[i] * (psoil[i] * soil1 + (1 - psoil[i]) * soil2), 0.0, 1.0)
        _, lrefl, ltrans = prosail.run_prospect(nlayers[i], cab[i], 8.0, cbrown[i], cw[i], cdm[i])
        out = foursail(lrefl, ltrans, ala[i], 0.0, 2, lai[i], hspot[i], tts[i], tto[i], psi[i], rs)
        tss, tsd, rdd, rsdt, rsot = out[0], out[6], out[3], out[13], out[17]
        refl[i] = weights @ rsot
        absorbed = 1.0 - rsdt - (1.0 - rs) * (tss + tsd) / (1.0 - rs * rdd)
        fapar[i] = absorbed[par].mean()
        nadir = foursail(lrefl, ltrans, ala[i], 0.0, 2, lai[i], hspot[i], tts[i], 0.0, psi[i], rs)
        fcover[i] = 1.0 - nadir[1]
    return {"refl": refl, "sun_zenith": tts, "view_zenith": tto, "relative_azimuth": psi, "lai": lai,
            "fapar": fapar, "fcover": fcover, "ccc": cab * lai, "cwc": cw * lai}
