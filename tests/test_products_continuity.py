"""Cost-distance and dispersal areas (BioDispersal): scikit-image's MCP_Geometric on random cases,
a 3 x 3 example worked by hand, thresholds, impassable cells and the demo land cover."""

import numpy as np
import pytest
import rioxarray
import xarray as xr
from skimage.graph import MCP_Geometric

from terra_lab.errors import GridMismatchError, NoSourceError
from terra_lab.kernels._continuity import cost_distance as cost_kernel
from terra_lab.products.continuity import continuity, cost_distance, friction_from_classes, habitat_sources


def _grid(values, res=(10.0, 10.0), crs=32631):
    ny, nx = values.shape
    da = xr.DataArray(values, dims=("y", "x"), coords={"y": 5_000_000 - (np.arange(ny) + 0.5) * res[1],
                                                       "x": 700_000 + (np.arange(nx) + 0.5) * res[0]})
    return da.rio.write_crs(crs)


def _mcp(friction, sources, sampling=(1.0, 1.0)):
    """scikit-image reference: infinite cost = impassable; its unreachable cells are inf too."""
    cum, _ = MCP_Geometric(np.where(np.isnan(friction), np.inf, friction), sampling=sampling).find_costs(
        list(zip(*np.nonzero(sources))))
    return np.where(np.isnan(friction), np.nan, cum)


@pytest.mark.parametrize("seed", range(12))
def test_matches_mcp_geometric_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    ny, nx = rng.integers(1, 40, 2)
    friction = rng.uniform(0.1, 20, (ny, nx))
    friction[rng.random((ny, nx)) < 0.2] = np.nan
    sources = (rng.random((ny, nx)) < 0.04) & ~np.isnan(friction)
    sources.flat[rng.integers(0, ny * nx)] = True
    sources &= ~np.isnan(friction)
    if not sources.any():
        pytest.skip("no passable source drawn")
    res = (float(rng.choice([10.0, 20.0])), float(rng.choice([10.0, 30.0])))  # (x, y) pixel size, maybe oblong
    f, s = _grid(friction, res), _grid(sources, res)
    ours = cost_distance(f, s, units="metres").values
    np.testing.assert_allclose(ours, _mcp(friction, sources, sampling=(res[1], res[0])), rtol=1e-12)
    cells = cost_distance(f, s).values  # r.cost: steps in pixels, north-south step = ns_res / ew_res
    np.testing.assert_allclose(cells, _mcp(friction, sources, sampling=(res[1] / res[0], 1.0)), rtol=1e-12)


def test_three_by_three_worked_by_hand():
    """Frictions 1..9 row by row, source top-left; a move costs (f_a + f_b)/2 x (1 or sqrt 2):
    (0,1) = (1+2)/2 = 1.5;  (0,2) = 1.5 + (2+3)/2 = 4;  (1,0) = (1+4)/2 = 2.5;
    (1,1) = (1+5)/2 sqrt2 = 3 sqrt2;  (1,2) = 1.5 + (2+6)/2 sqrt2 = 1.5 + 4 sqrt2 (beats 4 + 4.5);
    (2,0) = 2.5 + (4+7)/2 = 8;  (2,1) = 3 sqrt2 + (5+8)/2 = 6.5 + 3 sqrt2;
    (2,2) = 3 sqrt2 + (5+9)/2 sqrt2 = 10 sqrt2."""
    r2 = np.sqrt(2)
    expected = np.array([[0, 1.5, 4], [2.5, 3 * r2, 1.5 + 4 * r2], [8, 6.5 + 3 * r2, 10 * r2]])
    f = _grid(np.arange(1.0, 10.0).reshape(3, 3))
    s = _grid(np.arange(9).reshape(3, 3) == 0)
    np.testing.assert_allclose(cost_distance(f, s).values, expected, rtol=1e-14)
    np.testing.assert_allclose(cost_distance(f, s, units="metres").values, 10 * expected, rtol=1e-14)
    # the threshold: cells within 8 are kept with their cost (BioDispersal's output), others NaN
    out = continuity(f, s, max_cost=8.0)
    assert out.dispersal_area.values.tolist() == [[True, True, True], [True, True, True], [True, False, False]]
    np.testing.assert_allclose(out.cost.values, np.where(expected <= 8, expected, np.nan), rtol=1e-6)
    assert out.cost.dtype == np.float32


def test_max_cost_stops_early_and_matches_the_full_map():
    rng = np.random.default_rng(4)
    friction = rng.uniform(1, 10, (60, 70))
    sources = np.zeros((60, 70), bool)
    sources[30, 35] = True
    full = cost_kernel(friction, sources.view(np.uint8), 1.0, 1.0, np.inf)
    cut = cost_kernel(friction, sources.view(np.uint8), 1.0, 1.0, 50.0)
    inside = full <= 50
    assert inside.sum() > 100 and (~inside).sum() > 100
    np.testing.assert_array_equal(cut[inside], full[inside])
    assert np.isinf(cut[~inside]).all()


