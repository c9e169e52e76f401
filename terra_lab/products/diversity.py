"""Spectral diversity (alpha and beta) from Sentinel-2 reflectance, following biodivMapR.

The spectral variation hypothesis: the spectral heterogeneity of a canopy within a window
reflects its species diversity.  biodivMapR [1]_ [2]_ maps it in four steps, reproduced here:

1. **Preprocessing** - a radiometric mask keeps sunlit vegetation (NDVI, NIR and blue
   thresholds of ``radiometric_filtering``; plus the cube's cloud/shadow/snow/edge layers),
   optional continuum removal, then a *standardised* PCA (``TypePCA = 'SPCA'``: each band
   centred and scaled by its standard deviation) fitted on a random pixel subset.
2. **Spectral species** - the selected components are rescaled with an interquartile-range
   rule (``[q25 - 3 IQR, q75 + 3 IQR]`` mapped to ``[0, 1]``), the k-means sample is split
   into ``n_partitions`` random subsets and a k-means with ``n_clusters`` centres is fitted on
   each; every pixel then gets one spectral species per partition (its nearest centroid).
3. **Alpha diversity** - per window of ``window_size`` x ``window_size`` pixels and per
   partition, spectral species holding less than ``pcelim`` of the window's valid pixels are
   dropped, then richness, Shannon, Simpson and Fisher's alpha are computed and averaged over
   the partitions (their standard deviation is kept too).  Windows whose valid share is not
   above ``min_sun`` are NaN.
4. **Beta diversity** - the spectral-species distributions of ``n_samples_beta`` random
   windows are compared by Bray-Curtis dissimilarity (averaged over partitions), ordinated by
   PCoA (classical scaling, R ``cmdscale``) on 3 axes, and every window is placed in that
   ordination from its 3 nearest reference windows (inverse-dissimilarity weighted mean of
   their coordinates, biodivMapR ``compute_nn_from_ordination``).

Fitting (PCA, k-means, the beta reference) needs samples, which are computed eagerly: a
random pixel sample (``n_samples_pca``, ``n_samples_kmeans``) and the spectral-species counts
of random windows.  Applying the fitted model to the image is lazy (``map_blocks`` over
window-aligned chunks).  The output grid has one cell per window (biodivMapR's
non-moving-window mode); edge windows may be partial.

Differences from the R package, deliberate: the k-means is scikit-learn's Lloyd algorithm
(R uses Hartigan-Wong; both ``nstart``/``n_init`` = 10, 50 iterations), NaNs in Fisher's alpha
(undefined for fewer than 2 species) are skipped when averaging over partitions, and the
continuum removal is off by default: on 10 broad Sentinel-2 bands the convex hull touches
only a few bands (it is mostly the line from blue to the NIR plateau), so it mainly discards
the brightness information the broad bands carry; it is available with
``continuum_removal=True``.

References
----------
.. [1] Féret, J.-B., Asner, G. P. (2014). Mapping tropical forest canopy diversity using
   high-fidelity imaging spectroscopy. Ecological Applications 24(6), 1289-1296.
   https://doi.org/10.1890/13-1824.1
.. [2] Féret, J.-B., de Boissieu, F. (2020). biodivMapR: an R package for alpha- and
   beta-diversity mapping using remotely sensed images. Methods Ecol. Evol. 11, 64-70.
   https://doi.org/10.1111/2041-210X.13310 (source: github.com/jbferet/biodivMapR,
   defaults of ``set_options_biodivMapR``, ``radiometric_filtering``, ``get_kmeans``,
   ``alphabeta_window``, ``init_PCoA_samples``, ``weighted_coords_nn``).
.. [3] Fisher, R. A., Corbet, A. S., Williams, C. B. (1943). J. Anim. Ecol. 12, 42-58.
.. [4] Gower, J. C. (1966). Biometrika 53, 325-338 (principal coordinates analysis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from ..errors import SpectralDiversityError
from ..kernels import _diversity as k
from ._common import chunks_along, rechunk, require, with_provenance
from .params import DIVERSITY_BANDS, BiodivMapRParams, with_overrides

__all__ = [
    "DIVERSITY_BANDS",
    "BetaReference",
    "BiodivMapRParams",
    "SpectralSpecies",
    "fit_beta_reference",
    "fit_spectral_species",
    "spectral_diversity",
    "spectral_species",
]

#: Central wavelengths (nm, Sentinel-2A) for the continuum removal.
_WAVELENGTHS = {"coastal": 443, "blue": 490, "green": 560, "red": 665, "rededge1": 705, "rededge2": 740,
                "rededge3": 783, "nir": 842, "nir08": 865, "nir09": 945, "swir16": 1610, "swir22": 2190}
_DEFAULTS = BiodivMapRParams()
_REF = "Féret & Asner 2014, Ecol. Appl. 24:1289; Féret & de Boissieu 2020, MEE 11:64 (biodivMapR)"
_ALPHA = ("richness", "shannon", "simpson", "fisher")


# ------------------------------------------------------------------------------------ models
@dataclass(frozen=True, eq=False)
class SpectralSpecies:
    """A fitted spectral-species model: radiometric mask, standardised PCA and k-means per partition.

    Made by :func:`fit_spectral_species`; :meth:`features` and :meth:`labels` apply it to
    pixel spectra (rows of reflectance in the order of :attr:`bands`).
    """

    bands: tuple[str, ...]
    ndvi_threshold: float | None
    nir_threshold: float | None
    blue_threshold: float | None
    mask_layers: tuple[str, ...]
    continuum_removal: bool
    mean: np.ndarray  #: (F,) mean of the PCA input features
    scale: np.ndarray  #: (F,) their standard deviation (ddof=1, as R ``prcomp(scale = TRUE)``)
    loadings: np.ndarray  #: (F, F) eigenvectors, one column per component, by decreasing variance
    explained_variance_ratio: np.ndarray  #: (F,)
    components: tuple[int, ...]  #: selected components, 1-based (PC#1 first), as biodivMapR
    iqr_min: np.ndarray  #: (C,) lower IQR bound of each selected component
    iqr_range: np.ndarray  #: (C,) its IQR range
    centroids: np.ndarray  #: (P, K, C) k-means centres per partition, in the rescaled space
    params: dict = field(default_factory=dict)

    @property
    def n_partitions(self) -> int:
        return self.centroids.shape[0]

    @property
    def n_clusters(self) -> int:
        return self.centroids.shape[1]

    def valid(self, rows: np.ndarray) -> np.ndarray:
        """Which rows (n, bands) pass the radiometric mask (finite, NDVI, NIR, blue thresholds)."""
        return _radiometric_mask(rows, self.bands, self.ndvi_threshold, self.nir_threshold, self.blue_threshold)

    def pca_input(self, rows: np.ndarray) -> np.ndarray:
        """The PCA input features of ``rows``: the reflectance, or its continuum removal
        (without the first and last band, which are always 1); NaN rows where masked."""
        return _pca_input(rows, self.bands, self.continuum_removal, self.valid(rows))

    def features(self, rows: np.ndarray) -> np.ndarray:
        """Selected principal components rescaled by the IQR rule, (n, C) float32, NaN where masked."""
        z = (self.pca_input(rows) - self.mean) / self.scale
        pcs = z @ self.loadings[:, [c - 1 for c in self.components]]
        return ((pcs - self.iqr_min) / self.iqr_range).astype(np.float32)

    def labels(self, rows: np.ndarray) -> np.ndarray:
        """Spectral species of each row for every partition, (P, n) int16, -1 where masked."""
        out = np.empty((self.n_partitions, rows.shape[0]), np.int16)
        k.nearest_centroid(np.ascontiguousarray(self.features(rows)), self.centroids, out)
        return out


@dataclass(frozen=True, eq=False)
class BetaReference:
    """Reference windows of beta diversity: their spectral-species distributions and PCoA coordinates.

    Made by :func:`fit_beta_reference`.
    """

    window_size: int
    ssd: np.ndarray  #: (P, R, K) normalised spectral-species distributions of the R reference windows
    dissimilarity: np.ndarray  #: (R, R) Bray-Curtis dissimilarity averaged over partitions
    coordinates: np.ndarray  #: (R, d) PCoA coordinates
    eigenvalues: np.ndarray  #: (R,) PCoA eigenvalues, decreasing
    windows: np.ndarray  #: (R, 2) window row / column indices of the references
    min_sun: float
    pcelim: float


# ------------------------------------------------------------------------------------ helpers
def _radiometric_mask(rows, bands, ndvi_thr, nir_thr, blue_thr) -> np.ndarray:
    ok = np.isfinite(rows).all(axis=1)
    col = {b: i for i, b in enumerate(bands)}
    with np.errstate(invalid="ignore", divide="ignore"):
        if ndvi_thr is not None:
            nir, red = rows[:, col["nir"]], rows[:, col["red"]]
            ok &= (nir - red) / (nir + red) >= ndvi_thr
        if nir_thr is not None:
            ok &= rows[:, col["nir"]] >= nir_thr
        if blue_thr is not None:
            ok &= rows[:, col["blue"]] <= blue_thr
    return ok


def _pca_input(rows, bands, continuum, valid) -> np.ndarray:
    x = np.where(valid[:, None], rows, np.nan).astype(np.float64)
    if continuum:
        wl = np.array([_WAVELENGTHS[b] for b in bands], np.float64)
        order = np.argsort(wl)
        cr = np.empty_like(x)
        k.continuum_removal(np.ascontiguousarray(x[:, order]), wl[order], cr)
        x = cr[:, 1:-1]
    return x


def _needed_bands(bands, ndvi_threshold, nir_threshold, blue_threshold) -> list[str]:
    need = list(bands)
    if ndvi_threshold is not None:
        need += ["nir", "red"]
    if nir_threshold is not None:
        need += ["nir"]
    if blue_threshold is not None:
        need += ["blue"]
    return list(dict.fromkeys(need))


def _reflectance(cube: xr.Dataset, bands: Sequence[str], mask_layers: Sequence[str], product: str) -> xr.DataArray:
    """(band, y, x) float32 reflectance of one date, NaN where a mask layer is set."""
    if not isinstance(cube, xr.Dataset):
        raise SpectralDiversityError(
            f"{product} needs a cube (xarray.Dataset of bands), got {type(cube).__name__}; "
            "make one with terra_lab.load(items, bands=[...])")
    require(cube, list(bands), product)
    if "time" in cube.dims:
        if cube.sizes["time"] != 1:
            raise SpectralDiversityError(
                f"{product} works on one image but the cube has {cube.sizes['time']} dates; pick a clear date, "
                "e.g. cube.isel(time=i), or a composite: terra_lab.products.synthesis.median_composite(cube)")
        cube = cube.isel(time=0, drop=True)
    for dim in ("y", "x"):
        if dim not in cube.dims:
            raise SpectralDiversityError(f"{product} needs 'y' and 'x' dimensions; the cube has {tuple(cube.dims)}")
    arr = xr.concat([cube[b].astype(np.float32) for b in bands], dim="band").transpose("band", "y", "x")
    bad = None
    for layer in mask_layers:
        if layer in cube:
            m = cube[layer].astype(bool)
            bad = m if bad is None else bad | m
    if bad is not None:
        arr = arr.where(~bad.transpose("y", "x"))
    return arr.astype(np.float32)


def _aligned(arr: xr.DataArray, window: int) -> da.Array:
    """The data as Dask, band in one chunk, y and x chunks multiples of ``window``."""
    cy = max(window, (max(chunks_along(arr, "y")) // window) * window)
    cx = max(window, (max(chunks_along(arr, "x")) // window) * window)
    return rechunk(arr, band=-1, y=cy, x=cx).data


def _check_window(arr: xr.DataArray, window_size: int, product: str) -> int:
    w = int(window_size)
    if w != window_size or w < 1:
        raise SpectralDiversityError(f"{product}: window_size must be a positive whole number of pixels, got {window_size!r}")
    ny, nx = arr.sizes["y"], arr.sizes["x"]
    if w > ny or w > nx:
        raise SpectralDiversityError(
            f"{product}: window_size={w} pixels is larger than the image ({ny} x {nx} pixels); "
            f"use a window of at most {min(ny, nx)} pixels or load a larger area")
    return w


def _sample_rows(data: da.Array, n: int, rng: np.random.Generator) -> np.ndarray:
    """Reflectance (m, B) of ``n`` random pixels (without replacement) of ``data`` (B, y, x) - eager."""
    _, ny, nx = data.shape
    m = min(n, ny * nx)
    flat = np.sort(rng.choice(ny * nx, size=m, replace=False))
    iy, ix = np.divmod(flat, nx)
    rows = data.transpose(1, 2, 0).vindex[iy, ix].compute()
    return rows[rng.permutation(m)]


def _no_valid(product: str, n: int, what: str) -> SpectralDiversityError:
    return SpectralDiversityError(
        f"{product}: only {n} valid pixels in the {what} sample (after NaN, the mask layers and the radiometric "
        "thresholds); use a clearer date or a larger area, or relax the mask: ndvi_threshold=None, "
        "nir_threshold=None, blue_threshold=None")


# ------------------------------------------------------------------------------------ fitting
def fit_spectral_species(cube: xr.Dataset, params: BiodivMapRParams | None = None,
                         **overrides: Any) -> SpectralSpecies:
    """Fit biodivMapR's spectral species: radiometric mask, standardised PCA, k-means per partition.

    Eager: reads a random sample of ``max(n_samples_pca, n_samples_kmeans)`` pixels (or the
    whole image when smaller); the PCA uses the valid pixels of the sample (at most
    ``n_samples_pca``), the k-means the first ``n_samples_kmeans`` of them.

    Parameters
    ----------
    cube
        One date (``time`` of length 1 or absent) with the reflectance ``bands`` (e.g. from
        :func:`terra_lab.load`, or :func:`terra_lab.products.synthesis.median_composite`).
    params
        biodivMapR's settings, default :class:`~terra_lab.products.params.BiodivMapRParams`
        (its published values): ``bands`` (default the 10 Sentinel-2 bands at 10 and 20 m);
        ``components``, the principal components kept, 1-based (``(1, 2, 4)`` keeps PC#1, PC#2
        and PC#4), as biodivMapR asks its user to choose them after looking at the PCA image
        (default: the first components that together explain ``explained_variance``, 0.99,
        of the standardised variance, at least 2); ``n_clusters`` and ``n_partitions``
        (biodivMapR ``nb_clusters`` = 50 and ``nb_partitions`` = 20; its version 2 calls the
        latter ``nb_iter``, default 10); ``n_samples_pca`` and ``n_samples_kmeans``, pixels
        sampled for the PCA (``nb_pix_pca`` = 1e6) and the k-means (``nb_samples_alpha`` = 1e5,
        split evenly between the partitions); ``n_init`` and ``max_iter`` (R ``kmeans(nstart =
        10, iter.max = 50)``); ``ndvi_threshold``, ``nir_threshold``, ``blue_threshold``, the
        radiometric filter (``radiometric_filtering`` defaults NDVI 0.65, NIR 1500 and blue 500
        in reflectance x 10000: pixels are kept when NDVI >= ``ndvi_threshold``, nir >=
        ``nir_threshold`` and blue <= ``blue_threshold``; ``None`` disables a test);
        ``mask_layers``, boolean layers of the cube that mask pixels (those missing are
        ignored); ``continuum_removal`` (off by default, see the module notes); ``seed`` of
        the pixel sample, the partitions and the k-means.
    **overrides
        Fields of ``params`` to replace: ``fit_spectral_species(cube, n_clusters=10, seed=1)``.

    Returns
    -------
    SpectralSpecies

    Raises
    ------
    MissingBandError
        A band is missing from the cube.
    SpectralDiversityError
        Several dates, or too few valid pixels for ``n_partitions`` x ``n_clusters``.

    References
    ----------
    .. [1] Féret, J.-B., de Boissieu, F. (2020). biodivMapR: an R package for alpha- and
       beta-diversity mapping using remotely sensed images. Methods Ecol. Evol. 11, 64-70.
    """
    product = "fit_spectral_species"
    p = with_overrides(params, BiodivMapRParams, overrides, product)
    rng = np.random.default_rng(p.seed)
    x = _sample_features(cube, p, rng, product)
    xp = x[: p.n_samples_pca]
    mean, scale, vecs, ratio = _standardised_pca(xp, product)
    components = _components(ratio, p, product)
    per_part = min(x.shape[0], p.n_samples_kmeans) // p.n_partitions
    pcs = ((x[: per_part * p.n_partitions] - mean) / scale) @ vecs[:, [c - 1 for c in components]]
    lo, spread = _iqr_bounds(pcs, product)
    centroids = _kmeans_per_partition((pcs - lo) / spread, p, rng, per_part)
    recorded = asdict(p) | {"bands": list(p.bands), "components": list(components), "mask_layers": list(p.mask_layers),
                            "n_samples_pca": int(xp.shape[0]), "n_samples_kmeans": int(per_part * p.n_partitions)}
    return SpectralSpecies(bands=p.bands, ndvi_threshold=p.ndvi_threshold, nir_threshold=p.nir_threshold,
                           blue_threshold=p.blue_threshold, mask_layers=p.mask_layers,
                           continuum_removal=p.continuum_removal, mean=mean, scale=scale, loadings=vecs,
                           explained_variance_ratio=ratio, components=components, iqr_min=lo, iqr_range=spread,
                           centroids=centroids, params=recorded)


def _sample_features(cube: xr.Dataset, p: BiodivMapRParams, rng: np.random.Generator, product: str) -> np.ndarray:
    """Step 1: a random sample of valid pixels (radiometric filter, masks) as PCA input features."""
    need = _needed_bands(p.bands, p.ndvi_threshold, p.nir_threshold, p.blue_threshold)
    arr = _reflectance(cube, need, p.mask_layers, product)
    rows = _sample_rows(rechunk(arr, band=-1).data, max(p.n_samples_pca, p.n_samples_kmeans), rng)
    valid = _radiometric_mask(rows, need, p.ndvi_threshold, p.nir_threshold, p.blue_threshold)
    rows = rows[valid][:, [need.index(b) for b in p.bands]]
    per_part = min(rows.shape[0], p.n_samples_kmeans) // p.n_partitions
    if per_part < p.n_clusters:
        raise _no_valid(product, rows.shape[0], "pixel") if rows.shape[0] < p.n_clusters else SpectralDiversityError(
            f"{product}: {rows.shape[0]} valid pixels sampled, {per_part} per partition, fewer than "
            f"n_clusters={p.n_clusters}; lower n_clusters or n_partitions, or use a larger area")
    x = _pca_input(rows, p.bands, p.continuum_removal, np.ones(rows.shape[0], bool))
    return x[np.isfinite(x).all(axis=1)]


def _standardised_pca(xp: np.ndarray, product: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: (mean, scale, eigenvectors by decreasing variance, explained variance ratio), as R
    ``prcomp(scale = TRUE)``, each eigenvector's sign fixed so its largest loading is positive."""
    mean = xp.mean(axis=0)
    scale = xp.std(axis=0, ddof=1)
    if np.any(scale == 0):
        flat = [i for i, s in enumerate(scale) if s == 0]
        raise SpectralDiversityError(f"{product}: PCA input feature(s) {flat} are constant over the sample; "
                                     "drop those bands (bands=[...])")
    vals, vecs = np.linalg.eigh(np.cov((xp - mean) / scale, rowvar=False))
    order = np.argsort(vals)[::-1]
    vals, vecs = np.clip(vals[order], 0, None), vecs[:, order]
    vecs *= np.where(vecs[np.abs(vecs).argmax(axis=0), np.arange(vecs.shape[1])] < 0, -1.0, 1.0)  # deterministic sign
    return mean, scale, vecs, vals / vals.sum()


def _components(ratio: np.ndarray, p: BiodivMapRParams, product: str) -> tuple[int, ...]:
    """Step 3: the components kept, 1-based (``p.components``, else those explaining ``explained_variance``)."""
    if p.components is None:
        n_comp = max(2, int(np.searchsorted(np.cumsum(ratio), p.explained_variance) + 1))
        return tuple(range(1, min(n_comp, len(ratio)) + 1))
    components = p.components
    bad = [c for c in components if not 1 <= c <= len(ratio)]
    if bad or not components:
        raise SpectralDiversityError(f"{product}: components {list(components)} must be 1-based PC numbers "
                                     f"between 1 and {len(ratio)}")
    return components


def _iqr_bounds(pcs: np.ndarray, product: str) -> tuple[np.ndarray, np.ndarray]:
    """Step 4: (lower bound, range) of each component without outliers (biodivMapR ``get_kmeans``:
    ``IQR_outliers(weightIQR = 3)``), which rescale the components to about 0-1."""
    q25, q75 = np.percentile(pcs, [25, 75], axis=0)
    lo, hi = q25 - 3 * (q75 - q25), q75 + 3 * (q75 - q25)
    spread = hi - lo
    if not np.all(np.isfinite(spread)) or np.any(spread <= 0):
        raise SpectralDiversityError(f"{product}: the selected components have no spread over the sample; "
                                     "choose other components=")
    return lo, spread


def _kmeans_per_partition(z: np.ndarray, p: BiodivMapRParams, rng: np.random.Generator, per_part: int) -> np.ndarray:
    """Step 5: k-means centres (P, K, C) of each random partition of the rescaled sample."""
    parts = rng.permutation(z.shape[0]).reshape(p.n_partitions, per_part)
    centroids = np.empty((p.n_partitions, p.n_clusters, z.shape[1]), np.float32)
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # small fits: OpenMP threads cost more than they bring (4x measured)
        for i in range(p.n_partitions):
            km = KMeans(n_clusters=p.n_clusters, n_init=p.n_init, max_iter=p.max_iter, random_state=p.seed * 1000 + i)
            centroids[i] = km.fit(z[parts[i]]).cluster_centers_
    return centroids


def _model_bands(model: SpectralSpecies) -> list[str]:
    return _needed_bands(model.bands, model.ndvi_threshold, model.nir_threshold, model.blue_threshold)


def _labels_block(block: np.ndarray, model: SpectralSpecies, need: list[str]) -> np.ndarray:
    b, ny, nx = block.shape
    rows = block.reshape(b, -1).T
    valid = _radiometric_mask(rows, need, model.ndvi_threshold, model.nir_threshold, model.blue_threshold)
    rows = np.where(valid[:, None], rows, np.nan)[:, [need.index(x) for x in model.bands]]
    return model.labels(rows).reshape(model.n_partitions, ny, nx)


def _counts_block(block: np.ndarray, model: SpectralSpecies, need: list[str], window: int) -> np.ndarray:
    labels = _labels_block(block, model, need)
    _, ny, nx = labels.shape
    out = np.empty((-(-ny // window), -(-nx // window), model.n_partitions, model.n_clusters), np.int32)
    k.window_counts(labels, window, model.n_clusters, out)
    return out


def _window_chunks(data: da.Array, window: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    ys, xs = (tuple(-(-c // window) for c in data.chunks[i]) for i in (1, 2))
    return ys, xs


def _counts(cube: xr.Dataset, model: SpectralSpecies, window: int, product: str) -> da.Array:
    """Lazy spectral-species counts (nwy, nwx, P, K) of every window."""
    need = _model_bands(model)
    arr = _reflectance(cube, need, model.mask_layers, product)
    _check_window(arr, window, product)
    data = _aligned(arr, window)
    cy, cx = _window_chunks(data, window)
    return da.map_blocks(_counts_block, data, model=model, need=need, window=window, dtype=np.int32,
                         chunks=(cy, cx, (model.n_partitions,), (model.n_clusters,)), drop_axis=0, new_axis=[2, 3])


def fit_beta_reference(
    cube: xr.Dataset,
    model: SpectralSpecies,
    *,
    window_size: int = 10,
    n_samples: int = 2000,
    min_sun: float = 0.25,
    pcelim: float = 0.02,
    n_components: int = 3,
    seed: int = 0,
) -> BetaReference:
    """Reference windows of beta diversity: Bray-Curtis dissimilarities and their PCoA (eager).

    ``n_samples`` windows (biodivMapR ``nb_samples_beta`` = 2000) are drawn at random among
    those whose valid share is above ``min_sun``; like biodivMapR's ``init_PCoA``, a first draw
    of ``n_samples`` windows is complemented by a second one sized by the first's success rate
    (+10 %).  Their spectral-species distributions (species under ``pcelim`` of the window
    dropped, then proportions) are compared by Bray-Curtis dissimilarity per partition,
    averaged over partitions, and ordinated by classical scaling on ``n_components`` axes.

    Eager: computes the spectral species of the chunks holding the drawn windows (usually the
    whole image); keep the result to map several areas or to rerun :func:`spectral_diversity`
    lazily.

    Raises
    ------
    SpectralDiversityError
        Window larger than the image, or fewer than 2 windows with enough valid pixels.
    """
    product = "fit_beta_reference"
    counts = _counts(cube, model, window_size, product)
    nwy, nwx = counts.shape[:2]
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(nwy * nwx)
    pix = window_size * window_size
    win_parts: list[np.ndarray] = []
    cnt_parts: list[np.ndarray] = []
    pos = 0
    while pos < order.size and sum(len(w) for w in win_parts) < n_samples:
        got = sum(len(w) for w in win_parts)
        # first draw n_samples windows, then complement by the success rate + 10 % (biodivMapR init_PCoA)
        take = n_samples if pos == 0 else int(math.ceil(1.1 * (n_samples - got) / max(got / pos, 1e-3)))
        iy, ix = np.divmod(np.sort(order[pos:pos + take]), nwx)
        pos += take
        c = counts.vindex[iy, ix].compute()  # (m, P, K)
        ok = c[:, 0, :].sum(axis=1) / pix > min_sun
        win_parts.append(np.stack([iy[ok], ix[ok]], axis=1))
        cnt_parts.append(c[ok])
    wins = np.concatenate(win_parts)[:n_samples]
    cnts = np.concatenate(cnt_parts)[:n_samples]
    if wins.shape[0] < 2:
        raise SpectralDiversityError(
            f"{product}: {wins.shape[0]} window(s) of {window_size} x {window_size} pixels have more than "
            f"min_sun={min_sun} of valid pixels; beta diversity needs at least 2: use smaller windows, a lower "
            "min_sun, a clearer image or a relaxed radiometric mask")
    ssd: np.ndarray = np.empty(cnts.shape, np.float64)
    k.normalized_ssd(cnts, pcelim, ssd)
    bc = np.empty((ssd.shape[0], ssd.shape[0]))
    ref = np.ascontiguousarray(ssd.transpose(1, 0, 2))
    k.bray_curtis_to_reference(ssd, ref, bc)
    bc = 0.5 * (bc + bc.T)
    np.fill_diagonal(bc, 0.0)
    coords, eig = k.classical_mds(bc, n_components)
    return BetaReference(window_size=int(window_size), ssd=ref, dissimilarity=bc, coordinates=coords,
                         eigenvalues=eig, windows=wins, min_sun=min_sun, pcelim=pcelim)


# ------------------------------------------------------------------------------------ applying
def _diversity_block(block, *, model, need, window, min_sun, pcelim, ref, knn):
    counts = _counts_block(block, model, need, window)
    nwy, nwx = counts.shape[:2]
    flat = counts.reshape(nwy * nwx, model.n_partitions, model.n_clusters)
    alpha = np.empty((flat.shape[0], len(k.ALPHA_FIELDS)))
    k.alpha_from_counts(flat, float(window * window), min_sun, pcelim, alpha)
    cols = [alpha]
    if ref is not None:
        ssd = np.empty(flat.shape)
        k.normalized_ssd(flat, pcelim, ssd)
        bc = np.empty((flat.shape[0], ref.ssd.shape[1]))
        k.bray_curtis_to_reference(ssd, ref.ssd, bc)
        bc[np.isnan(alpha[:, 2])] = np.nan  # beta only for windows with enough valid pixels
        beta = np.empty((flat.shape[0], ref.coordinates.shape[1]))
        k.knn_projection(bc, ref.coordinates, knn, beta)
        cols.append(beta)
    return np.concatenate(cols, axis=1).reshape(nwy, nwx, -1).astype(np.float32)


def _window_coords(arr: xr.DataArray, window: int) -> dict:
    out = {}
    for dim in ("y", "x"):
        c = arr[dim].values.astype(np.float64)
        step = (c[1] - c[0]) if c.size > 1 else 1.0
        n = -(-c.size // window)
        out[dim] = xr.DataArray(c[0] + (np.arange(n) * window + (window - 1) / 2.0) * step, dims=dim,
                                attrs=arr[dim].attrs)
    return out


def spectral_diversity(
    cube: xr.Dataset,
    *,
    model: SpectralSpecies | None = None,
    window_size: int = 10,
    alpha: Sequence[str] = ("shannon", "simpson"),
    beta: bool | BetaReference = True,
    min_sun: float = 0.25,
    pcelim: float = 0.02,
    n_samples_beta: int = 2000,
    n_pcoa: int = 3,
    knn: int = 3,
    seed: int = 0,
) -> xr.Dataset:
    """Alpha and beta spectral diversity per window (biodivMapR), lazily.

    Parameters
    ----------
    cube
        One date with the model's bands (see :func:`fit_spectral_species`).
    model
        A fitted :class:`SpectralSpecies`; default: fitted here with the biodivMapR defaults
        and ``seed`` (eager, on a pixel sample).
    window_size
        Window side in pixels (biodivMapR default 10: 100 m at 10 m).  The output has one cell
        per window, centred on it.
    alpha
        Alpha metrics among ``"richness"``, ``"shannon"``, ``"simpson"``, ``"fisher"``; each
        comes with ``<metric>_sd``, its standard deviation over the partitions.
    beta
        ``True``: fit a :class:`BetaReference` here (eager, :func:`fit_beta_reference` with
        ``n_samples_beta``, ``n_pcoa``, ``seed``); a :class:`BetaReference`: use it (the whole
        function is then lazy); ``False``: no beta diversity.
    min_sun
        Windows need a valid share of their ``window_size``\\ :sup:`2` pixels above this
        (biodivMapR 0.25); others are NaN.
    pcelim
        Spectral species under this share of a window's valid pixels are ignored (0.02).
    knn
        Reference windows used to place each window in the PCoA (3).

    Returns
    -------
    xarray.Dataset
        On the window grid (``y``, ``x``): the requested alpha metrics and their ``_sd``,
        ``valid_fraction`` (valid pixels / window_size\\ :sup:`2`), and with beta, ``beta``
        (``pcoa``, y, x), the windows' PCoA coordinates.  CRS and provenance attached.

    Raises
    ------
    MissingBandError
        A band is missing from the cube.
    SpectralDiversityError
        Several dates, window larger than the image, unknown metric, no valid pixel.

    References
    ----------
    .. [1] Féret, J.-B., Asner, G. P. (2014). Ecological Applications 24(6), 1289-1296.
    .. [2] Féret, J.-B., de Boissieu, F. (2020). Methods Ecol. Evol. 11, 64-70.

    Examples
    --------
    >>> import terra_lab
    >>> from terra_lab.products.diversity import DIVERSITY_BANDS, fit_spectral_species, spectral_diversity
    >>> items = [i for i in terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
    ...          if "20230618" in i["id"] and "_T31TGK_" in i["id"]]
    >>> cube = terra_lab.load(items, bands=list(DIVERSITY_BANDS), resolution=10)
    >>> model = fit_spectral_species(cube, n_partitions=4, n_init=2)  # doctest: +SKIP
    >>> div = spectral_diversity(cube, model=model, window_size=10)  # doctest: +SKIP
    >>> div.shannon.plot()  # doctest: +SKIP
    """
    product = "spectral_diversity"
    alpha = tuple(alpha)
    unknown = [a for a in alpha if a not in _ALPHA]
    if unknown:
        raise SpectralDiversityError(f"{product}: unknown alpha metric(s) {unknown}; choose among {list(_ALPHA)}")
    d = _DEFAULTS
    need = _model_bands(model) if model is not None else _needed_bands(d.bands, d.ndvi_threshold, d.nir_threshold,
                                                                         d.blue_threshold)
    arr = _reflectance(cube, need, model.mask_layers if model is not None else d.mask_layers, product)
    window = _check_window(arr, window_size, product)
    if model is None:
        model = fit_spectral_species(cube, seed=seed)
    ref = None
    if isinstance(beta, BetaReference):
        if beta.window_size != window:
            raise SpectralDiversityError(f"{product}: the beta reference was fitted with window_size="
                                         f"{beta.window_size}, not {window}; refit it with fit_beta_reference")
        if beta.ssd.shape[0] != model.n_partitions or beta.ssd.shape[2] != model.n_clusters:
            raise SpectralDiversityError(f"{product}: the beta reference belongs to another model; refit it "
                                         "with fit_beta_reference(cube, model)")
        ref = beta
    elif beta:
        ref = fit_beta_reference(cube, model, window_size=window, n_samples=n_samples_beta, min_sun=min_sun,
                                 pcelim=pcelim, n_components=n_pcoa, seed=seed)
    data = _aligned(arr, window)
    cy, cx = _window_chunks(data, window)
    n_out = len(k.ALPHA_FIELDS) + (ref.coordinates.shape[1] if ref is not None else 0)
    out = da.map_blocks(_diversity_block, data, model=model, need=need, window=window, min_sun=float(min_sun),
                        pcelim=float(pcelim), ref=ref, knn=int(knn), dtype=np.float32,
                        chunks=(cy, cx, (n_out,)), drop_axis=0, new_axis=2)
    coords = _window_coords(arr, window)
    dims = ("y", "x")
    variables = {}
    for a in alpha:
        i = k.ALPHA_FIELDS.index(a)
        variables[a] = xr.DataArray(out[:, :, i], dims=dims, coords=coords, attrs={"long_name": f"{a} (mean over partitions)"})
        variables[f"{a}_sd"] = xr.DataArray(out[:, :, i + 1], dims=dims, coords=coords,
                                            attrs={"long_name": f"{a} (standard deviation over partitions)"})
    nv = k.ALPHA_FIELDS.index("n_valid")
    variables["valid_fraction"] = xr.DataArray(out[:, :, nv] / np.float32(window * window), dims=dims, coords=coords)
    if ref is not None:
        base = len(k.ALPHA_FIELDS)
        beta_da = xr.DataArray(out[:, :, base:].transpose(2, 0, 1), dims=("pcoa", "y", "x"),
                               coords={**coords, "pcoa": np.arange(1, ref.coordinates.shape[1] + 1)},
                               attrs={"long_name": "PCoA coordinates of Bray-Curtis dissimilarity (beta diversity)"})
        variables["beta"] = beta_da
    ds = xr.Dataset(variables)
    if "spatial_ref" in cube.coords:
        ds = ds.assign_coords(spatial_ref=cube["spatial_ref"])
    ds.attrs["window_size"] = window
    params = dict(model.params, window_size=window, alpha=list(alpha), beta=ref is not None, min_sun=min_sun,
                  pcelim=pcelim, knn=knn, n_beta_reference=int(ref.coordinates.shape[0]) if ref is not None else 0)
    return with_provenance(ds, algorithm="spectral diversity (biodivMapR)", params=params, source=cube, reference=_REF)


def spectral_species(cube: xr.Dataset, model: SpectralSpecies) -> xr.DataArray:
    """Spectral species of every pixel for each partition, lazily: int16 (partition, y, x), -1 where masked.

    Uses the fitted ``model`` (see :func:`fit_spectral_species`); useful to display the
    clustering behind :func:`spectral_diversity`.
    """
    product = "spectral_species"
    need = _model_bands(model)
    arr = _reflectance(cube, need, model.mask_layers, product)
    data = rechunk(arr, band=-1).data
    labels = da.map_blocks(_labels_block, data, model=model, need=need, dtype=np.int16,
                           chunks=((model.n_partitions,), *data.chunks[1:]))
    out = xr.DataArray(labels, dims=("partition", "y", "x"),
                       coords={"partition": np.arange(model.n_partitions), "y": arr["y"], "x": arr["x"]},
                       name="spectral_species")
    if "spatial_ref" in cube.coords:
        out = out.assign_coords(spatial_ref=cube["spatial_ref"])
    out = out.rio.write_nodata(-1)
    return with_provenance(out, algorithm="spectral species (biodivMapR)", params=model.params, source=cube,
                           reference=_REF)
