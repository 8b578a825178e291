"""ATAC inputs -> streams of Tn5 insertions labelled by cell type.

Three ways to give the reads (`Source`, built by `collect_sources`):

- a **fragments file** (``chrom start end barcode [count]``, 0-based half-open, plain or
  bgzipped; 10x Cell Ranger ATAC, ArchR, SnapATAC2) with a barcode -> cell type table;
- a **BAM** (pysam) with a barcode -> cell type table, the barcode read from a tag
  (``CB`` as Cell Ranger writes it);
- **one file per cell type** (a TSV ``cell_type<TAB>path``, fragments or BAM; several
  files of one cell type add up): bulk ATAC of sorted populations (ImmGen), or
  pseudobulks split beforehand. Barcodes are then not read.

Each fragment gives two insertions, at ``start + 4`` and ``end - 1 - 4`` with the Tn5
shift (default), or at ``start`` and ``end - 1`` without it (``shift=False``: fragments
that are already shifted, as 10x Cell Ranger and ArchR write them). BAM reads give
their 5' ends, shifted the same way unless told not to
(`varinterp.io.alignments`). Each fragment line counts once (the duplicate ``count``
column is not a weight).

Every input must be sorted by position (``sort -k1,1 -k2,2n``; ``samtools sort``): the
records of a contig together, starts never decreasing. An unsorted or garbled file is
an `InputError` naming the file and line. Records of barcodes not in the table are
dropped and counted (``unknown_barcodes="drop"``) or refused (``"error"``); it is an
error when no record's barcode is in the table.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.alignments import TN5_SHIFT, read_bam_insertions
from varinterp.io.contigs import ContigMap
from varinterp.io.fragments import read_barcodes, read_fragment_chunks

__all__ = [
    "UNKNOWN_BARCODES",
    "Batch",
    "Source",
    "SourceStats",
    "collect_sources",
    "read_sample_table",
    "stream_source",
]

UNKNOWN_BARCODES = ("drop", "error")


@dataclass(frozen=True)
class Source:
    """One input file: ``kind`` ``fragments`` or ``bam``; `cell_type` when the whole
    file belongs to one cell type (else barcodes decide)."""

    path: Path
    kind: str
    cell_type: str | None = None


@dataclass
class SourceStats:
    """What reading one source saw: records (fragment lines or reads kept), records of
    a known barcode, per cell type records kept ``(K,) int64`` and barcodes seen,
    records of unknown barcodes (and how many distinct), records on contigs not in the
    chrom sizes (by name)."""

    records: int = 0
    matched: int = 0
    per_type: np.ndarray | None = None
    barcodes_seen: set[str] = field(default_factory=set)
    unknown_records: int = 0
    unknown_barcodes: set[str] = field(default_factory=set)
    off_contig: dict[str, int] = field(default_factory=dict)


@dataclass
class Batch:
    """Insertions of one contig from one run of records: ``contig`` (the chrom sizes'
    spelling), ``pos`` ``(n,) int64`` and ``cell_type`` ``(n,) int64`` codes."""

    contig: str
    pos: np.ndarray
    cell_type: np.ndarray


def _kind(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(4)
    if head[:2] == b"\x1f\x8b":
        import gzip

        try:
            with gzip.open(path, "rb") as fh:
                magic = fh.read(4)
        except OSError:
            magic = b""
        return "bam" if magic == b"BAM\x01" else "fragments"
    return "fragments"


def read_sample_table(path: str | os.PathLike) -> list[Source]:
    """A ``cell_type<TAB>path`` table (a ``cell_type path`` header line is skipped;
    relative paths are relative to the table) -> one `Source` per row."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"sample table {path} cannot be read ({exc}); give 'cell_type<TAB>path' lines"
        raise InputError(msg) from None
    if table.shape[1] < 2:
        raise InputError(f"sample table {path} needs two columns: cell_type<TAB>path")
    if str(table.iloc[0, 0]).lower() == "cell_type":
        table = table.iloc[1:]
    out = []
    for ct, file in zip(table[0], table[1], strict=True):
        p = Path(str(file)).expanduser()
        p = p if p.is_absolute() else path.parent / p
        if not p.is_file():
            raise InputError(f"sample table {path}: file {p} of cell type {ct} does not exist")
        out.append(Source(p, _kind(p), str(ct)))
    if not out:
        raise InputError(f"sample table {path} lists no files")
    return out


