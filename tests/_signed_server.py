"""A file server on 127.0.0.1 that serves files only to signed URLs or API-key holders.

It stands in for the two real THEIA storages in the tests:

* ``presigned``: like the THEIA STAC API's S3 storage, a file is served only under a URL signed
  the S3 way (``X-Amz-Date``, ``X-Amz-Expires``, ``X-Amz-Signature``, an HMAC of the path and the
  dates) and answers 403 once it has expired.  ``POST /sign_urls`` is a signing service speaking
  the protocol of THEIA's (``https://signing.stac.teledetection.fr``, used by the
  ``teledetection`` package): ``{"urls": [...], "duration_seconds": n}`` in,
  ``{"hrefs": {url: signed}, "expiry": ...}`` out.
* ``apikey``: like CNES GEODES' downloads, a file is served only with the right ``X-API-Key``.

Files are served with HTTP range requests (what GDAL's ``/vsicurl/`` sends).  Counters
(``GET /_stats``) tell the tests how many signatures were made and how many requests were refused.
The server runs in its own process: rasterio holds the GIL while GDAL opens a remote file, so a
server thread in the reading process would never answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

_SECRET = b"terra-lab-test-secret"
_DATE = "%Y%m%dT%H%M%SZ"


def _signature(path: str, date: str, expires: str) -> str:
    return hmac.new(_SECRET, f"{path}\n{date}\n{expires}".encode(), hashlib.sha256).hexdigest()


class SignedFileServer:
    """Serve ``root`` on ``http://127.0.0.1:port/files/...`` under ``mode`` ("presigned" or "apikey"),
    in a child process; :meth:`stats` reads its counters, :meth:`sign` asks its signing service."""

    def __init__(self, root: str | Path, *, mode: str = "presigned", duration: int = 28800, api_key: str = "test-key"):
        if mode not in ("presigned", "apikey"):
            raise ValueError(mode)
        self.root = Path(root).resolve()
        self.mode, self.duration, self.api_key = mode, int(duration), api_key
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def href(self, path: str | Path) -> str:
        """The plain (unsigned) URL of a file under ``root``."""
        return f"{self.url}/files/{Path(path).resolve().relative_to(self.root).as_posix()}"

    def sign(self, urls: list[str], duration: int | None = None) -> dict[str, str]:
        """Signed URLs from the server's signing service (what ``teledetection.sign_urls`` asks)."""
        body = {"urls": list(urls), **({"duration_seconds": duration} if duration else {})}
        req = urllib.request.Request(f"{self.url}/sign_urls", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["hrefs"]

    def stats(self) -> dict[str, Counter]:
        """Counters by file path: ``signed`` (signatures made), ``denied`` (403s), ``served``."""
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=10) as r:
            return {k: Counter(v) for k, v in json.loads(r.read()).items()}

    def start(self, timeout: float = 20.0) -> SignedFileServer:
        self._proc = subprocess.Popen([sys.executable, __file__, str(self.root), self.mode, str(self.duration),
                                       self.api_key, str(self.port)])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.stats()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the signed file server did not start on {self.url}")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Server:
    """The server process itself."""

    def __init__(self, root: Path, mode: str, duration: int, api_key: str, port: int):
        self.root, self.mode, self.duration, self.api_key = root.resolve(), mode, duration, api_key
        self.signed: Counter = Counter()  # path -> signatures made
        self.denied: Counter = Counter()  # path -> requests refused
        self.served: Counter = Counter()  # path -> requests served
        self.refused: list[str] = []  # the refused requests, in order
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda request, client_address: None  # GDAL drops kept-alive connections

    def sign(self, url: str, duration: int | None = None) -> str:
        parts = urlsplit(url)
        date = dt.datetime.now(dt.timezone.utc).strftime(_DATE)
        expires = str(int(duration if duration is not None else self.duration))
        q = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": "TEST/s3/aws4_request", "X-Amz-Date": date,
             "X-Amz-Expires": expires, "X-Amz-SignedHeaders": "host", "X-Amz-Signature": _signature(parts.path, date, expires)}
        with self._lock:
            self.signed[parts.path] += 1
        return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(q)}"

    def _authorised(self, path: str, query: str, headers) -> bool:
        if self.mode == "apikey":
            return headers.get("X-API-Key") == self.api_key
        q = dict(parse_qsl(query))
        try:
            date, expires, sig = q["X-Amz-Date"], q["X-Amz-Expires"], q["X-Amz-Signature"]
            start = dt.datetime.strptime(date, _DATE).replace(tzinfo=dt.timezone.utc)
        except (KeyError, ValueError):
            return False
        if not hmac.compare_digest(sig, _signature(path, date, expires)):
            return False
        return dt.datetime.now(dt.timezone.utc) < start + dt.timedelta(seconds=int(expires))

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: bytes = b"", ctype: str = "text/plain", extra: dict | None = None, head=False):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _file(self, head: bool):
                parts = urlsplit(self.path)
                if not parts.path.startswith("/files/"):
                    return self._send(404, b"not found", head=head)
                if not server._authorised(parts.path, parts.query, self.headers):
                    with server._lock:
                        server.denied[parts.path] += 1
                        server.refused.append(f"{self.command} {self.path}")
                    return self._send(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                                      "application/xml", head=head)
                f = (server.root / parts.path[len("/files/"):]).resolve()
                if server.root not in f.parents or not f.is_file():
                    return self._send(404, b"not found", head=head)
                data = f.read_bytes()
                with server._lock:
                    server.served[parts.path] += 1
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    start = int(a) if a else max(0, len(data) - int(b))
                    end = min(int(b) if (a and b) else len(data) - 1, len(data) - 1)
                    if start >= len(data):
                        return self._send(416, b"", extra={"Content-Range": f"bytes */{len(data)}"}, head=head)
                    return self._send(206, data[start:end + 1], "application/octet-stream",
                                      {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"}, head)
                return self._send(200, data, "application/octet-stream", {"Accept-Ranges": "bytes"}, head)

            def do_HEAD(self):
                self._file(head=True)

            def do_GET(self):
                if self.path == "/_stats":
                    with server._lock:
                        stats = {"signed": server.signed, "denied": server.denied, "served": server.served,
                                 "refused": Counter(server.refused)}
                        return self._send(200, json.dumps(stats).encode(), "application/json")
                self._file(head=False)

            def do_POST(self):
                if urlsplit(self.path).path.rstrip("/") != "/sign_urls":
                    return self._send(404, b"not found")
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                duration = int(body.get("duration_seconds") or server.duration)
                hrefs = {u: server.sign(u, duration) for u in body.get("urls", [])}
                expiry = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=duration)
                self._send(200, json.dumps({"hrefs": hrefs, "expiry": expiry.isoformat()}).encode(), "application/json")

        return Handler


if __name__ == "__main__":
    root, mode, duration, api_key, port = sys.argv[1:6]
    _Server(Path(root), mode, int(duration), api_key, int(port))._httpd.serve_forever()
