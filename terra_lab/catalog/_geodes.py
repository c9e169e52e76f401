"""CNES GEODES (``https://geodes-portal.cnes.fr/api/stac``): API key and zipped products read in place.

A GEODES item describes one product delivered as one ``.zip`` (asset keyed by the file name,
role ``data``, ``title`` the file name, size and MD5 in its ``description``); its properties
name the product (``identifier``), the tile (``grid:code``, e.g. ``T31TGK``), the dataset and
the dates (``start_datetime``/``end_datetime``), and carry no ``proj:`` fields.  Downloads need
the account's API key in an ``X-API-Key`` header.

:func:`expand_item` adds to such an item one asset per raster of the MUSCATE layout inside the
zip (``FRE_B2``... ``CLM_R1``...), each a GDAL ``/vsizip//vsicurl/`` path into the remote zip,
and the projection from the tile code, so that :func:`terra_lab.load` reads the bands in place
(HTTP range requests into the zip, no download of the whole product).  Sentinel-2 L2A zips
follow one fixed layout, expanded without listing them (one header read per resolution); the
zips of the other datasets (snow, OSO, L3A, Landsat, Venµs...) are listed first (their central
directory, by range requests with the key) and each raster's grid read from its header, so that every asset carries its exact
``proj:code``/``proj:transform``/``proj:shape``.  Asset keys are those of
:mod:`terra_lab.catalog._thematic_items` (file name without the product name).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from ..errors import AssetReadError, MissingCredentialsError
from ._access import gdal_headers
from ._zip import vsizip_href

__all__ = ["API_KEY_ENV", "GEODES_URL", "MUSCATE_MEMBERS", "api_key", "expand_item", "mgrs_epsg", "zip_members"]

GEODES_URL = "https://geodes-portal.cnes.fr/api/stac"
#: Environment variable read when ``catalog.open("geodes")`` is given no ``api_key``.
API_KEY_ENV = "GEODES_API_KEY"

_S2_BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
_R1 = {"B2", "B3", "B4", "B8"}
#: Rasters of a MUSCATE Sentinel-2 L2A product: asset key -> member path (``{id}`` the product id).
MUSCATE_MEMBERS: Mapping[str, str] = {
    **{f"{lvl}_{b}": f"{{id}}/{{id}}_{lvl}_{b}.tif" for lvl in ("FRE", "SRE") for b in _S2_BANDS},
    **{f"{m}_{r}": f"{{id}}/MASKS/{{id}}_{m}_{r}.tif" for m in ("CLM", "MG2", "EDG", "SAT") for r in ("R1", "R2")},
}
#: GEODES datasets whose zips hold the MUSCATE Sentinel-2 L2A layout above.
_MUSCATE_S2_DATASETS = ("THEIA_REFLECTANCE_SENTINEL2_L2A",)


def api_key(key: str | None = None) -> str:
    """``key``, else ``$GEODES_API_KEY``; a clear error saying how to get one when neither is set."""
    key = key or os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise MissingCredentialsError(
            "CNES GEODES needs an API key to download products: pass "
            f"terra_lab.catalog.open('geodes', api_key=...) or set {API_KEY_ENV}; create one on "
            "https://geodes-portal.cnes.fr (log in, your profile, 'Generate API key')"
        )
    return key


def mgrs_epsg(tile: str) -> int | None:
    """UTM EPSG code of a Sentinel-2 (MGRS) tile such as ``T31TGK`` (``None`` if not one)."""
    m = re.fullmatch(r"T?(\d{1,2})([C-HJ-NP-X])[A-Z]{2}", tile or "")
    if not m:
        return None
    return (32600 if m[2] >= "N" else 32700) + int(m[1])


def _zip_asset(item: Mapping) -> tuple[str, dict] | None:
    for key, a in item.get("assets", {}).items():
        name = str(a.get("title") or key)
        href = str(a.get("href", "")).split("?")[0]
        if "data" in (a.get("roles") or []) and (name.lower().endswith(".zip") or href.lower().endswith(".zip")):
            return key, a
    return None


class _HttpRange(io.RawIOBase):
    """A remote file read by HTTP range requests (enough for :mod:`zipfile` to list a zip)."""

    def __init__(self, url: str, headers: Mapping[str, str], timeout: float = 30.0):
        import requests

        self.url, self.headers, self.timeout, self.pos = url, dict(headers), timeout, 0
        self.session = requests.Session()
        r = self.session.head(url, headers=self.headers, timeout=timeout, allow_redirects=True)
        if r.status_code >= 400 or "Content-Length" not in r.headers:
            r = self.session.get(url, headers={**self.headers, "Range": "bytes=0-0"}, timeout=timeout, stream=True)
            r.close()
            if r.status_code >= 400:
                raise AssetReadError(f"could not list the zip {url!r}: HTTP {r.status_code}; check the API key "
                                     f"(${API_KEY_ENV}) and that the product is still online")
            self.size = int(r.headers["Content-Range"].split("/")[-1])
        else:
            self.size = int(r.headers["Content-Length"])

    def seekable(self):
        return True

    def readable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=io.SEEK_SET):
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence] + offset
        return self.pos

    def read(self, n=-1):
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        if end <= self.pos:
            return b""
        r = self.session.get(self.url, headers={**self.headers, "Range": f"bytes={self.pos}-{end - 1}"}, timeout=self.timeout)
        r.raise_for_status()
        self.pos += len(r.content)
        return r.content


def zip_members(url: str, headers: Mapping[str, str]) -> list[str]:
    """The member names of a remote zip (its central directory only: a few range requests)."""
    with zipfile.ZipFile(_HttpRange(url, headers)) as zf:
        return zf.namelist()


def _member_key(member: str) -> tuple[str, str] | None:
    """``(product, asset key)`` of a zip member, as :mod:`._thematic_items` names assets."""
    from ._thematic_items import FSC_RE, _asset_key

    path = PurePosixPath(member)
    if path.suffix.lower() != ".tif":
        return None
    m = FSC_RE.match(path.name)
    if m:
        return f"LIS_S2-SNOW-FSC_{m['tile']}_{m['time']}_{m['version']}_{m['n']}", "QCFLAGS" if m["qc"] else "FSC"
    product = path.parts[0] if len(path.parts) > 1 else path.stem
    key = _asset_key(product, Path(path))
    return (product, key) if key else None


def _grid(href: str, headers: Mapping[str, str]) -> dict:
    import rasterio

    env = rasterio.Env(GDAL_HTTP_HEADERS=gdal_headers(headers), GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR")
    with env, rasterio.open(href) as ds:
        t = ds.transform
        return {"proj:code": f"EPSG:{ds.crs.to_epsg()}", "proj:shape": [ds.height, ds.width],
                "proj:transform": [t.a, t.b, t.c, t.d, t.e, t.f], "gsd": abs(t.a),
                "raster:bands": [{"data_type": ds.dtypes[0], **({"nodata": ds.nodata} if ds.nodata is not None else {})}]}


def _listed_assets(zasset: dict, headers: Mapping[str, str]) -> dict[str, dict]:
    """One asset per raster of a remote zip, each with its grid read from its header."""
    zip_path = "/vsicurl/" + zasset["href"]
    keyed = {}
    for member in zip_members(zasset["href"], headers):
        found = _member_key(member)
        if found is not None:
            keyed[found[1]] = vsizip_href(zip_path, member)
    with ThreadPoolExecutor(4) as pool:
        grids = dict(zip(keyed, pool.map(lambda h: _grid(h, headers), keyed.values())))
    return {k: {"href": h, "type": "image/tiff; application=geotiff", "roles": ["data"], "title": k, **grids[k]}
            for k, h in keyed.items()}


def expand_item(item: dict, headers: Mapping[str, str] | None = None) -> dict:
    """``item`` with its zip's rasters as assets, else unchanged (no zip, or no ``headers`` to list it).

    Sentinel-2 L2A: from the fixed MUSCATE layout, and with ``headers`` (the API key) the 10 m and
    20 m grids read from one header each.  Other datasets: the zip is listed and each raster's
    header read (``headers`` needed)."""
    found = _zip_asset(item)
    props = item.get("properties", {})
    if found is None:
        return item
    key, zasset = found
    if not (props.get("dataset") in _MUSCATE_S2_DATASETS or item.get("collection") in _MUSCATE_S2_DATASETS):
        if headers is None:
            return item
        return {**item, "assets": {**item["assets"], **_listed_assets(zasset, headers)}}
    product = props.get("identifier") or str(zasset.get("title") or key)[: -len(".zip")]
    zip_path = "/vsicurl/" + zasset["href"]
    assets = dict(item["assets"])
    for k, member in MUSCATE_MEMBERS.items():
        res = 10.0 if (k.split("_")[1] in _R1 or k.endswith("_R1")) else 20.0
        assets.setdefault(k, {
            "href": vsizip_href(zip_path, member.format(id=product)),
            "type": "image/tiff; application=geotiff", "roles": ["data"], "gsd": res,
        })
    if headers is not None:  # the exact 10 m and 20 m grids, from one header each
        try:
            grids = {res: _grid(assets[k]["href"], headers) for res, k in ((10.0, "FRE_B2"), (20.0, "FRE_B5"))}
        except Exception:  # noqa: BLE001 - an unreadable header: the declared grids stand
            grids = {}
        for k in MUSCATE_MEMBERS:
            g = grids.get(assets[k].get("gsd"))
            if g is not None:
                assets[k] = {**assets[k], **{f: v for f, v in g.items() if f.startswith("proj:")}}
    out = {**item, "assets": assets, "properties": dict(props)}
    epsg = mgrs_epsg(str(props.get("grid:code", "")))
    if epsg is not None and not any(k in props for k in ("proj:epsg", "proj:code")):
        out["properties"]["proj:code"] = f"EPSG:{epsg}"
    return out
