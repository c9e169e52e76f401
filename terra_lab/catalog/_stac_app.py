"""The STAC API application that :class:`~terra_lab.catalog._server.PgStacServer` runs under uvicorn.

stac-fastapi-pgstac's own application, with two changes:

* it reaches PostgreSQL over a Unix socket (``PGHOST`` is the socket's folder: the database
  listens on no TCP port), as the read-only role named by ``PGUSER``;
* a malformed request is a ``400`` with a JSON message, never a ``500``: a body that is not
  a JSON object, malformed JSON in a query parameter (``intersects``, ``query``, a CQL2-JSON
  ``filter``), a filter or paging token that pgstac rejects, text PostgreSQL cannot take.

Run with ``uvicorn terra_lab.catalog._stac_app:create_app --factory``.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from urllib.parse import quote

__all__ = ["MAX_BODY", "create_app"]

MAX_BODY = 1 << 20  # bytes of a request body (a search is a few hundred)
_log = logging.getLogger("terra_lab.stac_api")


def _bad_request(description: str, status: int = 400):
    from starlette.responses import JSONResponse

    return JSONResponse({"code": "BadRequest" if status == 400 else "Error", "description": description}, status_code=status)


class _JsonBody:
    """ASGI middleware: a request body that is not one JSON object is a 400 (413 if too large), before any route."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > MAX_BODY:
                return await _bad_request(f"the request body is larger than {MAX_BODY} bytes", 413)(scope, receive, send)
        body = b"".join(chunks)
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as e:
            return await _bad_request(f"the request body is not valid JSON: {e}")(scope, receive, send)
        if not isinstance(doc, dict):
            return await _bad_request(f"the request body must be a JSON object, not {type(doc).__name__}")(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)


def _client_error(request, exc: Exception):
    """400 for errors that come from the request's content (logged without a traceback)."""
    _log.info("400 on %s: %s: %s", request.url.path, type(exc).__name__, exc)
    return _bad_request(f"{exc}" if str(exc) else type(exc).__name__)


def _settings_over_socket():
    from stac_fastapi.pgstac.config import PostgresSettings

    class SocketSettings(PostgresSettings):
        """``PGHOST`` may be the folder of a Unix socket (asyncpg's ``host=`` query parameter)."""

        @property
        def connection_string(self) -> str:
            if not self.pghost.startswith("/"):
                return super().connection_string
            return (f"postgresql://{quote(self.pguser, safe='')}:{quote(self.pgpassword, safe='')}@/"
                    f"{quote(self.pgdatabase, safe='')}?host={quote(self.pghost, safe='')}&port={self.pgport}")

    return SocketSettings()


def create_app():
    """The FastAPI application (a uvicorn ``--factory``), configured from the environment."""
    import orjson
    from asyncpg import exceptions as pg
    from fastapi import FastAPI
    from stac_fastapi.pgstac.app import instantiate_api
    from stac_fastapi.pgstac.db import close_db_connection, connect_to_db

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await connect_to_db(app, postgres_settings=_settings_over_socket())
        yield
        await close_db_connection(app)

    app = instantiate_api(lifespan=lifespan).app
    # pgstac's RAISE EXCEPTION (bad paging token, bad CQL2 operator...) and data errors (bad text,
    # numbers out of range) all come from the request: its client's mistake, said back to it
    for exc in (json.JSONDecodeError, orjson.JSONDecodeError, pg.RaiseError, pg.DataError):
        app.add_exception_handler(exc, _client_error)
    app.add_middleware(_JsonBody)
    return app
