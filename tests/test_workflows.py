"""Every theme workflow (and the dashboard that displays it) on a catalogue that is not the demo's:
THEIA-format products ingested into a fresh local catalogue (fixture ``ingested_catalog``),
checked against the demo's ground truth.  Auxiliary layers are found in that catalogue by kind
(DEM collection, OSO land cover), never read from demo paths."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

from terra_lab.catalog import LocalCatalog
from terra_lab.demo import DEMO_TO_OSO
from terra_lab.errors import DateRangeError, UnknownCollectionError
from terra_lab.workflows import (
    FOREST_CLASSES,
    BiodiversityResult,
    ForestResult,
    SnowResult,
    WaterResult,
    biodiversity_workflow,
    find_collection,
    forest_workflow,
    load_landcover,
    snow_workflow,
    water_workflow,
)
from terra_lab.workflows.biodiversity import BiodiversitySettings
from terra_lab.workflows.forest import DIEBACK, NOT_FOREST

pytestmark = pytest.mark.slow               # each workflow reads a real time series (about 2 min in all)

SCENE = (6.28, 45.17, 6.34, 45.21)          # the whole demo scene
LAKE = (6.272, 45.183, 6.294, 45.195)       # the lake and its shores
FOREST = (6.296, 45.179, 6.316, 45.197)     # both attacked conifer patches, 1.6 x 2 km
VALLEY = (6.285, 45.185, 6.31, 45.205)      # 2 x 2.2 km of forest, meadows and rock


def _truth(demo_root, name: str) -> xr.DataArray:
    return rioxarray.open_rasterio(demo_root / "truth" / name)


def _on(truth: xr.DataArray, grid) -> xr.DataArray:
    """The truth on ``grid``'s pixels (NaN where the truth has none: outside the main tile)."""
    return truth.astype("float64").reindex(x=grid["x"], y=grid["y"], method="nearest", tolerance=1.0)


@pytest.fixture(scope="module")
def cat(ingested_catalog):
    return ingested_catalog


@pytest.fixture(scope="module")
def snow(cat):
    return snow_workflow(cat, SCENE, 2023)


@pytest.fixture(scope="module")
def water(cat):
    return water_workflow(str(cat.root), LAKE, "2024-04-01", "2024-08-31")  # by folder, as the dashboards do


@pytest.fixture(scope="module")
def forest(cat):
    return forest_workflow(cat, FOREST, "2024-01-01", "2024-08-31")


@pytest.fixture(scope="module")
def biodiversity(cat):
    return biodiversity_workflow(cat, VALLEY, "2023-06-01", "2023-08-31", BiodiversitySettings(cell_km=0.5))


