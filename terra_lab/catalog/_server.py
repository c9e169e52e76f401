"""A real STAC API server over a local catalogue: stac-fastapi-pgstac on a private PostgreSQL.

``terra-lab catalog serve`` (and the integration tests) start, all on 127.0.0.1:

1. a throw-away PostgreSQL cluster (Debian's ``postgresql`` and ``postgis`` packages,
   installed by ``scripts/setup-system.sh``) in a temporary folder,
2. the pgstac schema (``pypgstac migrate``) loaded with the catalogue's collections and items,
3. the stac-fastapi-pgstac application under uvicorn.

Everything is stopped and removed by :meth:`PgStacServer.stop` (or leaving the ``with`` block).
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
        self._pg_started = False
        self._as_postgres = os.geteuid() == 0  # PostgreSQL refuses to run as root

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres"

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
        self._load()
        env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(self.pg_port), PGUSER="postgres", PGPASSWORD="unused",
                   PGDATABASE="postgres", STAC_FASTAPI_TITLE=f"terra_lab: {self.catalog.name}",
                   STAC_FASTAPI_LANDING_ID="terra-lab", ENABLE_TRANSACTIONS_EXTENSIONS="false")
        log = open(self.log_dir / "stac-api.log", "ab")  # noqa: SIM115 - kept open for the process' life
        self._api = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app", "--factory",
             "--host", self.host, "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._api.poll() is not None:
                self.stop()
                raise CatalogUnreachableError(f"the STAC API process exited ({self._api.returncode}); see {self.log_dir / 'stac-api.log'}")
            try:
                with urllib.request.urlopen(self.url + "/_mgmt/ping", timeout=2) as r:  # noqa: S310 - loopback
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise CatalogUnreachableError(f"the STAC API did not answer on {self.url} within {timeout:.0f} s")

    def _load(self) -> None:
        from pypgstac.db import PgstacDB
        from pypgstac.load import Loader, Methods
        from pypgstac.migrate import Migrate

        with PgstacDB(dsn=self.dsn) as db:
            Migrate(db).run_migration()
            loader = Loader(db=db)
            collections = list(self.catalog.collections().values())
            if not collections:
                raise TerraLabError(f"the catalogue {self.catalog.name!r} is empty: nothing to serve")
            loader.load_collections(iter(collections), insert_mode=Methods.upsert)
            for cid in self.catalog.collection_ids():
                items = self.catalog.search(collections=[cid]).items
                loader.load_items(iter(items), insert_mode=Methods.upsert)

    def stop(self) -> None:
        if self._api is not None and self._api.poll() is None:
            os.killpg(self._api.pid, signal.SIGTERM)
            try:
                self._api.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self._api.pid, signal.SIGKILL)
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
