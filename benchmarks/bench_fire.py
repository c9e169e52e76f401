"""Fire severity: :func:`burn_severity` vs the same steps written in plain numpy.

Both take a cube of B8A and B12 with clouds (a burnt disc in a forest, ``--dates`` acquisitions
around the fire), keep the clear observations of 60-day windows before and after the fire, take
their per-pixel medians (``np.nanmedian``), form NBR, dNBR, RdNBR (Miller & Thode 2007) and RBR
(Parks et al. 2014) and classify dNBR with Key & Benson's levels.  Ours runs lazily under Dask
(2 threads) on (time=-1, y=256, x=256) chunks; the comparison on in-memory numpy arrays.
Ratio = ours / comparison (see ``_util.check_baseline``).

Run: ``python benchmarks/bench_fire.py [--size 768] [--dates 24] [--update-baseline]``.
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

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row

from terra_lab.products.fire import burn_severity

FIRE = pd.Timestamp("2023-07-22")


def make_cube(size: int, dates: int, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    time = FIRE + pd.to_timedelta((np.arange(dates) - dates // 2) * 5 + 2, unit="D") + pd.Timedelta(hours=10.5)
    yy, xx = np.mgrid[0:size, 0:size]
    sev = np.clip(1.2 - np.hypot(yy - size / 2, xx - size / 2) / (size / 4), 0, 1)
    after = (time > FIRE)[:, None, None]
    s = np.where(after, sev, 0.0)
    shape = (dates, size, size)
    nir = ((1 - s) * 0.42 + s * 0.10 + rng.normal(0, 0.004, shape)).astype(np.float32)
    swir = ((1 - s) * 0.09 + s * 0.19 + rng.normal(0, 0.004, shape)).astype(np.float32)
    cloud = rng.random(shape) < 0.3
    nir[cloud], swir[cloud] = 0.5, 0.3
    ds = xr.Dataset({"nir08": (("time", "y", "x"), nir), "swir22": (("time", "y", "x"), swir),
                     "cloud": (("time", "y", "x"), cloud)},
                    coords={"time": time, "y": 5e6 - 20.0 * np.arange(size), "x": 6e5 + 20.0 * np.arange(size)})
    return ds.rio.write_crs(32631)


def numpy_fire(v: dict, days: np.ndarray) -> dict:
    pre = (days >= FIRE - pd.Timedelta(days=60)) & (days < FIRE)
    post = (days > FIRE) & (days <= FIRE + pd.Timedelta(days=60))
    out = {}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels
        for name, sel in (("pre", pre), ("post", post)):
            n = np.where(v["cloud"][sel], np.nan, v["nir08"][sel])
            s = np.where(v["cloud"][sel], np.nan, v["swir22"][sel])
            mn, ms = np.nanmedian(n, axis=0), np.nanmedian(s, axis=0)
            out[name] = (mn - ms) / (mn + ms)
    d = (out["pre"] - out["post"]) * 1000
    out["dNBR"] = d
    out["RdNBR"] = d / np.sqrt(np.maximum(np.abs(out["pre"]), 0.001))
    out["RBR"] = d / (out["pre"] + 1.001)
    out["severity"] = np.digitize(d, [100, 270, 660])
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=768)
    p.add_argument("--dates", type=int, default=24)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    cube = make_cube(args.size, args.dates)
    lazy = cube.chunk(time=-1, y=256, x=256)
    v = {k: cube[k].values for k in cube.data_vars}
    days = pd.DatetimeIndex(cube.time.values).normalize()
    # agreement first: a benchmark of two different answers is meaningless
    ours = burn_severity(lazy, FIRE).compute()
    ref = numpy_fire(v, days)
    for k in ("dNBR", "RdNBR", "RBR"):
        np.testing.assert_allclose(ours[k].values, ref[k], rtol=1e-4, atol=1e-2)
    agree = float(np.mean(ours["severity"].values == ref["severity"]))
    print(f"{args.dates} dates x {args.size} x {args.size} px; dNBR classes agree with numpy on "
          f"{100 * agree:.3f} % of pixels; burnt {100 * float(ours['burnt'].mean()):.1f} %")
    with dask.config.set(scheduler="threads", num_workers=2):
        rows = [row("burn_severity (composites, dNBR, RdNBR, RBR, classes) vs numpy nanmedian",
                    measure(lambda: burn_severity(lazy, FIRE).compute(), repeat=3),
                    measure(lambda: numpy_fire(v, days), repeat=3))]
    check_baseline("bench_fire", rows, config=f"{args.size} px x {args.dates} dates", update=args.update_baseline)


if __name__ == "__main__":
    main()
