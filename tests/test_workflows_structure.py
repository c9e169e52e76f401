"""Forest-structure workflow (issue 16) on the demo: footprints from the catalogue's GEDI L2A-like
collection (quality-filtered), canopy height checked against the demo truth, intervals' coverage,
the table per forest type, laziness of the maps, and the clear errors (no footprint collection,
every footprint filtered out, no reflectance)."""

from __future__ import annotations

import dask
import geopandas as gpd
import numpy as np
import pytest
import rioxarray

import terra_lab
from terra_lab.errors import NoItemsFoundError, SamplingError, UnknownCollectionError
from terra_lab.workflows import find_collection
from terra_lab.workflows.structure import (
    BANDS,
    FOREST_TYPES,
    StructureResult,
    StructureSettings,
    structure_maps,
    structure_workflow,
)

AOI = (6.28, 45.17, 6.34, 45.21)  # the forest dashboard's default area
YEAR = 2023
GEDI = "terra-lab-demo-gedi-l2a"
S2 = "THEIA_REFLECTANCE_SENTINEL2_L2A"


STEPS: list[str] = []


@pytest.fixture(scope="module")
def result(demo_root):
    return structure_workflow("demo", AOI, YEAR, progress=STEPS.append)


def _truth(demo_root, name, like):
    """A truth raster on the maps' grid (the same 20 m lattice; NaN where the scene does not reach)."""
    da = rioxarray.open_rasterio(demo_root / "truth" / name).squeeze(drop=True).astype("float32")
    return da.reindex(x=like.x, y=like.y, method="nearest", tolerance=1.0)


# ------------------------------------------------------------------------------ the workflow
def test_footprint_collection_found_by_kind(demo_root):
    assert find_collection("demo", "footprints") == GEDI
    with pytest.raises(UnknownCollectionError, match="NO_SUCH_GEDI"):
        find_collection("demo", "footprints", "NO_SUCH_GEDI")


def test_workflow_on_the_demo(result):
    assert isinstance(result, StructureResult) and result.notes == ()
    p = result.provenance
    assert (p["footprint_collection"], p["landcover_collection"], p["collection"]) == (GEDI, "THEIA_OSO_RASTER_L3B", S2)
    assert p["dem_collection"] is not None and result.year == YEAR
    assert STEPS == ["search", "read", "compute"]
    # lazy until asked: the maps are dask arrays (the table computes them on first access)
    assert all(isinstance(v.data, dask.array.Array) for v in result.maps.data_vars.values())
    assert {"height", "height_p05", "height_p95", "height_interval", "volume", "agb"} <= set(result.maps.data_vars)
    assert result.maps["height"].attrs["units"] == "m" and result.maps["agb"].attrs["units"] == "Mg ha-1"
    assert "FORMS" in result.maps.attrs["references"]
    d = result.diagnostics
    print(f"\nshots {d['shots']}, kept {d['kept']}, dropped {d['dropped']}; held-out ({d['n_held_out']}) RMSE "
          f"{d['rmse_m']:.2f} m, bias {d['bias_m']:+.2f} m, PICP {d['picp']:.2f}")
    assert d["dropped"] > 0 and d["kept"] + d["dropped"] == d["shots"]
    assert d["n_train"] + d["n_held_out"] <= d["kept"] and d["n_held_out"] >= 20
    assert d["rmse_m"] < 5.0 and abs(d["bias_m"]) < 1.5 and 0.75 <= d["picp"] <= 1.0  # vs rh98 (1.5 m noise)
    # the kept shots all pass GEDI L2A's flags
    kept = result.footprints
    assert (kept["quality_flag"] == 1).all() and (kept["degrade_flag"] == 0).all()
    assert set(kept["split"]) == {"train", "held-out"} and kept.crs == result.maps.rio.crs


def test_kept_shots_are_the_good_ones(result, demo_root):
    """The quality filter keeps exactly the truth footprints inside the area (the demo's good shots)."""
    truth = gpd.read_file(demo_root / "truth" / "gedi_points.geojson").to_crs(4326)
    inside = truth.cx[AOI[0]:AOI[2], AOI[1]:AOI[3]]
    assert result.diagnostics["kept"] == len(inside)
    got = np.sort(result.footprints["rh98"].to_numpy())
    np.testing.assert_allclose(got, np.sort(inside["rh98"].to_numpy()), atol=0.006)  # L2A files: 2 decimals


def test_validation_height_against_the_demo_truth(result, demo_root):
    """Validation: the canopy-height map against the demo's truth heights on forest pixels holding no
    footprint (RMSE, bias), and the share of them inside the 5-95 % interval."""
    maps = result.maps.compute()
    truth = _truth(demo_root, "canopy_height_R2.tif", maps)
    # truth forest that the catalogue's OSO map (the inner 90 % of the tile) also calls forest
    forest = np.isin(_truth(demo_root, "landcover_R2.tif", maps).values, (5, 6)) & np.isin(
        result.forest_type.values, list(FOREST_TYPES))
    used = np.zeros(forest.shape, bool)
    cols, rows = (~maps.rio.transform()) * (result.footprints.geometry.x.to_numpy(),
                                             result.footprints.geometry.y.to_numpy())
    inside = (rows >= 0) & (rows < used.shape[0]) & (cols >= 0) & (cols < used.shape[1])
    used[rows[inside].astype(int), cols[inside].astype(int)] = True
    h, lo, hi = (maps[v].values for v in ("height", "height_p05", "height_p95"))
    sel = forest & ~used & np.isfinite(h) & np.isfinite(truth.values)
    err = h[sel] - truth.values[sel]
    rmse, bias = float(np.sqrt(np.mean(err ** 2))), float(np.mean(err))
    cover = float(np.mean((truth.values[sel] >= lo[sel]) & (truth.values[sel] <= hi[sel])))
    print(f"\nvalidation on {sel.sum()} held-out forest pixels: RMSE {rmse:.2f} m, bias {bias:+.2f} m, "
          f"5-95 % interval covers {cover:.1%}")
    assert sel.sum() > 5000 and np.isfinite(h[forest & np.isfinite(truth.values)]).mean() > 0.99
    assert rmse < 3.5 and abs(bias) < 1.0
    assert 0.8 < cover <= 1.0
    assert (lo[sel] <= h[sel]).all() and (h[sel] <= hi[sel]).all()
    np.testing.assert_allclose(maps["height_interval"].values[sel], (hi - lo)[sel], rtol=1e-5)


