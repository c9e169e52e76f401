"""The notebooks are tested documentation: each runs top to bottom on the demo archive."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, demo_root, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    shown = {"image/png", "application/vnd.jupyter.widget-view+json"}
    assert any(o.output_type in ("display_data", "execute_result") and shown & set(o.get("data", {}))
               for c in nb.cells for o in c.get("outputs", [])), "the notebook shows no figure or widget"
