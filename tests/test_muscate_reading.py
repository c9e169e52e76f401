"""Products as THEIA delivers them: no nodata tag, zipped, proj metadata on the assets, R1 masks only,
native grids that are not multiples of the resolution.

Ground truth is always the file itself, read with rasterio: a pixel of -10000 (MUSCATE's no-data,
documented in MTD_ALL.xml, absent from the GeoTIFF tags) must be NaN in the cube, never -1.0.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

import terra_lab
from terra_lab.catalog import LocalCatalog, _theia_items
from terra_lab.catalog._ingest import ingest
from terra_lab.catalog._theia_items import find_products, item_from_product
from terra_lab.catalog._zip import split_vsizip, verify_zip
from terra_lab.cube._load import _item_epsg
from terra_lab.errors import AssetReadError, MissingBandError, TerraLabWarning

NODATA = -10000


def _raw(href: str) -> np.ndarray:
    with rasterio.open(href) as ds:
        assert ds.nodata is None  # the point of these tests: files without a nodata tag
        return ds.read(1)


def _expected(raw: np.ndarray) -> np.ndarray:
    return np.where(raw == NODATA, np.nan, raw.astype(np.float32) * np.float32(1e-4))


def _assert_no_minus_one(cube: xr.Dataset, bands) -> None:
    for b in bands:
        v = cube[b].values
        assert not np.any(v == np.float32(-1.0)) and not np.any(v < 0), b


# ------------------------------------------------------------------ demo swath-edge products, untagged
@pytest.fixture(scope="module")
def edge_items(demo_items):
    """Main-tile products cut by the swath edge (-10000 pixels), two of them zipped."""
    items = [it for it in demo_items if "_T31TGK_" in it["id"] and it["properties"]["terra:valid_percent"] < 100]
    assert len(items) == 7 and sum(it["assets"]["FRE_B4"]["href"].startswith("/vsizip/") for it in items) == 2
    return items


def test_untagged_edge_products_nodata_is_nan_fast_path(edge_items):
    cube = terra_lab.load(edge_items, bands=["red", "swir16"], resolution=10, group_by=None).compute()
    for i, it in enumerate(edge_items):
        red, swir = _raw(it["assets"]["FRE_B4"]["href"]), _raw(it["assets"]["FRE_B11"]["href"])
        assert (red == NODATA).any()
        np.testing.assert_array_equal(cube.red[i].values, _expected(red))
        np.testing.assert_array_equal(cube.swir16[i].values, np.repeat(np.repeat(_expected(swir), 2, 0), 2, 1))
        # masks: no-data pixels are edge, and never cloud, shadow, snow or water
        nod = red == NODATA
        assert cube.edge[i].values[nod].all()
        for layer in ("cloud", "shadow", "snow", "water", "saturated"):
            assert not cube[layer][i].values[nod].any(), layer
    _assert_no_minus_one(cube, ["red", "swir16"])


def test_untagged_nodata_never_resampled_into_valid_pixels(edge_items):
    """stackstac's VRT path (resampling): the declared nodata is the VRT's source nodata."""
    it = edge_items[0]
    cube = terra_lab.load([it], bands=["red"], resolution=20, resampling="average", masks=False).compute()
    red = _raw(it["assets"]["FRE_B4"]["href"]).astype(np.float64)
    blocks = red.reshape(200, 2, 200, 2).swapaxes(1, 2).reshape(200, 200, 4)
    valid = blocks != NODATA
    n = valid.sum(-1)
    mean = np.where(n > 0, np.where(valid, blocks, 0).sum(-1) / np.maximum(n, 1) * 1e-4, np.nan)
    got = cube.red[0].values
    assert np.array_equal(np.isnan(got), n == 0)
    np.testing.assert_allclose(got[n > 0], mean[n > 0], atol=1e-4)  # GDAL's average of the valid pixels only
    _assert_no_minus_one(cube, ["red"])


def test_untagged_nodata_on_stackstac_path_without_resampling(edge_items):
    """A file stackstac opens itself on the output grid (a URL, here file://): VRT with the declared nodata."""
    it = copy.deepcopy(next(i for i in edge_items if not i["assets"]["FRE_B4"]["href"].startswith("/vsizip/")))
    it["assets"]["FRE_B4"]["href"] = "file://" + it["assets"]["FRE_B4"]["href"]
    cube = terra_lab.load([it], bands=["red"], resolution=10, masks=False).compute()
    np.testing.assert_array_equal(cube.red[0].values, _expected(_raw(it["assets"]["FRE_B4"]["href"][7:])))


def test_untagged_nodata_in_a_solar_day_mosaic(edge_items, demo_items):
    """The edge product comes first in the day: its -10000 must not win over the other product's pixels."""
    edge = edge_items[0]
    other = copy.deepcopy(next(it for it in demo_items if "_T31TGK_" in it["id"]
                               and it["properties"]["terra:valid_percent"] == 100))
    other["id"] = other["id"] + "-same-day"
    other["properties"]["datetime"] = edge["properties"]["datetime"].replace("Z", "").split(".")[0][:-2] + "59Z"
    cube = terra_lab.load([edge, other], bands=["red"], resolution=10, raw_masks=True).compute()
    assert cube.sizes["time"] == 1
    a, b = _expected(_raw(edge["assets"]["FRE_B4"]["href"])), _expected(_raw(other["assets"]["FRE_B4"]["href"]))
    np.testing.assert_array_equal(cube.red[0].values, np.where(np.isnan(a), b, a))
    _assert_no_minus_one(cube, ["red"])
    # the cloud mask of the mosaic follows the pixel that won
    with rasterio.open(edge["assets"]["CLM_R1"]["href"]) as ds:
        clm_a = ds.read(1)
    with rasterio.open(other["assets"]["CLM_R1"]["href"]) as ds:
        clm_b = ds.read(1)
    np.testing.assert_array_equal(cube.CLM[0].values, np.where(np.isnan(a), clm_b, clm_a))


# ------------------------------------------------------------------ ZoneTest: real all-nodata products
@pytest.fixture(scope="module")
def zonetest_empty_items(zonetest_dir):
    """Items for ZoneTest products that hold only -10000 (ingest skips them): item_from_product with
    the skip bypassed (their footprint is the raster's extent)."""
    real = _theia_items._mask_stats

    def keep_empty(pdir, name):
        cloud, frac, footprint, epsg = real(pdir, name)
        if footprint is None:
            import shapely.geometry

            with rasterio.open(next(pdir.glob("*_FRE_B11.tif"))) as ds:
                footprint, epsg = shapely.geometry.box(*ds.bounds), ds.crs.to_epsg()
        return cloud, frac, footprint, epsg

    mp = pytest.MonkeyPatch()
    mp.setattr(_theia_items, "_mask_stats", keep_empty)
    try:
        items = [item_from_product(p, collection="ZT") for p in find_products(zonetest_dir)]
    finally:
        mp.undo()
    empty = [it for it in items if it["properties"]["terra:valid_percent"] == 0]
    full = [it for it in items if it["properties"]["terra:valid_percent"] > 0]
    assert len(empty) == 90 and len(full) == 97
    return empty, full


def test_zonetest_all_nodata_products_are_nan(zonetest_empty_items):
    empty, _ = zonetest_empty_items
    some = empty[::9]
    for it in some:
        assert (_raw(it["assets"]["FRE_B2"]["href"]) == NODATA).all()
    bands = ["blue", "green", "red", "nir08", "swir16", "swir22"]
    for res in (10, 20):
        cube = terra_lab.load(some, bands=bands, resolution=res, group_by=None, raw_masks=True).compute()
        for b in bands:
            assert np.isnan(cube[b].values).all(), (b, res)
        assert cube.edge.values.all() and not cube.cloud.values.any() and not cube.shadow.values.any()
        assert (cube.CLM.values == 0).all()


def test_zonetest_empty_product_in_a_mosaic_yields_to_valid_data(zonetest_empty_items):
    empty, full = zonetest_empty_items
    e, f = copy.deepcopy(empty[0]), copy.deepcopy(full[0])
    e["properties"]["datetime"] = "2018-06-01T10:50:00Z"  # the empty product first in the same solar day
    f["properties"]["datetime"] = "2018-06-01T10:51:00Z"
    cube = terra_lab.load([e, f], bands=["blue", "swir16"], resolution=10).compute()
    assert cube.sizes["time"] == 1
    np.testing.assert_array_equal(cube.blue[0].values, _expected(_raw(f["assets"]["FRE_B2"]["href"])))
    _assert_no_minus_one(cube, ["blue", "swir16"])
    assert not cube.edge.values.any()


# ------------------------------------------------------------------ zip or folder, tag or not, proj variants
def _zip_folder(pdir: Path, dest: Path, compression=zipfile.ZIP_DEFLATED) -> Path:
    z = dest / f"{pdir.name}.zip"
    with zipfile.ZipFile(z, "w", compression) as zf:
        for f in sorted(pdir.rglob("*")):
            zf.write(f, f.relative_to(pdir.parent).as_posix())
    return z


def _tag(pdir: Path) -> None:
    for f in pdir.glob("*_FRE_*.tif"):
        with rasterio.open(f, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as ds:
            ds.nodata = NODATA


@pytest.fixture(scope="module")
def edge_product(demo_root, edge_items) -> Path:
    it = next(i for i in edge_items if not i["assets"]["FRE_B4"]["href"].startswith("/vsizip/"))
    return Path(it["assets"]["FRE_B4"]["href"]).parent


def _proj_variant(item: dict, variant: str) -> dict:
    """The same item with its CRS given as the THEIA STAC API and others give it."""
    it = copy.deepcopy(item)
    epsg = it["properties"].pop("proj:epsg")
    for a in it["assets"].values():
        a.pop("proj:epsg", None)
        if variant == "asset proj:code":
            a["proj:code"] = f"EPSG:{epsg}"
        elif variant == "asset proj:wkt2":
            a["proj:wkt2"] = pyproj.CRS.from_epsg(epsg).to_wkt()
        elif variant == "asset proj:epsg":
            a["proj:epsg"] = epsg
    if variant == "item proj:code":
        it["properties"]["proj:code"] = f"EPSG:{epsg}"
    elif variant == "item proj:epsg":
        it["properties"]["proj:epsg"] = epsg
    return it


@pytest.fixture(scope="module")
def variants(edge_product, tmp_path_factory):
    """The edge product as folder or zip, with or without nodata tag, each ingested into a catalogue."""
    out = {}
    for tagged in (False, True):
        root = tmp_path_factory.mktemp(f"tagged{tagged}")
        pdir = root / "products" / edge_product.name
        shutil.copytree(edge_product, pdir)
        if tagged:
            _tag(pdir)
        zdir = root / "zips"
        zdir.mkdir()
        z = _zip_folder(pdir, zdir)
        for kind, src in (("folder", pdir), ("zip", z)):
            cat = LocalCatalog(root / f"cat-{kind}")
            ingest(src, collection="C", catalog=cat)
            (item,) = cat.search(collections="C")
            out[(kind, tagged)] = item
    return out


PROJ_VARIANTS = ["item proj:epsg", "item proj:code", "asset proj:epsg", "asset proj:code", "asset proj:wkt2"]


@pytest.mark.parametrize("proj", PROJ_VARIANTS)
@pytest.mark.parametrize("tagged", [False, True], ids=["untagged", "tagged"])
@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_every_variant_gives_the_same_cube(variants, edge_product, kind, tagged, proj):
    item = _proj_variant(variants[(kind, tagged)], proj)
    assert item["assets"]["FRE_B4"]["href"].startswith("/vsizip/") == (kind == "zip")
    assert _item_epsg(item) == 32631
    cube = terra_lab.load([item], bands=["red", "swir16"], resolution=20, raw_masks=True).compute()
    name = edge_product.name
    with rasterio.open(edge_product / f"{name}_FRE_B11.tif") as ds:
        swir = ds.read(1)
    with rasterio.open(edge_product / "MASKS" / f"{name}_CLM_R2.tif") as ds:
        clm = ds.read(1)
    np.testing.assert_array_equal(cube.swir16[0].values, _expected(swir))
    nod = swir == NODATA
    assert nod.any() and cube.edge[0].values[nod].all() and not cube.cloud[0].values[nod].any()
    np.testing.assert_array_equal(cube.CLM[0].values, np.where(nod, 0, clm))
    _assert_no_minus_one(cube, ["red", "swir16"])


def test_item_without_any_crs_says_how_to_fix(variants):
    item = _proj_variant(variants[("folder", False)], "none")
    assert _item_epsg(item) is None
    item["assets"]["FRE_B4"]["proj:wkt2"] = "not a WKT"  # unreadable: the same as none
    assert _item_epsg(item) is None
    with pytest.raises(ValueError, match="proj:code"):
        terra_lab.load([item], bands=["red"])


def test_zip_ingest_reads_in_place_and_names_the_zip(variants, tmp_path):
    item = variants[("zip", False)]
    zip_path, member = split_vsizip(item["assets"]["FRE_B4"]["href"])
    assert zip_path.endswith(".zip") and member.endswith("_FRE_B4.tif")
    assert not any(Path(zip_path).parent.glob("SENTINEL2*/"))  # nothing extracted beside it


def test_damaged_zips_are_refused_naming_the_file(edge_product, tmp_path):
    z = _zip_folder(edge_product, tmp_path, zipfile.ZIP_STORED)
    data = bytearray(z.read_bytes())
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(AssetReadError, match=r"truncated.zip"):
        ingest(truncated, catalog=LocalCatalog(tmp_path / "c1"))
    with zipfile.ZipFile(z) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("_FRE_B11.tif"))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF  # one flipped byte in the middle of a member
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(data))
    with pytest.raises(AssetReadError, match=r"flipped\.zip.*_FRE_B11\.tif.*CRC"):
        verify_zip(flipped)


