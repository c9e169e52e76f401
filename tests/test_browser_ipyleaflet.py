"""Real browser: terra_lab's kernel-rendered layer on ipyleaflet, on leafmap, and TerraMap used like a person would.

JupyterLab on 127.0.0.1, Playwright on Debian's Chromium, no network (the offline basemap: a
hillshade of the demo DEM rendered by the kernel).  One notebook shows

(a) a ``KernelTileLayer`` on a plain ``ipyleaflet.Map``,
(b) the same layer on a ``leafmap.Map``,
(c) a ``TerraMap`` with the offline basemap, layer control and legend, on which the test draws a
    rectangle with the mouse (the kernel's ``m.aoi`` is printed into the page) and clicks a
    pixel (a marker appears there, and the kernel prints ``m.clicked``),
(d) a split view of two layers (ipyleaflet's SplitMapControl),
(e) a ``TerraMap`` with the online basemaps: all listed in the layer control, only the shown one
    requesting tiles.

Screenshots: test-artifacts/ipyleaflet_plain.png, ipyleaflet_leafmap.png, terra_map_offline.png,
terra_map_split.png.
"""

import json

import nbformat
import pytest
from conftest import ARTIFACTS, assert_not_blank, jupyterlab, run_all_cells

pytestmark = pytest.mark.slow

_SETUP = """
import os
os.environ["TERRA_LAB_OFFLINE"] = "1"   # no network here: TerraMap's basemap is the kernel's hillshade
import json
import ipyleaflet
import ipywidgets as w
import terra_lab
from terra_lab.display._kernel_layer import KernelTileLayer
cat = terra_lab.catalog.open("demo")
res = cat.search((6.28, 45.17, 6.34, 45.21), "2024-04-01/2024-08-31", "THEIA_REFLECTANCE_SENTINEL2_L2A", max_cloud=40)
cube = terra_lab.load(res, bands=["red", "nir"], resolution=20, apply_masks=True)
ndvi = ((cube.nir - cube.red) / (cube.nir + cube.red)).rename("NDVI")
"""

_PLAIN = """
plain = ipyleaflet.Map(center=(45.2, 6.30), zoom=13)  # its OpenStreetMap basemap fails offline: fine
plain.add(KernelTileLayer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9))
plain.add(KernelTileLayer(ndvi.isel(time=0), name='<img src=x onerror="window.__xss=1">', vmin=0, vmax=1, opacity=0))
plain.add(ipyleaflet.LayersControl(position="topright", collapsed=False))
plain.add_class("plain-map")
plain
"""

_LEAFMAP = """
import leafmap
lm = leafmap.Map(center=(45.2, 6.30), zoom=13)
lm.add(KernelTileLayer(ndvi.isel(time=0), name="NDVI first date", cmap="viridis", vmin=0, vmax=0.9))
lm.add_class("leafmap-map")
lm
"""

_TERRA = """
from terra_lab.display.map import TerraMap
m = TerraMap(center=(45.19, 6.30), zoom=13)
layer = m.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9, label="NDVI (-)", opacity=0.75)
out = w.Output()
m.observe(lambda ch: out.append_stdout("AOI " + json.dumps(ch["new"]) + "\\n"), names="aoi")
m.observe(lambda ch: out.append_stdout("CLICKED %.5f %.5f\\n" % tuple(ch["new"])), names="clicked")
print("bases:", [ly.name for ly in m.layers if ly.base])
w.VBox([m, m.time_slider(layer), out])
"""


_SPLIT = """
sp = TerraMap(center=(45.2, 6.30), zoom=13)
sp.add_layer(ndvi, name="NDVI", cmap="RdYlGn", vmin=0, vmax=0.9)
sp.add_layer(ndvi.isel(time=0), name="first date", cmap="Blues", vmin=0, vmax=0.9)
sp.split()
sp.add_class("split-map")
sp
"""

_ONLINE = """
online = TerraMap(center=(45.19, 6.30), zoom=13, basemap="osm")   # online basemaps: only the shown one loads
online.add_class("online-map")
online
"""


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("lab-ipyleaflet")
    cells = [nbformat.v4.new_code_cell(c) for c in (_SETUP, _PLAIN, _LEAFMAP, _TERRA, _SPLIT, _ONLINE)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), work / "ipyleaflet.ipynb")
    with jupyterlab(work) as served:
        yield served


def _loaded_tiles(page, root: str, timeout: float = 180_000) -> None:
    page.wait_for_selector(f"{root} .terra-kernel-layer img.terra-tile[data-loaded='1']", timeout=timeout,
                           state="attached")


def _map_box(page, root: str, name: str):
    el = page.locator(root).first
    el.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the last tiles fade in
    box = el.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200, f"{name}: the map is {box}"
    shot = el.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    assert_not_blank(shot, name)
    return box


