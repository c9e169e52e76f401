"""Slope, aspect and hillshade against GDAL's own ``gdaldem`` (the reference implementation).

Every case writes a DEM GeoTIFF, runs the real ``gdaldem`` on it and compares: hillshades must
be the same bytes, slope and aspect the same float32 values (tolerance 1e-4 degree), with the
same no-data pixels.  DEMs: the demo's Int16 DEM (GDAL's integer path), a Float32 DEM with
holes (nodata -9999 and NaN), flat plateaus and rectangular pixels, and an Int16 DEM with holes.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import dask
import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr
from rasterio.transform import Affine

import terra_lab
from terra_lab.products._common import rechunk
from terra_lab.products.terrain import aspect, hillshade, slope

GDALDEM = shutil.which("gdaldem")
if GDALDEM is None:
    if os.environ.get("TERRA_LAB_REQUIRE_SYSTEM") == "1":
        pytest.fail("gdaldem is missing: run bash scripts/setup-system.sh", pytrace=False)
    pytestmark = pytest.mark.skip(reason="gdaldem not installed: bash scripts/setup-system.sh")


# (gdaldem arguments, our function, our keywords)
CASES = [
    (["hillshade"], hillshade, {}),
    (["hillshade", "-compute_edges"], hillshade, {"compute_edges": True}),
    (["hillshade", "-multidirectional"], hillshade, {"mode": "multidirectional"}),
    (["hillshade", "-multidirectional", "-compute_edges", "-alt", "60"], hillshade,
     {"mode": "multidirectional", "compute_edges": True, "altitude": 60}),
    (["hillshade", "-combined"], hillshade, {"mode": "combined"}),
    (["hillshade", "-igor", "-az", "120"], hillshade, {"mode": "igor", "azimuth": 120}),
    (["hillshade", "-alg", "ZevenbergenThorne", "-z", "3", "-az", "200", "-alt", "30"], hillshade,
     {"method": "zevenbergen_thorne", "z_factor": 3, "azimuth": 200, "altitude": 30}),
    (["hillshade", "-alg", "ZevenbergenThorne", "-multidirectional", "-compute_edges"], hillshade,
     {"method": "zevenbergen_thorne", "mode": "multidirectional", "compute_edges": True}),
    (["hillshade", "-z", "2.5", "-s", "1.7", "-compute_edges"], hillshade,
     {"z_factor": 2.5, "scale": 1.7, "compute_edges": True}),
    (["slope"], slope, {}),
    (["slope", "-p", "-compute_edges"], slope, {"units": "percent", "compute_edges": True}),
    (["slope", "-alg", "ZevenbergenThorne", "-s", "2"], slope, {"method": "zevenbergen_thorne", "scale": 2}),
    (["aspect"], aspect, {}),
    (["aspect", "-zero_for_flat", "-compute_edges"], aspect, {"zero_for_flat": True, "compute_edges": True}),
    (["aspect", "-alg", "ZevenbergenThorne"], aspect, {"method": "zevenbergen_thorne"}),
]


def _write(path, z, *, dtype, nodata, transform):
    profile = dict(driver="GTiff", width=z.shape[1], height=z.shape[0], count=1, dtype=dtype, crs="EPSG:32631",
                   transform=transform, nodata=nodata)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(z.astype(dtype), 1)
    return path


def _synthetic(ny=157, nx=203, seed=0):
    """Hills with noise, two flat plateaus (exact flat areas), and holes."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    z = 800 + 300 * np.sin(xx / 17.0) * np.cos(yy / 23.0) + 0.8 * xx + rng.normal(0, 2.0, (ny, nx))
    z[20:45, 30:70] = 950.0  # plateau: flat aspect
    z[100:130, 150:190] = 700.0
    holes = np.zeros((ny, nx), bool)
    holes[60:64, 80:90] = True
    holes[0:3, 10:14] = True  # touching the top edge
    holes[90, :] = True  # a whole line
    holes[rng.random((ny, nx)) < 0.003] = True  # scattered single pixels
    return z, holes


@pytest.fixture(scope="module")
def dems(tmp_path_factory, demo_root):
    d = tmp_path_factory.mktemp("dems")
    z, holes = _synthetic()
    t_sq = Affine(10.0, 0, 700000.0, 0, -10.0, 5000000.0)
    t_rect = Affine(10.0, 0, 700000.0, 0, -15.0, 5000000.0)
    zf = np.where(holes, -9999.0, z + 0.37).astype(np.float32)  # non-integer elevations
    zn = np.where(holes, np.nan, z * 1.003).astype(np.float32)
    zi = np.where(holes, -32768, np.round(z)).astype(np.int16)
    return {
        "demo_int16": demo_root / "DEM" / "T31TGK_DEM_R1.tif",
        "float_nodata": _write(d / "float.tif", zf, dtype="float32", nodata=-9999.0, transform=t_sq),
        "float_nan_rect": _write(d / "nan_rect.tif", zn, dtype="float32", nodata=np.nan, transform=t_rect),
        "int16_holes": _write(d / "int16.tif", zi, dtype="int16", nodata=-32768, transform=t_sq),
    }


def _gdaldem(src, args, dst):
    subprocess.run([GDALDEM, args[0], str(src), str(dst), *args[1:], "-q"], check=True, capture_output=True)
    with rasterio.open(dst) as ds:
        return ds.read(1), ds.nodata


