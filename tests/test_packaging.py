"""The wheel, built from the sources alone, ships the prebuilt JupyterLab extension (launcher, map layers)."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_the_front_end(tmp_path):
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for f in files:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("terra_lab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    lab = [n for n in names if "/share/jupyter/labextensions/terra-lab-widgets/" in n]
    assert any(n.endswith("package.json") for n in lab) and any("remoteEntry" in n for n in lab)
    # the map layers extend jupyter-leaflet's, shared with ipyleaflet's extension (not bundled)
    pkg = zipfile.ZipFile(wheel).read(next(n for n in lab if n.endswith("terra-lab-widgets/package.json"))).decode()
    assert '"jupyter-leaflet"' in pkg and "sharedPackages" in pkg
