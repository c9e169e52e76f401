"""Shared fixtures: the demo archive, the real THEIA sample, a no-compute guard."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import time
import urllib.request
from pathlib import Path

import dask
import pytest

import terra_lab
from terra_lab._paths import demo_dir
from terra_lab.catalog._server import _free_port as free_port
from terra_lab.demo import build, is_built

# the workplace's shared/ folder lies beside the repository (CI lays a copy there too)
SHARED = Path(os.environ.get("TERRA_LAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
ZONETEST_TGZ = SHARED / "data" / "theia-zonetest" / "zonetest.tgz"


@pytest.fixture(scope="session")
def demo_root() -> Path:
    """The demo archive (built once; `make test` builds it before pytest starts)."""
    if not is_built():
        build()
    return demo_dir()


@pytest.fixture(scope="session")
def demo_catalog(demo_root):
    return terra_lab.catalog.open("demo")


@pytest.fixture(scope="session")
def demo_items(demo_catalog):
    return demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")


@pytest.fixture(scope="session")
def zonetest_dir(tmp_path_factory) -> Path:
    """The real THEIA sample, unpacked."""
    if not ZONETEST_TGZ.exists():
        pytest.fail(f"the real THEIA sample is missing: {ZONETEST_TGZ}")
    dest = tmp_path_factory.mktemp("zonetest")
    with tarfile.open(ZONETEST_TGZ) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="session")
def zonetest_catalog(zonetest_dir, tmp_path_factory):
    from terra_lab.catalog import LocalCatalog
    from terra_lab.catalog._ingest import ingest

    cat = LocalCatalog(tmp_path_factory.mktemp("zt-catalog"))
    with pytest.warns(terra_lab.errors.TerraLabWarning, match="90 of 187 products"):
        ingest(zonetest_dir, collection="ZONETEST", catalog=cat)
    return cat


class ComputeError(RuntimeError):
    pass


def _raise_on_compute(dsk, keys, **kwargs):
    raise ComputeError("a computation was triggered during graph construction")


@pytest.fixture
def no_compute(monkeypatch):
    """Inside this context any dask compute, and any raster opened by stackstac, raises (proves laziness)."""
    import stackstac.rio_reader

    def _no_open(*args, **kwargs):
        raise ComputeError("a raster was opened during graph construction")

    @contextlib.contextmanager
    def guard():
        with monkeypatch.context() as m, dask.config.set(scheduler=_raise_on_compute):
            m.setattr(stackstac.rio_reader.SelfCleaningDatasetReader, "__init__", _no_open)
            yield

    return guard


# ------------------------------------------------------------------ real browser (Debian's Chromium)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture
def browser():
    """A headless Chromium driven by Playwright (installed by scripts/setup-system.sh), per test."""
    with chromium() as b:
        yield b


@contextlib.contextmanager
def service(cmd: list[str], probe: str, log_path: Path, *, timeout: float = 90):
    """Run ``cmd`` (a server on 127.0.0.1) until ``probe`` answers; stop it on exit."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    urllib.request.urlopen(probe, timeout=5)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{cmd[2:5]} did not start; see {log_path}")
                    time.sleep(0.5)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:  # a slow shutdown (kernels, proxied servers) must not fail a test
                proc.kill()
                proc.wait(30)


# ------------------------------------------------------------------ a catalogue that is not the demo's
@pytest.fixture(scope="session")
def ingested_catalog(demo_root, tmp_path_factory):
    """A fresh local catalogue that is not the demo's: the demo archive's THEIA L2A products
    ingested by `ingest` (under its default collection id), its thematic products in their
    producers' formats (OSO, snow, L3A, Landsat, Venus; some zipped) ingested the same way, and
    the demo's DEM items (a DEM GeoTIFF has no product folder to ingest).  Workflows and
    notebooks must find every collection in it by kind.  The weather stations' items are copied too, and
    the demo's vector collections (GEDI L2A-like footprints, soil samples, glacier outlines)."""
    from terra_lab.catalog import LocalCatalog
    from terra_lab.catalog._ingest import ingest
    from terra_lab.demo import GEDI_COLLECTION, GLACIER_COLLECTION, SOIL_COLLECTION
    from terra_lab.profiles._collections import METEO_STATIONS_COLLECTION as STATIONS
    from terra_lab.workflows import find_collection

    cat = LocalCatalog(tmp_path_factory.mktemp("ingested") / "catalog", name="ingested")
    ingest(demo_root / "archive", catalog=cat)
    ingest(demo_root / "thematic", catalog=cat)
    ingest(demo_root / "landsat", catalog=cat)  # USGS Landsat C2 L2 folders (surface temperature)
    demo = terra_lab.catalog.open("demo")
    dem = find_collection(demo, "dem")
    cat.add_items(demo.search(collections=dem).items, collection=dem)
    cat.add_items(demo.search(collections=STATIONS).items, collection=STATIONS)  # CSV tables: no folder to ingest
    for vectors in (GEDI_COLLECTION, SOIL_COLLECTION, GLACIER_COLLECTION):  # vector files: no product folder either
        cat.add_items(demo.search(collections=vectors).items, collection=vectors)
    return cat