def _open(path):
    return rioxarray.open_rasterio(path).isel(band=0, drop=True)


@pytest.mark.parametrize("name", ["demo_int16", "float_nodata", "float_nan_rect", "int16_holes"])
def test_matches_gdaldem(dems, name, tmp_path):
    dem = _open(dems[name])
    before = dem.copy(deep=True)
    report = []
    for args, func, kw in CASES:
        ref, nd = _gdaldem(dems[name], args, tmp_path / "out.tif")
        ours = func(dem, **kw)
        assert ours.shape == ref.shape and ours.dims == ("y", "x")
        got = ours.values
        if func is hillshade:
            assert got.dtype == np.uint8 and nd == 0
            bad = int((got != ref).sum())
            report.append(f"{' '.join(args)}: {bad} byte(s) differ")
            assert bad == 0, f"gdaldem {' '.join(args)} on {name}: {bad} bytes differ"
        else:
            r = ref.astype(np.float64)
            if nd is not None:
                r[ref == nd] = np.nan
            else:  # -zero_for_flat: GDAL writes 0 on no data and borders too
                r[np.isnan(got) & (ref == 0)] = np.nan
            o = got.astype(np.float64)
            assert np.array_equal(np.isnan(r), np.isnan(o)), f"no-data pixels differ for gdaldem {' '.join(args)}"
            diff = float(np.nanmax(np.abs(r - o))) if np.isfinite(o).any() else 0.0
            report.append(f"{' '.join(args)}: max |diff| {diff:.2g}")
            assert diff <= 1e-4
    print(f"\n{name}: " + "; ".join(report))
    xr.testing.assert_identical(dem, before)  # the input is not modified


def test_flat_and_holes_semantics(dems):
    dem = _open(dems["float_nodata"])
    a = aspect(dem).values
    assert np.isnan(a[25:40, 35:65]).all()  # plateau interior: flat -> no data
    assert (aspect(dem, zero_for_flat=True).values[25:40, 35:65] == 0).all()
    s = slope(dem).values
    assert (s[25:40, 35:65] == 0).all()
    assert np.isnan(s[0]).all() and np.isnan(s[:, -1]).all()  # borders without compute_edges
    assert np.isnan(s[59:65, 79:91]).all()  # holes and their neighbours
    se = slope(dem, compute_edges=True).values
    assert np.isfinite(se[1:-1, 0]).mean() > 0.9  # borders computed (bar holes and the no-data line)
    assert np.isnan(se[60:64, 80:90]).all() and np.isfinite(se[59, 85])  # neighbours of holes use the centre
    hs = hillshade(dem).values
    assert hs[0].max() == 0 and hs[62, 85] == 0 and hs[70, 70] > 0


def test_chunking_does_not_change_results(dems):
    for name in ("int16_holes", "float_nan_rect"):
        dem = _open(dems[name])
        small = rechunk(dem, y=37, x=53)
        one = rechunk(dem, y=-1, x=-1)
        for func, kw in [(hillshade, {}), (hillshade, {"compute_edges": True}), (hillshade, {"mode": "igor"}),
                         (hillshade, {"mode": "multidirectional", "compute_edges": True}),
                         (slope, {"compute_edges": True}), (aspect, {"method": "zevenbergen_thorne"})]:
            a = func(small, **kw)
            assert a.chunks is not None and a.data.chunks[0][0] == 37 and a.data.chunks[1][0] == 53
            a, b, c = a.values, func(one, **kw).values, func(dem, **kw).values
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(a, c)  # numpy and Dask backends agree


def test_lazy_and_metadata(demo_catalog, no_compute):
    items = demo_catalog.search(collections="cop-dem-eea-10-laea-tif")
    cube = terra_lab.load(items, bands=["elevation"], resolution=20, masks=False, chunks={"x": 64, "y": 64})
    with no_compute():
        hs = hillshade(cube, mode="multidirectional")
        sl = slope(cube["elevation"], compute_edges=True)
        asp = aspect(cube["elevation"])
    elev = cube["elevation"].isel(time=0, drop=True)
    for out in (hs, sl, asp):
        assert out.dims == ("y", "x")
        np.testing.assert_array_equal(out["x"].values, elev["x"].values)
        np.testing.assert_array_equal(out["y"].values, elev["y"].values)
        assert out.rio.crs == elev.rio.crs and out.rio.transform() == elev.rio.transform()
        assert "terra_lab:algorithm" in out.attrs
    assert hs.attrs["terra_lab:source_items"] == ["DEM_T31TGK"]  # from the Dataset's attrs
    with dask.config.set(scheduler="synchronous"):
        v = hs.values
    assert v.dtype == np.uint8 and v[1:-1, 1:-1].min() >= 1 and v[0].max() == 0


def test_errors_name_the_fix():
    z = xr.DataArray(np.zeros((2, 4, 4), np.float32), dims=("time", "y", "x"),
                     coords={"y": [30.0, 20, 10, 0], "x": [0.0, 10, 20, 30]})
    with pytest.raises(ValueError, match=r"dem.isel\(time=0\)"):
        slope(z)
    with pytest.raises(ValueError, match="zevenbergen_thorne"):
        slope(z.isel(time=0), method="sobel")
    with pytest.raises(ValueError, match="multidirectional"):
        hillshade(z.isel(time=0), mode="sideways")
    with pytest.raises(KeyError, match="elevation"):
        hillshade(xr.Dataset({"dem": z}))
