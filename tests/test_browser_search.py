"""SearchMap used as a person would, in JupyterLab (Playwright on Debian's Chromium), at 1280x720 and 1400x900.

Open a notebook holding ``SearchMap("demo")`` (French, the default) at 1280x720 or
``SearchMap("demo", lang="en")`` at 1400x900, check the map has a real width, draw a box (1280x720) or a
polygon (1400x900) with the mouse (Leaflet draw tools), press Search, read the result count and the table
headers, click a footprint (its rows are selected), sort by a header,
click a row (its footprint turns to the selection colour), Load as cube, Show NDVI, wait for the
kernel-rendered tiles and check the map screenshot is not blank; the view shows no word of the other
language.  Also: the README's quick start,
as one cell of a fresh notebook, runs in JupyterLab without an error or a warning.
Screenshots go to test-artifacts/.
"""

import re
from pathlib import Path

import nbformat
import pytest
from conftest import ARTIFACTS, assert_not_blank, jupyterlab, run_all_cells
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from terra_lab.display._footprints import HOVER_STYLE, SELECTED_STYLE, STYLE
from terra_lab.display._i18n import SEARCH_LABELS, label
from terra_lab.display._results_table import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1280, 720, "rectangle", "fr"), (1400, 900, "polygon", "en")]


def _words(key: str, lang: str, **values) -> str:
    """The view's text for ``key`` up to its first ``{field}`` (what a page shows of it for sure)."""
    return label(SEARCH_LABELS, key, lang).split("{")[0].strip(" :.,") if not values else \
        label(SEARCH_LABELS, key, lang).format(**values)


def _foreign(text: str, lang: str) -> list[str]:
    """SearchMap's words of the other language that ``text`` shows (field-free labels, 4+ characters)."""
    other = "en" if lang == "fr" else "fr"
    own = "\n".join(e[lang] for e in SEARCH_LABELS.values())
    return sorted(e[other] for e in SEARCH_LABELS.values()
                  if "{" not in e[other] and len(e[other]) > 3 and e[other] not in own
                  and re.search(rf"(?<!\w){re.escape(e[other])}(?!\w)", text))

