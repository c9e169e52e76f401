"""An exclusive lock between processes: ``fcntl.flock`` on a lock file, with a timeout.

The kernel releases a ``flock`` when its holder exits, killed or not, so a crashed ingest
never leaves a catalogue locked; the lock file itself may stay (it is empty and harmless).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CatalogBusyError

__all__ = ["exclusive_lock"]


@contextmanager
def exclusive_lock(path: str | os.PathLike, *, timeout: float, what: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` (created if needed) for the ``with`` block.

    Waits up to ``timeout`` seconds for another process to release it, then raises
    :class:`~terra_lab.errors.CatalogBusyError` naming ``what`` and the lock file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline, pause = time.monotonic() + timeout, 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CatalogBusyError(
                        f"{what} is locked by another process (lock file {str(path)!r}) and stayed so for "
                        f"{timeout:g} s; wait for the other ingest to finish and try again, or raise lock_timeout="
                    ) from None
                time.sleep(pause)
                pause = min(2 * pause, 0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
