"""jupyter-server-proxy entry: the workshop dashboards inside JupyterLab/JupyterHub, at
``<base_url>terra-lab-workshops/<theme>``, with a "THEIA workshops" launcher entry."""

from __future__ import annotations

import sys

__all__ = ["setup"]


def setup() -> dict:
    return {
        "command": [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "--port", "{port}",
                    "--prefix", "{base_url}terra-lab-workshops", "--allow-any-origin"],
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "THEIA workshops (dashboards)", "path_info": "terra-lab-workshops/snow"},
    }
