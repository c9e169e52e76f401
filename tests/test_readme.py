"""The README's quick start runs as written on the demo catalogue (the first ```python block): in this
process, and pasted as one cell into a fresh notebook (a new Jupyter kernel) with no error and no warning.
tests/test_browser_search.py runs the same cell in JupyterLab in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def quick_start() -> str:
    section = README.read_text().split("## Quick start", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_quick_start_runs_on_the_demo(demo_root):
    code = quick_start()
    scope: dict = {}
    exec(compile(code, "README quick start", "exec"), scope)
    cube, ndvi = scope["cube"], scope["ndvi"]
    assert {"green", "red", "nir", "swir16", "cloud"} <= set(cube.data_vars)
    last = ndvi.where(~cube.cloud).isel(time=-1).compute()
    assert np.isfinite(last).mean() > 0.5 and float(last.max()) <= 1.0
    assert not bool((cube.red.isel(time=slice(0, 10)) == -1.0).any())  # no -10000 read as reflectance


@pytest.mark.slow
def test_readme_quick_start_pasted_into_a_fresh_notebook(demo_root, tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(quick_start().rstrip("\n"))]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[0].outputs
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"], "a warning is printed"
    shown = [o for o in outputs if o.output_type == "execute_result"]
    assert shown and "xarray.DataArray" in shown[-1]["data"]["text/plain"]  # the last line's NDVI
