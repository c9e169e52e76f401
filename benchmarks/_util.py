"""Timing and peak-memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

__all__ = ["BASELINE", "TOLERANCE", "check_baseline", "measure", "read_muscate", "row", "table"]

#: Stored ratios (ours / comparison) per benchmark and row key: ``{"bench_x": {"key": ratio}}``.
BASELINE = Path(__file__).resolve().parent / "baseline.json"
#: A ratio may grow by this fraction over its baseline before the benchmark fails.  50 %: the
#: machines are shared (2 busy cores) and runs of a few seconds vary by 20-30 % between runs;
#: ratios cancel most of a machine's speed, not its load.  A real regression (a kernel losing its
#: compilation, a graph computed twice) costs 2x or more and is caught.
TOLERANCE = 0.5


class _PeakRSS:
    """Samples this process' resident memory every 2 ms; ``peak`` is the maximum above the start."""

    def __init__(self):
        self.proc = psutil.Process()
        self.start = self.proc.memory_info().rss
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss - self.start)
            time.sleep(0.002)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss - self.start)


def measure(fn: Callable[[], object], repeat: int = 3, warmup: int = 1) -> dict:
    """Best and median wall time (s) of ``fn`` and its peak extra resident memory (MiB)."""
    for _ in range(warmup):
        fn()
    times, peaks = [], []
    for _ in range(repeat):
        gc.collect()
        with _PeakRSS() as mem:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        peaks.append(mem.peak / 2**20)
    return {"best": min(times), "median": statistics.median(times), "peak_mib": max(peaks)}


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join([line, sep, *body])


def read_muscate(hrefs: list[str], threads: int = 2) -> list:
    """The practical limit of a read: each MUSCATE band file opened, decoded and scaled to float32
    reflectance (-10000 -> NaN) by a plain rasterio read, ``threads`` files at a time."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import rasterio

    def one(href):
        with rasterio.open(href) as ds:
            a = ds.read(1)
        out = a.astype(np.float32) * np.float32(1e-4)
        out[a == -10000] = np.nan
        return out

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, hrefs))


def row(key: str, ours: dict, comparison: dict) -> dict:
    """One benchmark row from two :func:`measure` results: times (best of the runs) and their ratio."""
    return {"key": key, "ours_s": ours["best"], "comparison_s": comparison["best"],
            "ratio": ours["best"] / max(comparison["best"], 1e-9), "peak_mib": ours["peak_mib"]}


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def check_baseline(benchmark: str, rows: list[dict], *, config: str = "", update: bool | None = None,
                   tolerance: float = TOLERANCE) -> None:
    """Print ``rows`` (from :func:`row`) beside the stored ratios; exit 1 when one regressed.

    ``config`` (the sizes, e.g. ``"512 px x 12 dates"``) is part of each stored key: a ratio depends
    on the problem size, so a run at other sizes is compared with nothing (shown as new), never
    with the baseline of the default sizes.

    A ratio above ``baseline x (1 + tolerance)`` is a regression: the script prints a loud message
    naming the benchmark and the rows and exits with status 1.  ``update`` (default: ``--update-baseline``
    on the command line) stores this run's ratios instead (written atomically: temp file + os.replace).
    """
    if update is None:
        update = "--update-baseline" in sys.argv
    stored = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    base = stored.get(benchmark, {})
    rows = [{**r, "key": f"{r['key']} @ {config}" if config else r["key"]} for r in rows]
    bad = []
    shown = []
    for r in rows:
        ref = base.get(r["key"])
        limit = None if ref is None else ref * (1 + tolerance)
        status = "new: run --update-baseline" if ref is None else "ok"
        if limit is not None and r["ratio"] > limit:
            status = "REGRESSED"
            bad.append(r["key"])
        shown.append({"key": r["key"], "ours s": f"{r['ours_s']:.3f}", "comparison s": f"{r['comparison_s']:.3f}",
                      "ratio": f"{r['ratio']:.2f}", "baseline": "-" if ref is None else f"{ref:.2f}",
                      "limit": "-" if limit is None else f"{limit:.2f}", "peak MiB": f"{r['peak_mib']:.0f}",
                      "status": "updated" if update else status})
    print(f"\n{benchmark}: ratio = ours / comparison (lower is better); fails above baseline x {1 + tolerance:.2f}")
    print(table(shown, ["key", "ours s", "comparison s", "ratio", "baseline", "limit", "peak MiB", "status"]))
    if update:
        fresh = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}  # other scripts may have written
        fresh[benchmark] = {**fresh.get(benchmark, {}), **{r["key"]: round(r["ratio"], 4) for r in rows}}
        _write_json_atomic(BASELINE, fresh)
        print(f"baseline of {benchmark} written to {BASELINE}")
        return
    if bad:
        print(f"\n!!! BENCHMARK REGRESSION in {benchmark}: {', '.join(bad)} - ratio above the stored baseline "
              f"x {1 + tolerance:.2f} ({BASELINE.name}).  Find the slowdown, or if it is intended run "
              f"`python benchmarks/{benchmark}.py --update-baseline`. !!!", file=sys.stderr, flush=True)
        sys.exit(1)
