"""Contig lengths: a ``chrom<TAB>length`` file, a mapping, or a bigWig's header."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from varinterp.errors import InputError

__all__ = ["read_chrom_sizes", "resolve_chrom_sizes"]


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Contig lengths from a two-column ``chrom<TAB>length`` file, in file order."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1], comment="#")
        sizes = {str(c): int(n) for c, n in zip(table[0], table[1], strict=True)}
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"chrom sizes {path} is not a 'chrom<TAB>length' table ({first}); fix the file"
        raise InputError(msg) from None
    if not sizes:
        raise InputError(f"chrom sizes {path} is empty; give one 'chrom<TAB>length' per contig")
    return sizes


def resolve_chrom_sizes(
    chrom_sizes: str | os.PathLike | Mapping[str, int] | None, bulk: str | os.PathLike | None
) -> dict[str, int]:
    """Contig lengths from `chrom_sizes` (file or mapping), else from the `bulk` bigWig."""
    if isinstance(chrom_sizes, Mapping):
        return {str(k): int(v) for k, v in chrom_sizes.items()}
    if chrom_sizes is not None:
        return read_chrom_sizes(chrom_sizes)
    if bulk is None:
        raise InputError("give --chrom-sizes or a bulk bigWig to take contig lengths from")
    from varinterp.io.bigwig import BigWig

    with BigWig(bulk) as bw:
        return dict(bw.lengths)
