"""Fire severity in the forest dashboard (issue 16), without a browser: the fire workflow on the
demo's fire (22 July 2023, south of the lake), its map layer and severity legend in French and
English, the burnt area per class in the table against the workflow's result, the run key of each
analysis, and the dieback page unchanged by default.
"""

import re

import holoviews as hv
import numpy as np
import pytest

from terra_lab.dashboards._i18n import option_label, page_shows, param_label, tr
from terra_lab.dashboards.forest import ForestDashboard
from terra_lab.products.fire import NO_CLASS, SEVERITY_SCHEMES
from terra_lab.workflows.fire import BURNABLE_CLASSES, FireResult, FireSettings, fire_workflow

hv.extension("bokeh")

AOI = (6.28, 45.17, 6.34, 45.21)  # the dashboard's default area
FIRE_DATE = "2023-07-22"


@pytest.fixture(scope="module")
def fire(demo_root):
    return fire_workflow("demo", AOI, FIRE_DATE, require_landcover=False)


def _board(result, **params):
    d = ForestDashboard(analysis="fire", **params)
    d.result = result
    return d


def _colourbar_labels(d) -> list[str]:
    from bokeh.models import ColorBar

    overlay, _ = d.map_element()
    fig = hv.render(overlay)
    return list(next(iter(fig.select(ColorBar))).major_label_overrides.values())


def _table(d):
    return d._statistics(d.result)[1].object


# ------------------------------------------------------------------------------ the workflow
def test_fire_workflow_on_the_demo(fire):
    assert isinstance(fire, FireResult) and fire.notes == ()
    assert fire.provenance["landcover_collection"] == "THEIA_OSO_RASTER_L3B"      # the catalogue's OSO, by kind
    assert fire.provenance["burnable_classes"] == list(BURNABLE_CLASSES)
    assert fire.severity.attrs["pre_window"] == "2023-05-23/2023-07-21"
    burnt = fire.severity["burnt"].values
    assert burnt.any() and not (burnt & ~fire.burnable.values).any()                # burnt only on burnable land
    # the table: every Key & Benson class, burnt pixels per class adding up to the burnt area
    assert list(fire.classes["name"]) == list(SEVERITY_SCHEMES["key_benson"].labels)
    assert fire.classes["pixels"].sum() == burnt.sum()
    assert fire.classes["area (ha)"].sum() == pytest.approx(fire.burnt_ha, abs=0.01)
    assert fire.burnt_ha == pytest.approx(burnt.sum() * 0.04)                        # 20 m pixels: 0.04 ha
    assert 5.0 < fire.burnt_ha < 100.0                                             # a scar, not the whole scene


def test_fire_workflow_checks_its_inputs(demo_root):
    from terra_lab.errors import DateRangeError

    with pytest.raises(DateRangeError, match="fire_date"):
        fire_workflow("demo", AOI, None)
    with pytest.raises(ValueError, match="key_benson"):
        fire_workflow("demo", AOI, FIRE_DATE, FireSettings(scheme="nbr"))


# ------------------------------------------------------------------------------ the map
def test_severity_layer_is_the_classes_on_the_burnable_land(fire):
    d = _board(fire)
    assert d.product == "severity"
    layer = d._layer(fire)
    values = layer.values[np.isfinite(layer.values)]
    assert set(np.unique(values)) <= {0.0, 1.0, 2.0, 3.0} and {1.0, 2.0, 3.0} <= set(np.unique(values))
    assert np.isnan(layer.values[~fire.burnable.values]).all()                      # nothing outside the mask
    assert layer.name == "severity" and "flag_values" not in layer.attrs
    # the index layers: the same pixels, the workflow's values
    d.product = "dNBR"
    dnbr = d._layer(fire)
    shown = np.isfinite(dnbr.values)
    assert np.array_equal(shown, np.isfinite(layer.values))
    assert np.allclose(dnbr.values[shown], fire.severity["dNBR"].values[shown])
    assert d._cmap() == "RdYlGn_r"


@pytest.mark.parametrize("lang, names, absent", [("fr", ["non brûlé", "faible", "modérée", "forte"], ["high"]),
                                                  ("en", ["unburnt", "low", "moderate", "high"], ["forte"])])
def test_severity_legend_names_the_key_and_benson_classes_in_the_page_language(fire, lang, names, absent):
    d = _board(fire, language=lang)
    from bokeh.models import HoverTool

    assert _colourbar_labels(d) == names
    assert d._title(d._layer(fire)) == option_label("product", "severity", lang)
    fig = hv.render(d.map_element()[0])
    code = next(t for t in fig.select(HoverTool) if t.formatters).formatters["@image"].code
    assert all(n in code for n in names) and not any(f'"{a}"' in code for a in absent)


def test_seven_usgs_levels_when_that_scheme_is_chosen(demo_root):
    result = fire_workflow("demo", AOI, FIRE_DATE, FireSettings(scheme="key_benson_usgs"), require_landcover=False)
    labels = _colourbar_labels(_board(result, language="en"))
    assert labels == list(SEVERITY_SCHEMES["key_benson_usgs"].labels)
    assert len(_colourbar_labels(_board(result, language="fr"))) == 7


