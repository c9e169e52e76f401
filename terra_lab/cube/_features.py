"""Vector assets of STAC items (points, polygons) as one GeoDataFrame: GEDI footprints, soil samples, outlines.

The raster side of terra_lab reads pixels lazily (:func:`terra_lab.load`); the inputs of the
trained and per-outline products (GEDI L2A shots for canopy height, soil samples for digital soil
mapping, glacier outlines) are small vector files that catalogues publish the same way, as item
assets: GeoJSON, GeoParquet or FlatGeobuf, as files, members of a ``.zip``, or http(s) URLs.
:func:`load_features` reads them eagerly (they are small) but refuses a file above a size limit
before reading it, as :func:`terra_lab.load` refuses an oversized cube.

http(s) hrefs go through the access registry of :mod:`terra_lab.catalog._access`, like raster
reads: the headers a catalogue registered for the host (GEODES' ``X-API-Key``) are sent, a signed
URL known to have expired is renewed first, and a refused download (401/403) is signed again and
retried once.  ``.zip`` members are named as the rest of terra_lab names them (GDAL ``/vsizip/``
hrefs, :mod:`terra_lab.catalog._zip`).
"""

from __future__ import annotations

import io
import os
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..catalog import _access
from ..catalog._zip import gdal_path, split_vsizip
from ..errors import AssetReadError, MissingBandError, NoItemsFoundError, RequestTooLargeError, TerraLabWarning

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["DEFAULT_MAX_BYTES", "VECTOR_MEDIA_TYPES", "load_features", "vector_assets"]

#: Media types of the vector assets read by :func:`load_features`, and their format.
VECTOR_MEDIA_TYPES: Mapping[str, str] = {
    "application/geo+json": "geojson",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/vnd.flatgeobuf": "flatgeobuf",
}
#: File name endings that identify a vector asset when its media type is missing or generic.
_SUFFIXES = {".geojson": "geojson", ".parquet": "parquet", ".geoparquet": "parquet", ".fgb": "flatgeobuf"}
#: Largest vector file read by default (bytes): vectors are read whole into memory.
DEFAULT_MAX_BYTES = 512 * 2**20
_TIMEOUT = 60.0  # seconds per http request
_ADDED = ("item_id", "datetime")


def _format(asset: Mapping[str, Any]) -> str | None:
    """``geojson``, ``parquet`` or ``flatgeobuf`` from an asset's media type (else its href's ending), or None."""
    media = str(asset.get("type") or "").split(";")[0].strip().lower()
    if media in VECTOR_MEDIA_TYPES:
        return VECTOR_MEDIA_TYPES[media]
    if media and media not in ("application/json", "application/octet-stream"):
        return None  # a declared raster, zip, XML... type is not a vector file
    href = _access.plain_url(gdal_path(str(asset.get("href", "")))).split("?")[0].lower()
    return next((fmt for suffix, fmt in _SUFFIXES.items() if href.endswith(suffix)), None)


def vector_assets(item: Mapping[str, Any], keys: Sequence[str] | None = None) -> dict[str, str]:
    """``{asset key: format}`` of the vector assets of ``item`` (or of the ``keys`` asked).

    Raises
    ------
    MissingBandError
        The item has no vector asset, or an asset asked is missing or is not a vector file.
    """
    assets = item.get("assets") or {}
    iid = item.get("id", "?")
    if keys is None:
        found = {k: f for k, a in assets.items() if (f := _format(a)) is not None}
        if not found:
            raise MissingBandError(
                f"item {iid!r} has no vector asset (looked for the media types {sorted(VECTOR_MEDIA_TYPES)} and the "
                f"endings {sorted(_SUFFIXES)}; its assets: {_describe(assets)}); pass assets=[key] to name one"
            )
        return found
    out = {}
    for k in keys:
        if k not in assets:
            raise MissingBandError(f"item {iid!r} has no asset {k!r} (its assets: {sorted(assets)}); pass assets= "
                                   "with keys it has, or assets=None for every vector asset")
        fmt = _format(assets[k])
        if fmt is None:
            raise MissingBandError(f"asset {k!r} of item {iid!r} is not a vector file (type {assets[k].get('type')!r}, "
                                   f"href {_safe(assets[k].get('href', ''))!r}); vector assets have the media types "
                                   f"{sorted(VECTOR_MEDIA_TYPES)}: pick another key")
        out[k] = fmt
    return out


def _describe(assets: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} ({a.get('type', 'no type')})" for k, a in list(assets.items())[:8]) or "none"


def _safe(href: str) -> str:
    """``href`` without a URL signature (never print credentials)."""
    return _access.base_url(href) if "://" in href else href


#: how to get past the size limit of :func:`load_features` (the fix named by its error)
_VECTOR_FIX = ("one vector file (read whole into memory); pass max_bytes= to load_features to raise the limit, or "
               "narrow the search to fewer or smaller items")