# ----------------------------------------------------------------------------- layers and lookups
def test_workflows_import_no_user_interface():
    code = ("import sys, terra_lab.workflows; bad = sorted(m for m in ('panel', 'param', 'ipywidgets', 'ipyleaflet', "
            "'holoviews', 'bokeh', 'traitlets') if m in sys.modules); print(bad); sys.exit(bool(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_collections_are_found_by_kind_not_by_demo_id(cat, demo_catalog):
    assert "THEIA_REFLECTANCE_SENTINEL2_L2A" not in cat.collection_ids()     # the ingest's own id, not the demo's
    assert {"THEIA_REFLECTANCE_LANDSAT8_L2A", "THEIA_SNOW_SENTINEL2_L3B"} <= set(cat.collection_ids())
    assert find_collection(cat, "reflectance") == "SENTINEL2_L2A_THEIA"      # Sentinel-2, not Landsat or L3A
    assert find_collection(cat, "landcover") == "THEIA_OSO_RASTER_L3B"
    assert find_collection(cat, "dem") == find_collection(demo_catalog, "dem")
    # an explicit id wins, and must exist
    assert find_collection(cat, "dem", "cop-dem-eea-10-laea-tif") == "cop-dem-eea-10-laea-tif"
    with pytest.raises(UnknownCollectionError, match=r"DEM_DEMO.*not in the catalogue"):
        find_collection(cat, "dem", "DEM_DEMO")


@pytest.fixture(scope="module")
def bare(cat, tmp_path_factory):
    """A catalogue with Sentinel-2 L2A only (no DEM, no land cover)."""
    bare = LocalCatalog(tmp_path_factory.mktemp("bare"), name="bare")
    items = cat.search(FOREST, "2022-01-01/2024-08-31", "SENTINEL2_L2A_THEIA").items
    bare.add_items([it for it in items if "_T31TGK_" in it["id"]], collection="S2")
    return bare


def test_missing_auxiliary_collections_are_named_with_the_fix(bare):
    with pytest.raises(UnknownCollectionError, match=r"no digital elevation model collection.*dem_collection="):
        snow_workflow(bare, SCENE, 2023)
    with pytest.raises(UnknownCollectionError, match=r"no OSO land-cover collection.*landcover_collection="):
        forest_workflow(bare, FOREST, "2024-01-01", "2024-08-31")
    with pytest.raises(UnknownCollectionError, match=r"no OSO land-cover collection"):
        biodiversity_workflow(bare, VALLEY, "2023-06-01", "2023-08-31")
    with pytest.raises(DateRangeError, match="reversed"):
        water_workflow(bare, LAKE, "2024-08-31", "2024-04-01")


def test_forest_without_land_cover_degrades_explicitly(bare):
    r = forest_workflow(bare, (6.305, 45.182, 6.313, 45.187), "2024-01-01", "2024-08-31", require_landcover=False)
    assert r.forest is None and r.provenance["landcover_collection"] is None
    assert r.notes and "every pixel was examined" in r.notes[0]
    assert not (r.dieback["state"] == NOT_FOREST).any()


# ----------------------------------------------------------------------------- each theme vs the truth
def test_snow_workflow_matches_the_truth(snow, demo_root):
    assert isinstance(snow, SnowResult)
    assert snow.provenance["collection"] == "SENTINEL2_L2A_THEIA"
    assert snow.provenance["dem_collection"] == "cop-dem-eea-10-laea-tif"
    dem = _on(_truth(demo_root, "../DEM/T31TGK_DEM_R2.tif").sel(band=1, drop=True), snow.elevation)
    inside = np.isfinite(dem.values)             # the scene's AOI reaches past the main tile, into T32TLQ
    assert inside.mean() > 0.45
    np.testing.assert_allclose(snow.elevation.values[inside], dem.values[inside])    # the DEM, from the catalogue
    truth = _on(_truth(demo_root, "snow_annual_2023-2024_R2.tif").sel(band=1, drop=True), snow.annual)
    snowy = truth.values > 10
    err = np.abs(snow.annual["SCD"].values.astype(float) - truth.values)[snowy]
    # sampling by clear dates only (every 5 days at best): measured median 6, 90th percentile 15 days
    assert snowy.sum() > 8_000 and np.median(err) <= 10 and np.percentile(err, 90) <= 25
    bands = snow.elevation_bands
    assert list(bands.columns) == ["mean", "median", "count"]
    assert bands["median"].is_monotonic_increasing or bands["median"].iloc[-1] > bands["median"].iloc[0] + 200
    assert set(np.unique(snow.l2b.values)) <= {0, 100, 205, 254}


def test_water_workflow_matches_the_truth(water, demo_root):
    assert isinstance(water, WaterResult)
    q = water.products
    scene = json.loads((demo_root / "truth" / "scene.json").read_text())
    truth = _truth(demo_root, "turbidity_R2.tif")
    truth = truth.assign_coords(band=pd.to_datetime(scene["dates"]).tz_convert(None)).rename(band="time")
    truth = _on(truth, q).sel(time=q["time"], method="nearest", tolerance=pd.Timedelta("1D"))
    both = np.isfinite(q["turbidity"].values) & np.isfinite(truth.values)
    rel = np.abs(q["turbidity"].values - truth.values)[both] / truth.values[both]
    assert both.sum() > 5000 and np.median(rel) < 0.25        # measured 0.16 (the sensor noise)
    lake = _on(_truth(demo_root, "water_R2.tif").sel(band=1, drop=True), q).values == 1
    mapped = (water.summary("water") > 0.5).values
    assert mapped.sum() > 0.5 * lake.sum() and (mapped & lake).sum() >= 0.98 * mapped.sum()
    assert list(water.monthly.columns) == ["water", "turbidity", "spm", "chla"]
    assert water.monthly.index.tolist() == ["2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]
    # the melt peak: turbid in May-June, clear in August
    assert water.monthly.loc["2024-05", "turbidity"] > 3 * water.monthly.loc["2024-08", "turbidity"]


def test_forest_mask_is_the_oso_forest_classes(forest, cat, demo_root):
    assert isinstance(forest, ForestResult)
    assert forest.provenance["landcover_collection"] == "THEIA_OSO_RASTER_L3B" and not forest.notes
    grid = forest.dieback["state"]
    lc = load_landcover(cat, grid, date="2024-01-01").compute()
    assert lc.attrs["terra_lab:collections"] == "THEIA_OSO_RASTER_L3B"
    assert (forest.forest.values == np.isin(lc.values, FOREST_CLASSES)).all()
    truth = _on(_truth(demo_root, "landcover_R2.tif").sel(band=1, drop=True), grid).values
    seen = np.isfinite(lc.values) & np.isfinite(truth)      # OSO covers the inner 90 % of the tile
    assert seen.mean() > 0.6
    assert (forest.forest.values[seen] == np.isin(truth[seen], [5, 6])).mean() > 0.98   # demo 5, 6 = OSO 16, 17
    state = forest.dieback["state"].values
    assert (state[~forest.forest.values] == NOT_FOREST).all()


def test_forest_workflow_finds_the_attacked_patches(forest, demo_root):
    state = forest.dieback["state"].values
    onset = _on(_truth(demo_root, "dieback_onset_R2.tif").sel(band=1, drop=True), forest.dieback).values
    patch = onset > 0
    assert patch.sum() > 200
    assert np.mean(state[patch] == DIEBACK) > 0.6
    healthy_forest = forest.forest.values & (onset == 0)
    assert np.mean(state[healthy_forest] == DIEBACK) < 0.02
    pixel_ha = 0.04
    assert forest.dieback_ha == pytest.approx(float((state == DIEBACK).sum()) * pixel_ha)
    assert forest.hexagons["dieback (ha)"].iloc[0] > 0 and forest.hexagons["dieback (ha)"].is_monotonic_decreasing
    assert forest.index.chunks is not None         # the per-date index stays lazy


def test_biodiversity_workflow_uses_the_oso_land_cover(biodiversity, demo_root):
    r = biodiversity
    assert isinstance(r, BiodiversityResult) and not r.notes
    assert set(r.layers) == {"shannon", "simpson", "beta_pcoa1", "mesh_cutting", "mesh_cbc", "dispersal_cost"}
    truth = _on(_truth(demo_root, "landcover_R1.tif").sel(band=1, drop=True), r.landcover).values
    seen = np.isfinite(r.landcover.values) & np.isfinite(truth)
    expected = np.vectorize(lambda c: DEMO_TO_OSO.get(int(c), 0))(truth[seen])
    assert seen.mean() > 0.8 and (r.landcover.values[seen] == expected).mean() > 0.98
    assert np.isfinite(r.layers["shannon"].values).mean() > 0.8
    habitat = np.isin(r.landcover.values, FOREST_CLASSES)
    assert r.dispersal_area.values[habitat].mean() > 0.9        # the forest itself is reachable
    assert float(r.whole_mesh["effective_mesh_size"]) > 0 and int(r.whole_mesh["n_patches"]) >= 1
    rows = dict(r.summary())
    assert rows["date"] == str(r.date) and "effective mesh size (ha)" in rows


# ----------------------------------------------------------------------------- dashboards display them
@pytest.mark.parametrize("theme", ["snow", "water", "forest", "biodiversity"])
def test_dashboards_show_their_workflow_result(theme, cat, snow, water, forest, biodiversity, monkeypatch):
    """Each dashboard calls its workflow with the chosen catalogue and displays the typed result
    (the result computed above is handed back, so nothing is computed twice)."""
    import importlib

    from terra_lab.dashboards import THEMES

    module_name, cls_name = THEMES[theme].split(":")
    module = importlib.import_module(module_name)
    results = {"snow": snow, "water": water, "forest": forest, "biodiversity": biodiversity}
    calls = []

    def workflow(**kwargs):
        calls.append(kwargs)
        return results[theme]

    monkeypatch.setattr(module, f"{theme}_workflow", workflow)
    board = getattr(module, cls_name)(catalog=str(cat.root), mode="standard", language="en")
    board._on_compute()
    assert board._message.alert_type == "success", board._message.object
    assert calls and calls[0]["catalog"] == str(cat.root) and calls[0]["collection"] is None
    layer = board._layer(board.result)
    assert set(layer.dims) == {"y", "x"} and np.isfinite(layer.values.astype(float)).any()
    assert board._cog_bytes().getbuffer().nbytes > 1000 and board._nc_bytes().getbuffer().nbytes > 1000
    assert board._statistics(board.result) is not None
    # the expert mode names the auxiliary collection explicitly
    aux = {"snow": "dem_collection", "forest": "landcover_collection", "biodiversity": "landcover_collection"}.get(theme)
    if aux:
        assert calls[0][aux] is None                                  # found by kind by default
        board = getattr(module, cls_name)(catalog=str(cat.root), mode="expert", **{aux: " MY_AUX "})
        assert aux in board._visible_params()
        board._on_compute()
        assert calls[-1][aux] == "MY_AUX"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_biodiversity_dashboard_draws_the_oso_map_with_its_legend(biodiversity, cat, lang, monkeypatch):
    """The land-cover map is drawn in OSO's own colours with its class names on the colour bar, in the
    page's language (classes drawn as their rank in the legend: no gap in the colour bar), and pixels
    keep their class (nothing is averaged): no colour map was chosen by the theme."""
    import holoviews as hv

    from terra_lab.dashboards import biodiversity as module
    from terra_lab.profiles import OSO_LEGEND

    monkeypatch.setattr(module, "biodiversity_workflow", lambda **kw: biodiversity)
    board = module.BiodiversityDashboard(catalog=str(cat.root), mode="standard", language=lang, product="landcover")
    board._on_compute()
    assert board._message.alert_type == "success", board._message.object
    plot = hv.renderer("bokeh").get_plot(board._map.object)
    bar = next(r for r in plot.state.right if type(r).__name__ == "ColorBar")
    mapper = bar.color_mapper
    codes = sorted(OSO_LEGEND.classes)
    assert (mapper.low, mapper.high) == (-0.5, len(codes) - 0.5)
    for k, code in enumerate(codes):  # entry k of the palette is the k-th class, in the producer's colour
        assert mapper.palette[k].lower().startswith(OSO_LEGEND.classes[code].colour.lower())
    names = OSO_LEGEND.names(lang)
    assert bar.major_label_overrides == {k: names[c] for k, c in enumerate(codes)}
    present = set(np.unique(board._layer(board.result).values[np.isfinite(board._layer(board.result).values)]).astype(int))
    assert present <= set(codes) and len(present) >= 5