def collect_sources(
    *,
    fragments: str | os.PathLike | None = None,
    bam: str | os.PathLike | None = None,
    barcodes: str | os.PathLike | None = None,
    samples: str | os.PathLike | None = None,
) -> tuple[list[Source], list[str], pd.DataFrame | None]:
    """The sources, the cell types (in table order) and the barcode table (None for a
    sample table). Exactly one of `fragments`, `bam`, `samples` is given; the first two
    need `barcodes`."""
    given = [x is not None for x in (fragments, bam, samples)]
    if sum(given) != 1:
        msg = "give exactly one input: --fragments, --bam or --samples (one file per cell type)"
        raise InputError(msg)
    if samples is not None:
        if barcodes is not None:
            raise InputError("--barcodes goes with --fragments or --bam, not with --samples")
        sources = read_sample_table(samples)
        return sources, list(dict.fromkeys(s.cell_type or "" for s in sources)), None
    if barcodes is None:
        msg = "a fragments file or BAM needs --barcodes (barcode<TAB>cell_type)"
        raise InputError(msg)
    path = Path(fragments if fragments is not None else bam)  # type: ignore[arg-type]
    if not path.is_file():
        what = "fragments file" if fragments is not None else "BAM"
        raise InputError(f"{what} {path} does not exist; check the path")
    table = read_barcodes(barcodes)
    kind = "fragments" if fragments is not None else "bam"
    return [Source(path, kind)], list(dict.fromkeys(table["cell_type"])), table


