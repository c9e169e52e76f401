"""terra_lab.load_features: vector assets of STAC items (GEDI footprints, soil samples, outlines) as one GeoDataFrame.

Every format (GeoJSON, GeoParquet, FlatGeobuf) from a folder, from inside a .zip and over http
(a file server on 127.0.0.1 asking an API key or S3-style signatures, items found through the
real STAC API server); bbox clip, reprojection and each error; the demo's GEDI L2A-like
collection through the GEDI quality filter, and the canopy-height model it trains.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from _signed_server import SignedFileServer
from test_stac_server import _postgres_available

import terra_lab
from terra_lab.catalog import ApiCatalog, LocalCatalog
from terra_lab.demo import GEDI_COLLECTION, GLACIER_COLLECTION, SOIL_COLLECTION
from terra_lab.demo._structure_soil import GEDI_POINTS
from terra_lab.demo._vectors import N_CLOUD, N_DAY, N_DEGRADED, N_LOW_SENSITIVITY
from terra_lab.errors import AssetReadError, MissingBandError, NoItemsFoundError, RequestTooLargeError
from terra_lab.products.structure import gedi_quality

MEDIA = {"geojson": "application/geo+json", "parquet": "application/vnd.apache.parquet",
         "fgb": "application/vnd.flatgeobuf"}
UTM = 32631
X0, Y0 = 300_000.0, 5_000_000.0  # a corner in the demo's UTM zone


def _sample() -> gpd.GeoDataFrame:
    """20 points on a 100 m grid and one 300 m square polygon, in UTM 31N, with typed columns."""
    xs, ys = np.meshgrid(np.arange(5) * 100.0, np.arange(4) * 100.0)
    pts = shapely.points(X0 + xs.ravel() + 50, Y0 + ys.ravel() + 50)
    poly = shapely.box(X0 + 100, Y0 + 100, X0 + 400, Y0 + 400)
    return gpd.GeoDataFrame({"name": [f"p{i:02d}" for i in range(20)] + ["square"],
                             "rh98": np.r_[np.arange(20) * 1.5, np.nan], "flag": np.r_[np.arange(20) % 2, 1].astype("int32")},
                            geometry=[*pts, poly], crs=UTM)


def _write(gdf: gpd.GeoDataFrame, path: Path, fmt: str) -> Path:
    if fmt == "geojson":
        gdf.to_crs(4326).to_file(path, driver="GeoJSON")  # RFC 7946: longitude, latitude
    elif fmt == "parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, driver="FlatGeobuf")
    return path


def _item(iid: str, assets: dict, date: str = "2023-06-15T10:00:00Z", bbox=None) -> dict:
    bbox = bbox or [-180.0, -90.0, 180.0, 90.0]
    return {"type": "Feature", "stac_version": "1.0.0", "stac_extensions": [], "id": iid,
            "geometry": shapely.geometry.mapping(shapely.box(*bbox)), "bbox": bbox,
            "properties": {"datetime": date}, "links": [], "assets": assets}


def _asset(href: str, fmt: str) -> dict:
    return {"href": str(href), "type": MEDIA[fmt], "roles": ["data"]}


def _check_same(got: gpd.GeoDataFrame, ref: gpd.GeoDataFrame, tol: float = 1e-3) -> None:
    """``got`` (in UTM) holds ``ref``'s rows: same columns, values, geometries within ``tol`` metres."""
    assert got.crs.to_epsg() == UTM
    got = got.sort_values("name").reset_index(drop=True)  # FlatGeobuf's spatial index reorders the features
    ref = ref.sort_values("name").reset_index(drop=True)
    assert list(got["name"]) == list(ref["name"])
    np.testing.assert_allclose(got["rh98"].to_numpy(float), ref["rh98"].to_numpy(float))
    assert list(got["flag"].astype(int)) == list(ref["flag"])
    assert all(a.equals_exact(b, tol) for a, b in zip(got.geometry, ref.geometry))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """The sample in each format, in a folder, and the three inside one zip."""
    root = tmp_path_factory.mktemp("vectors")
    ref = _sample()
    paths = {fmt: _write(ref, root / f"sample.{fmt}", fmt) for fmt in MEDIA}
    with zipfile.ZipFile(root / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for p in paths.values():
            zf.write(p, f"bundle/{p.name}")
    return {"root": root, "ref": ref, "paths": paths, "zip": root / "bundle.zip"}


# ------------------------------------------------------------------ formats and places
@pytest.mark.parametrize("fmt", list(MEDIA))
def test_each_format_from_a_folder(files, fmt):
    got = terra_lab.load_features([_item("a", {"data": _asset(files["paths"][fmt], fmt)})], crs=UTM)
    _check_same(got, files["ref"])
    assert list(got.columns[:2]) == ["item_id", "datetime"] and (got["item_id"] == "a").all()
    assert (got["datetime"] == pd.Timestamp("2023-06-15T10:00:00Z")).all()


@pytest.mark.parametrize("fmt", list(MEDIA))
@pytest.mark.parametrize("spelling", ["vsizip", "zip_url"])
def test_each_format_inside_a_zip(files, fmt, spelling):
    member = f"bundle/sample.{fmt}"
    href = f"/vsizip/{files['zip']}/{member}" if spelling == "vsizip" else f"zip://{files['zip']}!/{member}"
    got = terra_lab.load_features([_item("z", {"data": _asset(href, fmt)})], crs=UTM)
    _check_same(got, files["ref"])


def test_items_are_concatenated_in_order_and_pystac_items_work(files):
    import pystac

    items = [_item("gj", {"a": _asset(files["paths"]["geojson"], "geojson")}, "2023-01-01T00:00:00Z"),
             _item("pq", {"b": _asset(files["paths"]["parquet"], "parquet"),
                          "c": {"href": str(files["paths"]["fgb"]), "roles": ["data"]}},  # no type: by its ending
                   "2023-02-01T00:00:00Z")]
    got = terra_lab.load_features([pystac.Item.from_dict(items[0]), items[1]], crs=UTM)
    assert len(got) == 3 * 21 and list(pd.unique(got["item_id"])) == ["gj", "pq"]
    assert got.loc[got.item_id == "pq", "datetime"].iloc[0] == pd.Timestamp("2023-02-01", tz="UTC")
    one = terra_lab.load_features(items[0])  # one item, its own CRS (GeoJSON: EPSG:4326)
    assert one.crs.to_epsg() == 4326 and len(one) == 21
    only = terra_lab.load_features(items[1:], assets=["b"], crs=UTM)  # the asset asked, no other
    _check_same(only.drop(columns=["item_id", "datetime"]), files["ref"])


def test_bbox_clips_points_and_cuts_polygons_in_any_crs(files):
    ref = files["ref"]
    items = [_item("pq", {"d": _asset(files["paths"]["parquet"], "parquet")})]
    box = (X0 + 0, Y0 + 0, X0 + 300, Y0 + 300)  # 3 x 3 points, a corner of the square
    got = terra_lab.load_features(items, bbox=box, bbox_crs=UTM)
    inside = ref[ref.geometry.within(shapely.box(*box)) & (ref.geom_type == "Point")]
    assert sorted(got.loc[got.geom_type == "Point", "name"]) == sorted(inside["name"]) and len(inside) == 9
    square = got.loc[got["name"] == "square"].geometry.iloc[0]
    assert square.area == pytest.approx(200 * 200, rel=1e-9)  # cut, not kept whole
    lonlat = gpd.GeoSeries([shapely.box(*box)], crs=UTM).to_crs(4326).total_bounds
    shrunk = (lonlat[0] + 1e-6, lonlat[1] + 1e-6, lonlat[2] - 1e-6, lonlat[3] - 1e-6)
    again = terra_lab.load_features(items, bbox=shrunk)  # longitude/latitude (default bbox_crs)
    assert set(again.loc[again.geom_type == "Point", "name"]) == set(inside["name"])


def test_items_outside_the_bbox_are_not_read(files, tmp_path):
    far = _item("far", {"d": _asset(tmp_path / "missing.parquet", "parquet")}, bbox=[100.0, 10.0, 101.0, 11.0])
    near = _item("near", {"d": _asset(files["paths"]["parquet"], "parquet")},
                 bbox=[float(v) for v in files["ref"].to_crs(4326).total_bounds])
    box = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 500, Y0 + 400)], crs=UTM).to_crs(4326).total_bounds
    got = terra_lab.load_features([far, near], bbox=tuple(box))  # the missing file of 'far' is never opened
    assert set(got["item_id"]) == {"near"}


