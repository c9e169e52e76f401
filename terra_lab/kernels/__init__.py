"""numba kernels: numpy arrays and scalars in, arrays out.  No xarray, no widgets.

The documented API is :mod:`terra_lab.products`, which wraps these for xarray/Dask.
"""
