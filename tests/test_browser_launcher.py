"""The JupyterLab launcher's THEIA section and the dashboards behind jupyter-server-proxy, as an
attendee sees them: a real JupyterLab and Chromium at 1280x720.  Screenshots go to test-artifacts/.

The THEIA section comes first, its first card in view without scrolling; every card has an icon
and a short label in JupyterLab's language, without a "terra_lab:" prefix; each dashboard has one
card, in that section, opening that theme's dashboard in a new tab.
"""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import ARTIFACTS, assert_in_viewport, assert_not_blank, jupyterlab

from terra_lab.dashboards._i18n import tr

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 1280, "height": 720}
SECTION = {"en": "THEIA workshops", "fr": "Ateliers THEIA"}
NOTEBOOK_LABELS = {
    "en": ["Quick start", "Search on a map", "Snow", "Water", "Forest health", "Biodiversity", "Land cover",
           "Species niche"],
    "fr": ["Prise en main", "Recherche sur carte", "Neige", "Eau", "Santé des forêts", "Biodiversité",
           "Occupation du sol", "Niche d'espèce"],
}
DASHBOARD_LABELS = {  # theme (URL path) -> label
    "en": {"snow": "Snow dashboard", "water": "Water dashboard", "forest": "Forest dashboard",
           "biodiversity": "Biodiversity dashboard"},
    "fr": {"snow": "Tableau de bord neige", "water": "Tableau de bord eau", "forest": "Tableau de bord forêts",
           "biodiversity": "Tableau de bord biodiversité"},
}
RUN_BUTTON = {"en": "button:has-text('Compute')", "fr": "button:has-text('Calculer')"}

pytestmark = pytest.mark.slow


def _lab_with_locale(work: Path, locale: str | None, monkeypatch):
    """A JupyterLab on ``work`` (the workshop notebooks copied in) with its own user settings
    (``locale``: JupyterLab's language setting, None for the default), not the user's."""
    work.mkdir(exist_ok=True)
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, work / nb.name)
    settings = work.parent / f"{work.name}-settings"
    if locale:
        plugin = settings / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
        plugin.parent.mkdir(parents=True)
        plugin.write_text(json.dumps({"locale": locale}))
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(settings))
    monkeypatch.setenv("JUPYTERLAB_WORKSPACES_DIR", str(work.parent / f"{work.name}-workspaces"))
    return jupyterlab(work)


@pytest.fixture(scope="module")
def lab(demo_root, tmp_path_factory):
    """JupyterLab in English (its default language)."""
    with pytest.MonkeyPatch.context() as mp, _lab_with_locale(tmp_path_factory.mktemp("lab"), None, mp) as served:
        yield served


# Playwright reports a new tab once its first page has come: a dashboard server still starting
# delays it (the tab itself opens at the click)
POPUP_TIMEOUT = 240_000


def _open_launcher(browser, url: str, token: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{url}/lab?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Launcher .jp-LauncherCard", timeout=90_000)
    page.wait_for_timeout(500)  # every plugin's cards in (the launcher re-renders as they come)
    return page


def _sections(page) -> list[dict]:
    """The launcher's sections in order: title, and per card its label and whether it has an svg icon."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Launcher .jp-Launcher-section')].map(s => ({
        title: s.querySelector('.jp-Launcher-sectionTitle').textContent.trim(),
        cards: [...s.querySelectorAll('.jp-LauncherCard')].map(c => ({
            label: c.querySelector('.jp-LauncherCard-label').textContent.trim(),
            title: c.getAttribute('title') || '',
            svg: !!c.querySelector('.jp-LauncherCard-icon svg'),
        })),
    }))""")


def _check_launcher(page, lang: str) -> None:
    sections = _sections(page)
    first, others = sections[0], sections[1:]
    assert first["title"] == SECTION[lang], f"the first launcher section is {first['title']!r}: {sections}"
    labels = [c["label"] for c in first["cards"]]
    assert labels == NOTEBOOK_LABELS[lang] + list(DASHBOARD_LABELS[lang].values()), labels
    assert all(c["svg"] for c in first["cards"]), f"cards without an icon: {first['cards']}"
    every = [c for s in sections for c in s["cards"]]
    assert not [c for c in every if "terra_lab" in c["label"].lower()], every
    # no other card leads to a dashboard (jupyter-server-proxy's own entry would sit under Notebook)
    strays = [(s["title"], c) for s in others for c in s["cards"]
              if any(w in (c["label"] + c["title"]).lower() for w in ("dashboard", "tableau", "theia", "terra"))]
    assert not strays, f"dashboard cards outside the THEIA section: {strays}"
    assert_in_viewport(page, ".jp-Launcher-section .jp-LauncherCard", "the first THEIA card")
    assert_in_viewport(page, ".jp-Launcher-section .jp-LauncherCard >> nth=11", "the last THEIA card")


def test_theia_section_first_with_icons_and_short_english_labels(lab, browser):
    url, token = lab
    page = _open_launcher(browser, url, token)
    try:
        page.screenshot(path=str(ARTIFACTS / "launcher.png"))
        _check_launcher(page, "en")
        section = page.locator(".jp-Launcher-section").first.screenshot(path=str(ARTIFACTS / "launcher_theia.png"))
        assert_not_blank(section, "the THEIA launcher section")
        icon = page.locator(".jp-Launcher-section .jp-LauncherCard-icon").nth(2).screenshot()
        assert_not_blank(icon, "the snow card's icon", min_std=20)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "launcher_failure.png"), full_page=True)
        raise


