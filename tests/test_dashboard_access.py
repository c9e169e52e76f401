"""Who can reach a workshop dashboard server.

Behind jupyter-server-proxy (the ``terra_lab.dashboards._proxy`` entry) Panel serves on a Unix
socket in a 0700 folder: the Jupyter server of its owner connects, another local user is
refused by the kernel, and nothing listens on TCP.  Standalone on TCP (``--port``), websockets
from any origin but the server's own are refused.  The whole chain through a real JupyterHub
with two users is tests/test_jupyterhub.py.
"""

from __future__ import annotations

import base64
import http.client
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import free_port, service

from terra_lab.dashboards._proxy import check_private_folder, setup

pytestmark = pytest.mark.slow


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)


def _get_unix(path: str, url: str) -> tuple[int, str]:
    conn = _UnixHTTPConnection(path)
    try:
        conn.request("GET", url)
        r = conn.getresponse()
        return r.status, r.read().decode(errors="replace")
    finally:
        conn.close()


def _tcp_listening_inodes() -> set[str]:
    """Socket inodes in LISTEN state (0A) on TCP, IPv4 and IPv6, from /proc/net."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":
                    inodes.add(cols[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            found.add(target[len("socket:["):-1])
    return found


@pytest.fixture(scope="module")
def socket_server(tmp_path_factory):
    folder = Path(tempfile.mkdtemp(prefix="jupyter-server-proxy-"))  # 0700, as jupyter-server-proxy makes it
    sock = folder / "socket"
    log = tmp_path_factory.mktemp("dash") / "serve.log"
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "--unix-socket", str(sock),
           "--prefix", "/user/a/terra-lab-workshops"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while not sock.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"workshop serve --unix-socket did not start; see {log}")
                time.sleep(0.3)
            yield proc, sock
        finally:
            proc.terminate()  # SIGTERM, as jupyter-server-proxy stops it
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
            left = folder.exists()
            shutil.rmtree(folder, ignore_errors=True)
    assert proc.returncode == 0 and not left, f"rc {proc.returncode}; socket folder left behind: {left}"


def test_the_proxy_entry_runs_panel_on_a_private_unix_socket():
    conf = setup()
    assert conf["unix_socket"] is True  # jupyter-server-proxy makes a new 0700 folder for it
    assert "{unix_socket}" in conf["command"] and "{port}" not in conf["command"]
    assert "--allow-any-origin" not in conf["command"] and "--port" not in conf["command"]


def test_the_owner_reaches_the_dashboard_over_the_socket(socket_server):
    _proc, sock = socket_server
    status, body = _get_unix(str(sock), "/user/a/terra-lab-workshops/snow")
    assert status == 200 and "bokeh" in body.lower(), body[:500]
    assert oct(sock.stat().st_mode & 0o777) == oct(0o600)
    assert oct(sock.parent.stat().st_mode & 0o777) == oct(0o700)


def test_nothing_listens_on_tcp(socket_server):
    proc, _sock = socket_server
    mine = _socket_inodes(proc.pid)
    assert mine, "the server holds no socket at all?"
    assert not mine & _tcp_listening_inodes(), "the dashboard server listens on a TCP port"


def test_another_local_user_cannot_connect(socket_server):
    _proc, sock = socket_server
    if os.geteuid() != 0:
        pytest.skip("switching to another local user needs root (CI runs as root)")
    probe = ("import socket, sys\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             "try:\n"
             f"    s.connect({str(sock)!r})\n"
             "except PermissionError:\n"
             "    sys.exit(13)\n"
             "sys.exit(0)\n")
    out = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", probe],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 13, f"nobody connected to the dashboard socket (rc {out.returncode}): {out.stderr}"
    # the socket's folder is closed to them too: they cannot even see the socket's name
    ls = subprocess.run(["runuser", "-u", "nobody", "--", "ls", str(sock.parent)], capture_output=True, text=True,
                        timeout=30)
    assert ls.returncode != 0 and "Permission denied" in ls.stderr


def test_a_socket_in_a_shared_folder_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(PermissionError, match="0700"):
        check_private_folder(str(shared / "socket"))
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    check_private_folder(str(private / "socket"))  # accepted


# ------------------------------------------------------------------ standalone on TCP: own origin only
def _ws_handshake(port: int, path: str, origin: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": base64.b64encode(secrets.token_bytes(16)).decode(), "Origin": origin})
        return conn.getresponse().status
    finally:
        conn.close()


def test_standalone_tcp_refuses_foreign_origins(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "terra_lab.cli", "workshop", "serve", "snow", "--port", str(port)]
    with service(cmd, f"http://127.0.0.1:{port}/snow", tmp_path / "serve.log"):
        assert _ws_handshake(port, "/snow/ws", "http://evil.example") == 403
        assert _ws_handshake(port, "/snow/ws", "http://127.0.0.1:1") == 403  # another port is another origin
        assert _ws_handshake(port, "/snow/ws", f"http://127.0.0.1:{port}") == 101  # the handshake proceeds
