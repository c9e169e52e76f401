"""Relief change: Nuth & Kääb co-registration against the truth and against xdem, glacier change on
the demo's second-epoch DEM, error propagation against xdem's, coloured relief against gdaldem."""

import json
import shutil
import subprocess

import numpy as np
import pytest
import rioxarray
import xarray as xr
from rasterio.transform import from_origin

import terra_lab
from terra_lab.demo._relief import DEM_EPOCH_COLLECTION
from terra_lab.errors import GridMismatchError, RasterInputError
from terra_lab.kernels import _relief as k
from terra_lab.products import relief as R
from terra_lab.products.terrain import hillshade

SHIFT, BIAS, RES = (7.0, -4.0), 3.0, 20.0


def _terrain(x, y):
    return (1500 + 400 * np.sin(x / 2300.0) * np.cos(y / 3100.0) + 150 * np.sin((x + y) / 900.0)
            + 60 * np.cos(x / 410.0) * np.sin(y / 370.0))


def _write(path, z, crs="EPSG:32631", x0=700_000.0, y0=5_000_000.0):
    da = xr.DataArray(z.astype(np.float32), dims=("y", "x"),
                      coords={"y": y0 - (np.arange(z.shape[0]) + 0.5) * RES, "x": x0 + (np.arange(z.shape[1]) + 0.5) * RES})
    da = da.rio.write_crs(crs).rio.write_transform(from_origin(x0, y0, RES, RES)).rio.write_nodata(-9999.0)
    da.rio.to_raster(path, driver="COG")
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Two generated COG DEMs (not the demo): the second shifted by SHIFT, raised by BIAS, noisy."""
    d = tmp_path_factory.mktemp("dems")
    n = 300
    rng = np.random.default_rng(1)
    xs = 700_000.0 + (np.arange(n) + 0.5) * RES
    ys = 5_000_000.0 - (np.arange(n) + 0.5) * RES
    gx, gy = np.meshgrid(xs, ys)
    ref = _terrain(gx, gy) + rng.normal(0, 0.5, gx.shape)
    dem = _terrain(gx - SHIFT[0], gy - SHIFT[1]) + BIAS + rng.normal(0, 0.5, gx.shape)
    dem[40:60, 40:70] = -9999.0  # a no-data hole
    return _write(d / "ref.tif", ref), _write(d / "dem.tif", dem)


def _open(path, chunks=None):
    return rioxarray.open_rasterio(path, chunks=chunks, masked=True).squeeze("band", drop=True)


def test_shift_kernel_against_integer_and_scipy_shifts():
    from scipy import ndimage

    z = np.random.default_rng(0).normal(size=(20, 24))
    out = np.empty((16, 20))
    k.shift_block(z, 1.0, -1.0, 2, out)  # out[i, j] = z[2 + i + 1, 2 + j - 1]
    np.testing.assert_array_equal(out, z[3:19, 1:21])
    k.shift_block(z, 0.3, -0.6, 2, out)
    ref = ndimage.shift(z, (-0.3, 0.6), order=1)[2:18, 2:22]
    np.testing.assert_allclose(out, ref, atol=1e-12)
    z[5, 5] = np.nan
    k.shift_block(z, 0.0, 0.0, 2, out)  # an integer shift moves no data without growing it
    assert np.isnan(out).sum() == 1


def test_nuth_kaab_recovers_the_shift_and_agrees_with_xdem(pair):
    import xdem

    ref, dem = _open(pair[0]), _open(pair[1])
    res = R.nuth_kaab(ref, dem)
    print(f"ours: shift ({res.shift_x:.3f}, {res.shift_y:.3f}, {res.shift_z:.3f}) m in {res.iterations} iterations; "
          f"truth ({SHIFT[0]}, {SHIFT[1]}, {BIAS})")
    assert abs(res.shift_x - SHIFT[0]) < 0.05 * RES and abs(res.shift_y - SHIFT[1]) < 0.05 * RES
    assert abs(res.shift_z - BIAS) < 0.1
    # xdem on the same arrays: its shift is the correction to apply, the opposite of ours
    nodata = -9999.0
    kw = dict(transform=ref.rio.transform(), crs=ref.rio.crs, nodata=nodata)
    xr_ref = xdem.DEM.from_array(np.nan_to_num(ref.values, nan=nodata), **kw)
    xr_dem = xdem.DEM.from_array(np.nan_to_num(dem.values, nan=nodata), **kw)
    nk = xdem.coreg.NuthKaab()
    nk.fit(xr_ref, xr_dem, random_state=0)
    out = nk.meta["outputs"]["affine"]
    print(f"xdem: shift ({-out['shift_x']:.3f}, {-out['shift_y']:.3f}, {-out['shift_z']:.3f}) m")
    assert abs(res.shift_x + out["shift_x"]) < 0.1 * RES and abs(res.shift_y + out["shift_y"]) < 0.1 * RES
    assert abs(res.shift_z + out["shift_z"]) < 0.1
    # the NMAD of the corrected elevation change agrees with xdem's
    ours = R.dem_difference(ref, R.coregister(ref, dem, res)).values
    theirs = nk.apply(xr_dem).reproject(xr_ref) - xr_ref
    n_ours, n_xdem = R.nmad(ours), float(xdem.spatialstats.nmad(theirs.data.compressed()))
    print(f"NMAD of dh after co-registration: ours {n_ours:.3f} m, xdem {n_xdem:.3f} m (before {res.nmad_before:.3f})")
    assert abs(n_ours - n_xdem) < 0.05 * n_xdem
    assert n_ours < 0.6 * res.nmad_before


def test_lazy_and_chunking_independent(pair, no_compute):
    ref, dem = _open(pair[0]), _open(pair[1])
    res = R.nuth_kaab(ref, dem)
    eager = R.dem_difference(ref, R.coregister(ref, dem, res)).values
    lref, ldem = _open(pair[0], {"x": 64, "y": 96}), _open(pair[1], {"x": 64, "y": 96})
    with no_compute():
        dh = R.dem_difference(lref, R.coregister(lref, ldem, res))
        rgba = R.colour_relief(lref)
    assert dh.chunks is not None and rgba.chunks is not None
    np.testing.assert_array_equal(np.isnan(dh.values), np.isnan(eager))
    np.testing.assert_allclose(dh.values, eager, atol=1e-4, equal_nan=True)
    assert dh.rio.crs == ref.rio.crs and dh.rio.transform() == ref.rio.transform()
    assert "Nuth" in dh.attrs["references"] or "Nuth" in R.coregister(ref, dem, res).attrs["terra_lab:algorithm"]


def test_clear_errors(pair, tmp_path):
    ref, dem = _open(pair[0]), _open(pair[1])
    with pytest.raises(RasterInputError, match="stable"):
        R.nuth_kaab(ref, dem, stable=xr.zeros_like(ref, dtype=bool))
    with pytest.raises(RasterInputError, match="geographic"):
        R.nuth_kaab(ref.rio.reproject("EPSG:4326"), dem)
    # a DEM on another CRS: reprojected onto the reference (default) or refused with the fix
    from rasterio.enums import Resampling

    other = dem.rio.reproject("EPSG:2154", resampling=Resampling.bilinear)
    with pytest.raises(GridMismatchError, match="reproject"):
        R.nuth_kaab(ref, other, reproject=False)
    res = R.nuth_kaab(ref, other)
    assert abs(res.shift_x - SHIFT[0]) < 0.1 * RES and abs(res.shift_y - SHIFT[1]) < 0.1 * RES
    with pytest.raises(RasterInputError, match="years"):
        R.glacier_change(R.dem_difference(ref, dem), [], R.dh_error(R.dem_difference(ref, dem)))


def test_area_error_matches_rolstad_integral():
    """Rolstad et al. (2009): SE^2 = 2 / L^2 int_0^L h C(h) dh over a disk of radius L, integrated
    numerically here (xdem.spatialstats.neff_circular_approx_numerical does the same, but needs
    scikit-gstat, which the environment does not install)."""
    from scipy.integrate import quad

    psill, rng = 4.0, 500.0
    err = R.DhError(nmad=2.0, median=0.0, n_stable=1000, nugget=0.0, psill=psill, range_m=rng, pixel_area=400.0)

    def cov(h):
        r = min(h / rng, 1.0)
        return psill * (1 - (1.5 * r - 0.5 * r**3))

    for area in (1e4, 2e5, 1e6, 1e8):  # disks smaller and larger than the range
        big_l = np.sqrt(area / np.pi)
        se2 = 2 / big_l**2 * quad(lambda h: h * cov(h), 0, big_l, points=[rng] if rng < big_l else None)[0]
        assert err.sigma_mean(area) == pytest.approx(np.sqrt(se2), rel=1e-6)
    white = R.DhError(nmad=2.0, median=0.0, n_stable=1000, nugget=4.0, psill=0.0, range_m=500.0, pixel_area=400.0)
    assert white.sigma_mean(4e4) == pytest.approx(2.0 / 10)  # 100 independent pixels


def test_glacier_change_worked_values(pair):
    ref = _open(pair[0])
    dh = xr.full_like(ref, -10.0)
    x0, y0 = float(ref.x[100]) - RES / 2, float(ref.y[100]) + RES / 2
    import shapely.geometry

    square = shapely.geometry.box(x0, y0 - 1000, x0 + 1000, y0)
    err = R.DhError(nmad=1.0, median=0.0, n_stable=1, nugget=1.0, psill=0.0, range_m=100.0, pixel_area=400.0)
    out = R.glacier_change(dh, [square], err, years=10.0).iloc[0]
    assert out["area_m2"] == pytest.approx(1e6) and out["mean_dh_m"] == pytest.approx(-10.0)
    assert out["volume_change_m3"] == pytest.approx(-1e7)
    assert out["mass_balance_mwe_per_yr"] == pytest.approx(-10 * 0.85 / 10)
    s_dh = 1.0 / 50  # 2500 independent pixels
    assert out["mean_dh_sigma_m"] == pytest.approx(s_dh)
    assert out["mass_balance_sigma_mwe_per_yr"] == pytest.approx(np.hypot(s_dh * 0.085, 10 * 0.06 / 10))


def test_demo_glacier_change(demo_root, demo_catalog):
    truth = json.loads((demo_root / "truth" / "relief.json").read_text())
    outline = demo_root / "truth" / "glacier_outline.geojson"
    ref = terra_lab.load(demo_catalog.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"], masks=False)
    dem = terra_lab.load(demo_catalog.search(collections=DEM_EPOCH_COLLECTION), bands=["elevation"], like=ref,
                         masks=False)
    res = R.nuth_kaab(ref, dem, exclude=outline)
    px = res.pixel_size[0]
    print(f"demo: shift ({res.shift_x:.2f}, {res.shift_y:.2f}, {res.shift_z:.2f}) m vs truth "
          f"({truth['shift_x_m']}, {truth['shift_y_m']}, {truth['shift_z_m']}); NMAD {res.nmad_before:.2f} -> "
          f"{res.nmad_after:.2f} m")
    assert abs(res.shift_x - truth["shift_x_m"]) < 0.1 * px and abs(res.shift_y - truth["shift_y_m"]) < 0.1 * px
    assert abs(res.shift_z - truth["shift_z_m"]) < 0.3
    dh = R.dem_difference(ref, R.coregister(ref, dem, res))
    assert dh.attrs["terra_lab:years"] == pytest.approx(truth["years"])
    err = R.dh_error(dh, exclude=outline)
    row = R.glacier_change(dh, outline, err).iloc[0]
    print(f"demo glacier: mean dh {row['mean_dh_m']:.2f} +- {row['mean_dh_sigma_m']:.2f} m (truth "
          f"{truth['mean_dh_m_20m_pixels']:.2f}), B = {row['mass_balance_mwe_per_yr']:.3f} +- "
          f"{row['mass_balance_sigma_mwe_per_yr']:.3f} m w.e./yr, NMAD {err.nmad:.2f} m")
    assert abs(row["mean_dh_m"] - truth["mean_dh_m_20m_pixels"]) < max(3 * row["mean_dh_sigma_m"], 0.5)
    assert row["area_m2"] == pytest.approx(truth["glacier_area_m2"], rel=0.02)


GDALDEM = shutil.which("gdaldem")


@pytest.mark.skipif(GDALDEM is None, reason="gdaldem not installed: bash scripts/setup-system.sh")
def test_colour_relief_against_gdaldem(pair, tmp_path):
    """The ramp against ``gdaldem color-relief``; the multidirectional shade against ``gdaldem hillshade``."""
    ramp = ((1000.0, 0, 80, 0), (1500.0, 200, 180, 60), (2000.0, 255, 255, 255))
    (tmp_path / "ramp.txt").write_text("\n".join(" ".join(str(v) for v in r) for r in ramp))
    src = pair[0]
    subprocess.run([GDALDEM, "color-relief", str(src), str(tmp_path / "ramp.txt"), str(tmp_path / "c.tif"), "-q"],
                   check=True)
    subprocess.run([GDALDEM, "hillshade", "-multidirectional", str(src), str(tmp_path / "h.tif"), "-q"], check=True)
    gdal_rgb = _open_bands(tmp_path / "c.tif")
    gdal_shade = _open_bands(tmp_path / "h.tif")[0]
    dem = _open(src)
    colour = R.colour_relief(dem, ramp=ramp, strength=0.0).values
    assert np.abs(colour[:3].astype(int) - gdal_rgb[:3].astype(int)).max() <= 1
    white = ((0.0, 255, 255, 255), (9000.0, 255, 255, 255))
    shaded = R.colour_relief(dem, ramp=white, strength=1.0, compute_edges=False).values
    inner = (slice(1, -1), slice(1, -1))
    np.testing.assert_array_equal(shaded[0][inner], gdal_shade[inner])
    assert (shaded[3][inner] == 255).all() and (shaded[3][0] == 0).all()
    single = R.colour_relief(dem, mode="single", azimuth=135.0).values
    assert single.shape == colour.shape and not np.array_equal(single, R.colour_relief(dem).values)
    ours_shade = hillshade(dem, mode="multidirectional").values
    np.testing.assert_array_equal(ours_shade[inner], gdal_shade[inner])


def _open_bands(path):
    import rasterio

    with rasterio.open(path) as ds:
        return ds.read()
