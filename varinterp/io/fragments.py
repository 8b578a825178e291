"""scATAC fragment files and barcode tables (10x Cell Ranger ATAC, ArchR) -> arrays.

A fragments file has one fragment per line: ``chrom, start, end, barcode[, count]``
(0-based half-open, as Cell Ranger ATAC and ArchR write it), plain or bgzipped, with
optional ``#`` header lines. A barcode table maps each barcode to a cell type (TSV, two
columns, no header; a first line ``barcode<TAB>cell_type`` is skipped). `load_fragments`
keeps the fragments of barcodes in the table on known contigs, as a `FragmentTable`. Each
fragment line counts once: the duplicate ``count`` column is kept but not used as a weight.
`safe_name` turns a cell-type name into a file name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.contigs import ContigMap, harmonize_contig
from varinterp.io.readers import reading
from varinterp.progress import ProgressCallback, report

__all__ = [
    "FragmentTable",
    "load_fragments",
    "read_barcodes",
    "read_fragment_chunks",
    "relabel",
    "safe_name",
]

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A cell-type name usable in a file name (other characters become ``_``)."""
    return _SAFE.sub("_", name).strip("._") or "cell_type"


_CHUNK = 2_000_000


@dataclass
class FragmentTable:
    """Fragments of annotated cells on known contigs, as arrays (one entry per fragment).

    - ``chrom``: ``(n,) int32`` index into `contigs`; ``start``, ``end``: ``(n,) int64``
    - ``cell``: ``(n,) int32`` index into `barcodes`; ``count``: ``(n,) int32`` duplicates
    - ``barcodes``: ``(n_cells,) object`` table barcodes; ``cell_type``: ``(n_cells,) int32``
      index into `cell_types` per barcode
    """

    contigs: list[str]
    lengths: dict[str, int]
    chrom: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cell: np.ndarray
    count: np.ndarray
    barcodes: np.ndarray
    cell_type: np.ndarray
    cell_types: list[str]
    n_lines: int = 0
    n_unmatched_fragments: int = 0
    n_unmatched_barcodes: int = 0
    off_contig: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.start.size)

    def cells_per_type(self) -> np.ndarray:
        """Cells with at least one fragment, per cell type: ``(K,) int64``."""
        seen = np.zeros(self.barcodes.size, dtype=bool)
        seen[self.cell] = True
        return np.bincount(self.cell_type[seen], minlength=len(self.cell_types))

    def fragments_per_type(self) -> np.ndarray:
        """Fragment lines per cell type: ``(K,) int64``."""
        return np.bincount(self.cell_type[self.cell], minlength=len(self.cell_types))

    def subset(self, keep: np.ndarray) -> FragmentTable:
        """The fragments where the boolean `keep` ``(n,)`` is true."""
        return FragmentTable(
            contigs=self.contigs,
            lengths=self.lengths,
            chrom=self.chrom[keep],
            start=self.start[keep],
            end=self.end[keep],
            cell=self.cell[keep],
            count=self.count[keep],
            barcodes=self.barcodes,
            cell_type=self.cell_type,
            cell_types=self.cell_types,
            n_lines=self.n_lines,
            n_unmatched_fragments=self.n_unmatched_fragments,
            n_unmatched_barcodes=self.n_unmatched_barcodes,
            off_contig=self.off_contig,
        )


