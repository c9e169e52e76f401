"""The notebooks are tested documentation: each runs top to bottom on the demo archive, and every
theme notebook also on a catalogue that is not the demo's (``TERRA_LAB_CATALOG``)."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
THEMES = ["snow", "water", "forest", "biodiversity_landscape", "landcover", "niche_model"]
THEME_NOTEBOOKS = [p for p in NOTEBOOKS if p.stem in THEMES]
QUIET = ("quickstart", "map_search")
CATALOG_LINE = 'terra_lab.catalog.open(os.environ.get("TERRA_LAB_CATALOG", "demo"))'


def _execute(nb, tmp_path):
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    shown = {"image/png", "application/vnd.jupyter.widget-view+json"}
    assert any(o.output_type in ("display_data", "execute_result") and shown & set(o.get("data", {}))
               for c in nb.cells for o in c.get("outputs", [])), "the notebook shows no figure or widget"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, demo_root, tmp_path):
    nb = nbformat.read(path, as_version=4)
    _execute(nb, tmp_path)
    if path.stem in QUIET:  # the first notebooks a newcomer runs: no pink stderr box (warnings) at all
        stderr = [o.text for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.output_type == "stream" and o.name == "stderr"]
        assert not stderr, f"{path.name} writes to stderr: {stderr}"


@pytest.mark.slow
@pytest.mark.parametrize("path", THEME_NOTEBOOKS, ids=[p.stem for p in THEME_NOTEBOOKS])
def test_theme_notebook_runs_on_an_ingested_catalogue(path, ingested_catalog, tmp_path, monkeypatch):
    """Every input of the theme notebook comes from the catalogue named by TERRA_LAB_CATALOG (here one
    ingested from THEIA-format products, with its own collection ids); a last cell proves it was used."""
    monkeypatch.setenv("TERRA_LAB_CATALOG", str(ingested_catalog.root))
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        'assert str(cat.root) == os.environ["TERRA_LAB_CATALOG"], cat\nassert S2 == "SENTINEL2_L2A_THEIA", S2'))
    _execute(nb, tmp_path)


def test_every_workshop_theme_has_a_notebook_that_shows_the_real_theia_catalogue():
    names = {p.stem for p in NOTEBOOKS}
    assert set(THEMES) <= names, f"missing theme notebooks: {sorted(set(THEMES) - names)}"
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        if path.stem in THEMES or path.stem == "quickstart":
            text = "\n".join(c.source for c in nb.cells)
            assert 'catalog.open("theia")' in text, f"{path.name} does not show the THEIA catalogue"
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name} is saved with outputs"


@pytest.mark.parametrize("path", THEME_NOTEBOOKS, ids=[p.stem for p in THEME_NOTEBOOKS])
def test_theme_notebooks_take_their_inputs_from_the_catalogue(path):
    """The catalogue comes from TERRA_LAB_CATALOG, no code cell names a collection id (they are found by
    kind), and the demo truth is only read in cells that a markdown cell introduces as validation."""
    nb = nbformat.read(path, as_version=4)
    code = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    assert CATALOG_LINE in code[0][1], f"{path.name}: the first code cell must open the catalogue of TERRA_LAB_CATALOG"
    for i, src in code:
        ids = re.findall(r'"(THEIA_[A-Z0-9_]+|cop-dem[a-z0-9-]*|[A-Z0-9_]*_DEMO)"', src)
        assert not ids, f"{path.name} cell {i} names collections {ids}; find them with terra_lab.workflows.find_collection"
        if "demo_dir()" in src:
            intro = next(c.source for c in reversed(nb.cells[:i]) if c.cell_type == "markdown").lower()
            assert "truth" in intro and ("valid" in intro or "check" in intro or "vérification" in intro), (
                f"{path.name} cell {i} reads the demo truth without a markdown cell introducing it as validation")


def test_map_search_starts_with_the_search_map_and_quick_start_silences_only_all_nan():
    """map_search.ipynb opens on SearchMap (the launcher card says "Search on a map"); the quick start's only
    silenced warning is NumPy's expected all-NaN median, by message (nothing broader)."""
    by_stem = {p.stem: nbformat.read(p, as_version=4) for p in NOTEBOOKS}
    first_code = next(c.source for c in by_stem["map_search"].cells if c.cell_type == "code")
    assert "SearchMap(" in first_code
    quick = "\n".join(c.source for c in by_stem["quickstart"].cells if c.cell_type == "code")
    assert 'filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)' in quick
    assert "simplefilter" not in quick
