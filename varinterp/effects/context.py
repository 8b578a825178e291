"""The table of extra inputs a model needs at scoring time (``--context-tracks``).

Some families predict from more than sequence: DeepDETAILS takes each cell type's
accessibility. Their scoring reads those inputs for every variant window from the
user's files, listed in the one track table (`varinterp.io.tracks`, docs/tracks.md)::

    cell_type   accessibility           accessibility_depth
    hepatocyte  atac/hepatocyte.bw      12000000
    kupffer     atac/kupffer.bw         800000

``cell_type`` names the model's task; ``accessibility`` is the track (relative paths are
read from the table's folder); ``accessibility_depth`` (optional; fragments or reads)
normalises depth, else the family's default applies (for DeepDETAILS the total signal of
the track). The family's ``read_context`` turns them into arrays. Tables of the former
layout (``task``, ``bigwig``, ``library_size``) are read too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["read_context_table"]


def read_context_table(path: str | os.PathLike) -> tuple[dict[str, Path], dict[str, Any]]:
    """``(tracks: task -> bigWig path, options)`` from a context table: the track table's
    ``cell_type`` and ``accessibility`` (``accessibility_depth`` -> ``library_sizes``);
    see `varinterp.io.tracks.context_tracks`."""
    from varinterp.io.tracks import context_tracks

    return context_tracks(path)
