"""The glacier analysis of the snow dashboard (issues 16/17): the elevation change on a diverging map
centred on 0, the coloured relief with its elevation colour bar, the outlines and the summer's
equilibrium line on the map, the per-glacier table against the workflow, both languages, and a
French page in a real browser (choose the analysis as a person, press Calculer, wait for map and table).
"""

import holoviews as hv
import numpy as np
import pytest

from terra_lab.dashboards._i18n import option_label, page_shows, page_text, param_label, tr
from terra_lab.dashboards.snow import SnowDashboard
from terra_lab.workflows.glacier import GlacierResult, glacier_workflow

hv.extension("bokeh")

AOI = (6.28, 45.17, 6.34, 45.21)  # the dashboard's default area: it touches the demo glacier


@pytest.fixture(scope="module")
def glacier(demo_root):
    return glacier_workflow("demo", AOI, 2023)


def _board(result, **params):
    d = SnowDashboard(analysis="glacier", **params)
    d.result = result
    return d


def _colourbar(d):
    from bokeh.models import ColorBar

    return next(iter(hv.render(d.map_element()[0]).select(ColorBar)))


def test_switching_the_analysis_offers_its_products_and_heading():
    d = SnowDashboard()
    assert d.analysis == "snow" and d.product == "SCD" and d._heading.object == f"## {page_text(tr('snow', 'fr'))}"
    assert d.param["product"].objects == ["SCD", "SOD", "SMOD", "NOBS"]
    snow_key = d._run_key()
    d.analysis = "glacier"
    assert d.param["product"].objects == ["dh", "relief"] and d.product == "dh"
    assert "glaciers" in d._heading.object and d._run_key() != snow_key
    assert "summer" in d._visible_params() and "year" not in d._visible_params()
    d.language = "en"
    assert "equilibrium line" in d._heading.object
    d.analysis = "snow"
    assert d.product == "SCD" and "snow cover duration" in d._heading.object


def test_a_glacier_cut_by_the_area_is_measured_whole(glacier, demo_root):
    """The default area stops at 45.21 degrees north, the glacier at 45.217: its whole outline is measured."""
    import json

    truth = json.loads((demo_root / "truth" / "relief.json").read_text())
    assert glacier.outlines.to_crs("EPSG:4326").total_bounds[3] > AOI[3]
    assert glacier.glaciers.iloc[0]["area_m2"] == pytest.approx(truth["glacier_area_m2"], rel=0.02)


def test_elevation_change_on_a_diverging_map_centred_on_zero(glacier):
    d = _board(glacier, language="en")
    layer = d._layer(glacier)
    assert layer.name == "dh" and d._units(layer) == "m" and d._cmap() == "RdBu"
    low, high = d._clim(layer)
    assert low == -high and high >= 20                 # the demo thins by up to 40 m
    np.testing.assert_array_equal(layer.values, glacier.dh.values.astype("float32"))
    bar = _colourbar(d)
    assert bar.color_mapper.low == low and bar.color_mapper.high == high
    assert d._title(layer) == "Elevation change (m)"


def test_relief_draws_the_coloured_shade_over_its_elevation_colour_bar(glacier):
    d = _board(glacier, product="relief", language="fr")
    overlay, image = d.map_element()
    items = list(overlay)
    assert type(items[items.index(image) + 1]).__name__ == "RGB"  # the shade over the layer that holds the hover
    cmap = d._cmap()
    assert isinstance(cmap, list) and len(cmap) == 256
    low, high = d._clim(d._layer(glacier))
    assert low == pytest.approx(float(np.nanmin(glacier.elevation))) and high > 2800
    rgb = next(e for e in overlay if type(e).__name__ == "RGB")
    assert np.nanmax(rgb.dimension_values("A")) == 1.0           # opaque on the DEM


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_outlines_and_equilibrium_line_on_the_map(glacier, lang):
    d = _board(glacier, language=lang)
    overlay, _ = d.map_element()
    paths = [e for e in overlay if type(e).__name__ == "Path"]
    labels = [p.label for p in paths]
    ela = float(glacier.glaciers["ela_m"].iloc[0])
    assert labels == [tr("glacier_outline", lang), tr("ela_line", lang).format(year=2023, z=f"{ela:.0f}")]
    assert len(paths[1].split()) >= 1                               # the contour crosses the glacier


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_table_as_the_workflow(glacier, lang):
    d = _board(glacier, language=lang)
    stats = d._statistics(glacier)
    per_glacier = stats[1].object
    row = glacier.glaciers.iloc[0]
    dh = per_glacier[tr("col_mean_dh", lang)].iloc[0]
    sep = "," if lang == "fr" else "."
    assert dh == f"{row['mean_dh_m']:.1f} ± {row['mean_dh_sigma_m']:.1f}".replace(".", sep)
    ela = per_glacier[tr("col_ela_year", lang).format(year=2023)].iloc[0]
    assert ela.replace("\u202f", "").replace(",", "") == f"{row['ela_m']:.0f}"
    per_year = stats[3].object
    assert list(per_year[tr("col_summer", lang)]) == ["2022", "2023"]
    texts = "\n".join([stats[0].object, stats[2].object, *map(str, per_glacier.columns), *map(str, per_year.columns)])
    assert not page_shows(texts, lang), page_shows(texts, lang)


