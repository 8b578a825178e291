"""`varinterp genome`: build, inspect and export personal-genome stores."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from varinterp.cli._common import console, progress_bar, require_file, set_threads
from varinterp.cli._conventions import refuse_existing
from varinterp.cli._options import (
    Fasta,
    Force,
    OutDir,
    OutFile,
    Overwrite,
    Quiet,
    Samples,
    Store,
    Strict,
    Threads,
    Verbose,
)

app = typer.Typer(
    help=(
        "Personal diploid genomes from a cohort VCF.\n\n"
        "[bold]build[/] reads a VCF's (or PGEN's) SNVs, MNPs and indels against a reference "
        "FASTA into a store folder (*.vgs): the reference once plus each variant's "
        "carriers, sparse where rare and dense where common. Training and scoring build "
        "any person's two-hot window, indels applied, from it on demand. [bold]info[/] "
        "describes a store; [bold]export[/] writes sequences as IUPAC FASTA, haplotype "
        "FASTA or NPZ; [bold]upgrade[/] rewrites a store of the previous format."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)

StorePath = Store


class ExportFormat(StrEnum):
    fasta_iupac = "fasta-iupac"
    fasta_haplotypes = "fasta-haplotypes"
    npz = "npz"


@app.command("build")
def build(
    vcf: Annotated[
        Path,
        typer.Option(
            "--vcf",
            help="Cohort VCF/BCF (plain or bgzipped, sorted), or a PLINK 2 .pgen (.pvar and "
            ".psam beside it). SNVs, MNPs and indels are kept; multi-allelic records are "
            "split; SVs and symbolic alleles are skipped and counted.",
        ),
    ],
    fasta: Fasta,
    out: OutDir,
    regions: Annotated[
        Path | None,
        typer.Option(
            "--regions",
            metavar="BED",
            help="BED of regions (e.g. peaks): keep only variants within --flank bp of "
            "them. Needs the VCF's .tbi/.csi index.",
        ),
    ] = None,
    flank: Annotated[
        int, typer.Option("--flank", min=0, help="Bases added on each side of --regions.")
    ] = 0,
    samples: Samples = None,
    snvs_only: Annotated[
        bool, typer.Option("--snvs-only", help="Keep SNVs only (skip MNPs and indels).")
    ] = False,
    max_indel_length: Annotated[
        int | None,
        typer.Option("--max-indel-length", min=0, help="Skip longer indels (bp; default: none)."),
    ] = None,
    strict: Strict = False,
    force: Force = False,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Build a genome store (folder, conventionally *.vgs) from a VCF and a FASTA.

    Missing genotypes (./.) are read as the reference allele and counted; haploid calls
    count as homozygous; REF alleles that disagree with the FASTA are counted and
    skipped (fatal with --strict; when more than 10% mismatch, the build stops as the FASTA
    is likely another genome build, unless --force). Phase is kept. The folder appears
    only when complete.
    """
    require_file(vcf, "VCF")
    require_file(fasta, "reference FASTA")
    if regions is not None:
        require_file(regions, "regions BED")
    from varinterp.genome.build import build_store

    set_threads(threads)
    with progress_bar("reading VCF", quiet=quiet, unit="records") as on_progress:
        summary = build_store(
            vcf=vcf,
            fasta=fasta,
            out=out,
            regions=regions,
            flank=flank,
            samples=samples,
            strict=strict,
            force=force,
            overwrite=overwrite,
            snvs_only=snvs_only,
            max_indel_length=max_indel_length,
            threads=threads,
            on_progress=on_progress,
        )
    if quiet:
        return
    c = summary.counts
    console.print(
        f"[bold]{summary.path}[/]: {summary.n_variants:,} variants ({c['snvs']:,} SNVs, "
        f"{c['mnps']:,} MNPs, {c['indels']:,} indels) x {summary.n_samples:,} samples on "
        f"{summary.n_contigs} contig(s), {summary.size_bytes / 1e6:.2f} MB "
        f"(genotypes and variants {summary.cohort_bytes / 1e6:.2f} MB)"
    )
    console.print(
        f"records {c['records']:,}; multi-allelic split {c['multiallelic_records']:,}; "
        f"overlapping calls dropped {c['overlapping_calls_dropped']:,}; "
        f"skipped: indel {c['skipped_indel']:,}, symbolic {c['skipped_symbolic']:,}, "
        f"REF mismatch {c['skipped_ref_mismatch']:,}; missing calls as REF "
        f"{c['missing_calls']:,}; haploid calls {c['haploid_calls']:,}"
    )
    for example in summary.ref_mismatch_examples:
        console.print(f"  REF mismatch: {example}")
    if summary.regions_clipped:
        console.print(f"{summary.regions_clipped} region(s) clipped at contig ends")
    if summary.reference_non_acgtn:
        console.print(f"{summary.reference_non_acgtn:,} IUPAC reference bases read as N")