def read_barcodes(path: str | os.PathLike) -> pd.DataFrame:
    """The barcode table -> DataFrame ``barcode, cell_type`` (both str), table order kept."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0]
        msg = f"barcode table {path} cannot be read ({first}); give 'barcode<TAB>cell_type' lines"
        raise InputError(msg) from None
    if table.shape[1] < 2:
        msg = f"barcode table {path} has {table.shape[1]} column(s); need barcode<TAB>cell_type"
        raise InputError(msg)
    table = table.iloc[:, :2].copy()
    table.columns = ["barcode", "cell_type"]
    if len(table) and table.iloc[0, 0].lower() == "barcode":
        table = table.iloc[1:]
    table = table.dropna().reset_index(drop=True)
    if table.empty:
        raise InputError(f"barcode table {path} lists no barcodes")
    dup = table[table.duplicated("barcode", keep=False)]
    conflict = dup.groupby("barcode")["cell_type"].nunique()
    if (conflict > 1).any():
        bc = conflict[conflict > 1].index[0]
        msg = f"barcode {bc} has more than one cell type in {path}; keep one line per barcode"
        raise InputError(msg)
    return table.drop_duplicates("barcode").reset_index(drop=True)


def relabel(table: FragmentTable, barcodes: pd.DataFrame) -> FragmentTable:
    """`table` with cell types from `barcodes` (barcode, cell_type); other cells' fragments go."""
    cell_types = list(dict.fromkeys(barcodes["cell_type"].astype(str)))
    codes = {c: i for i, c in enumerate(cell_types)}
    new = pd.Series(
        barcodes["cell_type"].astype(str).map(codes).to_numpy(),
        index=barcodes["barcode"].astype(str),
    )
    per_cell = new.reindex(table.barcodes).fillna(-1).to_numpy(np.int32)
    keep = per_cell[table.cell] >= 0
    out = table.subset(keep)
    out.cell_type = np.where(per_cell >= 0, per_cell, 0).astype(np.int32)
    out.cell_types = cell_types
    return out


def load_fragments(
    fragments: str | os.PathLike,
    *,
    barcodes: pd.DataFrame,
    chrom_sizes: Mapping[str, int],
    strict: bool = False,
    on_progress: ProgressCallback | None = None,
) -> FragmentTable:
    """Read a fragments file, keep fragments of barcodes in `barcodes` on `chrom_sizes` contigs.

    Contig names are harmonised onto `chrom_sizes` (``chr1`` vs ``1``). Fragments on a contig
    with no spelling in `chrom_sizes` are dropped and counted (an error when `strict`, or when
    no contig matches at all). Fragments of barcodes absent from the table are counted; it is
    an error when none match. Fragments past a contig end are clipped.
    """
    path = Path(fragments)
    if not path.is_file():
        raise InputError(f"fragments file {path} does not exist; check the path")
    lengths = {str(k): int(v) for k, v in chrom_sizes.items()}
    contigs = list(lengths)
    contig_index = {c: i for i, c in enumerate(contigs)}
    names = ContigMap(contigs, source=f"fragments file {path.name}")
    bc_index = pd.Index(barcodes["barcode"].astype(str))
    cell_types = list(dict.fromkeys(barcodes["cell_type"].astype(str)))
    ct_codes = {c: i for i, c in enumerate(cell_types)}
    cell_type = barcodes["cell_type"].astype(str).map(ct_codes).to_numpy(np.int32)

    parts: list[tuple[np.ndarray, ...]] = []
    unmatched: set[str] = set()
    n_unmatched = n_lines = 0
    off: dict[str, int] = {}
    first_off: str | None = None
    contig_code: dict[str, int] = {}
    for chunk in _read_chunks(path):
        n_lines += len(chunk)
        cell = bc_index.get_indexer(chunk["barcode"])
        miss = cell < 0
        if miss.any():
            n_unmatched += int(miss.sum())
            unmatched.update(chunk["barcode"].to_numpy()[miss].tolist())
        cat = pd.Categorical(chunk["chrom"].to_numpy())
        lookup = np.empty(len(cat.categories), dtype=np.int32)
        for j, name in enumerate(cat.categories):
            if name not in contig_code:
                mapped = names.get(name)
                contig_code[name] = -1 if mapped is None else contig_index[mapped]
                if mapped is None and first_off is None:
                    first_off = name
            lookup[j] = contig_code[name]
        codes = lookup[cat.codes]
        bad_contig = codes < 0
        per_cat = np.bincount(cat.codes[bad_contig & ~miss], minlength=len(cat.categories))
        for j in np.flatnonzero(per_cat):
            name = cat.categories[j]
            off[name] = off.get(name, 0) + int(per_cat[j])
        keep = ~miss & ~bad_contig
        parts.append(
            (
                codes[keep],
                chunk["start"].to_numpy(np.int64)[keep],
                chunk["end"].to_numpy(np.int64)[keep],
                cell[keep].astype(np.int32),
                chunk["count"].to_numpy(np.int32)[keep],
            )
        )
        report(on_progress, n_lines, None)
    if n_lines == 0:
        raise InputError(f"fragments file {path} has no fragments; check the file")
    if n_unmatched == n_lines:
        example = next(iter(sorted(unmatched)))
        msg = (
            f"none of the {len(unmatched)} barcodes in {path.name} (e.g. {example!r}) is in the "
            f"barcode table (e.g. {bc_index[0]!r}); check the table or barcode suffixes like '-1'"
        )
        raise InputError(msg)
    if contig_code and all(v < 0 for v in contig_code.values()):
        harmonize_contig(first_off, contigs, source=f"fragments file {path.name}")
    if off and strict:
        name = next(iter(off))
        harmonize_contig(name, contigs, source=f"fragments file {path.name} (--strict)")
    chrom, start, end, cell, count = (np.concatenate(a) for a in zip(*parts, strict=True))
    clip = np.array([lengths[c] for c in contigs], dtype=np.int64)[chrom]
    np.minimum(end, clip, out=end)
    valid = (start >= 0) & (end > start)
    if not valid.all():
        if strict:
            i = int(np.flatnonzero(~valid)[0])
            msg = (
                f"fragment {contigs[chrom[i]]}:{start[i]}-{end[i]} in {path.name} is empty or "
                "outside its contig; fix the file or the chrom sizes"
            )
            raise InputError(msg)
        chrom, start, end, cell, count = (a[valid] for a in (chrom, start, end, cell, count))
    return FragmentTable(
        contigs=contigs,
        lengths=lengths,
        chrom=chrom,
        start=start,
        end=end,
        cell=cell,
        count=count,
        barcodes=bc_index.to_numpy(dtype=object),
        cell_type=cell_type,
        cell_types=cell_types,
        n_lines=n_lines,
        n_unmatched_fragments=n_unmatched,
        n_unmatched_barcodes=len(unmatched),
        off_contig=off,
    )