def test_missing_zip_member_is_caught_before_reading(variants):
    item = copy.deepcopy(variants[("zip", False)])
    item["assets"]["FRE_B4"]["href"] = item["assets"]["FRE_B4"]["href"].replace("_FRE_B4", "_FRE_B4x")
    with pytest.raises(AssetReadError, match="missing file"):
        terra_lab.load([item], bands=["red"])


def test_zip_url_spelling_is_read_as_vsizip(variants):
    item = copy.deepcopy(variants[("zip", False)])
    zip_path, member = split_vsizip(item["assets"]["FRE_B4"]["href"])
    item["assets"]["FRE_B4"]["href"] = f"zip://{zip_path}!/{member}"
    a = terra_lab.load([item], bands=["red"], masks=False).red.values
    b = terra_lab.load([variants[("folder", False)]], bands=["red"], masks=False).red.values
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ R1-only product, unknown cloud cover
def test_product_with_r1_masks_only_in_a_20m_cube(demo_items):
    main = [it for it in demo_items if "_T31TGK_" in it["id"]][:12]
    odd = [it for it in main if "CLM_R2" not in it["assets"]]
    assert len(odd) == 1 and "MTD_ALL" not in odd[0]["assets"]
    cube = terra_lab.load(main, bands=["swir16"], resolution=20, group_by=None).compute()
    assert {"cloud", "shadow", "snow", "water", "edge", "saturated"} <= set(cube.data_vars)
    i = [it["id"] for it in main].index(odd[0]["id"])
    with rasterio.open(odd[0]["assets"]["CLM_R1"]["href"]) as ds:
        clm = ds.read(1)[::2, ::2]  # nearest from 10 m to 20 m: the top-left pixel of each 2 x 2 block
    np.testing.assert_array_equal(cube.cloud[i].values, (clm & (2 | 16 | 128)) != 0)


