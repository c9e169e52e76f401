"""A real STAC API server over a local catalogue: stac-fastapi-pgstac on a private PostgreSQL.

``terra-lab catalog serve`` (and the integration tests) start:

1. a throw-away PostgreSQL cluster (Debian's ``postgresql`` and ``postgis`` packages,
   installed by ``scripts/setup-system.sh``) in a private run folder (:func:`run_root`),
2. the pgstac schema (``pypgstac migrate``) loaded with the catalogue's collections and items,
3. the stac-fastapi-pgstac application (:mod:`._stac_app`) under uvicorn on 127.0.0.1.

The database is private to the user who starts it:

* PostgreSQL listens on no TCP port at all, only on a Unix socket in a ``0700`` folder
  (``<workdir>/socket``), with password (``scram-sha-256``) authentication for every
  connection; the superuser's random password is in ``<workdir>/secret`` (``0600``).
* The STAC API connects as ``terra_lab_api``, a login role that only has pgstac's
  ``pgstac_read`` rights (searches; no write to the catalogue, no ``COPY ... TO PROGRAM``),
  with its own random password passed in the API process' environment.

Every process dies with its parent: PostgreSQL and uvicorn are started with a parent-death
signal (Linux ``prctl(PR_SET_PDEATHSIG)``), so a ``SIGKILL`` of the Python process that
started them stops them too (Linux counts the *thread* that started them: start a server from a
thread that outlives it, e.g. the main one); :meth:`PgStacServer.start` stops what it started when it fails
or is interrupted, and :meth:`PgStacServer.stop` (or leaving the ``with`` block) removes the
run folder.  Run folders left by a killed server are removed by the next start.

More catalogues can be served from the same PostgreSQL, each in its own database behind its
own API process (:meth:`PgStacServer.add_catalog`).
"""

from __future__ import annotations

import ctypes
import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .._paths import data_home, private_dir
from ..errors import CatalogUnreachableError, TerraLabError
from ._local import LocalCatalog

__all__ = ["API_ROLE", "PgStacServer", "find_postgres_bin", "run_root", "validate_port"]

API_ROLE = "terra_lab_api"
_PREFIX = "terra-lab-pgstac-"
_SOCKET_MAX = 100  # bytes: a Unix socket path (sun_path) holds 107, PostgreSQL adds /.s.PGSQL.<port>
_PR_SET_PDEATHSIG = 1


def find_postgres_bin() -> Path:
    """Folder holding ``initdb`` and ``postgres`` (the newest Debian PostgreSQL, or ``$PATH``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise TerraLabError(
        "PostgreSQL is not installed (no initdb found); run `bash scripts/setup-system.sh` "
        "(Debian: apt-get install postgresql postgresql-15-postgis-3)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def validate_port(port: object) -> int:
    """``port`` as an int in 0..65535 (0: a free port is chosen), else ``ValueError`` saying so."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port {port!r} is not a TCP port: give 1..65535, or 0 to let the server choose a free one")
    return port


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise TerraLabError(f"port {port} on {host} is not available ({e.strerror}): choose another one "
                                "(--port), or 0 to let the server choose") from e


# ------------------------------------------------------------------ processes that die with us
def _die_with_parent(sig: int, parent: int):
    """A ``preexec_fn``: the child gets ``sig`` when the thread that started it exits (Linux)."""

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: stop() and the signal handlers still apply
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def _terminate(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout)


# ------------------------------------------------------------------ private run folders
def run_root() -> Path:
    """Where catalogue servers keep their run folders (database, socket, secret, logs), private to the user.

    The first folder of the user's own among ``$XDG_RUNTIME_DIR/terra_lab`` (JupyterHub
    single-user servers started by systemd have one), ``$TERRA_LAB_HOME/run`` and
    ``~/.cache/terra_lab/run`` (when ``TERRA_LAB_HOME`` is shared, e.g. an admin's demo
    archive), else the system's temporary folder.  Root's servers run PostgreSQL as the
    ``postgres`` user, which cannot enter root's folders: they use the temporary folder.  In
    every case each run folder has a random name and is ``0700``.
    """
    if os.geteuid() == 0:
        return Path(tempfile.gettempdir())
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    candidates = [Path(xdg) / "terra_lab"] if xdg and Path(xdg).is_dir() and Path(xdg).stat().st_uid == os.geteuid() else []
    candidates += [data_home() / "run", Path.home() / ".cache" / "terra_lab" / "run"]
    for c in candidates:
        if private_dir(c) is not None:
            return c
    return Path(tempfile.gettempdir())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale(root: Path) -> None:
    """Remove run folders whose server (and its PostgreSQL) no longer runs: left by a SIGKILL."""
    for d in root.glob(f"{_PREFIX}*"):
        try:
            owner = int((d / "owner.pid").read_text())
            postmaster = d / "pgdata" / "postmaster.pid"
            pg_pid = int(postmaster.read_text().split()[0]) if postmaster.exists() else None
        except (OSError, ValueError, IndexError):
            continue
        if d.stat().st_uid in (os.geteuid(), _postgres_uid()) and not _alive(owner) and not (pg_pid and _alive(pg_pid)):
            shutil.rmtree(d, ignore_errors=True)


