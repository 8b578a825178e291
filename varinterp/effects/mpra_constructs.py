"""MPRA reporter constructs: an oligo inserted into a plasmid backbone, cut to a model's input.

The backbone is the user's FASTA of the reporter plasmid (for the Siraj et al. K562
MPRA: pMPRAv3:minP-GFP, Addgene #109035; see ``docs/benchmarking_effects.md``) and an
insertion site ``[insert_start, insert_end)`` in 0-based backbone coordinates: the
oligo replaces those backbone bases (``insert_end == insert_start`` inserts without
removing anything). The plasmid is circular, so a window reaching past either end of
the sequence continues at the other end.

The window of ``length`` bases is placed

- centred on the variant (default): the variant sits at window index ``length // 2``,
  the same placement as the genomic windows of the QTL benchmark; or
- with ``upstream = k``: the oligo starts at window index ``k`` (the published CLIPNET
  K562 pipeline kept 325 backbone bases before the 200 bp oligo and cut at 1,000).

Constructs are returned as two-hot arrays of a homozygous sequence (2 at the base, 0
elsewhere; lower-case backbone letters count as bases, IUPAC letters as N), the input
encoding of CLIPNET-style models.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from varinterp.errors import InputError
from varinterp.genome.encoding import CODE_N, codes_from_sequence, one_hot

__all__ = ["Backbone", "construct_codes", "construct_two_hot", "read_backbone"]


@dataclass(frozen=True)
class Backbone:
    """A circular reporter backbone and where oligos go: ``codes (n,) uint8`` (A=0 .. N=4)."""

    name: str
    codes: np.ndarray
    insert_start: int
    insert_end: int

    def __post_init__(self) -> None:
        n = self.codes.size
        if not 0 <= self.insert_start <= self.insert_end <= n:
            msg = (
                f"backbone {self.name} ({n} bp): insertion site [{self.insert_start}, "
                f"{self.insert_end}) must satisfy 0 <= start <= end <= {n}"
            )
            raise InputError(msg)

    @property
    def downstream(self) -> np.ndarray:
        return self.codes[self.insert_end :]

    @property
    def upstream(self) -> np.ndarray:
        return self.codes[: self.insert_start]


def read_backbone(
    path: str | os.PathLike,
    *,
    insert_start: int,
    insert_end: int | None = None,
    record: str | None = None,
) -> Backbone:
    """Read the backbone FASTA (one record, or the one named `record`) -> `Backbone`."""
    from varinterp.io.fasta import Reference

    path = Path(path)
    ref = Reference(path)
    names = ref.names
    if record is None:
        if len(names) != 1:
            msg = (
                f"backbone FASTA {path} has {len(names)} records; pick one with "
                f"--backbone-record (one of {', '.join(names[:5])})"
            )
            raise InputError(msg)
        record = names[0]
    elif record not in names:
        msg = f"backbone FASTA {path} has no record {record!r}; it has {', '.join(names[:5])}"
        raise InputError(msg)
    codes = codes_from_sequence(ref.sequence(record), where=f"backbone {path}")
    ref.close()
    if np.any(codes > CODE_N):
        msg = f"backbone {path} holds letters other than ACGTN/IUPAC; fix the FASTA"
        raise InputError(msg)
    end = insert_start if insert_end is None else insert_end
    return Backbone(record, codes, int(insert_start), int(end))


def construct_codes(
    oligo: np.ndarray,
    backbone: Backbone,
    *,
    length: int,
    variant_offset: int,
    upstream: int | None = None,
) -> np.ndarray:
    """The window of the construct ``upstream + oligo + downstream`` -> ``(length,) uint8`` codes.

    `oligo` is ``(m,) uint8`` base codes; `variant_offset` the 0-based position of the
    variant in it. See the module docstring for the placement and the circular wrap.
    """
    construct = np.concatenate([backbone.upstream, oligo, backbone.downstream])
    if length > construct.size:
        msg = (
            f"the construct is {construct.size} bp, shorter than the model input ({length} "
            "bp); give the full plasmid as the backbone"
        )
        raise InputError(msg)
    if upstream is None:
        start = backbone.insert_start + variant_offset - length // 2
    else:
        start = backbone.insert_start - upstream
    idx = (start + np.arange(length)) % construct.size
    return construct[idx]


def construct_two_hot(
    oligos: list[str],
    ref: list[str],
    alt: list[str],
    offsets: np.ndarray,
    backbone: Backbone,
    *,
    length: int,
    upstream: int | None = None,
    alt_oligos: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Reference and alternative constructs of each oligo -> two ``(n, 4, length) uint8``.

    Oligo i gets `ref[i]` at ``offsets[i]`` in its reference copy and `alt[i]` in its
    alternative copy; a non-empty ``alt_oligos[i]`` is used as the alternative oligo
    as it is. Homozygous two-hot (values 0 or 2), channels A, C, G, T.
    """
    n = len(oligos)
    codes = np.zeros((2, n, length), dtype=np.uint8)
    for i, (seq, r, a) in enumerate(zip(oligos, ref, alt, strict=True)):
        base = codes_from_sequence(seq, where=f"oligo {i + 1}")
        off = int(offsets[i])
        for k, allele in enumerate((r, a)):
            if k == 1 and alt_oligos is not None and alt_oligos[i]:
                oligo = codes_from_sequence(alt_oligos[i], where=f"alternative oligo {i + 1}")
            else:
                oligo = base.copy()
                oligo[off] = codes_from_sequence(allele, where=f"allele of oligo {i + 1}")[0]
            codes[k, i] = construct_codes(
                oligo, backbone, length=length, variant_offset=off, upstream=upstream
            )
    two_hot = one_hot(codes.reshape(2 * n, length)).reshape(2, n, 4, length) * np.uint8(2)
    return two_hot[0], two_hot[1]
