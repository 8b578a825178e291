"""PLINK 2 PGEN input (``.pgen`` + ``.pvar`` + ``.psam``) through ``pgenlib``.

`iter_pgen_variants` yields the same `VariantRecord` objects as
`varinterp.io.vcf.iter_variants` (0-based positions, multi-allelic variants split,
SNVs, MNPs and indels, REF checked against the FASTA, missing alleles read as REF,
phase kept), so `varinterp.genome.build.build_store` stores a PGEN exactly as the same
records in a VCF. ``pgenlib`` is an optional dependency (``pip install
varinterp[pgen]``); the ``.pvar`` must be plain text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.fasta import Reference
from varinterp.io.vcf import VariantRecord, VcfCounts

__all__ = ["iter_pgen_variants", "pgen_samples", "pgen_variant_count"]


def _companion(pgen: Path, suffix: str) -> Path:
    path = pgen.with_suffix(suffix)
    if not path.is_file():
        msg = f"PGEN {pgen} has no {path.name} beside it; write it with plink2 --make-pgen"
        raise InputError(msg)
    return path


def pgen_samples(pgen: str | os.PathLike) -> list[str]:
    """Sample IDs (IID) of a PGEN's ``.psam`` (or ``.fam``), in file order."""
    pgen = Path(pgen)
    psam = pgen.with_suffix(".psam")
    if psam.is_file():
        table = pd.read_csv(psam, sep=r"\s+", dtype=str)
        table.columns = [c.lstrip("#") for c in table.columns]
        if "IID" not in table.columns:
            msg = f"{psam} has no IID column; check the file"
            raise InputError(msg)
        return table["IID"].tolist()
    fam = _companion(pgen, ".fam")
    return pd.read_csv(fam, sep=r"\s+", header=None, dtype=str)[1].tolist()


def _pvar(pgen: Path) -> pd.DataFrame:
    pvar = _companion(pgen, ".pvar")
    with pvar.open() as fh:
        skip = 0
        for line in fh:
            if line.startswith("##"):
                skip += 1
                continue
            header = line.lstrip("#").split() if line.startswith("#") else None
            break
    table = pd.read_csv(
        pvar, sep="\t", skiprows=skip + (1 if header else 0), header=None, dtype=str,
        names=header, usecols=range(5) if header is None else None,
    )  # fmt: skip
    if header is None:
        table.columns = ["CHROM", "POS", "ID", "REF", "ALT"]
    return table[["CHROM", "POS", "ID", "REF", "ALT"]]


def pgen_variant_count(pgen: str | os.PathLike) -> int:
    """Records in the ``.pvar``."""
    return len(_pvar(Path(pgen)))


def iter_pgen_variants(
    pgen: str | os.PathLike,
    *,
    reference: Reference,
    samples: Sequence[str] | None = None,
    regions: pd.DataFrame | None = None,
    strict: bool = False,
    counts: VcfCounts | None = None,
    snvs_only: bool = False,
    max_indel_length: int | None = None,
    chunk_size: int = 1024,
) -> Iterator[VariantRecord]:
    """Yield a PGEN's variants as `varinterp.io.vcf.iter_variants` yields a VCF's."""
    try:
        import pgenlib
    except ImportError:
        msg = "reading PGEN needs pgenlib: pip install pgenlib (or varinterp[pgen])"
        raise InputError(msg) from None
    pgen = Path(pgen)
    counts = VcfCounts() if counts is None else counts
    names_all = pgen_samples(pgen)
    if samples is None:
        order = np.arange(len(names_all))
    else:
        where = {s: i for i, s in enumerate(names_all)}
        missing = [s for s in samples if s not in where]
        if missing:
            msg = f"{len(missing)} requested sample(s) not in {pgen.name}: {', '.join(missing[:5])}"
            raise InputError(msg)
        order = np.array([where[s] for s in samples], dtype=np.int64)
    subset = np.unique(order).astype(np.uint32)
    rows = np.searchsorted(subset, order)  # subset row of each requested sample
    pvar = _pvar(pgen)
    n_alleles = pvar["ALT"].str.count(",").to_numpy() + 2
    offsets = np.zeros(len(pvar) + 1, dtype=np.uintp)
    np.cumsum(n_alleles, out=offsets[1:])
    reader = pgenlib.PgenReader(
        bytes(pgen), sample_subset=subset if subset.size < len(names_all) else None,
        allele_idx_offsets=offsets if (n_alleles > 2).any() else None,
    )  # fmt: skip
    contig_of = reference.contig_map(f"PGEN {pgen.name}")
    keep = np.ones(len(pvar), dtype=bool)
    if regions is not None:
        keep[:] = False
        chrom = np.array([contig_of.get(c) for c in pvar["CHROM"]], dtype=object)
        pos0 = pvar["POS"].astype(np.int64).to_numpy() - 1
        for c, s, e in regions[["chrom", "start", "end"]].itertuples(index=False):
            keep |= (chrom == c) & (pos0 >= s) & (pos0 < e)
    n = subset.size
    try:
        for lo in range(0, len(pvar), chunk_size):
            hi = min(lo + chunk_size, len(pvar))
            if not keep[lo:hi].any():
                continue
            alleles = np.empty((hi - lo, 2 * n), dtype=np.int32)
            phased = np.empty((hi - lo, n), dtype=np.uint8)
            reader.read_alleles_and_phasepresent_range(lo, hi, alleles, phased)
            for k in range(hi - lo):
                if keep[lo + k]:
                    yield from _records(
                        pvar.iloc[lo + k], alleles[k].reshape(n, 2)[rows], phased[k][rows] > 0,
                        contig_of, reference, strict, counts, snvs_only, max_indel_length,
                    )  # fmt: skip
    finally:
        reader.close()


def _records(row, alleles, phased, contig_of, reference, strict, counts, snvs_only, max_indel):
    counts.records += 1
    ref = row["REF"].upper()
    alts = [a.upper() for a in row["ALT"].split(",")]
    if len(alts) > 1:
        counts.multiallelic_records += 1
    keep = [
        (k, alt)
        for k, alt in enumerate(alts, start=1)
        if counts.skip_or_keep(ref, alt, snvs_only=snvs_only, max_indel=max_indel)
    ]
    if not keep:
        return
    chrom = contig_of(row["CHROM"])
    pos0 = int(row["POS"]) - 1
    have = reference.sequence(chrom, pos0, pos0 + len(ref)).upper()
    if have != ref:
        counts.skipped_ref_mismatch += len(keep)
        where = f"{row['CHROM']}:{pos0 + 1} REF {ref} but FASTA has {have}"
        if len(counts.ref_mismatch_examples) < 5:
            counts.ref_mismatch_examples.append(where)
        if strict:
            msg = f"REF mismatch at {where}; check the genome build, or drop --strict to skip it"
            raise InputError(msg)
        return
    missing = alleles < 0
    counts.missing_calls += int(missing.any(axis=1).sum())
    is_phased = phased | (alleles[:, 0] == alleles[:, 1])
    for k, alt in keep:
        counts.count_kept(ref, alt)
        yield VariantRecord(
            chrom=chrom, pos0=pos0, ref=ref, alt=alt,
            id=row["ID"] if row["ID"] not in (None, "") else ".",
            carriers=alleles == k, phased=is_phased,
        )  # fmt: skip
