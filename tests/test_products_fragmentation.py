"""Effective mesh size (FragScape): pylandstats on random rasters and the demo land cover, CUT per
unit against pylandstats on each clipped unit, CBC on a hand-worked case and Moser's additivity."""

import numpy as np
import pytest
import rioxarray
import xarray as xr
from pylandstats import Landscape
from scipy import ndimage

from terra_lab.errors import GridMismatchError, RasterInputError
from terra_lab.kernels._fragmentation import label_patches
from terra_lab.products.fragmentation import effective_mesh_size


def _grid(values, res=10.0, crs=32631, nodata=None):
    ny, nx = values.shape
    da = xr.DataArray(values, dims=("y", "x"),
                      coords={"y": 5_000_000 - (np.arange(ny) + 0.5) * res, "x": 700_000 + (np.arange(nx) + 0.5) * res})
    da = da.rio.write_crs(crs)
    return da if nodata is None else da.rio.write_nodata(nodata)


def _patchy(rng, shape, n_classes=4, sigma=2.0):
    """Random land cover with patches: smoothed noise cut into classes 1..n, some nodata (0)."""
    noise = ndimage.gaussian_filter(rng.normal(size=shape), sigma)
    cls = np.digitize(noise, np.quantile(noise, np.linspace(0, 1, n_classes + 1)[1:-1])) + 1
    cls[rng.random(shape) < 0.03] = 0
    return cls.astype(np.uint8)


def _pls(values, cls, conn, res=10.0):
    ls = Landscape(values, res=(res, res), nodata=0, neighborhood_rule=str(conn))
    if cls not in ls.classes:
        return 0.0, 0
    return ls.effective_mesh_size(class_val=cls), ls.number_of_patches(class_val=cls)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("conn", [4, 8])
def test_matches_pylandstats_on_random_rasters(seed, conn):
    rng = np.random.default_rng(seed)
    values = _patchy(rng, tuple(rng.integers(20, 120, 2)), sigma=float(rng.uniform(0.5, 3)))
    da = _grid(values, nodata=0)  # pylandstats leaves nodata (0) out of the landscape area
    for cls in (1, 2, 3, 4):
        ours = effective_mesh_size(da, classes=cls, connectivity=conn)  # hectares, as pylandstats
        ref, n = _pls(values, cls, conn)
        assert float(ours.effective_mesh_size) == pytest.approx(ref, rel=1e-12)
        assert int(ours.n_patches) == n
        # CBC without reporting units is the plain effective mesh size
        cbc = effective_mesh_size(da, classes=cls, connectivity=conn, method="cbc")
        assert float(cbc.effective_mesh_size) == pytest.approx(ref, rel=1e-12)


def test_labels_match_scipy():
    rng = np.random.default_rng(5)
    hab = rng.random((80, 97)) < 0.55
    for conn, struct in ((4, ndimage.generate_binary_structure(2, 1)), (8, np.ones((3, 3), bool))):
        ours, sizes, first, _final = label_patches(hab.view(np.uint8), np.zeros((1, 1), np.int32), False, conn == 8)
        lazy, sizes2, first2, final2 = label_patches(hab.view(np.uint8), np.zeros((1, 1), np.int32), False, conn == 8, False)
        assert np.array_equal(final2[lazy], ours) and np.array_equal(sizes, sizes2) and np.array_equal(first, first2)
        assert np.array_equal(sizes[1:], np.bincount(ours.ravel())[1:])
        assert np.array_equal(ours.ravel()[first[1:]], np.arange(1, len(sizes)))
        ref, n = ndimage.label(hab, struct)
        assert len(sizes) - 1 == n
        assert np.array_equal(ours, ref)  # both number patches in raster order of their first pixel


