"""numba / numpy kernels of spectral diversity (biodivMapR method): spectral species and window metrics.

Arrays in, arrays out; no xarray.  Reflectances are floats with NaN for no data; labels are
int16 with -1 for no data.

The method and its references are documented in :mod:`terra_lab.products.diversity`.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = [
    "ALPHA_FIELDS",
    "alpha_from_counts",
    "bray_curtis_to_reference",
    "classical_mds",
    "continuum_removal",
    "fisher_alpha",
    "knn_projection",
    "nearest_centroid",
    "normalized_ssd",
    "window_counts",
]

#: Columns written by :func:`alpha_from_counts`: means and (n-1) standard deviations over the
#: partitions, then the number of valid pixels of the window.
ALPHA_FIELDS = ("richness", "richness_sd", "shannon", "shannon_sd", "simpson", "simpson_sd", "fisher",
                "fisher_sd", "n_valid")


@jit()
def continuum_removal(spectra, wavelengths, out):  # pragma: no cover - numba
    """Divide each spectrum (rows of ``spectra``, (n, b)) by its upper convex hull over ``wavelengths``.

    The continuum is the upper convex hull of the points (wavelength, reflectance) linearly
    interpolated at each band; rows with a NaN or a non-positive hull give NaN.  The first and
    last bands are always 1 (biodivMapR drops them after the removal).
    """
    n, b = spectra.shape
    hull = np.empty(b, np.int64)
    for r in range(n):
        bad = False
        for j in range(b):
            if np.isnan(spectra[r, j]):
                bad = True
                break
        if bad:
            for j in range(b):
                out[r, j] = np.nan
            continue
        # upper hull by Andrew's monotone chain (wavelengths increasing)
        m = 0
        for j in range(b):
            while m >= 2:
                i0, i1 = hull[m - 2], hull[m - 1]
                cross = ((wavelengths[i1] - wavelengths[i0]) * (spectra[r, j] - spectra[r, i0])
                         - (spectra[r, i1] - spectra[r, i0]) * (wavelengths[j] - wavelengths[i0]))
                if cross >= 0:  # i1 lies on or below the chord i0 -> j
                    m -= 1
                else:
                    break
            hull[m] = j
            m += 1
        k = 0
        for j in range(b):
            while k < m - 2 and hull[k + 1] < j:
                k += 1
            i0, i1 = hull[k], hull[min(k + 1, m - 1)]
            if i1 == i0:
                c = spectra[r, i0]
            else:
                w = (wavelengths[j] - wavelengths[i0]) / (wavelengths[i1] - wavelengths[i0])
                c = spectra[r, i0] + w * (spectra[r, i1] - spectra[r, i0])
            out[r, j] = spectra[r, j] / c if c > 0 else np.nan


@jit()
def nearest_centroid(x, centroids, out):  # pragma: no cover - numba
    """Index of the nearest centroid (Euclidean) of each row of ``x`` (n, c), for every partition.

    ``centroids`` is (P, K, c); ``out`` (P, n) int16 gets -1 for rows with a NaN.
    """
    n, c = x.shape
    p_count, k_count, _ = centroids.shape
    for i in range(n):
        bad = False
        for j in range(c):
            if np.isnan(x[i, j]):
                bad = True
                break
        for p in range(p_count):
            if bad:
                out[p, i] = -1
                continue
            best, arg = np.inf, -1
            for k in range(k_count):
                d = 0.0
                for j in range(c):
                    e = x[i, j] - centroids[p, k, j]
                    d += e * e
                if d < best:
                    best, arg = d, k
            out[p, i] = arg


@jit()
def window_counts(labels, window, n_clusters, out):  # pragma: no cover - numba
    """Spectral-species counts of each ``window`` x ``window`` block of ``labels`` (P, ny, nx).

    ``out`` is (ceil(ny / window), ceil(nx / window), P, n_clusters) and is zeroed here; labels
    < 0 (no data) are not counted.  Edge windows are partial.
    """
    p_count, ny, nx = labels.shape
    out[:] = 0
    for p in range(p_count):
        for y in range(ny):
            wy = y // window
            for x in range(nx):
                lab = labels[p, y, x]
                if lab >= 0:
                    out[wy, x // window, p, lab] += 1


@jit()
def fisher_alpha(s, n):  # pragma: no cover - numba
    """Fisher's alpha: the root ``a`` of ``S = a ln(1 + N / a)`` ([3]_; vegan ``fisher.alpha``).

    NaN when undefined: fewer than 2 species, or as many species as individuals (a -> inf).
    """
    if s < 2 or n <= s:
        return np.nan
    lo, hi = 1e-12, 1.0
    while hi * np.log1p(n / hi) < s:  # increasing in a, bounded by N
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid * np.log1p(n / mid) < s:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-12 * hi:
            break
    return 0.5 * (lo + hi)


@jit()
def alpha_from_counts(counts, window_pixels, min_sun, pcelim, out):  # pragma: no cover - numba
    """Alpha diversity of windows from their spectral-species counts (nw, P, K).

    Per partition, species with fewer than ``pcelim`` x (valid pixels) are dropped, then richness,
    Shannon ``-sum p ln p``, Simpson ``1 - sum p^2`` (p renormalised over kept species) and
    Fisher's alpha of the kept counts; ``out`` (nw, 9) gets the mean and (n-1) SD over the
    partitions (Fisher over the partitions where it is defined), see :data:`ALPHA_FIELDS`.
    Windows whose valid share ``n_valid / window_pixels`` is not above ``min_sun`` get NaN.
    """
    nw, p_count, k_count = counts.shape
    vals = np.empty((4, p_count))
    for w in range(nw):
        n_valid = 0
        for k in range(k_count):
            n_valid += counts[w, 0, k]
        out[w, 8] = n_valid
        if n_valid == 0 or n_valid / window_pixels <= min_sun:
            for f in range(8):
                out[w, f] = np.nan
            continue
        thr = pcelim * n_valid
        for p in range(p_count):
            total = 0.0
            rich = 0
            for k in range(k_count):
                c = counts[w, p, k]
                if c > 0 and c >= thr:
                    total += c
                    rich += 1
            sh, sq = 0.0, 0.0
            for k in range(k_count):
                c = counts[w, p, k]
                if c > 0 and c >= thr:
                    q = c / total
                    sh -= q * np.log(q)
                    sq += q * q
            vals[0, p] = rich
            vals[1, p] = sh
            vals[2, p] = 1.0 - sq
            vals[3, p] = fisher_alpha(rich, total)
        for f in range(4):
            m, cnt = 0.0, 0
            for p in range(p_count):
                if not np.isnan(vals[f, p]):
                    m += vals[f, p]
                    cnt += 1
            if cnt == 0:
                out[w, 2 * f] = np.nan
                out[w, 2 * f + 1] = np.nan
                continue
            m /= cnt
            v = 0.0
            for p in range(p_count):
                if not np.isnan(vals[f, p]):
                    v += (vals[f, p] - m) ** 2
            out[w, 2 * f] = m
            out[w, 2 * f + 1] = np.sqrt(v / (cnt - 1)) if cnt > 1 else np.nan


@jit()
def normalized_ssd(counts, pcelim, out):  # pragma: no cover - numba
    """Spectral-species distributions (nw, P, K) as proportions after dropping species below
    ``pcelim`` x (window total); all-zero windows stay zero (biodivMapR ``get_normalized_ssd``)."""
    nw, p_count, k_count = counts.shape
    for w in range(nw):
        for p in range(p_count):
            total = 0.0
            for k in range(k_count):
                total += counts[w, p, k]
            kept = 0.0
            for k in range(k_count):
                c = counts[w, p, k]
                if c > 0 and c >= pcelim * total:
                    kept += c
            for k in range(k_count):
                c = counts[w, p, k]
                out[w, p, k] = c / kept if (c > 0 and c >= pcelim * total) else 0.0


@jit()
def bray_curtis_to_reference(ssd, reference, out):  # pragma: no cover - numba
    """Bray-Curtis dissimilarity of each window (ssd (nw, P, K)) to each reference window
    (reference (P, R, K)), averaged over the P partitions: ``out`` (nw, R).

    BC(a, b) = sum|a - b| / sum(a + b) = (Sa + Sb - 2 sum min(a, b)) / (Sa + Sb), summed over
    the window's non-zero species only (sparse); NaN when both are empty.
    """
    nw, p_count, k_count = ssd.shape
    r_count = reference.shape[1]
    ref_sum = np.zeros((p_count, r_count))
    for p in range(p_count):
        for r in range(r_count):
            for k in range(k_count):
                ref_sum[p, r] += reference[p, r, k]
    nz = np.empty(k_count, np.int64)
    for w in range(nw):
        for r in range(r_count):
            out[w, r] = 0.0
        for p in range(p_count):
            m, sa = 0, 0.0
            for k in range(k_count):
                if ssd[w, p, k] > 0:
                    nz[m] = k
                    m += 1
                    sa += ssd[w, p, k]
            for r in range(r_count):
                shared = 0.0
                for i in range(m):
                    k = nz[i]
                    shared += min(ssd[w, p, k], reference[p, r, k])
                tot = sa + ref_sum[p, r]
                out[w, r] += (tot - 2.0 * shared) / tot if tot > 0 else np.nan
        for r in range(r_count):
            out[w, r] /= p_count


@jit()
def knn_projection(dissimilarity, coords, knn, out):  # pragma: no cover - numba
    """Place windows in the reference ordination from their ``knn`` nearest reference windows.

    ``dissimilarity`` (nw, R) to the references, ``coords`` (R, d) their PCoA coordinates;
    ``out`` (nw, d) = sum_i (w_i x coords_i) with inverse-dissimilarity weights
    ``w_i = (1 / d_i) / sum_j (1 / d_j)``; a window at dissimilarity 0 of its nearest reference
    takes its coordinates (biodivMapR ``weighted_coords_nn``).  Rows with NaN give NaN.
    """
    nw, r_count = dissimilarity.shape
    d = coords.shape[1]
    kk = min(knn, r_count)
    for w in range(nw):
        row = dissimilarity[w]
        if np.isnan(row[0]):
            for j in range(d):
                out[w, j] = np.nan
            continue
        idx = np.argsort(row)[:kk]
        if row[idx[0]] == 0:
            for j in range(d):
                out[w, j] = coords[idx[0], j]
            continue
        inv = 0.0
        for i in range(kk):
            inv += 1.0 / row[idx[i]]
        for j in range(d):
            s = 0.0
            for i in range(kk):
                s += coords[idx[i], j] / row[idx[i]]
            out[w, j] = s / inv


def classical_mds(dissimilarity: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Principal coordinates (classical scaling, R ``cmdscale``) of a symmetric dissimilarity matrix.

    Returns ``(points (n, n_components), eigenvalues (n,))``: the leading eigenvectors of
    ``B = -1/2 J D^2 J`` (J the centring matrix) scaled by the square root of their eigenvalues;
    axes with non-positive eigenvalues are set to 0.
    """
    d2 = np.asarray(dissimilarity, np.float64) ** 2
    n = d2.shape[0]
    row = d2.mean(axis=1, keepdims=True)
    b = -0.5 * (d2 - row - row.T + d2.mean())
    vals, vecs = np.linalg.eigh(b)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    k = min(n_components, n)
    points = np.zeros((n, n_components))
    pos = np.clip(vals[:k], 0, None)
    points[:, :k] = vecs[:, :k] * np.sqrt(pos)
    return points, vals
