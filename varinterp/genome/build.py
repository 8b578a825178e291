"""Build a personal-genome store from a cohort VCF and a reference FASTA.

The store keeps the reference once (base codes of each contig that has variants or
requested regions) and every variant (SNVs, MNPs and indels) with its carriers, sparse
where rare and dense where common (`varinterp.genome._layout`). See
``docs/genome_store.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp import __version__
from varinterp.errors import InputError
from varinterp.genome import _layout
from varinterp.genome.assembly import check_ref_agreement
from varinterp.genome.encoding import codes_from_sequence
from varinterp.genome.store import FORMAT_NAME, FORMAT_VERSION
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.fasta import Reference
from varinterp.io.intervals import check_regions, merge_regions, read_bed
from varinterp.io.readers import read_text
from varinterp.io.vcf import (
    VariantRecord,
    VcfCounts,
    iter_variants,
    open_vcf,
    vcf_has_index,
    vcf_record_count,
)
from varinterp.progress import ProgressCallback, report

__all__ = ["StoreSummary", "build_store", "read_sample_list", "sample_ids"]


@dataclass
class StoreSummary:
    """What `build_store` wrote."""

    path: Path
    n_samples: int
    n_variants: int
    n_contigs: int
    reference_bases: int
    counts: dict[str, int]
    ref_mismatch_examples: list[str]
    regions_clipped: int
    regions_resorted: bool
    reference_non_acgtn: int
    size_bytes: int
    cohort_bytes: int = 0


def sample_ids(spec: str | os.PathLike | list[str] | None) -> list[str] | None:
    """Sample IDs from a list, a comma-separated string, or a file of IDs (one per line).

    None stays None (all samples). A string naming an existing file is read with
    `read_sample_list`; any other string is split on commas.
    """
    if spec is None or isinstance(spec, list):
        return spec
    if Path(spec).is_file():
        return read_sample_list(spec)
    names = [s.strip() for s in str(spec).split(",") if s.strip()]
    if not names:
        msg = f"--samples {spec!r} names no sample; give IDs like NA12878,NA12891 or a file"
        raise InputError(msg)
    return names


def read_sample_list(path: str | os.PathLike) -> list[str]:
    """Sample IDs, one per line (blank lines and ``#`` comments skipped)."""
    path = Path(path)
    if not path.is_file():
        msg = f"sample list {path} does not exist; check the path"
        raise InputError(msg)
    names = [
        line.split()[0]
        for line in read_text(path, "sample list").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if not names:
        msg = f"sample list {path} is empty; give one sample ID per line"
        raise InputError(msg)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"sample list {path} repeats {', '.join(dup[:5])}; list each sample once"
        raise InputError(msg)
    return names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _chunk_record(chunk: _layout.Chunk, rec: VariantRecord) -> None:
    chunk.pos.append(rec.pos0)
    chunk.ref_len.append(len(rec.ref))
    chunk.alt.append(codes_from_sequence(rec.alt))
    chunk.ids.append(rec.id)
    chunk.padded.append(len(rec.ref) != len(rec.alt) and rec.ref[0] == rec.alt[0])
    if rec.carriers is None:
        chunk.haps.append(_EMPTY)
        chunk.unphased.append(_EMPTY)
        return
    chunk.haps.append(np.flatnonzero(rec.carriers.reshape(-1)))
    het = rec.carriers.sum(axis=1) == 1
    chunk.unphased.append(np.flatnonzero(het & ~rec.phased))


_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class _Job:
    """One contig (or the whole VCF, contig by contig) to read into part folders."""

    vcf: str
    fasta: str
    folder: str
    samples: list[str] | None
    regions: pd.DataFrame | None
    strict: bool
    snvs_only: bool
    max_indel_length: int | None
    chunk_size: int
    n_samples: int


def _read_into_parts(job: _Job, on_progress=None, total=None) -> tuple[list[dict], dict, list[str]]:
    """Stream `job`'s records into one `ContigWriter` per contig; returns the parts, the
    counts and the REF-mismatch examples."""
    reference = Reference(job.fasta)
    counts = VcfCounts()
    parts: list[dict] = []
    writer: _layout.ContigWriter | None = None
    chunk = _layout.Chunk()
    done: set[str] = set()
    read = iter_variants
    if job.vcf.endswith(".pgen"):
        from varinterp.genome.pgen import iter_pgen_variants as read
    records = read(
        job.vcf, reference=reference, samples=job.samples, regions=job.regions,
        strict=job.strict, counts=counts, snvs_only=job.snvs_only,
        max_indel_length=job.max_indel_length,
    )  # fmt: skip
    for rec in records:
        if writer is None or rec.chrom != writer.contig:
            if writer is not None:
                writer.add(chunk)
                parts.append(writer.close())
                chunk = _layout.Chunk()
            if rec.chrom in done:
                msg = (
                    f"VCF {Path(job.vcf).name} is not sorted: {rec.chrom} appears again after "
                    "other contigs; sort it first (bcftools sort -Oz -W -o sorted.vcf.gz in.vcf.gz)"
                )
                raise InputError(msg)
            done.add(rec.chrom)
            writer = _layout.ContigWriter(
                Path(job.folder) / f"{len(parts):05d}", rec.chrom, job.n_samples
            )
        _chunk_record(chunk, rec)
        if len(chunk) >= job.chunk_size:
            writer.add(chunk)
            chunk = _layout.Chunk()
            report(on_progress, counts.records, total)
    if writer is not None:
        writer.add(chunk)
        parts.append(writer.close())
    report(on_progress, counts.records, total)
    reference.close()
    return parts, counts.as_dict(), counts.ref_mismatch_examples


def _read_job(job: _Job) -> tuple[list[dict], dict, list[str]]:
    return _read_into_parts(job)


def build_store(
    *,
    vcf: str | os.PathLike,
    fasta: str | os.PathLike,
    out: str | os.PathLike,
    regions: str | os.PathLike | None = None,
    flank: int = 0,
    samples: list[str] | str | None = None,
    strict: bool = False,
    force: bool = False,
    overwrite: bool = False,
    snvs_only: bool = False,
    max_indel_length: int | None = None,
    threads: int = 1,
    chunk_size: int = 4096,
    on_progress: ProgressCallback | None = None,
) -> StoreSummary:
    """Read `vcf`'s variants against `fasta` and write a store folder at `out`.

    Every biallelic variant with explicit alleles is kept (SNVs, MNPs, indels;
    multi-allelic records split), or the SNVs alone with `snvs_only`;
    `max_indel_length` skips longer indels. `vcf` may also be a PLINK 2 ``.pgen`` (with
    its ``.pvar``/``.psam`` beside it). `regions` (a BED) with `flank` keeps only
    variants within ``flank`` bp of a region (needs the VCF's index); `samples` (IDs, a
    comma list or a file, `sample_ids`) keeps those samples, in that order. REF
    mismatches are skipped and counted (an `InputError` with `strict`, or when more than
    5% mismatch unless `force`: `varinterp.genome.assembly.check_ref_agreement`). The
    VCF must be sorted; it is read in one pass, `chunk_size` records at a time, each
    contig in its own process when `threads` > 1 and the VCF is indexed, so memory stays
    near ``threads x chunk_size x n_samples x 16`` bytes whatever the number of variants.
    The folder appears only when complete.
    """
    check_output(out)
    vcf, fasta, out = Path(vcf), Path(fasta), Path(out)
    samples = sample_ids(samples)
    if flank < 0:
        msg = f"--flank must be >= 0, got {flank}"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    reference = Reference(fasta)
    if str(vcf).endswith(".pgen"):
        from varinterp.genome.pgen import pgen_samples, pgen_variant_count

        sample_names = pgen_samples(vcf) if samples is None else list(samples)
        total_records = pgen_variant_count(vcf)
    else:
        probe = open_vcf(vcf, samples=samples)
        sample_names = list(probe.samples) if samples is None else list(samples)
        total_records = vcf_record_count(probe)
        probe.close()

    merged = None
    clipped, resorted = 0, False
    if regions is not None:
        table, check = check_regions(read_bed(regions), reference.lengths, source=str(regions))
        clipped, resorted = check.n_clipped, not check.was_sorted
        merged = merge_regions(table, flank=flank)

    n_samples = len(sample_names)
    base = _Job(
        vcf=str(vcf), fasta=str(fasta), folder="", samples=samples, regions=merged,
        strict=strict, snvs_only=snvs_only, max_indel_length=max_indel_length,
        chunk_size=chunk_size, n_samples=n_samples,
    )  # fmt: skip
    with atomic_dir(out, overwrite=overwrite) as tmp:
        work = tmp / ".parts"
        parts, counts, examples = _read_all(
            base, work, reference, threads, on_progress, total_records
        )
        kept = counts["snvs"] + counts["mnps"] + counts["indels"]
        check_ref_agreement(
            checked=kept + counts["skipped_ref_mismatch"],
            mismatched=counts["skipped_ref_mismatch"],
            lengths=reference.lengths,
            source=f"VCF {vcf.name}",
            force=force,
        )
        contig_names = [p["contig"] for p in parts]
        if merged is not None:
            contig_names += [c for c in merged["chrom"].unique() if c not in contig_names]
        if not contig_names:
            msg = (
                f"VCF {vcf.name} has no variants to store (read {counts['records']} records: "
                f"{counts['skipped_indel']} indel skipped, {counts['skipped_symbolic']} symbolic, "
                f"{counts['skipped_ref_mismatch']} REF mismatch)"
            )
            raise InputError(msg)
        order = {name: i for i, name in enumerate(reference.names)}
        contig_names.sort(key=order.__getitem__)
        by_contig = {p["contig"]: p for p in parts}
        ordered = [by_contig[c] for c in contig_names if c in by_contig]
        contigs, non_acgtn, ref_total = _write_reference(reference, contig_names, tmp)
        n_variants = _layout.assemble(ordered, tmp, n_samples)
        start = 0
        for contig in contigs:
            p = by_contig.get(contig["name"])
            n = 0 if p is None else p["n"]
            contig["var_start"], contig["var_end"] = start, start + n
            contig["max_span"] = 1 if p is None else p["max_span"]
            start += n
        shutil.rmtree(work)
        counts["overlapping_calls_dropped"] = sum(p["dropped"] for p in parts)
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created_by": f"varinterp {__version__}",
            "samples": sample_names,
            "contigs": contigs,
            "n_variants": n_variants,
            "variant_kinds": "snvs" if snvs_only else "snvs, mnps, indels",
            "max_indel_length": max_indel_length,
            "genotype_layout": (
                "per variant: sorted carrier haplotype ids (2*sample+h), or sorted non-carrier "
                "ids, or a dense row (2 x ceil(samples/8) bytes, bitorder little), whichever is "
                "smallest; overlaps resolved as bcftools consensus applies them"
            ),
            "haplotype_id_dtype": str(_layout.hap_dtype(n_samples)),
            "counts": counts,
            "ref_mismatch_examples": examples[:5],
            "reference_non_acgtn_as_n": non_acgtn,
            "regions": None
            if regions is None
            else {"path": str(regions), "flank": flank, "n_merged": len(merged)},
            "inputs": {
                "vcf": {"name": vcf.name, "bytes": vcf.stat().st_size, "sha256": _sha256(vcf)},
                "fasta": {
                    "name": fasta.name,
                    "bytes": fasta.stat().st_size,
                    "sha256": _sha256(fasta),
                },
            },
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
        size = sum(p.stat().st_size for p in tmp.iterdir() if p.is_file())
        cohort = size - (tmp / "reference.npy").stat().st_size
    reference.close()
    return StoreSummary(
        path=out,
        n_samples=n_samples,
        n_variants=n_variants,
        n_contigs=len(contigs),
        reference_bases=ref_total,
        counts=counts,
        ref_mismatch_examples=examples[:5],
        regions_clipped=clipped,
        regions_resorted=resorted,
        reference_non_acgtn=non_acgtn,
        size_bytes=size,
        cohort_bytes=cohort,
    )


def _read_all(base: _Job, work: Path, reference: Reference, threads: int, on_progress, total):
    """Read every record into part folders: contig by contig in `threads` processes when
    the VCF is indexed, else in one pass."""
    work.mkdir()
    if threads <= 1 or base.vcf.endswith(".pgen") or not vcf_has_index(base.vcf):
        job = dataclasses.replace(base, folder=str(work / "all"))
        return _read_into_parts(job, on_progress, total)
    from concurrent.futures import ProcessPoolExecutor

    names = _vcf_contigs(base.vcf, reference)
    jobs = []
    for k, name in enumerate(names):
        if base.regions is not None:
            sub = base.regions[base.regions["chrom"] == name]
            if sub.empty:
                continue
        else:
            sub = pd.DataFrame({"chrom": [name], "start": [0], "end": [reference.lengths[name]]})
        jobs.append(dataclasses.replace(base, folder=str(work / f"c{k:05d}"), regions=sub))
    parts: list[dict] = []
    counts = VcfCounts().as_dict()
    examples: list[str] = []
    with ProcessPoolExecutor(max_workers=threads) as pool:
        for i, (p, c, e) in enumerate(pool.map(_read_job, jobs)):
            parts += p
            counts = {k: counts[k] + c[k] for k in counts}
            examples += e
            report(on_progress, i + 1, len(jobs))
    return parts, counts, examples


def _vcf_contigs(vcf: str, reference: Reference) -> list[str]:
    handle = open_vcf(vcf)
    try:
        names = reference.contig_map(f"VCF {Path(vcf).name}")
        out = []
        for name in handle.seqnames:
            mapped = names.get(name)
            if mapped is not None and mapped not in out:
                out.append(mapped)
        return out
    finally:
        handle.close()


def _write_reference(reference: Reference, names: list[str], folder: Path):
    lengths = [reference.lengths[c] for c in names]
    codes = np.lib.format.open_memmap(
        folder / "reference.npy", mode="w+", dtype=np.uint8, shape=(sum(lengths),)
    )
    contigs, offset, non_acgtn = [], 0, 0
    for name, length in zip(names, lengths, strict=True):
        step = 1 << 24
        for lo in range(0, length, step):
            hi = min(lo + step, length)
            chunk = reference.codes(name, lo, hi)
            codes[offset + lo : offset + hi] = chunk
            raw = reference.sequence(name, lo, hi).upper()
            non_acgtn += len(raw) - sum(raw.count(b) for b in "ACGTN")
        contigs.append({"name": name, "length": length, "ref_offset": offset})
        offset += length
    codes.flush()
    del codes
    return contigs, non_acgtn, offset
