"""Write a simulated multiome world to a folder (atomically; same seed, same bytes).

Files (BED 0-based half-open; VCF and ``variants.tsv`` positions 1-based):

``multiome.h5``            the 10x ``filtered_feature_bc_matrix.h5``: genes (``Gene
                           Expression``) then peaks (``Peaks``, interval = BED coordinates)
``genome.fa`` / ``.fai``   the reference, 60 bases per line
``tss.bed``                BED6, one 1-bp TSS per gene (name = gene, strand)
``cell_types.tsv``         ``barcode cell_type`` of every cell
``variants.vcf.gz``/.tbi   the designed SNVs (sites only), bgzipped and indexed
``truth/peaks.tsv``        every peak: class (promoter causal decoy background), the
                           cell type it opens in, its gene, motif copies, accessibility
``truth/genes.tsv``        genes: TSS, strand, base rate, mean rate per cell type
``truth/pairs.tsv``        gene x peak within 300 kb: distance, role, cell type, effect
``truth/variants.tsv``     the SNVs: peak, class, target gene, cell type, true change of
                           the log expression rate in that type (0 in the others)
``simulation.json``        parameters, seed, counts and the MD5 of every other file
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.tenx import GENE_EXPRESSION, PEAKS, FeatureMatrix, write_10x_h5
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.motifs import decode
from varinterp.simulate.multiome import MultiomeParams, MultiomeWorld, simulate_multiome_world

__all__ = ["MultiomeFiles", "simulate_multiome", "write_multiome"]

_LINE = 60


@dataclass(frozen=True)
class MultiomeFiles:
    """Paths of a written multiome world and its counts."""

    out_dir: Path
    h5: Path
    fasta: Path
    tss_bed: Path
    cell_types: Path
    vcf: Path
    truth_dir: Path
    n_cells: int
    n_genes: int
    n_peaks: int
    n_causal: int
    n_decoys: int
    n_variants: int


def _feature_matrix(world: MultiomeWorld) -> FeatureMatrix:
    g, pk = world.genes, world.peaks
    features = pd.DataFrame(
        {
            "id": [*g["gene_id"], *pk["peak_id"]],
            "name": [*g["gene"], *pk["peak_id"]],
            "feature_type": [GENE_EXPRESSION] * len(g) + [PEAKS] * len(pk),
            "interval": [
                *(f"{c}:{t}-{t + 1}" for c, t in zip(g["chrom"], g["tss"], strict=True)),
                *pk["peak_id"],
            ],
        }
    )
    counts = sp.vstack([world.rna, world.atac]).tocsc()
    return FeatureMatrix(counts, world.cells["barcode"].to_numpy().astype(str), features)


def _write_fasta(world: MultiomeWorld, path: Path) -> None:
    import pyfaidx

    with path.open("w", encoding="ascii", newline="\n") as fh:
        for name, seq in world.reference.sequences.items():
            text = decode(seq)
            fh.write(f">{name}\n")
            fh.write("\n".join(text[i : i + _LINE] for i in range(0, len(text), _LINE)) + "\n")
    pyfaidx.Faidx(str(path)).close()


def _write_vcf(world: MultiomeWorld, path: Path) -> None:
    import pysam

    lines = ["##fileformat=VCFv4.2", '##FILTER=<ID=PASS,Description="All filters passed">']
    lines += [f"##contig=<ID={c},length={n}>" for c, n in world.reference.lengths.items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for v in world.variants.itertuples(index=False):
        lines.append(f"{v.chrom}\t{v.pos}\t{v.id}\t{v.ref}\t{v.alt}\t.\tPASS\t.")
    plain = path.with_suffix("")
    plain.write_text("\n".join(lines) + "\n", encoding="ascii")
    pysam.tabix_index(str(plain), preset="vcf", force=True)


def _tsv(table: pd.DataFrame, path: Path, **kw) -> None:
    table.to_csv(path, sep="\t", index=False, lineterminator="\n", float_format="%.6g", **kw)


def write_multiome(
    world: MultiomeWorld,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> MultiomeFiles:
    """Write `world` into the folder `out` (module docstring); an existing `out` is an
    `InputError` unless `overwrite`."""
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_10x_h5(tmp / "multiome.h5", _feature_matrix(world), genome="simulated")
        report(on_progress, 1, 4)
        _write_fasta(world, tmp / "genome.fa")
        report(on_progress, 2, 4)
        g = world.genes
        tss = pd.DataFrame(
            {
                "chrom": g["chrom"],
                "start": g["tss"],
                "end": g["tss"] + 1,
                "name": g["gene"],
                "score": 0,
                "strand": g["strand"],
            }
        )
        _tsv(tss, tmp / "tss.bed", header=False)
        _tsv(world.cells, tmp / "cell_types.tsv")
        _write_vcf(world, tmp / "variants.vcf.gz")
        truth = tmp / "truth"
        truth.mkdir()
        _tsv(world.peaks, truth / "peaks.tsv")
        _tsv(world.genes, truth / "genes.tsv")
        _tsv(world.pairs, truth / "pairs.tsv")
        _tsv(world.variants, truth / "variants.tsv")
        report(on_progress, 3, 4)
        from varinterp import __version__

        cls = world.peaks["class"].value_counts()
        doc = {
            "format": "varinterp-simulated-multiome",
            "varinterp_version": __version__,
            "seed": world.seed,
            "params": asdict(world.params),
            "cell_types": list(world.params.cell_types),
            "chromosomes": world.reference.lengths,
            "counts": {
                "cells": int(world.cells.shape[0]),
                "genes": int(world.genes.shape[0]),
                "peaks": int(world.peaks.shape[0]),
                **{f"peaks_{k}": int(v) for k, v in sorted(cls.items())},
                "variants": int(world.variants.shape[0]),
                "atac_nonzero": int(world.atac.nnz),
                "rna_umis": int(world.rna.sum()),
            },
            "files": {
                str(p.relative_to(tmp)): hashlib.md5(p.read_bytes()).hexdigest()
                for p in sorted(tmp.rglob("*"))
                if p.is_file()
            },
        }
        (tmp / "simulation.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        report(on_progress, 4, 4)
    return MultiomeFiles(
        out_dir=out,
        h5=out / "multiome.h5",
        fasta=out / "genome.fa",
        tss_bed=out / "tss.bed",
        cell_types=out / "cell_types.tsv",
        vcf=out / "variants.vcf.gz",
        truth_dir=out / "truth",
        n_cells=int(world.cells.shape[0]),
        n_genes=int(world.genes.shape[0]),
        n_peaks=int(world.peaks.shape[0]),
        n_causal=int(cls.get("causal", 0)),
        n_decoys=int(cls.get("decoy", 0)),
        n_variants=int(world.variants.shape[0]),
    )


def simulate_multiome(
    *,
    out: str | os.PathLike,
    seed: int = 0,
    params: MultiomeParams | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    **fields,
) -> MultiomeFiles:
    """Draw a multiome world (`simulate_multiome_world`; `fields` are `MultiomeParams`
    fields, used when `params` is None) and write it into `out` (`write_multiome`)."""
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if params is None:
        params = MultiomeParams(**fields)
    world = simulate_multiome_world(params, seed=seed)
    return write_multiome(world, out, overwrite=overwrite, on_progress=on_progress)
