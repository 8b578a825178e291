"""Score the variants of a VCF: `score_variants` streams them through `score_frame`.

For every biallelic SNV, MNP and indel of a VCF (multi-allelic records split; indels
longer than `max_indel_length` and symbolic alleles skipped and counted, see
`varinterp.io.vcf`) the ref and alt windows are built
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
from varinterp.effects.frame import (
    ID_COLUMNS,
    MAX_INDEL_LENGTH,
    frame_columns,
    score_frame,
    task_names,
)
from varinterp.errors import InputError
from varinterp.genome.assembly import check_ref_agreement, guess_assembly
from varinterp.io.atomic import check_output
from varinterp.io.fasta import Reference
from varinterp.io.variants import (
    VariantCounts,
    VariantSource,
    count_records,
    iter_variants,
    variant_source,
)
from varinterp.io.vcf import VariantRecord, VcfCounts, open_vcf
from varinterp.progress import ProgressCallback

__all__ = ["ID_COLUMNS", "ScoreResult", "output_format", "score_variants", "table_columns"]

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
    #: Fraction of SNV REF alleles that disagreed with the FASTA.
    ref_mismatch_rate: float = 0.0
    #: The FASTA's assembly when its contig lengths match a known one (GRCh38 ...).
    assembly: str | None = None


def table_columns(null_shuffles: int, *, multi_task: bool = False, ilen: bool = False) -> list[str]:
    """The output TSV's columns in order (`varinterp.effects.frame.frame_columns`)."""
    return frame_columns(null_shuffles=null_shuffles, multi_task=multi_task, ilen=ilen)


def _frame(recs: list[VariantRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "chrom": [r.chrom for r in recs],
            "pos0": np.array([r.pos0 for r in recs], dtype=np.int64),
            "id": [r.id for r in recs],
            "ref": [r.ref for r in recs],
            "alt": [r.alt for r in recs],
        }
    )


def _chunks(records: Iterator[VariantRecord], size: int) -> Iterator[list[VariantRecord]]:
    buf: list[VariantRecord] = []
    for rec in records:
        buf.append(rec)
        if len(buf) == size:
            yield buf
            buf = []
    if buf:
        yield buf


def _sorted_check(records: Iterator[VariantRecord], vcf: Path) -> Iterator[VariantRecord]:
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


def _check_contigs(source: VariantSource, reference: Reference) -> None:
    """The contigs a VCF's header names must all be in the FASTA."""
    if source.kind != "vcf" or source.path is None:
        return
    handle = open_vcf(source.path)
    try:
        names = list(handle.seqnames)
    except (ValueError, OSError):
        names = []
    finally:
        handle.close()
    cmap = reference.contig_map(f"VCF {source.name}")
    unknown = [c for c in names if cmap.get(c) is None]
    if unknown:
        msg = (
            f"VCF {source.name} has contig(s) {', '.join(unknown[:5])} that {reference.path.name} "
            f"lacks (it names contigs like {reference.names[0]!r}); use the matching "
            "reference build or drop those contigs (bcftools view -t ^...)"
        )
        raise InputError(msg)


def output_format(out: str | os.PathLike) -> str:
    """``tsv``, ``vcf`` (``.vcf.gz``) or ``parquet`` (``.parquet``/``.pq``) from `out`'s name."""
    name = Path(out).name.lower()
    if name.endswith(".vcf.gz"):
        return "vcf"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".vcf", ".vcf.bgz", ".bcf")):
        msg = f"--out {out}: a VCF output is bgzipped and indexed: name it .vcf.gz"
        raise InputError(msg)
    return "tsv"


def _refuse(path: str | os.PathLike | None, overwrite: bool) -> None:
    if path is not None and Path(path).exists() and not overwrite:
        msg = f"output {path} already exists; remove it or pass --overwrite"
        raise InputError(msg)


