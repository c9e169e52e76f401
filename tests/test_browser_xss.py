"""No script injection: text from users and catalogues is shown as text, never run as HTML.

Real browser: `terra-lab workshop serve snow forest` on 127.0.0.1, driven by Playwright on
Debian's Chromium.  HTML goes in a typed collection id, a DEM and an OSO collection id, a
catalogue URL and a catalogue's own collection id (listed in the error message); after
"Calculer" the message must show the literal ``<img src=x`` text while no ``<img src=x>``
element exists anywhere in the page (shadow roots included: Panel and Bokeh render there)
and no ``onerror`` handler ran.  Unit tests cover the escaping helper, the dashboards'
tables, TerraMap's layer names and legend, and SearchMap's messages and results table.
"""

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ARTIFACTS, free_port, service

ROOT = Path(__file__).resolve().parents[1]

#: every element of the page, through open shadow roots: <img src=x> elements, onerror attributes, the flag
_PROBE = """() => {
  const imgs = [], handlers = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') imgs.push(el.outerHTML);
      if (el.hasAttribute('onerror')) handlers.push(el.outerHTML);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return {xss: window.__xss === undefined ? null : window.__xss, imgs, handlers};
}"""


def _payload(n: int) -> str:
    return f'<img src=x onerror="window.__xss={n}">'


# ------------------------------------------------------------------------------- unit tests
def test_page_text_shows_markup_as_text():
    import panel as pn

    from terra_lab.dashboards._common import page_text

    raw = "Erreur : <img src=x onerror=\"a()\"> <script>b()</script> *em* [l](javascript:c()) $x$ | &amp; `c`"
    import html as _html

    shown = _html.unescape(pn.pane.Alert(page_text(raw)).get_root().text)  # the HTML the page parses
    assert "<img" not in shown and "<script" not in shown and "<a " not in shown and "<em>" not in shown
    assert "&lt;img src=x onerror=&quot;a()&quot;&gt;" in shown and "*em*" in shown and "[l](javascript:c())" in shown
    assert "&amp;amp;" in shown and "$x$" in shown  # an entity typed by the user is shown as typed
    assert page_text("plain text 12") == "plain text 12" and page_text(None) == "None"


def test_dashboard_message_and_tables_are_text():
    import pandas as pd

    from terra_lab.dashboards.biodiversity import BiodiversityDashboard
    from terra_lab.dashboards.snow import SnowDashboard

    d = SnowDashboard()
    d._say(f"Erreur : {_payload(1)}", "danger")
    assert "<img" not in d._message.object and "&#60;img" in d._message.object

    import html as _html

    from terra_lab.dashboards._tables import kv_table, table_pane

    # the (quantity, value) tables of every theme (biodiversity's summary) and their data-frame tables
    for frame in (kv_table([("date", _payload(2)), ("<b>name</b>", "3")], "en"),
                  pd.DataFrame({"band": [_payload(3)], "n": [1]})):
        pane = table_pane(frame)
        shown = _html.unescape(pane.get_root().text)  # the HTML the page parses
        assert pane.escape and "<img" not in shown and "<b>" not in shown and "&lt;img src=x" in shown
    assert BiodiversityDashboard(language="en")  # the theme that shows such a table builds


def test_terra_map_names_and_legend_are_text():
    import numpy as np
    import xarray as xr

    from terra_lab.display.map import TerraMap

    da = xr.DataArray(np.zeros((4, 4), "float32"), dims=("y", "x"),
                      coords={"y": np.arange(4.0) * -10 + 5e6, "x": np.arange(4.0) * 10 + 7e5}, name="v")
    da = da.rio.write_crs(32631)
    m = TerraMap(basemap=None)
    layer = m.add_layer(da, name=_payload(4), vmin=0, vmax=1, label=_payload(5))
    # Leaflet's layer control writes layer names as HTML: the name is escaped
    assert "<img" not in layer.name and "&lt;img src=x" in layer.name
    # the legend (an ipywidgets HTML in a WidgetControl) escapes every text it shows
    assert layer.legend["label"] == _payload(5)  # data; escaped where it becomes HTML
    assert "<img" not in m._legend.value and "&lt;img src=x" in m._legend.value
    source = (ROOT / "widgets" / "src" / "kernel-layer.ts").read_text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "bindTooltip" not in source


