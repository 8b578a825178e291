"""scATAC fragments -> per-cell-type pseudo-bulk accessibility bigWigs.

A fragments file has one fragment per line: ``chrom, start, end, barcode[, count]``
(0-based half-open, as Cell Ranger ATAC writes it), plain or bgzipped, with optional
``#`` header lines. A barcode table maps each barcode to a cell type (TSV, two columns,
no header; a first line ``barcode<TAB>cell_type`` is skipped).

Pseudo-bulk tracks (``mode``):

- ``coverage`` (default, as DeepDETAILS ``prep-data`` does with ``bedtools genomecov
  -bg`` on whole fragments): each fragment adds 1 to every base it spans.
- ``cutsites``: each fragment adds 1 at each of its two Tn5 insertion sites (``start``
  and ``end - 1``).

Each fragment line counts once: the duplicate ``count`` column is kept but not used as a
weight, and a cell type's library size is its number of fragment lines on the kept
contigs. The tracks hold raw counts; depth normalisation enters the model through
``norm = 1e6 / library size`` (written to ``library_sizes.tsv``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir
from varinterp.io.contigs import ContigMap, harmonize_contig
from varinterp.progress import ProgressCallback, report

__all__ = [
    "MODES",
    "FragmentTable",
    "PseudobulkResult",
    "coverage_runs",
    "dense_blocks",
    "load_fragments",
    "make_pseudobulk",
    "read_barcodes",
    "read_chrom_sizes",
    "read_peaks",
    "relabel",
    "resolve_chrom_sizes",
    "safe_name",
    "write_pseudobulk",
]

MODES = ("coverage", "cutsites")
_CHUNK = 2_000_000


def read_chrom_sizes(path: str | os.PathLike) -> dict[str, int]:
    """Contig lengths from a two-column ``chrom<TAB>length`` file, in file order."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1], comment="#")
        sizes = {str(c): int(n) for c, n in zip(table[0], table[1], strict=True)}
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"chrom sizes {path} is not a 'chrom<TAB>length' table ({exc}); fix the file"
        raise InputError(msg) from None
    if not sizes:
        raise InputError(f"chrom sizes {path} is empty; give one 'chrom<TAB>length' per contig")
    return sizes


