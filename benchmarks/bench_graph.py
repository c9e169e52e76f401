"""Graph construction of terra_lab.load for 1,000 items x 16 variables (10 bands + 6 mask layers).

The items are copies of the demo's THEIA items (their files: nothing is read), dated over
several years as ``bench_catalog.py`` makes them.  Printed: the median time of ``load`` (no
pixel read, no compute), split into its phases (``plan_load``, ``stack``, ``decode_masks``: the
solar-day grouping and the graph's layers, the mask layers decoded in their own tasks, no xarray
operation), the process' CPU time (what a loaded machine does not inflate), and the number of
tasks of the resulting graph.  Target (issue 14): < 0.3 s.

Run: ``python benchmarks/bench_graph.py [--items 1000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from _util import table
from bench_catalog import _shifted

import terra_lab
from terra_lab.cube._load import _as_dicts, _prepared, decode_masks, plan_load, stack
from terra_lab.profiles import profile_for_item

DEFAULTS = dict(bands=None, resolution=None, bbox=None, crs=None, chunks=None, masks=True, raw_masks=False, level=None,
                group_by="solar_day", resampling="nearest", on_error="raise", max_bytes=None, like=None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--items", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    demo = terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A").items
    many = [_shifted(demo[i % len(demo)], i, years=3 * (i // len(demo))) for i in range(args.items)]
    cube = terra_lab.load(many)  # warm-up (imports, caches)
    n_vars, n_tasks = len(cube.data_vars), len(cube.__dask_graph__())
    times: dict[str, list[float]] = {"load (total)": [], "plan_load": [], "stack": [], "decode_masks": []}
    cpu: list[float] = []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        terra_lab.load(many)
        times["load (total)"].append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        items = _prepared(_as_dicts(many))
        plan = plan_load(items, profile_for_item(items[0]), **DEFAULTS)
        t1 = time.perf_counter()
        stacked = stack(plan)
        t2 = time.perf_counter()
        decode_masks(stacked, plan)
        t3 = time.perf_counter()
        times["plan_load"].append(t1 - t0)
        times["stack"].append(t2 - t1)
        times["decode_masks"].append(t3 - t2)
    rows = [{"phase": k, "median ms": f"{statistics.median(v) * 1000:.0f}", "best ms": f"{min(v) * 1000:.0f}"}
            for k, v in times.items()]
    rows[0]["target"] = "< 300 ms"
    rows[0]["CPU ms (median)"] = f"{statistics.median(cpu) * 1000:.0f}"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load() graph: {args.items} items, {n_vars} variables, {cube.sizes['time']} dates (solar days), "
          f"{n_tasks} tasks; {args.repeat} rounds; load average {load}")
    print("The items are copies of the 110 demo items (two UTM zones: the direct graph of cube/_graph.py, files of "
          "the other zone warped in its tasks); CPU s is the process's own time, less sensitive to a loaded machine.")
    print(table(rows, ["phase", "median ms", "best ms", "CPU ms (median)", "target"]))


if __name__ == "__main__":
    main()
