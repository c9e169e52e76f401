"""Effective mesh size on a large patchy raster: terra_lab vs pylandstats (and vs a scipy labelling);
accumulated cost-distance: terra_lab vs scikit-image's MCP_Geometric.

* m_eff: a ``--size`` x ``--size`` (default 4096) land cover, habitat (1) / other (2), made by
  thresholding Gaussian-smoothed noise at its median; 10 m pixels, 4-connectivity (FragScape) and
  8-connectivity (pylandstats' default).  terra_lab: :func:`effective_mesh_size` on the
  DataArray (whole call, masks included); pylandstats: ``Landscape(arr, res=(10, 10),
  neighborhood_rule=...).effective_mesh_size(class_val=1)`` including the ``Landscape``
  construction; scipy: ``ndimage.label`` + ``bincount`` (the labelling FragScape itself uses).
  The values are checked equal.
* cost-distance: random frictions in [1, 100] with 20 source cells at ``--cost-sizes`` (400, the
  demo land cover's size, and 2048); terra_lab :func:`cost_distance` vs
  ``MCP_Geometric(friction).find_costs(sources)``; maximal absolute difference reported.

Run: ``python benchmarks/bench_mesh.py [--size 4096] [--cost-sizes 400 2048]``.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import xarray as xr
from scipy import ndimage

sys.path.insert(0, os.path.dirname(__file__))
from _util import check_baseline, measure, row, table

from terra_lab.products.continuity import cost_distance
from terra_lab.products.fragmentation import effective_mesh_size


def patchy(size: int, sigma: float = 6.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = ndimage.gaussian_filter(rng.standard_normal((size, size), dtype=np.float32), sigma)
    return np.where(noise > np.median(noise), 1, 2).astype(np.uint8)


def as_grid(values: np.ndarray, res: float = 10.0) -> xr.DataArray:
    ny, nx = values.shape
    da = xr.DataArray(values, dims=("y", "x"),
                      coords={"y": 5_000_000 - (np.arange(ny) + 0.5) * res, "x": 700_000 + (np.arange(nx) + 0.5) * res})
    return da.rio.write_crs(32631)


def scipy_meff(values: np.ndarray, conn: int, cell: float = 100.0) -> float:
    struct = ndimage.generate_binary_structure(2, 1 if conn == 4 else 2)
    labels, _ = ndimage.label(values == 1, struct)
    sizes = np.bincount(labels.ravel())[1:].astype(np.float64) * cell
    return float((sizes ** 2).sum() / (values.size * cell) / 1e4)


def mesh_rows(size: int, ratios: list | None = None) -> list[dict]:
    from pylandstats import Landscape

    values = patchy(size)
    da = as_grid(values)
    rows = []
    for conn in (4, 8):
        ours = float(effective_mesh_size(da, classes=1, connectivity=conn).effective_mesh_size)
        ref = Landscape(values, res=(10, 10), nodata=0, neighborhood_rule=str(conn)).effective_mesh_size(class_val=1)
        sp = scipy_meff(values, conn)
        assert np.isclose(ours, ref, rtol=1e-12) and np.isclose(ours, sp, rtol=1e-12), (ours, ref, sp)
        r_ours = measure(lambda: effective_mesh_size(da, classes=1, connectivity=conn), repeat=3)
        r_pls = measure(lambda: Landscape(values, res=(10, 10), nodata=0, neighborhood_rule=str(conn))
                        .effective_mesh_size(class_val=1), repeat=2)
        r_sp = measure(lambda: scipy_meff(values, conn), repeat=3)
        if ratios is not None:
            ratios += [row(f"fragmentation: m_eff {conn}-conn vs pylandstats", r_ours, r_pls),
                       row(f"fragmentation: m_eff {conn}-conn vs scipy label + bincount", r_ours, r_sp)]
        for name, r in (("terra_lab effective_mesh_size", r_ours), ("pylandstats", r_pls),
                        ("scipy ndimage.label + bincount", r_sp)):
            rows.append({"connectivity": conn, "method": name, "best s": f"{r['best']:.3f}",
                         "pylandstats / method": f"{r_pls['best'] / r['best']:.2f}x",
                         "peak MiB": f"{r['peak_mib']:.0f}", "m_eff (ha)": f"{ours:.4f}"})
    return rows


def cost_rows(sizes: list[int], ratios: list | None = None) -> list[dict]:
    from skimage.graph import MCP_Geometric

    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        friction = rng.uniform(1, 100, (n, n))
        src = np.zeros((n, n), bool)
        src[rng.integers(0, n, 20), rng.integers(0, n, 20)] = True
        f, s = as_grid(friction), as_grid(src)
        starts = list(zip(*np.nonzero(src)))
        ours = cost_distance(f, s).values
        ref, _ = MCP_Geometric(friction).find_costs(starts)
        diff = float(np.abs(ours - ref).max())
        r_ours = measure(lambda: cost_distance(f, s), repeat=3)
        r_mcp = measure(lambda: MCP_Geometric(friction).find_costs(starts), repeat=3)
        if ratios is not None:
            ratios.append(row(f"continuity: cost_distance {n} px vs skimage MCP_Geometric", r_ours, r_mcp))
        for name, r in (("terra_lab cost_distance", r_ours), ("skimage MCP_Geometric", r_mcp)):
            rows.append({"size": f"{n} x {n}", "method": name, "best s": f"{r['best']:.3f}",
                         "MCP / method": f"{r_mcp['best'] / r['best']:.2f}x", "peak MiB": f"{r['peak_mib']:.0f}",
                         "max |diff|": f"{diff:.1e}"})
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--cost-sizes", type=int, nargs="*", default=[400, 2048])
    p.add_argument("--update-baseline", action="store_true")
    args = p.parse_args()
    ratios: list[dict] = []
    print(f"Effective mesh size, {args.size} x {args.size} patchy habitat raster (10 m pixels); values equal")
    print(table(mesh_rows(args.size, ratios), ["connectivity", "method", "best s", "pylandstats / method",
                                               "peak MiB", "m_eff (ha)"]))
    print("target: terra_lab faster than pylandstats (pylandstats / method > 1x on the terra_lab rows)")
    if args.cost_sizes:
        print("\nAccumulated cost-distance (8 neighbours, 20 sources, frictions U[1, 100])")
        print(table(cost_rows(args.cost_sizes, ratios), ["size", "method", "best s", "MCP / method", "peak MiB",
                                                         "max |diff|"]))
    check_baseline("bench_mesh", ratios, config=f"{args.size} px", update=args.update_baseline)


if __name__ == "__main__":
    main()
