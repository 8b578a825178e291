"""Simulated bulk mixtures and pseudo-bulk scATAC references with known truth.

Bulk (DeepDETAILS Methods, "Simulating bulk tissue datasets"): each cell type's stranded
base-resolution count track (PRO-cap, PRO-seq: read ends) is thinned base by base,
``s_ik ~ Binomial(N_ik, p_k)`` with ``p_k = proportion_k * depth / total_k`` (``total_k``
= the cell type's counts over both strands), so its expected total is
``proportion_k * depth``. The thinned tracks are the ground truth and the bulk is their
exact base-by-base sum. Minus-strand values are read as absolute values and written
negative, as the fixtures and DeepDETAILS write them.

Reference (Methods, "Simulating pseudo-bulk sc/snATAC-seq datasets"): two-stage
hierarchical sampling, both stages without replacement: per cell type ``m_k`` cells are
drawn uniformly from its barcodes, then each drawn cell keeps ``n_i ~ round(N(mu,
sigma))`` of its fragment lines (clipped to ``[0, fragments of the cell]``). Depth levels
(mu, sigma): excellent (10000, 833), good (5000, 333), acceptable (1000, 167).

Every random draw comes from a numpy Generator seeded from ``(seed, cell type index,
strand, contig index)`` or ``(seed, cell type index)``: same inputs and seed, same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir
from varinterp.io.contigs import ContigMap
from varinterp.io.fragments import load_fragments, read_barcodes, safe_name
from varinterp.progress import ProgressCallback, report

__all__ = [
    "QUALITY",
    "MixtureResult",
    "ReferenceResult",
    "simulate_mixture",
    "simulate_reference",
    "sparse_blocks",
    "thin",
]

QUALITY: dict[str, tuple[float, float]] = {
    "excellent": (10_000.0, 833.0),
    "good": (5_000.0, 333.0),
    "acceptable": (1_000.0, 167.0),
}


def thin(counts: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Binomial thinning: ``(n,) int64`` counts -> ``(n,) int64`` draws of Binomial(count, p)."""
    return rng.binomial(np.asarray(counts, dtype=np.int64), p).astype(np.int64)


def sparse_blocks(
    pos: np.ndarray, values: np.ndarray, *, block: int = 1 << 20
) -> Iterator[tuple[int, np.ndarray]]:
    """Sorted single-base values -> ``(start, (L,) float64)`` dense chunks (one per block)."""
    if pos.size == 0:
        return
    which = pos // block
    cuts = np.flatnonzero(np.diff(which)) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, pos.size], strict=True):
        start = int(pos[lo])
        dense = np.zeros(int(pos[hi - 1]) - start + 1, dtype=np.float64)
        dense[pos[lo:hi] - start] = values[lo:hi]
        yield start, dense


