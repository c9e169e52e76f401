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
