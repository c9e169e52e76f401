"""A real STAC API server over a local catalogue: stac-fastapi-pgstac on a private PostgreSQL.

``terra-lab catalog serve`` (and the integration tests) start, all on 127.0.0.1:

1. a throw-away PostgreSQL cluster (Debian's ``postgresql`` and ``postgis`` packages,
   installed by ``scripts/setup-system.sh``) in a temporary folder,
2. the pgstac schema (``pypgstac migrate``) loaded with the catalogue's collections and items,
3. the stac-fastapi-pgstac application under uvicorn.

More catalogues can be served from the same PostgreSQL, each in its own database behind its
own API process (:meth:`PgStacServer.add_catalog`).  Everything is stopped and removed by
:meth:`PgStacServer.stop` (or leaving the ``with`` block).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from ..errors import CatalogUnreachableError, TerraLabError
from ._local import LocalCatalog

__all__ = ["PgStacServer", "find_postgres_bin"]


def find_postgres_bin() -> Path:
    """Folder holding ``initdb`` and ``pg_ctl`` (the newest Debian PostgreSQL, or ``$PATH``)."""
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


def _terminate(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class PgStacServer:
    """Serve ``catalog`` as a STAC API on ``http://127.0.0.1:port``."""

    def __init__(self, catalog: LocalCatalog, *, host: str = "127.0.0.1", port: int = 0, log_dir: str | None = None):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError(f"host={host!r}: the catalogue server only listens on the loopback interface")
        self.catalog = catalog
        self.host, self.port = host, port or _free_port()
        self.pg_port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="terra-lab-pgstac-"))
        self.log_dir = Path(log_dir) if log_dir else self.workdir
        self._api: subprocess.Popen | None = None
        self._more: list[subprocess.Popen] = []
        self._pg_started = False
        self._as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def dsn(self) -> str:
        return self._dsn("postgres")

    def _dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/{database}"

    def _run_pg(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._as_postgres else list(cmd)
        proc = subprocess.run(full, capture_output=True, text=True)
        if proc.returncode != 0:
            raise TerraLabError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")

    # ---------------------------------------------------------------- lifecycle
    def start(self, timeout: float = 60.0) -> "PgStacServer":
        bindir = find_postgres_bin()
        data = self.workdir / "pgdata"
        if self._as_postgres:
            shutil.chown(self.workdir, "postgres")
            os.chmod(self.workdir, 0o755)
        self._run_pg(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run_pg(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(self.workdir / "postgres.log"), "-w", "-t", str(int(timeout)),
            "-o", f"-p {self.pg_port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        )
        self._pg_started = True
        self._load(self.catalog, "postgres")
        try:
            self._api = self._start_api(self.catalog, "postgres", self.port, "stac-api.log", timeout)
        except CatalogUnreachableError:
            self.stop()
            raise
        return self

    def add_catalog(self, catalog: LocalCatalog, *, port: int = 0, timeout: float = 60.0) -> str:
        """Serve another catalogue from the same PostgreSQL (its own database and API); its URL."""
        if not self._pg_started:
            raise TerraLabError("start the server before adding catalogues to it")
        database = f"catalog{len(self._more) + 1}"
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        self._load(catalog, database)
        port = port or _free_port()
        self._more.append(self._start_api(catalog, database, port, f"stac-api-{database}.log", timeout))
        return f"http://{self.host}:{port}"

    def _start_api(self, catalog: LocalCatalog, database: str, port: int, log_name: str, timeout: float) -> subprocess.Popen:
        env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.pg_port), PGUSER="postgres", PGPASSWORD="unused",
                   PGDATABASE=database, STAC_FASTAPI_TITLE=f"terra_lab: {catalog.name}",
                   STAC_FASTAPI_LANDING_ID="terra-lab", ENABLE_TRANSACTIONS_EXTENSIONS="false")
        log = open(self.log_dir / log_name, "ab")  # noqa: SIM115 - kept open for the process' life
        api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app", "--factory",
             "--host", self.host, "--port", str(port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if api.poll() is not None:
                raise CatalogUnreachableError(f"the STAC API process exited ({api.returncode}); see {self.log_dir / log_name}")
            try:
                with urllib.request.urlopen(url + "/_mgmt/ping", timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        return api
            except OSError:
                time.sleep(0.3)
        _terminate(api)
        raise CatalogUnreachableError(f"the STAC API did not answer on {url} within {timeout:.0f} s")

    def _load(self, catalog: LocalCatalog, database: str) -> None:
        from pypgstac.db import PgstacDB
        from pypgstac.load import Loader, Methods
        from pypgstac.migrate import Migrate

        with PgstacDB(dsn=self._dsn(database)) as db:
            Migrate(db).run_migration()
            loader = Loader(db=db)
            collections = list(catalog.collections().values())
            if not collections:
                raise TerraLabError(f"the catalogue {catalog.name!r} is empty: nothing to serve")
            loader.load_collections(iter(collections), insert_mode=Methods.upsert)
            for cid in catalog.collection_ids():
                items = catalog.search(collections=[cid]).items
                loader.load_items(iter(items), insert_mode=Methods.upsert)

    def stop(self) -> None:
        for api in [self._api, *self._more]:
            if api is not None:
                _terminate(api)
        self._more = []
        if self._pg_started:
            try:
                self._run_pg(str(find_postgres_bin() / "pg_ctl"), "-D", str(self.workdir / "pgdata"), "-m", "immediate", "stop")
            except TerraLabError:
                pass
            self._pg_started = False
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "PgStacServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<PgStacServer {self.url} over {self.catalog.name!r}>"
