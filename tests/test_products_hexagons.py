"""Hexagon aggregation: exact hex arithmetic against shapely point-in-polygon, conservation, areas."""

import math

import geopandas as gpd
import numpy as np
import pytest
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr

from terra_lab.errors import AOIError
from terra_lab.products.hexagons import (
    aggregate_hexagons,
    hexagon_area,
    hexagon_grid,
    hexagon_index,
    hexagon_polygons,
)


def _raster(ny=120, nx=150, res=20.0, x0=757200.0, y0=5012400.0, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    data = rng.random((ny, nx)).astype(dtype)
    da = xr.DataArray(data, dims=("y", "x"), name="v",
                      coords={"y": y0 - res * (np.arange(ny) + 0.5), "x": x0 + res * (np.arange(nx) + 0.5)})
    return da.rio.write_crs(32631)


def _pixel_points(da):
    xx, yy = np.meshgrid(da["x"].values, da["y"].values)
    return gpd.GeoDataFrame({"v": da.values.ravel().astype(float)},
                            geometry=gpd.points_from_xy(xx.ravel(), yy.ravel()), crs=da.rio.crs)


@pytest.mark.parametrize("orientation", ["pointy", "flat"])
def test_counts_and_sums_match_point_in_polygon(orientation):
    da = _raster()
    da[5, 7] = np.nan
    size = 130.0
    hexes = aggregate_hexagons(da, size, orientation=orientation, stats=["count", "sum", "mean", "min", "max"])
    # independent: shapely point-in-polygon of every pixel centre in the hexagons returned
    pts = _pixel_points(da)
    joined = gpd.sjoin(pts, hexes[["q", "r", "geometry"]], predicate="within", how="left")
    assert joined.index.is_unique and joined["q"].notna().all()  # every centre in exactly one hexagon
    ref = joined.groupby(["q", "r"])["v"].agg(["count", "sum", "size", "min", "max"])
    got = hexes.set_index(["q", "r"]).loc[ref.index]
    np.testing.assert_array_equal(got["n_pixels"], ref["size"])
    np.testing.assert_array_equal(got["count"], ref["count"])
    np.testing.assert_allclose(got["sum"], ref["sum"], rtol=1e-9)
    np.testing.assert_allclose(got["min"], ref["min"])
    np.testing.assert_allclose(got["max"], ref["max"])
    assert len(hexes) == len(ref)
    # the total is conserved, NaN left out
    assert hexes["sum"].sum() == pytest.approx(float(da.astype(np.float64).sum()), rel=1e-12)
    assert hexes["count"].sum() == da.size - 1 and hexes["n_pixels"].sum() == da.size
    # hexagon areas
    np.testing.assert_allclose(hexes.area, 3 * math.sqrt(3) / 2 * size**2, rtol=1e-9)
    assert hexes["hex_area_ha"].iloc[0] == pytest.approx(hexagon_area(size) / 1e4)


def test_rasterio_rasterize_of_hexagons_agrees():
    from rasterio import features

    da = _raster(seed=3)
    hexes = aggregate_hexagons(da, 210.0, orientation="flat", origin=(757000.0, 5010000.0))
    ids = features.rasterize(zip(hexes.geometry, np.arange(len(hexes)) + 1), out_shape=da.shape,
                             transform=da.rio.transform(), all_touched=False)
    counts = np.bincount(ids.ravel(), minlength=len(hexes) + 1)[1:]
    sums = np.bincount(ids.ravel(), weights=da.values.ravel().astype(float), minlength=len(hexes) + 1)[1:]
    np.testing.assert_array_equal(counts, hexes["n_pixels"])
    np.testing.assert_allclose(sums, hexes["sum"], rtol=1e-9)


def test_boolean_product_fraction_and_area():
    da = _raster(seed=5) > 0.7  # e.g. a forest-loss mask
    hexes = aggregate_hexagons(da, 100.0)
    assert {"fraction", "true_area_ha", "area_ha"} <= set(hexes.columns)
    assert hexes["sum"].sum() == int(da.sum())
    np.testing.assert_allclose(hexes["fraction"], hexes["sum"] / hexes["count"])
    np.testing.assert_allclose(hexes["true_area_ha"], hexes["sum"] * 400 / 1e4)
    assert hexes["true_area_ha"].sum() == pytest.approx(int(da.sum()) * 0.04)
    assert hexes["area_ha"].sum() == pytest.approx(da.size * 0.04)
    assert (hexes["coverage"] <= 1).all() and hexes["coverage"].max() > 0.9


def test_dask_blocks_give_the_numpy_result():
    da = _raster(ny=97, nx=131, seed=9)
    a = aggregate_hexagons(da, 150.0, stats=["count", "sum", "mean", "std", "min", "max"])
    b = aggregate_hexagons(da.chunk({"y": 25, "x": 40}), 150.0, stats=["count", "sum", "mean", "std", "min", "max"])
    cols = ["q", "r", "n_pixels", "count", "sum", "mean", "std", "min", "max"]
    np.testing.assert_allclose(a[cols].to_numpy(float), b[cols].to_numpy(float), rtol=1e-9)
    # std against numpy on one hexagon
    idx = hexagon_index(da, 150.0).compute()
    q, r = int(a["q"].iloc[3]), int(a["r"].iloc[3])
    sel = da.values[(idx["q"].values == q) & (idx["r"].values == r)]
    assert a["std"].iloc[3] == pytest.approx(sel.std(), rel=1e-5)


def test_hexagon_index_is_lazy_and_grid_covers(no_compute):
    da = _raster().chunk(50)
    with no_compute():
        idx = hexagon_index(da, 200.0)
    assert idx["q"].chunks == da.chunks
    grid = hexagon_grid(da.rio.bounds(), 200.0)
    assert grid.union_all().covers(gpd.GeoSeries.from_xy([757210.0], [5012390.0]).iloc[0])
    np.testing.assert_allclose(grid.area, hexagon_area(200.0), rtol=1e-9)
    # neighbouring hexagons tile the plane: the six around (0, 0) touch it and do not overlap
    polys = hexagon_polygons([0, 1, 0, -1, -1, 0, 1], [0, 0, 1, 1, 0, -1, -1], 10.0)
    assert all(polys[0].distance(p) < 1e-9 and polys[0].intersection(p).area < 1e-6 for p in polys[1:])
    assert abs(gpd.GeoSeries(polys).union_all().area - 7 * hexagon_area(10.0)) < 1e-6


def test_bad_inputs():
    da = _raster()
    with pytest.raises(AOIError, match="no CRS"):
        aggregate_hexagons(da.drop_vars("spatial_ref"), 100.0)
    with pytest.raises(ValueError, match="2-D"):
        aggregate_hexagons(da.expand_dims(time=2), 100.0)
    with pytest.raises(AOIError, match="reproject"):
        aggregate_hexagons(da.rio.write_crs(4326), 100.0)
    with pytest.raises(ValueError, match="boolean"):
        aggregate_hexagons(da, 100.0, stats=["fraction"])
    with pytest.raises(ValueError, match="orientation"):
        aggregate_hexagons(da, 100.0, orientation="round")