class _Order:
    """Checks that records come sorted (contigs together, starts non-decreasing)."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.done: set[str] = set()
        self.current: str | None = None
        self.last = -1

    def check(self, chrom: np.ndarray, start: np.ndarray, first_line: int) -> None:
        change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
        bounds = [0, *change.tolist(), chrom.size]
        for a, b in itertools.pairwise(bounds):
            name = str(chrom[a])
            if name != self.current:
                if name in self.done:
                    self._fail(first_line + a, f"{name} appears again after other contigs")
                if self.current is not None:
                    self.done.add(self.current)
                self.current, self.last = name, -1
            s = start[a:b]
            if s.size and (s[0] < self.last or (s.size > 1 and np.any(np.diff(s) < 0))):
                bad = a + (0 if s[0] < self.last else int(np.flatnonzero(np.diff(s) < 0)[0]) + 1)
                self._fail(first_line + bad, f"{name}:{start[bad]} comes after a later start")
            self.last = int(s[-1]) if s.size else self.last

    def _fail(self, line: int, what: str) -> None:
        how = "samtools sort" if self.source.kind == "bam" else "sort -k1,1 -k2,2n, then bgzip"
        msg = f"{self.source.path} is not sorted by position (line {line}: {what}); run {how}"
        raise InputError(msg)


def _codes(
    barcodes: np.ndarray,
    source: Source,
    index: pd.Index | None,
    type_of: np.ndarray | None,
    stats: SourceStats,
    unknown: str,
    first_line: int,
    cell_types: list[str],
) -> np.ndarray:
    if source.cell_type is not None:
        return np.full(barcodes.size, cell_types.index(source.cell_type), dtype=np.int64)
    assert index is not None and type_of is not None
    cell = index.get_indexer(barcodes)
    miss = cell < 0
    if miss.any():
        if unknown == "error":
            i = int(np.flatnonzero(miss)[0])
            msg = (
                f"{source.path} line {first_line + i}: barcode {barcodes[i]!r} is not in the "
                "barcode table; add it, or drop records of unknown barcodes "
                "(--unknown-barcodes drop)"
            )
            raise InputError(msg)
        stats.unknown_records += int(miss.sum())
        if len(stats.unknown_barcodes) < 1_000_000:
            stats.unknown_barcodes.update(barcodes[miss].tolist())
    ok = ~miss
    if len(stats.barcodes_seen) < 10_000_000:
        stats.barcodes_seen.update(np.unique(barcodes[ok]).tolist())
    out = np.full(barcodes.size, -1, dtype=np.int64)
    out[ok] = type_of[cell[ok]]
    return out


def _fragment_runs(source: Source, *, shift: bool, chunksize: int):
    """(chrom, start, end, barcode, first line) arrays per chunk, checked for garbage."""
    line = 1
    for chunk in read_fragment_chunks(source.path, chunksize=chunksize):
        chrom = chunk["chrom"].astype(str).to_numpy()
        start = chunk["start"].to_numpy(np.int64)
        end = chunk["end"].to_numpy(np.int64)
        bad = (start < 0) | (end <= start)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            msg = (
                f"{source.path} line {line + i}: fragment {chrom[i]}:{start[i]}-{end[i]} has "
                "end <= start or a negative start; fix or drop that line"
            )
            raise InputError(msg)
        d = TN5_SHIFT if shift else 0
        yield chrom, start, start + d, end - 1 - d, chunk["barcode"].astype(str).to_numpy(), line
        line += len(chunk)


def stream_source(
    source: Source,
    *,
    cell_types: list[str],
    barcodes: pd.DataFrame | None,
    chrom_sizes: Mapping[str, int],
    shift: bool = True,
    unknown_barcodes: str = "drop",
    barcode_tag: str = "CB",
    min_mapq: int = 30,
    chunksize: int = 1_000_000,
    stats: SourceStats | None = None,
) -> Iterator[Batch]:
    """The insertions of `source` as `Batch` es, one contig at a time per chunk, in file
    order (module docstring); `stats` (a `SourceStats`) is filled in as it goes."""
    if unknown_barcodes not in UNKNOWN_BARCODES:
        msg = f"unknown_barcodes must be one of {', '.join(UNKNOWN_BARCODES)}"
        raise InputError(msg)
    stats = stats if stats is not None else SourceStats()
    stats.per_type = np.zeros(len(cell_types), dtype=np.int64)
    names = ContigMap(chrom_sizes, source=source.path.name)
    lengths = dict(chrom_sizes)
    index = type_of = None
    if source.cell_type is None and barcodes is not None:
        index = pd.Index(barcodes["barcode"].astype(str))
        type_of = barcodes["cell_type"].map({c: i for i, c in enumerate(cell_types)}).to_numpy()
    order = _Order(source)
    if source.kind == "bam":
        runs = _bam_runs(source, shift=shift, tag=barcode_tag, min_mapq=min_mapq, chunk=chunksize)
    else:
        runs = _fragment_runs(source, shift=shift, chunksize=chunksize)
    for chrom, start, left, right, bcs, line in runs:
        order.check(chrom, start, line)
        stats.records += chrom.size
        codes = _codes(bcs, source, index, type_of, stats, unknown_barcodes, line,
                       cell_types)  # fmt: skip
        stats.matched += int((codes >= 0).sum())
        change = np.flatnonzero(chrom[1:] != chrom[:-1]) + 1
        bounds = [0, *change.tolist(), chrom.size]
        for a, b in itertools.pairwise(bounds):
            name = str(chrom[a])
            mapped = names.get(name)
            keep = codes[a:b] >= 0
            if mapped is None:
                stats.off_contig[name] = stats.off_contig.get(name, 0) + int(keep.sum())
                continue
            c = codes[a:b][keep]
            stats.per_type += np.bincount(c, minlength=len(cell_types))
            pos = (
                left[a:b][keep]
                if right is None
                else np.concatenate([left[a:b][keep], right[a:b][keep]])
            )
            ct = c if right is None else np.concatenate([c, c])
            inside = (pos >= 0) & (pos < lengths[mapped])
            if pos.size:
                yield Batch(mapped, pos[inside], ct[inside])


def _bam_runs(source: Source, *, shift: bool, tag: str, min_mapq: int, chunk: int):
    want_tag = tag if source.cell_type is None else None
    for part in read_bam_insertions(
        source.path, barcode_tag=want_tag, min_mapq=min_mapq, shift=shift, chunk=chunk
    ):
        bcs = part.barcode if part.barcode is not None else np.full(part.pos.size, "", object)
        # a read's insertion is not its start: order is checked on the reads themselves
        yield part.chrom, np.zeros(part.pos.size, np.int64), part.pos, None, bcs, part.first_line
