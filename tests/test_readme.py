"""The README's quick start runs as written on the demo catalogue (the first ```python block)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_quick_start_runs_on_the_demo(demo_root):
    text = README.read_text()
    section = text.split("## Quick start", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README quick start", "exec"), scope)  # noqa: S102 - the project's own README
    cube, ndvi = scope["cube"], scope["ndvi"]
    assert {"green", "red", "nir", "swir16", "cloud"} <= set(cube.data_vars)
    last = ndvi.where(~cube.cloud).isel(time=-1).compute()
    assert np.isfinite(last).mean() > 0.5 and float(last.max()) <= 1.0
    assert not bool((cube.red.isel(time=slice(0, 10)) == -1.0).any())  # no -10000 read as reflectance
