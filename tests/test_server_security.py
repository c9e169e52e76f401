"""The catalogue server on a shared machine: a private database, processes that die with their parent,
400s for malformed requests, and a command line that validates its input and prints no traceback."""

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import free_port, python_for_user
from test_stac_server import _postgres_available

from terra_lab.catalog import LocalCatalog
from terra_lab.catalog._ids import InvalidCollectionIdError, validate_collection_id
from terra_lab.catalog._server import API_ROLE, PgStacServer, validate_port
from terra_lab.demo import DEMO_COLLECTION as DEMO

server_only = pytest.mark.skipif(not _postgres_available() and os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") != "1",
                                 reason="PostgreSQL not installed: bash scripts/setup-system.sh")
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching to another local user (nobody) needs root")
CLI = [sys.executable, "-m", "terra_lab.cli"]


def _as_nobody(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "nobody", "--", *cmd], capture_output=True, text=True, timeout=60)


# ------------------------------------------------------------------ a private database
@server_only
def test_the_database_is_private_to_its_owner(stac_server):
    srv = stac_server
    assert stat.S_IMODE(srv.secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(srv.socket_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(srv.workdir.stat().st_mode) == 0o700
    with psycopg.connect(srv.dsn) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""  # no TCP at all
        assert conn.execute("SHOW password_encryption").fetchone()[0] == "scram-sha-256"
        rules = conn.execute("SELECT type, auth_method FROM pg_hba_file_rules").fetchall()
    assert rules and all(method == "scram-sha-256" for _, method in rules)  # no trust, no peer
    postmaster = psutil.Process(int((srv.workdir / "pgdata" / "postmaster.pid").read_text().split()[0]))
    assert not [c for c in postmaster.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    wrong = psycopg.conninfo.make_conninfo(srv.dsn, password="not-the-secret")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong)


@server_only
@as_root
def test_another_local_user_cannot_connect(stac_server):
    srv = stac_server
    sock = str(srv.socket_dir)
    # on the socket: the folder is closed to others (even knowing the password would not help)
    sock_file = f"{sock}/.s.PGSQL.{srv.pg_port}"
    out = _as_nobody("psql", "-h", sock, "-p", str(srv.pg_port), "-U", "postgres", "-w", "-c", "SELECT 1")
    assert out.returncode != 0 and f'"{sock_file}" failed: Permission denied' in out.stderr, out.stderr
    # the same with a bare connect() (the system's Python: the project's may not be readable by nobody)
    probe = ("import socket, sys\n"
             "def connect(family, address):\n"
             "    s = socket.socket(family)\n"
             "    try:\n"
             "        s.connect(address)\n"
             "        return 0\n"
             "    except OSError as e:\n"
             "        return e.errno\n"
             f"print(connect(socket.AF_UNIX, {sock_file!r}), connect(socket.AF_INET, ('127.0.0.1', {srv.pg_port})))\n")
    out = _as_nobody("/usr/bin/python3", "-c", probe)
    assert out.returncode == 0 and out.stdout.split() == ["13", "111"], (out.stdout, out.stderr)  # EACCES, ECONNREFUSED
    assert os.path.exists(sock_file)  # the socket is there: only its folder keeps nobody out
    # over TCP with psql: nothing listens
    out = _as_nobody("psql", "-h", "127.0.0.1", "-p", str(srv.pg_port), "-U", "postgres", "-w", "-c", "SELECT 1")
    assert out.returncode != 0 and "Connection refused" in out.stderr, out.stderr
    # the secret cannot be read
    out = _as_nobody("cat", str(srv.secret_file))
    assert out.returncode != 0 and "Permission denied" in out.stderr


@server_only
def test_the_api_role_can_only_read(stac_server):
    srv = stac_server
    dsn = srv._dsn("postgres", user=API_ROLE, password=srv._api_password)
    with psycopg.connect(dsn, autocommit=True) as conn:
        su, = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert su is False
        conn.execute("SET search_path TO pgstac, public")  # as the API sets it
        assert conn.execute("SELECT count(*) FROM pgstac.items").fetchone()[0] > 0  # it reads
        first = conn.execute("SELECT id FROM pgstac.items LIMIT 1").fetchone()[0]
        attempts = [
            "COPY (SELECT 1) TO PROGRAM 'id > /tmp/terra-lab-pwned'",
            "DELETE FROM pgstac.items",
            "UPDATE pgstac.collections SET content = '{}'::jsonb",
            "INSERT INTO pgstac.collections (content) VALUES ('{\"id\": \"evil\"}'::jsonb)",
            f"SELECT pgstac.delete_collection('{DEMO}')",
            f"SELECT pgstac.delete_item('{first}')",
            "SELECT pgstac.create_collection('{\"id\": \"evil\", \"extent\": {}}'::jsonb)",
            "CREATE TABLE public.evil (x int)",
            "CREATE ROLE evil SUPERUSER",
            f"ALTER ROLE {API_ROLE} SUPERUSER",
            "SELECT pg_read_file('/etc/passwd')",
        ]
        for sql in attempts:
            with pytest.raises(psycopg.Error) as e:
                conn.execute(sql)
            assert isinstance(e.value, (psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException)), (sql, e.value)
    assert not Path("/tmp/terra-lab-pwned").exists()
    with psycopg.connect(srv.dsn) as conn:  # nothing changed
        ids = {r[0] for r in conn.execute("SELECT id FROM pgstac.collections")}
    assert ids == set(srv.catalog.collection_ids())


# ------------------------------------------------------------------ 400 for malformed requests
def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def _post(url: str, body: bytes) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    return _get(req)


BAD_GETS = [
    "/search?intersects=notjson", "/search?intersects=%7B%22type%22%3A%22Point%22%7D", "/search?query=notjson",
    "/search?filter=eo:cloud_cover%20%3C%3D", "/search?filter=foo(bar", "/search?filter-lang=cql2-json&filter=notjson",
    "/search?bbox=1,2,3", "/search?bbox=a,b,c,d", "/search?bbox=10,10,0,0", "/search?datetime=notadate",
    "/search?datetime=2024-13-45", "/search?limit=-1", "/search?limit=abc", "/search?token=garbage",
    "/search?token=next:garbage", "/search?ids=%00", f"/collections/{DEMO}/items?limit=-1",
    f"/collections/{DEMO}/items?bbox=x", f"/collections/{DEMO}/items?datetime=bad",
]
BAD_POSTS = [
    b"{not json", b"[]", b"null", b"42", b"\xff\xfe", b'{"limit": -1}', b'{"bbox": [1, 2]}', b'{"intersects": "x"}',
    b'{"intersects": {"type": "Polygon", "coordinates": "x"}}', b'{"filter": {"op": "nope"}}', b'{"filter": "x"}',
    b'{"filter": {"op": "=", "args": [{"property": "eo:cloud_cover"}]}}', b'{"datetime": "bad"}',
    b'{"collections": "NOPE"}', b'{"sortby": [{"field": 1}]}', b'{"token": "next:xx"}', b'{"ids": ["\\u0000"]}',
]


@server_only
@pytest.mark.parametrize("path", BAD_GETS)
def test_malformed_get_requests_are_400_with_a_message(stac_server, path):
    code, body = _get(stac_server.url + path)
    assert code == 400, (path, body)
    assert body.get("description") or body.get("detail")


@server_only
@pytest.mark.parametrize("body", BAD_POSTS)
def test_malformed_post_searches_are_400_with_a_message(stac_server, body):
    code, doc = _post(stac_server.url + "/search", body)
    assert code == 400, (body, doc)
    assert doc.get("description") or doc.get("detail")


@server_only
def test_unknown_things_and_huge_limits_are_not_server_errors(stac_server):
    url = stac_server.url
    assert _get(f"{url}/collections/NOPE")[0] == 404
    assert _get(f"{url}/collections/{DEMO}/items/NOPE")[0] == 404
    code, doc = _get(f"{url}/search?collections=NOPE")
    assert code == 200 and doc["features"] == []
    code, doc = _get(f"{url}/search?collections={DEMO}&limit=100000000")  # capped, as STAC API says
    assert code == 200 and 0 < len(doc["features"]) <= 10000
    assert _post(f"{url}/search", b"{" + b" " * (2 << 20) + b"}")[0] == 413


# ------------------------------------------------------------------ processes die with their parent
def _tree(pid: int) -> list[psutil.Process]:
    return [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]


def _gone(procs: list[psutil.Process], timeout: float = 15.0) -> list[psutil.Process]:
    """Those of ``procs`` still running (not zombies) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:  # gone, or a zombie
        return []


def _wait_for_child(pid: int, name: str, timeout: float = 60.0) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = psutil.Process(pid).children(recursive=True)
        if any(name in " ".join(_cmdline(k)) for k in kids):
            return kids
        time.sleep(0.05)
    pytest.fail(f"no {name} process under {pid}")


def _run_folder(procs: list[psutil.Process]) -> Path:
    for p in procs:
        cmd = _cmdline(p)
        if "-D" in cmd:
            return Path(cmd[cmd.index("-D") + 1]).parent
    pytest.fail("no postgres -D among the processes")


@server_only
def test_sigterm_during_start_up_leaves_nothing(demo_root):
    proc = subprocess.Popen([*CLI, "catalog", "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kids = _wait_for_child(proc.pid, "postgres -D")
        run = _run_folder(kids)
        time.sleep(0.5)  # PostgreSQL starting, the catalogue not loaded yet
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # a failed wait: its children follow it (PDEATHSIG)
    assert "Traceback" not in err and "STAC API on" not in out
    assert not _gone(kids), "processes left after SIGTERM in start-up"
    assert not run.exists()


@server_only
def test_sigkill_of_the_parent_stops_postgres_and_uvicorn(demo_root):
    proc = subprocess.Popen([*CLI, "catalog", "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("STAC API on http://127.0.0.1:") and ":0 " not in line, line  # the real port announced
        url = line.split()[3]
        assert DEMO in urllib.request.urlopen(url + "/collections?limit=100", timeout=10).read().decode()
        procs = _tree(proc.pid)[1:]
        names = " ".join(" ".join(_cmdline(p)) for p in procs)
        assert "uvicorn" in names and "postgres -D" in names
        run = _run_folder(procs)
    finally:
        proc.kill()
        proc.wait(10)
    assert not _gone(procs), "postgres or uvicorn still running after SIGKILL of their parent"
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/", timeout=2)
    # the folder a killed server leaves is removed by the next start
    srv = PgStacServer(LocalCatalog(run.parent / "no-such-catalogue"))
    srv.stop()
    assert not run.exists()


@server_only
def test_a_failed_start_leaves_nothing(tmp_path, demo_catalog):
    empty = tmp_path / "empty"
    (empty / "items").mkdir(parents=True)
    proc = subprocess.Popen([*CLI, "catalog", "serve", "--catalog", str(empty), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        kids = _wait_for_child(proc.pid, "postgres -D")
        run = _run_folder(kids)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 2 and err.strip().count("\n") == 0 and "is empty: nothing to serve" in err, err
    assert not _gone(kids)
    assert not run.exists()
    # the API's port taken after the check: uvicorn fails, PostgreSQL is stopped
    port = free_port()
    srv = PgStacServer(demo_catalog, port=port)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(ConnectionError, match="STAC API process exited"):
            srv.start()
    assert srv._postmaster is None and not srv.workdir.exists()


@server_only
def test_a_busy_port_is_refused_before_anything_starts():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run([*CLI, "catalog", "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and f"port {port} on 127.0.0.1 is not available" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------ input validation
def test_ports_are_validated():
    for bad in (-1, 65536, 99999, "80", 1.5, True):
        with pytest.raises(ValueError, match="not a TCP port"):
            validate_port(bad)
    assert validate_port(0) == 0 and validate_port(65535) == 65535
    with pytest.raises(ValueError, match="port 99999 is not a TCP port"):
        PgStacServer(LocalCatalog("/nonexistent"), port=99999)


@pytest.mark.parametrize("cid", ["SENTINEL2_L2A_THEIA", "a", "x.y-z_1", "A" * 128])
def test_good_collection_ids(cid):
    assert validate_collection_id(cid) == cid


@pytest.mark.parametrize("cid", ["../../x", "a/b", ".hidden", "..", "", "a b", "x\x00", "é", "A" * 129, "a\\b", None, 3])
def test_bad_collection_ids(cid):
    with pytest.raises(InvalidCollectionIdError, match="collection id"):
        validate_collection_id(cid)


def test_a_collection_id_cannot_write_outside_the_catalogue(tmp_path, demo_items, demo_root):
    from terra_lab.catalog._ingest import ingest

    cat = LocalCatalog(tmp_path / "cat")
    with pytest.raises(InvalidCollectionIdError, match="not allowed"):
        cat.add_items(demo_items[:1], collection="../../x")
    with pytest.raises(InvalidCollectionIdError, match="not allowed"):  # refused before anything is read
        ingest(demo_root / "archive", collection="../x", catalog=cat)
    assert not list(tmp_path.rglob("*.parquet")) and not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["catalog", "serve", "--port", "99999"], "'99999' is not a TCP port: give 1..65535, or 0"),
        (["catalog", "serve", "--port", "http"], "'http' is not a TCP port"),
        (["workshop", "serve", "--port", "0"], "'0' is not a TCP port: give 1..65535"),
        (["ingest", ".", "--collection", "../../x"], "collection id '../../x' is not allowed"),
        (["ingest", "/no/such/folder"], "'/no/such/folder' does not exist"),
        (["catalog", "search", "--bbox", "a,b,c,d"], "ValueError: could not convert string to float"),
        (["catalog", "search", "--bbox", "1,2"], "bbox"),
        (["catalog", "search", "--dates", "2024-13-45"], "2024-13-45"),
        (["catalog", "search", "--collection", "NOPE"], "collection 'NOPE' is not in the catalogue"),
        (["catalog", "search", "--catalog", "/no/such/catalogue"], "/no/such/catalogue"),
        (["catalog", "serve", "--catalog", "/no/such/catalogue"], "/no/such/catalogue"),
        (["demo", "build", "--dest", "/proc/no-such/demo"], "/proc/no-such"),
    ],
)
def test_the_command_line_prints_one_line_and_no_traceback(demo_root, args, message):
    out = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr[-2000:]
    last = out.stderr.strip().splitlines()[-1]
    assert message in last, out.stderr
    assert last.startswith(("terra-lab: error:", "usage:")) or "error: argument" in last


# ------------------------------------------------------------------ a user who is not root
@pytest.fixture(scope="module")
def nobody_python():
    """A Python that ``nobody`` may run with this environment's packages (conftest's python_for_user)."""
    with python_for_user("nobody") as (python, _env):
        yield python


@server_only
@as_root
def test_a_user_serves_from_their_own_folder_and_kill_stops_everything(nobody_python, demo_root):
    """What a JupyterHub user does: ``catalog serve`` with the admin's (shared, read-only) TERRA_LAB_HOME:
    the run folder is in their home, private; SIGKILL of the command stops PostgreSQL and uvicorn."""
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="tl-"))  # short: a socket path holds 107 bytes
    try:
        os.chown(home, 65534, 65534)
        cmd = ["runuser", "-u", "nobody", "--", "env", "-u", "XDG_RUNTIME_DIR", f"HOME={home}",
               f"TERRA_LAB_HOME={demo_root.parent}", nobody_python, "-m", "terra_lab.cli", "catalog", "serve", "--port", "0"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.startswith("STAC API on http://127.0.0.1:"), (
                line, proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
            url = line.split()[3]
            assert DEMO in urllib.request.urlopen(url + "/collections?limit=100", timeout=10).read().decode()
            everything = _tree(proc.pid)  # runuser, the command, PostgreSQL, uvicorn
            server = next(p for p in everything if p.name().startswith("python") and "terra_lab.cli" in _cmdline(p))
            procs = server.children(recursive=True)
            run = _run_folder(procs)
            assert run.parent == home / ".cache" / "terra_lab" / "run"
            for path, mode in ((run, 0o700), (run / "socket", 0o700), (run / "secret", 0o600)):
                st = path.stat()
                assert st.st_uid == 65534 and stat.S_IMODE(st.st_mode) == mode, path
            assert server.uids().real == 65534 and all(p.uids().real == 65534 for p in procs)
            server.kill()  # as the OOM killer or a hub culling a server would
        finally:
            try:
                proc.wait(10)  # runuser returns once the command is killed
            except subprocess.TimeoutExpired:  # a failed assertion before the kill: stop everything
                for p in _tree(proc.pid)[::-1]:
                    p.kill()
                proc.wait(10)
        assert not _gone(procs), "the user's postgres or uvicorn still running after SIGKILL"
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)