def read_fragment_chunks(
    path: str | os.PathLike, *, chunksize: int = _CHUNK
) -> Iterator[pd.DataFrame]:
    """Stream a fragments file: pandas chunks of at most `chunksize` lines with columns
    ``chrom`` (str), ``start``, ``end`` (int64), ``barcode`` (str), ``count`` (float, 1
    when the file has no fifth column). A file that is not ``chrom, start, end,
    barcode[, count]`` is an `InputError`."""
    return _read_chunks(Path(path), chunksize=chunksize)


def _read_chunks(path: Path, *, chunksize: int = _CHUNK) -> Iterator[pd.DataFrame]:
    """pandas chunks with columns chrom, start, end, barcode, count (count 1 when absent)."""
    compression = "gzip" if _is_gzip(path) else None
    with reading(path, "fragments file", check="gzip -t" if compression else None):
        yield from _chunks(path, compression, chunksize)


def _chunks(path: Path, compression: str | None, chunksize: int) -> Iterator[pd.DataFrame]:
    try:
        head = pd.read_csv(
            path, sep="\t", header=None, comment="#", nrows=1, compression=compression
        )
        if head.shape[1] < 4:
            msg = (
                f"fragments file {path} has {head.shape[1]} columns; need chrom, start, "
                "end, barcode[, count]"
            )
            raise InputError(msg)
        reader = pd.read_csv(
            path,
            sep="\t",
            header=None,
            comment="#",
            usecols=list(range(min(head.shape[1], 5))),
            dtype={0: str, 1: np.int64, 2: np.int64, 3: str, 4: np.float64},
            chunksize=chunksize,
            compression=compression,
        )
        for chunk in reader:
            chunk.columns = ["chrom", "start", "end", "barcode", "count"][: chunk.shape[1]]
            if "count" not in chunk:
                chunk["count"] = 1
            chunk["count"] = chunk["count"].fillna(1)
            yield chunk
    except (ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, InputError):
            raise
        first = str(exc).splitlines()[0]
        msg = f"fragments file {path} is not chrom, start, end, barcode[, count] ({first})"
        raise InputError(msg) from None
    except pd.errors.EmptyDataError:
        return


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"
