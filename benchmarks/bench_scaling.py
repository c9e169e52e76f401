"""Scale-out of one product: snow L2B + L3B on 1 and 2 worker processes, and on a 4x larger area.

The cube is generated lazily block by block on the workers (bench_snow.lazy_cube: no file
reads, so the figures measure the computation and Dask's scheduling, not the disk).  Each
configuration runs the whole product through :func:`terra_lab.cluster` (a LocalCluster of
worker processes with one thread each).  Peak memory is the cluster's, sampled by
``distributed.diagnostics.MemorySampler`` (sum over workers).

Run: ``python benchmarks/bench_scaling.py [--size 528] [--dates 70]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import table
from bench_snow import CHUNK, lazy_cube, ours

import terra_lab


def _run(client, size: int, n_dates: int, repeat: int = 2) -> tuple[float, float]:
    from distributed.diagnostics import MemorySampler

    cube, dem = lazy_cube(size, n_dates)
    ours(cube, dem, stream=True)  # warm-up: numba compiles on each worker
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        ms = MemorySampler()
        with ms.sample("run", interval=0.05):
            t0 = time.perf_counter()
            ours(cube, dem, stream=True)
            best = min(best, time.perf_counter() - t0)
        peak = max(peak, float(ms.to_pandas()["run"].max()) / 2**20)
    return best, peak


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=2 * CHUNK)
    p.add_argument("--dates", type=int, default=70)
    args = p.parse_args()
    n, t = args.size, args.dates
    results = {}
    for workers in (1, 2):
        with terra_lab.cluster(workers, dashboard_address=None) as client:
            for size in (n, 2 * n):
                results[workers, size] = _run(client, size, t)
    rows = []
    for (workers, size), (best, peak) in results.items():
        base = results[1, size][0]
        mpx = t * size * size / 1e6
        rows.append({"workers": workers, "area (px)": f"{size} x {size}", "Mpixel-dates": f"{mpx:.0f}",
                     "best s": f"{best:.2f}", "speed-up vs 1 worker": f"{base / best:.2f}x",
                     "cost vs base area": f"{best / results[workers, n][0]:.2f}x",
                     "cluster peak MiB": f"{peak:.0f}"})
    print(f"Snow L2B + L3B scaling ({t} dates, lazily generated cube, chunks {CHUNK} px, "
          f"{os.cpu_count()} cores); 4x the area should cost about 4x (linear), 2 workers about 0.5x")
    print(table(rows, ["workers", "area (px)", "Mpixel-dates", "best s", "speed-up vs 1 worker", "cost vs base area",
                       "cluster peak MiB"]))


if __name__ == "__main__":
    main()
