"""The demo archive: THEIA/MUSCATE layout, MAJA encodings, truth consistency, determinism."""

import hashlib
import json

import numpy as np
import pytest
import rasterio

from terra_lab.catalog._theia_items import PRODUCT_RE
from terra_lab.catalog._zip import ZipDir
from terra_lab.demo import build
from terra_lab.demo._muscate import R1_ONLY_INDEX, ZIP_EVERY, ZIP_PHASE
from terra_lab.demo._scene import DOGLIOTTI_A, DOGLIOTTI_C

R1 = ["B2", "B3", "B4", "B8"]
R2 = ["B5", "B6", "B7", "B8A", "B11", "B12"]


def _product(p):
    """A product folder, or the folder inside a zipped product (read in place through /vsizip/)."""
    return ZipDir(p) / p.stem if p.suffix == ".zip" else p


def _main_products(root):
    """Products of the main tile in date order (the order of the truth stacks)."""
    return [_product(p) for p in sorted((p for p in (root / "archive").iterdir() if "_T31TGK_" in p.name),
                                        key=lambda p: p.name.split("_")[1])]


def _read(path, band=1):
    with rasterio.open(path) as ds:
        return ds.read(band)


def test_layout_and_naming(demo_root):
    products = sorted((demo_root / "archive").iterdir())
    assert len(products) == 129
    main = _main_products(demo_root)
    assert len(main) == 110
    p = main[0]
    m = PRODUCT_RE.match(p.name)
    assert m and m["platform"] in ("SENTINEL2A", "SENTINEL2B") and m["tile"] == "T31TGK" and m["version"] == "2-2"
    names = {f.name.replace(p.name + "_", "") for f in p.iterdir() if f.is_file()}
    assert names == {f"FRE_{b}.tif" for b in R1 + R2} | {"QKL_ALL.jpg", "MTD_ALL.xml"}
    masks = {f.name.replace(p.name + "_", "") for f in (p / "MASKS").iterdir()}
    assert masks == {f"{k}_{r}.tif" for k in ("CLM", "MG2", "EDG", "SAT") for r in ("R1", "R2")}
    # as unkind as THEIA: some products zipped, one with R1 masks only and no MTD_ALL.xml
    zipped = [i for i, p in enumerate(main) if isinstance(p, ZipDir)]
    assert zipped == [i for i in range(len(main)) if i % ZIP_EVERY == ZIP_PHASE]
    assert len(products) - sum(p.is_dir() for p in products) == 15  # 11 dates, 4 of them on both tiles
    names = {f.name.replace(main[zipped[0]].name + "_", "") for f in main[zipped[0]].iterdir() if f.is_file()}
    assert "MTD_ALL.xml" in names and len(names) == 12
    odd = main[R1_ONLY_INDEX]
    names = {f.name.replace(odd.name + "_", "") for f in odd.iterdir() if f.is_file()}
    assert names == {f"FRE_{b}.tif" for b in R1 + R2} | {"QKL_ALL.jpg"}
    masks = {f.name.replace(odd.name + "_", "") for f in (odd / "MASKS").iterdir()}
    assert masks == {f"{k}_R1.tif" for k in ("CLM", "MG2", "EDG", "SAT")}


def test_reflectance_encoding_and_grids(demo_root):
    p = _main_products(demo_root)[40]
    with rasterio.open(p / f"{p.name}_FRE_B2.tif") as ds:
        # no nodata tag, like real MUSCATE files (-10000 is documented in MTD_ALL.xml only)
        assert ds.dtypes[0] == "int16" and ds.nodata is None and ds.crs.to_epsg() == 32631
        assert ds.res == (10.0, 10.0) and ds.shape == (400, 400)
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate"
    with rasterio.open(p / f"{p.name}_FRE_B11.tif") as ds:
        assert ds.res == (20.0, 20.0) and ds.shape == (200, 200)
    data = _read(p / f"{p.name}_FRE_B4.tif")
    valid = data[data != -10000]
    assert valid.min() > 0 and valid.max() <= 12000


def test_swath_edge_products_have_nodata_and_edg(demo_root):
    with rasterio.open(demo_root / "truth" / "edge_R2.tif") as ds:
        edge = ds.read()
    cut = [i for i in range(edge.shape[0]) if edge[i].any()]
    assert 3 <= len(cut) <= 20
    p = _main_products(demo_root)[cut[0]]
    edg = _read(p / "MASKS" / f"{p.name}_EDG_R2.tif")
    b11 = _read(p / f"{p.name}_FRE_B11.tif")
    assert np.array_equal(edg == 1, edge[cut[0]] == 1)
    assert np.all(b11[edg == 1] == -10000) and np.all(b11[edg == 0] != -10000)