def test_demo_landcover_matches_pylandstats(demo_root):
    lc = rioxarray.open_rasterio(demo_root / "truth" / "landcover_R1.tif").squeeze("band", drop=True)
    values = lc.values
    for cls in range(1, 9):
        for conn in (4, 8):
            ours = effective_mesh_size(lc, classes=cls, connectivity=conn)
            ref, n = _pls(values, cls, conn)
            assert float(ours.effective_mesh_size) == pytest.approx(ref, rel=1e-12), (cls, conn)
            assert int(ours.n_patches) == n
    # forests (broadleaf + conifer) together, units m2 / km2 are consistent
    ha = float(effective_mesh_size(lc, classes=[5, 6]).effective_mesh_size)
    m2 = float(effective_mesh_size(lc, classes=[5, 6], units="m2").effective_mesh_size)
    assert m2 == pytest.approx(ha * 1e4)
    merged = np.where(np.isin(values, [5, 6]), 5, values)
    assert ha == pytest.approx(_pls(merged, 5, 4)[0])


@pytest.mark.parametrize("conn", [4, 8])
def test_cut_per_grid_cell_matches_pylandstats_on_clipped_units(conn):
    rng = np.random.default_rng(11)
    values = _patchy(rng, (95, 130), sigma=2.5)  # 10 m pixels, 200 m cells: partial cells at the edges
    out = effective_mesh_size(_grid(values, nodata=0), classes=2, grid_size=200, connectivity=conn)
    assert out.effective_mesh_size.dims == ("y", "x") and out.sizes == {"y": 5, "x": 7}
    for gy in range(5):
        for gx in range(7):
            block = values[gy * 20:(gy + 1) * 20, gx * 20:(gx + 1) * 20]
            ref, n = _pls(block, 2, conn)
            assert float(out.effective_mesh_size[gy, gx]) == pytest.approx(ref, rel=1e-12)
            assert int(out.n_patches[gy, gx]) == n
            assert float(out.area[gy, gx]) == pytest.approx(np.count_nonzero(block) * 100 / 1e4)
    # the coarse grid keeps the CRS and sits on the fine grid's corner
    assert out.rio.crs == 32631
    assert float(out.x[0]) == pytest.approx(700_000 + 100) and float(out.y[0]) == pytest.approx(5_000_000 - 100)


def test_cut_per_zone_matches_pylandstats():
    rng = np.random.default_rng(3)
    values = _patchy(rng, (60, 60), sigma=2)
    yy, xx = np.mgrid[:60, :60]
    zones = np.where((yy - 30) ** 2 + (xx - 25) ** 2 < 400, 7, 3).astype(np.int16)  # a disc inside a frame
    zones[:, 55:] = -1
    z = _grid(zones).rio.write_nodata(-1)
    out = effective_mesh_size(_grid(values, nodata=0), classes=1, zones=z, connectivity=8)
    assert list(out.zone.values) == [3, 7]
    for zid in (3, 7):
        clipped = np.where(zones == zid, values, 0)  # pylandstats on the unit's clipped raster
        ref, n = _pls(clipped, 1, 8)
        assert float(out.effective_mesh_size.sel(zone=zid)) == pytest.approx(ref, rel=1e-12)
        assert int(out.n_patches.sel(zone=zid)) == n


def test_cbc_hand_worked_example():
    """Two 2 x 4 units (1 m pixels, A_t = 8 m2 each).  Habitat: a 2 x 4 patch across the boundary
    (4 px in each unit) and a 1-px patch in the right unit.
    CUT : left 4**2/8 = 2;        right (4**2 + 1**2)/8 = 2.125
    CBC : left 4*8/8 = 4;         right (4*8 + 1*1)/8 = 4.125
    whole raster: (8**2 + 1)/16 = 4.0625 (both methods)."""
    hab = np.zeros((4, 4), bool)
    hab[:2, :] = True
    hab[3, 3] = True
    zones = np.array([[1, 1, 2, 2]] * 4, np.int32)
    h, z = _grid(hab, res=1.0), _grid(zones, res=1.0)
    cut = effective_mesh_size(h, zones=z, units="m2")
    cbc = effective_mesh_size(h, zones=z, units="m2", method="cbc")
    assert cut.effective_mesh_size.values.tolist() == [2.0, 2.125]
    assert cbc.effective_mesh_size.values.tolist() == [4.0, 4.125]
    assert cut.n_patches.values.tolist() == [1, 2] and cbc.n_patches.values.tolist() == [1, 2]
    assert cut.habitat_area.values.tolist() == [4.0, 5.0]
    assert float(effective_mesh_size(h, units="m2").effective_mesh_size) == 4.0625
    # Jaeger's companions: C = m/A_t, D = 1 - C, S = A_t/m
    assert cut.coherence.values.tolist() == [0.25, 0.265625]
    assert cut.splitting_index.values[0] == 4.0 and cut.division.values[0] == 0.75


