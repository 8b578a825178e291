"""Cell-type evidence for the demo's simulated locus, when earlier steps made none.

`planted_evidence` builds it from the world's planted enhancer programs (the truth);
`evidence_from_tracks` computes it from given per-cell-type tracks with the regulatory
library (specific elements and ABC links), as a real analysis would.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from varinterp.io.atomic import atomic_write_text

__all__ = ["CELL_TYPES", "evidence_from_tracks", "planted_evidence"]

#: cell type -> the planted programs active in it (promoters are active everywhere)
CELL_TYPES = {"hepatocyte": ("hepatocyte", "shared"), "Kupffer-like": ("myeloid", "shared")}


def _tss(el) -> int:
    sense = [t for t in el.tss if t.role == "sense"] or list(el.tss)
    return sense[0].pos if sense else (el.start + el.end) // 2


def _genes_bed(world, chrom: str, path: Path) -> Path:
    """Planted promoters as genes (BED6, 1 bp at the sense TSS, named by element id)."""
    els = sorted((e for e in world.elements if e.chrom == chrom), key=lambda e: e.start)
    rows = [
        f"{chrom}\t{_tss(e)}\t{_tss(e) + 1}\t{e.element_id}\t0\t{e.strand}\n"
        for e in els
        if e.kind == "promoter"
    ]
    atomic_write_text(path, "".join(rows))
    return path


def planted_evidence(world, *, chrom: str, out: Path, overwrite: bool = True) -> dict[str, Path]:
    """Cell-type elements and ABC links of `chrom` from the planted programs.

    Writes under `out`: ``genes.bed`` (promoters as genes, named by element id),
    ``candidates.bed``, ``specific.tsv`` + ``<cell_type>.specific.bed`` (each program's
    enhancers), per-cell-type count bedGraphs (element strength when the program is active
    in the cell type, 5% of it otherwise) and ``abc/`` from `link_abc` (power law).
    Returns paths by key: genes, elements, abc_dir.
    """
    from varinterp.regulatory.abc_run import link_abc

    out.mkdir(parents=True, exist_ok=True)
    els = sorted((e for e in world.elements if e.chrom == chrom), key=lambda e: e.start)
    _genes_bed(world, chrom, out / "genes.bed")
    atomic_write_text(
        out / "candidates.bed", "".join(f"{chrom}\t{e.start}\t{e.end}\n" for e in els)
    )
    listing = ["cell_type\tbed\n"]
    samples = ["cell_type\taccessibility\taccessibility_depth\n"]
    for ct, programs in CELL_TYPES.items():
        spec = [e for e in els if e.kind == "enhancer" and e.program == programs[0]]
        atomic_write_text(
            out / f"{ct}.specific.bed", "".join(f"{chrom}\t{e.start}\t{e.end}\n" for e in spec)
        )
        listing.append(f"{ct}\t{ct}.specific.bed\n")
        counts = np.array(
            [
                e.strength * 1000.0
                * (1.0 if e.kind == "promoter" or e.program in programs else 0.05)
                for e in els
            ]
        )  # fmt: skip
        atomic_write_text(
            out / f"{ct}.counts.bedgraph",
            "".join(
                f"{chrom}\t{e.start}\t{e.end}\t{c:.1f}\n" for e, c in zip(els, counts, strict=True)
            ),
        )
        samples.append(f"{ct}\t{ct}.counts.bedgraph\t{counts.sum():.1f}\n")
    atomic_write_text(out / "specific.tsv", "".join(listing))
    _planted_tracks(world, chrom=chrom, elements=els, out=out)
    atomic_write_text(out / "samples.tsv", "".join(samples))
    link_abc(
        elements=out / "candidates.bed", genes=out / "genes.bed", samples=out / "samples.tsv",
        out=out / "abc", overwrite=overwrite,
    )  # fmt: skip
    return {
        "genes": out / "genes.bed",
        "elements": out / "specific.tsv",
        "abc_dir": out / "abc",
        "tracks": out / "tracks.tsv",
    }


def _planted_tracks(world, *, chrom: str, elements, out: Path) -> None:
    """Idealised stranded tracks per cell type: a Gaussian peak (sd 4 bp) at every planted
    TSS, height 10 x element strength when its program is active in the cell type (5% of
    that otherwise), on a flat-topped bump over the element (15% of that height, tapered ends)."""
    from varinterp.io.bigwig import write_bigwig

    length = int(world.reference.lengths[chrom])
    offsets = np.arange(-12, 13)
    kernel = np.exp(-0.5 * (offsets / 4.0) ** 2)
    rows = ["cell_type\tplus\tminus\n"]
    for ct, programs in CELL_TYPES.items():
        tracks = np.zeros((2, length))
        for e in elements:
            active = e.kind == "promoter" or e.program in programs
            height = 10.0 * e.strength * (1.0 if active else 0.05)
            bump = np.minimum(1.0, 2.0 * np.sin(np.pi * (np.arange(e.length) + 0.5) / e.length))
            tracks[:, e.start : e.end] += 0.15 * height * bump
            for t in e.tss:
                idx = t.pos + offsets
                ok = (idx >= 0) & (idx < length)
                tracks[0 if t.strand == "+" else 1, idx[ok]] += height * kernel[ok]
        for k, name in enumerate(("plus", "minus")):
            values = np.round(tracks[k], 2) * (1 if k == 0 else -1)
            write_bigwig(
                out / f"{ct}.{name}.bw",
                chrom_sizes={chrom: length},
                tracks=[(chrom, 0, values)],
            )
        rows.append(f"{ct}\t{ct}.plus.bw\t{ct}.minus.bw\n")
    atomic_write_text(out / "tracks.tsv", "".join(rows))


def _world_elements_bed(world, chrom: str, path: Path) -> Path:
    els = sorted((e for e in world.elements if e.chrom == chrom), key=lambda e: e.start)
    atomic_write_text(path, "".join(f"{chrom}\t{e.start}\t{e.end}\t{e.element_id}\n" for e in els))
    return path


def evidence_from_tracks(
    tracks, *, world, chrom: str, out: Path, accessibility: dict[str, Path] | None = None
) -> dict[str, Path]:
    """Specific elements and ABC links of `chrom` from a cell-type track table.

    `tracks`: a track table (`varinterp.io.tracks`; one plus/minus pair per cell type).
    Candidate regions are the world's planted elements (the simulated equivalent of
    ATAC peaks). ``elements call`` runs its count test (one track per cell type).
    ``link abc`` (power law, genes = planted promoters) takes its activity from the
    per-cell-type `accessibility` bigWigs when given, as ABC does, and then prunes links
    whose element has under 20 CPM of initiation in the cell type's track (as in the
    DeepDETAILS paper); without them the initiation signal on both strands is the
    activity. Returns paths by key: elements, abc_dir.
    """
    from varinterp.io.bigwig import BigWig, write_bigwig
    from varinterp.regulatory.abc_run import link_abc
    from varinterp.regulatory.elements import call_elements
    from varinterp.report.inputs import read_tracks_table

    out.mkdir(parents=True, exist_ok=True)
    specs = read_tracks_table(tracks)
    length = int(world.reference.lengths[chrom])
    regions = _world_elements_bed(world, chrom, out / "regions.bed")
    call_rows = ["cell_type\tplus\tminus\n"]
    abc_rows = [
        "cell_type\taccessibility\tplus\tminus\n" if accessibility else "cell_type\taccessibility\n"
    ]

    def rel(path) -> str:  # relative to the tables' folder: the demo folder can be moved
        return os.path.relpath(Path(path).resolve(), out.resolve()) if path else ""

    for spec in specs:
        call_rows.append(f"{spec.cell_type}\t{rel(spec.plus)}\t{rel(spec.minus)}\n")
        signal = np.zeros(length)
        for path in (spec.plus, spec.minus):
            if path is not None:
                with BigWig(path, absolute=True) as bw:
                    if bw.has_contig(chrom):
                        signal += bw.values(chrom, 0, length)
        both = out / f"{spec.cell_type}.both.bw"
        write_bigwig(both, chrom_sizes={chrom: length}, tracks=[(chrom, 0, signal)])
        if accessibility:
            abc_rows.append(
                f"{spec.cell_type}\t{rel(accessibility[spec.cell_type])}\t{rel(spec.plus)}\t"
                f"{rel(spec.minus)}\n"
            )
        else:
            abc_rows.append(f"{spec.cell_type}\t{both.name}\n")
    atomic_write_text(out / "tracks.tsv", "".join(call_rows))
    atomic_write_text(out / "abc_samples.tsv", "".join(abc_rows))
    genes = out / "genes.bed"
    _genes_bed(world, chrom, genes)
    call_elements(tracks=out / "tracks.tsv", regions=regions, out=out / "specific", test="counts",
                  overwrite=True)  # fmt: skip
    # with accessibility, the ABC thresholds table's value for ATAC + power law (0.013)
    link_abc(elements=regions, genes=genes, samples=out / "abc_samples.tsv", out=out / "abc",
             threshold=None if accessibility else 0.02, overwrite=True)  # fmt: skip
    return {"elements": out / "specific" / "elements.tsv", "abc_dir": out / "abc"}
