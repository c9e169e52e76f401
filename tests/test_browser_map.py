"""Real browser: JupyterLab on 127.0.0.1 driven by Playwright on Debian's Chromium.

Runs a notebook (written here: an NDVI cube of the demo on a TerraMap, offline basemap, the
clicked pixel's NDVI series plotted with hvplot), waits for kernel-rendered tiles with
non-blank pixels, clicks the map and waits for the pixel time-series plot.  Screenshots go to
test-artifacts/.
"""

import subprocess
import sys

import nbformat
import pytest
from conftest import ARTIFACTS, assert_not_blank, jupyterlab, run_all_cells

pytestmark = pytest.mark.slow

_CELLS = ["""
import os
os.environ["TERRA_LAB_OFFLINE"] = "1"   # no network: the basemap is the kernel's hillshade of the demo DEM
import hvplot.xarray  # noqa: F401
import ipywidgets as w
import terra_lab
from terra_lab.display.map import TerraMap
from terra_lab.display.plots import bokeh_widget
cat = terra_lab.catalog.open("demo")
res = cat.search((6.28, 45.17, 6.34, 45.21), "2024-04-01/2024-08-31", "THEIA_REFLECTANCE_SENTINEL2_L2A", max_cloud=40)
cube = terra_lab.load(res, bands=["red", "nir"], resolution=20, apply_masks=True)
ndvi = ((cube.nir - cube.red) / (cube.nir + cube.red)).rename("NDVI")
""", """
m = TerraMap(center=(45.19, 6.30), zoom=13)
layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)
plot = w.VBox()
def show_series(change):
    ts = m.pixel_series(layer)          # computes this one pixel's series only
    if ts is None:
        plot.children = [w.HTML("outside the layer")]
        return
    title = f"NDVI at {m.clicked[0]:.4f}, {m.clicked[1]:.4f}"
    plot.children = [bokeh_widget(ts.hvplot.line(x="time", title=title, width=520, height=220, line_width=2),
                                  width=520, height=220)]
m.observe(show_series, names="clicked")
w.VBox([m, m.time_slider(layer), plot])
"""]


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in _CELLS])
    nbformat.write(nb, work / "map_series.ipynb")
    with jupyterlab(work) as served:
        yield served


def test_notebook_shows_tiles_and_pixel_series(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        run_all_cells(page, url, token, "map_series.ipynb")
        page.wait_for_selector(".terra-map img.terra-tile[data-loaded='1']", timeout=180_000)
        page.wait_for_timeout(2000)
        loaded = page.locator(".terra-map img.terra-tile[data-loaded='1']").count()
        assert loaded >= 1
        shot = page.locator(".terra-map").first.screenshot(path=str(ARTIFACTS / "map_tiles.png"))
        assert_not_blank(shot, "map with kernel tiles")
        box = page.locator(".terra-map").first.bounding_box()
        assert box["width"] > 300
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
        page.locator(".terra-map").first.scroll_into_view_if_needed()
        iframe = page.wait_for_selector("iframe.terra-plot", timeout=120_000)
        iframe.content_frame().wait_for_selector("canvas", timeout=60_000)  # BokehJS drew the plot
        iframe.scroll_into_view_if_needed()
        page.wait_for_timeout(1000)
        # a line plot is mostly white background: only a uniform picture fails
        assert_not_blank(iframe.screenshot(path=str(ARTIFACTS / "pixel_series_plot.png")), "pixel series plot",
                         max_uniform=0.98)
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
