# Single-user image for a JupyterHub (Zero to JupyterHub, KubeSpawner or DockerSpawner):
# JupyterLab with terra_lab, its extension, the dashboards' launcher entry (jupyter-server-proxy)
# and the Dask dashboard reachable through the proxy.  Build from the repository root:
#   docker build -f binder/jupyterhub.Dockerfile -t terra-lab-singleuser .
# and set it as the hub's singleuser image (z2jh: singleuser.image.name / tag).
FROM quay.io/jupyter/minimal-notebook:python-3.11

COPY --chown=${NB_UID}:${NB_GID} binder/environment.yml /tmp/terra-lab-env.yml
RUN mamba env update -n base -f /tmp/terra-lab-env.yml && mamba clean -afy

COPY --chown=${NB_UID}:${NB_GID} . /opt/terra_lab
RUN python -m pip install --no-deps /opt/terra_lab \
 && jupyter labextension list 2>&1 | grep -q "terra-lab-widgets.*OK" \
 && cp -r /opt/terra_lab/notebooks /home/${NB_USER}/notebooks

# the demo archive lives in the image (read-only for users), not in their home volume
ENV TERRA_LAB_HOME=/opt/terra_lab_data
USER root
RUN mkdir -p ${TERRA_LAB_HOME} && chown ${NB_UID}:${NB_GID} ${TERRA_LAB_HOME}
USER ${NB_UID}
RUN terra-lab demo build
# terra_lab.cluster() and plain dask Clients show a dashboard link through jupyter-server-proxy
ENV DASK_DISTRIBUTED__DASHBOARD__LINK="{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/status"
# Dask Gateway, when the hub runs one: set DASK_GATEWAY__ADDRESS (and auth) in the hub's
# singleuser.extraEnv; terra_lab.cluster() then asks the gateway for workers.
