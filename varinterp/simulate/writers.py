"""Write a simulated world to a folder (atomically: the folder appears whole or not at all).

Files (0-based half-open in BED files, 1-based positions in the VCF and the truth TSV):

``reference.fa`` / ``.fai``   FASTA, 60 bases per line, indexed with pyfaidx
``cohort.vcf.gz`` / ``.tbi``  VCFv4.2, phased GT, bgzipped and tabix-indexed with pysam
``elements.bed``              BED6: chrom, start, end, element id, score (strength), strand
``elements.tsv``              element details: kind, program, strength, TSSs, motif sites
``motifs.bed``                BED6 of planted motif sites: name ``site_id|motif``, score
                              1000 when intact in the reference, 0 when broken
``tss.bed``                   BED6 of planted TSSs (1 bp): name ``element_id|role``
``genes.bed``                 BED6 of the planted promoters as genes (1 bp at the sense
                              TSS, named by element id; for ``link abc --genes``)
``truth.tsv``                 one row per variant (`varinterp.simulate.truth`)
``world.json``                the parameters, counts and MD5 of every other file

The same world always gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from varinterp.io.atomic import atomic_dir
from varinterp.progress import ProgressCallback, report
from varinterp.provenance import vcf_header_lines
from varinterp.simulate.motifs import decode
from varinterp.simulate.world import World

__all__ = ["FASTA_LINE_WIDTH", "WorldFiles", "fasta_chunks", "write_world"]

FASTA_LINE_WIDTH = 60
_GT = np.array(["0|0", "0|1", "1|0", "1|1"])


@dataclass(frozen=True)
class WorldFiles:
    """Paths of a written world."""

    out_dir: Path
    fasta: Path
    vcf: Path
    elements_bed: Path
    elements_tsv: Path
    motifs_bed: Path
    tss_bed: Path
    truth: Path
    manifest: Path
    genes_bed: Path | None = None


def fasta_chunks(world: World) -> Iterator[str]:
    """The FASTA text of the world's reference, one chromosome at a time."""
    for name, seq in world.reference.sequences.items():
        text = decode(seq)
        lines = [text[i : i + FASTA_LINE_WIDTH] for i in range(0, len(text), FASTA_LINE_WIDTH)]
        yield f">{name}\n" + "\n".join(lines) + "\n"


def _write_fasta(world: World, path: Path) -> None:
    with path.open("w", encoding="ascii", newline="\n") as fh:
        for chunk in fasta_chunks(world):
            fh.write(chunk)
    import pyfaidx

    pyfaidx.Faidx(str(path)).close()  # writes path.fai


def _write_vcf(world: World, path: Path) -> None:
    """Write plain VCF text next to `path`, then bgzip + tabix-index it into `path`."""
    import pysam

    cohort = world.cohort
    n_hap = 2 * cohort.n_samples
    counts = cohort.alt_counts()
    lines = [
        "##fileformat=VCFv4.2",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        "##source=varinterp.simulate",
        *vcf_header_lines(),
        "##reference=reference.fa",
    ]
    lines += [f"##contig=<ID={n},length={length}>" for n, length in world.reference.lengths.items()]
    lines += [
        '##INFO=<ID=AC,Number=A,Type=Integer,Description="Alt allele count in genotypes">',
        '##INFO=<ID=AN,Number=1,Type=Integer,Description="Total number of alleles">',
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Alt allele frequency">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">',
        "\t".join(
            [
                "#CHROM",
                "POS",
                "ID",
                "REF",
                "ALT",
                "QUAL",
                "FILTER",
                "INFO",
                "FORMAT",
                *cohort.samples,
            ]
        ),
    ]
    gts = _GT[cohort.haplotypes[:, :, 0] * 2 + cohort.haplotypes[:, :, 1]]
    for i in range(cohort.n_variants):
        info = f"AC={counts[i]};AN={n_hap};AF={counts[i] / n_hap:.4g}"
        fixed = (
            f"{cohort.chrom[i]}\t{cohort.pos[i] + 1}\t{cohort.ids[i]}\t{cohort.ref[i]}\t"
            f"{cohort.alt[i]}\t.\tPASS\t{info}\tGT\t"
        )
        lines.append(fixed + "\t".join(gts[i]))
    plain = path.with_suffix("")  # cohort.vcf
    plain.write_text("\n".join(lines) + "\n", encoding="ascii")
    written = pysam.tabix_index(str(plain), preset="vcf", force=True)
    if Path(written) != path:  # pragma: no cover - pysam names it plain + ".gz"
        Path(written).replace(path)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="ascii")


def _bed_line(chrom: str, start: int, end: int, name: str, score: int, strand: str) -> str:
    return f"{chrom}\t{start}\t{end}\t{name}\t{score}\t{strand}"