def test_nan_friction_is_impassable():
    friction = np.ones((5, 5))
    friction[:, 2] = np.nan  # a wall
    sources = np.zeros((5, 5), bool)
    sources[2, 0] = True
    out = cost_distance(_grid(friction), _grid(sources)).values
    assert np.isnan(out[:, 2]).all() and np.isinf(out[:, 3:]).all() and np.isfinite(out[:, :2]).all()
    friction[4, 2] = 1.0  # a gap at the bottom: reachable through it
    out = cost_distance(_grid(friction), _grid(sources)).values
    assert np.isfinite(out[:, 3:]).all()
    np.testing.assert_allclose(out, _mcp(friction, sources))


def test_friction_from_classes_and_sources_on_demo(demo_root):
    lc = rioxarray.open_rasterio(demo_root / "truth" / "landcover_R1.tif").squeeze("band", drop=True)
    before = lc.copy(deep=True)
    table = {1: 1000, 2: 30, 3: 30, 4: 5, 5: 1, 6: 1, 7: 10}  # water (8) left out: impassable
    fr = friction_from_classes(lc, table)
    assert fr.dtype == np.float32 and fr.rio.crs == lc.rio.crs and fr.rio.transform() == lc.rio.transform()
    assert bool(fr.where(lc == 8).isnull().all()) and float(fr.where(lc == 4).max()) == 5
    src = habitat_sources(lc, classes=5, min_area=5e4)  # broadleaf patches of at least 5 ha
    all_broadleaf = habitat_sources(lc, classes=5)
    assert 0 < int(src.sum()) < int(all_broadleaf.sum())
    out = continuity(fr, src, max_cost=300)
    ref = _mcp(fr.values.astype(np.float64), src.values)
    np.testing.assert_allclose(cost_distance(fr, src).values, ref, rtol=1e-12)
    np.testing.assert_array_equal(out.dispersal_area.values, ref <= 300)
    assert out.rio.crs == lc.rio.crs and "BioDispersal" in out.attrs["terra_lab:algorithm"]
    xr.testing.assert_identical(lc, before)


def test_min_area_keeps_large_patches_only():
    hab = np.zeros((6, 6), bool)
    hab[0, :3] = True  # 3 px
    hab[4:, 4:] = True  # 4 px
    hab[5, 0] = True  # 1 px
    src = habitat_sources(_grid(hab, res=(1.0, 1.0)), min_area=4.0)
    assert src.values.sum() == 4 and src.values[4:, 4:].all()


def test_errors_name_inputs_and_fixes():
    f = _grid(np.ones((4, 4)))
    with pytest.raises(NoSourceError, match="sources has no cell"):
        cost_distance(f, _grid(np.zeros((4, 4), bool)))
    nan_src = np.zeros((4, 4), bool)
    nan_src[0, 0] = True
    with pytest.raises(NoSourceError):
        cost_distance(_grid(np.where(nan_src, np.nan, 1.0)), _grid(nan_src))
    with pytest.raises(GridMismatchError, match=r"sources is not on the grid of friction .*reproject_match"):
        cost_distance(f, _grid(np.ones((3, 4), bool)))
    with pytest.raises(GridMismatchError, match=r"sources is not on the grid of friction .*different"):
        cost_distance(f, _grid(np.ones((4, 4), bool), res=(20.0, 20.0)))
    with pytest.raises(ValueError, match="values > 0"):
        cost_distance(_grid(np.zeros((4, 4))), _grid(np.ones((4, 4), bool)))
    with pytest.raises(ValueError, match="max_cost"):
        continuity(f, _grid(np.ones((4, 4), bool)), max_cost=np.inf)
    with pytest.raises(ValueError, match="units="):
        cost_distance(f, _grid(np.ones((4, 4), bool)), units="km")


def test_lazy_chain_builds_without_computing_and_equals_the_numpy_result(no_compute):
    rng = np.random.default_rng(3)
    lc = _grid(rng.integers(1, 5, (60, 70)).astype(np.uint8))
    mapping = {1: 1.0, 2: 5.0, 3: 20.0}  # class 4 impassable
    eager = continuity(friction_from_classes(lc, mapping), habitat_sources(lc, classes=1, min_area=500.0), max_cost=40)
    lazy_lc = lc.chunk({"y": 25, "x": 30})
    with no_compute():  # friction per block, sources and costs as whole-raster tasks: nothing runs yet
        lazy = continuity(friction_from_classes(lazy_lc, mapping), habitat_sources(lazy_lc, classes=1, min_area=500.0),
                          max_cost=40)
        assert lazy["cost"].chunks is not None
    np.testing.assert_array_equal(lazy["cost"].values, eager["cost"].values)
    np.testing.assert_array_equal(lazy["dispersal_area"].values, eager["dispersal_area"].values)
    assert 0 < eager["dispersal_area"].values.mean() < 1
    # input errors of the lazy path surface at compute time, with the same message
    with pytest.raises(NoSourceError, match="sources has no cell"):
        cost_distance(friction_from_classes(lazy_lc, mapping), (lazy_lc == 9)).compute()
