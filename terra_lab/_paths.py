"""Where terra_lab keeps generated data (the demo archive and local catalogues)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_home", "demo_dir"]


def data_home() -> Path:
    """``$TERRA_LAB_HOME`` if set, else ``~/.local/share/terra_lab``."""
    env = os.environ.get("TERRA_LAB_HOME")
    return Path(env).expanduser().resolve() if env else Path.home() / ".local" / "share" / "terra_lab"


def demo_dir() -> Path:
    """Folder of the embedded demo archive (built by ``terra-lab demo build``)."""
    return data_home() / "demo"
