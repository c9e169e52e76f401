"""Soil moisture in the water dashboard (issue 17), without a browser, on the demo.

The workflow runs once (S1Tiling VV + Sentinel-2 NDVI of the demo, no truth read); the page's
map, masked pixels, table and labels are checked against its result in both languages.
"""

import datetime as dt

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from terra_lab.dashboards._i18n import option_label, page_shows, param_label, tr
from terra_lab.dashboards._tables import format_number
from terra_lab.dashboards.water import WaterDashboard
from terra_lab.errors import UnknownCollectionError
from terra_lab.products.soil_moisture import WCM_VV
from terra_lab.workflows import SoilMoistureResult, find_collection, soil_moisture_workflow

hv.extension("bokeh")

LAKE = (6.272, 45.183, 6.294, 45.195)  # the water dashboard's default area: the lake and its shores
START, END = dt.date(2024, 4, 1), dt.date(2024, 6, 15)


@pytest.fixture(scope="module")
def result(demo_root) -> SoilMoistureResult:
    return soil_moisture_workflow("demo", LAKE, START, END)


def _board(result, **params) -> WaterDashboard:
    d = WaterDashboard(analysis="soil_moisture", start=START, end=END, **params)
    d.result = result
    return d


def _table(d) -> pd.DataFrame:
    return d._statistics(d.result).object


def test_sentinel1_collection_found_by_kind(demo_root):
    assert find_collection("demo", "radar") == "THEIA_S1TILING_SENTINEL1_L1"
    with pytest.raises(UnknownCollectionError, match="NO_SUCH_S1"):
        find_collection("demo", "radar", "NO_SUCH_S1")


def test_a_catalogue_without_sentinel1_is_named_with_the_fix(demo_catalog, tmp_path):
    from terra_lab.catalog import LocalCatalog

    bare = LocalCatalog(tmp_path / "bare", name="bare")
    bare.add_items(demo_catalog.search(LAKE, "2024-04-01/2024-04-30", "THEIA_REFLECTANCE_SENTINEL2_L2A").items,
                   collection="S2")
    with pytest.raises(UnknownCollectionError, match=r"no Sentinel-1 backscatter.*s1_collection="):
        soil_moisture_workflow(bare, LAKE, "2024-04-01", "2024-04-30")


