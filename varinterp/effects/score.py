"""Score the SNVs of a VCF: `score_variants` streams them through `score_frame`.

For every biallelic SNV of a VCF (multi-allelic records split, indels and symbolic
alleles skipped and counted, see `varinterp.io.vcf`) the ref and alt windows are built
and scored by `varinterp.effects.frame.score_frame`: reference or personal context,
ensemble mean or hold-out composite, reverse-complement averaging, one row per variant
(and per task for a multi-task model), optional null p-values. The columns are in
``docs/scoring.md``.

**Scale.** Variants are streamed in chunks of `chunk_size`; each finished chunk is a part
file in a hidden work folder beside the output (`varinterp.effects._work`), so memory
stays flat, and a killed run started again with the same inputs and options skips the
finished chunks. Under ``torchrun`` each rank scores every ``world_size``-th chunk on
its own GPU and rank 0 writes the output. `vcf_out` also writes the VCF with the scores
as INFO fields (`varinterp.effects.vcf_out`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from varinterp._moved import forward_names
from varinterp.effects._work import WorkDir, file_fingerprint, sha256_file
from varinterp.effects.frame import ID_COLUMNS, frame_columns, score_frame, task_names
from varinterp.errors import InputError
from varinterp.io.fasta import Reference
from varinterp.io.vcf import SnvRecord, VcfCounts, iter_snvs, open_vcf, vcf_has_index
from varinterp.progress import ProgressCallback

__all__ = ["ID_COLUMNS", "ScoreResult", "score_variants", "table_columns"]

__getattr__ = forward_names(__name__, {"build_windows": "varinterp.effects.windows"})


@dataclass
class ScoreResult:
    """What `score_variants` did."""

    out: Path
    n_scored: int
    counts: VcfCounts
    n_edge: int
    n_chunks: int
    n_chunks_reused: int
    vcf_out: Path | None = None
    columns: list[str] = field(default_factory=list)


def table_columns(null_shuffles: int, *, multi_task: bool = False) -> list[str]:
    """The output TSV's columns in order (`varinterp.effects.frame.frame_columns`)."""
    return frame_columns(null_shuffles=null_shuffles, multi_task=multi_task)


def _frame(recs: list[SnvRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chrom": [r.chrom for r in recs],
            "pos0": np.array([r.pos0 for r in recs], dtype=np.int64),
            "id": [r.id for r in recs],
            "ref": [r.ref for r in recs],
            "alt": [r.alt for r in recs],
        }
    )


def _chunks(records: Iterator[SnvRecord], size: int) -> Iterator[list[SnvRecord]]:
    buf: list[SnvRecord] = []
    for rec in records:
        buf.append(rec)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


def _sorted_check(records: Iterator[SnvRecord], vcf: Path) -> Iterator[SnvRecord]:
    seen: set[str] = set()
    last_chrom, last_pos = None, -1
    for rec in records:
        if rec.chrom != last_chrom:
            if rec.chrom in seen:
                msg = (
                    f"VCF {vcf.name} is not sorted: {rec.chrom} appears again after "
                    f"{last_chrom}; sort it with: bcftools sort -Oz -W -o sorted.vcf.gz {vcf}"
                )
                raise InputError(msg)
            seen.add(rec.chrom)
            last_chrom, last_pos = rec.chrom, -1
        if rec.pos0 < last_pos:
            msg = (
                f"VCF {vcf.name} is not sorted at {rec.chrom}:{rec.pos0 + 1} (after "
                f"{last_pos + 1}); sort it with: bcftools sort -Oz -W -o sorted.vcf.gz {vcf}"
            )
            raise InputError(msg)
        last_pos = rec.pos0
        yield rec


def _check_inputs(vcf: Path, reference: Reference) -> int | None:
    """Index and contigs of `vcf`; returns its record count from the index (None if unknown)."""
    if not vcf_has_index(vcf):
        msg = (
            f"VCF {vcf} has no index (.tbi or .csi); variants are streamed from a sorted, "
            f"bgzipped, indexed VCF: bgzip it and run: bcftools index -t {vcf}"
        )
        raise InputError(msg)
    handle = open_vcf(vcf)
    try:
        names = list(handle.seqnames)
        try:
            total: int | None = int(handle.num_records)
        except (ValueError, TypeError, OSError):
            total = None
    finally:
        handle.close()
    cmap = reference.contig_map(f"VCF {vcf.name}")
    unknown = [c for c in names if cmap.get(c) is None]
    if unknown:
        msg = (
            f"VCF {vcf.name} has contig(s) {', '.join(unknown[:5])} that {reference.path.name} "
            f"lacks (it names contigs like {reference.names[0]!r}); use the matching "
            "reference build or drop those contigs (bcftools view -t ^...)"
        )
        raise InputError(msg)
    return total


