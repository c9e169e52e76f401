"""Biophysical networks (LAI, FAPAR, FCOVER, CCC, CWC with their flags): terra_lab vs a vectorised numpy pass.

* terra_lab kernel: :func:`terra_lab.kernels._biophysical.biophysical_block` (numba, one thread)
  on ``size x size`` pixels: the five networks, the definition-domain test (min/max and grid) and
  the output flags in one pass over the pixels.
* terra_lab end to end: :func:`terra_lab.products.biophysical.biophysical` on a Dask cube of the
  same pixels (chunks 512, 2 threads), computed.
* comparison: the same work in vectorised numpy (matrix products and ``np.tanh`` per network,
  ``np.isin`` of the packed grid cells, masks for the flags), as a numpy user would write it.

Also prints the retrieval's RMSE on PROSAIL canopies (``tests/_prosail_s2.py``, the simulation
the tests use) next to the ATBD's figure.

Run: ``python benchmarks/bench_biophysical.py [--size 2000] [--prosail 300]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))  # the tests' PROSAIL simulation
from _prosail_s2 import simulate
from _util import check_baseline, measure, row, table

from terra_lab.kernels import _biophysical as k
from terra_lab.products._snap_weights import networks
from terra_lab.products.biophysical import BIOPHYSICAL_BANDS, BIOPHYSICAL_VARIABLES, _run, biophysical

VARIABLES = tuple(BIOPHYSICAL_VARIABLES)
#: ATBD v1.1 (Weiss & Baret 2016) LAI RMSE on its simulated test set, as the issue quotes it.
ATBD_LAI_RMSE = 0.89


def pixels(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` reflectance rows spread over the definition domain and their angle cosines."""
    rng = np.random.default_rng(seed)
    nets = networks(VARIABLES)
    refl = rng.uniform(nets.dmin, nets.dmax, (n, 8)).astype(np.float32)
    cosines = np.cos(np.radians(np.column_stack([rng.uniform(0, 10, n), rng.uniform(20, 60, n),
                                                 rng.uniform(0, 360, n)]))).astype(np.float32)
    return refl, cosines


def numpy_pass(refl: np.ndarray, cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The networks, domain test and flags in vectorised numpy."""
    nets = networks(VARIABLES)
    x = np.hstack([refl, cosines]).astype(np.float64)
    xn = 2.0 * (x - nets.norm[:, 0]) / (nets.norm[:, 1] - nets.norm[:, 0]) - 1.0
    r = x[:, :8]
    outside = ((r < nets.dmin) | (r > nets.dmax)).any(axis=1)
    cells = np.floor(10.0 * (r - nets.dmin) / (nets.dmax - nets.dmin) + 1.0).astype(np.int64)
    codes = (cells << (4 * np.arange(8))).sum(axis=1)
    outside |= ~np.isin(codes, nets.grid)
    values = np.empty((len(x), len(VARIABLES)), np.float32)
    flags = np.empty((len(x), len(VARIABLES)), np.uint8)
    for v in range(len(VARIABLES)):
        y = np.tanh(xn @ nets.w1[v].T + nets.b1[v]) @ nets.w2[v] + nets.b2[v]
        out = 0.5 * (y + 1.0) * (nets.denorm[v, 1] - nets.denorm[v, 0]) + nets.denorm[v, 0]
        tol, lo, hi = nets.extremes[v]
        f = np.where(outside, k.INPUT_OUT_OF_DOMAIN, 0)
        low, high = out < lo - tol, out > hi + tol
        to_min, to_max = (out < lo) & ~low, (out > hi) & ~high
        f = f | np.where(low, k.OUTPUT_TOO_LOW, 0) | np.where(high, k.OUTPUT_TOO_HIGH, 0)
        f = f | np.where(to_min, k.OUTPUT_CLIPPED_TO_MIN, 0) | np.where(to_max, k.OUTPUT_CLIPPED_TO_MAX, 0)
        values[:, v] = np.where(to_min, lo, np.where(to_max, hi, out))
        flags[:, v] = f
    return values, flags


def cube_of(refl: np.ndarray, size: int) -> xr.Dataset:
    data = {b: (("time", "y", "x"), refl[:, i].reshape(1, size, size)) for i, b in enumerate(BIOPHYSICAL_BANDS)}
    ds = xr.Dataset(data, coords={"time": [np.datetime64("2024-06-01T10:30")], "y": 5e6 - 20.0 * np.arange(size),
                                  "x": 6e5 + 20.0 * np.arange(size)})
    return ds.rio.write_crs(32631).chunk(time=1, y=512, x=512)


def prosail_report(n: int) -> list[dict]:
    sim = simulate(n, seed=0)
    cosines = np.cos(np.radians(np.column_stack([sim["view_zenith"], sim["sun_zenith"], sim["relative_azimuth"]])))
    values, _ = _run(sim["refl"].astype(np.float32), cosines.astype(np.float32), VARIABLES)
    rows = []
    for i, name in enumerate(VARIABLES):
        ok = np.isfinite(values[:, i])
        err = values[ok, i] - sim[name][ok]
        rows.append({"variable": name, "rmse": f"{np.sqrt(np.mean(err ** 2)):.3f}", "bias": f"{err.mean():.3f}",
                     "r": f"{np.corrcoef(values[ok, i], sim[name][ok])[0, 1]:.3f}",
                     "atbd_rmse": str(ATBD_LAI_RMSE) if name == "lai" else "-"})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--prosail", type=int, default=300)
    ap.add_argument("--update-baseline", action="store_true")
    args = ap.parse_args()
    size = args.size
    refl, cosines = pixels(size * size)

    v_ours, f_ours = _run(refl, cosines, VARIABLES)
    v_np, f_np = numpy_pass(refl, cosines)
    np.testing.assert_allclose(v_ours, v_np, rtol=1e-4, atol=1e-4)
    assert (f_ours == f_np).mean() > 0.9999, "flags differ"

    cube = cube_of(refl, size)
    ours_kernel = measure(lambda: _run(refl, cosines, VARIABLES))
    with dask.config.set(scheduler="threads", num_workers=2):
        ours_e2e = measure(lambda: biophysical(cube, sun_zenith=40.0, view_zenith=5.0, relative_azimuth=90.0).compute())
    comparison = measure(lambda: numpy_pass(refl, cosines))
    config = f"{size}x{size} px, 5 networks"
    rows = [row("kernel (1 thread)", ours_kernel, comparison), row("end to end (dask, 2 threads)", ours_e2e, comparison)]
    print(f"biophysical networks on {config}: terra_lab vs vectorised numpy (same values and flags)")
    print(table([{**r, "ours_s": f"{r['ours_s']:.3f}", "comparison_s": f"{r['comparison_s']:.3f}",
                  "ratio": f"{r['ratio']:.2f}", "peak_mib": f"{r['peak_mib']:.0f}",
                  "comparison_peak_mib": f"{comparison['peak_mib']:.0f}"} for r in rows],
                ["key", "ours_s", "comparison_s", "ratio", "peak_mib", "comparison_peak_mib"]))
    print(f"\nretrieval on {args.prosail} PROSAIL canopies (tests/_prosail_s2.py) vs the ATBD")
    print(table(prosail_report(args.prosail), ["variable", "rmse", "bias", "r", "atbd_rmse"]))
    check_baseline("bench_biophysical", rows, config=config, update=args.update_baseline or None)


if __name__ == "__main__":
    main()
