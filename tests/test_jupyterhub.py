"""A real JupyterHub on 127.0.0.1 with two real Unix users, each in their own single-user server.

The hub runs binder/jupyterhub_config.py (PAM login, LocalProcessSpawner: a server runs as its
user) with configurable-http-proxy from npm (tests/jupyterhub/package.json, installed by
``make env``).  In a real Chromium each user logs in with their password and opens the snow
workshop dashboard through their own server's jupyter-server-proxy; then, as the other user,
through the hub (browser and REST API with their own token) and directly as their Unix
process: A's dashboard, A's dashboard socket, A's kernels and their connection files stay out
of B's reach.  Needs root (it creates the two users, and the hub switches to them).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import ARTIFACTS, chromium, free_port, python_for_user
from test_dashboard_access import _socket_inodes, _tcp_listening_inodes

ROOT = Path(__file__).resolve().parents[1]
# npm's (make env), else one on PATH (conda-forge's, environment.yml)
CHP = ROOT / "tests" / "jupyterhub" / "node_modules" / ".bin" / "configurable-http-proxy"
CHP = CHP if CHP.exists() else Path(shutil.which("configurable-http-proxy") or CHP)
USERS = ("tlhub-ada", "tlhub-bob")
PROBE = "/usr/bin/python3"  # what the users run their probes with (any Python)

pytestmark = pytest.mark.slow


def _require(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") == "1":
            pytest.fail(why)
        pytest.skip(why)


# ------------------------------------------------------------------ users and hub
def _user_pids(uid: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if d.stat().st_uid == uid:
                    pids.append(int(d.name))
            except FileNotFoundError:
                pass
    return pids


def _kill_user_processes(uid: int) -> None:
    """The test users' leftover processes (started by this test's hub), by pid."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _user_pids(uid)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 5
        while pids and time.monotonic() < deadline and _user_pids(uid):
            time.sleep(0.2)


@pytest.fixture(scope="module")
def users():
    """Two local Unix users with random passwords (created here, removed with their homes after)."""
    _require(os.geteuid() == 0, "a hub with real users needs root (CI runs as root)")
    _require(shutil.which("useradd") is not None, "useradd missing")
    made = {}
    try:
        for name in USERS:
            try:
                pwd.getpwnam(name)
            except KeyError:
                subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, timeout=30)
            password = secrets.token_urlsafe(12)
            subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, timeout=30)
            made[name] = password
        _mark('users created')
        yield made
    finally:
        for name in made:
            uid = pwd.getpwnam(name).pw_uid
            _kill_user_processes(uid)
            for folder in Path(tempfile.gettempdir()).glob("jupyter-server-proxy-*"):  # the proxy leaves them
                if folder.stat().st_uid == uid:
                    shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(Path("/run/user") / str(uid), ignore_errors=True)  # the config's XDG_RUNTIME_DIR
            subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def users_python(users):
    """The Python the users' servers run, and the environment it needs (see conftest's python_for_user)."""
    with python_for_user(next(iter(users))) as found:
        _mark("users' Python ready")
        yield found


