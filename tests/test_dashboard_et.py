"""Evapotranspiration in the water dashboard (issue 17): the page's map, table, heading and labels against
the workflow's result in both languages, then in a real browser (French, 1280x720) as a person uses it."""

import datetime as dt

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from terra_lab.dashboards._i18n import option_label, page_shows, param_label, tr
from terra_lab.dashboards._tables import format_number
from terra_lab.dashboards.water import ET_PRODUCTS, WaterDashboard
from terra_lab.workflows import ETResult, et_workflow

hv.extension("bokeh")

LAKE = (6.272, 45.183, 6.294, 45.195)  # the water dashboard's default area: the lake and its shores
START, END = dt.date(2024, 6, 1), dt.date(2024, 8, 31)


@pytest.fixture(scope="module")
def result(demo_root) -> ETResult:
    return et_workflow("demo", LAKE, START, END)


def _board(result, **params) -> WaterDashboard:
    d = WaterDashboard(analysis="evapotranspiration", start=START, end=END, **params)
    d.result = result
    return d


def _table(d) -> pd.DataFrame:
    return next(p for p in d._statistics(d.result).select() if p.name == "stats").object


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_each_analysis_has_its_own_heading(lang):
    d = WaterDashboard(language=lang)
    headings = {}
    for analysis in ("quality", "soil_moisture", "evapotranspiration"):
        d.analysis = analysis
        headings[analysis] = d._heading.object
    assert len(set(headings.values())) == 3, headings
    assert ("évapotranspiration" if lang == "fr" else "evapotranspiration") in headings["evapotranspiration"]
    assert ("humidité du sol" if lang == "fr" else "soil moisture") in headings["soil_moisture"]
    assert "qualit" in headings["quality"]


def test_evapotranspiration_parameters_and_run_key():
    d = WaterDashboard(analysis="evapotranspiration")
    assert d._visible_params()[-4:] == ["analysis", "start", "end", "et_product"]
    assert "product" not in d._visible_params() and WaterDashboard(mode="expert",
                                                                    analysis="evapotranspiration")._expert_params() == []
    assert WaterDashboard()._run_key() != d._run_key()


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("product", ET_PRODUCTS)
def test_map_of_each_et_product(result, lang, product):
    d = _board(result, language=lang, et_product=product)
    layer = d._layer(result)
    assert layer.dims == ("y", "x") and "time" in layer.coords
    shown = pd.Timestamp(result.et_daily["time"].values)
    when = pd.Timestamp(layer["time"].values)
    assert when == shown if product == "et_daily" else when <= shown < when + pd.Timedelta(days=11)
    title = d._title(layer)
    assert option_label("et_product", product, lang) in title and when.strftime("%Y-%m-%d") in title
    assert d._units(layer) == {"et_daily": tr("unit_mm_day", lang), "et_dekad": "mm", "stress": ""}[product]
    if product == "stress":
        assert d._clim(layer) == (0.0, 1.0)
    overlay, _ = d.map_element()
    hv.render(overlay)  # draws


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_table_gives_the_workflow_means_in_the_page_locale(result, lang):
    d = _board(result, language=lang)
    frame = _table(d)
    assert list(frame.columns) == [tr(k, lang) for k in ("col_landsat_date", "col_et_mean", "col_et0",
                                                          "col_stress_mean", "col_clear_share")]
    assert list(frame.iloc[:, 1]) == [format_number(v, 2, lang) for v in result.dates["et"]]
    assert list(frame.iloc[:, 0]) == [t.strftime("%Y-%m-%d") for t in result.dates.index]
    sample = frame.iloc[0, 2]
    assert ("," in sample and "." not in sample) if lang == "fr" else ("." in sample and "," not in sample)
    station = next(p for p in d._statistics(result).select() if p.name == "station").object
    assert "lab demo station" in station and ("1,8 km" if lang == "fr" else "1&#46;8 km") in station  # page_text escapes


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "standard", "expert"])
def test_et_page_shows_one_language(result, mode, lang):
    from test_dashboard_state import page_strings

    d = _board(result, language=lang, mode=mode)
    d._render(result)
    frame = _table(d)
    layer = d._layer(result)
    _, summary = d._point_series(float(layer.x[10]), float(layer.y[10]))
    texts = "\n".join(page_strings(d) + [str(c) for c in frame.columns] + [d._title(layer), summary])
    assert not page_shows(texts, lang), page_shows(texts, lang)
    assert param_label("et_product", lang) in texts and option_label("analysis", "evapotranspiration", lang) in texts
    assert np.isfinite(layer.values).mean() > 0.5


def test_the_page_runs_the_et_workflow(demo_root):
    d = WaterDashboard(analysis="evapotranspiration", language="fr", start=START, end=END)
    d._on_compute()
    assert isinstance(d.result, ETResult), d._message.object
    assert d._message.alert_type == "success"
    assert d._results.visible and d._map.object is not None
    assert d._cog_bytes().getbuffer().nbytes > 1000 and d._nc_bytes().getbuffer().nbytes > 1000
    before = d._map.object
    d.et_product = "stress"  # another map of the same result, drawn without a new run
    assert d._map.object is not before and isinstance(d.result, ETResult)
    assert d._title(d._layer(d.result)).startswith(option_label("et_product", "stress", "fr"))


# ------------------------------------------------------------------------------------- browser
@pytest.mark.slow
def test_et_in_the_browser_fr_1280x720(demo_root, tmp_path_factory, browser):
    """A French attendee chooses evapotranspiration, sets the summer, runs it: the heading, a map that is not
    blank, the table per Landsat date, no English on the page."""
    from conftest import ARTIFACTS, assert_page_and_map_drawn, workshop_server
    from test_browser_dashboard import RUN, assert_one_language, visible_text

    lang = "fr"
    shot = ARTIFACTS / "water_et_fr.png"
    with workshop_server("water", tmp_path_factory) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        try:
            page.goto(f"{url}/water?lang={lang}", wait_until="domcontentloaded")
            run = RUN.format(label=tr("compute", lang))
            page.wait_for_selector(run, timeout=60_000)
            label = option_label("analysis", "evapotranspiration", lang)
            page.locator(f'select:has(option:text-is("{label}"))').select_option(label=label)
            # the controls redraw for the analysis: its map selector appears, the heading changes
            page.wait_for_selector(f"text={param_label('et_product', lang)}", timeout=30_000)
            page.wait_for_selector(f"h2:has-text('{tr('water_evapotranspiration', lang)}')", timeout=30_000)
            page.click(run)
            page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                                   timeout=300_000)
            message = page.locator(".alert-success, .alert-warning, .alert-danger").first
            assert "alert-danger" not in message.get_attribute("class"), message.inner_text()
            page.wait_for_selector("canvas", timeout=60_000)
            page.wait_for_selector(f"text={tr('col_et_mean', lang)}", timeout=60_000)
            assert_one_language(page, lang, "evapotranspiration after a run")
            text = visible_text(page)  # the legend is drawn in the canvas: seen on the screenshot
            for key in ("water_evapotranspiration", "col_landsat_date", "col_et0"):
                assert tr(key, lang) in text, (key, text[-800:])
            assert "Station météo" in text
            assert_page_and_map_drawn(page, shot, "evapotranspiration dashboard (fr) at 1280x720")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "water_et_fr_failure.png"), full_page=True)
            raise
        finally:
            page.close()
