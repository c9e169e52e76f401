# JupyterHub on one shared machine, with terra_lab installed in its Python environment:
#   jupyterhub -f binder/jupyterhub_config.py
# Users log in with their Unix account (PAM) and each single-user server runs as that user
# (LocalProcessSpawner), so files, kernels and dashboards are kept apart by the kernel's own
# permissions.  The workshop dashboards (launcher "THEIA workshops") run inside each user's
# server behind jupyter-server-proxy, on a Unix socket in a 0700 folder of that user: only
# requests the hub authenticated for that user reach them.  tests/test_jupyterhub.py runs
# this file with two real users (ports and state folders are set on its command line).
# For containers (Zero to JupyterHub, DockerSpawner) see binder/jupyterhub.Dockerfile instead.
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - defined by JupyterHub when it loads this file

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False  # no login session bookkeeping (containers have no systemd-logind)
c.JupyterHub.spawner_class = "localprocess"
# the single-user server of this very environment, whatever PATH the hub was started with
c.Spawner.cmd = [str(Path(sys.executable).with_name("jupyterhub-singleuser"))]
c.Spawner.default_url = "/lab"
# shared and read-only for users: the demo archive the admin built (terra-lab demo build);
# a user ingests into a catalogue folder of their own (terra-lab ingest --catalog ~/catalog)
c.Spawner.environment = {"TERRA_LAB_HOME": os.environ.get("TERRA_LAB_HOME", "/opt/terra_lab_data")}


def _private_runtime_dir(spawner):
    """A private ``XDG_RUNTIME_DIR`` for each user, as pam_systemd gives a login session (a hub's
    servers get none): terra_lab's catalogue servers keep their database socket and secret there."""
    import pwd

    user = pwd.getpwnam(spawner.user.name)
    path = Path("/run/user") / str(user.pw_uid)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid != user.pw_uid:
        os.chown(path, user.pw_uid, user.pw_gid)
    path.chmod(0o700)
    spawner.environment = {**spawner.environment, "XDG_RUNTIME_DIR": str(path)}


c.Spawner.pre_spawn_hook = _private_runtime_dir
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
