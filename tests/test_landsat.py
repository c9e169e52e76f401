"""Landsat 8/9 Collection 2 Level-2: profile, decoding of scale/offset variants and QA_PIXEL bits on real
COGs, lazy loading from a generated (non-demo) catalogue, the demo catalogue and the real STAC API."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

import terra_lab
from terra_lab.catalog._landsat_items import C2_L2_FILES, landsat_c2_item, landsat_c2_items_from_folder
from terra_lab.catalog._local import LocalCatalog
from terra_lab.profiles import LANDSAT_C2_L2, LANDSAT_L2A, profile_for_item
from terra_lab.profiles._landsat import QA_PIXEL_BITS

N = 16
# DN -> value checks: USGS L2SP guide table 6-1 (SR 2.75e-05, -0.2; ST 0.00341802, 149.0 K)
SR_DN, ST_DN = 10_000, 44_000
SR_VALUE, ST_VALUE = SR_DN * 2.75e-05 - 0.2, ST_DN * 0.00341802 + 149.0


def _qa() -> np.ndarray:
    """QA_PIXEL with one 2-row stripe per bit: fill, dilated, cirrus, cloud, shadow, snow, clear, water."""
    qa = np.full((N, N), 1 << 6, np.uint16)
    for bit in range(8):
        qa[2 * bit:2 * bit + 2, :8] = 1 << bit
    return qa


def _write(path, arr, nodata):
    with rasterio.open(path, "w", driver="COG", dtype=arr.dtype.name, count=1, height=N, width=N, crs="EPSG:32631",
                       transform=from_origin(600_000, 5_000_000, 30, 30), nodata=nodata) as dst:
        dst.write(arr[None])


def _product(root, day: dt.date, sat: str = "09"):
    name = f"LC{sat}_L2SP_196029_{day:%Y%m%d}_{day + dt.timedelta(days=8):%Y%m%d}_02_T1"
    pdir = root / name
    pdir.mkdir(parents=True)
    qa = _qa()
    fill = (qa & 1) != 0
    for suffix in C2_L2_FILES:
        if suffix == "QA_PIXEL":
            _write(pdir / f"{name}_{suffix}.TIF", qa, 1)
        else:
            arr = np.full((N, N), ST_DN if suffix == "ST_B10" else SR_DN, np.uint16)
            arr[fill] = 0  # fill pixels are 0 (nodata) in every band
            _write(pdir / f"{name}_{suffix}.TIF", arr, 0)
    return pdir


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    root = tmp_path_factory.mktemp("c2l2")
    for i, day in enumerate((dt.date(2024, 7, 1), dt.date(2024, 7, 17))):
        _product(root / "products", day, "08" if i else "09")
    return root


def _catalog(root, name, **kw):
    cat = LocalCatalog(root / f"cat_{name}", name=name)
    cat.add_items(list(landsat_c2_items_from_folder(root / "products", href_root=root / f"cat_{name}", **kw)),
                  collection="landsat-c2-l2", description="generated C2 L2 items")
    return cat


def test_profile_for_provider_items():
    pc = {"id": "LC09_L2SP_196029_20240701_20240709_02_T1", "collection": "landsat-c2-l2",
          "properties": {"platform": "landsat-9"}, "assets": {"red": {}, "lwir11": {}, "qa_pixel": {}}}
    assert profile_for_item(pc) is LANDSAT_C2_L2
    usgs = {**pc, "collection": "landsat-c2l2-st", "assets": {"lwir11": {}, "qa_pixel": {}}}
    assert profile_for_item(usgs) is LANDSAT_C2_L2
    # THEIA's Landsat L2A (MUSCATE) has no thermal band, and stays its own profile
    assert "lwir11" not in LANDSAT_L2A.bands and "no thermal band" in _doc()
    assert dict(QA_PIXEL_BITS) == {0: "fill", 1: "dilated_cloud", 2: "cirrus", 3: "cloud", 4: "cloud_shadow",
                                   5: "snow", 6: "clear", 7: "water"}


def _doc() -> str:
    import terra_lab.profiles._landsat as m

    return m.__doc__ or ""


@pytest.mark.parametrize("variant", ["asset", "none"])
def test_decoding_scale_offset_variants(products, variant):
    cat = _catalog(products, variant, raster_bands=variant)
    items = list(cat.search(collections="landsat-c2-l2"))
    declared = items[0]["assets"]["lwir11"]["raster:bands"][0]
    assert ("scale" in declared) == (variant == "asset")
    ds = terra_lab.load(cat.search(collections="landsat-c2-l2"), bands=["red", "nir", "lwir11"]).compute()
    ok = ~ds.edge.values
    np.testing.assert_allclose(ds.red.values[ok], SR_VALUE, rtol=1e-6)
    np.testing.assert_allclose(ds.nir.values[ok], SR_VALUE, rtol=1e-6)
    np.testing.assert_allclose(ds.lwir11.values[ok], ST_VALUE, rtol=1e-6)
    assert ds.lwir11.attrs["units"] == "K" and ds.red.attrs["units"] == "1"
    assert np.isnan(ds.lwir11.values[~ok]).all()  # fill (0) -> NaN


def test_item_declared_scale_wins(products, tmp_path):
    """A catalogue that declares its own decoding (here ST in centi-kelvin, no offset) is read with it."""
    cat = LocalCatalog(tmp_path / "cat", name="own")
    items = list(landsat_c2_items_from_folder(products / "products", href_root=tmp_path / "cat"))
    for it in items:
        it["assets"]["lwir11"]["raster:bands"][0].update(scale=0.01, offset=0.0)
    cat.add_items(items, collection="landsat-c2-l2", description="own scale")
    ds = terra_lab.load(cat.search(collections="landsat-c2-l2"), bands=["lwir11"]).compute()
    np.testing.assert_allclose(np.nanmax(ds.lwir11.values), ST_DN * 0.01, rtol=1e-6)


def test_qa_pixel_bits(products):
    cat = _catalog(products, "qa")
    ds = terra_lab.load(cat.search(collections="landsat-c2-l2"), bands=["red"]).isel(time=0).compute()
    rows = {layer: np.where(ds[layer].values[:, :8].all(axis=1))[0].tolist() for layer in ("cloud", "shadow", "snow",
                                                                                             "water", "edge")}
    assert rows == {"cloud": [2, 3, 4, 5, 6, 7], "shadow": [8, 9], "snow": [10, 11], "water": [14, 15], "edge": [0, 1]}
    assert not ds.cloud.values[:, 8:].any() and not ds.edge.values[2:].any()


def test_item_builder_refuses_other_names(tmp_path):
    (tmp_path / "LC09_L2SP_bad").mkdir()
    with pytest.raises(terra_lab.errors.AssetReadError, match="Collection 2 Level-2 product name"):
        landsat_c2_item(tmp_path / "LC09_L2SP_bad")


def test_lazy_load_generated_catalogue(products, no_compute):
    cat = _catalog(products, "lazy")
    with no_compute():
        ds = terra_lab.load(cat.search(collections="landsat-c2-l2"), apply_masks=["cloud", "edge"])
        assert ds.lwir11.chunks is not None and ds.sizes["time"] == 2
    assert ds.attrs["terra_lab:collections"] == ["landsat-c2-l2"]
    assert sorted(set(ds.platform.values.tolist())) == ["landsat-8", "landsat-9"]


def test_lazy_load_demo(demo_catalog, demo_root, no_compute):
    with no_compute():
        ds = terra_lab.load(demo_catalog.search(collections="landsat-c2-l2"), apply_masks=["cloud", "shadow", "edge"])
    assert ds.sizes["time"] == 6 and ds.rio.resolution() == (30.0, -30.0)
    station = demo_catalog.search(collections="terra-lab-demo-meteo-stations").items
    overpass = terra_lab.cube.load_station(station, "overpass")
    assert [str(t)[:10] for t in overpass.index.values] == [str(t)[:10] for t in ds.time.values]
    lst = ds.lwir11.isel(time=0).compute()
    assert float(lst.min()) > 285 and float(lst.max()) < 330  # summer surface temperature, K
    assert int(ds.cloud.isel(time=1).sum()) > 0  # the demo's cloudy date


def test_load_through_stac_api(stac_server, no_compute):
    """The demo's Landsat items served by the real STAC API (pgstac) load lazily and decode alike."""
    api = terra_lab.catalog.open(stac_server.url, retries=1, backoff=0.05)
    res = api.search(dates=("2024-06-01", "2024-06-30"), collections="landsat-c2-l2")
    with no_compute():
        ds = terra_lab.load(res, bands=["red", "lwir11"])
    assert ds.sizes["time"] == 2
    assert 285 < float(ds.lwir11.isel(time=0).mean()) < 330
