"""Soil-moisture inversion throughput: terra_lab's Water Cloud Model inversions vs scipy per pixel.

A synthetic cube (dates x size x size) of sigma0 VV simulated by the WCM from a random soil moisture,
NDVI and incidence, with 1 dB-equivalent speckle (10-look Gamma noise):

* terra_lab direct: :func:`terra_lab.products.soil_moisture.invert_wcm` over the Dask cube (numba
  gufunc, closed form), 2 threads;
* terra_lab NN: :func:`invert_wcm_nn` (scikit-learn MLPRegressor trained on noisy simulations,
  training excluded from the time: it is cached once per parameter set);
* scipy per pixel: ``scipy.optimize.brentq`` on the same model, one root find per pixel-date (the
  way the inversion is often written).  Too slow for the whole cube: timed on a random subset and
  scaled per pixel (said in the table).

RMSE (vol.%) of each against the simulated truth is printed.
Run: ``python benchmarks/bench_soil_moisture.py [--size 256] [--dates 24] [--subset 2000]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import dask
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row, table
from scipy.optimize import brentq

from terra_lab.products import soil_moisture as sm

P = sm.WCM_VV


def _wcm(mv: float, ndvi: float, theta: float) -> float:
    c = math.cos(math.radians(theta))
    t2 = math.exp(-2 * P.b * ndvi / c)
    return P.a * ndvi * c * (1 - t2) + t2 * 10 ** ((P.c * mv + P.d + P.d_slope * (theta - P.theta_ref)) / 10)


def synthetic(size: int, n_dates: int, seed: int = 0) -> tuple[xr.DataArray, ...]:
    rng = np.random.default_rng(seed)
    shape = (n_dates, size, size)
    mv = rng.uniform(5, 40, shape).astype(np.float32)
    nd = rng.uniform(0.05, 0.7, shape).astype(np.float32)
    th = np.broadcast_to(np.linspace(31, 44, size, dtype=np.float32)[None, None, :], shape).copy()
    sigma = sm.wcm_forward(xr.DataArray(mv, dims=("time", "y", "x")), xr.DataArray(nd, dims=("time", "y", "x")),
                           xr.DataArray(th, dims=("time", "y", "x"))).values
    sigma = (sigma * rng.gamma(10, 0.1, shape)).astype(np.float32)
    dims = ("time", "y", "x")
    return tuple(xr.DataArray(a, dims=dims) for a in (mv, nd, th, sigma))


def scipy_per_pixel(sigma: np.ndarray, nd: np.ndarray, th: np.ndarray) -> np.ndarray:
    out = np.empty(sigma.size)
    for i, (s, n, t) in enumerate(zip(sigma.ravel(), nd.ravel(), th.ravel())):
        f_lo, f_hi = _wcm(P.mv_min, n, t) - s, _wcm(P.mv_max, n, t) - s
        if f_lo >= 0:
            out[i] = P.mv_min
        elif f_hi <= 0:
            out[i] = P.mv_max
        else:
            out[i] = brentq(lambda m: _wcm(m, n, t) - s, P.mv_min, P.mv_max, xtol=1e-4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--dates", type=int, default=24)
    ap.add_argument("--subset", type=int, default=2000)
    ap.add_argument("--update-baseline", action="store_true", help="store this run's ratios in baseline.json")
    args = ap.parse_args()
    mv, nd, th, sigma = synthetic(args.size, args.dates)
    chunks = {"time": 1, "y": 128, "x": 128}
    cs, cn, ct = sigma.chunk(chunks), nd.chunk(chunks), th.chunk(chunks)
    sm.train_inversion_network(P)  # cached; training is not what is timed
    npx = sigma.size

    def direct():
        with dask.config.set(scheduler="threads", num_workers=2):
            return sm.invert_wcm(cs, cn, ct).values

    def nn():
        with dask.config.set(scheduler="threads", num_workers=2):
            return sm.invert_wcm_nn(cs, cn, ct).values

    r_direct, r_nn = measure(direct, repeat=3), measure(nn, repeat=1)
    rng = np.random.default_rng(1)
    sub = rng.choice(npx, args.subset, replace=False)
    s_sub, n_sub, t_sub = (a.values.ravel()[sub] for a in (sigma, nd, th))
    r_sp = measure(lambda: scipy_per_pixel(s_sub, n_sub, t_sub), repeat=1, warmup=0)
    scale = npx / args.subset
    r_sp_all = {k: (v * scale if k != "peak_mib" else v) for k, v in r_sp.items()}
    truth = mv.values.ravel()
    ok = nd.values.ravel() <= P.ndvi_max
    d_all, n_all = direct().ravel(), nn().ravel()
    sp = scipy_per_pixel(s_sub, n_sub, t_sub)
    rmse = {
        "direct": float(np.sqrt(np.nanmean((d_all[ok] - truth[ok]) ** 2))),
        "nn": float(np.sqrt(np.nanmean((n_all[ok] - truth[ok]) ** 2))),
        "scipy": float(np.sqrt(np.mean((sp - truth[sub]) ** 2))),
    }
    agree = float(np.max(np.abs(d_all[sub] - sp)))
    mpd = npx / 1e6
    rows = [
        {"method": "terra_lab direct (numba, Dask 2 threads)", "best s": f"{r_direct['best']:.3f}",
         "Mpixel-dates/s": f"{mpd / r_direct['best']:.2f}", "ratio to terra_lab direct": "1.00",
         "peak MiB": f"{r_direct['peak_mib']:.0f}", "RMSE vol.%": f"{rmse['direct']:.2f}"},
        {"method": "terra_lab neural network (MLPRegressor)", "best s": f"{r_nn['best']:.3f}",
         "Mpixel-dates/s": f"{mpd / r_nn['best']:.2f}", "ratio to terra_lab direct": f"{r_nn['best'] / r_direct['best']:.2f}",
         "peak MiB": f"{r_nn['peak_mib']:.0f}", "RMSE vol.%": f"{rmse['nn']:.2f}"},
        {"method": f"scipy brentq per pixel (scaled from {args.subset} px)", "best s": f"{r_sp_all['best']:.1f}",
         "Mpixel-dates/s": f"{mpd / r_sp_all['best']:.3f}",
         "ratio to terra_lab direct": f"{r_sp_all['best'] / r_direct['best']:.0f}",
         "peak MiB": f"{r_sp['peak_mib']:.0f}", "RMSE vol.%": f"{rmse['scipy']:.2f}"},
    ]
    print(f"WCM soil-moisture inversion, {args.dates} dates x {args.size} x {args.size} px ({mpd:.1f} Mpixel-dates, "
          f"10-look speckle); direct vs scipy max |difference| on the subset: {agree:.4f} vol.%")
    print(table(rows, ["method", "best s", "Mpixel-dates/s", "ratio to terra_lab direct", "peak MiB", "RMSE vol.%"]))
    check_baseline("bench_soil_moisture",
                   [row("soil moisture: direct WCM inversion vs scipy brentq per pixel", r_direct, r_sp_all),
                    row("soil moisture: NN inversion vs scipy brentq per pixel", r_nn, r_sp_all)],
                   config=f"{args.size} px x {args.dates} dates")


if __name__ == "__main__":
    main()
