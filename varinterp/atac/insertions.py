"""Reads of ATAC-seq -> per-cell-type Tn5 insertion bigWigs, totals and an OCR set.

`count_insertions` is what ``varinterp atac insertions`` calls. It streams each input
(`varinterp.atac.sources`: a fragments file or BAM with a barcode table, or one file per
cell type) once, keeping at most one contig of insertions in memory (spilled to disk
per contig), and writes the folder `out` atomically:

``insertions/<cell type>.bw``  Tn5 insertions per base (both fragment ends), raw counts
``tasks.tsv``                  ``task bigwig insertions records cells``: one row per cell
                               type (the ``tasks`` table of a bpAI-TAC run config)
``peaks.bed``                  the OCR set: the given BED (contigs renamed onto the chrom
                               sizes), or peaks called on the insertions and merged over
                               the cell types (`varinterp.atac.peaks`), as narrowPeak
                               (``name score . signal -log10p -1 summit_offset``)
``peaks_cell_types.tsv``       (called peaks) which cell types call each peak
``insertions.json``            inputs, options, counts: records per cell type, records of
                               unknown barcodes, records on contigs not in the chrom sizes

A cell type with fewer than `min_fragments` records (fragment lines or reads) is an
`InputError` naming it, and nothing is written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.atac.peaks import Summits, call_summits, merge_summits
from varinterp.atac.sources import Source, SourceStats, collect_sources, stream_source
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.bigwig import write_bigwig_sites
from varinterp.io.fragments import safe_name
from varinterp.progress import ProgressCallback, report

__all__ = ["InsertionsResult", "count_insertions", "resolve_lengths"]

_FLUSH = 20_000_000


@dataclass
class InsertionsResult:
    """What `count_insertions` wrote: the folder, the cell types, ``tasks.tsv`` (also as a
    table), ``peaks.bed`` and its number of peaks, and the summary."""

    out: Path
    cell_types: list[str]
    tasks: Path
    table: pd.DataFrame
    peaks: Path
    n_peaks: int
    summary: dict


def resolve_lengths(chrom_sizes: str | os.PathLike | Mapping[str, int]) -> dict[str, int]:
    """Contig lengths from a mapping, a ``chrom<TAB>length`` file or a FASTA (its index)."""
    if isinstance(chrom_sizes, Mapping):
        return {str(k): int(v) for k, v in chrom_sizes.items()}
    path = Path(chrom_sizes)
    if not path.is_file():
        raise InputError(f"chrom sizes {path} does not exist; check the path")
    if path.name.endswith((".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz")):
        from varinterp.io.fasta import Reference

        with Reference(path) as ref:
            return dict(ref.lengths)
    from varinterp.io.chrom_sizes import read_chrom_sizes

    return read_chrom_sizes(path)


class _Spill:
    """Per (cell type, contig) insertion counts written to disk in parts."""

    def __init__(self, root: Path, contigs: list[str]) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.contig_index = {c: i for i, c in enumerate(contigs)}
        self.parts: dict[tuple[int, int], list[Path]] = {}

    def add(self, contig: str, pos: np.ndarray, codes: np.ndarray, n_types: int) -> None:
        ci = self.contig_index[contig]
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(n_types + 1))
        for t in range(n_types):
            sel = order[bounds[t] : bounds[t + 1]]
            if sel.size == 0:
                continue
            sites, counts = np.unique(pos[sel], return_counts=True)
            key = (t, ci)
            path = self.root / f"{t}_{ci}_{len(self.parts.get(key, []))}.npy"
            np.save(path, np.stack([sites, counts.astype(np.int64)]))
            self.parts.setdefault(key, []).append(path)

    def read(self, t: int, contig: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted sites ``(m,) int64`` and their counts ``(m,) int64``."""
        paths = self.parts.get((t, self.contig_index[contig]), [])
        if not paths:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        arrays = [np.load(p) for p in paths]
        if len(arrays) == 1:
            return arrays[0][0], arrays[0][1]
        both = np.concatenate(arrays, axis=1)
        sites, inverse = np.unique(both[0], return_inverse=True)
        return sites, np.bincount(inverse, weights=both[1]).astype(np.int64)


class _Buffer:
    """One source's insertions of the contig being read, spilled when the contig ends
    (or when they grow large)."""

    def __init__(self, spill: _Spill, n_types: int) -> None:
        self.spill = spill
        self.n_types = n_types
        self.contig: str | None = None
        self.pos: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.size = 0

    def add(self, contig: str, pos: np.ndarray, codes: np.ndarray) -> None:
        if contig != self.contig or self.size > _FLUSH:
            self.flush()
            self.contig = contig
        self.pos.append(pos)
        self.codes.append(codes)
        self.size += pos.size

    def flush(self) -> None:
        if self.contig is not None and self.pos:
            self.spill.add(
                self.contig, np.concatenate(self.pos), np.concatenate(self.codes), self.n_types
            )
        self.pos, self.codes, self.size = [], [], 0


