"""jupyter-server-proxy entry: the workshop dashboards inside JupyterLab/JupyterHub, at
``<base_url>terra-lab-workshops/<theme>``, with a "THEIA workshops" launcher entry.

Panel listens on a Unix socket, not a TCP port: jupyter-server-proxy makes it in a new 0700
folder of the user's (``unix_socket: True``), so only the Jupyter server of that user can
connect, and every browser request passes Jupyter's (or the hub's) authentication and
origin checks first.  Other local users, and pages that scan loopback ports, find nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
from pathlib import Path

__all__ = ["check_private_folder", "removed_on_exit", "setup"]

_PROXY_FOLDER = "jupyter-server-proxy-"  # the prefix of the folders jupyter-server-proxy makes for sockets


def setup() -> dict:
    return {
        "command": [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "--unix-socket", "{unix_socket}",
                    "--prefix", "{base_url}terra-lab-workshops"],
        "unix_socket": True,
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"title": "THEIA workshops (dashboards)", "path_info": "terra-lab-workshops/snow"},
    }


def check_private_folder(unix_socket: str) -> None:
    """A socket is only as private as its folder: refuse one that other users can enter."""
    folder = Path(unix_socket).absolute().parent
    st = folder.stat()
    if st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077:
        raise PermissionError(f"unix socket {unix_socket!r}: its folder {str(folder)!r} is open to other users "
                              f"(mode {stat.S_IMODE(st.st_mode):o}, owner uid {st.st_uid}); use a folder of yours "
                              "with mode 0700 (mkdir -m 700 ...)")


@contextlib.contextmanager
def removed_on_exit(unix_socket: str):
    """Remove the socket when the server stops, on SIGTERM too (how jupyter-server-proxy stops it),
    and the folder jupyter-server-proxy made for it: each dashboard start would leave one in /tmp."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        path = Path(unix_socket)
        path.unlink(missing_ok=True)
        if path.parent.name.startswith(_PROXY_FOLDER):
            with contextlib.suppress(OSError):  # not empty: not only ours
                path.parent.rmdir()
