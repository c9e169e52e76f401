"""The glacier workflow on the demo: two DEMs and the glacier outlines found in the catalogue, the
elevation change per glacier against the demo's relief truth, the ELA of the summer against the
scene's snowline, its clear errors, and the search and read steps reading no pixel."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from terra_lab.demo._relief import DEM_EPOCH_COLLECTION
from terra_lab.errors import NoItemsFoundError, UnknownCollectionError
from terra_lab.workflows import Cancelled, GlacierResult, glacier_workflow
from terra_lab.workflows.glacier import _named, dem_items, find_outline_collection

#: the demo glacier (north-east of the T31TGK tile) and some valley around it
AOI = (6.30, 45.195, 6.335, 45.22)
REFERENCE_DEM = "cop-dem-eea-10-laea-tif"


@pytest.fixture(scope="module")
def glacier(demo_root):
    return glacier_workflow("demo", AOI, 2023)


def test_the_catalogue_gives_both_dems_and_the_outlines(glacier, demo_catalog):
    assert isinstance(glacier, GlacierResult) and glacier.notes == ()
    p = glacier.provenance
    assert p["reference_dem"] == ["DEM_T31TGK"] and p["dem"] == ["DEM_T31TGK_2023"]
    assert p["dem_collections"] == sorted([REFERENCE_DEM, DEM_EPOCH_COLLECTION])
    assert p["outline_collection"] == "terra-lab-demo-glacier-outlines" == find_outline_collection(demo_catalog)
    assert p["landcover_collection"] == "THEIA_OSO_RASTER_L3B"
    assert [d.year for d, _, _ in dem_items(demo_catalog, AOI)] == [2000, 2023]
    # RGI fields carried into the table; the maps on one grid
    row = glacier.glaciers.iloc[0]
    assert row["glacier"] == "demo glacier" and row["rgi_id"].startswith("RGI2000-v7.0-G-11")
    assert glacier.dh.shape == glacier.elevation.shape == glacier.relief.shape[1:] == glacier.stable.shape
    assert list(glacier.relief["band"].values) == ["red", "green", "blue", "alpha"]
    assert glacier.relief.dtype == np.uint8 and glacier.relief.attrs["terra_lab:algorithm"].startswith("colour")


def test_stable_terrain_leaves_out_steep_slopes_and_water(glacier):
    from terra_lab.products.relief import outline_masks
    from terra_lab.products.terrain import slope

    # the mask is the reference DEM's slope: the later DEM's differs by its noise and, on the ice, its thinning
    ice = outline_masks(glacier.outlines, glacier.elevation).values.any(axis=0)
    steep = (slope(glacier.elevation) > glacier.provenance["settings"]["max_slope"] + 5).values & ~ice
    assert steep.sum() > 1000 and (glacier.stable.values & steep).sum() <= 0.001 * steep.sum()
    assert glacier.stable.values.mean() > 0.5
    assert "not OSO water" in glacier.stable.attrs["long_name"]


def test_validation_elevation_change_against_the_demo_truth(glacier, demo_root):
    """Validation: the shift, the years and the mean thinning against truth/relief.json."""
    truth = json.loads((demo_root / "truth" / "relief.json").read_text())
    c = glacier.coregistration
    print(f"glacier workflow: shift ({c.shift_x:.2f}, {c.shift_y:.2f}, {c.shift_z:.2f}) m vs truth "
          f"({truth['shift_x_m']}, {truth['shift_y_m']}, {truth['shift_z_m']}), NMAD {c.nmad_before:.2f} -> "
          f"{c.nmad_after:.2f} m")
    assert abs(c.shift_x - truth["shift_x_m"]) < 0.1 * 20 and abs(c.shift_y - truth["shift_y_m"]) < 0.1 * 20
    assert abs(c.shift_z - truth["shift_z_m"]) < 0.5
    row = glacier.glaciers.iloc[0]
    print(f"demo glacier: mean dh {row['mean_dh_m']:.2f} +- {row['mean_dh_sigma_m']:.2f} m (truth "
          f"{truth['mean_dh_m_20m_pixels']:.2f}), {row['dh_rate_m_per_yr']:.3f} m/yr, B "
          f"{row['mass_balance_mwe_per_yr']:.3f} +- {row['mass_balance_sigma_mwe_per_yr']:.3f} m w.e./yr")
    assert abs(row["mean_dh_m"] - truth["mean_dh_m_20m_pixels"]) < max(3 * row["mean_dh_sigma_m"], 0.5)
    assert row["years"] == pytest.approx(truth["years"])
    assert row["area_m2"] == pytest.approx(truth["glacier_area_m2"], rel=0.02)
    assert row["dh_rate_m_per_yr"] == pytest.approx(row["mean_dh_m"] / truth["years"])
    assert row["volume_change_m3"] == pytest.approx(row["mean_dh_m"] * row["area_m2"])
    assert row["mass_balance_mwe_per_yr"] == pytest.approx(row["mean_dh_m"] * 0.85 / truth["years"])


def test_validation_ela_against_the_scene_snowline(glacier):
    """Validation: the ELA of 2023 is the scene's snowline on the date it was seen (the demo's truth)."""
    from terra_lab.demo._scene import Scene

    ela = glacier.ela.set_index("year")
    assert list(ela.index) == [2022, 2023]          # ela_years=2 summers up to the chosen one
    seen = ela.loc[2023]
    assert seen["n_dates"] >= 2 and pd.Timestamp(seen["date"]).month in (8, 9)
    truth = Scene().snowline(pd.Timestamp(seen["date"]).date())
    print(f"ELA 2023: {seen['ela_m']:.0f} m on {pd.Timestamp(seen['date']).date()}, scene snowline {truth:.0f} m")
    assert abs(seen["ela_m"] - truth) < 60          # 50 m bands; the scene's snow varies +-120 m around its line
    assert glacier.glaciers.iloc[0]["ela_m"] == seen["ela_m"]
    assert Scene().snowline(dt.date(2023, 8, 27)) > 2800


def test_search_and_read_read_no_pixel(demo_root, no_compute):
    """The search and read steps only open the DEMs and the reflectance lazily: a run cancelled at the
    compute step computed nothing (no_compute raises on any compute or raster opening)."""
    steps = []

    def stop_at_compute(step):
        steps.append(step)
        if step == "compute":
            raise Cancelled("stop")

    with no_compute(), pytest.raises(Cancelled):
        glacier_workflow("demo", AOI, 2023, progress=stop_at_compute)
    assert steps == ["search", "read", "compute"]


def test_clear_errors(demo_root):
    with pytest.raises(NoItemsFoundError, match="two DEMs of different dates"):
        glacier_workflow("demo", AOI, 2023, dem_collection=REFERENCE_DEM)
    with pytest.raises(NoItemsFoundError, match=r"no DEM later than the reference .* 2010"):
        glacier_workflow("demo", AOI, 2010)
    with pytest.raises(NoItemsFoundError, match=r"glacier-outline collection .* move the area onto a glacier"):
        glacier_workflow("demo", (6.275, 45.182, 6.29, 45.19), 2023)   # the valley, south-west of the glacier
    with pytest.raises(NoItemsFoundError, match="no snow map for the equilibrium-line altitude of 2023"):
        glacier_workflow("demo", AOI, 2023, collection="THEIA_REFLECTANCE_VENUS_VM5_L2A")
    with pytest.raises(UnknownCollectionError, match=r"outline_collection|glacier outlines"):
        glacier_workflow("demo", AOI, 2023, outline_collection="no-such-outlines")


def test_outline_names():
    import geopandas as gpd
    import shapely.geometry

    box = shapely.geometry.box(0, 0, 1, 1)
    gdf = gpd.GeoDataFrame({"glac_name": ["Argentière", None, "Argentière"], "rgi_id": ["a", "b", "c"]},
                           geometry=[box] * 3, crs="EPSG:4326")
    assert list(_named(gdf)["name"]) == ["Argentière", "b", "Argentière (3)"]
    assert list(_named(gdf[["geometry"]])["name"]) == ["glacier 1", "glacier 2", "glacier 3"]