def test_maja_bits_match_truth(demo_root):
    with rasterio.open(demo_root / "truth" / "cloud_R2.tif") as ds:
        cloud_truth = ds.read()
    with rasterio.open(demo_root / "truth" / "shadow_R2.tif") as ds:
        shadow_truth = ds.read()
    with rasterio.open(demo_root / "truth" / "snow_R2.tif") as ds:
        snow_truth = ds.read()
    for i, p in list(enumerate(_main_products(demo_root)))[::9]:
        clm = _read(p / "MASKS" / f"{p.name}_CLM_R2.tif")
        mg2 = _read(p / "MASKS" / f"{p.name}_MG2_R2.tif")
        edg = _read(p / "MASKS" / f"{p.name}_EDG_R2.tif") == 1
        thick_or_thin = ((clm & 0b10) | (clm & 0b10000)) != 0
        assert np.array_equal(thick_or_thin[~edg], cloud_truth[i][~edg] == 1)
        assert np.array_equal((clm & 0b100000) != 0, (shadow_truth[i] == 1) & ~edg)
        thick = (clm & 0b10) != 0
        assert np.array_equal((clm & 1) != 0, (thick | ((clm & 0b100000) != 0)) & ~edg)  # bit 0: not the thinnest
        # MG2 snow bit: truth snow where not hidden by clouds or shadows
        clear = ~edg & (clm == 0)
        assert np.array_equal(((mg2 & 0b100) != 0)[clear], (snow_truth[i] == 1)[clear])


def test_truth_content_is_what_the_algorithms_need(demo_root):
    meta = json.loads((demo_root / "truth" / "scene.json").read_text())
    dates = np.array([d[:10] for d in meta["dates"]], dtype="datetime64[D]")
    assert len(dates) == 110
    hydro = (dates >= np.datetime64("2023-09-01")) & (dates <= np.datetime64("2024-08-31"))
    assert 60 <= hydro.sum() <= 80
    with rasterio.open(demo_root / "truth" / "snow_R2.tif") as ds:
        snow = ds.read().reshape(110, -1).mean(axis=1)
    months = dates.astype("datetime64[M]").astype(int) % 12 + 1
    assert snow[(months == 1) & hydro].mean() > 0.5 > 0.05 > snow[(months == 8) & hydro].mean()
    lc = _read(demo_root / "truth" / "landcover_R1.tif")
    assert set(np.unique(lc)) == set(range(1, 9))
    onset = _read(demo_root / "truth" / "dieback_onset_R1.tif")
    assert sorted(np.unique(onset[onset > 0]).tolist()) == meta["dieback_onset_days"]
    assert np.all(lc[onset > 0] == 6)  # dieback only in conifers
    with rasterio.open(demo_root / "truth" / "turbidity_R2.tif") as ds:
        turb = ds.read()
    lake_mean = np.nanmean(turb.reshape(110, -1), axis=1)
    assert months[np.nanargmax(lake_mean)] in (5, 6, 7)  # turbidity peaks with the melt


def test_lake_red_reflectance_follows_dogliotti(demo_root):
    """Clear lake pixels: inverting Dogliotti et al. (2015) on the red band gives back the truth (int16 rounding)."""
    with rasterio.open(demo_root / "truth" / "turbidity_R2.tif") as ds:
        turb = ds.read()
    with rasterio.open(demo_root / "truth" / "cloud_R2.tif") as ds:
        cloud = ds.read()
    with rasterio.open(demo_root / "truth" / "shadow_R2.tif") as ds:
        shadow = ds.read()
    i = int(np.argmax(np.nanmean(turb.reshape(110, -1), axis=1) * (cloud.reshape(110, -1).mean(1) == 0)))
    p = _main_products(demo_root)[i]
    with rasterio.open(p / f"{p.name}_FRE_B4.tif") as ds:
        red = ds.read(1, out_shape=(200, 200), resampling=rasterio.enums.Resampling.average) / 1e4
    lake = np.isfinite(turb[i]) & (cloud[i] == 0) & (shadow[i] == 0)
    inverted = DOGLIOTTI_A * red[lake] / (1 - red[lake] / DOGLIOTTI_C)
    assert np.median(np.abs(inverted - turb[i][lake]) / turb[i][lake]) < 0.15


