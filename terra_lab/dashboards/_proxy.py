"""jupyter-server-proxy entry: the workshop dashboards inside JupyterLab/JupyterHub, at
``<base_url>terra-lab-workshops/<theme>``, with a "THEIA workshops" launcher entry.

Panel listens on a Unix socket, not a TCP port: jupyter-server-proxy makes it in a new 0700
folder of the user's (``unix_socket: True``), so only the Jupyter server of that user can
connect, and every browser request passes Jupyter's (or the hub's) authentication and
origin checks first.  Other local users, and pages that scan loopback ports, find nothing."""

from __future__ import annotations

import sys

__all__ = ["setup"]


def setup() -> dict:
    return {
        "command": [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "--unix-socket", "{unix_socket}",
                    "--prefix", "{base_url}terra-lab-workshops"],
        "unix_socket": True,
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "THEIA workshops (dashboards)", "path_info": "terra-lab-workshops/snow"},
    }
