"""Spectral indices through spyndex, and broadband albedo against the published coefficients."""

import numpy as np
import pytest
import spyndex
import xarray as xr

from terra_lab.errors import MissingBandError
from terra_lab.products.albedo import broadband_albedo
from terra_lab.products.indices import spectral_index, spectral_indices


def _cube(**bands):
    return xr.Dataset({k: ("x", np.asarray(v, np.float32)) for k, v in bands.items()})


def test_indices_are_spyndex_formulas():
    cube = _cube(green=[0.6, 0.05, np.nan], red=[0.5, 0.03, 0.1], nir=[0.55, 0.4, 0.3], swir16=[0.05, 0.2, 0.1],
                 nir08=[0.5, 0.42, 0.3], swir22=[0.03, 0.1, 0.05])
    out = spectral_indices(cube, ["NDVI", "NDSI", "MNDWI", "CRSWIR"])
    np.testing.assert_allclose(out.NDVI.values, (cube.nir - cube.red) / (cube.nir + cube.red), rtol=1e-6)
    np.testing.assert_allclose(out.NDSI.values[:2], [(0.6 - 0.05) / 0.65, (0.05 - 0.2) / 0.25], rtol=1e-6)
    assert np.isnan(out.NDSI.values[2])
    # CRSWIR (fordead): B11 over the B8A-B12 continuum at 1613.7 nm (S2A wavelengths from spyndex)
    l8a, l11, l12 = 864.7, 1613.7, 2202.4
    cont = 0.5 + (0.03 - 0.5) / (l12 - l8a) * (l11 - l8a)
    assert out.CRSWIR.values[0] == pytest.approx(0.05 / cont, rel=1e-5)
    assert "formula" in out.NDVI.attrs and out.NDVI.attrs["terra_lab:algorithm"] == "spyndex NDVI"


def test_index_errors():
    with pytest.raises(MissingBandError, match="unknown spectral index 'NDXX'"):
        spectral_index(_cube(red=[0.1]), "NDXX")
    with pytest.raises(MissingBandError, match="needs band 'nir'"):
        spectral_index(_cube(red=[0.1]), "NDVI")


def test_bonafoni_albedo():
    flat = _cube(blue=[0.3], green=[0.3], red=[0.3], nir=[0.3], swir16=[0.3], swir22=[0.3])
    assert float(broadband_albedo(flat)[0]) == pytest.approx(0.3, abs=1e-6)  # coefficients sum to 1
    snow = _cube(blue=[0.88], green=[0.87], red=[0.85], nir=[0.75], swir16=[0.05], swir22=[0.03])
    expected = 0.2266 * 0.88 + 0.1236 * 0.87 + 0.1573 * 0.85 + 0.3417 * 0.75 + 0.1170 * 0.05 + 0.0338 * 0.03
    assert float(broadband_albedo(snow)[0]) == pytest.approx(expected, rel=1e-6)
    liang = 0.356 * 0.88 + 0.130 * 0.85 + 0.373 * 0.75 + 0.085 * 0.05 + 0.072 * 0.03 - 0.0018
    assert float(broadband_albedo(snow, method="liang")[0]) == pytest.approx(liang, rel=1e-6)
    with pytest.raises(MissingBandError, match="swir22"):
        broadband_albedo(_cube(blue=[0.1], green=[0.1], red=[0.1], nir=[0.1], swir16=[0.1]))
    with pytest.raises(ValueError, match="method='knap'"):
        broadband_albedo(snow, method="knap")


def test_spyndex_runs_offline_with_dask():
    import dask.array as da

    cube = xr.Dataset({b: (("y", "x"), da.full((4, 4), v, chunks=2, dtype="float32"))
                       for b, v in (("red", 0.1), ("nir", 0.5))})
    ndvi = spectral_index(cube, "NDVI")
    assert ndvi.chunks is not None
    assert float(ndvi.mean()) == pytest.approx(0.4 / 0.6)
    assert spyndex.indices["NDVI"].formula == "(N-R)/(N+R)"
