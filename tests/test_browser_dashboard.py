"""Real browser: `terra-lab workshop serve` on 127.0.0.1, driven by Playwright on Debian's Chromium,
as a workshop attendee uses it: every dashboard in French and in English on a 1280x720 screen."""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import ARTIFACTS, assert_in_viewport, assert_not_blank, free_port, service

from terra_lab.dashboards._i18n import option_label, page_shows, param_label, tr

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

#: the text a person sees: visible text nodes through Panel's and Bokeh's shadow roots, and the
#: options of visible selectors (shown when opened)
_VISIBLE_TEXT = """() => {
  const out = [];
  const walk = (root) => {
    for (const n of root.childNodes) {
      if (n.nodeType === 3) {
        const el = n.parentElement;
        if (n.data.trim() && el && el.checkVisibility() && !['SCRIPT', 'STYLE'].includes(el.tagName)) out.push(n.data);
      } else if (n.nodeType === 1) {
        if (n.tagName === 'SELECT') {
          if (n.checkVisibility()) for (const o of n.options) out.push(o.text);
          continue;
        }
        if (n.shadowRoot) walk(n.shadowRoot);
        walk(n);
      }
    }
  };
  walk(document);
  return out.join('\\n');
}"""

RUN = "button:has-text('{label}')"


def visible_text(page) -> str:
    return page.evaluate(_VISIBLE_TEXT)


def choose(page, name: str, value: str, lang: str) -> None:
    """Pick ``value`` in the selector of parameter ``name`` (it shows the options' labels in ``lang``)."""
    labels = {"mode": ("preset", "standard", "expert"), "language": ("fr", "en")}[name]
    first, label = option_label(name, labels[0], lang), option_label(name, value, lang)
    page.locator(f"select:has(option:text-is('{first}'))").select_option(label=label)


def assert_one_language(page, lang: str, what: str) -> None:
    foreign = page_shows(visible_text(page), lang)
    assert not foreign, f"{what}: the {lang} page shows {foreign}"


@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "water", "forest", "biodiversity",
           "--port", str(port)]
    with service(cmd, f"{url}/snow", tmp_path_factory.mktemp("ws") / "serve.log", timeout=60):
        yield url


def open_dashboard(browser, server, theme, lang, **page_options):
    page = browser.new_page(viewport={"width": 1280, "height": 720}, **page_options)
    page.goto(f"{server}/{theme}?lang={lang}", wait_until="domcontentloaded")
    page.wait_for_selector(RUN.format(label=tr("compute", lang)), timeout=60_000)
    return page


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("theme, algorithm", [("snow", "LIS L3B"), ("water", "Dogliotti"), ("forest", "fordead"),
                                              ("biodiversity", "biodivMapR")])
def test_dashboard_in_one_language_at_1280x720(server, tmp_path, theme, algorithm, lang, browser):
    """The page in one language before, during and after a run; the run button, the progress and the
    message without scrolling; a map that is not blank; a download with its provenance."""
    page = open_dashboard(browser, server, theme, lang, accept_downloads=True)
    run = RUN.format(label=tr("compute", lang))
    shot = ARTIFACTS / f"{theme}_dashboard_{lang}.png"
    try:
        page.wait_for_selector(f"text={tr('empty_hint', lang)[:30]}", timeout=30_000)  # what to do, before a run
        assert_in_viewport(page, run, f"{theme} ({lang}): the run button")
        assert_one_language(page, lang, f"{theme} before a run")
        # change a parameter: the standard mode shows the cloud-cover filter
        choose(page, "mode", "standard", lang)
        page.wait_for_selector(f"text={param_label('max_cloud', lang)}", timeout=30_000)
        page.click(run)
        # whichever step shows (it moves on while the test looks)
        step = f"text=/{tr('step_of', lang).split('{')[0].strip()} \\d/"
        page.wait_for_selector(step, timeout=60_000)
        assert_in_viewport(page, step, f"{theme} ({lang}): the progress step")
        page.wait_for_selector(f".alert-success:has-text('{tr('done', lang)}'), .alert-warning, .alert-danger",
                               timeout=300_000)
        message = page.locator(".alert-success, .alert-warning, .alert-danger").first
        assert "alert-success" in message.get_attribute("class"), message.inner_text()
        assert_in_viewport(page, f".alert-success:has-text('{tr('done', lang)}')", f"{theme} ({lang}): the message")
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_timeout(3000)  # let the first rasterised frame and the basemap arrive
        assert_one_language(page, lang, f"{theme} after a run")
        assert tr("error_details", lang) not in visible_text(page), "the error details show after a success"
        page.screenshot(path=str(shot))
        assert_not_blank(shot, f"{theme} dashboard ({lang}) at 1280x720")
        canvas = page.locator("canvas").first.bounding_box()
        assert_not_blank(page.screenshot(clip=canvas), f"{theme} map ({lang})")
        with page.expect_download(timeout=60_000) as info:
            page.click(f"text={tr('download_cog', lang)}")
        path = tmp_path / f"{theme}.tif"
        info.value.save_as(path)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{theme}_dashboard_{lang}_failure.png"), full_page=True)
        raise
    finally:
        page.close()
    with rasterio.open(path) as ds:
        assert ds.count == 1 and np.isfinite(ds.read(1)).any()
        tags = ds.tags()
        assert tags["terra_lab_dashboard"] == theme
        assert algorithm in tags["terra_lab_algorithm"]
        params = json.loads(tags["terra_lab_dashboard_parameters"])
        assert params["language"] == lang and params["mode"] == "standard"
        assert "SENTINEL2" in tags["terra_lab_source_items"]


