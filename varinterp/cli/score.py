"""`varinterp score`: predicted effects of SNVs from a model ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._options import (
    Device,
    Out,
    Overwrite,
    Quiet,
    Seed,
    Strict,
    Threads,
    Verbose,
)

__all__ = ["score_command"]


def score_command(
    vcf: Annotated[
        Path,
        typer.Option(
            "--vcf", help="Variants: sorted, bgzipped, indexed VCF (.vcf.gz + .tbi/.csi)."
        ),
    ],
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Model directory (config.json + fold_*).")
    ],
    fasta: Annotated[Path, typer.Option("--fasta", help="Reference genome FASTA.")],
    out: Out,
    vcf_out: Annotated[
        Path | None,
        typer.Option("--vcf-out", help="Also write the VCF with scores in INFO (.vcf.gz)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Genome store (.vgs): score in one person's context."),
    ] = None,
    sample: Annotated[
        str | None, typer.Option("--sample", help="Sample of --store whose context is used.")
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
            help="K dinucleotide-shuffled contexts per variant -> empirical p-values.",
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
            "[default: all; one row per variant and task].",
        ),
    ] = None,
    context_tracks: Annotated[
        Path | None,
        typer.Option(
            "--context-tracks",
            metavar="FILE",
            help="Models that also read tracks (DeepDETAILS: accessibility per cell "
            "type): a TSV with columns task (or cell_type), bigwig [, library_size].",
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Variants per resumable chunk.")
    ] = 4096,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", min=1, help="Windows per forward pass [default: 256 CUDA, 32 CPU]."
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
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Score every SNV, MNP and indel of a VCF: ref vs alt windows centred on it.

    Works for every model family: a single-task model (CLIPNET) gives one row per
    biallelic variant; a multi-task model (DeepDETAILS: one task per cell type) one row
    per variant and task, with a task column. Indels keep the window length (a deletion
    pulls bases in from the flank) and their profiles are compared on aligned positions;
    the TSV then has an ilen column. Writes a TSV (columns in docs/scoring.md) and, with
    --vcf-out, a bgzipped, indexed VCF with the same scores as VI_* INFO fields.
    Multi-allelic records are split; longer indels and symbolic alleles are skipped and
    counted; REF mismatches are counted (fatal with --strict). A killed run restarted
    with the same inputs and options resumes from its last finished chunk. Under
    torchrun, each process scores its share of chunks on its own GPU.
    """
    require_file(vcf, "VCF")
    require_file(fasta, "reference FASTA")
    set_threads(threads)
    from varinterp.effects.context import read_context_table
    from varinterp.effects.score import score_variants

    tracks, options = read_context_table(context_tracks) if context_tracks else ({}, {})
    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    with progress_bar("scoring variants", quiet=quiet) as on_progress:
        result = score_variants(
            vcf=vcf, model=model, fasta=fasta, out=out, vcf_out=vcf_out, store=store,
            sample=sample, heterozygous=heterozygous, holdout_composite=holdout_composite,
            rc_average=not no_rc, null_shuffles=null_shuffles, pseudocount=pseudocount,
            seed=seed, tasks=task_list, context_tracks=tracks, context_options=options,
            strict=strict, chunk_size=chunk_size, batch_size=batch_size, device=device,
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
    console.print(
        f"skipped: {c.skipped_indel} indel, {c.skipped_symbolic} symbolic/other, "
        f"{c.skipped_ref_mismatch} REF mismatch; split {c.multiallelic_records} "
        f"multi-allelic records; {result.n_edge} windows padded at contig edges"
        + (f"; resumed {result.n_chunks_reused} finished chunks" if result.n_chunks_reused else "")
    )
    if c.ref_mismatch_examples:
        console.print("REF mismatches, e.g. " + "; ".join(c.ref_mismatch_examples))
