"""Reaching protected asset hrefs: URLs signed for a while (THEIA) and API-key headers (CNES GEODES).

A catalogue registers how to reach the host its assets live on (:func:`register`): HTTP headers
to send with every request (GEODES' ``X-API-Key``) and a *signer*, a function that maps plain
URLs to signed ones (the THEIA STAC API's files are S3 URLs presigned by the ``teledetection``
package, valid 8 hours).  The cube reader (:mod:`terra_lab.cube._reader`) asks this module

* before it opens an href (:func:`prepare`): the headers go into its GDAL environment
  (``GDAL_HTTP_HEADERS``), and a signature known to have expired is renewed first;
* after a failed read (:func:`renew`): the href is signed again and the read retried once.

A renewed href is shared by every reader of the same file, so a long computation signs each file
again once, not once per chunk.  Registrations live in the process that opened the catalogue
and, through a worker plugin, in the workers of a Dask distributed client (:func:`share`; each
worker renews a signature for itself).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["HostAccess", "access_for", "base_url", "expiry", "gdal_headers", "plain_url", "prepare", "register", "renew",
           "share", "teledetection_signer", "unregister"]

#: A signer: plain URLs in, ``{plain URL: signed URL}`` out (``teledetection.sign_urls`` is one).
Signer = Callable[[list], Mapping[str, str]]

_SIGNATURE_PREFIX = "x-amz-"  # S3 presigned URLs (the teledetection service signs those)
_VSI = ("/vsicurl/", "/vsizip/")
_RETRY_AFTER = 5.0  # seconds: a reader whose renewed href still fails is not renewed again before


def base_url(url: str) -> str:
    """``url`` without its signature (the S3 presigning parameters ``X-Amz-*``)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_SIGNATURE_PREFIX)]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def expiry(url: str) -> dt.datetime | None:
    """When the signature of ``url`` expires (``X-Amz-Date`` + ``X-Amz-Expires``), None if unsigned."""
    q = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    try:
        start = dt.datetime.strptime(q["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        return start + dt.timedelta(seconds=int(q["x-amz-expires"]))
    except (KeyError, ValueError):
        return None


def gdal_headers(headers: Mapping[str, str]) -> str:
    """HTTP headers as GDAL's ``GDAL_HTTP_HEADERS`` option (one ``Name: value`` a line)."""
    return "\r\n".join(f"{k}: {v}" for k, v in headers.items())


def _expired(url: str, margin: float) -> bool:
    end = expiry(url)
    return end is not None and (end - dt.datetime.now(dt.timezone.utc)).total_seconds() <= margin


def plain_url(href: str) -> str:
    """The http(s) URL inside a GDAL path (``/vsizip//vsicurl/https://...``)."""
    changed = True
    while changed:
        changed = False
        for p in _VSI:
            if href.startswith(p):
                href, changed = href[len(p):], True
    return href


@dataclass
class HostAccess:
    """How to reach the files under ``prefix`` (a URL such as ``https://s3-data.example.fr/``)."""

    prefix: str
    headers: Mapping[str, str] = field(default_factory=dict)
    signer: Signer | None = None
    #: a signature this close to its expiry (seconds) is renewed before a file is opened
    margin: float = 60.0
    #: signing requests made for each plain URL (renewals included)
    signs: Counter = field(default_factory=Counter)

    def __post_init__(self):
        self._fresh: dict[str, str] = {}
        self._renewed_at: dict[str, float] = {}
        self._lock = threading.RLock()  # held while renewing: concurrent readers of a file sign it once

    def gdal_headers(self) -> str:
        """The headers as GDAL's ``GDAL_HTTP_HEADERS`` option."""
        return gdal_headers(self.headers)

    def sign(self, urls: Iterable[str]) -> dict[str, str]:
        """Signed versions of ``urls`` (unchanged without a signer); remembered for :meth:`current`."""
        urls = list(urls)
        if self.signer is None or not urls:
            return {u: u for u in urls}
        bases = {u: base_url(u) for u in urls}
        signed = self.signer(sorted(set(bases.values())))
        with self._lock:
            for b in set(bases.values()):
                self.signs[b] += 1
                self._fresh[b] = signed[b]
        return {u: signed[b] for u, b in bases.items()}

    def current(self, url: str) -> str:
        """The freshest known signed version of ``url`` (renewed now if its signature has expired)."""
        if self.signer is None:
            return url
        fresh = self._fresh.get(base_url(url))
        if fresh is not None and not _expired(fresh, self.margin):
            return fresh
        return self.renew(url) if _expired(url, self.margin) else url

    def renew(self, url: str) -> str:
        """A newly signed ``url``, unless another reader has already renewed it."""
        if self.signer is None:
            return url
        base = base_url(url)
        with self._lock:
            fresh = self._fresh.get(base)
            if fresh is not None and fresh != url and not _expired(fresh, self.margin):
                return fresh
            signed = self.sign([base])[base]
            self._renewed_at[signed] = time.monotonic()
            return signed

    def renewed_recently(self, url: str) -> bool:
        """Whether ``url`` was obtained by a renewal less than a few seconds ago."""
        at = self._renewed_at.get(url)
        return at is not None and time.monotonic() - at < _RETRY_AFTER


_REGISTRY: dict[str, HostAccess] = {}
_REGISTRY_LOCK = threading.Lock()


def register(prefix: str, *, headers: Mapping[str, str] | None = None, signer: Signer | None = None,
             margin: float = 60.0, to_workers: bool = True) -> HostAccess:
    """Declare how to reach the files under ``prefix``; replaces an earlier registration of it.

    With ``to_workers``, the workers of the current Dask distributed client learn it too."""
    access = HostAccess(prefix, dict(headers or {}), signer, margin)
    with _REGISTRY_LOCK:
        _REGISTRY[prefix] = access
    if to_workers:
        share(access)
    return access


def _worker_plugin(access: HostAccess):
    """A Dask worker plugin that makes the same registration in each worker process."""
    from distributed.diagnostics.plugin import WorkerPlugin

    prefix, headers, signer, margin = access.prefix, dict(access.headers), access.signer, access.margin

    class SharedAccess(WorkerPlugin):
        name = f"terra-lab-access {prefix}"

        def setup(self, worker):
            from terra_lab.catalog._access import register

            register(prefix, headers=headers, signer=signer, margin=margin, to_workers=False)

    return SharedAccess()


_SHARED: set = set()


def share(access: HostAccess) -> None:
    """Make ``access`` known to the workers of the current Dask distributed client, if there is one
    (they read the files in their own processes): present workers and those that join later."""
    try:
        from distributed import get_client

        client = get_client()
    except (ImportError, ValueError):
        return
    key = (id(client), access.prefix, id(access.signer), tuple(sorted(access.headers.items())))
    if key in _SHARED:
        return
    try:
        client.register_plugin(_worker_plugin(access))
    except Exception as e:  # noqa: BLE001 - any plugin failure (pickling, cluster) degrades to a warning
        import warnings

        warnings.warn(f"the Dask workers could not be told how to reach {access.prefix!r} ({e}); reads there may be "
                      "refused: compute with the threaded scheduler, or use a picklable signer", stacklevel=2)
        return
    _SHARED.add(key)


def unregister(prefix: str) -> None:
    with _REGISTRY_LOCK:
        _REGISTRY.pop(prefix, None)


def access_for(href: str) -> HostAccess | None:
    """The registration whose prefix is the longest to start ``href`` (GDAL ``/vsi`` prefixes ignored)."""
    if not _REGISTRY:
        return None
    url = plain_url(href)
    found = [a for p, a in list(_REGISTRY.items()) if url.startswith(p)]
    return max(found, key=lambda a: len(a.prefix)) if found else None


def _with_gdal_options(env, **options):
    """A copy of a stackstac ``LayeredEnv`` with ``options`` added to every layer."""
    from stackstac.rio_env import LayeredEnv

    return LayeredEnv(always={**env._always, **options}, open=env._open, open_vrt=env._open_vrt, read=env._read)


def _switch(reader, url: str) -> None:
    """Point ``reader`` at ``url``.  stackstac shares a reader among the threads reading its
    chunks: the old dataset is dropped, not closed (a thread may still be reading it; it closes
    itself when collected)."""
    lock = reader.__dict__.get("_dataset_lock")
    with lock if lock is not None else _NO_LOCK:
        if url == reader.url:
            return
        reader._dataset = None
        reader.url = url


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NO_LOCK = _NoLock()


def _thread_state(reader) -> threading.local:
    tl = reader.__dict__.get("_tl_access")
    if tl is None:
        tl = reader.__dict__.setdefault("_tl_access", threading.local())
    return tl


def prepare(reader) -> None:
    """Before a stackstac reader reads: its headers in its GDAL environment, its href's freshest signature."""
    access = access_for(reader.url)
    if access is None:
        return
    if access.headers and not reader.__dict__.get("_tl_headers"):
        reader.gdal_env = _with_gdal_options(reader.gdal_env, GDAL_HTTP_HEADERS=access.gdal_headers())
        reader.__dict__["_tl_headers"] = True
    if access.signer is not None and reader.url == plain_url(reader.url):
        _switch(reader, access.current(reader.url))
    _thread_state(reader).url = reader.url  # the href this thread is about to read


def renew(reader) -> bool:
    """After a failed read: sign the reader's href again; whether there is a new href to retry with.

    Another thread may already have renewed it (the reader's href differs from the one this
    thread read): retry with that.  An href that fails again soon after its own renewal is not
    renewed again (not a signature problem)."""
    access = access_for(reader.url)
    if access is None or access.signer is None or reader.url != plain_url(reader.url):
        return False
    failed = getattr(_thread_state(reader), "url", reader.url)
    if failed != reader.url:
        return True
    if access.renewed_recently(failed):
        return False
    url = access.renew(failed)
    if url == failed:
        return False
    _switch(reader, url)
    return True


def teledetection_signer() -> Signer:
    """The THEIA STAC API's signer: ``teledetection.sign_urls`` (S3 URLs presigned for 8 hours).

    The package signs only the files of its own storage (``*.meso.umontpellier.fr``) and leaves
    other URLs unchanged.  Its first use asks for a login unless an API key is set up
    (``tld apikey register``, or ``TLD_ACCESS_KEY`` and ``TLD_SECRET_KEY``).
    """
    try:
        import teledetection
    except ImportError as e:
        from ..errors import MissingCredentialsError

        raise MissingCredentialsError(
            "the THEIA STAC API's hrefs are signed by the 'teledetection' package, which is not "
            "installed: pip install 'terra_lab[theia]' (or pip install teledetection), or pass "
            "signer=/modifier= to terra_lab.catalog.open('theia')"
        ) from e
    return teledetection.sign_urls
