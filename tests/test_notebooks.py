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


THEMES = ["snow", "water", "forest_health", "biodiversity_landscape", "land_cover", "niche_model"]


def test_every_workshop_theme_has_a_notebook_that_shows_the_real_theia_catalogue():
    names = {p.stem for p in NOTEBOOKS}
    assert set(THEMES) <= names, f"missing theme notebooks: {sorted(set(THEMES) - names)}"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        if path.stem in THEMES or path.stem == "quickstart":
            text = "\n".join(c.source for c in nb.cells)
            assert 'catalog.open("theia")' in text, f"{path.name} does not show the THEIA catalogue"
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name} is saved with outputs"