def test_max_cloud_keeps_items_of_unknown_cover_and_says_how_many(demo_catalog):
    with pytest.warns(TerraLabWarning, match="1 of the .* items found have no eo:cloud_cover"):
        res = demo_catalog.search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A", max_cloud=5)
    covers = [it["properties"].get("eo:cloud_cover") for it in res]
    assert sum(c is None for c in covers) == 1 and all(c <= 5 for c in covers if c is not None)


def test_max_cloud_on_a_catalogue_without_any_cloud_cover(demo_items, tmp_path):
    items = [copy.deepcopy(it) for it in demo_items[:5]]
    for it in items:
        it["properties"].pop("eo:cloud_cover", None)
    cat = LocalCatalog(tmp_path)
    cat.add_items(items, collection="NOCLOUD")
    with pytest.warns(TerraLabWarning, match="5 of the 5 items"):
        res = cat.search(collections="NOCLOUD", max_cloud=10)
    assert len(res) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(cat.search(collections="NOCLOUD")) == 5  # no max_cloud: nothing to say


# ------------------------------------------------------------------ levels a source does not have
def _theia_stac_item(item: dict) -> dict:
    """A demo item with the THEIA STAC API's asset keys (B02..., CLM_R1...) and proj:code on assets only."""
    it = _proj_variant(item, "asset proj:code")
    renamed = {}
    for key, a in it["assets"].items():
        if key.startswith("FRE_"):
            b = key[4:]
            renamed[b.replace("B", "B0") if len(b) == 2 else b] = a
        elif key.split("_")[0] in ("CLM", "MG2", "EDG", "SAT"):
            renamed[key] = a
    it["assets"] = renamed
    return it


