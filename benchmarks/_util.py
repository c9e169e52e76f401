"""Timing and peak-memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import gc
import statistics
import threading
import time
from collections.abc import Callable

import psutil

__all__ = ["measure", "read_muscate", "table"]


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
