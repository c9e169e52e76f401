"""The steps a workflow reports, and how a caller stops it between two steps.

Every theme workflow takes an optional ``progress`` callable and calls it with the name of
each step as it starts: ``"search"`` (the catalogue search), ``"read"`` (the cube and the
auxiliary layers: DEM, land cover, opened lazily) and ``"compute"`` (the products, where dask
reads the pixels and computes).  A caller (a dashboard, a notebook's progress bar) shows the
step; to cancel, its callable raises :class:`Cancelled`, which stops the workflow at that
step boundary.  A step already running, a dask compute included, finishes first: a workflow is
never interrupted inside a step.

>>> seen = []
>>> report(seen.append, "search")
>>> seen
['search']
>>> report(None, "read")   # no progress callable: nothing happens
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import TerraLabError

__all__ = ["STEPS", "Cancelled", "Progress", "report"]

#: the steps every workflow reports, in order
STEPS = ("search", "read", "compute")

#: what a workflow's ``progress`` argument is: called with a step's name as it starts
Progress = Callable[[str], None]


class Cancelled(TerraLabError):
    """Raised by a ``progress`` callable to stop a workflow at a step boundary (the user cancelled)."""


def report(progress: Progress | None, step: str) -> None:
    """Tell ``progress`` (if any) that ``step`` starts; a :class:`Cancelled` it raises stops the workflow."""
    if step not in STEPS:
        raise ValueError(f"unknown workflow step {step!r}; the steps are {STEPS}")
    if progress is not None:
        progress(step)
