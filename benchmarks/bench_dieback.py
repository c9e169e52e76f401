"""fordead dieback throughput on a synthetic 5-year cube: terra_lab vs a straightforward per-pixel numpy version.

* terra_lab, end to end: :func:`forest_dieback` on the reflectance cube (index, masks, training,
  detection; numba kernel under Dask, 2 threads), chunks (time=-1, 128, 128).
* terra_lab kernel only: :func:`terra_lab.kernels._dieback.dieback_pixel` on the masked index
  already in memory (one thread), the same work as the numpy version below.
* per-pixel numpy: for each pixel, ``np.linalg.lstsq`` on its valid training dates and a Python
  loop over its detection dates (anomalies, 3-date confirmation, stress index).  Too slow for
  the whole cube: timed on a random subset of pixels and scaled per pixel (said in the table).

Run: ``python benchmarks/bench_dieback.py [--size 256] [--dates 365] [--subset 400]``.
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

from terra_lab.kernels import _dieback as k
from terra_lab.products.dieback import _days, forest_dieback, masked_vegetation_index

CHUNK = 128
CONIFER = {"blue": 0.02, "nir08": 0.28, "swir16": 0.13, "swir22": 0.06}
DEAD = {"blue": 0.05, "nir08": 0.23, "swir16": 0.29, "swir22": 0.20}


def synthetic(size: int, n_dates: int, seed: int = 0) -> xr.Dataset:
    """Conifer stands with a seasonal cycle, noise, patchy clouds (NaN + cloud layer) and attacks in years 4-5."""
    rng = np.random.default_rng(seed)
    time = pd.date_range("2016-01-03", periods=n_dates, freq="5D") + pd.Timedelta(hours=10.5)
    doy = time.dayofyear.values[:, None, None].astype(np.float32)
    season = (0.012 * np.sin(2 * np.pi * doy / 365.25)).astype(np.float32)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    onset = np.full((size, size), np.inf, np.float32)
    for cy, cx, r, day in ((0.3, 0.3, 0.12, 1200), (0.7, 0.6, 0.1, 1450), (0.5, 0.85, 0.06, 1600)):
        onset[np.hypot(yy / size - cy, xx / size - cx) < r] = day
    t = ((time - time[0]) / pd.Timedelta(days=1)).values.astype(np.float32)[:, None, None]
    stress = np.clip((t - onset[None]) / 45.0, 0, 1)
    # clouds: smooth blobs moving with time, about 35 % of the pixel-dates
    cloud = (np.sin(xx[None] / 23.0 + t * 0.9) * np.cos(yy[None] / 17.0 - t * 0.4)) > 0.45
    data = {}
    for b in CONIFER:
        v = (1 - stress) * CONIFER[b] + stress * DEAD[b]
        if b in ("nir08", "swir16"):
            v = v + season
        v = v + rng.normal(0, 0.004, v.shape).astype(np.float32)
        v[cloud] = np.nan
        data[b] = v.astype(np.float32)
    ds = xr.Dataset({b: (("time", "y", "x"), v) for b, v in data.items()},
                    coords={"time": time, "y": 5e6 - 20.0 * np.arange(size), "x": 6e5 + 20.0 * np.arange(size)})
    ds["cloud"] = (("time", "y", "x"), cloud)
    return ds.rio.write_crs(32631)


def numpy_per_pixel(vi: np.ndarray, days: np.ndarray, i_min: int, n_max: int, nb_min: int = 10,
                    threshold: float = 0.16) -> tuple[np.ndarray, np.ndarray]:
    """The same training + detection, one pixel at a time: lstsq, then a Python loop over the dates."""
    npx, nt = vi.shape
    design = np.stack([np.ones_like(days), np.sin(2 * np.pi * days / 365.25), np.cos(2 * np.pi * days / 365.25),
                       np.sin(4 * np.pi * days / 365.25), np.cos(4 * np.pi * days / 365.25)], axis=1)
    first = np.full(npx, -1, np.int64)
    stress = np.full(npx, np.nan)
    for p in range(npx):
        valid = ~np.isnan(vi[p])
        cum = np.cumsum(valid[:n_max])
        cand = np.nonzero((np.arange(len(cum)) >= i_min) & (cum > nb_min))[0]
        if len(cand) == 0:
            continue
        d = cand[0]
        use = valid[:d]
        coef = np.linalg.lstsq(design[:d][use], vi[p, :d][use], rcond=None)[0]
        state, count, unconf, conf, cum_diff, n = False, 0, -1, -1, 0.0, 0
        for t in range(d, nt):
            if not valid[t]:
                continue
            diff = vi[p, t] - design[t] @ coef
            if (diff > threshold) != state:
                count += 1
                if count == 1:
                    unconf = t
            else:
                count = 0
            if count == 3:
                state, count = not state, 0
                if state:
                    conf = unconf
            if not state and count == 0:
                cum_diff, n = 0.0, 0
            else:
                n += 1
                cum_diff += diff * n
        if state:
            first[p] = conf
            stress[p] = cum_diff / (n * (n + 1) / 2)
    return first, stress


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--dates", type=int, default=365)
    p.add_argument("--subset", type=int, default=400)
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    n, nt = args.size, args.dates
    cube = synthetic(n, nt)
    chunked = cube.chunk(time=-1, y=CHUNK, x=CHUNK)
    kw = dict(training_end="2018-01-01", training_max_end="2018-06-01")
    mpd = nt * n * n / 1e6

    def ours():
        return forest_dieback(chunked, **kw).compute()

    with dask.config.set(scheduler="threads", num_workers=2):
        r_ours = measure(ours, repeat=3)
        res = ours()
    masked = masked_vegetation_index(cube)["vi"].transpose("y", "x", "time").values.reshape(n * n, nt)
    days = _days(cube["time"].values)
    t_day = pd.DatetimeIndex(cube["time"].values).normalize()
    i_min = int(np.sum(t_day < pd.Timestamp(kw["training_end"])))
    n_max = int(np.sum(t_day <= pd.Timestamp(kw["training_max_end"])))
    soil = np.zeros_like(masked, dtype=np.uint8)
    design = k.harmonic_design(days)

    def kernel_only():
        return k.dieback_pixel(masked, soil, design, i_min, n_max, 10, 0.16, 1.0, 1.0, 5)

    r_kernel = measure(kernel_only, repeat=3)
    rng = np.random.default_rng(1)
    sub = rng.choice(n * n, size=min(args.subset, n * n), replace=False)
    r_np = measure(lambda: numpy_per_pixel(masked[sub], days, i_min, n_max), repeat=1, warmup=0)
    first_np, _stress_np = numpy_per_pixel(masked[sub], days, i_min, n_max)
    i_die = kernel_only()[4]
    agree = float(np.mean(i_die[sub] == first_np))
    scale = n * n / len(sub)
    rows = []
    for name, r, f in (("terra_lab forest_dieback, end to end (numba, dask 2 threads)", r_ours, 1.0),
                       ("terra_lab kernel only on the masked index (1 thread)", r_kernel, 1.0),
                       (f"per-pixel numpy lstsq + Python loop (timed on {len(sub)} px, scaled x{scale:.0f})",
                        r_np, scale)):
        t = r["best"] * f
        rows.append({"method": name, "best s": f"{t:.2f}", "Mpixel-dates/s": f"{mpd / t:.2f}",
                     "ratio to terra_lab": f"{t / r_ours['best']:.1f}x",
                     "peak MiB": f"{r['peak_mib']:.0f}" + (" (subset)" if f != 1.0 else "")})
    det = int((res.state.values == k.DIEBACK).sum())
    print(f"fordead dieback, {nt} dates x {n} x {n} px ({mpd:.0f} Mpixel-dates, ~35 % cloudy, in memory); "
          f"{det} pixels detected; detection-date agreement terra_lab vs numpy on the subset: {100 * agree:.2f} %")
    print(table(rows, ["method", "best s", "Mpixel-dates/s", "ratio to terra_lab", "peak MiB"]))
    r_np_all = {**r_np, "best": r_np["best"] * scale}  # the subset timing scaled to the whole cube
    check_baseline("bench_dieback", [row("dieback: forest_dieback vs per-pixel numpy lstsq", r_ours, r_np_all),
                                     row("dieback: kernel only vs per-pixel numpy lstsq", r_kernel, r_np_all)],
                   config=f"{n} px x {nt} dates", update=args.update_baseline)


if __name__ == "__main__":
    main()
