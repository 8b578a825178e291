"""The table of extra inputs a model needs at scoring time (``--context-tracks``).

Some families predict from more than sequence: DeepDETAILS takes each cell type's
accessibility. Their scoring reads those inputs for every variant window from the
user's files, listed in a tab-separated table with a header::

    task        bigwig                  library_size
    hepatocyte  atac/hepatocyte.bw      12000000
    kupffer     atac/kupffer.bw         800000

``task`` (or ``cell_type``) names the model's task; ``bigwig`` is the track (relative
paths are read from the table's folder); ``library_size`` (optional; fragments or
reads) normalises depth, else the family's default applies (for DeepDETAILS the total
signal of the track). The family's ``read_context`` turns them into arrays.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from varinterp.errors import InputError
from varinterp.io.tables import read_table, resolve_path

__all__ = ["read_context_table"]


def read_context_table(path: str | os.PathLike) -> tuple[dict[str, Path], dict[str, Any]]:
    """``(tracks: task -> bigWig path, options)`` from a context table (module docstring).

    ``options["library_sizes"]`` (task -> float) is set when the table has the column.
    """
    path = Path(path)
    table = read_table(path, required=["bigwig"], what="context-track table")
    name_col = "task" if "task" in table.columns else "cell_type"
    if name_col not in table.columns:
        msg = f"context-track table {path} needs a task (or cell_type) column naming each track"
        raise InputError(msg)
    tracks: dict[str, Path] = {}
    sizes: dict[str, float] = {}
    for i, row in table.iterrows():
        name = row[name_col].strip()
        if not name or name in tracks:
            msg = f"context-track table {path}, line {i + 2}: task {name!r} is empty or repeated"
            raise InputError(msg)
        file = resolve_path(row["bigwig"], path)
        if not file.is_file():
            msg = f"context-track table {path}, line {i + 2}: bigwig {file} does not exist"
            raise InputError(msg)
        tracks[name] = file
        if "library_size" in table.columns and row["library_size"].strip():
            try:
                sizes[name] = float(row["library_size"])
            except ValueError:
                msg = (
                    f"context-track table {path}, line {i + 2}: library_size "
                    f"{row['library_size']!r} is not a number"
                )
                raise InputError(msg) from None
    options: dict[str, Any] = {}
    if sizes:
        missing = sorted(set(tracks) - set(sizes))
        if missing:
            msg = f"context-track table {path}: library_size is empty for {', '.join(missing)}"
            raise InputError(msg)
        options["library_sizes"] = sizes
    return tracks, options