def test_reprojection_round_trips(files):
    items = [_item("fgb", {"d": _asset(files["paths"]["fgb"], "fgb")})]
    wgs = terra_lab.load_features(items, crs="EPSG:4326")
    assert wgs.crs.to_epsg() == 4326 and -180 < wgs.geometry.iloc[0].x < 180
    _check_same(gpd.GeoDataFrame(wgs, crs=4326).to_crs(UTM), files["ref"])
    mixed = terra_lab.load_features([_item("gj", {"a": _asset(files["paths"]["geojson"], "geojson")}),
                                      _item("pq", {"b": _asset(files["paths"]["parquet"], "parquet")})])
    assert mixed.crs.to_epsg() == 4326  # the first file's CRS; the UTM parquet is reprojected to it
    a, b = mixed.iloc[:21].sort_values("name"), mixed.iloc[21:].sort_values("name")
    assert all(p.equals_exact(q, 1e-7) for p, q in zip(a.geometry, b.geometry))


# ------------------------------------------------------------------ errors
def test_no_vector_asset_names_the_item_and_the_media_types():
    item = _item("only-raster", {"B04": {"href": "/x/B04.tif", "type": "image/tiff; application=geotiff"}})
    with pytest.raises(MissingBandError, match=r"'only-raster' has no vector asset.*application/geo\+json.*B04"):
        terra_lab.load_features([item])
    with pytest.raises(MissingBandError, match=r"no asset 'nope'.*B04"):
        terra_lab.load_features([item], assets=["nope"])
    with pytest.raises(MissingBandError, match="'B04' of item 'only-raster' is not a vector file"):
        terra_lab.load_features([item], assets=["B04"])