def _write_tables(world: World, files: WorldFiles) -> None:
    elements = world.elements
    bed = [
        _bed_line(
            e.chrom, e.start, e.end, e.element_id, min(1000, round(500 * e.strength)), e.strand
        )
        for e in elements
    ]
    _write_lines(files.elements_bed, bed)
    header = "element_id\tchrom\tstart\tend\tkind\tstrand\tprogram\tstrength\tgc\ttss\tsites"
    rows = [header]
    for e in elements:
        seq = world.reference.sequences[e.chrom][e.start : e.end]
        gc = float(np.isin(seq, (1, 2)).mean())
        tss = ",".join(f"{t.pos}{t.strand}" for t in e.tss) or "."
        sites = ",".join(s.motif + s.strand + ("" if s.intact else "!") for s in e.sites) or "."
        rows.append(
            f"{e.element_id}\t{e.chrom}\t{e.start}\t{e.end}\t{e.kind}\t{e.strand}\t"
            f"{e.program}\t{e.strength:.4f}\t{gc:.4f}\t{tss}\t{sites}"
        )
    _write_lines(files.elements_tsv, rows)
    motifs = [
        _bed_line(
            s.chrom, s.start, s.end, f"{s.site_id}|{s.motif}", 1000 if s.intact else 0, s.strand
        )
        for s in sorted(world.sites, key=lambda s: (world.reference.names.index(s.chrom), s.start))
    ]
    _write_lines(files.motifs_bed, motifs)
    tss_rows = sorted(
        ((t, e.element_id) for e in elements for t in e.tss),
        key=lambda x: (world.reference.names.index(x[0].chrom), x[0].pos, x[0].strand),
    )
    tss_lines = [
        _bed_line(t.chrom, t.pos, t.pos + 1, f"{eid}|{t.role}", 0, t.strand) for t, eid in tss_rows
    ]
    _write_lines(files.tss_bed, tss_lines)
    genes = []
    for e in elements:
        if e.kind == "promoter":
            sense = [t for t in e.tss if t.role == "sense"] or list(e.tss)
            pos = sense[0].pos if sense else (e.start + e.end) // 2
            genes.append(_bed_line(e.chrom, pos, pos + 1, e.element_id, 0, e.strand))
    _write_lines(files.genes_bed, genes)
    world.truth.to_csv(files.truth, sep="\t", index=False, lineterminator="\n")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _params(world: World) -> dict:
    """The world's parameters, leaving out the indel knobs while they are off (so that a
    world without indels keeps the manifest it always had)."""
    params = asdict(world.params)
    for name in ("n_indel_qtls", "indel_density"):
        if not params[name]:
            del params[name]
    return params


def _write_manifest(world: World, files: WorldFiles) -> None:
    from varinterp import __version__

    truth = world.truth
    data = {
        "format": "varinterp-simulated-world",
        "varinterp_version": __version__,
        "coordinates": "BED files 0-based half-open; VCF and truth.tsv positions 1-based",
        "params": _params(world),
        "chromosomes": world.reference.lengths,
        "counts": {
            "samples": world.cohort.n_samples,
            "variants": world.cohort.n_variants,
            "promoters": sum(e.kind == "promoter" for e in world.elements),
            "enhancers": sum(e.kind == "enhancer" for e in world.elements),
            "motif_sites": len(world.sites),
            "causal_variants": int((truth["causal"] == "true").sum()),
        },
        "files": {
            p.name: _md5(p)
            for p in sorted(files.out_dir.iterdir())
            if p.is_file() and p.name != files.manifest.name
        },
    }
    files.manifest.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _files(out_dir: Path) -> WorldFiles:
    return WorldFiles(
        out_dir=out_dir,
        fasta=out_dir / "reference.fa",
        vcf=out_dir / "cohort.vcf.gz",
        elements_bed=out_dir / "elements.bed",
        elements_tsv=out_dir / "elements.tsv",
        motifs_bed=out_dir / "motifs.bed",
        tss_bed=out_dir / "tss.bed",
        genes_bed=out_dir / "genes.bed",
        truth=out_dir / "truth.tsv",
        manifest=out_dir / "world.json",
    )


def write_world(
    world: World,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> WorldFiles:
    """Write `world` into the folder `out_dir` (see the module docstring for the files).

    The folder is built under a temporary name and renamed into place when complete.
    An existing `out_dir` is an `InputError` unless `overwrite`.
    """
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        tmp_files = _files(tmp)
        _write_fasta(world, tmp_files.fasta)
        report(on_progress, 1, 4)
        _write_vcf(world, tmp_files.vcf)
        report(on_progress, 2, 4)
        _write_tables(world, tmp_files)
        report(on_progress, 3, 4)
        _write_manifest(world, tmp_files)
        report(on_progress, 4, 4)
    return _files(out_dir)