def _too_large(size: int, limit: int, what: str, fix: str) -> RequestTooLargeError:
    return RequestTooLargeError(f"{what} holds {size / 2**20:,.1f} MiB, over the limit of {limit / 2**20:,.1f} MiB "
                                f"for {fix}")


def _download(href: str, limit: int, what: str, fix: str) -> bytes:
    """The bytes at an http(s) URL, with the headers and signature its host is registered with."""
    url = _access.plain_url(href)
    access = _access.access_for(url)
    headers = dict(access.headers) if access is not None else {}
    current = access.current(url) if access is not None else url
    for attempt in (0, 1):
        request = urllib.request.Request(current, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as reply:
                declared = reply.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise _too_large(int(declared), limit, what, fix)
                data = reply.read(limit + 1)
        except urllib.error.HTTPError as e:
            if e.code in (401, 403) and attempt == 0 and access is not None and access.signer is not None:
                renewed = access.renew(current)  # an expired or revoked signature: sign again, retry once
                if renewed != current:
                    current = renewed
                    continue
            raise AssetReadError(f"could not download {what}: HTTP {e.code} {e.reason}; check that the file exists and "
                                 "that the catalogue was opened with its credentials (api_key=, signer=)") from e
        except (urllib.error.URLError, OSError) as e:
            raise AssetReadError(f"could not download {what}: {getattr(e, 'reason', e)}; check the network and the "
                                 "href, then retry") from e
        if len(data) > limit:
            raise _too_large(len(data), limit, what, fix)
        return data
    raise AssertionError("unreachable")  # pragma: no cover


def _is_url(href: str) -> bool:
    return href.startswith(("http://", "https://", "/vsicurl/"))


def _source(href: str, limit: int, what: str, fix: str = _VECTOR_FIX) -> str | bytes:
    """A local path, or the bytes of a remote file or of a zip member, after the size check."""
    href = gdal_path(href)
    zipped = split_vsizip(href)
    if zipped is not None:
        zip_path, member = zipped
        try:
            archive: Any = io.BytesIO(_download(zip_path, limit, what, fix)) if _is_url(zip_path) else zip_path
            with zipfile.ZipFile(archive) as zf:
                info = zf.getinfo(member)
                if info.file_size > limit:
                    raise _too_large(info.file_size, limit, what, fix)
                return zf.read(info)
        except KeyError as e:
            raise AssetReadError(f"{what} is not in its zip archive (no member {member!r}); fix the href or "
                                 "re-download the archive") from e
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as e:
            if isinstance(e, AssetReadError):
                raise
            raise AssetReadError(f"could not read {what} from its zip archive ({e}); the archive is missing, "
                                 "incomplete or corrupt: download it again") from e
    if _is_url(href):
        return _download(href, limit, what, fix)
    if href.startswith("file://"):
        href = href[len("file://"):]
    if "://" in href:
        raise AssetReadError(f"{what}: the scheme {href.split('://')[0]!r} is not supported; vector assets are read "
                             "from local paths, zip members and http(s) URLs (download the file first)")
    try:
        size = os.stat(href).st_size
    except OSError as e:
        raise AssetReadError(f"could not read {what}: {e.strerror or e}; the file is missing: fix the href or "
                             "re-download it") from e
    if size > limit:
        raise _too_large(size, limit, what, fix)
    return href


def asset_bytes(href: str, *, limit: int, what: str, fix: str) -> bytes:
    """The whole content of an asset (a local file, a zip member, an http(s) URL through the catalogue's
    access registry), refused with :class:`RequestTooLargeError` above ``limit`` bytes before it is read;
    ``fix`` ends that error (what is read whole, and how to get past the limit)."""
    source = _source(href, limit, what, fix)
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise AssetReadError(f"could not read {what}: {e.strerror or e}") from e


def _parse(source: str | bytes, fmt: str, what: str) -> gpd.GeoDataFrame:
    import geopandas as gpd

    try:
        if fmt == "parquet":
            gdf = gpd.read_parquet(io.BytesIO(source) if isinstance(source, bytes) else source)
        else:
            import pyogrio

            gdf = pyogrio.read_dataframe(source)  # GDAL recognises GeoJSON and FlatGeobuf by content
            # GDAL reads a truncated FlatGeobuf as fewer (or no) features, silently: its header holds the count
            declared = pyogrio.read_info(source)["features"] if fmt == "flatgeobuf" else len(gdf)
            if declared != len(gdf):
                raise ValueError(f"its header declares {declared} features, {len(gdf)} could be read")
    except Exception as e:
        raise AssetReadError(f"could not read {what} as {fmt} ({type(e).__name__}: {e}); the file is truncated or "
                             "corrupt, or not of its declared media type: re-download it or fix its type") from e
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name is None:
        raise AssetReadError(f"{what} holds no geometry column; it is not a vector file of features")
    if gdf.crs is None:
        warnings.warn(f"{what} declares no CRS; assuming EPSG:4326 (longitude, latitude) as GeoJSON does",
                      TerraLabWarning, stacklevel=4)
        gdf = gdf.set_crs(4326)
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    return gdf


def _item_datetime(item: Mapping[str, Any]):
    import pandas as pd

    props = item.get("properties") or {}
    value = props.get("datetime") or props.get("start_datetime")
    if not value:
        return pd.NaT
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _as_items(items: Any) -> list[dict]:
    from ._load import _as_dicts

    if (isinstance(items, Mapping) and "assets" in items) or (hasattr(items, "to_dict") and hasattr(items, "assets")):
        items = [items]  # one item
    return _as_dicts(items)


def _clip_area(bbox: Any, bbox_crs: Any):
    """``bbox`` (any area :func:`terra_lab.catalog.parse_aoi` takes) as a geometry in EPSG:4326."""
    from ..catalog._query import parse_aoi

    return parse_aoi(bbox, crs=bbox_crs)


def load_features(items: Iterable[Any] | Any, *, bbox: Any = None, bbox_crs: Any = "EPSG:4326", crs: Any = None,
                  assets: Sequence[str] | None = None, max_bytes: int | None = None) -> gpd.GeoDataFrame:
    """Every vector feature of ``items`` as one GeoDataFrame, with ``item_id`` and ``datetime`` columns.

    Parameters
    ----------
    items
        STAC items: a search result (``cat.search(...)``), pystac Items or item dicts (one item also).
    bbox
        Keep the features within this area (points inside it; lines and polygons cut to it):
        a ``(west, south, east, north)`` tuple or any area :func:`terra_lab.catalog.parse_aoi` takes.
        Items whose footprint misses it are not read.
    bbox_crs
        CRS of ``bbox`` when it carries none (default longitude/latitude).
    crs
        CRS of the result (default: that of the first file read; the others are reprojected to it).
    assets
        Asset keys to read (default: every vector asset: media types
        :data:`VECTOR_MEDIA_TYPES`, or hrefs ending in ``.geojson``, ``.parquet``, ``.fgb``).
    max_bytes
        Largest file read (default :data:`DEFAULT_MAX_BYTES`, 512 MiB): a larger one is refused
        before it is read.

    Returns
    -------
    geopandas.GeoDataFrame
        The files' columns, plus ``item_id`` (the STAC item id) and ``datetime`` (the item's
        datetime, UTC; a file's own ``datetime`` column is kept instead), in item order.

    Raises
    ------
    MissingBandError
        An item has no vector asset (or lacks an asset of ``assets``).
    AssetReadError
        A file is missing, corrupt or cannot be downloaded (the message names its href).
    RequestTooLargeError
        A file is larger than ``max_bytes``.
    NoItemsFoundError
        No items, or no feature within ``bbox``.

    Examples
    --------
    >>> import terra_lab
    >>> cat = terra_lab.catalog.open("demo")                                  # doctest: +SKIP
    >>> shots = terra_lab.load_features(cat.search(collections="terra-lab-demo-gedi-l2a",
    ...                                            dates="2023-06/2023-08"), crs=32631)  # doctest: +SKIP
    >>> shots[["item_id", "beam", "rh98", "quality_flag"]].head()           # doctest: +SKIP
    """
    import geopandas as gpd
    import pandas as pd
    import shapely.geometry

    found = _as_items(items)
    if not found:
        raise NoItemsFoundError("no items to read features from; search a collection of vector items first "
                                "(e.g. cat.search(collections=...)) and check that the search found some")
    limit = DEFAULT_MAX_BYTES if max_bytes is None else int(max_bytes)
    area = _clip_area(bbox, bbox_crs) if bbox is not None else None
    frames: list[gpd.GeoDataFrame] = []
    target = None if crs is None else _crs(crs)
    for item in found:
        keys = vector_assets(item, assets)
        if area is not None and len(item.get("bbox") or ()) == 4 and not area.intersects(shapely.geometry.box(*item["bbox"])):
            continue
        for key, fmt in keys.items():
            href = str(item["assets"][key].get("href", ""))
            what = f"asset {key!r} of item {item.get('id')!r} ({_safe(href)})"
            gdf = _parse(_source(href, limit, what), fmt, what)
            if area is not None:
                gdf = gpd.clip(gdf, gpd.GeoSeries([area], crs=4326).to_crs(gdf.crs).iloc[0])
            target = gdf.crs if target is None else target
            gdf = gdf.to_crs(target)
            gdf.insert(0, "item_id", str(item.get("id")))
            if "datetime" not in gdf.columns:
                gdf.insert(1, "datetime", _item_datetime(item))
            frames.append(gdf)
    non_empty = [f for f in frames if len(f)]
    if not non_empty:
        where = f" within bbox={bbox!r}" if bbox is not None else ""
        ids = [it.get("id") for it in found]
        raise NoItemsFoundError(f"no feature in the {len(found)} item(s) {ids[:5]}{' ...' if len(ids) > 5 else ''}"
                                f"{where}; widen bbox= or search other items")
    out = pd.concat(non_empty, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=target)


def _crs(crs: Any):
    from pyproj import CRS

    return CRS.from_user_input(crs)