def test_table_per_forest_type(result):
    table, maps = result.table, result.maps
    assert list(table["forest type"]) == list(FOREST_TYPES.values())
    pixels = int(np.isfinite(maps["height"].values).sum())
    assert table["pixels"].sum() == pixels and table["area (ha)"].sum() == pytest.approx(pixels * 0.04, abs=0.05)
    for _, row in table.iterrows():
        assert 5 < row["mean height (m)"] < 35 and 0 < row["mean interval width (m)"] < 25
        assert 20 < row["mean volume (m3/ha)"] < 900 and 10 < row["mean biomass (Mg/ha)"] < 500
        assert row["biomass (Mg)"] == pytest.approx(row["mean biomass (Mg/ha)"] * row["area (ha)"], rel=0.01)
    assert result.table is table  # computed once


def test_maps_are_lazy(result, demo_catalog, no_compute):
    """From a lazy cube, the features and the maps (height, interval, volume, biomass) build no compute."""
    from terra_lab.products.structure import structure_features

    items = demo_catalog.search(AOI, f"{YEAR}-01-01/{YEAR}-12-31", S2)
    with no_compute():
        cube = terra_lab.load(items, bands=BANDS, resolution=20, bbox=AOI, chunks={"time": -1, "y": 128, "x": 128})
        dem = terra_lab.workflows.load_dem(demo_catalog, cube)
        features = structure_features(cube, year=YEAR, covariates={"elevation": dem})
        maps = structure_maps(features, result.model, None)
    assert set(maps.data_vars) == {"height", "height_p05", "height_p95", "height_interval"}
    assert maps["height"].data.npartitions == 4  # one task per spatial chunk


# ------------------------------------------------------------------------------ errors
def _bare(demo_catalog, tmp_path):
    """A catalogue of the demo's 2023 reflectance over the area, and nothing else."""
    from terra_lab.catalog import LocalCatalog

    bare = LocalCatalog(tmp_path / "bare", name="bare")
    bare.add_items(demo_catalog.search(AOI, f"{YEAR}-01-01/{YEAR}-12-31", S2).items, collection=S2)
    return bare


def test_no_footprint_collection_names_the_fix(demo_catalog, tmp_path):
    with pytest.raises(UnknownCollectionError, match=r"no GEDI L2A-like lidar footprints.*footprint_collection="):
        structure_workflow(_bare(demo_catalog, tmp_path), AOI, YEAR)


def test_every_footprint_filtered_out(demo_catalog, tmp_path):
    """A footprint collection whose shots all fail the GEDI quality flags: the error says how many passed."""
    bare = _bare(demo_catalog, tmp_path)
    items = []
    for item in demo_catalog.search(AOI, f"{YEAR}-01-01/{YEAR}-12-31", GEDI).items:
        shots = terra_lab.load_features([item])
        path = tmp_path / f"{item['id']}.parquet"
        shots.drop(columns=["item_id", "datetime"], errors="ignore").assign(quality_flag=0).to_parquet(path)
        key = next(iter(item["assets"]))
        items.append({**item, "assets": {key: {**item["assets"][key], "href": str(path)}}})
    bare.add_items(items, collection=GEDI)
    with pytest.raises(SamplingError, match=r"0 of the \d+ footprints .* pass the GEDI quality filter"):
        structure_workflow(bare, AOI, YEAR)


def test_without_land_cover_or_dem_the_height_only_and_notes(demo_catalog, tmp_path):
    """A catalogue of reflectance and footprints only (no OSO, no DEM): with require_landcover=False the
    height is mapped on every pixel from Sentinel-2 alone, no volume or biomass, and the notes say why."""
    small = (6.28, 45.185, 6.31, 45.21)
    bare = _bare(demo_catalog, tmp_path)
    bare.add_items(demo_catalog.search(small, f"{YEAR}-01-01/{YEAR}-12-31", GEDI).items, collection=GEDI)
    with pytest.raises(UnknownCollectionError, match="landcover_collection="):
        structure_workflow(bare, small, YEAR)
    r = structure_workflow(bare, small, YEAR, StructureSettings(method="hgb"), require_landcover=False)
    assert [n.key for n in r.notes] == ["no_dem_structure", "no_landcover_structure"]
    assert set(r.maps.data_vars) == {"height", "height_p05", "height_p95", "height_interval"}
    assert r.forest_type is None and r.provenance["dem_collection"] is None
    assert "elevation" not in r.model.features and r.diagnostics["kept"] >= 30
    table = r.table
    assert list(table["forest type"]) == ["all"] and np.isnan(table["mean biomass (Mg/ha)"]).all()
    assert table["pixels"].iloc[0] == int(np.isfinite(r.maps["height"].values).sum()) > 0


def test_no_reflectance_or_footprints_in_the_year(demo_root):
    with pytest.raises(NoItemsFoundError, match="widen the area or the period"):
        structure_workflow("demo", AOI, 2019)
    with pytest.raises(ValueError, match="holdout"):
        structure_workflow("demo", AOI, YEAR, StructureSettings(holdout=1.0))
