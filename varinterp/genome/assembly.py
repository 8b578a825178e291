"""Which genome build a FASTA is, and whether inputs agree with it.

`guess_assembly` names the assembly whose primary chromosome lengths a contig table
matches (GRCh37, GRCh38, T2T-CHM13, mm10, mm39; ``chr`` prefixes ignored).
`check_ref_agreement` stops a run whose REF alleles disagree with the FASTA at a rate
that a correct build never gives (more than `MISMATCH_LIMIT`), naming the FASTA's build:
the usual cause is a VCF on one build and a FASTA on another. `past_contig_end` is the
message for a window or region that runs past a contig's end.
"""

from __future__ import annotations

from collections.abc import Mapping

from varinterp.errors import InputError

__all__ = [
    "ASSEMBLIES",
    "MISMATCH_LIMIT",
    "check_ref_agreement",
    "guess_assembly",
    "past_contig_end",
]

#: Fraction of SNV REF alleles disagreeing with the FASTA above which a run stops.
MISMATCH_LIMIT = 0.05
#: Fewest REF checks before the rate is judged (a handful of typos is not a build).
MIN_CHECKED = 20

_CHROMS = [*(str(i) for i in range(1, 23)), "X", "Y"]
#: Primary chromosome lengths (UCSC chrom.sizes) of the assemblies recognised.
ASSEMBLIES: dict[str, dict[str, int]] = {
    "GRCh38": dict(
        zip(
            _CHROMS,
            [248956422, 242193529, 198295559, 190214555, 181538259, 170805979, 159345973,
             145138636, 138394717, 133797422, 135086622, 133275309, 114364328, 107043718,
             101991189, 90338345, 83257441, 80373285, 58617616, 64444167, 46709983,
             50818468, 156040895, 57227415],
            strict=True,
        )
    ),
    "GRCh37": dict(
        zip(
            _CHROMS,
            [249250621, 243199373, 198022430, 191154276, 180915260, 171115067, 159138663,
             146364022, 141213431, 135534747, 135006516, 133851895, 115169878, 107349540,
             102531392, 90354753, 81195210, 78077248, 59128983, 63025520, 48129895,
             51304566, 155270560, 59373566],
            strict=True,
        )
    ),
    "T2T-CHM13": dict(
        zip(
            _CHROMS,
            [248387328, 242696752, 201105948, 193574945, 182045439, 172126628, 160567428,
             146259331, 150617247, 134758134, 135127769, 133324548, 113566686, 101161492,
             99753195, 96330374, 84276897, 80542538, 61707364, 66210255, 45090682,
             51324926, 154259566, 62460029],
            strict=True,
        )
    ),
    "mm10": dict(
        zip(
            [*(str(i) for i in range(1, 20)), "X", "Y"],
            [195471971, 182113224, 160039680, 156508116, 151834684, 149736546, 145441459,
             129401213, 124595110, 130694993, 122082543, 120129022, 120421639, 124902244,
             104043685, 98207768, 94987271, 90702639, 61431566, 171031299, 91744698],
            strict=True,
        )
    ),
    "mm39": dict(
        zip(
            [*(str(i) for i in range(1, 20)), "X", "Y"],
            [195154279, 181755017, 159745316, 156860686, 151758149, 149588044, 144995196,
             130127694, 124359700, 130530862, 121973369, 120092757, 120883175, 125139656,
             104073951, 98008968, 95294699, 90720763, 61420004, 169476592, 91455967],
            strict=True,
        )
    ),
}  # fmt: skip


def _bare(name: str) -> str:
    return name[3:] if name.lower().startswith("chr") else name


def guess_assembly(lengths: Mapping[str, int]) -> str | None:
    """The assembly in `ASSEMBLIES` that `lengths` (contig -> length) matches, or None.

    A match needs every primary chromosome present in `lengths` to have that assembly's
    length, and at least one such chromosome.
    """
    bare = {_bare(k): int(v) for k, v in lengths.items()}
    for name, table in ASSEMBLIES.items():
        shared = [c for c in table if c in bare]
        if shared and all(bare[c] == table[c] for c in shared):
            return name
    return None


def _build_phrase(lengths: Mapping[str, int] | None) -> str:
    build = guess_assembly(lengths) if lengths else None
    return f"the FASTA is {build}" if build else "the FASTA matches no assembly varinterp knows"


def check_ref_agreement(
    *,
    checked: int,
    mismatched: int,
    lengths: Mapping[str, int] | None,
    source: str,
    force: bool = False,
) -> float:
    """The fraction of REF mismatches; an `InputError` above `MISMATCH_LIMIT` unless `force`.

    `checked` counts the SNV REF alleles compared with the FASTA (mismatches included),
    `mismatched` those that disagreed; `lengths` is the FASTA's contig table (to name its
    build); `source` names the variants in the message (e.g. ``"VCF x.vcf.gz"``).
    """
    rate = mismatched / checked if checked else 0.0
    if checked >= MIN_CHECKED and rate > MISMATCH_LIMIT and not force:
        msg = (
            f"{source}: {mismatched:,} of {checked:,} REF alleles ({rate:.0%}) disagree "
            f"with the reference; {_build_phrase(lengths)}, so the variants are likely on "
            "another genome build: use the matching FASTA (or lift the variants over), or "
            "pass --force to go on"
        )
        raise InputError(msg)
    return rate


def past_contig_end(chrom: str, end: int, length: int, lengths: Mapping[str, int]) -> str:
    """The message for a window or region ending at `end` past `chrom`'s `length`."""
    return (
        f"{chrom}:{end:,} is past the end of {chrom} ({length:,} bp in the reference; "
        f"{_build_phrase(lengths)}): the coordinates are likely on another genome build"
    )