@pytest.fixture(scope="module")
def hub(users, users_python, demo_root, tmp_path_factory):
    """The hub on 127.0.0.1 (its state in a root-only temp folder); every process it started
    is stopped on exit, the users' servers included."""
    _require(CHP.exists(), f"configurable-http-proxy missing ({CHP}): run make env")
    python, env = users_python
    env = {"TERRA_LAB_HOME": str(demo_root.parent), **env}
    state = tmp_path_factory.mktemp("hub")
    port, hub_port, api_port = free_port(), free_port(), free_port()
    admin_token = secrets.token_hex(32)
    config = state / "jupyterhub_config.py"
    config.write_text(
        f"c = get_config()\n"
        f"load_subconfig({str(ROOT / 'binder' / 'jupyterhub_config.py')!r})\n"
        f"c.JupyterHub.bind_url = 'http://127.0.0.1:{port}'\n"
        f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{hub_port}'\n"
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{api_port}'\n"
        f"c.ConfigurableHTTPProxy.command = [{str(CHP)!r}]\n"
        f"c.ConfigurableHTTPProxy.pid_file = {str(state / 'proxy.pid')!r}\n"
        f"c.JupyterHub.db_url = 'sqlite:///{state / 'hub.sqlite'}'\n"
        f"c.JupyterHub.cookie_secret_file = {str(state / 'cookie_secret')!r}\n"
        f"c.JupyterHub.pid_file = {str(state / 'hub.pid')!r}\n"
        f"c.Authenticator.allowed_users = {set(users)!r}\n"
        f"c.Spawner.cmd = [{python!r}, '-m', 'jupyterhub.singleuser']\n"
        f"c.Spawner.start_timeout = 60\n"
        f"c.JupyterHub.tornado_settings = {{'slow_spawn_timeout': 0}}\n"  # spawn requests return at once
        f"c.LocalProcessSpawner.interrupt_timeout = 3\n"  # a quick stop at the end
        f"c.LocalProcessSpawner.term_timeout = 3\n"
        f"c.Spawner.http_timeout = 60\n"
        f"c.Spawner.environment = {env!r}\n"
        # a test-only service that creates a token for each user (as a user would on the token page)
        f"c.JupyterHub.services = [{{'name': 'terra-lab-test', 'api_token': {admin_token!r}}}]\n"
        f"c.JupyterHub.load_roles = [{{'name': 'terra-lab-test', 'services': ['terra-lab-test'],\n"
        f"    'scopes': ['admin:users', 'admin:servers', 'admin:server_state', 'tokens']}}]\n")
    log = state / "hub.log"
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("jupyterhub")), "-f", str(config)], cwd=state,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/hub/api/", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"jupyterhub did not start; see {log}:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        _mark('hub up')
        yield {"url": url, "admin": admin_token, "log": log, "proc": proc}
    finally:
        if proc.poll() is None:
            proc.terminate()  # the hub stops the users' servers and its proxy
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(45)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the proxy, if the hub could not stop it
        proc.wait(10)
        if ARTIFACTS.exists() or ARTIFACTS.parent.exists():
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log, ARTIFACTS / "jupyterhub.log")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect (to a login page) is an answer here, not something to follow


_OPENER = urllib.request.build_opener(_NoRedirect)


