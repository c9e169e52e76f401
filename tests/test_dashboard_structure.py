"""Forest structure in the forest dashboard (issue 16): the structure analysis's products (height, its
interval width, volume, biomass) with their units, the table per forest type and the training line
against the workflow's result, one language per page, and in a real browser: choose the analysis,
press Calculer, wait for the map and the table.
"""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from terra_lab.dashboards._i18n import option_label, page_shows, param_label, tr
from terra_lab.dashboards.forest import ForestDashboard
from terra_lab.workflows.structure import StructureResult, structure_workflow

hv.extension("bokeh")

AOI = (6.28, 45.17, 6.34, 45.21)  # the dashboard's default area


@pytest.fixture(scope="module")
def structure(demo_root):
    from terra_lab.dashboards._shared_render import in_memory

    return in_memory(structure_workflow("demo", AOI, 2023, require_landcover=False))


def _board(result, **params):
    d = ForestDashboard(analysis="structure", **params)
    d.result = result
    return d


def _colourbar_title(d) -> str:
    from bokeh.models import ColorBar

    fig = hv.render(d.map_element()[0])
    return next(iter(fig.select(ColorBar))).title


# ------------------------------------------------------------------------------ the map
@pytest.mark.parametrize("product, units", [("height", "m"), ("height_interval", "m"), ("volume", "m³/ha"),
                                            ("agb", "Mg/ha")])
def test_each_product_is_the_workflow_map_on_the_forest_with_its_unit(structure, product, units):
    d = _board(structure, language="en")
    d.product = product  # the analysis offers it once chosen
    layer = d._layer(structure)
    shown = np.isfinite(layer.values)
    assert shown.sum() > 5000 and not shown[~np.isin(structure.forest_type.values, (16, 17))].any()
    assert np.allclose(layer.values[shown], structure.maps[product].values[shown])
    assert d._units(layer) == units and _colourbar_title(d) == units
    assert units in d._title(layer) and option_label("product", product, "en") in d._title(layer)
    assert d._categories(layer) is None and d._masked(structure, layer) is None


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_table_per_forest_type_and_the_training_line(structure, lang):
    d = _board(structure, language=lang)
    stats = d._statistics(structure)
    frame = stats[1].object
    assert list(frame[tr("col_forest_type", lang)]) == [tr(f"ftype_{n}", lang) for n in structure.table["forest type"]]
    sep = "," if lang == "fr" else "."
    for shown, value in zip(frame[tr("col_mean_height", lang)], structure.table["mean height (m)"], strict=True):
        assert float(shown.replace(",", ".")) == pytest.approx(value, abs=0.05) and sep in shown
    line = stats[0].object.replace("&#44;", ",").replace("&#46;", ".").replace("&#58;", ":")
    diag = structure.diagnostics
    assert f"{diag['rmse_m']:.1f}".replace(".", sep) in line and f" {diag['dropped']} " in line
    assert not page_shows(line + "\n".join(frame.columns), lang)


def test_clicked_pixel_gives_its_height_interval_volume_and_biomass(structure):
    d = _board(structure, language="fr")
    d.map_element()
    d._redraw()
    assert d._point.object == tr("structure_click_hint", "fr")
    maps = structure.maps
    rows, cols = np.nonzero(np.isfinite(maps["agb"].values))
    x, y = float(maps.x[cols[0]]), float(maps.y[rows[0]])
    _plot, text = d._point_series(x, y)
    h = float(maps["height"].values[rows[0], cols[0]])
    assert f"{h:.1f}".replace(".", ",") in text and "Mg/ha" in text and not page_shows(text, "fr")


# ------------------------------------------------------------------------------ the page
def test_structure_analysis_parameters_and_run_key():
    dieback, structure = ForestDashboard(), ForestDashboard(analysis="structure")
    assert structure.param["product"].objects == ["height", "height_interval", "volume", "agb"]
    assert structure.product == "height" and "structure" in structure._heading.object
    assert "map_year" in structure._visible_params() and "map_year" not in dieback._visible_params()
    expert = ForestDashboard(analysis="structure", mode="expert")
    assert {"structure_method", "footprint_collection"} <= set(expert._visible_params())
    assert dieback._run_key() != structure._run_key()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "expert"])
def test_structure_page_shows_one_language(structure, mode, lang):
    from test_dashboard_state import page_strings

    d = _board(structure, language=lang, mode=mode)
    d._show_result()
    frame = d._statistics(structure)[1].object
    texts = "\n".join(page_strings(d) + [str(c) for c in frame.columns] + list(frame.iloc[:, 0]))
    assert not page_shows(texts, lang), page_shows(texts, lang)
    assert param_label("map_year", lang) in texts and option_label("analysis", "structure", lang) in texts


def test_the_page_runs_the_structure_workflow(demo_root):
    d = ForestDashboard(analysis="structure", language="fr")
    d._on_compute()
    assert isinstance(d.result, StructureResult), d._message.object
    assert d._message.alert_type == "success"
    assert d._results.visible and d._map.object is not None


# ------------------------------------------------------------------------------ in a real browser
@pytest.fixture(scope="module")
def forest_server(demo_root, tmp_path_factory):
    from conftest import workshop_server

    with workshop_server("forest", tmp_path_factory) as url:
        yield url


def _wait_until_map_drawn(page, timeout_s: float = 60.0) -> None:
    """Wait until the first map canvas shows a picture (not a blank frame), as a person waits for it."""
    import time

    from conftest import assert_not_blank

    deadline = time.monotonic() + timeout_s
    while True:
        box = page.locator("canvas").first.bounding_box()
        try:
            assert box is not None
            assert_not_blank(page.screenshot(clip=box), "map")
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.wait_for_timeout(250)  # poll again: the map draws its frame, then the raster and basemap


@pytest.mark.slow
def test_structure_analysis_in_a_french_page_at_1280x720(forest_server, browser):
    """A French page: choose the structure analysis, press Calculer; the height map is drawn, the table
    per forest type and the training line show, and the page shows no English."""
    from conftest import ARTIFACTS, assert_in_viewport, assert_page_and_map_drawn
    from test_browser_dashboard import RUN, assert_one_language, open_dashboard

    lang = "fr"
    page = open_dashboard(browser, forest_server, "forest", lang)
    shot = ARTIFACTS / "forest_structure_dashboard_fr.png"
    try:
        first, chosen = option_label("analysis", "dieback", lang), option_label("analysis", "structure", lang)
        page.locator(f"select:has(option:text-is('{first}'))").select_option(label=chosen)
        page.wait_for_selector(f"text={param_label('map_year', lang)}", timeout=30_000)
        assert_one_language(page, lang, "structure analysis before a run")
        page.click(RUN.format(label=tr("compute", lang)))
        page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                               timeout=400_000)
        message = page.locator(".alert-success, .alert-warning, .alert-danger").first
        assert "alert-success" in message.get_attribute("class"), message.inner_text()
        assert_in_viewport(page, f".alert-success:has-text('{tr('done', lang)}')", "the message")
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_selector(f"text={tr('col_mean_height', lang)}", timeout=30_000)
        page.wait_for_selector(f"text={tr('ftype_conifer', lang)}", timeout=30_000)
        page.wait_for_selector("text=Apprentissage", timeout=30_000)
        _wait_until_map_drawn(page)
        assert_one_language(page, lang, "structure analysis after a run")
        assert_page_and_map_drawn(page, shot, "structure dashboard (fr) at 1280x720")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "forest_structure_dashboard_fr_failure.png"), full_page=True)
        raise
    finally:
        page.close()