def _score_chunks(
    records, work, ens, reference, gstore, sample, options, chunk_size, dist, counts,
    total_records, agreement, on_progress, stop_after,
) -> tuple[int, int]:  # fmt: skip
    """Score this rank's unfinished chunks into part files; returns (chunks, reused).

    `agreement()` checks the REF agreement so far (a wrong genome build stops early);
    `on_progress` moves after every batch of windows.
    """
    n_chunks = reused = 0
    done_records = 0
    for k, chunk in enumerate(_chunks(records, chunk_size)):
        n_chunks += 1
        agreement()
        span = counts.records - done_records
        if k % dist.world_size == dist.rank:
            if work.done(k):
                reused += 1
            else:
                if stop_after is not None and k >= stop_after:
                    msg = "stopped on request (test hook)"
                    raise KeyboardInterrupt(msg)

                def per_batch(done: int, n: int, base: int = done_records, span: int = span):
                    if on_progress is not None and n:
                        on_progress(base + int(span * done / n), total_records)

                table = score_frame(
                    ens, _frame(chunk), fasta=reference, store=gstore, sample=sample,
                    first_index=k * chunk_size, on_progress=per_batch, **options,
                    ilen_column=None if ens.arch.variant_scorer is not None else True,
                )  # fmt: skip
                text = table.to_csv(sep="\t", index=False, float_format="%.6g", na_rep="nan")
                work.write_part(k, text)
        done_records = counts.records
        if on_progress is not None:
            on_progress(done_records, total_records)
    return n_chunks, reused