def _read_bases(bw, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero bases of one contig: ``(pos (n,) int64, counts (n,) int64)``, absolute values."""
    iv = bw.intervals(name) or ()
    if not iv:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    arr = np.asarray(iv, dtype=np.float64)
    s, e, v = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), np.abs(arr[:, 2])
    keep = v != 0
    s, e, v = s[keep], e[keep], v[keep]
    n = e - s
    pos = np.repeat(s, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    return pos, np.repeat(v, n)


@dataclass
class MixtureResult:
    """What `simulate_mixture` wrote. ``table``: cell_type, proportion, input_total,
    sampling_p, expected_total, thinned_total (counts over both strands)."""

    out: Path
    table: pd.DataFrame
    bulk: list[Path]
    truth: dict[str, list[Path]]


def simulate_mixture(
    *,
    tracks: Mapping[str, tuple[str | os.PathLike, str | os.PathLike | None]],
    proportions: Mapping[str, float],
    depth: int,
    out: str | os.PathLike,
    seed: int = 0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> MixtureResult:
    """Thin per-cell-type (plus, minus) count bigWigs to a bulk of `depth` counts.

    `proportions` (>= 0, normalised to sum 1) must name the same cell types as `tracks`.
    Writes into the folder `out`: ``bulk.pl.bw`` / ``bulk.mn.bw`` (``bulk.bw`` unstranded),
    ``<cell type>.ds.pl.bw`` / ``.ds.mn.bw`` and ``mixture.tsv``. Raises `InputError` for
    non-integer tracks and for a depth that needs more counts than a track has.
    """
    from varinterp.io.bigwig import write_bigwig
    from varinterp.io.readers import open_bigwig

    names = list(tracks)
    if set(proportions) != set(names):
        msg = f"proportions name {sorted(proportions)} but the tracks are {sorted(names)}"
        raise InputError(msg)
    props = np.array([float(proportions[c]) for c in names])
    if (props < 0).any() or props.sum() <= 0 or not np.isfinite(props).all():
        raise InputError("proportions must be >= 0 with a positive sum, e.g. K562=0.6")
    props = props / props.sum()
    if depth <= 0:
        raise InputError(f"--depth must be positive, got {depth}")
    stranded = [tracks[c][1] is not None for c in names]
    if any(stranded) and not all(stranded):
        raise InputError("give a minus-strand bigWig for every cell type or for none")
    n_strands = 2 if stranded[0] else 1
    handles: list[list[tuple]] = []
    try:
        for c in names:
            row = []
            for path in tracks[c][:n_strands]:
                bw = open_bigwig(path, f"track of {c}")
                row.append((bw, ContigMap(bw.chroms(), source="", target=f"track {path}"), path, c))
            handles.append(row)
        sizes = dict(handles[0][0][0].chroms())
        contigs = list(sizes)
        totals = np.zeros(len(names))
        for k, row in enumerate(handles):
            for track in row:
                for contig in contigs:
                    totals[k] += _counts(track, contig)[1].sum()
            if totals[k] <= 0:
                raise InputError(f"the track of cell type {names[k]} is all zero; check it")
        p = props * depth / totals
        for k, c in enumerate(names):
            if p[k] > 1:
                most = int(totals[k] / props[k])
                msg = (
                    f"cell type {c} has {int(totals[k])} counts, fewer than its share "
                    f"{props[k]:.3g} x depth {depth}; lower --depth to <= {most}"
                )
                raise InputError(msg)
        thinned_total = np.zeros(len(names))
        tags = ["pl", "mn"] if n_strands == 2 else [""]

        def draws(k: int, s: int, ci: int) -> tuple[np.ndarray, np.ndarray]:
            pos, cnt = _counts(handles[k][s], contigs[ci])
            got = thin(cnt, float(p[k]), np.random.default_rng([seed, k, s, ci]))
            nz = got > 0
            return pos[nz], got[nz]

        def cell_track(k: int, s: int):
            sign = -1.0 if s == 1 else 1.0
            for ci, contig in enumerate(contigs):
                pos, got = draws(k, s, ci)
                thinned_total[k] += got.sum()
                for start, vals in sparse_blocks(pos, got):
                    yield contig, start, sign * vals

        def bulk_track(s: int):
            sign = -1.0 if s == 1 else 1.0
            for ci, contig in enumerate(contigs):
                parts = [draws(k, s, ci) for k in range(len(names))]
                allpos = np.concatenate([a for a, _ in parts])
                upos, inv = np.unique(allpos, return_inverse=True)
                summed = np.bincount(inv, weights=np.concatenate([v for _, v in parts]))
                for start, vals in sparse_blocks(upos, summed):
                    yield contig, start, sign * vals

        with atomic_dir(out, overwrite=overwrite) as tmp:
            done = 0
            for s, tag in enumerate(tags):
                for k, c in enumerate(names):
                    write_bigwig(
                        tmp / _file_name(c, tag, names), chrom_sizes=sizes, tracks=cell_track(k, s)
                    )
                    done += 1
                    report(on_progress, done, (len(names) + 1) * n_strands)
                bulk_name = f"bulk.{tag}.bw" if tag else "bulk.bw"
                write_bigwig(tmp / bulk_name, chrom_sizes=sizes, tracks=bulk_track(s))
                done += 1
                report(on_progress, done, (len(names) + 1) * n_strands)
            table = pd.DataFrame(
                {
                    "cell_type": names,
                    "proportion": props,
                    "input_total": totals.astype(np.int64),
                    "sampling_p": p,
                    "expected_total": props * depth,
                    "thinned_total": thinned_total.astype(np.int64),
                }
            )
            table.to_csv(tmp / "mixture.tsv", sep="\t", index=False, float_format="%.6g")
    finally:
        for row in handles:
            for track in row:
                track[0].close()
    out = Path(out)
    suffixes = [f".{t}" if t else "" for t in tags]
    return MixtureResult(
        out=out,
        table=table,
        bulk=[out / f"bulk{t}.bw" for t in suffixes],
        truth={c: [out / _file_name(c, t, names) for t in tags] for c in names},
    )


def _counts(track: tuple, contig: str) -> tuple[np.ndarray, np.ndarray]:
    """One contig of one track: nonzero ``(pos (n,) int64, counts (n,) int64)``."""
    bw, cmap, path, cell_type = track
    name = cmap.get(contig)
    if name is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos, cnt = _read_bases(bw, name)
    if cnt.size and np.abs(cnt - np.rint(cnt)).max() > 1e-6:
        msg = (
            f"track {path} of {cell_type} holds non-integer values; binomial thinning needs "
            "raw counts, not normalised signal"
        )
        raise InputError(msg)
    return pos, np.rint(cnt).astype(np.int64)


def _file_name(cell_type: str, tag: str, names: list[str]) -> str:
    base = safe_name(cell_type)
    if sum(safe_name(n) == base for n in names) > 1:
        base = f"{base}_{names.index(cell_type)}"
    return f"{base}.ds.{tag}.bw" if tag else f"{base}.ds.bw"


@dataclass
class ReferenceResult:
    """What `simulate_reference` wrote. ``table``: cell_type, cells_available, n_cells,
    n_fragments, mean_fragments_per_cell."""

    out: Path
    table: pd.DataFrame
    fragments: Path
    barcodes: Path
    warnings: list[str] = field(default_factory=list)


def simulate_reference(
    *,
    fragments: str | os.PathLike,
    barcodes: str | os.PathLike | pd.DataFrame,
    chrom_sizes: Mapping[str, int],
    out: str | os.PathLike,
    quality: str = "good",
    cells_per_type: int | Mapping[str, int] | None = None,
    seed: int = 0,
    strict: bool = False,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ReferenceResult:
    """Hierarchical sampling of cells, then fragments, into a new pseudo-bulk reference.

    `cells_per_type` (all cells when None) is capped at the cells available, with a warning
    (an `InputError` when `strict`). Writes ``fragments.tsv.gz`` (bgzip) + ``.tbi`` (tabix),
    ``barcodes.tsv`` (barcode, cell type; no header) and ``reference.tsv`` into `out`.
    """
    import pysam

    if quality not in QUALITY:
        raise InputError(f"unknown quality {quality!r}; use one of {', '.join(QUALITY)}")
    mu, sigma = QUALITY[quality]
    table_bc = barcodes if isinstance(barcodes, pd.DataFrame) else read_barcodes(barcodes)
    frags = load_fragments(fragments, barcodes=table_bc, chrom_sizes=chrom_sizes, strict=strict)
    by_cell = np.argsort(frags.cell, kind="stable")
    cell_sorted = frags.cell[by_cell]
    first = np.searchsorted(cell_sorted, np.arange(frags.barcodes.size + 1))
    has = np.diff(first) > 0
    rows, picked, warnings, chosen_cells = [], [], [], []
    for k, ct in enumerate(frags.cell_types):
        cells = np.flatnonzero(has & (frags.cell_type == k))
        want = _wanted(cells_per_type, ct, cells.size)
        if want > cells.size:
            msg = f"cell type {ct!r} has {cells.size} cells, fewer than the {want} requested"
            if strict:
                raise InputError(msg + "; lower --cells-per-type")
            warnings.append(msg + f"; using all {cells.size}")
            want = cells.size
        rng = np.random.default_rng([seed, k])
        sample = np.sort(rng.choice(cells, size=want, replace=False))
        n_take = np.rint(rng.normal(mu, sigma, size=want)).astype(np.int64)
        n_frag = 0
        for cell, n in zip(sample, n_take, strict=True):
            lo, hi = first[cell], first[cell + 1]
            n = int(min(max(n, 0), hi - lo))
            picked.append(by_cell[lo + rng.choice(hi - lo, size=n, replace=False)])
            n_frag += n
        chosen_cells.append(sample)
        rows.append((ct, int(cells.size), int(want), n_frag, n_frag / max(want, 1)))
        report(on_progress, k + 1, len(frags.cell_types))
    idx = np.concatenate(picked) if picked else np.zeros(0, np.int64)
    idx = idx[np.lexsort((frags.end[idx], frags.start[idx], frags.chrom[idx]))]
    out_rows = pd.DataFrame(
        {
            "chrom": np.asarray(frags.contigs, dtype=object)[frags.chrom[idx]],
            "start": frags.start[idx],
            "end": frags.end[idx],
            "barcode": frags.barcodes[frags.cell[idx]],
            "count": frags.count[idx],
        }
    )
    cells = np.concatenate(chosen_cells) if chosen_cells else np.zeros(0, np.int64)
    bc_out = pd.DataFrame(
        {
            "barcode": frags.barcodes[cells],
            "cell_type": np.asarray(frags.cell_types, dtype=object)[frags.cell_type[cells]],
        }
    )
    summary = pd.DataFrame(
        rows,
        columns=[
            "cell_type",
            "cells_available",
            "n_cells",
            "n_fragments",
            "mean_fragments_per_cell",
        ],
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        text = tmp / "fragments.tsv"
        out_rows.to_csv(text, sep="\t", header=False, index=False)
        pysam.tabix_index(str(text), preset="bed", force=True)
        bc_out.to_csv(tmp / "barcodes.tsv", sep="\t", header=False, index=False)
        summary.to_csv(tmp / "reference.tsv", sep="\t", index=False, float_format="%.6g")
    out = Path(out)
    return ReferenceResult(
        out=out,
        table=summary,
        fragments=out / "fragments.tsv.gz",
        barcodes=out / "barcodes.tsv",
        warnings=warnings,
    )


def _wanted(cells_per_type: int | Mapping[str, int] | None, ct: str, available: int) -> int:
    if cells_per_type is None:
        return available
    if isinstance(cells_per_type, Mapping):
        if ct not in cells_per_type:
            return available
        want = int(cells_per_type[ct])
    else:
        want = int(cells_per_type)
    if want < 0:
        raise InputError(f"cells per type must be >= 0, got {want} for {ct}")
    return want
