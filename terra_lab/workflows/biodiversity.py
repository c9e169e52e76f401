"""Biodiversity and landscape workflow: spectral diversity (biodivMapR) of the clearest date of a
period, and, from the catalogue's OSO land-cover map, the fragmentation (FragScape effective mesh
size) and ecological continuity (BioDispersal least-cost dispersal) of a habitat.

Habitats and frictions are written in OSO's 23-class codes (:data:`HABITATS`, :data:`FRICTIONS`).
A catalogue without an OSO collection raises :class:`~terra_lab.errors.UnknownCollectionError`,
unless ``require_landcover=False``: then only the spectral diversity is computed and the
result's ``notes`` say so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ._aux import FOREST_CLASSES, find_landcover, load_landcover
from ._progress import Progress, report
from ._search import search_reflectance

__all__ = ["FRICTIONS", "HABITATS", "LANDCOVER_PRODUCTS", "PRESETS", "BiodiversityResult", "BiodiversitySettings",
           "biodiversity_workflow", "clearest_date"]

#: habitats as OSO classes: forest (broad-leaved, coniferous), grassland (meadows),
#: alpine meadows (natural grasslands and the mineral surfaces they border)
HABITATS: dict[str, tuple[int, ...]] = {"forest": FOREST_CLASSES, "grassland": (13,), "alpine meadows": (18, 20)}

_BUILT, _CROPS, _ORCHARDS = (1, 2, 3, 4), (5, 6, 7, 8, 9, 10, 11, 12), (14, 15)


def _frictions(built, crops, meadow, orchard, forest, natural, moor, mineral, beach) -> dict[int, float | None]:
    """A friction per OSO class (None: impassable; glaciers 22 and water 23 always are)."""
    table = dict.fromkeys(_BUILT, built) | dict.fromkeys(_CROPS, crops) | dict.fromkeys(_ORCHARDS, orchard)
    table |= {13: meadow, 16: forest, 17: forest, 18: natural, 19: moor, 20: mineral, 21: beach, 22: None, 23: None}
    return table


#: friction per OSO class for each habitat's species group (None: impassable), BioDispersal-style
FRICTIONS: dict[str, dict[int, float | None]] = {
    "forest": _frictions(None, 30, 10, 15, 1, 10, 5, 20, 50),
    "grassland": _frictions(None, 20, 1, 10, 12, 2, 8, 5, 30),
    "alpine meadows": _frictions(None, 50, 10, 30, 20, 1, 5, 1, 50),
}


@dataclass(frozen=True)
class BiodiversitySettings:
    """Habitat studied, dispersal capacity (accumulated cost, cells), diversity window (pixels),
    spectral species (k-means clusters) and reporting cell of the mesh size (km)."""

    habitat: str = "forest"
    dispersal: float = 60.0
    window: int = 10
    clusters: int = 10
    cell_km: float = 1.0


PRESETS: dict[str, BiodiversitySettings] = {
    "mountain forest": BiodiversitySettings("forest", 60.0, 10, 10),
    "valley grasslands": BiodiversitySettings("grassland", 40.0, 10, 10),
    "alpine pastures": BiodiversitySettings("alpine meadows", 80.0, 10, 10),
}

#: the layers that need a land-cover map
LANDCOVER_PRODUCTS = ("mesh_cutting", "mesh_cbc", "dispersal_cost")


@dataclass(frozen=True)
class BiodiversityResult:
    """What :func:`biodiversity_workflow` computed (in memory).  ``layers`` holds shannon, simpson,
    beta_pcoa1 and, with a land-cover map, mesh_cutting, mesh_cbc (ha) and dispersal_cost (cells)."""

    date: Any
    layers: dict[str, xr.DataArray]
    landcover: xr.DataArray | None         #: OSO classes on the 10 m grid (None without a land-cover map)
    dispersal_area: xr.DataArray | None    #: True where the habitat's species can disperse
    whole_mesh: xr.Dataset | None          #: effective mesh size and patch count of the whole area
    notes: tuple[str, ...] = ()
    provenance: dict = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        """The summary's numbers: ``shannon_median``, and with the land-cover map ``mesh_ha``,
        ``patches``, ``dispersal_ha`` and ``dispersal_share`` (0..1)."""
        out: dict[str, Any] = {"shannon_median": float(self.layers["shannon"].median())}
        area = self.dispersal_area
        if self.whole_mesh is not None and area is not None:  # both come with the land-cover map
            px_ha = abs(float(np.prod(area.rio.resolution()))) / 1e4
            out.update(mesh_ha=float(self.whole_mesh["effective_mesh_size"]), patches=int(self.whole_mesh["n_patches"]),
                       dispersal_ha=float(area.sum()) * px_ha, dispersal_share=float(area.mean()))
        return out

    def summary(self) -> list[tuple[str, str]]:
        """(name, value) rows: date, median Shannon, and the landscape figures when computed."""
        f = self.figures()
        rows = [("date", str(self.date)), ("Shannon (median)", f"{f['shannon_median']:.2f}")]
        if "mesh_ha" in f:
            rows += [("effective mesh size (ha)", f"{f['mesh_ha']:.1f}"),
                     ("habitat patches", f"{f['patches']}"),
                     ("potential dispersal area (ha)", f"{f['dispersal_ha']:.1f} ({100 * f['dispersal_share']:.0f} %)")]
        return rows


def clearest_date(res) -> tuple[list[dict], Any]:
    """Items of the acquisition date whose cloudiest item is the least cloudy (unknown cover counts as 100 %)."""
    gdf = res.gdf.assign(day=lambda d: d["datetime"].dt.date)
    cover = gdf.get("eo:cloud_cover", 100.0)
    worst = gdf.assign(cover=cover).fillna({"cover": 100.0}).groupby("day")["cover"].max()
    day = worst.idxmin()
    ids = set(gdf.loc[gdf["day"] == day, "id"])
    return [it for it in res.items if it["id"] in ids], day


def biodiversity_workflow(catalog: Any, aoi: Any, start: Any, end: Any, settings: BiodiversitySettings | None = None,
                          *, collection: str | None = None, landcover_collection: str | None = None,
                          require_landcover: bool = True, max_cloud: float | None = None,
                          progress: Progress | None = None) -> BiodiversityResult:
    """Spectral diversity of the clearest date of ``start .. end`` over ``aoi``, and the landscape
    metrics of ``settings.habitat`` from the catalogue's OSO land cover.

    Examples
    --------
    >>> r = biodiversity_workflow("demo", (6.28, 45.17, 6.34, 45.21), "2023-06-01", "2023-08-31")  # doctest: +SKIP
    >>> r.summary()                                                                                  # doctest: +SKIP
    """
    import terra_lab

    from ..catalog import parse_aoi
    from ..products.continuity import continuity, friction_from_classes, habitat_sources
    from ..products.diversity import DIVERSITY_BANDS, fit_spectral_species, spectral_diversity
    from ..products.fragmentation import effective_mesh_size

    s = settings or BiodiversitySettings()
    if s.habitat not in HABITATS:
        raise ValueError(f"unknown habitat {s.habitat!r}; use one of {sorted(HABITATS)}")
    report(progress, "search")
    cat, cid, res = search_reflectance(catalog, aoi, start, end, collection=collection, max_cloud=max_cloud)
    # the land cover is looked up first: a missing one fails before any pixel is read
    notes: list = []
    lc, area, whole = None, None, None
    lc_id = find_landcover(cat, landcover_collection, require=require_landcover, notes=notes,
                           note="no_landcover_diversity")
    items, day = clearest_date(res)
    report(progress, "read")
    cube = terra_lab.load(items, bands=list(DIVERSITY_BANDS), resolution=10, bbox=parse_aoi(aoi),
                          chunks={"y": 20 * s.window, "x": 20 * s.window})
    report(progress, "compute")
    # all land covers (no NDVI filter): the workshop compares habitats, not only dense canopies
    model = fit_spectral_species(cube, n_clusters=s.clusters, n_partitions=4, n_init=3, n_samples_kmeans=40_000,
                                 ndvi_threshold=None, nir_threshold=None, blue_threshold=None, seed=0)
    div = spectral_diversity(cube, model=model, window_size=s.window).compute()
    layers = {"shannon": div["shannon"].assign_attrs(div.attrs), "simpson": div["simpson"].assign_attrs(div.attrs),
              "beta_pcoa1": div["beta"].isel(pcoa=0, drop=True).assign_attrs(
                  div.attrs, long_name="beta diversity, PCoA axis 1")}
    if lc_id is not None:
        grid = cube["blue"].isel(time=0, drop=True) if "time" in cube.dims else cube["blue"]
        lc = load_landcover(cat, grid, collection=lc_id, date=day).compute()
        classes = list(HABITATS[s.habitat])
        for method in ("cutting", "cbc"):
            mesh = effective_mesh_size(lc, classes=classes, grid_size=s.cell_km * 1000.0, method=method)
            layers[f"mesh_{method}"] = mesh["effective_mesh_size"].assign_attrs(
                mesh.attrs, long_name=f"effective mesh size, {method} (ha)")
        sources = habitat_sources(lc, classes=classes, min_area=10_000.0)  # reservoirs of at least 1 ha
        cont = continuity(friction_from_classes(lc, FRICTIONS[s.habitat]), sources, max_cost=s.dispersal)
        layers["dispersal_cost"] = cont["cost"].assign_attrs(cont.attrs, long_name="accumulated cost (cells)").compute()
        area = cont["dispersal_area"].compute()
        whole = effective_mesh_size(lc, classes=classes)
    return BiodiversityResult(
        date=day, layers=layers, landcover=lc, dispersal_area=area, whole_mesh=whole, notes=tuple(notes),
        provenance={"catalog": cat.name, "collection": cid, "landcover_collection": lc_id, "aoi": str(aoi),
                    "period": [str(start), str(end)], "items": [it["id"] for it in items], "settings": asdict(s)},
    )