@pytest.mark.slow
def test_build_is_deterministic(demo_root, tmp_path):
    """A second build in another folder gives byte-identical rasters and the same items."""
    other = build(tmp_path / "demo2")

    def digest(root):
        h = hashlib.sha256()
        thematic = sorted((root / "thematic").rglob("*.tif"))[::3]  # snow, OSO, L3A, Landsat, Venus products
        thematic += sorted((root / "thematic").glob("*_L2B-WATERQUAL_*/*.tif"))  # water quality, biophysical: all
        thematic += sorted((root / "thematic").glob("*_L2B-BIOPHY_*/*.tif"))
        for f in sorted((root / "archive").rglob("*.tif"))[::37] + sorted((root / "truth").glob("*.tif")) + thematic:
            with rasterio.open(f) as ds:
                h.update(ds.read().tobytes())
        for f in sorted((root / "archive").glob("*.zip"))[::4]:  # zipped products: the same bytes, member times too
            h.update(f.read_bytes())
        return h.hexdigest()

    assert digest(other) == digest(demo_root)
    scene = json.loads((demo_root / "truth" / "scene.json").read_text())
    assert json.loads((other / "truth" / "scene.json").read_text()) == scene


def test_vector_collections_gedi_soil_glacier(demo_catalog, demo_root):
    """GEDI L2A-like shots (monthly GeoParquet, bad shots included), soil samples (GeoJSON, a few missing values)
    and the glacier outline (RGI 7.0 attributes, GeoJSON in a zip) are catalogue items, not truth files."""
    import geopandas as gpd
    import pandas as pd

    import terra_lab
    from terra_lab.demo import GEDI_COLLECTION, GLACIER_COLLECTION, SOIL_COLLECTION
    from terra_lab.demo._structure_soil import GEDI_POINTS, SOIL_POINTS
    from terra_lab.demo._vectors import N_CLOUD, N_DAY, N_DEGRADED, N_LOW_SENSITIVITY, SOIL_MISSING

    gedi = demo_catalog.search(collections=GEDI_COLLECTION)
    assert len(gedi) == 12 and [it["properties"]["start_datetime"][:7] for it in gedi] == [f"2023-{m:02d}" for m in range(1, 13)]
    assert all(a["type"] == "application/vnd.apache.parquet" for it in gedi for a in it["assets"].values())
    assert all("/truth/" not in a["href"] for it in gedi for a in it["assets"].values())
    shots = terra_lab.load_features(gedi)
    assert shots.crs.to_epsg() == 4326 and len(shots) == GEDI_POINTS + N_CLOUD + N_DEGRADED + N_LOW_SENSITIVITY
    assert {"shot_number", "beam", "rh98", "rh95", "quality_flag", "degrade_flag", "sensitivity", "elev_lowestmode",
            "solar_elevation", "delta_time"} <= set(shots.columns)
    beams = {f"BEAM{b}" for b in ("0000", "0001", "0010", "0011", "0101", "0110", "1000", "1011")}
    assert shots["shot_number"].is_unique and set(shots["beam"]) <= beams
    assert (shots["quality_flag"] == 0).sum() == N_CLOUD and (shots["degrade_flag"] > 0).sum() == N_DEGRADED
    good = shots[(shots.quality_flag == 1) & (shots.degrade_flag == 0) & (shots.sensitivity >= 0.9)]
    assert len(good) == GEDI_POINTS and (good["solar_elevation"] > 0).sum() == N_DAY
    # each shot falls in its item's month (delta_time: seconds since 2018-01-01)
    when = pd.Timestamp("2018-01-01", tz="UTC") + pd.to_timedelta(shots["delta_time"], unit="s")
    assert (when.dt.strftime("%Y-%m") == shots["datetime"].dt.strftime("%Y-%m")).all()
    truth = gpd.read_file(demo_root / "truth" / "gedi_points.geojson")
    assert len(truth) == GEDI_POINTS  # kept for validation

    soil = terra_lab.load_features(demo_catalog.search(collections=SOIL_COLLECTION))
    assert len(soil) == SOIL_POINTS and soil["sample_id"].is_unique
    assert {"clay", "silt", "sand", "soc", "ph_h2o", "awc", "upper_depth_cm", "lower_depth_cm"} <= set(soil.columns)
    for prop, n in SOIL_MISSING.items():
        assert soil[prop].isna().sum() == n, prop
    tex = soil[["clay", "silt", "sand"]].dropna().sum(axis=1)
    np.testing.assert_allclose(tex, 100, atol=0.02)

    (item,) = demo_catalog.search(collections=GLACIER_COLLECTION).items
    assert item["assets"]["outlines"]["href"].startswith("/vsizip/") and item["properties"]["datetime"].startswith("2000-02-11")
    outline = terra_lab.load_features([item], crs=32631)
    assert len(outline) == 1 and outline["rgi_id"].iloc[0].startswith("RGI2000-v7.0-G-11-")
    relief = json.loads((demo_root / "truth" / "relief.json").read_text())
    assert outline.geometry.iloc[0].area == pytest.approx(relief["glacier_area_m2"], rel=1e-3)
    assert outline["area_km2"].iloc[0] == pytest.approx(relief["glacier_area_m2"] / 1e6, rel=1e-3)