def _read_all(sources, cell_types, table, sizes, spill, opts, on_progress) -> list[SourceStats]:
    all_stats = []
    done = 0
    for source in sources:
        stats = SourceStats()
        buffer = _Buffer(spill, len(cell_types))
        before = 0
        for batch in stream_source(
            source, cell_types=cell_types, barcodes=table, chrom_sizes=sizes, stats=stats, **opts
        ):
            buffer.add(batch.contig, batch.pos, batch.cell_type)
            if stats.records != before:
                done += stats.records - before
                before = stats.records
                report(on_progress, done, None)
        buffer.flush()
        all_stats.append(stats)
    return all_stats


def _check(sources: list[Source], stats: list[SourceStats], cell_types, table, min_fragments):
    records = np.sum([s.per_type for s in stats], axis=0)
    for source, s in zip(sources, stats, strict=True):
        if s.records == 0:
            raise InputError(f"{source.path} holds no fragments or reads; check the file")
        if table is not None and s.matched == 0 and s.unknown_records:
            example = next(iter(sorted(s.unknown_barcodes)))
            msg = (
                f"none of the barcodes in {source.path.name} (e.g. {example!r}) is in the "
                f"barcode table (e.g. {table['barcode'].iloc[0]!r}); check the table or "
                "barcode suffixes like '-1'"
            )
            raise InputError(msg)
        if s.matched and not s.per_type.sum():
            name = next(iter(s.off_contig))
            msg = (
                f"no contig of {source.path.name} (e.g. {name!r}) is in the chrom sizes; "
                "give the chrom sizes (or FASTA) of the genome the reads were aligned to"
            )
            raise InputError(msg)
    low = [(c, int(n)) for c, n in zip(cell_types, records, strict=True) if n < min_fragments]
    if low:
        listed = ", ".join(f"{c} ({n})" for c, n in low)
        msg = (
            f"cell type(s) with fewer than {min_fragments} fragments: {listed}; drop them from "
            "the barcode/sample table or lower --min-fragments"
        )
        raise InputError(msg)
    return records


def _write_tracks(tmp, cell_types, sizes, spill, call, peak_opts) -> tuple[list, list, list]:
    (tmp / "insertions").mkdir()
    genome = float(sum(sizes.values()))
    totals, files, summits = [], [], []
    for t, ct in enumerate(cell_types):
        per_contig: dict[str, Summits] = {}
        n = 0
        total_ins = sum(int(spill.read(t, c)[1].sum()) for c in sizes)

        def sites(t=t, per_contig=per_contig, total_ins=total_ins) -> Iterator:
            nonlocal n
            for contig in sizes:
                pos, counts = spill.read(t, contig)
                n += int(counts.sum())
                if call:
                    per_contig[contig] = call_summits(
                        pos, counts, genome_rate=total_ins / genome, **peak_opts
                    )
                yield contig, pos, counts.astype(np.float64)

        name = f"insertions/{safe_name(ct)}.bw"
        write_bigwig_sites(tmp / name, chrom_sizes=sizes, sites=sites())
        totals.append(n)
        files.append(name)
        summits.append(per_contig)
    return totals, files, summits


