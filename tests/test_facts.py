"""One definition per fact: MAJA mask bits, LIS L2B codes, index formulas and the published
parameter defaults each live in one table, and kernels, products and profiles read it."""

from __future__ import annotations

import ast
import inspect
import textwrap

import numpy as np
import pytest
import xarray as xr

from terra_lab.kernels import _snow as ks
from terra_lab.products import dieback, masks, snow, synthesis
from terra_lab.products.params import FORDEAD_MAX_CLOUDINESS, BiodivMapRParams, FordeadParams, LisParams
from terra_lab.profiles import MUSCATE_S2, SNOW_FSC, SNOW_L2B, SNOW_L2B_LEGEND, _lis, _maja


def _int_literals(func) -> set[int]:
    """Integer constants in ``func``'s code, docstrings left out."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(func.py_func if hasattr(func, "py_func") else func)))
    body = tree.body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return {n.value for stmt in body for n in ast.walk(stmt)
            if isinstance(n, ast.Constant) and type(n.value) is int}


def test_clm_bits_by_name():
    # MUSCATE product format (CNES): bit 1 clouds, 4 thin clouds, 5/6 shadows, 7 high clouds
    assert _maja.CLM_CLOUD == (1, 4, 7) and _maja.CLM_SHADOW == (5, 6) and _maja.CLM_HIGH_CLOUD == (7,)
    assert _maja.bitmask(_maja.CLM_LIS_REFINED_CLOUD) == 96 + 128
    with pytest.raises(KeyError, match="known"):
        _maja.bits_of(_maja.CLM_BITS, "cirrus")


def test_profiles_and_products_read_the_one_table():
    rules = {layer: MUSCATE_S2.mask_rules(layer, 20.0)[0] for layer in ("cloud", "shadow", "snow", "water")}
    assert rules["cloud"].bits == _maja.CLM_CLOUD and rules["shadow"].bits == _maja.CLM_SHADOW
    assert rules["snow"].bits == _maja.MG2_SNOW and rules["water"].bits == _maja.MG2_WATER
    assert rules["shadow"].bitmask() == _maja.bitmask(_maja.CLM_SHADOW)
    assert masks.CLM_BITS is _maja.CLM_BITS and masks.MG2_BITS is _maja.MG2_BITS and masks.SAT_BITS is _maja.SAT_BITS
    assert 1 << _maja.bits_of(_maja.CLM_BITS, "clouds")[0] == snow._LAYER_CLOUD
    assert 1 << _maja.bits_of(_maja.CLM_BITS, "cloud_shadows")[0] == snow._LAYER_SHADOW


def test_kernels_bitmasks_and_codes_come_from_the_tables():
    assert _maja.bitmask(_maja.CLM_LIS_REFINED_CLOUD) == ks.REFINED_CLOUD_BITS
    assert (ks.NO_SNOW, ks.SNOW, ks.CLOUD, ks.NODATA) == (_lis.L2B_NO_SNOW, _lis.L2B_SNOW, _lis.L2B_CLOUD,
                                                          _lis.L2B_NODATA)
    facts = {96, 128, 224, _lis.L2B_SNOW, _lis.L2B_CLOUD, _lis.L2B_NODATA, _lis.L2B_NODATA_LIS17}
    for kernel in (ks.l2b_block_histogram, ks.l2b_block_codes, ks.l3b_block, synthesis._state):
        assert not _int_literals(kernel) & facts, f"{kernel.__name__} writes a mask bit or L2B code as a literal"


def test_l2b_codes_and_legends_agree():
    assert snow.L2B_CODES == {"no_snow": 0, "snow": 100, "cloud": 205, "nodata": 254}  # THEIA snow product page
    assert set(SNOW_L2B_LEGEND.codes) == {_lis.L2B_NO_SNOW, _lis.L2B_SNOW, _lis.L2B_CLOUD}
    assert SNOW_L2B.decoding("snow").nodata == (_lis.L2B_NODATA, _lis.L2B_NODATA_LIS17)
    assert SNOW_FSC.mask_rules("cloud", 20.0)[0].values == (_lis.L2B_CLOUD,)


def test_refinement_uses_the_shadow_and_high_cloud_bits():
    """A dark cloud pixel leaves the cloud mask unless a shadow or high-cloud bit is set."""
    shape = (1, 12, 12)
    green, swir = np.full(shape, 0.05, np.float32), np.full(shape, 0.05, np.float32)
    dem = np.full(shape[1:], 1000.0, np.float32)
    p = LisParams()
    for bit, expected in [(1, ks.NO_SNOW), (4, ks.NO_SNOW), (5, ks.CLOUD), (6, ks.CLOUD), (7, ks.CLOUD)]:
        clm = np.full(shape, 1 << bit, np.uint8)
        out = np.empty(shape, np.uint8)
        red = np.full(shape, 0.05, np.float32)  # dark, below red_backtocloud: only the bits keep it cloud
        ks.l2b_block_codes(green, red, swir, clm, dem, np.full(1, np.nan, np.float32), np.zeros(1, np.uint8),
                           p.rf, p.ndsi_pass1, p.red_pass1, p.ndsi_pass2, p.red_pass2, p.red_darkcloud,
                           p.red_backtocloud, out)
        assert np.all(out == expected), (bit, np.unique(out))


def test_dieback_indices_are_spyndex_formulas():
    import spyndex

    for vi, (name, bands, constants) in dieback._SPYNDEX.items():
        assert set(spyndex.indices[name].bands) == set(bands) | set(constants)
        assert set(bands.values()) == set(dieback.VEGETATION_INDICES[vi][0])
    ds = xr.Dataset({"nir08": ("x", [0.28]), "swir16": ("x", [0.13]), "swir22": ("x", [0.06])})
    by_hand = spyndex.computeIndex("CRSWIR", N2=0.28, S1=0.13, S2=0.06, lambdaN2=864.0, lambdaS1=1610.4,
                                   lambdaS2=2185.7)
    np.testing.assert_allclose(dieback.crswir(ds).values[0], by_hand, rtol=1e-6)


def test_parameter_defaults_are_the_published_values():
    # let-it-snow README, Sentinel-2 JSON configuration (reflectance x 1000 there)
    assert LisParams() == LisParams(ndsi_pass1=0.4, red_pass1=0.2, ndsi_pass2=0.15, red_pass2=0.04, dz=100,
                                    fsnow_lim=0.1, fclear_lim=0.1, fsnow_total_lim=0.001, rf=12,
                                    red_darkcloud=0.3, red_backtocloud=0.1)
    # fordead documentation (dieback detection step defaults and tutorial)
    f = FordeadParams()
    assert (f.threshold_anomaly, f.nb_min_date, f.vi, f.max_nb_stress_periods, f.stress_index_mode) == (
        0.16, 10, "CRSWIR", 5, "weighted_mean")
    assert (f.training_end, f.training_max_end, f.confidence_thresholds) == ("2018-01-01", "2018-06-01", (0.265,))
    assert FORDEAD_MAX_CLOUDINESS == 40.0
    b = BiodivMapRParams()  # biodivMapR defaults
    assert (b.n_clusters, b.n_partitions, b.n_samples_pca, b.n_samples_kmeans) == (50, 20, 1_000_000, 100_000)
    assert (b.ndvi_threshold, b.nir_threshold, b.blue_threshold) == (0.65, 0.15, 0.05)


def test_parameter_objects_are_frozen_and_checked():
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        LisParams().ndsi_pass1 = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"unknown keyword.*ndsi_pass3.*LisParams fields"):
        snow.snowline(xr.Dataset(), None, ndsi_pass3=0.1)
    with pytest.raises(ValueError, match="stress_index_mode"):
        FordeadParams(stress_index_mode="median")
    with pytest.raises(ValueError, match="confidence_classes"):
        FordeadParams(confidence_thresholds=(0.2, 0.3))
    import terra_lab.errors

    with pytest.raises(terra_lab.errors.DateRangeError):
        FordeadParams(training_end="2018-06-01", training_max_end="2018-01-01")
    assert FordeadParams(training_end="2018-01-01T10:00") == FordeadParams()  # normalised dates


def test_workflow_presets_are_parameter_instances():
    import terra_lab.workflows.forest as wf
    import terra_lab.workflows.snow as ws

    assert ws.SnowSettings is LisParams and all(isinstance(p, LisParams) for p in ws.PRESETS.values())
    assert ws.PRESETS["alpine"] == LisParams()
    assert ws.SnowSettings(0.4, 0.15, 0.15, 0.04) == ws.PRESETS["forested mountains"]  # positional, as dashboards do
    assert wf.ForestSettings().threshold_anomaly == FordeadParams().threshold_anomaly
    assert inspect.signature(wf.forest_workflow).parameters["max_cloud"].default == FORDEAD_MAX_CLOUDINESS


def test_product_table_names_existing_files():
    """The table of terra_lab/products/__init__.py: one name per family, every file it names exists."""
    from pathlib import Path

    import terra_lab.products as products

    root = Path(products.__file__).parents[2]
    doc = products.__doc__ or ""
    for f in products.FAMILIES:
        assert (root / "terra_lab" / "products" / f"{f.product}.py").exists(), f.product
        assert all((root / "terra_lab" / "kernels" / f"{k}.py").exists() for k in f.kernels), f.kernels
        assert (root / "tests" / f"{f.test}.py").exists(), f.test
        assert not f.benchmark or (root / "benchmarks" / f"{f.benchmark}.py").exists(), f.benchmark
        assert all((root / "notebooks" / f"{n}.ipynb").exists() for n in f.notebooks), f.notebooks
        assert not f.dashboard or (root / "terra_lab" / "dashboards" / f"{f.dashboard}.py").exists(), f.dashboard
        row = next(line for line in doc.splitlines() if line.startswith(f.product + " "))
        assert all(k in row for k in f.kernels) and f.test in row, row
    kernels = {p.stem for p in (root / "terra_lab" / "kernels").glob("_*.py")} - {"__init__", "_jit"}
    assert kernels <= {k for f in products.FAMILIES for k in f.kernels}, "a kernel module named after no family"