def read_barcodes(path: str | os.PathLike) -> pd.DataFrame:
    """The barcode table -> DataFrame ``barcode, cell_type`` (both str), table order kept."""
    path = Path(path)
    try:
        table = pd.read_csv(path, sep="\t", header=None, dtype=str, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"barcode table {path} cannot be read ({exc}); give 'barcode<TAB>cell_type' lines"
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


def _read_chunks(path: Path) -> Iterator[pd.DataFrame]:
    """pandas chunks with columns chrom, start, end, barcode, count (count 1 when absent)."""
    compression = "gzip" if _is_gzip(path) else None
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
            chunksize=_CHUNK,
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


def coverage_runs(
    start: np.ndarray, end: np.ndarray, *, mode: str = "coverage"
) -> tuple[np.ndarray, np.ndarray]:
    """Pile up fragments of one contig -> ``(bounds (m + 1,) int64, values (m,) int64)``.

    Base ``x`` with ``bounds[i] <= x < bounds[i + 1]`` has value ``values[i]``; bases outside
    ``[bounds[0], bounds[-1])`` are 0. `mode` is ``coverage`` or ``cutsites`` (see module).
    """
    if mode == "coverage":
        lo, hi = start, end
    elif mode == "cutsites":
        lo = np.concatenate([start, end - 1])
        hi = lo + 1
    else:
        raise InputError(f"unknown pseudo-bulk mode {mode!r}; use one of {', '.join(MODES)}")
    if lo.size == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pos = np.concatenate([lo, hi])
    delta = np.concatenate([np.ones(lo.size, np.int64), -np.ones(hi.size, np.int64)])
    bounds, inverse = np.unique(pos, return_inverse=True)
    values = np.cumsum(np.bincount(inverse, weights=delta).astype(np.int64))[:-1]
    return bounds.astype(np.int64), values


def dense_blocks(
    bounds: np.ndarray, values: np.ndarray, *, block: int = 1 << 20
) -> Iterator[tuple[int, np.ndarray]]:
    """Runs (from `coverage_runs`) -> ``(start, (L,) float64)`` dense chunks with signal.

    Chunks lie within blocks aligned to multiples of `block`, come sorted, and blocks
    without signal are skipped.
    """
    if not np.any(values):
        return
    for b in np.unique(_covered_blocks(bounds, values, block)):
        b0 = int(b) * block
        b1 = min(b0 + block, int(bounds[-1]))
        i0 = max(int(np.searchsorted(bounds, b0, side="right")) - 1, 0)
        i1 = int(np.searchsorted(bounds, b1, side="left"))
        edges = np.clip(bounds[i0 : i1 + 1], b0, b1)
        yield int(edges[0]), np.repeat(values[i0:i1].astype(np.float64), np.diff(edges))


def _covered_blocks(bounds: np.ndarray, values: np.ndarray, block: int) -> np.ndarray:
    nz = np.flatnonzero(values)
    lo, hi = bounds[nz] // block, (bounds[nz + 1] - 1) // block
    span = hi - lo + 1
    return np.repeat(lo, span) + (np.arange(span.sum()) - np.repeat(np.cumsum(span) - span, span))


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A cell-type name usable in a file name (other characters become ``_``)."""
    return _SAFE.sub("_", name).strip("._") or "cell_type"


@dataclass
class PseudobulkResult:
    """What `make_pseudobulk` wrote: one bigWig per kept cell type and a library table."""

    out: Path
    cell_types: list[str]
    tracks: dict[str, Path]
    table: pd.DataFrame
    dropped: dict[str, int]
    n_lines: int
    n_unmatched_fragments: int
    n_unmatched_barcodes: int
    off_contig: dict[str, int]
    preflight: object | None = None


def write_pseudobulk(
    table: FragmentTable,
    *,
    out: str | os.PathLike,
    mode: str = "coverage",
    min_cells: int = 20,
    strict: bool = False,
    overwrite: bool = False,
    extra: Callable[[Path], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> PseudobulkResult:
    """Write ``<cell type>.bw`` per cell type and ``library_sizes.tsv`` into the folder `out`.

    A cell type with fewer than `min_cells` cells (barcodes with a fragment) is dropped and
    listed in the result (an `InputError` when `strict`). A cell type whose track is all zero
    is an `InputError` naming it. ``library_sizes.tsv`` columns: cell_type, n_cells,
    n_fragments, norm (1e6 / n_fragments), bigwig (file name). `extra`, when given, is
    called with the temporary folder to add files before it is moved into place.
    """
    from varinterp.io.bigwig import write_bigwig

    if mode not in MODES:
        raise InputError(f"unknown pseudo-bulk mode {mode!r}; use one of {', '.join(MODES)}")
    cells = table.cells_per_type()
    frags = table.fragments_per_type()
    dropped = {ct: int(n) for ct, n in zip(table.cell_types, cells, strict=True) if n < min_cells}
    if dropped and strict:
        ct, n = next(iter(dropped.items()))
        msg = (
            f"cell type {ct!r} has {n} cells (< {min_cells}); merge it into another type in the "
            "barcode table or run without --strict to drop it"
        )
        raise InputError(msg)
    kept = [k for k, ct in enumerate(table.cell_types) if ct not in dropped]
    if not kept:
        raise InputError(f"every cell type has fewer than {min_cells} cells; lower --min-cells")
    names = {}
    for k in kept:
        name = safe_name(table.cell_types[k])
        while name in names.values():
            name += "_"
        names[k] = name
    frag_type = table.cell_type[table.cell]
    order = np.lexsort((table.start, table.chrom))
    rows = []
    tracks: dict[str, Path] = {}
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for done, k in enumerate(kept):
            ct = table.cell_types[k]
            sel = order[frag_type[order] == k]
            total = [0.0]
            blocks = _track_blocks(table, sel, mode, total)
            write_bigwig(tmp / f"{names[k]}.bw", chrom_sizes=table.lengths, tracks=blocks)
            if total[0] <= 0:
                msg = (
                    f"the accessibility track of cell type {ct!r} is all zero (no fragments on "
                    "the kept contigs); check its barcodes and contig names"
                )
                raise InputError(msg)
            n_frag = int(frags[k])
            rows.append((ct, int(cells[k]), n_frag, 1e6 / n_frag, f"{names[k]}.bw"))
            tracks[ct] = Path(out) / f"{names[k]}.bw"
            report(on_progress, done + 1, len(kept))
        result_table = pd.DataFrame(
            rows, columns=["cell_type", "n_cells", "n_fragments", "norm", "bigwig"]
        )
        result_table.to_csv(tmp / "library_sizes.tsv", sep="\t", index=False)
        if extra is not None:
            extra(tmp)
    return PseudobulkResult(
        out=Path(out),
        cell_types=[table.cell_types[k] for k in kept],
        tracks=tracks,
        table=result_table,
        dropped=dropped,
        n_lines=table.n_lines,
        n_unmatched_fragments=table.n_unmatched_fragments,
        n_unmatched_barcodes=table.n_unmatched_barcodes,
        off_contig=table.off_contig,
    )


def _track_blocks(table: FragmentTable, sel: np.ndarray, mode: str, total: list[float]):
    chrom = table.chrom[sel]
    for c, name in enumerate(table.contigs):
        lo, hi = np.searchsorted(chrom, [c, c + 1])
        if hi <= lo:
            continue
        idx = sel[lo:hi]
        bounds, values = coverage_runs(table.start[idx], table.end[idx], mode=mode)
        total[0] += float((values * np.diff(bounds)).sum())
        for start, vals in dense_blocks(bounds, values):
            yield name, start, vals


def make_pseudobulk(
    *,
    fragments: str | os.PathLike,
    barcodes: str | os.PathLike | pd.DataFrame,
    out: str | os.PathLike,
    chrom_sizes: str | os.PathLike | Mapping[str, int] | None = None,
    bulk: str | os.PathLike | None = None,
    bulk_mn: str | os.PathLike | None = None,
    peaks: str | os.PathLike | pd.DataFrame | None = None,
    mode: str = "coverage",
    min_cells: int = 20,
    strict: bool = False,
    seed: int = 0,
    cutoff: float = 0.035,
    merge_into: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> PseudobulkResult:
    """Fragments + barcode table -> per-cell-type pseudo-bulk bigWigs in the folder `out`.

    Contig lengths come from `chrom_sizes` (a file or a mapping) or else from the `bulk`
    (plus-strand) bigWig's header; when both are given, every contig with fragments must
    also be in the bulk (an `InputError` naming both spellings otherwise). With `peaks`
    (ATAC peaks, BED or chrom/start/end table) and `bulk`, the preflight
    (`varinterp.deconv.preflight`) runs first, drops (or merges into `merge_into`) cell
    types under `cutoff`, and writes its files into ``out/preflight/``. See
    `write_pseudobulk` for the tracks.
    """
    sizes = resolve_chrom_sizes(chrom_sizes, bulk)
    table_bc = barcodes if isinstance(barcodes, pd.DataFrame) else read_barcodes(barcodes)
    table = load_fragments(fragments, barcodes=table_bc, chrom_sizes=sizes, strict=strict)
    if bulk is not None and chrom_sizes is not None:
        from varinterp.io.bigwig import BigWig

        with BigWig(bulk) as bw:
            for c in np.unique(table.chrom):
                harmonize_contig(table.contigs[c], bw.lengths, source="the fragments (bulk check)")
    extra = None
    preflight = None
    if peaks is not None:
        from varinterp.deconv.preflight import run_preflight, write_preflight

        if bulk is None:
            raise InputError("the preflight needs the bulk bigWig; give --bulk-pl")
        regions = peaks if isinstance(peaks, pd.DataFrame) else read_peaks(peaks)
        preflight = run_preflight(
            table,
            regions=regions,
            bulk_pl=bulk,
            bulk_mn=bulk_mn,
            seed=seed,
            cutoff=cutoff,
            min_cells=min_cells,
            merge_into=merge_into,
        )
        table = relabel(table, preflight.barcodes)

        def extra(folder: Path) -> None:
            write_preflight(preflight, folder / "preflight", cutoff=cutoff)

    result = write_pseudobulk(
        table,
        out=out,
        mode=mode,
        min_cells=min_cells,
        strict=strict,
        overwrite=overwrite,
        extra=extra,
        on_progress=on_progress,
    )
    result.preflight = preflight
    return result


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """A BED file -> DataFrame chrom, start, end (int64), file order."""
    from varinterp.io.intervals import read_bed

    table = read_bed(path)
    return table[["chrom", "start", "end"]].astype({"start": np.int64, "end": np.int64})


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
