"""Build a personal-genome store from a cohort VCF and a reference FASTA.

The store keeps the reference once (base codes of each contig that has variants or
requested regions) and every biallelic SNV's genotypes as bits: variants x 2
haplotypes x samples, packed 8 samples to a byte. See ``docs/genome_store.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from varinterp import __version__
from varinterp.errors import InputError
from varinterp.genome.assembly import check_ref_agreement
from varinterp.genome.encoding import BASES
from varinterp.genome.store import FORMAT_NAME, FORMAT_VERSION
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.fasta import Reference
from varinterp.io.intervals import check_regions, merge_regions, read_bed
from varinterp.io.readers import read_text
from varinterp.io.vcf import VcfCounts, iter_snvs, open_vcf, vcf_record_count
from varinterp.progress import ProgressCallback, report

__all__ = ["StoreSummary", "build_store", "read_sample_list", "sample_ids"]

_CODE = {b: i for i, b in enumerate(BASES)}


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


class _ContigVariants:
    def __init__(self) -> None:
        self.positions: list[int] = []
        self.alleles: list[tuple[int, int]] = []
        self.genotypes: list[np.ndarray] = []
        self.phased: list[np.ndarray] = []
        self.ids: list[str] = []


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
    on_progress: ProgressCallback | None = None,
) -> StoreSummary:
    """Read `vcf`'s biallelic SNVs against `fasta` and write a store folder at `out`.

    `regions` (a BED) with `flank` keeps only variants within ``flank`` bp of a region
    (needs the VCF's index); `samples` (IDs, a comma list or a file, `sample_ids`) keeps
    those samples, in that order. REF mismatches are skipped and counted (an
    `InputError` with `strict`, or when more than 5% mismatch unless `force`:
    `varinterp.genome.assembly.check_ref_agreement`). The folder appears only when
    complete.
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

    counts = VcfCounts()
    per_contig: dict[str, _ContigVariants] = defaultdict(_ContigVariants)
    n_bytes = (len(sample_names) + 7) // 8
    for snv in iter_snvs(
        vcf, reference=reference, samples=samples, regions=merged, strict=strict, counts=counts
    ):
        store = per_contig[snv.chrom]
        store.positions.append(snv.pos0)
        store.alleles.append((_CODE[snv.ref], _CODE[snv.alt]))
        store.ids.append(snv.id)
        if snv.carriers is not None:
            store.genotypes.append(np.packbits(snv.carriers.T, axis=-1, bitorder="little"))
            store.phased.append(np.packbits(snv.phased, bitorder="little"))
        if counts.records % 2000 == 0:
            report(on_progress, counts.records, total_records)
    report(on_progress, counts.records, total_records)
    check_ref_agreement(
        checked=counts.snvs + counts.skipped_ref_mismatch,
        mismatched=counts.skipped_ref_mismatch,
        lengths=reference.lengths,
        source=f"VCF {vcf.name}",
        force=force,
    )

    contig_names = list(per_contig)
    if merged is not None:
        contig_names += [c for c in merged["chrom"].unique() if c not in per_contig]
    if not contig_names:
        msg = (
            f"VCF {vcf.name} has no biallelic SNVs to store (read {counts.records} records: "
            f"{counts.skipped_indel} indel, {counts.skipped_symbolic} symbolic, "
            f"{counts.skipped_ref_mismatch} REF mismatch)"
        )
        raise InputError(msg)
    order = {name: i for i, name in enumerate(reference.names)}
    contig_names.sort(key=order.__getitem__)

    with atomic_dir(out, overwrite=overwrite) as tmp:
        contigs, non_acgtn, ref_total = _write_reference(reference, contig_names, tmp)
        n_variants = _write_variants(per_contig, contigs, n_bytes, len(sample_names), tmp)
        meta = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created_by": f"varinterp {__version__}",
            "samples": sample_names,
            "contigs": contigs,
            "n_variants": n_variants,
            "genotype_layout": "variants x 2 haplotypes x ceil(samples/8) bytes, bitorder little",
            "counts": counts.as_dict(),
            "ref_mismatch_examples": counts.ref_mismatch_examples,
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
        size = sum(p.stat().st_size for p in tmp.iterdir())
    reference.close()
    return StoreSummary(
        path=out,
        n_samples=len(sample_names),
        n_variants=n_variants,
        n_contigs=len(contigs),
        reference_bases=ref_total,
        counts=counts.as_dict(),
        ref_mismatch_examples=counts.ref_mismatch_examples,
        regions_clipped=clipped,
        regions_resorted=resorted,
        reference_non_acgtn=non_acgtn,
        size_bytes=size,
    )


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


def _write_variants(per_contig, contigs, n_bytes: int, n_samples: int, folder: Path) -> int:
    positions, alleles, genotypes, phased, ids = [], [], [], [], []
    start = 0
    for contig in contigs:
        block = per_contig.get(contig["name"])
        n = 0 if block is None else len(block.positions)
        if n:
            pos = np.asarray(block.positions, dtype=np.int64)
            order = np.argsort(pos, kind="stable")  # an unsorted VCF is sorted here
            positions.append(pos[order])
            alleles.append(np.asarray(block.alleles, dtype=np.uint8)[order])
            ids.extend(block.ids[i] for i in order)
            if n_samples:
                genotypes.append(np.stack(block.genotypes)[order])
                phased.append(np.stack(block.phased)[order])
        contig["var_start"], contig["var_end"] = start, start + n
        start += n
    n_total = start

    def cat(parts, shape, dtype):
        return np.concatenate(parts) if parts else np.zeros(shape, dtype=dtype)

    np.save(folder / "positions.npy", cat(positions, (0,), np.int64))
    np.save(folder / "alleles.npy", cat(alleles, (0, 2), np.uint8))
    np.save(folder / "genotypes.npy", cat(genotypes, (n_total, 2, n_bytes), np.uint8))
    np.save(folder / "phased.npy", cat(phased, (n_total, n_bytes), np.uint8))
    (folder / "variant_ids.txt").write_text("".join(f"{i}\n" for i in ids))
    return n_total