def test_cbc_is_additive_and_counts_patches_once():
    """Moser et al. (2007): the area-weighted mean of the CBC values over units that tile a region
    is the region's effective mesh size; CUT is never above CBC."""
    rng = np.random.default_rng(8)
    values = _patchy(rng, (120, 100), sigma=3)
    da = _grid(values, nodata=0)
    whole = effective_mesh_size(da, classes=3, units="m2")
    cbc = effective_mesh_size(da, classes=3, units="m2", grid_size=300, method="cbc")
    cut = effective_mesh_size(da, classes=3, units="m2", grid_size=300)
    weighted = float((cbc.effective_mesh_size * cbc.area).sum() / cbc.area.sum())
    assert weighted == pytest.approx(float(whole.effective_mesh_size), rel=1e-12)
    assert bool((cut.effective_mesh_size <= cbc.effective_mesh_size + 1e-9).all())
    assert bool((cbc.n_patches <= cut.n_patches).all())


def test_barriers_split_patches_but_count_in_area():
    hab = np.ones((10, 10), bool)
    road = np.zeros((10, 10), bool)
    road[:, 4] = True  # a north-south road: patches of 40 and 50 px
    out = effective_mesh_size(_grid(hab, res=1.0), barriers=_grid(road, res=1.0), units="m2")
    assert float(out.effective_mesh_size) == (40 ** 2 + 50 ** 2) / 100
    assert int(out.n_patches) == 2 and float(out.area) == 100
    diag = np.eye(10, dtype=bool)  # a diagonal road cuts 4-connected patches only
    four = effective_mesh_size(_grid(hab, res=1.0), barriers=_grid(diag, res=1.0), units="m2")
    eight = effective_mesh_size(_grid(hab, res=1.0), barriers=_grid(diag, res=1.0), units="m2", connectivity=8)
    assert int(four.n_patches) == 2 and int(eight.n_patches) == 1


def test_empty_units_input_unchanged_and_provenance():
    values = np.zeros((8, 8), np.uint8) + 2
    values[:, :4] = 1
    da = _grid(values)
    before = da.copy(deep=True)
    out = effective_mesh_size(da, classes=1, grid_size=40)
    assert np.allclose(out.effective_mesh_size.values, [[0.16, 0.0], [0.16, 0.0]])  # 1600 m2 = 0.16 ha
    assert np.isinf(out.splitting_index.values[0, 1]) and int(out.n_patches[0, 1]) == 0
    xr.testing.assert_identical(da, before)
    assert out.attrs["terra_lab:algorithm"].startswith("effective mesh size")
    assert "Moser" in out.attrs["references"]


def test_errors_name_input_and_fix():
    da = _grid(np.ones((6, 6), np.uint8))
    with pytest.raises(GridMismatchError, match=r"zones is not on the grid of landscape .*reproject_match"):
        effective_mesh_size(da, classes=1, zones=_grid(np.ones((5, 6), np.int32)))
    with pytest.raises(GridMismatchError, match=r"barriers .*different x coordinates"):
        effective_mesh_size(da, classes=1, barriers=_grid(np.ones((6, 6), bool)).assign_coords(x=np.arange(6.0)))
    with pytest.raises(RasterInputError, match=r"grid_size=25.*multiple"):
        effective_mesh_size(da, classes=1, grid_size=25)
    with pytest.raises(RasterInputError, match="classes="):
        effective_mesh_size(da)
    with pytest.raises(RasterInputError, match="geographic"):
        effective_mesh_size(da.rio.write_crs(4326), classes=1)
    with pytest.raises(ValueError, match="method="):
        effective_mesh_size(da, classes=1, method="cut")
    with pytest.raises(ValueError, match="connectivity="):
        effective_mesh_size(da, classes=1, connectivity=6)