def test_clicked_pixel_gives_its_nbr_and_class(fire):
    d = _board(fire, language="fr")
    d.map_element()
    rows, cols = np.nonzero(fire.severity["severity"].values == 3)
    x, y = float(fire.severity.x[cols[0]]), float(fire.severity.y[rows[0]])
    d._redraw()
    assert d._point.object == tr("fire_click_hint", "fr")
    _plot, text = d._point_series(x, y)
    assert "forte" in text and "dNBR" in text and not page_shows(text, "fr")


# ------------------------------------------------------------------------------ the table
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_table_gives_the_burnt_area_per_class_as_the_workflow(fire, lang):
    d = _board(fire, language=lang)
    frame = _table(d)
    area = frame[tr("col_burnt_ha", lang)]
    sep = "," if lang == "fr" else "."
    for shown, value in zip(area, fire.classes["area (ha)"], strict=True):
        assert re.fullmatch(rf"\d+{re.escape(sep)}\d\d", shown)
        assert float(shown.replace(",", ".")) == pytest.approx(value, abs=0.005)
    assert list(frame[tr("col_severity", lang)]) == [tr(f"sev_{n}", lang) for n in fire.classes["name"]]
    total = d._statistics(fire)[0].object
    assert f"{fire.burnt_ha:.1f}".replace(".", sep) in total.replace("&#44;", ",").replace("&#46;", ".")


# ------------------------------------------------------------------------------ the page
def test_run_key_differs_between_analyses_and_dieback_stays_the_default():
    dieback, fire = ForestDashboard(), ForestDashboard(analysis="fire")
    assert dieback.analysis == "dieback" and dieback.product == "state"
    assert dieback.param["product"].objects == ["state", "dieback_date", "confidence_index"]
    assert fire.param["product"].objects == ["severity", "dNBR", "RdNBR", "RBR"]
    assert dieback._run_key() != fire._run_key()
    assert "fire_date" in fire._visible_params() and "fire_date" not in dieback._visible_params()
    dieback.analysis = "fire"            # switching the page: the fire products and heading
    assert dieback.product == "severity" and dieback._run_key() == fire._run_key()
    assert "feux" in dieback._heading.object


def test_switching_analysis_keeps_the_shown_result_drawable(fire):
    d = _board(fire)
    d.analysis = "dieback"               # the fire result is still the page's: its map stays drawn
    assert d.product == "state" and d._layer(fire).name == "severity"
    d._show_result()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "standard", "expert"])
def test_fire_page_shows_one_language(fire, mode, lang):
    from test_dashboard_state import page_strings

    d = _board(fire, language=lang, mode=mode)
    d._show_result()
    texts = "\n".join(page_strings(d) + [str(c) for c in _table(d).columns] + list(_table(d).iloc[:, 0]))
    assert not page_shows(texts, lang), page_shows(texts, lang)
    assert param_label("analysis", lang) in texts and option_label("analysis", "fire", lang) in texts


def test_the_page_runs_the_fire_workflow(demo_root):
    d = ForestDashboard(analysis="fire", language="fr")
    d._on_compute()
    assert isinstance(d.result, FireResult), d._message.object
    assert d._message.alert_type == "success"
    assert d._results.visible and d._map.object is not None
    assert (d.result.severity["severity"].values != NO_CLASS).any()


# ------------------------------------------------------------------------------ in a real browser
@pytest.fixture(scope="module")
def forest_server(demo_root, tmp_path_factory):
    from conftest import workshop_server

    with workshop_server("forest", tmp_path_factory) as url:
        yield url


@pytest.mark.slow
def test_fire_analysis_in_a_french_page_at_1280x720(forest_server, browser):
    """A French page: choose the fire analysis, run; the severity map is not blank and the page shows
    no English (the classes, the table, the parameters)."""
    from conftest import ARTIFACTS, assert_in_viewport, assert_page_and_map_drawn
    from test_browser_dashboard import RUN, assert_one_language, open_dashboard

    lang = "fr"
    page = open_dashboard(browser, forest_server, "forest", lang)
    run = RUN.format(label=tr("compute", lang))
    shot = ARTIFACTS / "forest_fire_dashboard_fr.png"
    try:
        first, fire = option_label("analysis", "dieback", lang), option_label("analysis", "fire", lang)
        page.locator(f"select:has(option:text-is('{first}'))").select_option(label=fire)
        page.wait_for_selector(f"text={param_label('fire_date', lang)}", timeout=30_000)
        assert_one_language(page, lang, "fire analysis before a run")
        page.click(run)
        page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                               timeout=300_000)
        message = page.locator(".alert-success, .alert-warning, .alert-danger").first
        assert "alert-success" in message.get_attribute("class"), message.inner_text()
        assert_in_viewport(page, f".alert-success:has-text('{tr('done', lang)}')", "the message")
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_selector(f"text={tr('col_burnt_ha', lang)}", timeout=30_000)
        page.wait_for_timeout(3000)  # the first rasterised frame and the basemap
        assert_one_language(page, lang, "fire analysis after a run")
        assert_page_and_map_drawn(page, shot, "fire dashboard (fr) at 1280x720")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "forest_fire_dashboard_fr_failure.png"), full_page=True)
        raise
    finally:
        page.close()


def test_masked_grey_only_on_the_burnable_land(fire):
    d = _board(fire)
    masked = d._masked(fire).values
    assert not (masked & ~fire.burnable.values).any()   # outside the images or the mask: no data, not grey
    unclear = (fire.severity["n_pre"].values == 0) | (fire.severity["n_post"].values == 0)
    assert np.array_equal(masked, unclear & fire.burnable.values)