def test_theia_stac_items_have_fre_only(demo_items):
    item = _theia_stac_item(next(it for it in demo_items if "_T31TGK_" in it["id"]))
    assert terra_lab.profiles.profile_for_item(item).name.startswith("THEIA STAC")
    cube = terra_lab.load([item], bands=["red"], masks=False)
    assert cube.attrs["terra_lab:level"] == "FRE" and cube.red.attrs["long_name"].startswith("FRE")
    with pytest.raises(MissingBandError, match=r"level 'SRE' is not available .*THEIA STAC.*\['FRE'\]"):
        terra_lab.load([item], bands=["red"], level="SRE")


# ------------------------------------------------------------------ native grid, whatever its origin
def _write(path: Path, arr: np.ndarray, x0: float, y0: float, res: float) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype=arr.dtype, crs="EPSG:32631", transform=from_origin(x0, y0, res, res)) as ds:
        ds.write(arr, 1)


@pytest.fixture(scope="module")
def odd_origin_product(tmp_path_factory) -> dict:
    """A MUSCATE product whose origin x0 = 300010, y0 = 5000030 is not a multiple of 20 m."""
    root = tmp_path_factory.mktemp("odd")
    name = "SENTINEL2A_20200601-103000-000_L2A_T31TCJ_C_V2-2"
    pdir = root / name
    (pdir / "MASKS").mkdir(parents=True)
    rng = np.random.default_rng(1)
    b2 = rng.integers(100, 3000, (40, 40)).astype(np.int16)
    b11 = rng.integers(100, 3000, (20, 20)).astype(np.int16)
    b2[:, :6], b11[:, :3] = NODATA, NODATA  # the swath edge
    _write(pdir / f"{name}_FRE_B2.tif", b2, 300010, 5000030, 10)
    _write(pdir / f"{name}_FRE_B11.tif", b11, 300010, 5000030, 20)
    edg = np.zeros((20, 20), np.uint8)
    edg[:, :3] = 1
    _write(pdir / "MASKS" / f"{name}_EDG_R2.tif", edg, 300010, 5000030, 20)
    _write(pdir / "MASKS" / f"{name}_CLM_R2.tif", np.zeros((20, 20), np.uint8), 300010, 5000030, 20)
    return item_from_product(pdir, collection="ODD")