def _postgres_uid() -> int | None:
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return None


class PgStacServer:
    """Serve ``catalog`` as a STAC API on ``http://127.0.0.1:port`` (``port=0``: a free one)."""

    def __init__(self, catalog: LocalCatalog, *, host: str = "127.0.0.1", port: int = 0, log_dir: str | None = None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"host={host!r}: the catalogue server only listens on the loopback interface")
        validate_port(port)
        if port:
            _check_port_free(host, port)
        self.catalog = catalog
        self.host, self.port = host, port or _free_port()
        self.pg_port = 5432  # names the socket file only: PostgreSQL listens on no TCP port
        self._as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root
        root = run_root()
        _sweep_stale(root)
        self.workdir = Path(tempfile.mkdtemp(prefix=_PREFIX, dir=root))
        if len(str(self.workdir / "socket" / ".s.PGSQL.5432")) > _SOCKET_MAX:  # a deep TERRA_LAB_HOME
            shutil.rmtree(self.workdir)
            self.workdir = Path(tempfile.mkdtemp(prefix=_PREFIX))
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        self.socket_dir = self.workdir / "socket"
        self.secret_file = self.workdir / "secret"
        self.log_dir = Path(log_dir) if log_dir else self.workdir
        self._password = secrets.token_urlsafe(32)
        self._api_password = secrets.token_urlsafe(32)
        self._postmaster: subprocess.Popen | None = None
        self._api: subprocess.Popen | None = None
        self._more: list[subprocess.Popen] = []
        self._databases = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def dsn(self) -> str:
        """libpq connection string of the superuser (socket and password): for the owner's own tools."""
        return self._dsn("postgres")

    def _dsn(self, database: str, user: str = "postgres", password: str | None = None) -> str:
        from psycopg.conninfo import make_conninfo

        return make_conninfo(host=str(self.socket_dir), port=self.pg_port, dbname=database, user=user,
                             password=password or self._password)

    # ---------------------------------------------------------------- processes
    def _pg_kwargs(self, sig: int) -> dict:
        """Popen arguments: as ``postgres`` when we are root, dying with us, in its own session."""
        kw: dict = dict(cwd=self.workdir, start_new_session=True, preexec_fn=_die_with_parent(sig, os.getpid()))
        if self._as_postgres:
            kw.update(user="postgres", group="postgres", extra_groups=[])
        return kw

    def _run_pg(self, *cmd: str) -> None:
        proc = subprocess.run(cmd, capture_output=True, text=True, **self._pg_kwargs(signal.SIGKILL))
        if proc.returncode != 0:
            raise TerraLabError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")

    def _own(self, path: Path, mode: int) -> None:
        """``path`` for its owner only (``mode``), owned by the user PostgreSQL runs as."""
        path.chmod(mode)
        if self._as_postgres:
            shutil.chown(path, "postgres", "postgres")

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 60.0) -> PgStacServer:
        """Start PostgreSQL, load the catalogue, start the API; on any failure or interruption, stop everything."""
        try:
            self._start_postgres(timeout)
            self._load(self.catalog, "postgres")
            self._api = self._start_api(self.catalog, "postgres", self.port, "stac-api.log", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postgres(self, timeout: float) -> None:
        bindir = find_postgres_bin()
        self.socket_dir.mkdir(mode=0o700)
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._password + "\n")
        for path, mode in ((self.workdir, 0o700), (self.socket_dir, 0o700), (self.secret_file, 0o600)):
            self._own(path, mode)
        data = self.workdir / "pgdata"
        self._run_pg(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256",
                     f"--pwfile={self.secret_file}", "-E", "UTF8", "--no-sync")
        log = open(self.workdir / "postgres.log", "ab")  # noqa: SIM115 - kept open for the process' life
        try:
            self._postmaster = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(data), "-p", str(self.pg_port), "-k", str(self.socket_dir),
                 "-c", "listen_addresses=", "-c", "unix_socket_permissions=0700", "-c", "fsync=off",
                 "-c", "password_encryption=scram-sha-256"],
                stdout=log, stderr=subprocess.STDOUT, **self._pg_kwargs(signal.SIGINT),  # SIGINT: fast shutdown
            )
        finally:
            log.close()
        self._wait_postgres(timeout)

    def _wait_postgres(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        postmaster = self._postmaster
        assert postmaster is not None, "_wait_postgres runs after PostgreSQL was started"
        while True:
            if postmaster.poll() is not None:
                raise TerraLabError(f"PostgreSQL exited ({postmaster.returncode}); see {self.workdir / 'postgres.log'}")
            try:
                with psycopg.connect(self.dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as e:
                if time.monotonic() > deadline:
                    raise TerraLabError(f"PostgreSQL did not accept connections within {timeout:.0f} s: {e}") from e
                time.sleep(0.1)

    def add_catalog(self, catalog: LocalCatalog, *, port: int = 0, timeout: float = 60.0) -> str:
        """Serve another catalogue from the same PostgreSQL (its own database and API); its URL."""
        if self._postmaster is None:
            raise TerraLabError("start the server before adding catalogues to it")
        validate_port(port)
        self._databases += 1
        database = f"catalog{self._databases}"
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        self._load(catalog, database)
        port = port or _free_port()
        self._more.append(self._start_api(catalog, database, port, f"stac-api-{database}.log", timeout))
        return f"http://{self.host}:{port}"

    def _start_api(self, catalog: LocalCatalog, database: str, port: int, log_name: str, timeout: float) -> subprocess.Popen:
        env = dict(os.environ, PGHOST=str(self.socket_dir), PGPORT=str(self.pg_port), PGUSER=API_ROLE,
                   PGPASSWORD=self._api_password, PGDATABASE=database, STAC_FASTAPI_TITLE=f"terra_lab: {catalog.name}",
                   STAC_FASTAPI_LANDING_ID="terra-lab", ENABLE_TRANSACTIONS_EXTENSIONS="false")
        log = open(self.log_dir / log_name, "ab")  # noqa: SIM115 - the child holds it
        try:
            api = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "terra_lab.catalog._stac_app:create_app", "--factory",
                 "--host", self.host, "--port", str(port), "--log-level", "warning"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent(signal.SIGTERM, os.getpid()),  # noqa: PLW1509 - prctl only, before exec
            )
        finally:
            log.close()
        url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if api.poll() is not None:
                    raise CatalogUnreachableError(
                        f"the STAC API process exited ({api.returncode}); see {self.log_dir / log_name}")
                try:
                    with urllib.request.urlopen(url + "/_mgmt/ping", timeout=2) as r:
                        if r.status == 200:
                            return api
                except OSError:
                    time.sleep(0.2)
            raise CatalogUnreachableError(f"the STAC API did not answer on {url} within {timeout:.0f} s")
        except BaseException:
            _terminate(api)
            raise

    def _load(self, catalog: LocalCatalog, database: str) -> None:
        from psycopg import sql
        from pypgstac.db import PgstacDB
        from pypgstac.load import Loader, Methods
        from pypgstac.migrate import Migrate

        collections = list(catalog.collections().values())
        if not collections:
            raise TerraLabError(f"the catalogue {catalog.name!r} is empty: nothing to serve")
        with PgstacDB(dsn=self._dsn(database)) as db:
            Migrate(db).run_migration()
            loader = Loader(db=db)
            loader.load_collections(iter(collections), insert_mode=Methods.upsert)
            for cid in catalog.collection_ids():
                items = catalog.search(collections=[cid]).items
                loader.load_items(iter(items), insert_mode=Methods.upsert)
        import psycopg

        with psycopg.connect(self._dsn(database), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (API_ROLE,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            # read-only: pgstac_read may search (and cache searches), not write items or collections
            conn.execute(sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(API_ROLE), sql.Literal(self._api_password)))
            conn.execute(sql.SQL("GRANT pgstac_read TO {}").format(sql.Identifier(API_ROLE)))

    def stop(self) -> None:
        """Stop the APIs and PostgreSQL, and remove the run folder (safe to call more than once)."""
        for api in [self._api, *self._more]:
            if api is not None:
                _terminate(api)
        self._api, self._more = None, []
        if self._postmaster is not None:
            _terminate(self._postmaster, signal.SIGINT)  # fast shutdown: disconnects clients, then exits
            self._postmaster = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PgStacServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<PgStacServer {self.url} over {self.catalog.name!r}>"