def score_variants(
    *,
    variants: str | os.PathLike | Sequence[str] | None = None,
    model: str | os.PathLike,
    fasta: str | os.PathLike,
    out: str | os.PathLike,
    vcf: str | os.PathLike | None = None,
    schema: str = "tsv",
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
    force: bool = False,
    chunk_size: int = 4096,
    batch_size: int | None = None,
    max_indel_length: int = MAX_INDEL_LENGTH,
    device: str = "auto",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    _stop_after_chunks: int | None = None,
) -> ScoreResult:
    """Score every variant of `variants` and write the effect table `out`.

    SNVs, MNPs and indels up to `max_indel_length` bp are scored (0: SNVs and MNPs only;
    a family with its own variant scorer, GET, scores SNVs only); the table has an
    ``ilen`` column when some scored variant changes the length.

    `variants` is a VCF/BCF (indexed or not), a variant list (TSV/BED: `schema`
    ``tsv`` = ``chrom pos ref alt [id]`` 1-based, ``bed`` = ``chrom start end ref alt
    [id]`` 0-based) or ``chrom:pos:ref:alt`` strings (`varinterp.io.variants`); `vcf` is
    its former name. `out` is a TSV, or by its name a bgzipped VCF with the scores as
    INFO fields (``.vcf.gz``) or Parquet (``.parquet``, needs pyarrow); `vcf_out` also
    writes that VCF. The scoring options are those of
    `varinterp.effects.frame.score_frame`; see the module docstring for chunks,
    resuming and torchrun, and ``docs/scoring.md`` for the columns. More than 5% of REF
    alleles disagreeing with the FASTA stops the run (another genome build, most
    likely) unless `force`. `on_progress` gets ``(records done, records in all)`` after
    every batch of windows (the total from the VCF's index or a counting pass).
    ``_stop_after_chunks`` (tests only) stops as if killed.
    """
    from varinterp.training.ddp import barrier, init_distributed
    from varinterp.training.devices import resolve_device
    from varinterp.training.inference import load_model

    if variants is None:
        variants = vcf
    if variants is None:
        msg = "no variants given: pass a VCF, a variant list or chrom:pos:ref:alt strings"
        raise InputError(msg)
    check_output(out)
    if vcf_out is not None:
        check_output(vcf_out, option="--vcf-out")
    out = Path(out)
    fmt = output_format(out)
    _refuse(out, overwrite)
    if vcf_out is not None:
        if not str(vcf_out).endswith(".vcf.gz"):
            msg = f"--vcf-out {vcf_out} must end in .vcf.gz (it is bgzipped and indexed)"
            raise InputError(msg)
        _refuse(vcf_out, overwrite)
    if fmt == "parquet":
        _need_pyarrow()
    if (store is None) != (sample is None):
        msg = "personal context needs both a genome store (--store) and a sample (--sample)"
        raise InputError(msg)
    if null_shuffles < 0 or chunk_size < 1:
        msg = f"null_shuffles must be >= 0 and chunk_size >= 1 (got {null_shuffles}, {chunk_size})"
        raise InputError(msg)
    source = variant_source(variants)
    reference = Reference(fasta)
    if source.kind == "vcf":
        open_vcf(source.path).close()
    _check_contigs(source, reference)
    total_records = count_records(source)
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
        "max_indel_length": int(max_indel_length),
    }
    state = {
        "variants_sha256": source.fingerprint(),
        "schema": schema,
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
    counts = VariantCounts()
    # genotypes are never parsed (fast on cohort VCFs)
    own_scorer = ens.arch.variant_scorer is not None
    records = iter_variants(
        source, reference=reference, schema=schema, strict=strict, counts=counts,
        snvs_only=own_scorer, max_indel_length=max_indel_length,
    )  # fmt: skip
    annotate_vcf = source.kind == "vcf" and (fmt == "vcf" or vcf_out is not None)
    if annotate_vcf:
        records = _sorted_check(records, source.path)

    def agreement() -> float:
        return check_ref_agreement(
            checked=counts.snvs + counts.mnps + counts.indels + counts.skipped_ref_mismatch,
            mismatched=counts.skipped_ref_mismatch,
            lengths=reference.lengths,
            source=f"variants {source.name}",
            force=force,
        )

    try:
        n_chunks, reused = _score_chunks(
            records, work, ens, reference, gstore, sample, options, chunk_size, dist,
            counts, total_records, agreement, on_progress, _stop_after_chunks,
        )  # fmt: skip
    except InputError:
        if dist.is_main and not work.has_parts():  # stopped before any chunk: no work kept
            work.remove()
        raise
    barrier(dist)
    n_scored = counts.snvs + counts.mnps + counts.indels
    if n_scored == 0:
        if dist.is_main:
            work.remove()
        msg = (
            f"{source.name} has no variants to score ({counts.records} records; skipped "
            f"{counts.skipped_indel} indels, {counts.skipped_symbolic} symbolic/other, "
            f"{counts.skipped_ref_mismatch} REF mismatches); check the file"
        )
        raise InputError(msg)
    rate = agreement()
    columns = table_columns(null_shuffles, multi_task=multi, ilen=counts.indels > 0)
    result = ScoreResult(out, n_scored, counts, 0, n_chunks, reused, None, columns)
    result.ref_mismatch_rate = rate
    result.assembly = guess_assembly(reference.lengths)
    if not dist.is_main:
        return result
    # parts always carry ilen; it is dropped when no scored variant changes the length
    drop = None if counts.indels else ID_COLUMNS.index("alt") + 1
    if own_scorer and n_chunks:
        # a family scorer may add columns of its own (GET: gene, peak): its header rules
        with open(work.part(0), encoding="utf-8") as first:
            columns = first.readline().rstrip("\n").split("\t")
        result.columns = columns
        drop = None
    table_path = out if fmt == "tsv" else work.path / "table.tsv"
    work.concatenate(n_chunks, "\t".join(columns) + "\n", target=table_path, drop_column=drop)
    for part in pd.read_csv(table_path, sep="\t", usecols=["flags"], dtype=str, chunksize=1 << 16):
        result.n_edge += int((part["flags"] == "edge").sum())
    if multi:
        result.n_edge //= len(tasks) if tasks else len(ens.tasks)
    from varinterp.effects.vcf_out import write_annotated_vcf, write_table_vcf

    for target in [p for p in (out if fmt == "vcf" else None, vcf_out) if p is not None]:
        if annotate_vcf:
            write_annotated_vcf(vcf=source.path, table=table_path, out=target,
                                reference=reference, model=model, overwrite=overwrite)  # fmt: skip
        else:
            write_table_vcf(table=table_path, out=target, reference=reference, model=model,
                            overwrite=overwrite)  # fmt: skip
    if vcf_out is not None:
        result.vcf_out = Path(vcf_out)
    if fmt == "parquet":
        _write_parquet(table_path, out)
    work.remove()
    return result


def _need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        msg = "Parquet output needs pyarrow: pip install pyarrow (or write .tsv / .vcf.gz)"
        raise InputError(msg) from None


def _write_parquet(table: Path, out: Path) -> None:
    """The TSV `table` as one Parquet file `out` (streamed in row groups, atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from varinterp.io.atomic import atomic_path

    dtypes = {"chrom": str, "id": str, "ref": str, "alt": str, "task": str, "scorer": str,
              "flags": str}  # fmt: skip
    with atomic_path(out, suffix=".parquet") as tmp:
        writer = None
        try:
            for part in pd.read_csv(table, sep="\t", dtype=dtypes, chunksize=1 << 16):
                batch = pa.Table.from_pandas(part, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(str(tmp), batch.schema)
                writer.write_table(batch)
        finally:
            if writer is not None:
                writer.close()
