"""Change and smoothing on a synthetic cube: terra_lab vs whittaker-eilers and vs a per-pixel numpy BFAST Monitor.

* Whittaker: :func:`whittaker_smooth` (numba banded Cholesky per pixel, Dask 2 threads) vs
  ``whittaker_eilers.WhittakerSmoother`` (Rust sparse solver) built and run pixel by pixel in a
  Python loop (uneven dates and weights differ per pixel, so one smoother per pixel), on a subset
  scaled to the cube (said in the table); max |difference| printed.
* BFAST Monitor: :func:`bfast_monitor` vs the same algorithm per pixel with numpy's SVD least
  squares and a cumulative-sum MOSUM (the loop of bfast 0.7's ``BFASTMonitorPython``, which
  itself does not install under numpy 2); break agreement printed.

Run: ``python benchmarks/bench_change.py [--size 64] [--subset 300]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask
import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row, table

from terra_lab.products.change import bfast_critical_value, bfast_monitor, whittaker_smooth


def synthetic(size: int, seed: int = 0) -> xr.DataArray:
    """NDVI on uneven dates (60 % of a 5-day grid, 2016-2022), noise, 25 % clouds, a drop in a quarter of the pixels."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2016-01-03", "2022-12-28", freq="5D")
    dates = dates[rng.random(dates.size) < 0.6] + pd.Timedelta(hours=10.5)
    doy = np.asarray((dates.normalize() - pd.Timestamp("2016-01-01")).days, np.float32)
    y = 0.6 + 0.2 * np.sin(2 * np.pi * doy / 365)[:, None, None] + rng.normal(0, 0.03, (dates.size, size, size))
    y[dates >= pd.Timestamp("2020-06-01"), : size // 4] -= 0.3
    y[rng.random(y.shape) < 0.25] = np.nan
    return xr.DataArray(y.astype(np.float32), dims=("time", "y", "x"), coords={"time": dates}, name="NDVI")


def we_per_pixel(y: np.ndarray, days: np.ndarray, lmbda: float) -> np.ndarray:
    from whittaker_eilers import WhittakerSmoother

    out = np.empty_like(y, dtype=np.float64)
    for p in range(y.shape[1]):
        w = np.where(np.isnan(y[:, p]), 0.0, 1.0)
        out[:, p] = WhittakerSmoother(lmbda=lmbda, order=2, data_length=days.size, x_input=list(days),
                                      weights=list(w)).smooth(list(np.nan_to_num(y[:, p])))
    return out


def bfast_numpy(y: np.ndarray, days: np.ndarray, n_hist: int, hfrac=0.25, k=3) -> np.ndarray:
    lam = bfast_critical_value(hfrac, 10)
    w = 2 * np.pi * days / 365.0
    x = np.column_stack([np.ones_like(days), days] + [f(j * w) for j in range(1, k + 1) for f in (np.sin, np.cos)])
    ratio = days[n_hist:] / days[n_hist - 1]
    bound = lam * np.sqrt(np.where(ratio > np.e, np.log(ratio), 1.0))
    out = np.full(y.shape[1], -1)
    for p in range(y.shape[1]):
        ok = ~np.isnan(y[:, p])
        hist = ok.copy()
        hist[n_hist:] = False
        ns = int(hist.sum())
        beta = np.linalg.lstsq(x[hist], y[hist, p], rcond=None)[0]
        e = (y[:, p] - x @ beta)[ok]
        idx = np.nonzero(ok)[0]
        sigma = np.sqrt(np.sum(e[:ns] ** 2) / (ns - x.shape[1]))
        h = int(ns * hfrac)
        cs = np.cumsum(e[ns - h:])
        mosum = (cs[h:] - cs[:-h]) / (sigma * np.sqrt(ns))
        cross = np.nonzero(np.abs(mosum) > bound[idx[ns:] - n_hist])[0]
        if cross.size:
            out[p] = idx[ns + cross[0]] - n_hist
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--subset", type=int, default=300)
    ap.add_argument("--update-baseline", action="store_true")
    args = ap.parse_args()
    n = args.size
    da = synthetic(n)
    lazy = da.chunk(time=-1, y=32, x=32)
    nt = da.sizes["time"]
    flat = da.values.reshape(nt, -1)
    rng = np.random.default_rng(1)
    sub = rng.choice(n * n, size=min(args.subset, n * n), replace=False)
    scale = n * n / len(sub)
    days_exact = np.asarray((da.time.to_index() - da.time.to_index()[0].normalize()) / pd.Timedelta(days=1))

    def ours_whittaker():
        with dask.config.set(scheduler="threads", num_workers=2):
            return whittaker_smooth(lazy, lmbda=1e4).smoothed.compute()

    r_w = measure(ours_whittaker, repeat=3)
    r_we = measure(lambda: we_per_pixel(flat[:, sub], days_exact, 1e4), repeat=1, warmup=0)
    diff = float(np.nanmax(np.abs(ours_whittaker().values.reshape(nt, -1)[:, sub] - we_per_pixel(flat[:, sub],
                                                                                                    days_exact, 1e4))))
    days = np.asarray((da.time.to_index().normalize() - pd.Timestamp("2016-01-01")).days, np.float64)
    n_hist = int(np.sum(da.time.to_index() < pd.Timestamp("2019-01-01")))

    def ours_bfast():
        with dask.config.set(scheduler="threads", num_workers=2):
            return bfast_monitor(lazy, monitor_start="2019-01-01").compute()

    r_b = measure(ours_bfast, repeat=3)
    r_bn = measure(lambda: bfast_numpy(flat[:, sub], days, n_hist), repeat=1, warmup=0)
    res = ours_bfast()
    mon = da.time.values[n_hist:]
    ours_idx = np.where(np.isnat(res.break_date.values), -1, np.searchsorted(mon, res.break_date.values)).ravel()
    agree = float(np.mean(ours_idx[sub] == bfast_numpy(flat[:, sub], days, n_hist)))
    rows, reg = [], []
    for name, r, f in (("terra_lab whittaker_smooth (numba, dask 2 threads)", r_w, 1.0),
                       (f"whittaker-eilers per pixel (timed on {len(sub)} px, scaled x{scale:.0f})", r_we, scale),
                       ("terra_lab bfast_monitor (numba, dask 2 threads)", r_b, 1.0),
                       (f"per-pixel numpy lstsq BFAST Monitor (timed on {len(sub)} px, scaled x{scale:.0f})", r_bn,
                        scale)):
        t = r["best"] * f
        rows.append({"method": name, "best s": f"{t:.3f}", "peak MiB": f"{r['peak_mib']:.0f}"
                     + (" (subset)" if f != 1.0 else "")})
    rows[1]["ratio ours/comparison"] = f"{r_w['best'] / (r_we['best'] * scale):.3f}"
    rows[3]["ratio ours/comparison"] = f"{r_b['best'] / (r_bn['best'] * scale):.3f}"
    print(f"change, {nt} uneven dates x {n} x {n} px (25 % cloudy); Whittaker max |ours - whittaker-eilers| "
          f"{diff:.2e}; BFAST break agreement with numpy on the subset {100 * agree:.1f} %")
    print(table(rows, ["method", "best s", "ratio ours/comparison", "peak MiB"]))
    reg = [row("whittaker: ours vs whittaker-eilers per pixel", r_w, {**r_we, "best": r_we["best"] * scale}),
           row("bfast: ours vs per-pixel numpy", r_b, {**r_bn, "best": r_bn["best"] * scale})]
    check_baseline("bench_change", reg, config=f"{n} px x {nt} dates", update=args.update_baseline)


if __name__ == "__main__":
    main()
