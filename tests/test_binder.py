"""binder/ (repo2docker) and the JupyterHub image recipe stay in step with the project."""

import os
import subprocess
from pathlib import Path

import yaml

from terra_lab._cluster import PROXIED_DASHBOARD_LINK

ROOT = Path(__file__).resolve().parents[1]


def _deps(path: Path) -> tuple[set[str], set[str]]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    conda = {d.split("#")[0].strip() for d in deps if isinstance(d, str)}
    pip = {p for d in deps if isinstance(d, dict) for p in d["pip"]}
    return conda, pip


def test_binder_environment_is_the_project_environment_plus_node():
    conda, pip = _deps(ROOT / "environment.yml")
    b_conda, b_pip = _deps(ROOT / "binder" / "environment.yml")
    assert b_conda - conda == {"python=3.11", "nodejs>=20"}
    assert conda - b_conda == {"python>=3.10"}
    assert b_pip == pip - {"-e ."}  # postBuild installs terra_lab itself


def test_post_build_installs_the_package_extension_and_demo():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK)
    subprocess.run(["bash", "-n", str(post)], check=True)
    text = post.read_text()
    for step in ("pip install --no-deps .", "terra-lab-widgets.*OK", "terra-lab demo build", PROXIED_DASHBOARD_LINK):
        assert step in text


def test_jupyterhub_image_recipe_uses_the_binder_environment():
    text = (ROOT / "binder" / "jupyterhub.Dockerfile").read_text()
    assert "binder/environment.yml" in text and "terra-lab demo build" in text
    assert f'DASK_DISTRIBUTED__DASHBOARD__LINK="{PROXIED_DASHBOARD_LINK}"' in text
    # the dashboards' launcher entry comes with the package (jupyter-server-proxy entry point)
    assert "terra-lab-workshops" in (ROOT / "pyproject.toml").read_text()
