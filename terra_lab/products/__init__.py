"""THEIA product algorithms as lazy xarray/Dask functions over terra_lab cubes.

One module per product family (import the one you need; nothing heavy is loaded here).  Each
family has one name, used by its kernel module (where it has one), its test and its benchmark;
the parameters of the published algorithms are frozen objects in :mod:`.params`.

=============  ====================  ============================  ===============  ======================  ============
product        kernel                test                          benchmark        notebook                dashboard
=============  ====================  ============================  ===============  ======================  ============
masks          -                     test_products_masks           bench_pixel      -                       -
indices        -                     test_products_indices_albedo  bench_pixel      niche_model             -
albedo         -                     test_products_indices_albedo  bench_pixel      -                       -
synthesis      _synthesis            test_products_synthesis       bench_series     water                   -
snow           _snow                 test_products_snow            bench_snow       snow                    snow
water          _water                test_products_water           bench_pixel      water                   water
dieback        _dieback              test_products_dieback         bench_dieback    forest                  forest
diversity      _diversity            test_products_diversity       bench_diversity  biodiversity_landscape  biodiversity
fragmentation  _fragmentation        test_products_fragmentation   bench_mesh       biodiversity_landscape  biodiversity
continuity     _continuity           test_products_continuity      bench_mesh       biodiversity_landscape  biodiversity
landcover      _gapfill              test_products_landcover       bench_models     landcover               -
terrain        _terrain              test_products_terrain         bench_terrain    forest                  -
phenology      _phenology, _gapfill  test_products_phenology       bench_series     niche_model             -
niche          -                     test_products_niche           bench_models     niche_model             -
hexagons       _hexagons             test_products_hexagons        bench_hexagons   forest                  forest
structure      -                     test_products_structure       bench_structure_soil forest              -
soil           -                     test_products_soil            bench_structure_soil landcover           -
relief         _relief               test_products_relief          bench_relief     snow                    -
soil_moisture  _soil_moisture        test_products_soil_moisture   bench_soil_moisture water               -
biophysical    _biophysical          test_products_biophysical     bench_biophysical landcover             -
evapotranspiration _tseb, _gapfill test_products_evapotranspiration bench_evapotranspiration water      -
fire           -                     test_products_fire            bench_fire       forest                  -
change         _change, _dieback     test_products_change          bench_change     forest                  -
=============  ====================  ============================  ===============  ======================  ============

Kernels live in :mod:`terra_lab.kernels` (``_<family>.py``, or what families share: ``_gapfill``; compiled as
:mod:`terra_lab.kernels._jit` states), tests in ``tests/``, benchmarks in ``benchmarks/``, notebooks in ``notebooks/`` and
dashboards in :mod:`terra_lab.dashboards` (through :mod:`terra_lab.workflows`).  :data:`FAMILIES`
holds the same table; ``tests/test_facts.py`` checks every file it names exists.

* :mod:`~terra_lab.products.masks`, :mod:`~terra_lab.products.indices` - MAJA masks, spectral indices
* :mod:`~terra_lab.products.synthesis` - WASP L3A monthly syntheses, composites
* :mod:`~terra_lab.products.snow` - LIS snow cover (L2B) and its annual synthesis (L3B)
* :mod:`~terra_lab.products.water` - water surfaces and quality (turbidity, SPM, chlorophyll-a)
* :mod:`~terra_lab.products.albedo` - broadband albedo
* :mod:`~terra_lab.products.dieback` - forest dieback (fordead)
* :mod:`~terra_lab.products.diversity` - spectral diversity (biodivMapR)
* :mod:`~terra_lab.products.fragmentation` - effective mesh size (FragScape)
* :mod:`~terra_lab.products.continuity` - ecological continuity (BioDispersal)
* :mod:`~terra_lab.products.landcover` - iota2-like land cover with the OSO nomenclature
* :mod:`~terra_lab.products.terrain` - slope, aspect, hillshade (as gdaldem)
* :mod:`~terra_lab.products.phenology` - season metrics and the Dynamic Habitat Index
* :mod:`~terra_lab.products.niche` - species niche models (MaxEnt, elapid)
* :mod:`~terra_lab.products.hexagons` - aggregation of any product into hexagonal cells
* :mod:`~terra_lab.products.structure` - canopy height (FORMS-like) with intervals, wood volume, biomass
* :mod:`~terra_lab.products.soil` - soil properties and their 5-95 % interval (quantile regression forest)
* :mod:`~terra_lab.products.fire` - burn severity (dNBR, RdNBR, RBR) and burnt area from pre/post-fire composites
* :mod:`~terra_lab.products.change` - Whittaker smoothing with gaps, BFAST Monitor breaks, clear cuts and their dates
* :mod:`~terra_lab.products.relief` - DEM co-registration (Nuth & Kääb), elevation change and its error, glacier
  mass balance, coloured relief (the glacier ELA is in :mod:`~terra_lab.products.snow`)
* :mod:`~terra_lab.products.evapotranspiration` - TSEB-PT fluxes and SSEBop ET fraction from Landsat surface
  temperature, FAO-56 reference ET, daily and dekad ET, water-stress index
* :mod:`~terra_lab.products.soil_moisture` - soil moisture from Sentinel-1 VV and NDVI (Water Cloud Model, El Hajj et al. 2017);
  :mod:`~terra_lab.products.backscatter` - Sentinel-1 dB and per-orbit helpers
* :mod:`~terra_lab.products.biophysical` - LAI, FAPAR, FCOVER, CCC, CWC (Sentinel-2 biophysical processor networks)
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["FAMILIES", "Family"]


class Family(NamedTuple):
    """Where one product family lives: module names without extension ("" where there is none)."""

    product: str
    kernels: tuple[str, ...]
    test: str
    benchmark: str
    notebooks: tuple[str, ...]
    dashboard: str


#: The table of the module docstring.
FAMILIES: tuple[Family, ...] = (
    Family("masks", (), "test_products_masks", "bench_pixel", (), ""),
    Family("indices", (), "test_products_indices_albedo", "bench_pixel", ("niche_model",), ""),
    Family("albedo", (), "test_products_indices_albedo", "bench_pixel", (), ""),
    Family("synthesis", ("_synthesis",), "test_products_synthesis", "bench_series", ("water",), ""),
    Family("snow", ("_snow",), "test_products_snow", "bench_snow", ("snow",), "snow"),
    Family("water", ("_water",), "test_products_water", "bench_pixel", ("water",), "water"),
    Family("dieback", ("_dieback",), "test_products_dieback", "bench_dieback", ("forest",), "forest"),
    Family("diversity", ("_diversity",), "test_products_diversity", "bench_diversity", ("biodiversity_landscape",),
           "biodiversity"),
    Family("fragmentation", ("_fragmentation",), "test_products_fragmentation", "bench_mesh",
           ("biodiversity_landscape",), "biodiversity"),
    Family("continuity", ("_continuity",), "test_products_continuity", "bench_mesh", ("biodiversity_landscape",),
           "biodiversity"),
    Family("landcover", ("_gapfill",), "test_products_landcover", "bench_models", ("landcover",), ""),
    Family("terrain", ("_terrain",), "test_products_terrain", "bench_terrain", ("forest",), ""),
    Family("phenology", ("_phenology", "_gapfill"), "test_products_phenology", "bench_series", ("niche_model",), ""),
    Family("niche", (), "test_products_niche", "bench_models", ("niche_model",), ""),
    Family("hexagons", ("_hexagons",), "test_products_hexagons", "bench_hexagons", ("forest",), "forest"),
    Family("structure", (), "test_products_structure", "bench_structure_soil", ("forest",), ""),
    Family("soil", (), "test_products_soil", "bench_structure_soil", ("landcover",), ""),
    Family("relief", ("_relief",), "test_products_relief", "bench_relief", ("snow",), ""),
    Family("soil_moisture", ("_soil_moisture",), "test_products_soil_moisture", "bench_soil_moisture", ("water",), ""),
    Family("biophysical", ("_biophysical",), "test_products_biophysical", "bench_biophysical", ("landcover",), ""),
    Family("evapotranspiration", ("_tseb", "_gapfill"), "test_products_evapotranspiration", "bench_evapotranspiration",
           ("water",), ""),
    Family("fire", (), "test_products_fire", "bench_fire", ("forest",), ""),
    Family("change", ("_change", "_dieback"), "test_products_change", "bench_change", ("forest",), ""),
)