def test_native_grid_at_20m_no_half_pixel_shift(odd_origin_product):
    it = odd_origin_product
    cube = terra_lab.load([it], bands=["swir16"], resolution=20).compute()
    assert cube.x.values[0] == 300010 + 10 and cube.y.values[0] == 5000030 - 10  # pixel centres of the file
    assert cube.sizes["x"] == 20 and cube.sizes["y"] == 20
    np.testing.assert_array_equal(cube.swir16[0].values, _expected(_raw(it["assets"]["FRE_B11"]["href"])))
    t = cube.rio.transform()
    assert (t.c, t.f, t.a) == (300010, 5000030, 20)


def test_native_grid_at_every_resolution_and_with_a_bbox(odd_origin_product):
    it = odd_origin_product
    cube10 = terra_lab.load([it], bands=["blue", "swir16"], resolution=10).compute()
    np.testing.assert_array_equal(cube10.blue[0].values, _expected(_raw(it["assets"]["FRE_B2"]["href"])))
    np.testing.assert_array_equal(cube10.swir16[0].values,
                                  np.repeat(np.repeat(_expected(_raw(it["assets"]["FRE_B11"]["href"])), 2, 0), 2, 1))
    # a bbox inside the product: the output grid stays on the file's pixels
    tr = pyproj.Transformer.from_crs(32631, 4326, always_xy=True)
    w, s = tr.transform(300010 + 105, 5000030 - 395)
    e, n = tr.transform(300010 + 295, 5000030 - 105)
    sub = terra_lab.load([it], bands=["swir16"], resolution=20, bbox=(w, s, e, n)).compute()
    assert ((sub.x.values - 300010 - 10) % 20 == 0).all() and ((5000030 - 10 - sub.y.values) % 20 == 0).all()
    full = terra_lab.load([it], bands=["swir16"], resolution=20).compute()
    xs, ys = np.intersect1d(sub.x, full.x), np.intersect1d(sub.y, full.y)
    assert len(xs) >= 10 and len(ys) >= 15
    np.testing.assert_array_equal(sub.swir16.sel(x=xs, y=ys).values, full.swir16.sel(x=xs, y=ys).values)