def score_variants(
    *,
    vcf: str | os.PathLike,
    model: str | os.PathLike,
    fasta: str | os.PathLike,
    out: str | os.PathLike,
    vcf_out: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    sample: str | None = None,
    heterozygous: bool = False,
    holdout_composite: bool = False,
    rc_average: bool = True,
    null_shuffles: int = 0,
    pseudocount: float = 1e-3,
    seed: int = 0,
    tasks: Sequence[str] | None = None,
    context_tracks: Mapping[str, str | os.PathLike] | None = None,
    context_options: Mapping[str, Any] | None = None,
    strict: bool = False,
    chunk_size: int = 4096,
    batch_size: int | None = None,
    device: str = "auto",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    _stop_after_chunks: int | None = None,
) -> ScoreResult:
    """Score every SNV of `vcf` (sorted, bgzipped, indexed) and write the effect table `out`.

    The scoring options are those of `varinterp.effects.frame.score_frame`; see the
    module docstring for chunks, resuming and torchrun, and ``docs/scoring.md`` for the
    columns. `vcf_out` also writes a bgzipped, tabix-indexed copy of the VCF with the
    scores as INFO fields. `on_progress` gets ``(VCF records read, records in the VCF's
    index)`` after every chunk. ``_stop_after_chunks`` (tests only) stops as if killed.
    """
    from varinterp.training.ddp import barrier, init_distributed
    from varinterp.training.devices import resolve_device
    from varinterp.training.inference import load_model

    vcf, out = Path(vcf), Path(out)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if vcf_out is not None:
        if not str(vcf_out).endswith(".vcf.gz"):
            msg = f"--vcf-out {vcf_out} must end in .vcf.gz (it is bgzipped and indexed)"
            raise InputError(msg)
        if Path(vcf_out).exists() and not overwrite:
            msg = f"output {vcf_out} already exists; remove it or pass --overwrite"
            raise InputError(msg)
    if (store is None) != (sample is None):
        msg = "personal context needs both a genome store (--store) and a sample (--sample)"
        raise InputError(msg)
    if null_shuffles < 0 or chunk_size < 1:
        msg = f"null_shuffles must be >= 0 and chunk_size >= 1 (got {null_shuffles}, {chunk_size})"
        raise InputError(msg)
    reference = Reference(fasta)
    open_vcf(vcf).close()
    total_records = _check_inputs(vcf, reference)
    dev = resolve_device(device)
    dist = init_distributed(dev)
    if dist.enabled and dev.type == "cuda":
        import torch

        dev = torch.device("cuda", dist.local_rank)
    ens = load_model(model, device=dev)
    _, multi = task_names(ens, tasks)
    gstore = None
    if store is not None:
        from varinterp.genome.store import GenomeStore

        gstore = GenomeStore.open(store)
        gstore.sample_indices([sample])
    options = {
        "heterozygous": heterozygous,
        "holdout_composite": holdout_composite,
        "rc_average": rc_average,
        "null_shuffles": int(null_shuffles),
        "pseudocount": float(pseudocount),
        "seed": int(seed),
        "tasks": None if tasks is None else list(tasks),
        "context_tracks": {k: str(v) for k, v in (context_tracks or {}).items()},
        "context_options": dict(context_options or {}),
        "batch_size": batch_size,
    }
    state = {
        "vcf_sha256": sha256_file(vcf),
        "model_config": sha256_file(Path(model) / "config.json"),
        "model_folds": [file_fingerprint(Path(model) / f"{f}.safetensors") for f in ens.models],
        "fasta": file_fingerprint(fasta),
        "store": None if store is None else str(Path(store).resolve()),
        "sample": sample,
        "chunk_size": chunk_size,
        "options": {**options, "strict": strict},
    }
    work = WorkDir(out)
    if dist.is_main:
        work.start(state)
    barrier(dist)
    counts = VcfCounts()
    # samples=[]: genotypes are never parsed (fast on cohort VCFs)
    snvs = iter_snvs(vcf, reference=reference, samples=[], strict=strict, counts=counts)
    records = _sorted_check(snvs, vcf)
    n_chunks = reused = 0
    for k, chunk in enumerate(_chunks(records, chunk_size)):
        n_chunks += 1
        if k % dist.world_size == dist.rank:
            if work.done(k):
                reused += 1
            else:
                if _stop_after_chunks is not None and k >= _stop_after_chunks:
                    msg = "stopped on request (test hook)"
                    raise KeyboardInterrupt(msg)
                table = score_frame(
                    ens, _frame(chunk), fasta=reference, store=gstore, sample=sample,
                    first_index=k * chunk_size, **options,
                )  # fmt: skip
                text = table.to_csv(sep="\t", index=False, float_format="%.6g", na_rep="nan")
                work.write_part(k, text)
        if on_progress is not None:
            on_progress(counts.records, total_records)
    barrier(dist)
    if counts.snvs == 0:
        if dist.is_main:
            work.remove()
        msg = (
            f"VCF {vcf.name} has no SNVs to score ({counts.records} records; skipped "
            f"{counts.skipped_indel} indels, {counts.skipped_symbolic} symbolic/other, "
            f"{counts.skipped_ref_mismatch} REF mismatches); check the file"
        )
        raise InputError(msg)
    columns = table_columns(null_shuffles, multi_task=multi)
    if ens.arch.variant_scorer is not None:  # a family's own table layout: its parts say it
        with open(work.part(0), encoding="utf-8") as fh:
            columns = fh.readline().rstrip("\n").split("\t")
    result = ScoreResult(out, counts.snvs, counts, 0, n_chunks, reused, None, columns)
    if not dist.is_main:
        return result
    work.concatenate(n_chunks, "\t".join(columns) + "\n")
    for part in pd.read_csv(out, sep="\t", usecols=["flags"], dtype=str, chunksize=1 << 16):
        result.n_edge += int((part["flags"] == "edge").sum())
    if multi:
        result.n_edge //= len(tasks) if tasks else len(ens.tasks)
    if vcf_out is not None:
        from varinterp.effects.vcf_out import write_annotated_vcf

        result.vcf_out = write_annotated_vcf(
            vcf=vcf, table=out, out=vcf_out, reference=reference, overwrite=overwrite
        )
    work.remove()
    return result
