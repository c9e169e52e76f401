"""Real browser: `terra-lab workshop serve snow` on 127.0.0.1, driven by Playwright on Debian's Chromium."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import rasterio

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow
if not Path(CHROMIUM).exists() and os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") != "1":
    pytestmark = [pytest.mark.slow, pytest.mark.skip(reason="Chromium not installed: bash scripts/setup-system.sh")]


@pytest.fixture(scope="module")
def server(demo_root, tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp_path_factory.mktemp("ws") / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/snow", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("the dashboard server did not start")
    yield url
    proc.terminate()
    proc.wait(30)


def test_snow_dashboard_computes_and_downloads(server, tmp_path):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        try:
            page.goto(f"{server}/snow", wait_until="domcontentloaded")
            page.wait_for_selector("text=Calculer", timeout=60_000)
            page.click("text=Calculer")
            page.wait_for_selector("text=Calcul terminé", timeout=180_000)
            page.wait_for_selector("canvas", timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "snow_dashboard.png"), full_page=True)
            with page.expect_download(timeout=60_000) as info:
                page.click("text=Télécharger (COG)")
            path = tmp_path / "snow.tif"
            info.value.save_as(path)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "snow_dashboard_failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32631 and ds.count == 1 and ds.read(1).max() > 30  # snow days somewhere
        tags = ds.tags()
        assert tags["terra_lab_dashboard"] == "snow"
        assert "LIS L3B" in tags["terra_lab_algorithm"]
        assert json.loads(tags["terra_lab_dashboard_parameters"])["language"] == "fr"
        assert json.loads(tags["terra_lab_parameters"])["start"] == "2023-09-01"
        assert "SENTINEL2" in tags["terra_lab_source_items"]
