"""Run every benchmark script in this folder, print their tables and a summary; exit 1 if any failed.

Each script compares its ratios (ours / comparison) with ``baseline.json`` and exits non-zero on a
regression (see ``_util.check_baseline``).  ``--update-baseline`` is passed on to every script.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    extra = ["--update-baseline"] if "--update-baseline" in sys.argv[1:] else []
    summary = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra])
        summary.append((script.name, rc, time.perf_counter() - t0))
    failed = [name for name, rc, _ in summary if rc != 0]
    print("\n=== summary ===")
    for name, rc, secs in summary:
        print(f"{name:32s} {'ok' if rc == 0 else f'FAILED (exit {rc})':18s} {secs:7.1f} s")
    if failed:
        print(f"\n!!! {len(failed)} benchmark(s) failed: {', '.join(failed)} !!!", file=sys.stderr)
        return 1
    print(f"\nall {len(summary)} benchmarks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
