"""Real browser: the snow and forest dashboards' maps as a workshop attendee sees them, offline
(TERRA_LAB_OFFLINE=1: the DEM's shaded relief as basemap, no tile request).

The map must fill its frame: the screenshot of the plot is not blank, and inside the plot frame
(found from Bokeh's own layout) the data and the basemap cover more than 80 % of the pixels
(the old map left 40 % of the frame white); on the snow map the data alone covers more than 80 %.
Hovering gives longitude/latitude in degrees and the value with its unit; a click, the pixel's
place in degrees.  Screenshots are kept in
test-artifacts/ (``<theme>_map_<lang>.png``).
"""

import io
import itertools
import sys

import numpy as np
import pytest
from conftest import ARTIFACTS, assert_not_blank, free_port, service

from terra_lab.dashboards._basemap import _RELIEF

pytestmark = pytest.mark.slow

#: the plot frames of the page (page coordinates), from Bokeh's views
_FRAMES_JS = """() => {
  const out = [];
  for (const v of Bokeh.index.all_views()) {
    if (v.frame && v.model.title && v.model.title.text) {
      const r = v.el.getBoundingClientRect(), b = v.frame.bbox;
      out.push({title: v.model.title.text, plot: [r.left, r.top, r.width, r.height],
                frame: [r.left + b.x0, r.top + b.y0, b.x1 - b.x0, b.y1 - b.y0]});
    }
  }
  return out;
}"""


TITLES = {("snow", "fr"): "Durée d'enneigement (SCD), jours", ("snow", "en"): "Snow cover duration (SCD), days",
          ("forest", "fr"): "État de dépérissement"}


@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "forest", "--port", str(port)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TERRA_LAB_OFFLINE", "1")
        with service(cmd, f"{url}/snow", tmp_path_factory.mktemp("ws") / "serve.log", timeout=240):  # busy CI
            yield url


def _rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def _relief_distance(img: np.ndarray) -> np.ndarray:
    """Distance (RGB units) of each pixel to the basemap's relief colour ramp (piecewise linear)."""
    stops = [np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)], float) for c in _RELIEF]
    best = np.full(img.shape[:2], np.inf)
    for a, b in itertools.pairwise(stops):
        t = np.clip(((img - a) @ (b - a)) / ((b - a) @ (b - a)), 0, 1)
        best = np.minimum(best, np.linalg.norm(img - (a + t[..., None] * (b - a)), axis=-1))
    return best


def _coverage(frame_png: bytes) -> tuple[float, float]:
    """(painted, data): shares of the frame's pixels that are not the white page, and that are
    neither white nor the relief's sepia (the data layer, masked pixels included)."""
    img = _rgb(frame_png)
    white = (img > 250).all(axis=-1)
    relief = _relief_distance(img) < 12
    return float((~white).mean()), float((~white & ~relief).mean())


@pytest.mark.parametrize("theme, lang, min_data", [("snow", "fr", 0.8), ("snow", "en", 0.8), ("forest", "fr", 0.3)])
def test_map_fills_its_frame_over_the_offline_basemap(server, browser, theme, lang, min_data):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    shot = ARTIFACTS / f"{theme}_map_{lang}.png"
    try:
        page.goto(f"{server}/{theme}?lang={lang}", wait_until="domcontentloaded")
        run, done = ("Calculer", "Calcul terminé") if lang == "fr" else ("Compute", "Done")
        page.wait_for_selector(f"text={run}", timeout=60_000)
        page.click(f"text={run}")
        page.wait_for_selector(f"text={done}", timeout=180_000)
        page.wait_for_selector("canvas", timeout=60_000)
        page.wait_for_timeout(2000)
        frames = page.evaluate(_FRAMES_JS)
        assert frames, "no Bokeh plot with a title on the page"
        m = frames[0]
        x, y, w, h = m["plot"]
        plot_png = page.screenshot(clip={"x": x, "y": y, "width": w, "height": h})
        shot.write_bytes(plot_png)
        assert_not_blank(plot_png, f"{theme} map ({lang})")
        fx, fy, fw, fh = m["frame"]
        painted, data = _coverage(page.screenshot(clip={"x": fx + 1, "y": fy + 1, "width": fw - 2, "height": fh - 2}))
        print(f"{theme} {lang}: frame {fw:.0f}x{fh:.0f} px, painted {painted:.1%}, data {data:.1%}")
        assert painted > 0.8, f"{theme}: only {painted:.0%} of the map frame is drawn (see {shot})"
        assert data > min_data, f"{theme}: the data covers {data:.0%} of the map frame (see {shot})"
        # a short title in the page's language, with the unit
        assert m["title"] == TITLES[theme, lang]
        if theme == "snow":  # hover: lon/lat in degrees, the value with its unit
            page.mouse.move(fx + fw * 0.3, fy + fh * 0.3)
            page.mouse.move(fx + fw * 0.3 + 2, fy + fh * 0.3 + 2)
            unit = "jours" if lang == "fr" else "days"
            page.locator(f"text=/^\\d+ {unit}$/").first.wait_for(timeout=10_000)  # e.g. "91 jours"
            page.locator("text=/^6\\.\\d{5}°$/").first.wait_for(timeout=10_000)  # the longitude, in degrees
            page.screenshot(path=str(ARTIFACTS / f"{theme}_map_{lang}_hover.png"),
                            clip={"x": x, "y": y, "width": w, "height": h})
        # a click gives the pixel's series, placed in degrees (the map is Web Mercator, the result UTM)
        page.mouse.click(fx + fw * 0.3, fy + fh * 0.7)
        place = page.locator("p:has(strong:has-text('Pixel'))").first
        place.wait_for(timeout=60_000)
        assert "°" in place.inner_text(), place.inner_text()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"{theme}_map_{lang}_failure.png"), full_page=True)
        raise
