"""VCF reading with cyvcf2 (always ``gts012=True``), split into biallelic variants.

This is the boundary where VCF's 1-based positions become 0-based (``pos0 = POS - 1``)
and the VCF's contig names become the reference FASTA's names.

`iter_variants` yields every biallelic variant with explicit alleles: SNVs, MNPs
(REF and ALT of the same length > 1) and indels (different lengths, e.g. ``AT>A``), with
REF and ALT as written (upper case). `iter_snvs` yields the SNVs alone.

Handling, counted in `VcfCounts`:

- multi-allelic records are split into one biallelic variant per ALT allele;
- structural variants and symbolic alleles (``<DEL>``, ``*``, breakends) are skipped;
  indels longer than ``max_indel_length`` (|len(ALT) - len(REF)|), and every non-SNV when
  only SNVs are asked for, are skipped and counted as ``skipped_indel``;
- a REF that disagrees with the FASTA (over its whole length) is counted and the record
  skipped (fatal with ``strict``);
- missing alleles (``./.``, ``.|1``) are read as the reference allele;
- haploid calls (``1``) are read as homozygous (the allele on both haplotypes).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cyvcf2
import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.fasta import Reference
from varinterp.io.readers import silenced_stderr

__all__ = [
    "SnvRecord",
    "VariantRecord",
    "VcfCounts",
    "iter_snvs",
    "iter_variants",
    "open_vcf",
    "open_vcf_header",
    "vcf_has_index",
    "vcf_record_count",
]

_SNV_BASES = frozenset("ACGT")


@dataclass
class VcfCounts:
    """What reading a VCF kept, split and skipped."""

    records: int = 0
    snvs: int = 0
    mnps: int = 0
    indels: int = 0
    multiallelic_records: int = 0
    skipped_indel: int = 0
    skipped_symbolic: int = 0
    skipped_ref_mismatch: int = 0
    missing_calls: int = 0
    haploid_calls: int = 0
    ref_mismatch_examples: list[str] = field(default_factory=list)

    def skip_or_keep(
        self, ref: str, alt: str, *, snvs_only: bool = False, max_indel: int | None = None
    ) -> bool:
        """Whether the biallelic pair REF/ALT (upper case) is kept; a skipped one is
        counted: a symbolic or non-ACGT allele, or ALT = REF, as symbolic/other; an MNP
        or indel under `snvs_only`, or an indel changing the length by more than
        `max_indel`, as an indel."""
        if _is_symbolic(alt) or (set(ref) - _SNV_BASES) or (set(alt) - _SNV_BASES) or alt == ref:
            self.skipped_symbolic += 1
            return False
        if len(ref) == 1 and len(alt) == 1:
            return True
        if snvs_only or (max_indel is not None and abs(len(alt) - len(ref)) > max_indel):
            self.skipped_indel += 1
            return False
        return True

    def count_kept(self, ref: str, alt: str) -> None:
        """Count a kept variant as an SNV, an MNP or an indel."""
        if len(alt) != len(ref):
            self.indels += 1
        elif len(ref) > 1:
            self.mnps += 1
        else:
            self.snvs += 1

    def as_dict(self) -> dict[str, int]:
        out = asdict(self)
        out.pop("ref_mismatch_examples")
        return out


@dataclass
class VariantRecord:
    """One biallelic variant (an SNV, an MNP or an indel); REF and ALT upper case, as written.

    ``carriers`` is ``(n_samples, 2) bool``: haplotype h of sample s carries ``alt``
    (column 0 is the first allele written in GT); rows follow the requested sample order.
    ``phased`` is ``(n_samples,) bool``.
    Both are None for a sites-only VCF.
    """

    chrom: str
    pos0: int
    ref: str
    alt: str
    id: str
    carriers: np.ndarray | None
    phased: np.ndarray | None

    @property
    def ilen(self) -> int:
        """``len(alt) - len(ref)``: > 0 an insertion, < 0 a deletion, 0 an SNV or MNP."""
        return len(self.alt) - len(self.ref)


#: The SNV records of `iter_snvs` are `VariantRecord` objects with one-base alleles.
SnvRecord = VariantRecord


def vcf_has_index(path: str | os.PathLike) -> bool:
    """True when a ``.tbi`` or ``.csi`` index sits next to `path`."""
    path = Path(path)
    return any(Path(f"{path}{ext}").is_file() for ext in (".tbi", ".csi"))


def open_vcf(
    path: str | os.PathLike, *, samples: Sequence[str] | None = None, need_index: bool = False
) -> cyvcf2.VCF:
    """Open a VCF/BCF (plain, bgzipped) with cyvcf2, ``gts012=True``.

    `samples` subsets (and orders) the samples; a sample the VCF lacks is an
    `InputError` that names it. `need_index` demands a ``.tbi``/``.csi`` beside the file.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"VCF {path} does not exist; check the path"
        raise InputError(msg)
    if need_index and not vcf_has_index(path):
        msg = f"VCF {path} has no index (.tbi or .csi); create one with: bcftools index -t {path}"
        raise InputError(msg)
    vcf = _open_quietly(path, gts012=True, lazy=True, threads=1)
    if samples is not None:
        have = set(vcf.samples)
        missing = [s for s in samples if s not in have]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            msg = (
                f"{len(missing)} requested sample(s) not in VCF {path.name}: {shown}; "
                "list its samples with: bcftools query -l"
            )
            raise InputError(msg)
        if list(samples) != list(vcf.samples):
            vcf.set_samples(list(samples))
    return vcf


