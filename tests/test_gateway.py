"""terra_lab.cluster(gateway=True) against a real Dask Gateway server on 127.0.0.1.

The server is dask-gateway-server itself (its Go proxy, its HTTP API, its database of clusters)
with the ``UnsafeLocalBackend``: schedulers and workers are local processes run as the server's
own user.  The ``LocalBackend`` would switch each cluster to its user's system account
(``setuid``), which needs root and a Unix account per gateway user; the unsafe variant is the
same backend without that step, what dask-gateway's own tests use.  Authentication is the
``SimpleAuthenticator`` (HTTP basic, one shared password), as a JupyterHub-less deployment.
"""

import socket
import subprocess
import sys
import time
import urllib.request

import dask.config
import numpy as np
import pytest

import terra_lab

pytest.importorskip("dask_gateway")
pytest.importorskip("dask_gateway_server")

PASSWORD = "terra-lab-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gateway_server(tmp_path_factory):
    """A dask-gateway-server process on 127.0.0.1; yields its public address, stopped at the end."""
    root = tmp_path_factory.mktemp("gateway")
    public, api = _free_port(), _free_port()
    config = root / "gateway_config.py"
    config.write_text(f"""
c.DaskGateway.address = "127.0.0.1:{api}"
c.Proxy.address = "127.0.0.1:{public}"
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.SimpleAuthenticator.password = {PASSWORD!r}
c.LocalBackend.clusters_directory = {str(root / "clusters")!r}
# the venv's interpreter (no dask-scheduler script on PATH needed)
c.ClusterConfig.scheduler_cmd = [{sys.executable!r}, "-m", "distributed.cli.dask_scheduler"]
c.ClusterConfig.worker_cmd = [{sys.executable!r}, "-m", "distributed.cli.dask_worker"]
c.ClusterConfig.worker_cores = 1
c.ClusterConfig.worker_memory = "1 G"
c.ClusterConfig.scheduler_memory = "1 G"
c.ClusterConfig.idle_timeout = 120
""")
    log = (root / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "dask_gateway_server", "-f", str(config)], cwd=root,
                            stdout=log, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{public}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{address}/api/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"dask-gateway-server did not start: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.3)
    try:
        yield address
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.timeout(180)
def test_cluster_gateway_runs_a_product_like_the_local_scheduler(gateway_server, demo_items):
    items = [it for it in demo_items if "_T31TGK_" in it["id"]][:12]
    cube = terra_lab.load(items, bands=["red", "nir"], resolution=20, apply_masks=True, chunks=128)
    ndvi = ((cube.nir - cube.red) / (cube.nir + cube.red)).median("time")
    expected = ndvi.compute(scheduler="threads")
    settings = {"gateway.address": gateway_server, "gateway.auth.type": "basic",
                "gateway.auth.kwargs": {"username": "attendee", "password": PASSWORD}}
    with dask.config.set(settings):
        from dask_gateway import Gateway

        gateway = Gateway()
        with terra_lab.cluster(1) as client:  # gateway configured: gateway=None picks it, as on JupyterHub
            gw_clusters = gateway.list_clusters()
            assert len(gw_clusters) == 1 and gw_clusters[0].status.name == "RUNNING"
            assert client.scheduler.address.startswith("gateway://")
            got = client.compute(ndvi).result()
            assert len(client.scheduler_info()["workers"]) >= 1  # the result came from a gateway worker
        deadline = time.monotonic() + 30  # leaving the block shut the gateway cluster down
        while gateway.list_clusters() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert gateway.list_clusters() == []
        with terra_lab.cluster(gateway=True) as client:  # asked for explicitly
            assert client.scheduler.address.startswith("gateway://")
        gateway.close()
    np.testing.assert_array_equal(got.values, expected.values)
    assert np.isfinite(got.values).mean() > 0.5  # a real map, not an empty one
