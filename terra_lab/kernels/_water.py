"""numba kernels of the water products: masked histograms and Otsu's threshold (``water_mask(threshold="otsu")``)."""

from __future__ import annotations

import numpy as np

from ._jit import jit

__all__ = ["histogram_masked", "otsu_from_counts"]


@jit()
def histogram_masked(values, mask, lo, hi, counts):  # pragma: no cover - numba
    """Add the finite ``values`` where ``mask`` is true into ``counts`` (equal bins over [lo, hi])."""
    nb = counts.shape[0]
    scale = nb / (hi - lo)
    ny, nx = values.shape
    for j in range(ny):
        for i in range(nx):
            v = values[j, i]
            if mask[j, i] and not np.isnan(v):
                b = int((v - lo) * scale)
                if b < 0:
                    b = 0
                elif b >= nb:
                    b = nb - 1
                counts[b] += 1


def otsu_from_counts(counts: np.ndarray, lo: float, hi: float) -> float:
    """Otsu's threshold (maximum between-class variance) of a histogram; NaN if it has < 2 classes.

    Returns the centre of the last bin of the lower class, as
    ``skimage.filters.threshold_otsu(hist=(counts, centres))`` does.
    """
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("nan")
    nb = counts.size
    centres = lo + (np.arange(nb) + 0.5) * (hi - lo) / nb
    w0 = np.cumsum(counts)
    w1 = total - w0
    m0 = np.cumsum(counts * centres)
    mu0 = np.divide(m0, w0, out=np.zeros(nb), where=w0 > 0)
    mu1 = np.divide(m0[-1] - m0, w1, out=np.zeros(nb), where=w1 > 0)
    between = w0 * w1 * (mu0 - mu1) ** 2
    between[(w0 == 0) | (w1 == 0)] = -1
    if between.max() <= 0:
        return float("nan")
    return float(centres[int(np.argmax(between))])
