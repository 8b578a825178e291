"""Score SNVs with a model ensemble: ref vs alt predictions -> per-variant effect table.

For every biallelic SNV of a VCF (multi-allelic records split, indels and symbolic
alleles skipped and counted, see `varinterp.io.vcf`) two windows of the model's input
length are built, centred on the variant (the variant sits at offset ``L // 2``, window
``[pos0 - L // 2, pos0 - L // 2 + L)``):

- **reference context** (default): the FASTA sequence, homozygous two-hot (each base
  counts 2, as CLIPNET's personal genomes do); positions past a contig edge are N (all
  zero) and the variant is flagged ``edge``;
- **personal context** (``store`` + ``sample``): that person's two-hot window from the
  genome store, so their other alleles in the window are kept.

The ref window carries REF/REF at the variant, the alt window ALT/ALT, or REF/ALT with
``heterozygous=True`` (two-hot 1 + 1). Both are predicted by the ensemble mean, or with
``holdout_composite`` by the fold model that held out the variant's chromosome
(`varinterp.effects.ensemble`), with reverse-complement averaging unless turned off.
The scores are those of `varinterp.effects.scores`.

``null_shuffles=K`` adds empirical p-values: the variant's reference-genome window is
dinucleotide-shuffled K times (`varinterp.effects.shuffle`, seeded per variant), REF and
ALT are put back at the centre, and ``pval_abs_log2fc`` / ``pval_profile_l2`` are
``(1 + #null >= observed) / (K + 1)``.

**Scale.** Variants are streamed in chunks of `chunk_size`; each finished chunk is a part
file in a hidden work folder beside the output (`varinterp.effects._work`), so memory
stays flat, and a killed run started again with the same inputs and options skips the
finished chunks. Under ``torchrun`` each rank scores every ``world_size``-th chunk on
its own GPU and rank 0 writes the output.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.effects._work import WorkDir, file_fingerprint, sha256_file
from varinterp.effects.ensemble import Ensemble, load_ensemble
from varinterp.effects.scores import SCORE_COLUMNS, effect_scores, empirical_pvalues
from varinterp.effects.shuffle import shuffled_contexts, window_seeds
from varinterp.errors import InputError
from varinterp.genome.encoding import CODE_N, one_hot
from varinterp.io.fasta import Reference
from varinterp.io.vcf import SnvRecord, VcfCounts, iter_snvs, open_vcf, vcf_has_index
from varinterp.progress import ProgressCallback

__all__ = ["ID_COLUMNS", "ScoreResult", "build_windows", "score_variants", "table_columns"]

ID_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "scorer")
_CODE = {b: i for i, b in enumerate("ACGT")}


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


def table_columns(null_shuffles: int) -> list[str]:
    """The output TSV's columns in order."""
    cols = [*ID_COLUMNS, *SCORE_COLUMNS]
    if null_shuffles:
        cols += ["pval_abs_log2fc", "pval_profile_l2"]
    return [*cols, "flags"]


