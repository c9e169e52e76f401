"""Real browser: JupyterLab on 127.0.0.1 driven by Playwright on Debian's Chromium.

Runs notebooks/map_search.ipynb, waits for kernel-rendered tiles with non-blank pixels,
clicks the map and waits for the pixel time-series plot.  Screenshots go to test-artifacts/.
"""

import io
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTIFACTS, jupyterlab, run_all_cells
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "map_search.ipynb", work / "map_search.ipynb")
    with jupyterlab(work) as served:
        yield served


def _nonblank(png: bytes) -> float:
    img = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)
    return float(img.std())


def test_notebook_shows_tiles_and_pixel_series(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        run_all_cells(page, url, token, "map_search.ipynb")
        page.wait_for_selector(".terra-map img.terra-tile[data-loaded='1']", timeout=180_000)
        page.wait_for_timeout(2000)
        loaded = page.locator(".terra-map img.terra-tile[data-loaded='1']").count()
        assert loaded >= 1
        shot = page.locator(".terra-map").first.screenshot(path=str(ARTIFACTS / "map_tiles.png"))
        assert _nonblank(shot) > 5  # the map is not a blank rectangle
        box = page.locator(".terra-map").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
        page.locator(".terra-map").first.scroll_into_view_if_needed()
        iframe = page.wait_for_selector("iframe.terra-plot", timeout=120_000)
        iframe.content_frame().wait_for_selector("canvas", timeout=60_000)  # BokehJS drew the plot
        iframe.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        assert _nonblank(iframe.screenshot(path=str(ARTIFACTS / "pixel_series_plot.png"))) > 5
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "map_pixel_series.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "map_failure.png"), full_page=True)
        (ARTIFACTS / "map_failure.html").write_text(page.locator(".jp-Notebook").inner_html())
        raise


def test_labextension_is_installed_and_ok():
    out = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True, text=True)
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if "terra-lab-widgets" in ln), "")
    assert "enabled" in line and "OK" in line, text


def test_launcher_opens_the_workshop_notebooks(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/lab?reset&token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Launcher", timeout=90_000)
        page.wait_for_selector("text=THEIA workshops", timeout=30_000)
        for theme in ("Snow / Neige", "Forest health", "Species niche model"):  # one card per theme notebook
            page.wait_for_selector(f".jp-LauncherCard:has-text('terra_lab: {theme}')", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "launcher.png"))
        # a dashboard card opens the Panel app in a new tab, through jupyter-server-proxy
        with page.context.expect_page(timeout=30_000) as tab:
            page.click(".jp-LauncherCard:has-text('terra_lab: Forest health dashboard')")
        dashboard = tab.value
        dashboard.wait_for_selector("text=Santé des forêts", timeout=120_000)
        dashboard.wait_for_selector("text=Calculer", timeout=60_000)
        dashboard.close()
        page.click(".jp-LauncherCard:has-text('terra_lab: Search on a map')")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-RenderedMarkdown h1:has-text('Search on a map')", timeout=60_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "launcher_failure.png"), full_page=True)
        raise


def test_dashboards_through_the_jupyter_server_proxy(lab, browser):
    """The workshop dashboards inside JupyterLab: jupyter-server-proxy starts them, under Jupyter's auth."""
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/terra-lab-workshops/water?token={token}", wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_selector("text=Calculer", timeout=120_000)
        page.click("text=Calculer")
        page.wait_for_selector("text=Calcul terminé", timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "water_dashboard_via_proxy.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "proxy_failure.png"), full_page=True)
        raise
    with urllib.request.urlopen(f"{url}/terra-lab-workshops/water", timeout=30) as r:  # no token: Jupyter's login
        assert "login" in r.geturl() or r.status in (302, 403)


def test_dask_dashboard_through_the_jupyter_server_proxy(lab, browser, monkeypatch):
    """terra_lab.cluster()'s dashboard link, rewritten for JupyterHub, opens through jupyter-server-proxy."""
    import terra_lab

    url, token = lab
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/")  # the single-user server's base URL here
    import dask.config

    with dask.config.set({"distributed.dashboard.link": "{scheme}://{host}:{port}/status"}):
        with terra_lab.cluster(1, dashboard_address="127.0.0.1:0") as client:
            link = client.dashboard_link
            assert link.startswith("/proxy/") and link.endswith("/status")
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.goto(f"{url}{link}?token={token}", wait_until="domcontentloaded", timeout=60_000)
                page.wait_for_function("document.title.includes('Dask')", timeout=60_000)  # Dask's status page
                page.wait_for_selector("canvas", timeout=60_000)  # its Bokeh plots rendered in the browser
                page.screenshot(path=str(ARTIFACTS / "dask_dashboard_proxy.png"))
            except Exception:
                page.screenshot(path=str(ARTIFACTS / "dask_dashboard_proxy_failure.png"), full_page=True)
                raise