@pytest.fixture(scope="session")
def stac_server(demo_catalog):
    """One real STAC API (stac-fastapi-pgstac on a private PostgreSQL) for the whole session, serving
    the demo catalogue; tests serve more catalogues from its PostgreSQL with ``add_catalog``."""
    from terra_lab.catalog._server import PgStacServer, find_postgres_bin
    from terra_lab.errors import TerraLabError

    try:
        find_postgres_bin()
    except TerraLabError as e:
        if os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") == "1":
            raise
        pytest.skip(str(e))
    with PgStacServer(demo_catalog) as srv:
        yield srv



# ------------------------------------------------------------------ a Python another local user may run
@contextlib.contextmanager
def python_for_user(user: str):
    """``(python, env)``: a Python that the local ``user`` may run with this environment's packages.

    This environment's own when they may run it; else (pyenv's interpreter lives in root's 0700
    home) a venv of the system's Python of the same minor version (same ABI) whose ``.pth`` loads
    this environment's site-packages, in a folder they can read, removed on exit.  ``env`` then
    names this environment's Jupyter config and data folders (server and lab extensions), which
    Jupyter would otherwise look for under the venv's own prefix."""
    import sys
    import sysconfig
    import tempfile

    def runs(python: str, code: str) -> bool:
        return subprocess.run(["runuser", "-u", user, "--", python, "-c", code], capture_output=True,
                              timeout=60).returncode == 0

    if runs(sys.executable, "pass"):
        yield sys.executable, {}
        return
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not system.exists():
        pytest.skip(f"{user} cannot run {sys.executable} and there is no {system} to bridge to")
    bridge = Path(tempfile.mkdtemp(prefix="terra-lab-user-venv-"))
    try:
        bridge.chmod(0o755)
        subprocess.run([str(system), "-m", "venv", "--without-pip", str(bridge)], check=True, timeout=120)
        site = next(bridge.glob("lib/python*/site-packages"))
        (site / "terra_lab_env.pth").write_text(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
        python = str(bridge / "bin" / "python")
        if not runs(python, "import terra_lab"):
            pytest.fail(f"{user} cannot import this environment's packages with {python}")
        yield python, {"JUPYTER_CONFIG_PATH": str(Path(sys.prefix) / "etc" / "jupyter"),
                       "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    finally:
        shutil.rmtree(bridge, ignore_errors=True)


# ------------------------------------------------------------------ Chromium for the browser tests
@contextlib.contextmanager
def chromium():
    """A headless Chromium driven by Playwright, closed on exit; skips when Chromium is missing
    (fails under TERRA_LAB_REQUIRE_SYSTEM=1).  ``browser`` is it per test; a module may hold one."""
    if not Path(CHROMIUM).exists():
        why = f"Chromium is missing ({CHROMIUM}): run bash scripts/setup-system.sh"
        if os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") == "1":
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


# ------------------------------------------------------------------ JupyterLab for the browser tests
@contextlib.contextmanager
def jupyterlab(work: Path):
    """``(url, token)``: a JupyterLab on 127.0.0.1 serving the folder ``work`` (log: ``work/lab.log``),
    stopped on exit."""
    import secrets
    import sys

    port = free_port()
    token = secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--allow-root",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    url = f"http://127.0.0.1:{port}"
    with service(cmd, f"{url}/api/status?token={token}", work / "lab.log"):
        yield url, token


def run_all_cells(page, url: str, token: str, notebook: str) -> None:
    """Open ``notebook`` of the :func:`jupyterlab` at ``url`` in the Playwright ``page``, wait for its
    kernel (accepting JupyterLab's kernel dialog if it asks) and run all its cells."""
    page.goto(f"{url}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    # JupyterLab may ask which kernel to start, seconds after the page shows on a busy machine: accept
    # the dialog whenever it shows, until a kernel is attached (toolbar names it) and idle
    select = page.locator(".jp-Dialog button.jp-mod-accept")
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    kernel = page.locator(".jp-Toolbar-kernelName")
    deadline = time.monotonic() + 90
    while not (idle.count() and kernel.count() and "No Kernel" not in kernel.first.inner_text()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel of {notebook} was not idle after 90 s")
        if select.count():
            select.first.click()
        page.wait_for_timeout(250)
    page.click("text=Run", timeout=30_000)
    page.click("text=Run All Cells", timeout=30_000)


# ------------------------------------------------------------------ what a person sees in a screenshot
def assert_not_blank(png: bytes | Path, what: str, *, min_std: float = 5.0, max_uniform: float = 0.9) -> None:
    """Fail when the screenshot ``png`` (bytes or a path) is blank as a person would see it: almost
    uniform (pixel standard deviation under ``min_std``) or more than ``max_uniform`` of its pixels in
    one colour (a grey map with a legend, an empty frame).  ``what`` names the picture in the message."""
    import io

    import numpy as np
    from PIL import Image

    data = png.read_bytes() if isinstance(png, Path) else png
    img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    if img.size == 0 or img.shape[0] < 2 or img.shape[1] < 2:
        raise AssertionError(f"{what}: the screenshot is {img.shape[1]} x {img.shape[0]} px (nothing to see)")
    std = float(img.astype(float).std())
    _, counts = np.unique(img.reshape(-1, 3), axis=0, return_counts=True)
    top = float(counts.max() / counts.sum())
    assert std >= min_std, f"{what}: the screenshot is uniform (pixel std {std:.1f} < {min_std})"
    assert top <= max_uniform, f"{what}: {top:.0%} of the screenshot is one colour (blank or empty area)"


def assert_in_viewport(page, selector: str, what: str) -> None:
    """Fail unless the first element matching ``selector`` is wholly visible in the page's viewport
    without scrolling (e.g. the run button at 1280x720)."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(selector).first.bounding_box()
    vp = page.viewport_size
    assert box is not None, f"{what}: {selector!r} is not displayed"
    assert box["width"] > 0 and box["height"] > 0, f"{what}: {selector!r} is {box['width']} x {box['height']} px"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= vp["width"] \
        and box["y"] + box["height"] <= vp["height"], \
        f"{what}: {selector!r} at {box} is outside the {vp['width']}x{vp['height']} viewport without scrolling"


# ------------------------------------------------------------------ no tile server from the tests
@pytest.fixture(autouse=True, scope="session")
def _offline_basemaps():
    """Maps and served dashboards draw the offline basemap (the DEM's hillshade): no test, and no
    browser page a test opens, asks a tile server for anything.  A test of the online basemap
    removes the variable with ``monkeypatch.delenv``."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TERRA_LAB_OFFLINE", "1")
        yield


@pytest.fixture(autouse=True)
def _no_shared_dashboard_results():
    """Each test computes its own dashboard results: a result kept by an earlier test (same
    parameters, another monkeypatched workflow) is never served (terra_lab.dashboards._shared_runs)."""
    import sys

    shared = sys.modules.get("terra_lab.dashboards._shared_runs")
    if shared is not None:
        shared.clear()
    yield


# ------------------------------------------------------------------ the demo's 2023 year on one tile
@pytest.fixture(scope="session")
def demo_year_cube(demo_catalog):
    """(cube, dem): the demo's 2023 acquisitions of tile T31TGK (red, nir, swir16 at 20 m, 100-px
    chunks) and its DEM on the same grid, lazy: the covariates of the structure and soil models."""
    import terra_lab

    items = [it for it in demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", dates="2023")
             if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["red", "nir", "swir16"], resolution=20, chunks={"time": -1, "x": 100, "y": 100})
    dem = terra_lab.load(demo_catalog.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"],
                         resolution=20, masks=False, chunks={"x": 100, "y": 100})["elevation"].isel(time=0, drop=True)
    return cube, dem


def assert_page_and_map_drawn(page, shot: Path, what: str) -> None:
    """The page's screenshot (kept in ``shot``) and its first map canvas are not blank."""
    page.screenshot(path=str(shot))
    assert_not_blank(shot, f"{what} page")
    canvas = page.locator("canvas").first.bounding_box()
    assert_not_blank(page.screenshot(clip=canvas), f"{what} map")


@contextlib.contextmanager
def workshop_server(theme: str, tmp_path_factory):
    """``terra-lab workshop serve THEME`` on a free port of 127.0.0.1, its log in a temporary folder; yields its URL."""
    import sys

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", theme, "--port", str(port)]
    with service(cmd, f"{url}/{theme}", tmp_path_factory.mktemp("ws") / "serve.log", timeout=60):
        yield url