def vcf_record_count(vcf: cyvcf2.VCF) -> int | None:
    """The record count of an open VCF from its index, or None without a usable index
    (htslib's complaint about a missing index is silenced)."""
    try:
        with silenced_stderr():
            n = vcf.num_records
    except (ValueError, AttributeError, TypeError, OSError):
        return None
    return int(n) if n else None


def open_vcf_header(path: str | os.PathLike) -> cyvcf2.VCF:
    """Open a VCF/BCF with cyvcf2's defaults (e.g. as a writer's template), checked like
    `open_vcf`."""
    path = Path(path)
    if not path.is_file():
        msg = f"VCF {path} does not exist; check the path"
        raise InputError(msg)
    return _open_quietly(path)


def _open_quietly(path: Path, **kwargs) -> cyvcf2.VCF:
    """`cyvcf2.VCF` with htslib's own complaints silenced; a file it cannot open or
    whose header it cannot parse is an `InputError` (cyvcf2 raises a bare Exception)."""
    try:
        with silenced_stderr():
            return cyvcf2.VCF(str(path), **kwargs)
    except Exception:  # OSError, or Exception("cannot parse VCF header")
        msg = (
            f"VCF {path} is not a readable VCF/BCF (truncated, garbled or another format); "
            f"check it with: bcftools view {path}"
        )
        raise InputError(msg) from None


def _is_symbolic(alt: str) -> bool:
    return alt.startswith("<") or alt == "*" or "[" in alt or "]" in alt or alt == "."


def iter_snvs(
    path: str | os.PathLike,
    *,
    reference: Reference,
    samples: Sequence[str] | None = None,
    regions: pd.DataFrame | None = None,
    strict: bool = False,
    counts: VcfCounts | None = None,
) -> Iterator[VariantRecord]:
    """Yield the VCF's biallelic SNVs (`iter_variants` with ``snvs_only=True``)."""
    return iter_variants(
        path, reference=reference, samples=samples, regions=regions, strict=strict,
        counts=counts, snvs_only=True,
    )  # fmt: skip


def iter_variants(
    path: str | os.PathLike,
    *,
    reference: Reference,
    samples: Sequence[str] | None = None,
    regions: pd.DataFrame | None = None,
    strict: bool = False,
    counts: VcfCounts | None = None,
    snvs_only: bool = False,
    max_indel_length: int | None = None,
) -> Iterator[VariantRecord]:
    """Yield the VCF's biallelic variants, 0-based, with reference contig names.

    SNVs, MNPs and indels (see the module docstring); `snvs_only` keeps SNVs alone and
    `max_indel_length` (None: no limit) skips longer indels.
    `regions` (columns chrom, start, end, with reference names, merged) restricts the
    records through the VCF's index (an `InputError` when there is none). `counts` is
    filled in as records are read. The VCF's samples (after subsetting) are in
    ``vcf.samples`` order; see `SnvRecord` for the genotype arrays.
    """
    counts = VcfCounts() if counts is None else counts
    vcf = open_vcf(path, samples=samples, need_index=regions is not None)
    names = reference.contig_map(f"VCF {Path(path).name}")
    sites_only = len(vcf.samples) == 0
    # cyvcf2 keeps the VCF's order when subsetting; put rows in the requested order
    order = None
    if samples is not None and list(samples) != list(vcf.samples):
        position = {s: i for i, s in enumerate(vcf.samples)}
        order = np.array([position[s] for s in samples], dtype=np.int64)
    try:
        if regions is None:
            records: Iterator[cyvcf2.Variant] = iter(vcf)
        else:
            records = _query_regions(vcf, regions)
        last = "the header"
        while True:
            try:
                rec = next(records)
            except StopIteration:
                break
            except Exception as exc:  # cyvcf2 raises a bare Exception on a corrupt record
                if "parsing variant" not in str(exc) and "bcf_read" not in str(exc):
                    raise
                msg = (
                    f"VCF {Path(path).name} is truncated or corrupt after {last} "
                    f"({counts.records} records read); check it with: bcftools view {path}"
                )
                raise InputError(msg) from None
            counts.records += 1
            last = f"{rec.CHROM}:{rec.POS}"
            yield from _split_record(
                rec, names, reference, strict, counts, sites_only, order, f"VCF {path}",
                snvs_only=snvs_only, max_indel=max_indel_length,
            )  # fmt: skip
    finally:
        vcf.close()