def _merged_peaks(summits, cell_types, sizes, width: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    score_totals = [sum(float(s.score.sum()) for s in per.values()) for per in summits]
    rows, calls = [], []
    for contig, length in sizes.items():
        pos, spm, score, owners = merge_summits(
            [per[contig] for per in summits], score_totals, width=width
        )
        for p, n, sc, own in zip(pos, spm, score, owners, strict=True):
            start = max(int(p) - width // 2, 0)
            end = min(start + width, length)
            k = len(rows) + 1
            signal = max(float(per[contig].signal[per[contig].pos == p].max(initial=0))
                         for per in summits)  # fmt: skip
            rows.append((contig, start, end, f"peak{k}", float(n), ".",
                         signal, float(sc), -1, int(p) - start))  # fmt: skip
            calls.append((f"peak{k}", ",".join(cell_types[i] for i in own)))
    cols = ["chrom", "start", "end", "name", "score", "strand", "signal", "log10p", "q", "summit"]
    table = pd.DataFrame(rows, columns=cols)
    if len(table):  # BED scores 0-1000: score per million relative to the strongest peak
        table["score"] = (1000 * table["score"] / table["score"].max()).round().astype(int)
    return table, pd.DataFrame(calls, columns=["name", "cell_types"])


def _cells(table, stats, cell_types) -> list[int]:
    """Barcodes of each cell type with at least one record (0 without a barcode table)."""
    if table is None:
        return [0] * len(cell_types)
    seen = set().union(*(s.barcodes_seen for s in stats))
    hit = table[table["barcode"].isin(seen)]
    return [int((hit["cell_type"] == ct).sum()) for ct in cell_types]


def _given_peaks(path, sizes) -> pd.DataFrame:
    from varinterp.io.contigs import ContigMap
    from varinterp.io.intervals import read_bed

    table = read_bed(path)
    names = ContigMap(sizes, source=f"peaks {Path(path).name}")
    table["chrom"] = [names(c) for c in table["chrom"].astype(str)]
    names_given = table["name"] if "name" in table else pd.Series([""] * len(table))
    table["name"] = [
        str(n) if isinstance(n, str) and n not in ("", ".") else f"peak{i + 1}"
        for i, n in enumerate(names_given)
    ]
    for col, val in (("score", 0), ("strand", ".")):
        if col not in table:
            table[col] = val
    return table[["chrom", "start", "end", "name", "score", "strand"]]


def count_insertions(
    *,
    out: str | os.PathLike,
    chrom_sizes: str | os.PathLike | Mapping[str, int],
    fragments: str | os.PathLike | None = None,
    bam: str | os.PathLike | None = None,
    barcodes: str | os.PathLike | None = None,
    samples: str | os.PathLike | None = None,
    peaks: str | os.PathLike | None = None,
    shift: bool = True,
    unknown_barcodes: str = "drop",
    min_fragments: int = 1000,
    barcode_tag: str = "CB",
    min_mapq: int = 30,
    call_peaks: bool = True,
    peak_width: int = 500,
    smooth: int = 150,
    min_log10p: float = 5.0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> InsertionsResult:
    """Count Tn5 insertions per cell type into the folder `out` (module docstring).

    Inputs: `fragments` or `bam` with `barcodes`, or `samples` (``cell_type<TAB>path``).
    `chrom_sizes` (a ``chrom<TAB>length`` file, a FASTA, or a mapping) names the contigs
    kept. `peaks` (a BED) is the OCR set; without it peaks are called (unless
    ``call_peaks=False``). `on_progress(records, None)` counts records read.
    """
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if min_fragments < 0 or peak_width < 2 or smooth < 2:
        raise InputError("--min-fragments must be >= 0, --peak-width and --smooth >= 2")
    sizes = resolve_lengths(chrom_sizes)
    sources, cell_types, table = collect_sources(
        fragments=fragments, bam=bam, barcodes=barcodes, samples=samples
    )
    opts = {
        "shift": shift, "unknown_barcodes": unknown_barcodes, "barcode_tag": barcode_tag,
        "min_mapq": min_mapq,
    }  # fmt: skip
    call = call_peaks and peaks is None
    with atomic_dir(out, overwrite=overwrite) as tmp:
        spill = _Spill(tmp / ".spill", list(sizes))
        stats = _read_all(sources, cell_types, table, sizes, spill, opts, on_progress)
        records = _check(sources, stats, cell_types, table, min_fragments)
        peak_opts = {"smooth": smooth, "width": peak_width, "min_log10p": min_log10p}
        totals, files, summits = _write_tracks(tmp, cell_types, sizes, spill, call, peak_opts)
        cells = _cells(table, stats, cell_types)
        tasks = pd.DataFrame(
            {"task": cell_types, "bigwig": files, "insertions": totals,
             "records": records.astype(np.int64), "cells": cells}
        )  # fmt: skip
        tasks.to_csv(tmp / "tasks.tsv", sep="\t", index=False, lineterminator="\n")
        if peaks is not None:
            peak_table = _given_peaks(peaks, sizes)
        elif call:
            peak_table, calls = _merged_peaks(summits, cell_types, sizes, peak_width)
            calls.to_csv(tmp / "peaks_cell_types.tsv", sep="\t", index=False, lineterminator="\n")
        else:
            peak_table = pd.DataFrame(columns=["chrom", "start", "end"])
        peak_table.to_csv(
            tmp / "peaks.bed", sep="\t", index=False, header=False, lineterminator="\n",
            float_format="%.4g",
        )  # fmt: skip
        summary = {
            "sources": [
                {"path": str(s.path), "kind": s.kind, "cell_type": s.cell_type,
                 "records": st.records, "unknown_barcode_records": st.unknown_records,
                 "unknown_barcodes": len(st.unknown_barcodes), "off_contig": st.off_contig}
                for s, st in zip(sources, stats, strict=True)
            ],
            "shift": shift,
            "cell_types": cell_types,
            "records": dict(zip(cell_types, records.tolist(), strict=True)),
            "insertions": dict(zip(cell_types, totals, strict=True)),
            "peaks": {"given": None if peaks is None else str(peaks), "called": call,
                      "n": len(peak_table), **(peak_opts if call else {})},
        }  # fmt: skip
        (tmp / "insertions.json").write_text(json.dumps(summary, indent=2) + "\n")
        import shutil

        shutil.rmtree(spill.root)
    return InsertionsResult(
        out=out, cell_types=cell_types, tasks=out / "tasks.tsv", table=tasks,
        peaks=out / "peaks.bed", n_peaks=len(peak_table), summary=summary,
    )  # fmt: skip