def test_workflow_result_on_the_demo(result):
    m, masked = result.moisture, result.masked
    assert m.dims == ("time", "y", "x") and m.sizes["time"] > 5 and m.attrs["units"] == "%"
    assert result.provenance["s1_collection"] == "THEIA_S1TILING_SENTINEL1_L1"
    assert result.notes == ()
    finite = m.values[np.isfinite(m.values)]
    assert finite.size and WCM_VV.mv_min - 1e-3 <= finite.min() and finite.max() <= WCM_VV.mv_max + 1e-3
    # masked pixels: dense vegetation or snow, never an estimate; some on every estimated date of the demo
    assert masked.dtype == bool and not (masked.values & np.isfinite(m.values)).any()
    assert masked.values.any()
    flat = m.values.reshape(m.sizes["time"], -1)
    means = [float(row[np.isfinite(row)].mean()) if np.isfinite(row).any() else np.nan for row in flat]
    np.testing.assert_allclose(result.dates["mean"].values, means, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(result.dates["valid"].values, np.isfinite(m.values).mean(axis=(1, 2)))


def test_a_short_period_gets_ndvi_from_sentinel2_beyond_it(demo_root):
    """One week of radar dates: Sentinel-2 is searched 30 days beyond it, so every date has an estimate."""
    r = soil_moisture_workflow("demo", LAKE, "2024-04-10", "2024-04-16")
    assert r.moisture.sizes["time"] >= 2 and (r.dates["valid"] > 0.1).all(), r.dates
    assert r.provenance["period"] == ["2024-04-10", "2024-04-16"]
    one = soil_moisture_workflow("demo", LAKE, "2024-04-13", "2024-04-14")  # one radar item (a scalar orbit)
    assert one.moisture.sizes["time"] == 1 and one.dates["valid"].iloc[0] > 0.1


def test_water_dashboard_default_is_unchanged():
    d = WaterDashboard()
    assert d.analysis == "quality"
    assert d._visible_params()[-5:] == ["analysis", "preset", "start", "end", "product"]
    assert WaterDashboard(mode="expert")._expert_params() == ["index", "threshold", "erode"]


def test_run_key_differs_between_analyses():
    assert WaterDashboard()._run_key() != WaterDashboard(analysis="soil_moisture")._run_key()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_map_shows_soil_moisture_in_vol_percent_with_masked_pixels_named(result, lang):
    d = _board(result, language=lang)
    layer = d._layer(result)
    assert layer.dims == ("y", "x") and "time" in layer.coords
    valid = np.isfinite(result.moisture.values).sum(axis=(1, 2))
    assert layer["time"].values == result.moisture["time"].values[int(np.argmax(valid))]  # the clearest date
    assert d._units(layer) == "vol.%"
    title = d._title(layer)
    assert option_label("product", "soil_moisture", lang) in title and "vol.%" in title
    assert pd.Timestamp(layer["time"].values).strftime("%Y-%m-%d") in title
    masked = d._masked(result, layer)
    assert masked.dims == ("y", "x") and bool(masked.any())
    overlay, _ = d.map_element()
    names = [el.label for el in overlay if isinstance(el, hv.Points)]
    assert names == [tr("masked_soil_moisture", lang)]
    assert ("végétation dense, neige, eau" if lang == "fr" else "dense vegetation, snow, water") in names[0]
    hv.render(overlay)  # draws


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_table_gives_the_workflow_means_in_the_page_locale(result, lang):
    d = _board(result, language=lang)
    frame = _table(d)
    assert list(frame.columns) == [tr(k, lang) for k in ("col_radar_date", "col_soil_moisture_mean",
                                                          "col_valid_share", "col_masked_share")]
    assert len(frame) == len(result.dates)
    expected = [format_number(v, 1, lang) for v in result.dates["mean"]]
    assert list(frame.iloc[:, 1]) == expected
    assert list(frame.iloc[:, 0]) == [t.strftime("%Y-%m-%d") for t in result.dates.index]
    sample = next(c for c in frame.iloc[:, 1] if c != "–")
    assert ("," in sample and "." not in sample) if lang == "fr" else ("." in sample and "," not in sample)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("mode", ["preset", "standard", "expert"])
def test_soil_moisture_page_shows_one_language(result, mode, lang):
    from test_dashboard_state import page_strings

    d = _board(result, language=lang, mode=mode)
    d._render(result)
    frame = _table(d)
    layer = d._layer(result)
    _, summary = d._point_series(float(layer.x[10]), float(layer.y[10]))
    texts = "\n".join(page_strings(d) + [str(c) for c in frame.columns] + [d._title(layer), summary,
                                                                         d._masked_label()])
    assert not page_shows(texts, lang), page_shows(texts, lang)
    assert param_label("analysis", lang) in texts and option_label("analysis", "soil_moisture", lang) in texts
    assert "product" not in d._visible_params() and "threshold" not in d._visible_params()


def test_the_page_runs_the_soil_moisture_workflow(demo_root):
    d = WaterDashboard(analysis="soil_moisture", language="fr", start=START, end=END)
    d._on_compute()
    assert isinstance(d.result, SoilMoistureResult), d._message.object
    assert d._message.alert_type == "success"
    assert d._results.visible and d._map.object is not None
    assert d._cog_bytes().getbuffer().nbytes > 1000 and d._nc_bytes().getbuffer().nbytes > 1000


# ------------------------------------------------------------------------------------- browser
@pytest.mark.slow
def test_soil_moisture_in_the_browser_fr_1280x720(demo_root, tmp_path_factory, browser):
    """A French attendee chooses soil moisture and runs it: a map that is not blank, no English on the page."""
    from conftest import ARTIFACTS, assert_page_and_map_drawn, workshop_server
    from test_browser_dashboard import RUN, assert_one_language, visible_text

    lang = "fr"
    shot = ARTIFACTS / "water_soil_moisture_fr.png"
    with workshop_server("water", tmp_path_factory) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        try:
            page.goto(f"{url}/water?lang={lang}", wait_until="domcontentloaded")
            run = RUN.format(label=tr("compute", lang))
            page.wait_for_selector(run, timeout=60_000)
            label = option_label("analysis", "soil_moisture", lang)
            page.locator(f'select:has(option:text-is("{label}"))').select_option(label=label)
            page.wait_for_timeout(1500)  # the controls redraw for the analysis (no product selector)
            page.click(run)
            page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                                   timeout=300_000)
            message = page.locator(".alert-success, .alert-warning, .alert-danger").first
            assert "alert-success" in message.get_attribute("class"), message.inner_text()
            page.wait_for_selector("canvas", timeout=60_000)
            page.wait_for_timeout(3000)  # the first rasterised frame and the basemap
            assert_one_language(page, lang, "soil moisture after a run")
            text = visible_text(page)  # the legend is drawn in the canvas: seen on the screenshot
            assert tr("col_soil_moisture_mean", lang) in text, text[-500:]
            assert_page_and_map_drawn(page, shot, "soil-moisture dashboard (fr) at 1280x720")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "water_soil_moisture_fr_failure.png"), full_page=True)
            raise
        finally:
            page.close()
