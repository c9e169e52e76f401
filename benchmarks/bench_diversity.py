"""Spectral diversity (biodivMapR) on the demo scene: fitting and lazy application times.

* fit_spectral_species: eager pixel sample, standardised PCA, k-means per partition;
* fit_beta_reference: spectral-species counts of random windows, Bray-Curtis, PCoA;
* spectral_diversity: the lazy map (spectral species, alpha, beta projection) computed;
* a scipy/numpy version of the same window metrics (per-window ``np.bincount`` +
  ``scipy.stats.entropy`` + ``scipy.spatial.distance.cdist(braycurtis)``) from the same labels.

Run: ``TERRA_LAB_HOME=... python benchmarks/bench_diversity.py [--partitions 20] [--clusters 50]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import dask
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row, table

import terra_lab
from terra_lab.products.diversity import (
    DIVERSITY_BANDS,
    fit_beta_reference,
    fit_spectral_species,
    spectral_diversity,
    spectral_species,
)


def _reference(labels: np.ndarray, ref, window: int, n_clusters: int, pcelim: float, min_sun: float) -> np.ndarray:
    """Straightforward numpy/scipy window metrics: Shannon mean and the BC matrix to the references."""
    from scipy.spatial.distance import cdist
    from scipy.stats import entropy

    p_count, ny, nx = labels.shape
    out = np.full((ny // window, nx // window), np.nan)
    for i in range(ny // window):
        for j in range(nx // window):
            win = labels[:, i * window:(i + 1) * window, j * window:(j + 1) * window].reshape(p_count, -1)
            if (win[0] >= 0).sum() / window ** 2 <= min_sun:
                continue
            sh, ssd = [], []
            for p in range(p_count):
                c = np.bincount(win[p][win[p] >= 0], minlength=n_clusters).astype(float)
                c[c < pcelim * c.sum()] = 0
                sh.append(entropy(c))
                ssd.append(c / c.sum())
            out[i, j] = np.mean(sh)
            np.mean([cdist(ssd[p][None], ref.ssd[p], "braycurtis") for p in range(p_count)], axis=0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--partitions", type=int, default=20)
    ap.add_argument("--clusters", type=int, default=50)
    ap.add_argument("--update-baseline", action="store_true")
    args = ap.parse_args()
    items = [i for i in terra_lab.catalog.open("demo").search(collections="THEIA_REFLECTANCE_SENTINEL2_L2A")
             if "_T31TGK_" in i["id"] and "20230618" in i["id"]]
    cube = terra_lab.load(items, bands=list(DIVERSITY_BANDS), resolution=10, chunks={"x": 200, "y": 200})
    cube = cube.persist()
    rows = []
    with dask.config.set(scheduler="threads", num_workers=2):
        kw = dict(n_partitions=args.partitions, n_clusters=args.clusters)
        r_fit = measure(lambda: fit_spectral_species(cube, **kw), repeat=1)
        model = fit_spectral_species(cube, **kw)
        r_beta = measure(lambda: fit_beta_reference(cube, model), repeat=1)
        ref = fit_beta_reference(cube, model)
        r_apply = measure(lambda: spectral_diversity(cube, model=model, beta=ref).compute(), repeat=3)
        labels = spectral_species(cube, model).values
    r_ref = measure(lambda: _reference(labels, ref, 10, model.n_clusters, 0.02, 0.25), repeat=1, warmup=0)
    for name, r in (("fit_spectral_species (eager sample, PCA, k-means)", r_fit),
                    ("fit_beta_reference (eager, 2000 windows max)", r_beta),
                    ("spectral_diversity compute (lazy map, alpha + beta)", r_apply),
                    ("numpy/scipy window metrics from precomputed labels", r_ref)):
        rows.append({"step": name, "best s": f"{r['best']:.2f}", "peak MiB": f"{r['peak_mib']:.0f}"})
    print(f"Spectral diversity on the demo scene ({cube.sizes['y']} x {cube.sizes['x']} px at 10 m, 10 bands), "
          f"{args.partitions} partitions x {args.clusters} clusters, window 10 px, {len(ref.windows)} beta references; "
          "dask threads, 2 workers")
    print(table(rows, ["step", "best s", "peak MiB"]))
    check_baseline("bench_diversity", [row("diversity: spectral_diversity map vs numpy/scipy window metrics", r_apply,
                                           r_ref)],
                   config=f"demo, {args.partitions} x {args.clusters}", update=args.update_baseline)


if __name__ == "__main__":
    main()
