"""Collection ids that are safe as file names: a local catalogue stores ``<id>.parquet`` and ``<id>.json``.

An id such as ``../../x`` would write outside the catalogue, so ids are limited to letters,
digits, ``.``, ``_`` and ``-``, do not start with a dot, and are at most 128 characters long.
"""

from __future__ import annotations

import re

from ..errors import TerraLabError

__all__ = ["MAX_ID_LENGTH", "InvalidCollectionIdError", "validate_collection_id"]


class InvalidCollectionIdError(TerraLabError, ValueError):
    """A collection id that cannot name files in a catalogue (a path, a leading dot, odd characters)."""


MAX_ID_LENGTH = 128
_ID = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def validate_collection_id(collection_id: object) -> str:
    """``collection_id`` if it is a safe collection id, else :class:`InvalidCollectionIdError`."""
    if not isinstance(collection_id, str):
        raise InvalidCollectionIdError(f"collection id {collection_id!r} must be a string, e.g. 'SENTINEL2_L2A_THEIA'")
    if not collection_id or len(collection_id) > MAX_ID_LENGTH or not _ID.fullmatch(collection_id):
        shown = collection_id if len(collection_id) <= 80 else collection_id[:80] + "..."
        raise InvalidCollectionIdError(
            f"collection id {shown!r} is not allowed: use 1 to {MAX_ID_LENGTH} letters, digits, '.', '_' or '-', "
            "not starting with '.' (e.g. 'SENTINEL2_L2A_THEIA')"
        )
    return collection_id
