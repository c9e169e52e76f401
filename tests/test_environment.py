"""environment.yml (conda-forge) and pyproject.toml list the same dependencies."""

import re
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (requires-python >= 3.10): the same parser, as tomli
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"duckdb": "python-duckdb", "dask": "dask"}


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in meta["dependencies"]}
    for reqs in meta["optional-dependencies"].values():
        wanted |= {_name(r) for r in reqs if not r.startswith("terra_lab")}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    pip = {_name(d) for d in next(d["pip"] for d in env["dependencies"] if isinstance(d, dict)) if not d.startswith("-e")}
    have = conda | pip
    missing = {w for w in wanted if CONDA_NAMES.get(w, w) not in have}
    assert not missing, f"in pyproject.toml but not environment.yml: {sorted(missing)}"
    # the pins agree too
    pins = {_name(r): r for r in meta["dependencies"]}
    assert "stackstac=0.5.1" in env["dependencies"] and pins["stackstac"] == "stackstac==0.5.1"
    assert "rasterio>=1.3,<1.5" in env["dependencies"] and pins["rasterio"] == "rasterio>=1.3,<1.5"