# ------------------------------------------------------------------ products save to NetCDF
def test_dieback_result_saves_to_netcdf(tmp_path):
    from test_products_dieback import synthetic_cube

    from terra_lab.products.dieback import forest_dieback

    cube = synthetic_cube(ny=3, nx=3, onset="2019-05-01", chunks={"time": -1})  # pixel (0, 0) dies
    res = forest_dieback(cube).compute()
    for name in ("dieback_date", "soil_date", "detection_start"):
        assert "units" not in res[name].attrs
    path = tmp_path / "dieback.nc"
    res.to_netcdf(path)
    back = xr.open_dataset(path).load()
    for name in ("state", "dieback_date", "detection_start", "confidence_class"):
        np.testing.assert_array_equal(back[name].values, res[name].values)
    assert back["dieback_date"].dtype.kind == "M" and back["dieback_date"].notnull().any()


# ------------------------------------------------------------------ the command line, as a user runs it
def test_cli_ingests_zips_as_delivered_and_searches_with_max_cloud(demo_root, demo_items, tmp_path):
    env = dict(os.environ, TERRA_LAB_HOME=str(tmp_path))

    def run(*args):
        return subprocess.run([sys.executable, "-m", "terra_lab.cli", *args], capture_output=True, text=True, env=env)

    z = sorted((demo_root / "archive").glob("*.zip"))[0]
    out = run("ingest", str(z), "--collection", "Z")
    assert out.returncode == 0 and "collection 'Z' now holds 1 items" in out.stdout, out.stderr
    odd = next(it for it in demo_items if "CLM_R2" not in it["assets"] and "_T31TGK_" in it["id"])
    out = run("ingest", str(Path(odd["assets"]["FRE_B2"]["href"]).parent), "--collection", "Z")
    assert out.returncode == 0 and "now holds 2 items" in out.stdout, out.stderr
    out = run("catalog", "search", "--catalog", "local", "--max-cloud", "100")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert odd["id"] in out.stdout and z.stem in out.stdout
    assert "1 of the 2 items found have no eo:cloud_cover" in out.stderr