def test_terra_lab_layers_on_ipyleaflet_leafmap_and_terramap(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    try:
        run_all_cells(page, url, token, "ipyleaflet.ipynb")
        # (a) a plain ipyleaflet.Map
        _loaded_tiles(page, ".plain-map")
        _map_box(page, ".plain-map", "ipyleaflet_plain")
        control = page.locator(".plain-map .leaflet-control-layers").inner_text()
        assert "NDVI" in control and '<img src=x onerror="window.__xss=1">' in control  # a name is text, not HTML
        assert page.evaluate("window.__xss") is None
        # (b) a leafmap map
        _loaded_tiles(page, ".leafmap-map")
        _map_box(page, ".leafmap-map", "ipyleaflet_leafmap")
        # (c) TerraMap offline: a hillshade basemap and the layer, both rendered by the kernel
        page.locator(".terra-map").first.scroll_into_view_if_needed()
        page.wait_for_function(
            "document.querySelectorAll(\".terra-map .terra-kernel-layer img.terra-tile[data-loaded='1']\").length >= 4",
            timeout=180_000)
        control = page.locator(".terra-map .leaflet-control-layers").first.inner_text()
        assert "Relief (offline)" in control and "NDVI" in control, control
        assert "NDVI (-)" in page.locator(".terra-map .terra-legend").first.inner_text()
        page.wait_for_selector("text=bases: ['Relief (offline)']", timeout=30_000)
        box = _map_box(page, ".terra-map", "terra_map_offline_before")
        # draw a rectangle with the mouse, as a person: the draw tool, then press, drag, release
        page.locator(".terra-map .leaflet-draw-draw-rectangle").first.click()
        x0, y0 = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35
        x1, y1 = box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.6
        page.mouse.move(x0, y0)
        page.mouse.down()
        for k in range(1, 11):
            page.mouse.move(x0 + (x1 - x0) * k / 10, y0 + (y1 - y0) * k / 10)
            page.wait_for_timeout(30)
        page.mouse.up()
        aoi_line = page.locator("text=/^AOI /").first
        aoi_line.wait_for(timeout=30_000)
        aoi = json.loads(aoi_line.inner_text().split("AOI ", 1)[1].splitlines()[0])
        assert aoi["type"] == "Polygon" and len(aoi["coordinates"][0]) == 5
        lons = [p[0] for p in aoi["coordinates"][0]]
        lats = [p[1] for p in aoi["coordinates"][0]]
        assert 6.2 < min(lons) < max(lons) < 6.4 and 45.1 < min(lats) < max(lats) < 45.3
        # click a pixel: the kernel snaps it to the pixel centre and a marker appears there
        page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7)
        page.get_by_text("CLICKED", exact=False).first.wait_for(timeout=30_000)
        marker = page.locator(".terra-map path[stroke='#d62728']").first
        marker.wait_for(timeout=30_000)
        mb = marker.bounding_box()
        assert mb and abs(mb["x"] + mb["width"] / 2 - (box["x"] + box["width"] * 0.7)) < 20
        page.wait_for_timeout(1000)
        shot = page.locator(".terra-map").first.screenshot(path=str(ARTIFACTS / "terra_map_offline.png"))
        assert_not_blank(shot, "terra_map_offline")
        # (d) split view: each side clipped to its half, the divider in the middle
        _loaded_tiles(page, ".split-map")
        page.locator(".split-map .leaflet-sbs-divider").first.wait_for(timeout=30_000)
        clips = page.locator(".split-map .terra-kernel-layer").evaluate_all("els => els.map(e => e.style.clip)")
        assert len({c for c in clips if c.startswith("rect(")}) == 2, clips  # a left and a right half
        zs = page.locator(".split-map .terra-kernel-layer").evaluate_all("els => els.map(e => e.style.zIndex)")
        # relief (added first) at the bottom, then the layers in the map's order (the layer control's
        # autoZIndex renumbers them 1, 2, 3 in that same order)
        assert len(set(zs)) == 3 and int(zs[0]) < min(int(z) for z in zs[1:]), zs
        _map_box(page, ".split-map", "terra_map_split")
        # (e) online basemaps: all three in the layer control, only OpenStreetMap on the map (its tiles
        # fail here, offline), the IGN ones loading nothing until picked
        online = page.locator(".online-map").first
        online.scroll_into_view_if_needed()
        online.locator(".leaflet-control-layers").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        names = online.locator(".leaflet-control-layers-base label").all_inner_texts()
        assert [n.strip() for n in names] == ["OpenStreetMap", "IGN plan", "IGN orthophotos"], names
        checked = online.locator(".leaflet-control-layers-base input").evaluate_all("els => els.map(e => e.checked)")
        assert checked == [True, False, False]
        srcs = online.locator("img.leaflet-tile").evaluate_all("els => els.map(e => e.src)")
        assert srcs and all("openstreetmap" in s for s in srcs), srcs[:3]
        # one Leaflet, one jupyter-leaflet, one widget manager: none of the shared modules terra-lab-widgets
        # asks for (widgets/package.json) refused, no model or view of it failing.  (jupyter-leaflet's own
        # "leaflet (required =1.4.0)" warning is not ours.)
        ours = ("(required ^1.9.4)", "(required ~0.20.0)", "(required ^6.0.0)")
        bad = [m for m in console if ("Unsatisfied version" in m and m.endswith(ours))
               or "Failed to load model class" in m or "Could not create a view" in m]
        assert not bad, bad
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "ipyleaflet_failure.png"), full_page=True)
        raise
    finally:
        page.close()