@pytest.mark.parametrize("fmt", list(MEDIA))
def test_corrupt_and_missing_files_name_the_href(files, tmp_path, fmt):
    good = files["paths"][fmt].read_bytes()
    bad = tmp_path / f"truncated.{fmt}"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(AssetReadError, match=rf"truncated\.{fmt}.*corrupt"):
        terra_lab.load_features([_item("t", {"d": _asset(bad, fmt)})])
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        zf.writestr(f"x/truncated.{fmt}", good[: len(good) // 2])
    with pytest.raises(AssetReadError, match=rf"bad\.zip/x/truncated\.{fmt}"):
        terra_lab.load_features([_item("t", {"d": _asset(f"/vsizip/{tmp_path}/bad.zip/x/truncated.{fmt}", fmt)})])
    with pytest.raises(AssetReadError, match=r"gone\..*missing"):
        terra_lab.load_features([_item("m", {"d": _asset(tmp_path / f"gone.{fmt}", fmt)})])


def test_damaged_zip_and_missing_member(files, tmp_path):
    (tmp_path / "broken.zip").write_bytes(files["zip"].read_bytes()[:100])
    with pytest.raises(AssetReadError, match=r"broken\.zip.*download it again"):
        terra_lab.load_features([_item("b", {"d": _asset(f"/vsizip/{tmp_path}/broken.zip/bundle/sample.fgb", "fgb")})])
    with pytest.raises(AssetReadError, match=r"no member 'bundle/other\.fgb'"):
        terra_lab.load_features([_item("b", {"d": _asset(f"/vsizip/{files['zip']}/bundle/other.fgb", "fgb")})])


def test_empty_result_and_no_items(files):
    items = [_item("pq", {"d": _asset(files["paths"]["parquet"], "parquet")})]
    with pytest.raises(NoItemsFoundError, match=r"no feature in the 1 item\(s\) \['pq'\] within bbox="):
        terra_lab.load_features(items, bbox=(X0 + 2000, Y0 + 2000, X0 + 3000, Y0 + 3000), bbox_crs=UTM)
    with pytest.raises(NoItemsFoundError, match="no items"):
        terra_lab.load_features([])


def test_a_file_over_the_size_limit_is_refused_before_reading(files):
    size = files["paths"]["geojson"].stat().st_size
    item = _item("big", {"d": _asset(files["paths"]["geojson"], "geojson")})
    with pytest.raises(RequestTooLargeError, match=r"over the limit of .* MiB.*pass max_bytes="):
        terra_lab.load_features([item], max_bytes=size - 1)
    assert len(terra_lab.load_features([item], max_bytes=size)) == 21
    member = _item("m", {"d": _asset(f"/vsizip/{files['zip']}/bundle/sample.geojson", "geojson")})
    with pytest.raises(RequestTooLargeError, match="max_bytes="):  # the member's own size, from the zip's directory
        terra_lab.load_features([member], max_bytes=size - 1)


def test_unsupported_scheme_says_what_is_read():
    with pytest.raises(AssetReadError, match=r"scheme 's3' is not supported.*http\(s\)"):
        terra_lab.load_features([_item("s3", {"d": _asset("s3://bucket/x.parquet", "parquet")})])


# ------------------------------------------------------------------ over http, through the STAC API server
def _http_catalog(tmp: Path, files: dict, server: SignedFileServer) -> LocalCatalog:
    cat = LocalCatalog(tmp, name="vectors-over-http")
    bbox = [float(v) for v in files["ref"].to_crs(4326).total_bounds]
    items = [_item(f"http-{fmt}", {"data": _asset(server.href(p), fmt)}, bbox=bbox) for fmt, p in files["paths"].items()]
    items.append(_item("http-zip", {"data": _asset(f"/vsizip//vsicurl/{server.href(files['zip'])}/bundle/sample.fgb", "fgb")},
                       bbox=bbox))
    cat.add_items(items, collection="vectors-http", description="vector files served over http", license="CC0-1.0")
    return cat


pytestmark_server = pytest.mark.skipif(not _postgres_available(), reason="PostgreSQL not installed")


@pytest.mark.server
@pytestmark_server
def test_over_http_with_an_api_key_through_the_stac_api(files, stac_server, tmp_path):
    with SignedFileServer(files["root"], mode="apikey", api_key="k-9") as server:
        url = stac_server.add_catalog(_http_catalog(tmp_path / "cat", files, server))
        res = ApiCatalog(url, asset_headers={"X-API-Key": "k-9"}, retries=1, backoff=0.05).search(
            collections="vectors-http")
        assert len(res) == 4 and all("127.0.0.1" in a["href"] for it in res for a in it["assets"].values())
        got = terra_lab.load_features(res, crs=UTM)
        assert sorted(pd.unique(got["item_id"])) == ["http-fgb", "http-geojson", "http-parquet", "http-zip"]
        for _, part in got.groupby("item_id"):
            _check_same(part, files["ref"])
        stats = server.stats()
        assert sum(stats["denied"].values()) == 0 and sum(stats["served"].values()) >= 4
        keyless = ApiCatalog(url, retries=1, backoff=0.05).search(collections="vectors-http", ids=["http-parquet"])
        from terra_lab.catalog import _access

        for prefix in [p for p in list(_access._REGISTRY) if p.startswith(server.url)]:
            _access.unregister(prefix)
        # a catalogue opened without the key: its host is not registered, the server refuses the file
        with pytest.raises(AssetReadError, match=r"sample\.parquet.*HTTP 403.*api_key="):
            terra_lab.load_features(keyless)


@pytest.mark.server
@pytestmark_server
def test_over_http_with_expired_signatures_renewed(files, stac_server, tmp_path):
    with SignedFileServer(files["root"], duration=3600) as server:
        url = stac_server.add_catalog(_http_catalog(tmp_path / "cat", files, server))
        cat = ApiCatalog(url, signer=server.sign, retries=1, backoff=0.05)
        res = cat.search(collections="vectors-http", ids=["http-parquet"])
        (asset,) = res.items[0]["assets"].values()
        assert "X-Amz-Signature=" in asset["href"]
        from terra_lab.catalog import _access

        # a signature revoked early (or expired by the server's clock), in a new session: the client cannot
        # tell from the URL; the server refuses it (403), the href is signed again and the download retried
        for prefix in [p for p in list(_access._REGISTRY) if p.startswith(server.url)]:
            _access.unregister(prefix)
        _access.register(server.url + "/", signer=server.sign, to_workers=False)
        asset["href"] = asset["href"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
        signed_before = sum(server.stats()["signed"].values())
        try:
            got = terra_lab.load_features(res, crs=UTM)
        finally:
            _access.unregister(server.url + "/")
        _check_same(got, files["ref"])
        stats = server.stats()
        assert sum(stats["denied"].values()) == 1 and sum(stats["served"].values()) == 1
        assert sum(stats["signed"].values()) == signed_before + 1


@pytest.mark.server
@pytestmark_server
def test_demo_vector_collections_over_the_stac_api(stac_server, demo_catalog):
    from pystac_client import Client

    client = Client.open(stac_server.url)
    for cid, n in ((GEDI_COLLECTION, 12), (SOIL_COLLECTION, 1), (GLACIER_COLLECTION, 1)):
        items = list(client.search(collections=[cid]).items())
        assert len(items) == n, cid
        local = terra_lab.load_features(demo_catalog.search(collections=cid))
        served = terra_lab.load_features(items)
        assert len(served) == len(local) and list(served.columns) == list(local.columns)


# ------------------------------------------------------------------ the demo's GEDI L2A-like shots
@pytest.fixture(scope="module")
def shots(demo_catalog):
    return terra_lab.load_features(demo_catalog.search(collections=GEDI_COLLECTION), crs=UTM)


def test_gedi_quality_keeps_exactly_the_good_shots(shots, demo_root):
    truth = gpd.read_file(demo_root / "truth" / "gedi_points.geojson")
    assert len(shots) == GEDI_POINTS + N_CLOUD + N_DEGRADED + N_LOW_SENSITIVITY
    kept = gedi_quality(shots)
    assert len(kept) == GEDI_POINTS
    # the good shots are the truth footprints: same places (cm: lon/lat with 7 decimals), same rh98 (to the cm)
    d = shapely.distance(np.asarray(kept.geometry)[:, None], np.asarray(truth.geometry)[None, :])
    nearest = d.argmin(axis=1)
    assert d.min(axis=1).max() < 0.05 and len(set(nearest)) == GEDI_POINTS
    np.testing.assert_allclose(kept["rh98"].to_numpy(float), truth["rh98"].to_numpy(float)[nearest], atol=6e-3)
    night = gedi_quality(shots, night_only=True)
    assert len(night) == GEDI_POINTS - N_DAY and (night["solar_elevation"] < 0).all()
    strict = gedi_quality(shots, min_sensitivity=0.95)
    assert set(strict.index) <= set(kept.index) and len(strict) >= int(0.8 * GEDI_POINTS)  # every forest shot
    bad = shots.drop(index=kept.index)
    assert (bad["quality_flag"] == 0).sum() == N_CLOUD and (bad["degrade_flag"] > 0).sum() == N_DEGRADED
    assert (bad["sensitivity"] < 0.9).sum() >= N_LOW_SENSITIVITY


def test_gedi_quality_needs_the_l2a_columns(shots):
    from terra_lab.errors import SamplingError

    with pytest.raises(SamplingError, match=r"lack \['degrade_flag'\]"):
        gedi_quality(shots.drop(columns=["degrade_flag"]))
    with pytest.raises(ValueError, match="min_sensitivity"):
        gedi_quality(shots, min_sensitivity=95)


def test_filtered_shots_train_a_better_canopy_height_model(shots, demo_year_cube, demo_root):
    import dask
    import rioxarray

    from terra_lab.errors import TerraLabWarning
    from terra_lab.products.structure import canopy_height, fit_canopy_height, structure_features

    cube, dem = demo_year_cube
    feats = structure_features(cube, year=2023, covariates={"elevation": dem})
    with dask.config.set(scheduler="threads", num_workers=2):
        feats = feats.persist()
    truth = rioxarray.open_rasterio(demo_root / "truth" / "canopy_height_R2.tif").squeeze(drop=True)
    lc = rioxarray.open_rasterio(demo_root / "truth" / "landcover_R2.tif").squeeze(drop=True)
    forest = np.isin(lc.values, (5, 6))
    rmse = {}
    for name, train in (("filtered", gedi_quality(shots)), ("unfiltered", shots)):
        with pytest.warns(TerraLabWarning, match="gedi_quality") if name == "unfiltered" else contextlib.nullcontext():
            model = fit_canopy_height(feats, train, method="hgb")
        h = canopy_height(feats, model).height.compute().values
        rmse[name] = float(np.sqrt(np.nanmean((h[forest] - truth.values[forest]) ** 2)))
    print(f"\ncanopy height RMSE vs truth on forest pixels: filtered shots {rmse['filtered']:.2f} m "
          f"({len(gedi_quality(shots))} shots), unfiltered {rmse['unfiltered']:.2f} m ({len(shots)} shots)")
    assert rmse["filtered"] < rmse["unfiltered"]