def test_search_map_messages_and_table_are_text(demo_root):
    """Catalogue text reaching SearchMap's HTML message (collection ids, catalogue names) is escaped;
    the results table writes its cells with textContent (never HTML) in the browser, so its rows
    carry the raw text."""
    from terra_lab.display._results_table import _ESM, item_row
    from terra_lab.display.search import SearchMap

    sm = SearchMap("demo")
    sm.set_area((6.28, 45.17, 6.34, 45.21))
    assert sm.search() and len(sm.results) > 0
    item = dict(sm.results.items[0], id=_payload(7))
    assert item_row(item)["id"] == _payload(7)  # raw text, written by textContent
    assert "innerHTML" not in _ESM and "textContent" in _ESM  # the table's front end
    sm._say(f"collection {_payload(9)}")
    assert "<img" not in sm.message.value and "&lt;img src=x" in sm.message.value
    sm.catalog_box.value = f"/nonexistent/{_payload(8)}"
    assert "<img" not in sm.message.value and "&lt;img src=x" in sm.message.value


# ---------------------------------------------------------------------------- real browser
@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "forest", "--port", str(port)]
    with service(cmd, f"{url}/snow", tmp_path_factory.mktemp("xss") / "serve.log", timeout=90):
        yield url


@pytest.fixture(scope="module")
def html_catalog(demo_root, tmp_path_factory):
    """A local catalogue whose only collection id is HTML (written directly, as no ingest would)."""
    root = tmp_path_factory.mktemp("htmlcat")
    (root / "items").mkdir()
    (root / "collections").mkdir()
    shutil.copy(demo_root / "catalog" / "items" / "cop-dem-eea-10-laea-tif.parquet",
                root / "items" / f"{_payload(9)}.parquet")
    return root


def _inject(page, server, theme, fields: dict[str, str], expected: str):
    page.goto(f"{server}/{theme}", wait_until="domcontentloaded")
    page.wait_for_selector("text=Calculer", timeout=60_000)
    page.locator("select:has(option:text-is('Préréglage'))").select_option(label="Expert")  # the mode selector
    page.wait_for_selector("text=Catalogue", timeout=30_000)
    for label, value in fields.items():
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
    page.wait_for_timeout(500)
    page.click("text=Calculer")
    page.locator(".alert-danger").first.wait_for(timeout=120_000)  # the error message arrived
    page.wait_for_timeout(1000)  # (an injected <img src=x> would have errored and run its handler by now)
    probe = page.evaluate(_PROBE)
    assert probe == {"xss": None, "imgs": [], "handlers": []}, f"the message created elements or ran script: {probe}"
    details = page.get_by_text("Détails techniques")  # a library's (English) message is folded on a French page
    if details.count() and details.first.is_visible():
        details.first.click()
    page.get_by_text(expected).first.wait_for(timeout=10_000)  # ...and shows the HTML as text
    assert page.evaluate(_PROBE) == {"xss": None, "imgs": [], "handlers": []}, "unfolding the details ran script"


@pytest.mark.slow
@pytest.mark.parametrize("case, theme, fields, expected", [
    ("collection", "snow", {"Collection": _payload(1)}, "<img src=x onerror=\"window.__xss=1\">"),
    ("dem_collection", "snow", {"Collection MNT": _payload(2)}, "<img src=x onerror=\"window.__xss=2\">"),
    ("oso_collection", "forest", {"Collection d'occupation du sol (OSO)": _payload(3)},
     "<img src=x onerror=\"window.__xss=3\">"),
    ("catalogue_url", "snow", {"Catalogue": f"file:///{_payload(4)}"}, "<img src=x onerror=\"window.__xss=4\">"),
    ("catalogue_listing", "snow", {"Catalogue": "HTML_CATALOG"}, "<img src=x onerror=\"window.__xss=9\">"),
])
def test_html_in_inputs_is_shown_as_text(server, html_catalog, browser, case, theme, fields, expected):
    fields = {k: (str(html_catalog) if v == "HTML_CATALOG" else v) for k, v in fields.items()}
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        _inject(page, server, theme, fields, expected)
        page.screenshot(path=str(ARTIFACTS / f"xss_{case}.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"xss_{case}_failure.png"), full_page=True)
        raise
    finally:
        page.close()
