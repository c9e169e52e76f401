"""THEIA product algorithms as lazy xarray/Dask functions over terra_lab cubes."""
