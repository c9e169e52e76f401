"""Spectral diversity (biodivMapR): kernels against independent references, known-truth scenes, laziness, errors."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from scipy.optimize import brentq
from scipy.spatial.distance import braycurtis, pdist, squareform

import terra_lab
from terra_lab.errors import MissingBandError, SpectralDiversityError, TerraLabError
from terra_lab.kernels import _diversity as k
from terra_lab.products.diversity import (
    DIVERSITY_BANDS,
    BetaReference,
    fit_beta_reference,
    fit_spectral_species,
    spectral_diversity,
    spectral_species,
)

NOMASK = dict(ndvi_threshold=None, nir_threshold=None, blue_threshold=None)
FAST = dict(n_partitions=4, n_init=3, **NOMASK)


def _cube(refl: np.ndarray, bands=DIVERSITY_BANDS) -> xr.Dataset:
    """A one-date cube from (y, x, band) reflectance, 10 m pixels, UTM 31N."""
    ny, nx, _ = refl.shape
    coords = {"y": 5_000_000.0 - 10.0 * np.arange(ny) - 5, "x": 700_000.0 + 10.0 * np.arange(nx) + 5}
    ds = xr.Dataset({b: (("y", "x"), refl[..., i].astype(np.float32)) for i, b in enumerate(bands)}, coords=coords)
    return ds.rio.write_crs(32631)


# 8 well separated spectra (blue ... swir22)
PALETTE = np.array([
    [0.03, 0.06, 0.04, 0.10, 0.25, 0.32, 0.36, 0.37, 0.20, 0.10],
    [0.02, 0.04, 0.02, 0.07, 0.19, 0.24, 0.27, 0.28, 0.13, 0.06],
    [0.12, 0.13, 0.14, 0.16, 0.17, 0.18, 0.19, 0.19, 0.22, 0.20],
    [0.05, 0.08, 0.07, 0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.00],
    [0.16, 0.19, 0.19, 0.23, 0.30, 0.32, 0.35, 0.35, 0.24, 0.17],
    [0.06, 0.09, 0.10, 0.14, 0.20, 0.22, 0.24, 0.25, 0.33, 0.28],
    [0.04, 0.07, 0.03, 0.12, 0.35, 0.45, 0.50, 0.52, 0.25, 0.12],
    [0.09, 0.10, 0.12, 0.13, 0.14, 0.15, 0.16, 0.16, 0.12, 0.09],
])


@pytest.fixture(scope="module")
def mosaic():
    """12 x 12 windows of 10 x 10 pixels; window w holds n_w in 1..8 spectra, shuffled pixel by pixel."""
    rng = np.random.default_rng(42)
    nw, ws = 12, 10
    n_species = rng.integers(1, 9, size=(nw, nw))
    refl = np.empty((nw * ws, nw * ws, 10))
    for i in range(nw):
        for j in range(nw):
            which = rng.choice(8, size=n_species[i, j], replace=False)
            lab = which[np.arange(ws * ws) % len(which)]
            rng.shuffle(lab)
            refl[i * ws:(i + 1) * ws, j * ws:(j + 1) * ws] = PALETTE[lab].reshape(ws, ws, 10)
    refl += rng.normal(0, 0.002, refl.shape)
    cube = _cube(refl)
    model = fit_spectral_species(cube, n_clusters=8, seed=1, **FAST)
    return cube, n_species, model


# ------------------------------------------------------------------ kernels vs independent references
def test_alpha_metrics_match_scipy_and_worked_values():
    # one window, 2 partitions, 5 clusters: counts from a 10 x 10 window (100 pixels)
    counts = np.array([[[50, 30, 19, 1, 0], [25, 25, 25, 25, 0]]], np.int32)
    out = np.empty((1, len(k.ALPHA_FIELDS)))
    k.alpha_from_counts(counts, 100.0, 0.25, 0.02, out)
    f = dict(zip(k.ALPHA_FIELDS, out[0]))
    # partition 0: species with 1 pixel < 2 % of 100 is dropped (biodivMapR pcelim)
    kept0 = np.array([50, 30, 19])
    h = [stats.entropy(kept0), stats.entropy([25, 25, 25, 25])]  # natural log, renormalised
    assert h[1] == pytest.approx(np.log(4))  # worked value: 4 equal species
    simp = [1 - np.sum((kept0 / 99) ** 2), 0.75]  # worked value: 1 - 4 x (1/4)^2
    assert f["shannon"] == pytest.approx(np.mean(h))
    assert f["shannon_sd"] == pytest.approx(np.std(h, ddof=1))
    assert f["simpson"] == pytest.approx(np.mean(simp))
    assert f["richness"] == pytest.approx(3.5)
    # Fisher's alpha: root of S = a ln(1 + N / a), solved independently with brentq
    fish = [brentq(lambda a, s=s, n=n: a * np.log1p(n / a) - s, 1e-9, 1e6) for s, n in ((3, 99), (4, 100))]
    assert f["fisher"] == pytest.approx(np.mean(fish), rel=1e-8)
    assert f["n_valid"] == 100


def test_alpha_windows_with_too_few_valid_pixels_are_nan():
    counts = np.zeros((2, 3, 4), np.int32)
    counts[0, :, 0] = 25  # 25 % valid: not above min_sun = 0.25
    counts[1, :, 1] = 26
    out = np.empty((2, len(k.ALPHA_FIELDS)))
    k.alpha_from_counts(counts, 100.0, 0.25, 0.02, out)
    assert np.isnan(out[0, :8]).all() and out[0, 8] == 25
    assert out[1, 2] == 0.0 and out[1, 4] == 0.0  # one species: Shannon 0, Simpson 0
    assert np.isnan(out[1, 6])  # Fisher undefined for a single species


def test_bray_curtis_matches_scipy():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 6, size=(7, 3, 12)).astype(np.int32)
    counts[2] = 0
    counts[2, :, 3] = 40  # a one-species window
    ssd = np.empty(counts.shape)
    k.normalized_ssd(counts, 0.02, ssd)
    ref = np.ascontiguousarray(ssd[:4].transpose(1, 0, 2))
    out = np.empty((7, 4))
    k.bray_curtis_to_reference(ssd, ref, out)
    for w in range(7):
        for r in range(4):
            expect = np.mean([braycurtis(ssd[w, p], ssd[r, p]) for p in range(3)])
            assert out[w, r] == pytest.approx(expect, abs=1e-12)
    # normalisation: proportions after dropping species under pcelim of the window
    c = np.array([[[97, 2, 1]]], np.int32)
    s = np.empty((1, 1, 3))
    k.normalized_ssd(c, 0.02, s)
    np.testing.assert_allclose(s[0, 0], [97 / 99, 2 / 99, 0])


def test_classical_mds_preserves_distances():
    rng = np.random.default_rng(3)
    pts = rng.normal(size=(30, 3)) * [5, 2, 1]
    d = squareform(pdist(pts))
    coords, eig = k.classical_mds(d, 3)
    np.testing.assert_allclose(squareform(pdist(coords)), d, atol=1e-9)  # Euclidean input: exact
    # independent computation: eigen-decomposition of the double-centred squared distances
    n = len(d)
    j = np.eye(n) - np.ones((n, n)) / n
    w, v = np.linalg.eigh(-0.5 * j @ (d ** 2) @ j)
    np.testing.assert_allclose(eig[:3], w[::-1][:3])
    np.testing.assert_allclose(np.abs(coords), np.abs(v[:, ::-1][:, :3] * np.sqrt(w[::-1][:3])), atol=1e-9)


def test_knn_projection_worked_example():
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [9.0, 9.0]])
    diss = np.array([[0.1, 0.2, 0.4, 0.9], [0.5, 0.0, 0.3, 0.2], [np.nan] * 4])
    out = np.empty((3, 2))
    k.knn_projection(diss, coords, 3, out)
    w = np.array([1 / 0.1, 1 / 0.2, 1 / 0.4])
    np.testing.assert_allclose(out[0], (w[:, None] * coords[:3]).sum(0) / w.sum())
    np.testing.assert_allclose(out[1], coords[1])  # dissimilarity 0: the reference's own position
    assert np.isnan(out[2]).all()


def test_continuum_removal_hull():
    wl = np.array([400.0, 500.0, 600.0, 700.0])
    spec = np.array([[1.0, 1.0, 0.5, 2.0]])
    out = np.empty_like(spec)
    k.continuum_removal(spec, wl, out)
    # hull: (400, 1) -> (700, 2); continuum at 500 = 4/3, at 600 = 5/3
    np.testing.assert_allclose(out[0], [1.0, 0.75, 0.3, 1.0])


# ------------------------------------------------------------------ fitted model
def test_pca_matches_sklearn(mosaic):
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    cube, _, model = mosaic
    rows = np.stack([cube[b].values.ravel() for b in DIVERSITY_BANDS], axis=1)
    ref = PCA().fit(StandardScaler().fit_transform(rows))  # the sample here is the whole image
    np.testing.assert_allclose(model.explained_variance_ratio, ref.explained_variance_ratio_, atol=1e-6)
    for c in range(4):
        np.testing.assert_allclose(np.abs(model.loadings[:, c]), np.abs(ref.components_[c]), atol=1e-5)
    assert model.explained_variance_ratio[: len(model.components)].sum() >= 0.99
    custom = fit_spectral_species(cube, n_clusters=8, components=[1, 3], seed=1, **FAST)
    assert custom.components == (1, 3) and custom.centroids.shape == (4, 8, 2)


def test_more_spectra_per_window_give_higher_alpha(mosaic):
    cube, n_species, model = mosaic
    div = spectral_diversity(cube, model=model, window_size=10, alpha=("shannon", "simpson", "richness"),
                             n_samples_beta=60).compute()
    assert div.shannon.shape == (12, 12)
    rho = stats.spearmanr(n_species.ravel(), div.shannon.values.ravel())[0]
    assert rho > 0.95
    assert stats.spearmanr(n_species.ravel(), div.simpson.values.ravel())[0] > 0.95
    # each spectrum is one spectral species: richness = number of spectra, Shannon = ln(n) (equal shares)
    assert np.mean(np.abs(div.richness.values - n_species)) < 0.1
    np.testing.assert_allclose(div.shannon.values, np.log(n_species), atol=0.1)
    assert np.isfinite(div.beta.values).all() and div.beta.sizes["pcoa"] == 3
    assert div.attrs["terra_lab:algorithm"] == "spectral diversity (biodivMapR)"
    assert div.rio.crs.to_epsg() == 32631
    np.testing.assert_allclose(div.x.values[:2], cube.x.values[0] + np.array([45.0, 145.0]))  # window centres


def test_beta_reference_windows_keep_their_pcoa_position(mosaic):
    cube, _n_species, model = mosaic
    ref = fit_beta_reference(cube, model, window_size=10, n_samples=50, seed=2)
    assert isinstance(ref, BetaReference) and ref.coordinates.shape == (50, 3)
    d = ref.dissimilarity
    assert np.allclose(d, d.T) and np.all((d >= 0) & (d <= 1))
    div = spectral_diversity(cube, model=model, beta=ref).compute()
    got = div.beta.values[:, ref.windows[:, 0], ref.windows[:, 1]].T
    np.testing.assert_allclose(got, ref.coordinates, atol=1e-5)
    # the first PCoA axes reproduce the Bray-Curtis dissimilarities (rank correlation)
    assert stats.spearmanr(pdist(ref.coordinates), squareform(d, checks=False))[0] > 0.8


def test_results_do_not_depend_on_chunks(mosaic):
    cube, _, model = mosaic
    ref = fit_beta_reference(cube, model, window_size=10, n_samples=40)
    a = spectral_diversity(cube, model=model, beta=ref).compute()
    b = spectral_diversity(cube.chunk(x=37, y=55), model=model, beta=ref).compute()
    xr.testing.assert_allclose(a, b)
    lab = spectral_species(cube.chunk(x=50, y=50), model)
    assert lab.dims == ("partition", "y", "x") and lab.dtype == np.int16
    assert lab.max().compute() < 8


def test_lazy_graph_construction(mosaic, no_compute):
    cube, _, model = mosaic
    ref = fit_beta_reference(cube, model, window_size=10, n_samples=30)
    lazy = cube.chunk(x=60, y=60)
    with no_compute():
        div = spectral_diversity(lazy, model=model, beta=ref, alpha=("shannon", "fisher"))
        spectral_species(lazy, model)
    assert div.shannon.chunks is not None and div.shannon.data.chunks == ((6, 6), (6, 6))
    assert set(div.data_vars) == {"shannon", "shannon_sd", "fisher", "fisher_sd", "valid_fraction", "beta"}


# ------------------------------------------------------------------ bad input
def test_bad_input(mosaic):
    cube, _, model = mosaic
    with pytest.raises(MissingBandError, match="swir22"):
        spectral_diversity(cube.drop_vars("swir22"), model=model)
    with pytest.raises(SpectralDiversityError, match="larger than the image"):
        spectral_diversity(cube, model=model, window_size=500)
    nan = cube.copy()
    for b in DIVERSITY_BANDS:
        nan[b] = nan[b] * np.nan
    with pytest.raises(SpectralDiversityError, match="valid pixels"):
        fit_spectral_species(nan, **FAST)
    with pytest.raises(SpectralDiversityError, match="at least 2"):
        fit_beta_reference(nan, model, window_size=10)
    with pytest.raises(SpectralDiversityError, match="dates"):
        fit_spectral_species(xr.concat([cube, cube], dim="time"), **FAST)
    with pytest.raises(SpectralDiversityError, match="unknown alpha"):
        spectral_diversity(cube, model=model, alpha=("gini",))
    with pytest.raises(SpectralDiversityError, match="1-based"):
        fit_spectral_species(cube, components=[0, 1], **FAST)
    assert issubclass(SpectralDiversityError, TerraLabError) and issubclass(SpectralDiversityError, ValueError)


# ------------------------------------------------------------------ demo scene vs land-cover truth
def test_demo_mixed_windows_are_more_diverse(demo_items, demo_root):
    import rioxarray

    items = [i for i in demo_items if "_T31TGK_" in i["id"] and "20230618" in i["id"]]  # clear summer date
    cube = terra_lab.load(items, bands=list(DIVERSITY_BANDS), resolution=10, chunks={"x": 200, "y": 200})
    # all land covers (no NDVI filter); 10 clusters ~ the scene's distinct spectra (the default 50
    # mostly split the sensor noise of the two dominant classes, see the module notes)
    model = fit_spectral_species(cube, n_clusters=10, n_samples_kmeans=40_000, seed=0, **FAST)
    div = spectral_diversity(cube, model=model, beta=False).compute()
    lc = rioxarray.open_rasterio(demo_root / "truth" / "landcover_R1.tif").squeeze().values
    ny, nx = lc.shape
    blocks = lc.reshape(ny // 10, 10, nx // 10, 10).transpose(0, 2, 1, 3).reshape(ny // 10, nx // 10, 100)
    n_classes = np.apply_along_axis(lambda v: len(np.unique(v)), 2, blocks)
    sh = div.shannon.values
    ok = np.isfinite(sh)
    rho = stats.spearmanr(n_classes[ok], sh[ok])[0]
    assert rho > 0.25, rho
    assert sh[ok & (n_classes > 1)].mean() > sh[ok & (n_classes == 1)].mean() + 0.2