def _query_regions(vcf: cyvcf2.VCF, regions: pd.DataFrame) -> Iterator[cyvcf2.Variant]:
    vcf_names = set(vcf.seqnames)
    from varinterp.io.contigs import spellings

    for chrom, start, end in regions[["chrom", "start", "end"]].itertuples(index=False):
        spelled = next((s for s in spellings(chrom) if s in vcf_names), None)
        if spelled is None:
            continue
        with silenced_stderr():
            found = vcf(f"{spelled}:{start + 1}-{end}")
        for rec in found:
            if start <= rec.POS - 1 < end:  # skip records that only overlap the region
                yield rec


def _split_record(
    rec: cyvcf2.Variant,
    names,
    reference: Reference,
    strict: bool,
    counts: VcfCounts,
    sites_only: bool,
    order: np.ndarray | None,
    label: str,
    *,
    snvs_only: bool = False,
    max_indel: int | None = None,
) -> Iterator[VariantRecord]:
    ref = rec.REF.upper()
    alts = [a.upper() for a in rec.ALT]
    if len(alts) > 1:
        counts.multiallelic_records += 1
    snv_alts = [
        (k, alt)
        for k, alt in enumerate(alts, start=1)
        if counts.skip_or_keep(ref, alt, snvs_only=snvs_only, max_indel=max_indel)
    ]
    if not snv_alts:
        return
    chrom = names(rec.CHROM)
    pos0 = rec.POS - 1
    if pos0 >= reference.lengths[chrom]:
        msg = (
            f"{label}: record {rec.CHROM}:{rec.POS} lies past the end of {chrom} "
            f"({reference.lengths[chrom]:,} bp in {reference.path.name}); wrong genome build?"
        )
        raise InputError(msg)
    fasta_base = (
        reference.base(chrom, pos0)
        if len(ref) == 1
        else reference.sequence(chrom, pos0, pos0 + len(ref)).upper()
    )
    if fasta_base != ref:
        counts.skipped_ref_mismatch += len(snv_alts)
        where = f"{rec.CHROM}:{rec.POS} REF {ref} but FASTA has {fasta_base}"
        if len(counts.ref_mismatch_examples) < 5:
            counts.ref_mismatch_examples.append(where)
        if strict:
            msg = (
                f"{label}: REF mismatch at {where}; check the genome build, or drop --strict "
                "to skip such records"
            )
            raise InputError(msg)
        return
    carriers_all = phased = None
    if not sites_only:
        gt = rec.genotype.array()  # (n_samples, ploidy + 1) int16; last column = phased
        if order is not None:
            gt = gt[order]
        alleles = gt[:, :-1]
        if alleles.shape[1] == 1:
            alleles = np.concatenate([alleles, np.full_like(alleles, -2)], axis=1)
        alleles = alleles[:, :2].copy()
        haploid = alleles[:, 1] == -2
        if haploid.any():
            counts.haploid_calls += int(haploid.sum())
            alleles[haploid, 1] = alleles[haploid, 0]
        missing = alleles < 0
        counts.missing_calls += int(missing.any(axis=1).sum())
        carriers_all = alleles
        # a homozygous (or wholly missing) call has no phase to lose
        phased = gt[:, -1].astype(bool) | haploid | (alleles[:, 0] == alleles[:, 1])
    for k, alt in snv_alts:
        counts.count_kept(ref, alt)
        yield VariantRecord(
            chrom=chrom,
            pos0=pos0,
            ref=ref,
            alt=alt,
            id=rec.ID or ".",
            carriers=None if carriers_all is None else carriers_all == k,
            phased=phased,
        )
