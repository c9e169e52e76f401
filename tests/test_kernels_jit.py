"""The numba conventions of terra_lab/kernels/_jit.py hold for every kernel."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

import terra_lab.kernels
from terra_lab.kernels._jit import JIT_OPTIONS

KERNELS = Path(terra_lab.kernels.__file__).parent


def test_every_kernel_is_compiled_through_jit_module():
    for path in KERNELS.glob("*.py"):
        if path.name == "_jit.py":
            continue
        code = re.sub(r'"""(.|\n)*?"""', "", path.read_text())  # docstrings may name numba's decorators
        assert not re.search(r"\b(njit|guvectorize|vectorize)\s*\(|numba\.jit\(|@jit\(.*cache=", code), path.name


def test_block_kernels_share_the_stated_options():
    seen = 0
    for mod in pkgutil.iter_modules([str(KERNELS)]):
        module = importlib.import_module(f"terra_lab.kernels.{mod.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                seen += 1
                for opt, value in JIT_OPTIONS.items():
                    assert obj.targetoptions.get(opt, False) == value, (mod.name, name, opt)
    assert seen > 30


_SCRIPT = """
import json, numpy as np, pandas as pd, rioxarray, xarray as xr
from terra_lab.kernels import _snow as k
from terra_lab.kernels import _continuity as kc
hot = (k.l2b_block_histogram, k.l2b_block_codes, k.l3b_block, kc.cost_distance)
eager = {f.__name__: len(f.signatures) for f in hot}
from terra_lab.products.snow import snow_l2b, snow_l3b
t = pd.date_range("2023-09-01", periods=6, freq="10D")
rng = np.random.default_rng(0)
v = lambda lo, hi: (("time", "y", "x"), rng.uniform(lo, hi, (6, 24, 24)).astype("float32"))
cube = xr.Dataset({"green": v(0.05, 0.6), "red": v(0.05, 0.6), "swir16": v(0.02, 0.3),
                   "cloud": (("time", "y", "x"), rng.random((6, 24, 24)) < 0.2),
                   "shadow": (("time", "y", "x"), np.zeros((6, 24, 24), bool))},
                  coords={"time": t, "y": 5e6 - 20 * np.arange(24), "x": 6e5 + 20 * np.arange(24)}).chunk(time=-1)
dem = xr.DataArray(np.linspace(800, 2500, 24 * 24, dtype="float32").reshape(24, 24), dims=("y", "x"),
                   coords={"y": cube.y, "x": cube.x})
l2b = snow_l2b(cube, dem).compute()
snow_l3b(l2b.chunk(time=-1), 2023).compute()
from terra_lab.products.continuity import cost_distance
friction = xr.DataArray(rng.uniform(1, 5, (30, 30)), dims=("y", "x"),
                        coords={"y": 5e6 - 10 * np.arange(30), "x": 6e5 + 10 * np.arange(30)}).rio.write_crs(32631)
cost_distance(friction, friction > 4.9).compute()
after = {f.__name__: len(f.signatures) for f in hot}
print(json.dumps({"eager": eager, "after": after}))
"""


@pytest.mark.slow  # a fresh interpreter compiles the snow kernels (about a minute on 2 cores)
def test_hot_kernels_compile_eagerly_for_the_types_products_pass():
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=300, check=True)
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(n == 1 for n in counts["eager"].values()), counts  # compiled at import, before any call
    assert counts["after"] == counts["eager"], counts  # the product's calls used them: no new specialisation


_CACHE_SCRIPT = """
import json, os, stat, numba
before = numba.config.CACHE_DIR
from terra_lab.kernels import _dieback, _snow as k
from terra_lab.kernels._jit import cache_dir
root = cache_dir()
print(json.dumps({"hits": sum(sum(f.stats.cache_hits.values()) for f in (k.l3b_block, k.l2b_block_codes)),
                  "misses": sum(sum(f.stats.cache_misses.values()) for f in (k.l3b_block, k.l2b_block_codes)),
                  "dir": str(root), "modes": [stat.S_IMODE(os.stat(p).st_mode) for p in (root, root.parent)],
                  "files": sorted(os.listdir(next(root.iterdir()))), "config_kept": numba.config.CACHE_DIR == before}))
"""


def _run_cached(home: Path, **env) -> dict:
    import os

    out = subprocess.run([sys.executable, "-c", _CACHE_SCRIPT], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "TERRA_LAB_HOME": str(home), **env})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_compiled_kernels_are_cached_in_a_private_folder_and_loaded_by_the_next_process(tmp_path):
    """A cold start compiles and saves the snow block kernels; the next process loads them; the
    folder is the user's own (0700) under TERRA_LAB_HOME, named after the sources; numba's setting
    for other libraries is untouched.  Per-pixel gufuncs are never cached: numba 0.68's gufuncs
    loaded from its cache crashed the process when Dask threads called them (dieback)."""
    first, second = _run_cached(tmp_path), _run_cached(tmp_path)
    assert first["dir"].startswith(str(tmp_path / "numba-cache")) and first["dir"] == second["dir"]
    assert first["modes"] == [0o700, 0o700] and first["config_kept"]
    assert not any(f.startswith("guf-") for f in first["files"]), first["files"]
    assert any(f.startswith("_snow.l3b_block") for f in first["files"]), first["files"]
    assert first["misses"] == 2 and first["hits"] == 0, first
    assert second["hits"] == 2 and second["misses"] == 0, second


def test_no_cache_in_a_folder_that_is_not_the_users_own(tmp_path, monkeypatch):
    """A shared TERRA_LAB_HOME of another user (an admin's demo archive) and no private home: the
    kernels compile in memory, nothing is written in a folder another user could read or write."""
    import os

    from terra_lab.kernels import _jit

    monkeypatch.setenv("TERRA_LAB_HOME", str(tmp_path / "shared"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)  # every folder reads as another user's
    _jit.cache_dir.cache_clear()
    try:
        assert _jit.cache_dir() is None
    finally:
        _jit.cache_dir.cache_clear()
    monkeypatch.setattr(os, "geteuid", os.getuid)
    monkeypatch.setenv("TERRA_LAB_JIT_CACHE", "0")
    try:
        assert _jit.cache_dir() is None
    finally:
        _jit.cache_dir.cache_clear()
