"""`varinterp score`: predicted effects of SNVs from a model ensemble."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, err_console, progress_bar, require_file, set_threads
from varinterp.cli._options import (
    Device,
    Fasta,
    Force,
    Model,
    Overwrite,
    Quiet,
    Seed,
    Strict,
    Threads,
    Verbose,
)

__all__ = ["score_command"]


class Schema(StrEnum):
    tsv = "tsv"
    bed = "bed"


def score_command(
    variants: Annotated[
        list[str],
        typer.Option(
            "--variants",
            "--vcf",
            metavar="FILE|CHROM:POS:REF:ALT",
            help="Variants: a VCF/BCF (indexed or not), a TSV/BED list (see --schema), or "
            "chrom:pos:ref:alt strings (1-based; repeat or comma-separate).",
            show_default=False,
        ),
    ],
    model: Model,
    fasta: Fasta,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE",
            help="Effect table: .tsv (default), .vcf.gz (scores as INFO fields) or .parquet.",
        ),
    ],
    schema: Annotated[
        Schema,
        typer.Option(
            "--schema",
            help="A variant list's columns: tsv = chrom pos ref alt \\[id] with 1-based pos "
            "(variant-scorer's); bed = chrom start end ref alt \\[id] with 0-based start. An "
            "empty or '.' ref is filled in from the FASTA.",
        ),
    ] = Schema.tsv,
    vcf_out: Annotated[
        Path | None,
        typer.Option(
            "--vcf-out", metavar="FILE", help="Also write the VCF with scores in INFO (.vcf.gz)."
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            "-s",
            metavar="DIR",
            help="Genome store (.vgs): score in one person's context.",
        ),
    ] = None,
    sample: Annotated[
        str | None,
        typer.Option("--sample", metavar="ID", help="Sample of --store whose context is used."),
    ] = None,
    heterozygous: Annotated[
        bool,
        typer.Option("--het", help="Alt window heterozygous REF/ALT (two-hot) not ALT/ALT."),
    ] = False,
    holdout_composite: Annotated[
        bool,
        typer.Option(
            "--holdout-composite",
            help="Score each variant with the fold model that held out its chromosome "
            "(the whole ensemble for fold 0 and contigs in no fold).",
        ),
    ] = False,
    no_rc: Annotated[
        bool, typer.Option("--no-rc", help="Do not average with reverse-complement windows.")
    ] = False,
    null_shuffles: Annotated[
        int,
        typer.Option(
            "--null-shuffles",
            min=0,
            help="K dinucleotide-shuffled contexts per variant -> empirical p-values; "
            "multiplies the model work by K+1 (the estimate is printed first).",
        ),
    ] = 0,
    pseudocount: Annotated[
        float, typer.Option("--pseudocount", min=0.0, help="Added to quantities in log2fc.")
    ] = 1e-3,
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            metavar="NAME[,NAME...]",
            help="Multi-task models (one task per cell type): score only these tasks "
            "\\[default: all; one row per variant and task].",
        ),
    ] = None,
    context_tracks: Annotated[
        Path | None,
        typer.Option(
            "--context-tracks",
            metavar="TSV",
            help="Models that also read tracks (DeepDETAILS: accessibility per cell "
            "type): a track table (docs/tracks.md) with cell_type and accessibility "
            "[, accessibility_depth].",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Variants per resumable chunk.")
    ] = 4096,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", min=1, help="Windows per forward pass \\[default: 256 CUDA, 32 CPU]."
        ),
    ] = None,
    max_indel_length: Annotated[
        int,
        typer.Option(
            "--max-indel-length",
            min=0,
            help="Score indels up to this many bp of length change (0: SNVs and MNPs only).",
        ),
    ] = 50,
    device: Device = "auto",
    threads: Threads = 1,
    seed: Seed = 0,
    strict: Strict = False,
    force: Force = False,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Score every SNV, MNP and indel: ref vs alt predictions of windows centred on it.

    Variants come as a VCF/BCF (indexed or not; an unindexed one is read in order), a
    TSV/BED list or chrom:pos:ref:alt strings. Works for every model family: a
    single-task model (CLIPNET) gives one row per biallelic variant; a multi-task model
    (DeepDETAILS: one task per cell type) one row per variant and task, with a task
    column. Indels keep the window length (a deletion pulls bases in from the flank) and
    their profiles are compared on aligned positions; the table then has an ilen column.
    Writes a TSV (columns in docs/scoring.md), a bgzipped, indexed VCF with the scores
    as VI_* INFO fields, or Parquet, by the name of --out. Multi-allelic records are
    split; longer indels and symbolic alleles are skipped and counted; REF mismatches are
    counted (fatal with --strict; above 5% the run stops unless --force). A killed run
    restarted with the same inputs and options resumes from its last finished chunk.
    Under torchrun, each process scores its share of chunks on its own GPU.
    """
    if null_shuffles and not quiet:
        err_console.print(
            f"--null-shuffles {null_shuffles}: each variant is also scored in "
            f"{null_shuffles} shuffled contexts, so the model work is {null_shuffles + 1}x "
            "that of plain scoring"
        )
    require_file(fasta, "reference FASTA")
    set_threads(threads)
    from varinterp.effects.score import score_variants
    from varinterp.io.tracks import context_tracks as read_context

    tracks, options = read_context(context_tracks) if context_tracks else ({}, {})
    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    with progress_bar("scoring", quiet=quiet, unit="variants") as on_progress:
        result = score_variants(
            variants=variants, model=model, fasta=fasta, out=out, schema=schema.value,
            vcf_out=vcf_out, store=store, sample=sample, heterozygous=heterozygous,
            holdout_composite=holdout_composite, rc_average=not no_rc,
            null_shuffles=null_shuffles, pseudocount=pseudocount, seed=seed, tasks=task_list,
            context_tracks=tracks, context_options=options, strict=strict, force=force,
            chunk_size=chunk_size, batch_size=batch_size, device=device,
            max_indel_length=max_indel_length, overwrite=overwrite, on_progress=on_progress,
        )  # fmt: skip
    if quiet:
        return
    c = result.counts
    console.print(
        f"scored {result.n_scored} variants ({c.snvs} SNVs, {c.mnps} MNPs, {c.indels} indels) "
        f"from {c.records} records -> {result.out}"
        + (f" and {result.vcf_out}" if result.vcf_out else "")
    )
    filled = getattr(c, "ref_filled", 0)
    console.print(
        f"skipped: {c.skipped_indel} indel, {c.skipped_symbolic} symbolic/other, "
        f"{c.skipped_ref_mismatch} REF mismatch; split {c.multiallelic_records} "
        f"multi-allelic records; {result.n_edge} windows padded at contig edges"
        + (f"; REF filled in from the FASTA for {filled}" if filled else "")
        + (f"; resumed {result.n_chunks_reused} finished chunks" if result.n_chunks_reused else "")
    )
    build = f" (the FASTA is {result.assembly})" if result.assembly else ""
    console.print(f"REF alleles disagreeing with the FASTA: {result.ref_mismatch_rate:.2%}{build}")
    if c.ref_mismatch_examples:
        console.print("REF mismatches, e.g. " + "; ".join(c.ref_mismatch_examples))