def _api(hub, path: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, object]:
    req = urllib.request.Request(f"{hub['url']}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"token {token}"})
    try:
        with _OPENER.open(req, timeout=60) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


_T0 = time.monotonic()
TIMINGS: list[str] = []


def _mark(what: str) -> None:
    """Phase times, written to test-artifacts/jupyterhub_timings.txt."""
    TIMINGS.append(f"{time.monotonic() - _T0:6.1f} s  {what}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "jupyterhub_timings.txt").write_text("\n".join(TIMINGS) + "\n")


def _as_user(name: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", name, "--", PROBE, "-c", code], capture_output=True, text=True, timeout=30)


def _run_in_terminal(hub, name: str, token: str, command: str) -> str:
    """Type ``command`` in a new terminal of the user's server (Jupyter's terminal websocket); its name."""
    import asyncio

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    status, term = _api(hub, f"/user/{name}/api/terminals", token, "POST", {})
    assert status == 200, term
    url = f"{hub['url'].replace('http://', 'ws://')}/user/{name}/terminals/websocket/{term['name']}"

    async def type_it():
        conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"},
                                                   connect_timeout=30))
        try:
            await asyncio.wait_for(conn.read_message(), 30)  # the shell is up (its first output)
            await conn.write_message(json.dumps(["stdin", command + "\r"]))
            await asyncio.sleep(1)
        finally:
            conn.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        pool.submit(asyncio.run, type_it()).result(60)
    return term["name"]


def _wait_ready(hub, name: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, model = _api(hub, f"/hub/api/users/{name}", hub["admin"])
        server = model.get("servers", {}).get("", {}) if status == 200 else {}
        if server.get("ready"):
            return
        if not server.get("pending") and not server:
            _api(hub, f"/hub/api/users/{name}/server", hub["admin"], "POST")  # not spawned by the login
        if time.monotonic() > deadline:
            pytest.fail(f"{name}'s server did not start; see {hub['log']}:\n{hub['log'].read_text()[-3000:]}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def sessions(hub, users, users_python, browser_module):
    """Each user logged in (their own browser context), with a token of theirs and their server
    started; both servers, then both dashboards, start at once."""
    out = {}
    for name, password in users.items():
        ctx = browser_module.new_context(viewport={"width": 1300, "height": 900})
        page = ctx.new_page()
        page.goto(f"{hub['url']}/hub/login?next=/hub/home", wait_until="domcontentloaded", timeout=60_000)
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password)
        page.click("[type=submit]")
        page.wait_for_url("**/hub/home", timeout=60_000)  # logged in
        status, token = _api(hub, f"/hub/api/users/{name}/tokens", hub["admin"], "POST",
                             {"note": "terra_lab test", "expires_in": 600})
        assert status == 201, token
        out[name] = {"context": ctx, "page": page, "token": token["token"], "uid": pwd.getpwnam(name).pw_uid,
                     "home": Path(pwd.getpwnam(name).pw_dir)}
        status, answer = _api(hub, f"/hub/api/users/{name}/server", hub["admin"], "POST")  # starts while B logs in
        assert status in (201, 202), answer
    _mark("both logged in")
    a = USERS[0]
    _wait_ready(hub, a)
    # A starts a catalogue server from a terminal of their JupyterLab (it runs while the dashboards start)
    out[a]["catalog_port"] = port = free_port()
    out[a]["terminal"] = _run_in_terminal(hub, a, out[a]["token"],
                                          f"exec {users_python[0]} -m terra_lab.cli catalog serve --catalog demo "
                                          f"--port {port} > ~/catalog-serve.log 2>&1")
    for name in out:
        _wait_ready(hub, name)
    _mark("both servers ready")
    # jupyter-server-proxy starts a user's Panel server at its first request: both at once
    with ThreadPoolExecutor(len(out)) as pool:
        warm = [pool.submit(_api, hub, f"/user/{n}/terra-lab-workshops/snow", out[n]["token"]) for n in out]
        for name, future in zip(out, warm):
            status, body = future.result()
            assert status == 200, (name, status, str(body)[:500])
    _mark("both dashboards served")
    yield out
    for s in out.values():
        s["context"].close()


@pytest.fixture(scope="module")
def browser_module():
    """Chromium for the whole module (conftest's ``browser`` is per test)."""
    with chromium() as b:
        yield b


# ------------------------------------------------------------------ the tests
def test_servers_run_as_their_users(hub, sessions):
    for name, s in sessions.items():
        status, model = _api(hub, f"/hub/api/users/{name}", hub["admin"])
        assert status == 200 and model["servers"][""]["ready"], model
        pid = model["servers"][""]["state"]["pid"]
        assert Path(f"/proc/{pid}").stat().st_uid == s["uid"], f"{name}'s server does not run as {name}"


def test_each_user_opens_their_workshop_dashboard(hub, sessions):
    for name, s in sessions.items():
        page = s["page"]
        frames = []  # what the Panel server sends over its websocket, through the hub and the user's proxy

        def watch(ws, frames=frames):
            if "/terra-lab-workshops/snow/ws" in ws.url:
                ws.on("framereceived", lambda payload: frames.append(payload))  # noqa: PLW0108 - Playwright takes Python functions, not builtin methods

        page.on("websocket", watch)
        try:
            page.goto(f"{hub['url']}/user/{name}/terra-lab-workshops/snow", wait_until="domcontentloaded",
                      timeout=120_000)
            page.wait_for_selector("text=Calculer", timeout=120_000)  # the Panel app runs
            deadline = time.monotonic() + 60
            while not frames and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert frames, "no websocket message from the dashboard through the hub"
            page.screenshot(path=str(ARTIFACTS / f"hub_dashboard_{name}.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / f"hub_dashboard_{name}_failure.png"), full_page=True)
            raise


@pytest.mark.parametrize("a, b", [USERS, USERS[::-1]], ids=["B-to-A", "A-to-B"])
def test_another_user_cannot_open_the_dashboard_through_the_hub(hub, sessions, a, b):
    page = sessions[b]["page"]
    resp = page.goto(f"{hub['url']}/user/{a}/terra-lab-workshops/snow", wait_until="domcontentloaded",
                     timeout=60_000)
    assert resp.status == 403, (resp.status, page.url)
    assert page.locator("text=Calculer").count() == 0
    # B's own token against A's server: A's dashboard, kernels and files
    for path in (f"/user/{a}/terra-lab-workshops/snow", f"/user/{a}/api/kernels", f"/user/{a}/api/contents"):
        status, _ = _api(hub, path, sessions[b]["token"])
        assert status == 403, (path, status)
    # and no login at all
    status, _ = _api(hub, f"/user/{a}/terra-lab-workshops/snow", "not-a-token")
    assert status in (302, 403), status


def _user_commands(uid: int) -> list[tuple[int, list[str]]]:
    """(pid, argv) of the user's processes."""
    out = []
    for pid in _user_pids(uid):
        try:
            out.append((pid, Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")))
        except OSError:  # gone meanwhile
            continue
    return out


def _dashboard_socket(uid: int) -> Path:
    """The socket the user's Panel server (started by jupyter-server-proxy) listens on, from its command line."""
    found = [Path(argv[argv.index("--unix-socket") + 1]) for _, argv in _user_commands(uid)
             if "workshop" in argv and "--unix-socket" in argv]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("a, b", [USERS, USERS[::-1]], ids=["B-to-A", "A-to-B"])
def test_another_user_cannot_connect_to_the_dashboard_socket(hub, sessions, a, b):
    sock = _dashboard_socket(sessions[a]["uid"])
    assert sock.parent.stat().st_mode & 0o777 == 0o700 and sock.parent.stat().st_uid == sessions[a]["uid"]
    probe = ("import socket, sys\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             f"try:\n    s.connect({str(sock)!r})\nexcept PermissionError:\n    sys.exit(13)\n")
    assert _as_user(b, probe).returncode == 13, "B connected to A's dashboard socket"
    assert _as_user(a, probe).returncode == 0, "A's own processes cannot reach A's dashboard socket"


def test_kernels_stay_private(hub, sessions):
    a, b = USERS
    status, kernel = _api(hub, f"/user/{a}/api/kernels", sessions[a]["token"], "POST", {"name": "python3"})
    assert status == 201, kernel
    try:
        runtime = sessions[a]["home"] / ".local" / "share" / "jupyter" / "runtime"
        conn = runtime / f"kernel-{kernel['id']}.json"
        deadline = time.monotonic() + 30
        while not conn.exists() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert conn.exists(), sorted(p.name for p in runtime.iterdir())
        assert conn.stat().st_mode & 0o777 == 0o600 and conn.stat().st_uid == sessions[a]["uid"]
        probe = (f"import sys\ntry:\n    open({str(conn)!r}).read()\nexcept PermissionError:\n    sys.exit(13)\n")
        assert _as_user(b, probe).returncode == 13, "B read A's kernel connection file (its HMAC key)"
        assert _as_user(a, probe).returncode == 0
        # B's token neither lists nor drives A's kernels through the hub
        status, _ = _api(hub, f"/user/{a}/api/kernels/{kernel['id']}", sessions[b]["token"])
        assert status == 403
        status, _ = _api(hub, f"/user/{a}/api/kernels/{kernel['id']}/restart", sessions[b]["token"], "POST", {})
        assert status == 403
    finally:
        _api(hub, f"/user/{a}/api/kernels/{kernel['id']}", sessions[a]["token"], "DELETE")


def test_users_read_the_shared_demo_archive(hub, users_python, sessions, demo_root):
    """The demo archive the admin built (TERRA_LAB_HOME, root's) is readable by every user:
    its catalogue files and rasters, opened by their own processes."""
    python, env = users_python
    code = ("import terra_lab, rasterio\n"
            "cat = terra_lab.catalog.open('demo')\n"
            "ids = cat.collection_ids()\n"
            "items = cat.search(collections=[ids[0]]).items\n"
            "href = next(iter(items[0]['assets'].values()))['href']\n"
            "with rasterio.open(href) as ds:\n"
            "    print(len(ids), len(items), ds.width)\n")
    def read_as(name):
        return subprocess.run(["runuser", "-u", name, "--", "env", f"TERRA_LAB_HOME={demo_root.parent}",
                               *(f"{k}={v}" for k, v in env.items()), python, "-c", code],
                              capture_output=True, text=True, timeout=120, cwd="/")

    with ThreadPoolExecutor(len(sessions)) as pool:
        results = dict(zip(sessions, pool.map(read_as, sessions)))
    for name, out in results.items():
        assert out.returncode == 0, f"{name} cannot read the demo archive:\n{out.stderr[-2000:]}"
        n_collections, n_items, width = map(int, out.stdout.split())
        assert n_collections >= 2 and n_items >= 1 and width > 0


def test_catalogue_files_follow_the_umask(tmp_path, demo_catalog):
    """Atomic writes (mkstemp's 0600 files) must not make a shared catalogue private to its writer."""
    from terra_lab.catalog import LocalCatalog

    cid = demo_catalog.collection_ids()[0]
    items = demo_catalog.search(collections=[cid]).items[:2]
    old = os.umask(0o022)
    try:
        LocalCatalog(tmp_path / "cat").add_items(items, collection=cid)
    finally:
        os.umask(old)
    written = [p for p in (tmp_path / "cat").rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert written and all(p.stat().st_mode & 0o777 == 0o644 for p in written), \
        {p.name: oct(p.stat().st_mode & 0o777) for p in written}


# ------------------------------------------------------------------ the catalogue server of a user
def _wait_catalog(hub, s, name: str, timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        # every collection on one page (the API pages them by 10; the demo serves 13)
        status, body = _api(hub, f"/user/{name}/proxy/{s['catalog_port']}/collections?limit=100", s["token"])
        if status == 200:
            return body
        if time.monotonic() > deadline:
            log = s["home"] / "catalog-serve.log"
            pytest.fail(f"{name}'s catalogue server did not answer ({status}): "
                        f"{log.read_text()[-3000:] if log.exists() else 'no log'}")
        time.sleep(1)


def _postmasters(uid: int) -> list[tuple[int, list[str]]]:
    return [(pid, argv) for pid, argv in _user_commands(uid) if Path(argv[0]).name == "postgres" and "-D" in argv]


def test_a_user_serves_their_catalogue_through_the_hub(hub, sessions):
    a, b = USERS
    s = sessions[a]
    body = _wait_catalog(hub, s, a)
    _mark("A's catalogue served")
    assert {c["id"] for c in body["collections"]} >= {"THEIA_REFLECTANCE_SENTINEL2_L2A"}
    # B's token does not pass the hub to A's catalogue
    status, _ = _api(hub, f"/user/{a}/proxy/{s['catalog_port']}/collections", sessions[b]["token"])
    assert status == 403


def test_another_user_cannot_reach_the_catalogue_database(hub, sessions):
    a, b = USERS
    s = sessions[a]
    _wait_catalog(hub, s, a)
    found = _postmasters(s["uid"])
    assert len(found) == 1, found  # A's own PostgreSQL, run as A
    pid, argv = found[0]
    # no TCP listener: the database is reachable only through its socket folder
    assert not _socket_inodes(pid) & _tcp_listening_inodes(), "A's PostgreSQL listens on TCP"
    data = Path(argv[argv.index("-D") + 1])
    workdir = data.parent
    assert workdir.stat().st_uid == s["uid"] and workdir.stat().st_mode & 0o077 == 0, oct(workdir.stat().st_mode)
    sockets = list(workdir.rglob(".s.PGSQL.*"))
    sockets = [p for p in sockets if not p.name.endswith(".lock")]
    assert sockets, sorted(str(p) for p in workdir.rglob("*"))[:20]
    probe = ("import socket, sys\n"
             "s = socket.socket(socket.AF_UNIX)\n"
             f"try:\n    s.connect({str(sockets[0])!r})\nexcept PermissionError:\n    sys.exit(13)\n")
    assert _as_user(b, probe).returncode == 13, "B connected to A's database socket"
    assert _as_user(a, probe).returncode == 0
    secret = workdir / "secret"
    if secret.exists():
        read = f"import sys\ntry:\n    open({str(secret)!r}).read()\nexcept PermissionError:\n    sys.exit(13)\n"
        assert _as_user(b, read).returncode == 13, "B read A's database password"


def test_the_server_port_needs_credentials(hub, sessions):
    """A's Jupyter server listens on a loopback TCP port; B's process reaching it directly, past the
    hub's proxy, gets no kernel list, no file and no dashboard without A's token."""
    a, b = USERS
    _status, model = _api(hub, f"/hub/api/users/{a}", hub["admin"])
    pid = model["servers"][""]["state"]["pid"]
    environ = dict(kv.split("=", 1) for kv in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in kv)
    base = environ["JUPYTERHUB_SERVICE_URL"].rstrip("/")  # http://127.0.0.1:<port>/user/<a>
    assert base.startswith("http://127.0.0.1:"), base
    probe = ("import sys, urllib.request, urllib.error\n"
             "class NoRedirect(urllib.request.HTTPRedirectHandler):\n"
             "    def redirect_request(self, *a, **k):\n"
             "        return None\n"
             "opener = urllib.request.build_opener(NoRedirect)\n"
             "codes = []\n"
             "for path in sys.argv[1:]:\n"
             "    try:\n"
             "        codes.append(opener.open(path, timeout=30).status)\n"
             "    except urllib.error.HTTPError as e:\n"
             "        codes.append(e.code)\n"
             "print(*codes)\n")
    paths = [f"{base}/api/kernels", f"{base}/api/contents", f"{base}/terra-lab-workshops/snow",
             f"{base}/api/kernels?token=made-up"]
    out = subprocess.run(["runuser", "-u", b, "--", PROBE, "-c", probe, *paths], capture_output=True, text=True,
                         timeout=60)
    codes = [int(c) for c in out.stdout.split()]
    assert len(codes) == len(paths) and all(c in (302, 403) for c in codes), (out.stdout, out.stderr[-1000:])
