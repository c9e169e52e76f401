"""Time-series product families (synthesis, phenology) against the numpy/scipy references of their tests.

* synthesis: :func:`median_composite` and :func:`max_ndvi_composite` of a summer of the demo cube vs
  ``np.nanmedian`` / ``np.nanargmax`` on the same clear values (``tests/test_products_synthesis.py``);
  :func:`wasp_synthesis` vs its practical limit, a vectorised numpy time-weighted mean of the clear
  dates of the window (WASP also computes cloud-distance weights: ratio above 1 is expected).
* phenology: :func:`smooth_series` (gap filling + Savitzky-Golay, numba) vs
  ``scipy.signal.savgol_filter(..., mode="interp")`` on gap-free daily series (``tests/test_products_phenology.py``).

The demo cube is read into memory first, so reading is not timed.  Dask: 2 threads.
Run: ``python benchmarks/bench_series.py [--pixels 100] [--update-baseline]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import dask
import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import savgol_filter

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

import terra_lab
from terra_lab.products.phenology import smooth_series
from terra_lab.products.synthesis import max_ndvi_composite, median_composite, wasp_synthesis

BANDS = ["blue", "green", "red", "nir", "swir16"]


def demo_cube() -> xr.Dataset:
    items = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
    items = [it for it in items if "_T31TGK_" in it["id"]]
    return terra_lab.load(items, bands=BANDS, resolution=20, raw_masks=True).persist()


def numpy_composites(v: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    clear = ~(v.cloud | v.shadow | v.edge | v.saturated).values
    red = np.where(clear, v.red.values, np.nan)
    nir = np.where(clear, v.nir.values, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        med = np.nanmedian(red, axis=0)
        ndvi = (nir - red) / (nir + red)
    best = np.nanargmax(np.where(np.isfinite(ndvi), ndvi, -np.inf), axis=0)
    return med, np.take_along_axis(red, best[None], 0)[0]


def numpy_wasp_limit(v: xr.Dataset, date: str, half: int = 23) -> np.ndarray:
    dt = np.abs((pd.DatetimeIndex(v.time.values) - pd.Timestamp(date)).days.values)
    win = dt <= half
    w_time = (1 - dt[win] / half * 0.5)[:, None, None]
    clear = ~(v.cloud | v.shadow | v.edge | v.snow | v.water).values[win]
    w = np.where(clear, w_time, 0.0)
    out = []
    for b in BANDS:
        x = np.nan_to_num(v[b].values[win])
        with np.errstate(all="ignore"):
            out.append((w * x).sum(0) / w.sum(0))
    return np.stack(out)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--pixels", type=int, default=100, help="side of the phenology series block")
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    rows = []
    with dask.config.set(scheduler="threads", num_workers=2):
        cube = demo_cube()
        summer = cube.sel(time=slice("2024-06-01", "2024-08-31"))
        v = summer.compute()
        med, mx = numpy_composites(v)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(median_composite(summer).red.values, med, rtol=1e-6)
        has = np.isfinite(mx)
        np.testing.assert_allclose(max_ndvi_composite(summer).red.values[has], mx[has], rtol=1e-6)
        print(f"synthesis: demo cube {dict(cube.sizes)}, summer {summer.sizes['time']} dates; composites agree")
        rows.append(row("synthesis: median + max-NDVI composites vs numpy", measure(
            lambda: dask.compute(median_composite(summer), max_ndvi_composite(summer))),
            measure(lambda: numpy_composites(v))))
        window = cube.sel(time=slice("2024-06-01", "2024-08-31"))
        rows.append(row("synthesis: wasp_synthesis vs numpy time-weighted mean (limit)",
                        measure(lambda: wasp_synthesis(window, "2024-07-15").compute(), repeat=5),
                        measure(lambda: numpy_wasp_limit(v, "2024-07-15"), repeat=5)))

        n, days = args.pixels, 365
        rng = np.random.default_rng(1)
        t = np.arange(days)[:, None, None]
        x = (0.3 + 0.4 * np.sin(t / 25.0) + rng.normal(0, 0.03, (days, n, n))).astype(np.float32)
        series = xr.DataArray(x, dims=("time", "y", "x"),
                              coords={"time": pd.date_range("2023-01-01", periods=days, freq="D")})
        lazy = series.chunk(time=-1, y=50, x=50)
        ours = smooth_series(lazy, window=31, polyorder=2).compute().values
        ref = savgol_filter(x.astype(np.float64), 31, 2, axis=0, mode="interp")
        np.testing.assert_allclose(ours, ref, rtol=0, atol=2e-6)
        print(f"phenology: {days} daily dates x {n} x {n} px; smooth_series == savgol_filter within 2e-6")
        rows.append(row("phenology: smooth_series vs scipy savgol_filter",
                        measure(lambda: smooth_series(lazy, window=31, polyorder=2).compute(), repeat=5),
                        measure(lambda: savgol_filter(x.astype(np.float64), 31, 2, axis=0, mode="interp"), repeat=5)))
    check_baseline("bench_series", rows, config=f"demo, {args.pixels} px series", update=args.update_baseline)


if __name__ == "__main__":
    main()
