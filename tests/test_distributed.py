"""Cubes and products run unchanged on worker processes (terra_lab.cluster), and survive a lost worker."""

import os
import signal
import time

import numpy as np
import pytest
from dask.distributed import Client, LocalCluster

import terra_lab
from terra_lab.products.snow import snow_l2b, snow_l3b


@pytest.fixture(scope="module")
def snow_product(demo_catalog, demo_items):
    """A full product, LIS snow L2B then the L3B synthesis of the 2023-24 hydrological year, as one lazy graph."""
    items = [it for it in demo_items if "_T31TGK_" in it["id"]]
    cube = terra_lab.load(items, bands=["green", "red", "swir16"], resolution=20, raw_masks=True,
                          chunks={"time": -1, "x": 48, "y": 48})
    dem = terra_lab.load(demo_catalog.search(collections="cop-dem-eea-10-laea-tif"), bands=["elevation"], like=cube, masks=False)
    l3b = snow_l3b(snow_l2b(cube, dem), 2023)
    return l3b, l3b.compute(scheduler="threads")


@pytest.mark.slow
def test_local_cluster_of_processes_gives_the_threaded_result(demo_items):
    items = demo_items.items[:24]  # includes a solar-day mosaic of two UTM zones
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20, apply_masks=True)
    ndvi = ((cube.nir - cube.red) / (cube.nir + cube.red)).mean("time")
    expected = ndvi.compute(scheduler="threads")
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
          Client(cluster) as client):
        got = client.compute(ndvi).result()
        assert len(client.scheduler_info()["workers"]) == 2
    np.testing.assert_array_equal(got.values, expected.values)
    assert np.isfinite(got.values).mean() > 0.9


@pytest.mark.slow
def test_cluster_runs_a_full_product_like_the_threaded_scheduler(snow_product):
    l3b, expected = snow_product
    with terra_lab.cluster(2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        assert all(w["nthreads"] == 1 for w in client.scheduler_info()["workers"].values())
        got = client.compute(l3b).result()
        cluster = client.cluster
    assert cluster.status.name == "closed"  # leaving the block stopped the LocalCluster it started
    for name in ("SCD", "SOD", "SMOD", "NOBS"):
        np.testing.assert_array_equal(got[name].values, expected[name].values)
    assert (expected["SCD"].values > 0).mean() > 0.2  # a real result, not an empty map


@pytest.mark.slow
def test_a_worker_killed_mid_computation_does_not_lose_the_result(snow_product):
    l3b, expected = snow_product
    with terra_lab.cluster(2) as client:
        pids = client.run(os.getpid)
        future = client.compute(l3b)
        # wait until the computation is under way, then kill one worker process outright
        deadline = time.monotonic() + 60
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert not future.done(), "the computation finished before a worker could be killed"
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        got = future.result(timeout=300)
        # the nanny restarted the worker: a new process took its place
        client.wait_for_workers(2, timeout=60)
        assert victim not in client.run(os.getpid).values()
    for name in ("SCD", "SOD", "SMOD", "NOBS"):
        np.testing.assert_array_equal(got[name].values, expected[name].values)


def test_cluster_connects_to_a_given_scheduler_and_proxies_the_dashboard(monkeypatch):
    import dask.config

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0") as lc:
        monkeypatch.setenv("TERRA_LAB_SCHEDULER", lc.scheduler_address)
        monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ana/")
        link = {"distributed.dashboard.link": "{scheme}://{host}:{port}/status"}
        with dask.config.set(link), terra_lab.cluster() as client:
            assert client.scheduler.address == lc.scheduler_address
            assert client.submit(lambda x: x + 1, 41).result() == 42
            assert client.dashboard_link.startswith("/user/ana/proxy/") and client.dashboard_link.endswith("/status")


def test_gateway_requested_without_dask_gateway_names_the_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_gateway(name, *args, **kwargs):
        if name == "dask_gateway":
            raise ImportError("No module named 'dask_gateway'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gateway)
    with pytest.raises(ImportError, match="pip install dask-gateway"):
        terra_lab.cluster(gateway=True)