@app.command("info")
def info(store: StorePath, verbose: Verbose = False) -> None:
    """Describe a store: samples, contigs, variant counts, the share of REF alleles that
    disagreed with the FASTA, the genome build, and the inputs with their checksums."""
    from varinterp.genome.store import GenomeStore

    gs = GenomeStore.open(store)
    meta = gs.meta
    checked = meta["counts"].get("snvs", 0) + meta["counts"].get("skipped_ref_mismatch", 0)
    mismatched = meta["counts"].get("skipped_ref_mismatch", 0)
    console.print(f"[bold]{gs.path}[/] ({meta['format']} v{meta['version']}, {meta['created_by']})")
    shown = ", ".join(gs.samples[:8]) + (" ..." if len(gs.samples) > 8 else "")
    console.print(f"samples: {len(gs.samples):,} ({shown})")
    console.print(f"variants: {gs.n_variants:,}; phased: {gs.is_phased()}")
    for c in gs.contigs:
        console.print(f"  {c.name}: {c.length:,} bp, {c.var_end - c.var_start:,} variants")
    for key, value in meta["counts"].items():
        console.print(f"  {key}: {value:,}")
    for role, source in meta["inputs"].items():
        console.print(f"{role}: {source['name']} ({source['bytes']:,} B) sha256 {source['sha256']}")
    rate = mismatched / checked if checked else 0.0
    build = gs.assembly or "no assembly varinterp knows (by contig lengths)"
    console.print(
        f"REF alleles disagreeing with the FASTA: {rate:.2%} ({mismatched:,} of {checked:,}); "
        f"genome build: {build}"
    )


@app.command("export")
def export(
    store: StorePath,
    regions: Annotated[
        Path, typer.Option("--regions", metavar="BED", help="BED of regions to export.")
    ],
    out: OutFile,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="fasta-iupac (one record per sample and region, hets as IUPAC codes), "
            "fasta-haplotypes (two records each, needs phased genotypes) or npz "
            "(two_hot (samples, regions, 4, max_len) uint8).",
        ),
    ] = ExportFormat.fasta_iupac,
    samples: Samples = None,
    reference_only: Annotated[
        bool, typer.Option("--reference-only", help="Ignore genotypes: export the reference.")
    ] = False,
    threads: Threads = 1,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Write personal sequences over BED regions for interoperability or checking."""
    require_file(regions, "regions BED")
    refuse_existing(out, overwrite=overwrite)
    from varinterp.genome.export import export_sequences

    set_threads(threads)
    with progress_bar("exporting", quiet=quiet, unit="samples") as on_progress:
        summary = export_sequences(
            store=store,
            regions=regions,
            out=out,
            fmt=fmt.value,
            samples=samples,
            reference_only=reference_only,
            on_progress=on_progress,
        )
    if not quiet:
        console.print(
            f"wrote {summary.n_records:,} records ({summary.n_samples} samples x "
            f"{summary.n_regions} regions) to {summary.path}"
        )


@app.command("upgrade")
def upgrade(
    store: StorePath,
    out: OutDir,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Rewrite a store of the previous format (version 1) in the current one.

    Old stores still open as they are; the rewrite stores rare variants' genotypes as
    carrier lists (smaller) and reads the same windows.
    """
    from varinterp.genome.upgrade import upgrade_store

    with progress_bar("upgrading", quiet=quiet) as on_progress:
        path = upgrade_store(store=store, out=out, overwrite=overwrite, on_progress=on_progress)
    if not quiet:
        console.print(f"wrote {path}")
