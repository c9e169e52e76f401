"""Real browser: a THEIA snow map loaded from the demo shows its producer's legend on TerraMap.

JupyterLab on 127.0.0.1, Playwright on Debian's Chromium: a notebook loads the demo's snow L2B
products with terra_lab.load and adds them to a TerraMap without any colormap; the page must
show the LIS classes (colour swatches and names) and tiles in the LIS colours.
"""

import nbformat
import numpy as np
import pytest
from conftest import ARTIFACTS, jupyterlab, run_all_cells
from PIL import Image

pytestmark = pytest.mark.slow

_CELL = """
import os
os.environ["TERRA_LAB_OFFLINE"] = "1"   # no network: the basemap is the kernel's hillshade of the demo DEM
import terra_lab
from terra_lab.display.map import TerraMap
from terra_lab.profiles import _collections as C
cat = terra_lab.catalog.open("demo")
items = [it for it in cat.search(collections=C.SNOW_L2B_COLLECTION).items if "SNW_R2" in it["assets"]]
snow = terra_lab.load(items, group_by=None)["snow"]
snow = snow.isel(time=int((snow == 100).sum(["y", "x"]).argmax()))  # the snowiest date
w, s, e, n = items[0]["bbox"]
m = TerraMap(center=((s + n) / 2, (w + e) / 2), zoom=13)
m.add_layer(snow, name="snow")
m
"""


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("lab-legend")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(_CELL)])
    nbformat.write(nb, work / "legend.ipynb")
    with jupyterlab(work) as served:
        yield served


def test_snow_map_shows_the_lis_legend(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    try:
        run_all_cells(page, url, token, "legend.ipynb")
        page.wait_for_selector(".terra-map img.terra-tile[data-loaded='1']", timeout=180_000)
        page.wait_for_timeout(1500)
        legend = page.locator(".terra-legend").first
        assert legend.locator(".swatch").count() == 3
        text = legend.inner_text()
        assert "100 Snow" in text and "0 No snow" in text and "205 Cloud" in text
        colours = [legend.locator(".swatch").nth(i).evaluate("e => getComputedStyle(e).backgroundColor")
                   for i in range(3)]
        assert colours == ["rgb(119, 119, 119)", "rgb(0, 255, 255)", "rgb(255, 255, 255)"]
        shot = page.locator(".terra-map").first.screenshot(path=str(ARTIFACTS / "snow_legend.png"))
        img = np.asarray(Image.open(__import__("io").BytesIO(shot)).convert("RGB")).reshape(-1, 3)
        cyan = np.all(img == (0, 255, 255), axis=1).mean()
        assert cyan > 0.05  # snow pixels drawn in LIS cyan (the swatch alone is 0.05%)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "legend_failure.png"), full_page=True)
        raise
