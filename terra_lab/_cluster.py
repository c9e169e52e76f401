"""Dask clients for when one process is not enough: a LocalCluster, a Dask Gateway, or a scheduler address."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["cluster"]

#: Environment variables that point terra_lab at an existing scheduler or gateway.
SCHEDULER_ENV = "TERRA_LAB_SCHEDULER"


def _gateway_configured() -> bool:
    import dask.config

    return bool(dask.config.get("gateway.address", None) or os.environ.get("DASK_GATEWAY__ADDRESS"))


#: The Dask dashboard link through jupyter-server-proxy; distributed fills the fields from the
#: environment (the single-user server's prefix ends with "/").  binder/postBuild and
#: binder/jupyterhub.Dockerfile write the same value (tests/test_binder.py checks it).
PROXIED_DASHBOARD_LINK = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"


def _proxied_dashboard_link() -> None:
    """On JupyterHub, point the Dask dashboard link through jupyter-server-proxy for this session
    (the scheduler's port is not reachable from the browser)."""
    import dask.config

    if os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        dask.config.set({"distributed.dashboard.link": PROXIED_DASHBOARD_LINK})


def _gateway_client(gw_cluster):
    """A Client of a Gateway cluster that shuts the cluster down when closed, as a LocalCluster's does."""
    from dask.distributed import Client

    class GatewayClient(Client):
        def close(self, *args, **kwargs):
            try:
                return super().close(*args, **kwargs)
            finally:
                gw_cluster.shutdown()

    return GatewayClient(gw_cluster, security=gw_cluster.security, set_as_default=True)


def cluster(
    n_workers: int | None = None,
    *,
    threads_per_worker: int = 1,
    memory_limit: str | float = "auto",
    gateway: bool | None = None,
    address: str | None = None,
    dashboard_address: str | None = "127.0.0.1:0",
    **options: Any,
):
    """A :class:`dask.distributed.Client` to run terra_lab cubes and products on several processes.

    Where the client goes, in order:

    1. ``address`` (or the ``TERRA_LAB_SCHEDULER`` environment variable): an existing scheduler;
    2. a Dask Gateway when ``gateway=True``, or when ``gateway`` is not given and one is configured
       (Dask config ``gateway.address`` / ``DASK_GATEWAY__ADDRESS``, as JupyterHub deployments set);
       ``n_workers`` workers are asked for and ``options`` (cluster options) go to ``GatewayCluster``;
    3. otherwise a :class:`~dask.distributed.LocalCluster` of ``n_workers`` worker processes
       (default: one per core) with ``threads_per_worker`` threads each (numba kernels release
       the GIL, but GDAL reads scale better across processes); ``options`` go to LocalCluster.

    On JupyterHub (``JUPYTERHUB_SERVICE_PREFIX`` set) the dashboard link is rewritten to go
    through jupyter-server-proxy (``.../proxy/<port>/status``), so ``client`` shows a link
    that works from the browser.

    Closing the client (``client.close()``, or leaving a ``with`` block) also stops a
    LocalCluster or Gateway cluster it started (a Gateway cluster otherwise keeps its workers
    until the gateway's idle timeout).

    Examples
    --------
    >>> import terra_lab
    >>> with terra_lab.cluster(2) as client:           # doctest: +SKIP
    ...     scd = terra_lab.products.snow.snow_l3b(l2b, 2024).compute()
    """
    from dask.distributed import Client

    _proxied_dashboard_link()
    address = address or os.environ.get(SCHEDULER_ENV)
    if address:
        return Client(address)
    if gateway or (gateway is None and _gateway_configured()):
        try:
            from dask_gateway import GatewayCluster
        except ImportError as err:  # pragma: no cover - depends on the deployment
            raise ImportError(
                "terra_lab.cluster(gateway=True) needs dask-gateway: pip install dask-gateway "
                "(JupyterHub images with a Dask Gateway ship it)"
            ) from err
        gw_cluster = GatewayCluster(**options)  # address and auth from the Dask config (gateway.*)
        if n_workers:
            gw_cluster.scale(n_workers)
        return _gateway_client(gw_cluster)
    # a Client given LocalCluster keywords starts and owns its cluster: closing the client closes it
    return Client(
        n_workers=n_workers or os.cpu_count() or 1,
        threads_per_worker=threads_per_worker,
        processes=True,
        memory_limit=memory_limit,
        dashboard_address=dashboard_address,
        **options,
    )
