"""Real browser: `terra-lab workshop serve snow` on 127.0.0.1, driven by Playwright on Debian's Chromium."""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
from conftest import ARTIFACTS, free_port, service

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "water", "forest", "biodiversity", "--port", str(port)]
    with service(cmd, f"{url}/snow", tmp_path_factory.mktemp("ws") / "serve.log", timeout=60):
        yield url


@pytest.mark.parametrize("theme, algorithm", [("snow", "LIS L3B"), ("water", "Dogliotti"), ("forest", "fordead"),
                                              ("biodiversity", "biodivMapR")])
def test_dashboard_computes_and_downloads(server, tmp_path, theme, algorithm, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page.goto(f"{server}/{theme}", wait_until="domcontentloaded")
        page.wait_for_selector("text=Calculer", timeout=60_000)
        # change a parameter: the standard mode shows the cloud-cover filter
        page.locator("select:has(option[value='standard'])").select_option("standard")
        page.wait_for_selector("text=Nébulosité maximale (%)", timeout=30_000)
        page.click("text=Calculer")
        page.wait_for_selector("text=Calcul terminé", timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        if theme != "biodiversity":  # a click on the map shows that pixel's time series
            page.wait_for_selector("text=Cliquez sur la carte", timeout=60_000)
            page.wait_for_timeout(2000)
            box = page.locator("canvas").first.bounding_box()
            page.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
            page.wait_for_selector("strong:has-text('Pixel')", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / f"{theme}_dashboard.png"), full_page=True)
        with page.expect_download(timeout=60_000) as info:
            page.click("text=Télécharger (COG)")
        path = tmp_path / f"{theme}.tif"
        info.value.save_as(path)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{theme}_dashboard_failure.png"), full_page=True)
        raise
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32631 and ds.count == 1 and np.isfinite(ds.read(1)).any()
        tags = ds.tags()
        assert tags["terra_lab_dashboard"] == theme
        assert algorithm in tags["terra_lab_algorithm"]
        params = json.loads(tags["terra_lab_dashboard_parameters"])
        assert params["language"] == "fr" and params["mode"] == "standard"
        assert "SENTINEL2" in tags["terra_lab_source_items"]


def test_bad_input_shows_in_the_page_and_the_app_stays_usable(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/snow", wait_until="domcontentloaded")
    page.wait_for_selector("text=Calculer", timeout=60_000)
    east = page.locator(".bk-input").nth(2)  # West, South, East, North: make East < West
    east.fill("6.0")
    east.press("Enter")
    page.click("text=Calculer")
    page.wait_for_selector("text=is empty or reversed", timeout=60_000)
    east.fill("6.34")
    east.press("Enter")
    page.click("text=Calculer")
    page.wait_for_selector("text=Calcul terminé", timeout=180_000)  # still usable after the error


def test_snow_pixel_series_english_labels_and_netcdf(server, tmp_path, browser):
    """Click the map for a pixel's series, switch to English (widget labels too), download NetCDF."""
    import xarray as xr

    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    try:
        page.goto(f"{server}/snow", wait_until="domcontentloaded")
        page.wait_for_selector("text=Année hydrologique", timeout=60_000)  # French parameter labels
        page.click("text=Calculer")
        page.wait_for_selector("text=Calcul terminé", timeout=180_000)
        page.wait_for_selector("text=Cliquez sur la carte", timeout=60_000)
        canvas = page.locator(".bk-Canvas, canvas").first
        canvas.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # let datashader's first rasterised frame arrive
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.45)
        page.wait_for_selector("text=observations claires", timeout=60_000)
        text = page.locator("text=observations claires").first.inner_text()
        assert "durée d'enneigement" in text and "jours" in text
        page.screenshot(path=str(ARTIFACTS / "snow_dashboard_pixel_series.png"), full_page=True)
        # language switch: the parameter widgets are relabelled too
        page.locator("select:has(option[value='en'])").select_option("en")
        page.wait_for_selector("text=Hydrological year", timeout=30_000)
        page.wait_for_selector("text=Download (NetCDF)", timeout=30_000)
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
    """Load: 10 browser sessions compute at once on one server; all finish without error."""
    pages = [browser.new_page(viewport={"width": 1200, "height": 900}) for _ in range(10)]
    for page in pages:
        page.goto(f"{server}/snow", wait_until="domcontentloaded")
    for page in pages:
        page.wait_for_selector("text=Calculer", timeout=120_000)
    start = time.monotonic()
    for page in pages:
        page.click("text=Calculer")
    times = []
    for page in pages:
        page.wait_for_selector("text=Calcul terminé", timeout=600_000)
        page.wait_for_selector("canvas", timeout=120_000)
        times.append(time.monotonic() - start)
    errors = [pg for pg in pages if pg.locator("text=Erreur").count()]
    print("time to first render per session (s):", [round(t, 1) for t in times])
    assert not errors and len(times) == 10
