"""Variants in any common form, read as biallelic variants (`varinterp.io.vcf.VariantRecord`).

`variant_source` recognises what the user gave:

- a VCF/BCF (plain, bgzipped; indexed or not: an unindexed file is read in file order);
- a variant list (TSV or BED, tab- or space-separated, ``#`` lines skipped, a header
  line optional): with ``schema="tsv"`` (the default, variant-scorer's) the columns are
  ``chrom pos ref alt [id]`` with a **1-based** ``pos``; with ``schema="bed"`` they are
  ``chrom start end ref alt [id]`` with a 0-based ``start`` (``end = start + 1``). A
  header line may name the columns instead (``chrom``/``chr``, ``pos``/``position`` or
  ``start``, ``ref``, ``alt``, ``id``/``variant_id``/``rsid``);
- ``chrom:pos:ref:alt`` strings (1-based ``pos``), e.g. ``chr1:12345:A:G``.

A REF that is missing (a list without a ref column, or ``.``/empty) is filled in from the
FASTA and counted (``ref_filled``); a REF that disagrees with the FASTA is counted and the
variant skipped (an `InputError` with ``strict``), as for VCFs. Several ALTs separated by
commas are split; SNVs, MNPs and indels (alleles written as in a VCF, with the shared
first base) are kept, indels longer than a limit and symbolic alleles skipped and
counted.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io import vcf as vcf_io
from varinterp.io.fasta import Reference
from varinterp.io.vcf import VariantRecord, VcfCounts, open_vcf, vcf_has_index

__all__ = [
    "SCHEMAS",
    "VariantCounts",
    "VariantSource",
    "count_records",
    "iter_variants",
    "variant_source",
]

SCHEMAS = ("tsv", "bed")
_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")
_STRING = re.compile(r"^([^:\s]+):(\d+):([A-Za-z.]*):([A-Za-z.,<>*]+)$")
_NAMES = {
    "chrom": ("chrom", "chr", "chromosome", "#chrom", "#chr", "contig"),
    "pos": ("pos", "position", "bp", "pos1"),
    "start": ("start", "chromstart", "pos0"),
    "ref": ("ref", "reference", "allele1", "a2"),
    "alt": ("alt", "alternate", "allele2", "a1"),
    "id": ("id", "variant_id", "rsid", "snp", "name"),
}


@dataclass
class VariantCounts(VcfCounts):
    """`VcfCounts` plus the REF alleles filled in from the FASTA."""

    ref_filled: int = 0


@dataclass(frozen=True)
class VariantSource:
    """What `variant_source` found: ``kind`` is ``vcf``, ``table`` or ``strings``."""

    kind: str
    path: Path | None = None
    strings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """A short name for messages: the file name, or the first string."""
        if self.path is not None:
            return self.path.name
        more = f" (+{len(self.strings) - 1})" if len(self.strings) > 1 else ""
        return f"{self.strings[0]}{more}"

    @property
    def indexed(self) -> bool:
        return self.kind == "vcf" and self.path is not None and vcf_has_index(self.path)

    def fingerprint(self) -> str:
        """SHA-256 of the file, or of the strings: changes when the variants do."""
        digest = hashlib.sha256()
        if self.path is not None:
            with self.path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update("\n".join(self.strings).encode())
        return digest.hexdigest()


def _is_vcf(path: Path) -> bool:
    if path.name.lower().endswith(_VCF_SUFFIXES):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            start = fh.read(16)
    except (OSError, EOFError):
        return False
    return start.startswith((b"##fileformat=VCF", b"BCF"))


def variant_source(spec: str | os.PathLike | Sequence[str]) -> VariantSource:
    """Recognise `spec`: a VCF/BCF path, a variant-list path, or ``chrom:pos:ref:alt``
    strings (a list, or one comma-separated string). An `InputError` otherwise."""
    items = [spec] if isinstance(spec, str | os.PathLike) else list(spec)
    if not items:
        msg = "no variants given: pass a VCF, a variant list or chrom:pos:ref:alt strings"
        raise InputError(msg)
    if len(items) == 1 and not _STRING.match(str(items[0]).split(",")[0].strip()):
        path = Path(items[0])
        if not path.is_file():
            msg = (
                f"variants {path}: not a file, and not chrom:pos:ref:alt (1-based, e.g. "
                "chr1:12345:A:G); check the path"
            )
            raise InputError(msg)
        return VariantSource("vcf" if _is_vcf(path) else "table", path=path)
    strings = [s.strip() for item in items for s in str(item).split(",") if s.strip()]
    bad = [s for s in strings if not _STRING.match(s)]
    if bad:
        msg = f"variant {bad[0]!r} is not chrom:pos:ref:alt (1-based pos), e.g. chr1:12345:A:G"
        raise InputError(msg)
    return VariantSource("strings", strings=tuple(strings))


def _open_text(path: Path):
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else path.open("r", encoding="utf-8", errors="replace")


def count_records(source: VariantSource) -> int | None:
    """How many records (VCF records, list rows, strings) `source` holds: from a VCF's
    index, else by a counting pass over the file (`None` when it cannot be counted)."""
    if source.kind == "strings":
        return len(source.strings)
    assert source.path is not None
    if source.kind == "vcf":
        if source.indexed:
            handle = open_vcf(source.path)
            try:
                return int(handle.num_records)
            except (ValueError, TypeError, OSError):
                pass
            finally:
                handle.close()
        if source.path.name.lower().endswith(".bcf"):
            handle = open_vcf(source.path)
            try:
                return sum(1 for _ in handle)
            finally:
                handle.close()
    n = 0
    with _open_text(source.path) as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                n += 1
    return n


def _columns(header: list[str] | None, n_fields: int, schema: str, where: str) -> dict[str, int]:
    """Column index of each role from a header line, or by position for the schema."""
    if header is not None:
        lower = [h.strip().lower() for h in header]
        found = {}
        for role, names in _NAMES.items():
            for name in names:
                if name in lower:
                    found[role] = lower.index(name)
                    break
        if "chrom" not in found or "alt" not in found or not ({"pos", "start"} & set(found)):
            msg = (
                f"{where}: the header names no chrom, pos (or start) and alt columns (has "
                f"{', '.join(header)}); name them, or drop the header and use the column order "
                "chrom pos ref alt [id]"
            )
            raise InputError(msg)
        return found
    if schema == "bed":
        roles = ["chrom", "start", "end", "ref", "alt", "id"]
        if n_fields == 4:
            roles = ["chrom", "start", "end", "alt"]
    else:
        roles = ["chrom", "pos", "ref", "alt", "id"]
        if n_fields == 3:
            roles = ["chrom", "pos", "alt"]
    if n_fields < len(roles) - (1 if "id" in roles else 0):
        msg = f"{where}: {n_fields} column(s); a {schema} variant list has " + (
            "chrom start end ref alt [id]" if schema == "bed" else "chrom pos ref alt [id]"
        )
        raise InputError(msg)
    return {role: i for i, role in enumerate(roles) if i < n_fields}


def _rows(source: VariantSource, schema: str) -> Iterator[tuple[str, str, int, str, str, str]]:
    """``(where, chrom, pos0, ref, alt, id)`` per row of a list, or per string."""
    if source.kind == "strings":
        for s in source.strings:
            m = _STRING.match(s)
            assert m is not None
            chrom, pos, ref, alt = m.groups()
            yield s, chrom, int(pos) - 1, ref, alt, "."
        return
    assert source.path is not None
    header: list[str] | None = None
    columns: dict[str, int] | None = None
    with _open_text(source.path) as fh:
        for k, line in enumerate(fh, start=1):
            if not line.strip() or (line.startswith("#") and not _looks_like_header(line)):
                continue
            fields = line.rstrip("\n").split("\t") if "\t" in line else line.split()
            where = f"variant list {source.path.name}, line {k}"
            if columns is None:
                coord = fields[1].strip() if len(fields) > 1 else ""
                if not coord.lstrip("-").isdigit():
                    header = [f.lstrip("#") for f in fields]
                    columns = _columns(header, len(fields), schema, where)
                    continue
                columns = _columns(None, len(fields), schema, where)
                third = fields[2].strip() if len(fields) > 2 else ""
                if schema == "tsv" and len(fields) >= 5 and third.isdigit():
                    msg = (
                        f"{where}: the third column is a number, as in a BED (chrom start end "
                        "ref alt); pass --schema bed, or give chrom pos ref alt [id]"
                    )
                    raise InputError(msg)
            try:
                chrom = fields[columns["chrom"]].strip()
                if "pos" in columns:
                    pos0 = int(fields[columns["pos"]]) - 1
                else:
                    pos0 = int(fields[columns["start"]])
                ref = fields[columns["ref"]].strip() if "ref" in columns else ""
                alt = fields[columns["alt"]].strip()
                ident = fields[columns["id"]].strip() if "id" in columns else "."
            except (IndexError, ValueError):
                msg = f"{where}: cannot read chrom, position, ref and alt from {line.strip()!r}"
                raise InputError(msg) from None
            yield where, chrom, pos0, ref, alt, ident or "."


def _looks_like_header(line: str) -> bool:
    first = line.lstrip("#").split()[0].lower() if line.lstrip("#").split() else ""
    return first in _NAMES["chrom"]


def iter_variants(
    source: VariantSource | str | os.PathLike | Sequence[str],
    *,
    reference: Reference,
    schema: str = "tsv",
    strict: bool = False,
    counts: VariantCounts | None = None,
    snvs_only: bool = False,
    max_indel_length: int | None = None,
) -> Iterator[VariantRecord]:
    """Yield the biallelic variants of `source` (module docstring), 0-based, with the
    FASTA's contig names, in input order: SNVs, MNPs and indels (SNVs alone with
    `snvs_only`; indels changing the length by more than `max_indel_length` bp skipped
    and counted). `counts` is filled in as rows are read."""
    if not isinstance(source, VariantSource):
        source = variant_source(source)
    if schema not in SCHEMAS:
        msg = f"--schema {schema!r} must be one of {', '.join(SCHEMAS)}"
        raise InputError(msg)
    counts = VariantCounts() if counts is None else counts
    if source.kind == "vcf":
        assert source.path is not None
        yield from vcf_io.iter_variants(
            source.path, reference=reference, samples=[], strict=strict, counts=counts,
            snvs_only=snvs_only, max_indel_length=max_indel_length,
        )  # fmt: skip
        return
    names = reference.contig_map(f"variants {source.name}")
    for where, chrom_in, pos0, ref, alt_field, ident in _rows(source, schema):
        counts.records += 1
        chrom = names(chrom_in)
        if pos0 < 0 or pos0 >= reference.lengths[chrom]:
            from_end = f"past the end of {chrom} ({reference.lengths[chrom]:,} bp)"
            msg = f"{where}: position {pos0 + 1} is {from_end if pos0 >= 0 else 'below 1'}"
            raise InputError(msg + "; wrong genome build, or a 0-based list (--schema bed)?")
        ref = ref.upper()
        alts = [a.strip().upper() for a in alt_field.split(",") if a.strip()]
        if len(alts) > 1:
            counts.multiallelic_records += 1
        if ref in ("", ".", "-"):
            counts.ref_filled += 1
            ref = reference.base(chrom, pos0)
        fasta_ref = reference.sequence(chrom, pos0, pos0 + len(ref)).upper()
        for alt in alts:
            if not counts.skip_or_keep(ref, alt, snvs_only=snvs_only, max_indel=max_indel_length):
                continue
            if ref != fasta_ref:
                counts.skipped_ref_mismatch += 1
                example = f"{chrom_in}:{pos0 + 1} REF {ref} but FASTA has {fasta_ref}"
                if len(counts.ref_mismatch_examples) < 5:
                    counts.ref_mismatch_examples.append(example)
                if strict:
                    msg = f"REF mismatch at {example}; check the genome build or drop --strict"
                    raise InputError(msg)
            else:
                counts.count_kept(ref, alt)
                yield VariantRecord(chrom, pos0, ref, alt, ident, None, None)