pytestmark = pytest.mark.slow


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _open_fresh(page, url: str, token: str, notebook: str) -> None:
    """Run ``notebook`` in a reset JupyterLab workspace (no tab left open by an earlier test)."""
    page.goto(f"{url}/lab?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Launcher", timeout=90_000)
    run_all_cells(page, url, token, notebook)
    late = page.locator(".jp-Dialog button.jp-mod-accept")
    try:  # on a busy machine the kernel dialog may come after run_all_cells stopped waiting for it
        late.wait_for(timeout=3_000)
        late.click()
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    except PlaywrightTimeout:
        pass
    started = "() => [...document.querySelectorAll('.jp-InputPrompt')].some((p) => /\\[[*0-9]/.test(p.textContent))"
    for _ in range(3):  # a Run All issued while the kernel was still starting does nothing: run again
        try:
            page.wait_for_function(started, timeout=20_000)
            return
        except PlaywrightTimeout:
            page.click("text=Run", timeout=30_000)
            page.click("text=Run All Cells", timeout=30_000)
    page.wait_for_function(started, timeout=30_000)


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("lab-search")
    _notebook(work / "search_fr.ipynb", 'from terra_lab.display.search import SearchMap\n\nsm = SearchMap("demo")\nsm')
    _notebook(work / "search_en.ipynb",
              'from terra_lab.display.search import SearchMap\n\nsm = SearchMap("demo", lang="en")\nsm')
    readme = (ROOT / "README.md").read_text().split("## Quick start", 1)[1]
    _notebook(work / "readme.ipynb", re.search(r"```python\n(.*?)```", readme, re.S).group(1).rstrip("\n"))
    with jupyterlab(work) as served:
        yield served


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}-{tool}-{lang}" for w, h, tool, lang in SIZES])
def test_draw_search_pick_load_show(lab, browser, size):
    url, token = lab
    w, h, tool, lang = size
    tag = f"{w}x{h}"
    items = _words("items", lang)
    page = browser.new_page(viewport={"width": w, "height": h})
    step = "open"
    try:
        _open_fresh(page, url, token, f"search_{lang}.ipynb")
        root = page.locator(".jp-OutputArea-output").filter(has=page.locator(".leaflet-container")).first
        mapbox = root.locator(".leaflet-container").first
        mapbox.wait_for(timeout=120_000)
        page.wait_for_selector(".tl-search-message:has-text('collections')", timeout=60_000)
        mapbox.scroll_into_view_if_needed()
        box = mapbox.bounding_box()
        assert box["width"] > 300 and box["height"] > 300, f"the map is {box['width']} x {box['height']} px"
        step = "draw"
        # draw with the mouse around the map's centre: a box (rectangle tool, drag) or a polygon (clicks)
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        root.locator(f".leaflet-draw-draw-{tool}").click()
        if tool == "rectangle":
            page.mouse.move(cx - 40, cy - 30)
            page.mouse.down()
            page.mouse.move(cx, cy, steps=5)
            page.mouse.move(cx + 40, cy + 30, steps=5)
            page.mouse.up()
        else:
            for dx, dy in [(-40, -30), (40, -35), (45, 30), (-35, 35), (-40, -30)]:  # back to the first: closed
                page.mouse.click(cx + dx, cy + dy)
                page.wait_for_timeout(300)
        page.wait_for_selector(f".tl-search-message:has-text(\"{_words('area_drawn', lang)}\")", timeout=30_000)
        step = "search"
        root.locator(f"button:has-text('{_words('search', lang)}')").click()
        message = page.wait_for_selector(f".tl-search-message:has-text('{items}')", timeout=60_000)
        n = int(re.search(rf"(\d+) {items}", message.inner_text()).group(1))
        assert n > 0, message.inner_text()
        headers = [t.strip(" ▲▼") for t in root.locator(".tl-results th").all_inner_texts()]
        assert headers == [_words(f"col_{key}", lang) for key, _ in COLUMNS], headers
        rows = root.locator(".tl-results tbody tr")
        assert rows.count() == n
        # footprints: outlined (fill opacity 0), one per date and tile, with a count label
        paths = root.locator(f".leaflet-overlay-pane path[stroke='{STYLE['color']}']")  # not the drawn area's
        assert paths.count() >= 1
        assert {paths.nth(i).get_attribute("fill-opacity") for i in range(paths.count())} == {"0"}
        assert re.search(rf"\d+ ({_words('item', lang)}|{items})$", root.locator(".tl-footprint-count").first.inner_text())
        step = "footprint click"
        # click a footprint's outline: its rows are selected in the table
        edge = page.evaluate("""(color) => {
            const p = [...document.querySelectorAll(`.leaflet-overlay-pane path[stroke='${color}']`)].pop();
            const pt = p.getPointAtLength(p.getTotalLength() * 0.1), m = p.getScreenCTM();
            return {x: pt.x * m.a + pt.y * m.c + m.e, y: pt.x * m.b + pt.y * m.d + m.f};
        }""", STYLE["color"])
        page.mouse.click(edge["x"], edge["y"])
        page.wait_for_selector(".tl-results tr.tl-selected", timeout=30_000)
        box = mapbox.bounding_box()
        page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 40)  # off the outline: its hover style goes
        page.wait_for_selector(f".leaflet-overlay-pane path[stroke='{SELECTED_STYLE['color']}']", timeout=30_000)
        step = "sort"
        # sort by cloud cover: a header click reorders the rows
        root.locator(".tl-results th[data-key='cloud']").click()
        page.wait_for_selector(".tl-results th[aria-sort='ascending'][data-key='cloud']", timeout=30_000)
        page.wait_for_function("""() => {  // the kernel sent the rows back in cloud order
            const v = [...document.querySelectorAll(".tl-results td[data-key='cloud']")]
                .map((td) => (td.textContent === "\u2013" ? Infinity : Number(td.textContent)));
            return v.length > 0 && v.every((x, i) => i === 0 || v[i - 1] <= x);
        }""", timeout=30_000)
        page.wait_for_timeout(1000)  # the rows are redrawn once more if the order changed
        step = "row click"
        # pick a row: it is marked, its footprint takes the selection colour, its quicklook shows
        row = rows.nth(1)
        row.click()
        row_id = row.get_attribute("data-id")
        page.wait_for_selector(f".tl-results tr.tl-selected[data-id='{row_id}']", timeout=30_000)
        page.wait_for_selector(f".leaflet-overlay-pane path[stroke='{SELECTED_STYLE['color']}']", timeout=30_000)
        root.locator("img[src^='blob:'], img[src^='data:']").first.wait_for(timeout=30_000)
        step = "row hover"
        # hover another row: its footprint takes the hover colour
        rows.nth(3).hover()
        page.wait_for_selector(f".leaflet-overlay-pane path[stroke='{HOVER_STYLE['color']}']", timeout=30_000)
        step = "load"
        root.locator(f"button:has-text(\"{_words('load', lang)}\")").click()
        page.wait_for_selector(".tl-search-message:has-text('.cube')", timeout=120_000)
        step = "show NDVI"
        layers = root.locator(".terra-kernel-layer")  # kernel-tile layers: the offline basemap, then NDVI
        before = layers.count()
        root.locator(f"button:has-text(\"{_words('show_product', lang, product='NDVI')}\")").click()
        page.wait_for_selector(f".tl-search-message:has-text(\"{_words('on_the_map', lang, product='NDVI')}\")", timeout=60_000)
        page.wait_for_function(f"document.querySelectorAll('.terra-kernel-layer').length > {before}", timeout=60_000)
        layers.last.locator("img.terra-tile[data-loaded='1']").first.wait_for(timeout=180_000)
        page.wait_for_timeout(2500)
        mapbox.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"search_map_{tag}_page.png"))
        shot = mapbox.screenshot(path=str(ARTIFACTS / f"search_map_{tag}.png"))
        assert_not_blank(shot, f"SearchMap with NDVI at {tag}")
        step = "one language"
        shown = root.evaluate("(el) => el.innerText + ' ' + "
                              "[...el.querySelectorAll('input')].map((i) => i.placeholder).join(' ')")
        assert not _foreign(shown, lang), f"the {lang} view shows {_foreign(shown, lang)}"
    except Exception as e:
        page.screenshot(path=str(ARTIFACTS / f"search_map_{tag}_failure.png"), full_page=True)
        raise AssertionError(f"SearchMap at {tag}, step {step!r}: {e}") from e
    finally:
        page.close()


def test_readme_quick_start_in_a_fresh_notebook(lab, browser):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        _open_fresh(page, url, token, "readme.ipynb")
        out = page.wait_for_selector(".jp-OutputArea-output:has-text('xarray.DataArray')", timeout=180_000)
        assert out is not None
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert errors.count() == 0, errors.all_inner_texts()
        assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0
        page.screenshot(path=str(ARTIFACTS / "readme_quick_start.png"))
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "readme_quick_start_failure.png"), full_page=True)
        raise
    finally:
        page.close()

