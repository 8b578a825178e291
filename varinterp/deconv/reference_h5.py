"""Reading the ``data.h5`` that the DeepDETAILS tool's ``prep-data`` writes.

Layout of that file: ``dec/seq (N, 4, L)`` float (one-hot; IUPAC codes as fractions),
``dec/acc (N, K, L)``, ``dec/bulk (N, S, L)``, ``regions (N, 4)`` int (contig index,
start, end, type) with the contig names in the attributes ``chr_<index>``, and optionally
``scatac_norm`` (1e6 / fragments per cell type: ``(K,)``, or ``(K, 2)`` label and value
as the tool's dataset reads it). The region type is 1 for a region (peak) window and
anything else for a GC-matched background window; background windows become the
``background`` column (trained on, left out of predict and eval). Cell-type names are not
stored there, so they are passed in; contig sizes come from a ``chrom.sizes`` file
(`varinterp.io.chrom_sizes.read_chrom_sizes`, also importable from here).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.deconv.prep import DeconvData
from varinterp.errors import InputError
from varinterp.io.chrom_sizes import read_chrom_sizes

__all__ = ["read_chrom_sizes", "read_deepdetails_h5"]


def _read_norm(values: np.ndarray, path: Path) -> np.ndarray:
    """``scatac_norm`` as ``(K,) float64``: a 1-D array, or the value column of (K, 2)."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 2:
        values = values[:, 1]
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{path}: scatac_norm is not numeric; is it a prep-data file?") from None


def read_deepdetails_h5(
    path: str | os.PathLike,
    *,
    cell_types: Sequence[str],
    chrom_sizes: Mapping[str, int] | str | os.PathLike,
    target_length: int = 1000,
) -> DeconvData:
    """Convert a DeepDETAILS ``data.h5`` to `DeconvData` (no ground truth).

    `chrom_sizes` is a contig -> length mapping or a ``chrom.sizes`` file.

    Sequence columns that are not exactly one base (IUPAC fractions) become N. Without
    ``scatac_norm`` the normalisation is 1 for every cell type. Windows whose region type
    (4th column of ``regions``) is not 1 are marked ``background``.
    """
    from varinterp.io.readers import open_hdf5

    path = Path(path)
    if not isinstance(chrom_sizes, Mapping):
        if not Path(chrom_sizes).is_file():
            raise InputError(f"contig sizes file {chrom_sizes} does not exist; check the path")
        chrom_sizes = read_chrom_sizes(chrom_sizes)
    with open_hdf5(path, "DeepDETAILS data file") as h5:
        for name in ("dec/seq", "dec/acc", "dec/bulk", "regions"):
            if name not in h5:
                raise InputError(f"{path} has no '{name}'; is it a DeepDETAILS prep-data file?")
        seq = h5["dec/seq"][:]
        acc = h5["dec/acc"][:].astype(np.float32)
        bulk = np.abs(h5["dec/bulk"][:]).astype(np.float32)
        reg = h5["regions"][:]
        names = {
            int(k.split("_", 1)[1]): str(v)
            for k, v in h5["regions"].attrs.items()
            if k.startswith("chr_")
        }
        norm = _read_norm(h5["scatac_norm"][:], path) if "scatac_norm" in h5 else None
    if len(cell_types) != acc.shape[1]:
        msg = f"{path} has {acc.shape[1]} cell types but {len(cell_types)} names were given"
        raise InputError(msg)
    try:
        chroms = [names[int(i)] for i in reg[:, 0]]
    except KeyError as exc:
        raise InputError(f"{path}: contig index {exc} has no chr_ attribute") from None
    missing = sorted(set(chroms) - set(chrom_sizes))
    if missing:
        raise InputError(f"contigs {missing} of {path} are not in the contig sizes file")
    if norm is not None and norm.size != acc.shape[1]:
        msg = f"{path}: scatac_norm has {norm.size} values for {acc.shape[1]} cell types"
        raise InputError(msg)
    one_hot = (seq == 1).astype(np.uint8)
    one_hot *= (one_hot.sum(axis=1, keepdims=True) == 1).astype(np.uint8)
    regions = pd.DataFrame(
        {
            "chrom": chroms,
            "start": reg[:, 1].astype(np.int64),
            "end": reg[:, 2].astype(np.int64),
        }
    )
    if reg.shape[1] >= 4:
        regions["background"] = reg[:, 3].astype(np.int64) != 1
    return DeconvData(
        seq=one_hot,
        acc=acc,
        bulk=bulk,
        norm=np.ones(acc.shape[1]) if norm is None else norm,
        regions=regions,
        cell_types=list(cell_types),
        chrom_sizes=dict(chrom_sizes),
        target_length=target_length,
    )
