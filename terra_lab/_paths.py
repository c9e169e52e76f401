"""Where terra_lab keeps generated data (the demo archive and local catalogues)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_home", "demo_dir", "private_dir"]


def data_home() -> Path:
    """``$TERRA_LAB_HOME`` if set, else ``~/.local/share/terra_lab``."""
    env = os.environ.get("TERRA_LAB_HOME")
    return Path(env).expanduser().resolve() if env else Path.home() / ".local" / "share" / "terra_lab"


def demo_dir() -> Path:
    """Folder of the embedded demo archive (built by ``terra-lab demo build``)."""
    return data_home() / "demo"


def private_dir(path: Path) -> Path | None:
    """``path``, created ``0700`` if needed, if it is ours; None if we may not have it (another
    user's, or not writable): never a folder another user could write into or read."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = path.stat()
        if st.st_uid != os.geteuid() or not os.access(path, os.W_OK | os.X_OK):
            return None
        if st.st_mode & 0o077:
            path.chmod(0o700)
    except OSError:
        return None
    return path
