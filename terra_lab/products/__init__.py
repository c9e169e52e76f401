"""THEIA product algorithms as lazy xarray/Dask functions over terra_lab cubes.

One module per product family (import the one you need; nothing is loaded here):

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
"""
