"""Cubes run unchanged on a dask.distributed LocalCluster of worker processes."""

import numpy as np
import pytest
from dask.distributed import Client, LocalCluster

import terra_lab


@pytest.mark.slow
def test_local_cluster_of_processes_gives_the_threaded_result(demo_items):
    items = demo_items.items[:24]  # includes a solar-day mosaic of two UTM zones
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20, apply_masks=True)
    ndvi = ((cube.nir - cube.red) / (cube.nir + cube.red)).mean("time")
    expected = ndvi.compute(scheduler="threads")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
        got = client.compute(ndvi).result()
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(got.values, expected.values)
    assert np.isfinite(got.values).mean() > 0.9