def test_clicked_pixel_gives_the_ela_series_and_its_change(glacier):
    d = _board(glacier, language="fr")
    d.map_element()
    d._redraw()
    assert d._point.object == tr("glacier_click_hint", "fr")
    rows, cols = np.nonzero(np.isfinite(glacier.dh.values))
    x, y = float(glacier.dh.x[cols[0]]), float(glacier.dh.y[rows[0]])
    plot, text = d._point_series(x, y)
    hv.render(plot)
    assert "variation d'altitude" in text and not page_shows(text, "fr")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "standard", "expert"])
def test_glacier_page_shows_one_language(glacier, mode, lang):
    from test_dashboard_state import page_strings

    d = _board(glacier, language=lang, mode=mode)
    d._show_result()
    texts = "\n".join(page_strings(d))
    assert not page_shows(texts, lang), page_shows(texts, lang)
    assert param_label("analysis", lang) in texts and option_label("analysis", "glacier", lang) in texts


def test_the_page_runs_the_glacier_workflow(demo_root):
    d = SnowDashboard(analysis="glacier", language="fr")
    d._on_compute()
    assert isinstance(d.result, GlacierResult), d._message.object
    assert d._message.alert_type == "success"
    assert d._results.visible and d._map.object is not None


# ------------------------------------------------------------------------------ in a real browser
@pytest.fixture(scope="module")
def snow_server(demo_root, tmp_path_factory):
    from conftest import workshop_server

    with workshop_server("snow", tmp_path_factory) as url:
        yield url


@pytest.mark.slow
def test_glacier_analysis_in_a_french_page_at_1280x720(snow_server, browser):
    """A French page: choose the glacier analysis, press Calculer; the heading, the map (not blank) and
    the per-glacier table show, in French only."""
    from conftest import ARTIFACTS, assert_in_viewport, assert_page_and_map_drawn
    from test_browser_dashboard import RUN, assert_one_language, open_dashboard

    lang = "fr"
    page = open_dashboard(browser, snow_server, "snow", lang)
    shot = ARTIFACTS / "snow_glacier_dashboard_fr.png"
    try:
        first, glacier = option_label("analysis", "snow", lang), option_label("analysis", "glacier", lang)
        page.locator(f"select:has(option:text-is('{first}'))").select_option(label=glacier)
        page.wait_for_selector(f"text={param_label('summer', lang)}", timeout=30_000)
        assert_one_language(page, lang, "glacier analysis before a run")
        page.click(RUN.format(label=tr("compute", lang)))
        page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                               timeout=300_000)
        message = page.locator(".alert-success, .alert-warning, .alert-danger").first
        assert "alert-success" in message.get_attribute("class"), message.inner_text()
        assert_in_viewport(page, f".alert-success:has-text('{tr('done', lang)}')", "the message")
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_selector(f"text={tr('col_mean_dh', lang)}", timeout=30_000)
        page.wait_for_selector("text=demo glacier", timeout=30_000)
        heading = tr("snow_glacier", lang)
        page.wait_for_selector(f"h2:has-text(\"{heading}\")", timeout=30_000)
        page.wait_for_timeout(3000)  # the first rasterised frame and the basemap
        assert_one_language(page, lang, "glacier analysis after a run")
        assert_page_and_map_drawn(page, shot, "glacier analysis (fr) at 1280x720")
        # the coloured relief: chosen as a person would; the map redraws (its canvas changes) and is not blank
        canvas = page.locator("canvas").first
        before = page.screenshot(clip=canvas.bounding_box())
        dh, relief = option_label("product", "dh", lang), option_label("product", "relief", lang)
        page.locator(f'select:has(option:text-is("{dh}"))').select_option(label=relief)
        for _ in range(60):
            now = page.screenshot(clip=canvas.bounding_box())
            if now != before:
                break
            page.wait_for_timeout(500)
        assert now != before, "the map did not change when the coloured relief was chosen"
        page.wait_for_timeout(1000)  # the frame being drawn when the change was seen
        assert_page_and_map_drawn(page, ARTIFACTS / "snow_glacier_relief_fr.png", "glacier relief (fr)")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "snow_glacier_dashboard_fr_failure.png"), full_page=True)
        raise
    finally:
        page.close()
