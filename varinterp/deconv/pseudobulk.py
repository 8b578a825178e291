"""Per-cell-type pseudo-bulk accessibility bigWigs from a `FragmentTable`.

`write_pseudobulk` writes one ``<cell type>.bw`` per cell type (pile-up ``mode`` from
`varinterp.deconv.pileup`) and ``library_sizes.tsv``; `make_pseudobulk` reads the files,
optionally runs the preflight (`varinterp.deconv.preflight`), and writes. A cell type's
library size is its number of fragment lines on the kept contigs. The tracks hold raw
counts; depth normalisation enters the model through ``norm = 1e6 / library size``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.deconv.pileup import MODES, coverage_runs, dense_blocks
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.chrom_sizes import resolve_chrom_sizes
from varinterp.io.contigs import harmonize_contig
from varinterp.io.fragments import (
    FragmentTable,
    load_fragments,
    read_barcodes,
    relabel,
    safe_name,
)
from varinterp.io.intervals import read_peaks
from varinterp.progress import ProgressCallback, report

__all__ = ["PseudobulkResult", "make_pseudobulk", "write_pseudobulk"]


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
    """Write ``<cell type>.bw`` per cell type, ``library_sizes.tsv`` and ``tracks.tsv`` (the
    track table of those bigWigs, `varinterp.io.tracks`) into the folder `out`.

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
        from varinterp.io.tracks import write_track_table

        write_track_table(
            [
                {"cell_type": ct, "accessibility": bw, "accessibility_depth": n}
                for ct, _, n, _, bw in rows
            ],
            tmp / "tracks.tsv",
        )
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
    check_output(out)
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