def build_windows(
    reference: Reference,
    chroms: list[str],
    pos0: np.ndarray,
    length: int,
    *,
    store=None,
    sample: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Context windows centred on variants (the variant at offset ``length // 2``).

    Returns ``x`` ``(n, 4, length) uint8`` two-hot context (reference homozygous, or the
    store sample's genotypes), ``codes`` ``(n, length) uint8`` reference base codes, and
    ``edge`` ``(n,) bool`` (window runs past a contig end).
    """
    n = len(chroms)
    starts = np.asarray(pos0, dtype=np.int64) - length // 2
    codes = np.full((n, length), CODE_N, dtype=np.uint8)
    edge = np.zeros(n, dtype=bool)
    for i, (c, s) in enumerate(zip(chroms, starts, strict=True)):
        codes[i] = reference.codes(c, int(s), int(s) + length)
        edge[i] = s < 0 or s + length > reference.lengths[c]
    if store is None:
        x = 2 * one_hot(codes) if n else np.zeros((0, 4, length), np.uint8)
    else:
        names = [store.contig_name(c) for c in chroms]
        x = store.windows(sample, names, starts, length)
    return x, codes, edge


def _allele_windows(
    x: np.ndarray, refs: np.ndarray, alts: np.ndarray, *, heterozygous: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ref and alt windows: ``x`` ``(n, 4, L)`` with the centre column set -> two such arrays."""
    c = x.shape[2] // 2
    rows = np.arange(x.shape[0])
    xr = x.copy()
    xr[:, :, c] = 0
    xr[rows, refs, c] = 2
    xa = xr.copy()
    xa[:, :, c] = 0
    if heterozygous:
        xa[rows, refs, c] = 1
    xa[rows, alts, c] += 2 - int(heterozygous)
    return xr, xa


def _score_batch(ens, x, refs, alts, chroms, opts) -> tuple[dict, list[str]]:
    xr, xa = _allele_windows(x, refs, alts, heterozygous=opts["heterozygous"])
    n = x.shape[0]
    both = np.concatenate([xr, xa])
    ch = np.concatenate([chroms, chroms])
    prof, q = ens.predict(both, chroms=ch, **opts["predict"])
    scores = effect_scores(prof[:n], q[:n], prof[n:], q[n:], pseudocount=opts["pseudocount"])
    return scores, [ens.scorer_of(c, holdout_composite=opts["composite"]) for c in chroms]


def _null_pvalues(ens, codes, refs, alts, chroms, seeds, scores, opts) -> tuple:
    k = opts["null_shuffles"]
    n, length = codes.shape
    shuf = shuffled_contexts(codes, n_shuffles=k, seeds=seeds).reshape(n * k, length)
    x = 2 * one_hot(shuf)
    rep = np.repeat(np.arange(n), k)
    null, _ = _score_batch(ens, x, refs[rep], alts[rep], chroms[rep], opts)
    p_fc = empirical_pvalues(np.abs(scores["log2fc"]), np.abs(null["log2fc"]).reshape(n, k))
    p_l2 = empirical_pvalues(scores["profile_l2"], null["profile_l2"].reshape(n, k))
    return p_fc, p_l2


def _score_chunk(ens: Ensemble, recs: list[SnvRecord], first: int, ctx, opts) -> pd.DataFrame:
    length = ens.input_length
    chroms = np.array([r.chrom for r in recs], dtype=object)
    pos0 = np.array([r.pos0 for r in recs], dtype=np.int64)
    refs = np.array([_CODE[r.ref] for r in recs], dtype=np.int64)
    alts = np.array([_CODE[r.alt] for r in recs], dtype=np.int64)
    # slices small enough that windows (and shuffled nulls) stay a bounded size
    step = max(1, opts["window_budget"] // (2 * (1 + opts["null_shuffles"])))
    parts = []
    for lo in range(0, len(recs), step):
        sl = slice(lo, min(lo + step, len(recs)))
        x, codes, edge = build_windows(
            ctx["reference"], list(chroms[sl]), pos0[sl], length,
            store=ctx["store"], sample=ctx["sample"],
        )  # fmt: skip
        scores, scorers = _score_batch(ens, x, refs[sl], alts[sl], chroms[sl], opts)
        table = pd.DataFrame(
            {
                "chrom": chroms[sl],
                "pos": pos0[sl] + 1,
                "id": [r.id for r in recs[sl]],
                "ref": [r.ref for r in recs[sl]],
                "alt": [r.alt for r in recs[sl]],
                "scorer": scorers,
                **scores,
            }
        )
        if opts["null_shuffles"]:
            seeds = window_seeds(opts["seed"], np.arange(first + sl.start, first + sl.stop))
            p_fc, p_l2 = _null_pvalues(
                ens, codes, refs[sl], alts[sl], chroms[sl], seeds, scores, opts
            )
            table["pval_abs_log2fc"] = p_fc
            table["pval_profile_l2"] = p_l2
        table["flags"] = np.where(edge, "edge", ".")
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


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
    strict: bool = False,
    chunk_size: int = 4096,
    batch_size: int | None = None,
    device: str = "auto",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    _stop_after_chunks: int | None = None,
) -> ScoreResult:
    """Score every SNV of `vcf` (sorted, bgzipped, indexed) and write the effect table `out`.

    See the module docstring for windows, contexts, models and null p-values, and
    ``docs/scoring.md`` for the columns. `vcf_out` also writes a bgzipped, tabix-indexed
    copy of the VCF with the scores as INFO fields (`varinterp.effects.vcf_out`).
    `on_progress` gets ``(VCF records read, records in the VCF's index)`` as chunks
    finish. `batch_size` (windows per forward pass, before reverse-complement doubling)
    defaults to 256 on CUDA and 32 on the CPU, where small batches run faster.
    ``_stop_after_chunks`` (tests only) stops as if killed.
    """
    from varinterp.training.ddp import barrier, init_distributed
    from varinterp.training.ensemble import resolve_device

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
    if batch_size is None:
        batch_size = 256 if dev.type == "cuda" else 32
    ens = load_ensemble(model, device=dev)
    gstore = None
    if store is not None:
        from varinterp.genome.store import GenomeStore

        gstore = GenomeStore.open(store)
        gstore.sample_indices([sample])
    opts = {
        "heterozygous": heterozygous,
        "composite": holdout_composite,
        "null_shuffles": int(null_shuffles),
        "pseudocount": float(pseudocount),
        "seed": int(seed),
        "window_budget": max(2 * batch_size, 2048),
        "predict": {
            "holdout_composite": holdout_composite,
            "rc_average": rc_average,
            "batch_size": batch_size,
            "device": dev,
            "bf16": True,
        },
    }
    state = {
        "vcf_sha256": sha256_file(vcf),
        "model_config": sha256_file(Path(model) / "config.json"),
        "model_folds": [file_fingerprint(Path(model) / f"{f}.safetensors") for f in ens.models],
        "fasta": file_fingerprint(fasta),
        "store": None if store is None else str(Path(store).resolve()),
        "sample": sample,
        "chunk_size": chunk_size,
        "options": {k: v for k, v in opts.items() if k != "predict"}
        | {"rc_average": rc_average, "strict": strict},
    }
    work = WorkDir(out)
    if dist.is_main:
        work.start(state)
    barrier(dist)
    counts = VcfCounts()
    # samples=[]: genotypes are never parsed (fast on cohort VCFs)
    snvs = iter_snvs(vcf, reference=reference, samples=[], strict=strict, counts=counts)
    records = _sorted_check(snvs, vcf)
    ctx = {"reference": reference, "store": gstore, "sample": sample}
    n_chunks = reused = 0
    for k, chunk in enumerate(_chunks(records, chunk_size)):
        n_chunks += 1
        first = k * chunk_size
        if k % dist.world_size == dist.rank:
            if work.done(k):
                reused += 1
            else:
                if _stop_after_chunks is not None and k >= _stop_after_chunks:
                    msg = "stopped on request (test hook)"
                    raise KeyboardInterrupt(msg)
                table = _score_chunk(ens, chunk, first, ctx, opts)
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
    columns = table_columns(null_shuffles)
    result = ScoreResult(out, counts.snvs, counts, 0, n_chunks, reused, None, columns)
    if not dist.is_main:
        return result
    work.concatenate(n_chunks, "\t".join(columns) + "\n")
    for part in pd.read_csv(out, sep="\t", usecols=["flags"], dtype=str, chunksize=1 << 16):
        result.n_edge += int((part["flags"] == "edge").sum())
    if vcf_out is not None:
        from varinterp.effects.vcf_out import write_annotated_vcf

        result.vcf_out = write_annotated_vcf(
            vcf=vcf, table=out, out=vcf_out, reference=reference, overwrite=overwrite
        )
    work.remove()
    return result