def test_rerun_greys_the_old_result_and_cancel_keeps_it(server, browser):
    """While a second run computes the first result is greyed; Cancel stops the run at the next step
    and the first result comes back as it was."""
    page = open_dashboard(browser, server, "water", "fr")
    run = RUN.format(label=tr("compute", "fr"))
    try:
        page.click(run)
        page.wait_for_selector(f".alert-success:has-text('{tr('done', 'fr')}')", timeout=300_000)
        page.wait_for_selector("canvas", timeout=60_000)
        page.click(run)
        page.wait_for_selector(f"text={tr('step_of', 'fr').split('{')[0].strip()}", timeout=60_000)
        assert _results_opacity(page) < 0.5, "the previous result is not greyed during the run"
        page.screenshot(path=str(ARTIFACTS / "water_dashboard_recomputing.png"))
        page.click(f"button:has-text('{tr('cancel', 'fr')}')")
        page.wait_for_selector(f"text={tr('cancelled', 'fr')[:20]}", timeout=300_000)
        assert _results_opacity(page) == 1.0 and page.locator("canvas").count() > 0
        assert_in_viewport(page, f"text={tr('cancelled', 'fr')[:20]}", "the cancel message")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "water_dashboard_cancel_failure.png"), full_page=True)
        raise


def _results_opacity(page) -> float:
    """The opacity of the results (map, table, downloads): the visible element styled by the progress
    view (its 'opacity 0.2s' transition), found through the shadow roots."""
    return page.evaluate("""() => {
      const find = (root) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.style && el.style.transition === 'opacity 0.2s' && el.checkVisibility()) return parseFloat(el.style.opacity);
          if (el.shadowRoot) {
            const inner = find(el.shadowRoot);
            if (inner !== null) return inner;
          }
        }
        return null;
      };
      const o = find(document);
      if (o === null) throw new Error('no results layout styled by the progress view');
      return o;
    }""")


def test_bad_input_shows_in_the_page_and_the_app_stays_usable(server, browser):
    page = open_dashboard(browser, server, "snow", "fr")
    assert tr("error_details", "fr") not in visible_text(page), "the error details show before a run"
    east = page.locator("input.bk-input").nth(2)  # West, South, East, North: make East < West
    east.fill("6.0")
    east.press("Enter")
    page.click(RUN.format(label="Calculer"))
    page.wait_for_selector(".alert-danger:has-text('est vide ou inversée')", timeout=60_000)  # in French
    assert_in_viewport(page, ".alert-danger", "the error message")
    page.screenshot(path=str(ARTIFACTS / "snow_dashboard_error.png"))
    east.fill("6.34")
    east.press("Enter")
    page.click(RUN.format(label="Calculer"))
    page.wait_for_selector("text=Calcul terminé", timeout=300_000)  # still usable after the error
    assert tr("error_details", "fr") not in visible_text(page), "the error details show after a success"


def test_snow_pixel_series_language_switch_and_netcdf(server, tmp_path, browser):
    """Click the map for a pixel's series, switch to English (the whole page follows), download NetCDF."""
    import xarray as xr

    page = open_dashboard(browser, server, "snow", "fr", accept_downloads=True)
    try:
        page.wait_for_selector("text=Année hydrologique", timeout=60_000)  # French parameter labels
        page.click(RUN.format(label="Calculer"))
        page.wait_for_selector("text=Calcul terminé", timeout=300_000)
        page.wait_for_selector(f"text={tr('click_hint', 'fr')[:20]}", timeout=60_000)
        canvas = page.locator(".bk-Canvas, canvas").first
        canvas.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # let datashader's first rasterised frame arrive
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45)
        page.wait_for_selector(r"text=/\d+ observations claires/", timeout=60_000)  # the pixel's text
        page.screenshot(path=str(ARTIFACTS / "snow_dashboard_pixel_series.png"), full_page=True)
        # language switch: the parameter widgets, buttons and the result's texts follow
        choose(page, "language", "en", "fr")
        page.wait_for_selector("text=Hydrological year", timeout=30_000)
        page.wait_for_selector("text=Download (NetCDF)", timeout=30_000)
        page.wait_for_timeout(2000)
        assert_one_language(page, "en", "snow after switching to English")
        with page.expect_download(timeout=60_000) as info:
            page.click("text=Download (NetCDF)")
        path = tmp_path / "snow.nc"
        info.value.save_as(path)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "snow_dashboard_series_failure.png"), full_page=True)
        raise
    with xr.open_dataset(path) as ds:
        assert ds["SCD"].dims == ("y", "x") and min(ds["SCD"].shape) >= 200 and int(ds["SCD"].max()) > 100
        assert ds.attrs["terra_lab:dashboard"] == "snow" and "LIS" in ds.attrs["terra_lab:algorithm"]
        assert json.loads(ds.attrs["terra_lab:dashboard_parameters"])["language"] == "en"


def test_ten_concurrent_sessions(server, browser):
    """Load: 10 browser sessions compute at once on one server (the runs share the worker threads,
    each page sees its own progress); all finish without error."""
    pages = [browser.new_page(viewport={"width": 1280, "height": 720}) for _ in range(10)]
    for page in pages:
        page.goto(f"{server}/snow", wait_until="domcontentloaded")
    for page in pages:
        page.wait_for_selector("text=Calculer", timeout=120_000)
    start = time.monotonic()
    for page in pages:
        page.click(RUN.format(label="Calculer"))
    times = []
    for page in pages:
        page.wait_for_selector("text=Calcul terminé", timeout=900_000)
        page.wait_for_selector("canvas", timeout=120_000)
        times.append(time.monotonic() - start)
    errors = [pg for pg in pages if pg.locator(".alert-danger").count()]
    print("time to first render per session (s):", [round(t, 1) for t in times])
    assert not errors and len(times) == 10