def test_french_labels_when_jupyterlab_is_in_french(demo_root, tmp_path, browser, monkeypatch):
    with _lab_with_locale(tmp_path / "lab", "fr_FR", monkeypatch) as (url, token):
        page = _open_launcher(browser, url, token)
        try:
            assert page.evaluate("document.documentElement.lang").startswith("fr")
            page.screenshot(path=str(ARTIFACTS / "launcher_fr.png"))
            _check_launcher(page, "fr")
            # the dashboard opens in French too
            with page.expect_popup(timeout=POPUP_TIMEOUT) as popup:
                page.click(".jp-LauncherCard:has-text('Tableau de bord eau')")
            tab = popup.value
            tab.wait_for_selector(f"h2:has-text(\"{tr('water', 'fr')}\")", timeout=180_000)
            tab.wait_for_selector(RUN_BUTTON["fr"], state="visible", timeout=60_000)
            assert "lang=fr" in tab.url
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "launcher_fr_failure.png"), full_page=True)
            raise


def test_each_dashboard_card_opens_its_own_theme(lab, browser):
    url, token = lab
    page = _open_launcher(browser, url, token)
    try:
        for theme, label in DASHBOARD_LABELS["en"].items():
            with page.expect_popup(timeout=POPUP_TIMEOUT) as popup:
                page.click(f".jp-LauncherCard:has-text('{label}')")
            tab = popup.value
            tab.set_viewport_size(VIEWPORT)
            assert tab.url.split("?")[0].endswith(f"/terra-lab-workshops/{theme}"), tab.url
            tab.wait_for_selector(f"h2:has-text(\"{tr(theme, 'en')}\")", timeout=180_000)
            tab.wait_for_selector(RUN_BUTTON["en"], state="visible", timeout=60_000)
            for other in DASHBOARD_LABELS["en"]:  # and not another theme's
                if other != theme:
                    assert tab.locator(f"h2:has-text(\"{tr(other, 'en')}\")").count() == 0, (theme, other)
            tab.wait_for_timeout(500)
            assert_not_blank(tab.screenshot(path=str(ARTIFACTS / f"launcher_dashboard_{theme}.png")),
                             f"the {theme} dashboard opened from the launcher")
            tab.close()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "launcher_dashboard_failure.png"), full_page=True)
        raise


def test_a_notebook_card_opens_its_notebook(lab, browser):
    url, token = lab
    page = _open_launcher(browser, url, token)
    try:
        page.click(".jp-LauncherCard:has-text('Search on a map')")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".lm-TabBar-tab.lm-mod-current:has-text('map_search.ipynb')", timeout=30_000)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "launcher_notebook_failure.png"), full_page=True)
        raise


def _dashboard_servers(lab_pid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.Process(lab_pid).children(recursive=True):
        try:
            if "workshop serve" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


def test_the_dashboard_server_starts_when_a_launcher_shows(demo_root, tmp_path, browser, monkeypatch):
    """No click needed: a launcher on screen starts the dashboard server in the background (warm);
    a JupyterLab opened on a notebook starts none."""
    with _lab_with_locale(tmp_path / "lab", None, monkeypatch) as (url, token):
        lab_pid = next(c.pid for c in psutil.net_connections("tcp")
                       if c.status == "LISTEN" and c.laddr.port == int(url.rsplit(":", 1)[1]))
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{url}/lab/tree/quickstart.ipynb?reset&token={token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        page.wait_for_timeout(3000)
        assert not page.locator(".jp-Launcher").count()
        assert not _dashboard_servers(lab_pid), "a notebook alone started the dashboard server"
        page.keyboard.press("Control+Shift+L")  # a new launcher
        page.wait_for_selector(".jp-Launcher .jp-LauncherCard", timeout=30_000)
        deadline = time.monotonic() + 120
        while not _dashboard_servers(lab_pid):
            assert time.monotonic() < deadline, "the launcher did not start the dashboard server in the background"
            page.wait_for_timeout(500)
        assert "--warm" in _dashboard_servers(lab_pid)[0].cmdline()


def test_the_socket_listens_before_the_server_has_loaded(tmp_path):
    """A connection made while the dashboard server still loads (how jupyter-server-proxy's
    readiness poll finds it) waits, and is answered once it serves: not refused, not dropped."""
    folder = Path(tempfile.mkdtemp(prefix="jupyter-server-proxy-"))
    folder.chmod(0o700)
    sock, log = folder / "socket", tmp_path / "serve.log"
    cmd = [sys.executable, "-u", "-m", "terra_lab.cli", "workshop", "serve", "snow", "--warm", "--unix-socket",
           str(sock), "--prefix", "/p"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not sock.exists():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.005)
            early = socket.socket(socket.AF_UNIX)
            early.connect(str(sock))  # the socket file exists: it already accepts
            assert "Launching server" not in log.read_text(), "the socket appeared only once Panel served"
            early.settimeout(120)
            early.sendall(b"GET /p/snow HTTP/1.0\r\nHost: localhost\r\n\r\n")
            answer = b""
            while chunk := early.recv(1 << 16):
                answer += chunk
            early.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
            assert b"bokeh" in answer.lower()
            assert "Launching server" in log.read_text()
        finally:
            proc.terminate()
            proc.wait(60)
            shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ the dashboards behind jupyter-server-proxy
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

    with dask.config.set({"distributed.dashboard.link": "{scheme}://{host}:{port}/status"}), \
            terra_lab.cluster(1, dashboard_address="127.0.0.1:0") as client:
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
