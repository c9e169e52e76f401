"""jupyter-server-proxy entry: the workshop dashboards inside JupyterLab/JupyterHub, at
``<base_url>terra-lab-workshops/<theme>``.  Their launcher cards are the extension's (the THEIA
section, widgets/src/plugin.ts, one per dashboard): this entry adds none of its own.

Panel listens on a Unix socket, not a TCP port: jupyter-server-proxy makes it in a new 0700
folder of the user's (``unix_socket: True``), so only the Jupyter server of that user can
connect, and every browser request passes Jupyter's (or the hub's) authentication and
origin checks first.  Other local users, and pages that scan loopback ports, find nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["check_private_folder", "listen", "removed_on_exit", "serve_on", "setup"]

_PROXY_FOLDER = "jupyter-server-proxy-"  # the prefix of the folders jupyter-server-proxy makes for sockets


def setup() -> dict:
    return {
        # --warm: every theme's code loaded at start, in the background (serve_on); the extension
        # starts this server as soon as a launcher shows, so the attendee's first click finds it ready
        "command": [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "--warm", "--unix-socket",
                    "{unix_socket}", "--prefix", "{base_url}terra-lab-workshops"],
        "unix_socket": True,
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"enabled": False},  # not a generic card under "Notebook" opening one dashboard
    }


def listen(unix_socket: str) -> socket.socket:
    """Listen on ``unix_socket`` (mode 0600) at once, before the slow imports, and return the socket.

    jupyter-server-proxy checks that a server is ready by polling it with a doubling delay
    (0.01 s, 0.02 s, ... 2.56 s, 5.12 s: simpervisor), each poll waiting up to 5 s for any answer.
    A socket that only appears once Panel is loaded is found at the next poll, up to seconds
    later; one that listens from the start holds the poll's connection, answered the moment the
    server runs (:func:`serve_on`, which therefore loads the themes' code only afterwards)."""
    from tornado.netutil import bind_unix_socket

    return bind_unix_socket(unix_socket)


@contextlib.contextmanager
def _bokeh_binds_to(listening: socket.socket):
    """Bokeh's server binds its Unix socket itself (``tornado.netutil.bind_unix_socket``, which
    removes the file and makes a new socket, dropping the connections waiting on ours): while it
    starts, hand it ``listening`` instead for that path."""
    import tornado.netutil

    bind, path = tornado.netutil.bind_unix_socket, listening.getsockname()

    def ours(file, *args, **kwargs):
        return listening if file == path else bind(file, *args, **kwargs)

    tornado.netutil.bind_unix_socket = ours
    try:
        yield
    finally:
        tornado.netutil.bind_unix_socket = bind


def _request_once(unix_socket: str, url: str) -> None:
    """GET ``url`` from the server on ``unix_socket`` and drop the answer (errors ignored)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
        s.settimeout(300)
        s.connect(unix_socket)
        s.sendall(f"GET {url} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        while s.recv(1 << 16):
            pass


def serve_on(listening: socket.socket, apps: dict, *, prefix: str, title: str,
             warm: Callable[[], object] | None = None):
    """Serve the Panel ``apps`` on the Unix socket ``listening`` (from :func:`listen`), blocking,
    any websocket origin (the Jupyter server in front checks it).

    ``warm`` (loading the apps' code) runs in a background thread once the server answers, so
    that jupyter-server-proxy's readiness poll is answered within its 5 s (a session asking for a
    module meanwhile waits for that import to finish); then, unless a visitor came meanwhile, the
    server makes a page of the first app for itself (an unused session, which Panel drops), so
    that Panel's one-time costs (templates, resources, the first document's serialisation: about a
    second) are not paid by the first visitor either."""
    import threading

    import panel as pn

    visited = threading.Event()

    def noting_visits(app):
        def page():
            visited.set()
            return app()
        return page

    path = listening.getsockname()
    with _bokeh_binds_to(listening):
        server = pn.serve({name: noting_visits(app) for name, app in apps.items()}, unix_socket=path, show=False,
                          start=False, prefix=prefix, websocket_origin=["*"], title=title)
    server.start()
    if warm is not None and apps:
        def warm_up():
            warm()
            if not visited.is_set():
                _request_once(path, f"{prefix}/{next(iter(apps))}")

        threading.Thread(target=warm_up, name="terra-lab-warm", daemon=True).start()
    server.io_loop.start()
    return server


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
