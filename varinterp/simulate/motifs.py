"""Transcription-factor motifs of the simulated world: IUPAC consensus strings and their PWMs.

Each motif is written as an IUPAC consensus (``W`` = A/T, ``S`` = C/G, ``R`` = A/G, ``Y`` =
C/T, ``K`` = G/T, ``M`` = A/C, ``N`` = any). A site *matches* when every base is allowed by
its consensus letter. A position-weight matrix is derived from the consensus (allowed bases
share probability ``1 - eps``, the others share ``eps``) for log-odds scoring against the
genome background.

Sequences are integer codes ``A=0, C=1, G=2, T=3, N=4`` (the project's one encoding).
A motif on the minus strand reads as the reverse complement of the plus-strand sequence.

The registry `MOTIFS` is a plain dict: later parts of the world (cell types, a GWAS locus)
add their own motifs with `register_motif`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "BASES",
    "IUPAC",
    "MOTIFS",
    "Motif",
    "allowed_mask",
    "decode",
    "encode",
    "motif_pwm",
    "pwm_score",
    "register_motif",
    "reverse_complement",
    "sample_instance",
    "site_matches",
]

BASES = "ACGT"

#: IUPAC letter -> the bases it allows.
IUPAC: dict[str, str] = {
    "A": "A",
    "C": "C",
    "G": "G",
    "T": "T",
    "W": "AT",
    "S": "CG",
    "R": "AG",
    "Y": "CT",
    "K": "GT",
    "M": "AC",
    "B": "CGT",
    "D": "AGT",
    "H": "ACT",
    "V": "ACG",
    "N": "ACGT",
}

_ENCODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _ENCODE[ord(_b)] = _i
    _ENCODE[ord(_b.lower())] = _i
_DECODE = np.frombuffer(b"ACGTN", dtype=np.uint8)


@dataclass(frozen=True)
class Motif:
    """A transcription-factor motif.

    ``consensus`` is IUPAC; ``factor`` names the binding protein(s); ``role`` is where the
    world plants it (``core`` promoter, ``promoter`` proximal, ``enhancer``);
    ``tss_offset`` is, for initiator-like motifs, the offset of the +1 nucleotide.
    """

    name: str
    consensus: str
    factor: str
    role: str
    tss_offset: int | None = None

    @property
    def length(self) -> int:
        return len(self.consensus)


MOTIFS: dict[str, Motif] = {}


def register_motif(motif: Motif) -> Motif:
    """Add `motif` to `MOTIFS` (a name already there must have the same definition)."""
    bad = set(motif.consensus) - set(IUPAC)
    if bad:
        msg = f"motif {motif.name}: consensus {motif.consensus!r} has non-IUPAC letters {bad}"
        raise ValueError(msg)
    old = MOTIFS.get(motif.name)
    if old is not None and old != motif:
        msg = f"motif {motif.name} is already registered with a different definition"
        raise ValueError(msg)
    MOTIFS[motif.name] = motif
    return motif


for _m in (
    # Core promoter.
    Motif("TATA", "TATAWAWR", "TBP (TATA box)", "core"),
    Motif("Inr", "YYANWYY", "initiator (TSS at the A)", "core", tss_offset=2),
    # Promoter-proximal activators.
    Motif("SP1", "GGGGCGGGG", "SP1/KLF (GC box)", "promoter"),
    Motif("ETS", "CCGGAAGT", "GABPA/ELK (ETS)", "promoter"),
    Motif("NRF1", "GCGCAYGCGC", "NRF1", "promoter"),
    # Enhancer factors.
    Motif("AP1", "TGASTCA", "FOS/JUN (AP-1, TRE)", "enhancer"),
    Motif("CEBP", "TTGCGCAA", "CEBPA/CEBPB", "enhancer"),
    Motif("NFKB", "GGGRNWYYCC", "RELA/NFKB1 (kappaB site)", "enhancer"),
    Motif("SPI1", "AAAGAGGAAGTG", "SPI1/PU.1 (myeloid, Kupffer cells)", "enhancer"),
    Motif("HNF4A", "RGGTCAAAGGTCA", "HNF4A (DR1, hepatocytes)", "enhancer"),
):
    register_motif(_m)


def encode(seq: str) -> np.ndarray:
    """DNA string -> ``(len(seq),) uint8`` codes A=0, C=1, G=2, T=3, other=4."""
    return _ENCODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def decode(codes: np.ndarray) -> str:
    """``(n,) uint8`` codes -> DNA string (code 4 -> ``N``)."""
    return _DECODE[np.asarray(codes, dtype=np.uint8)].tobytes().decode("ascii")


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement of ``(n,) uint8`` codes (N stays N); returns ``(n,) uint8``."""
    codes = np.asarray(codes, dtype=np.uint8)
    out = np.where(codes < 4, 3 - codes, 4).astype(np.uint8)
    return out[::-1].copy()


def allowed_mask(motif: Motif | str) -> np.ndarray:
    """``(length, 4) bool``: which bases (A, C, G, T) each consensus position allows."""
    motif = MOTIFS[motif] if isinstance(motif, str) else motif
    mask = np.zeros((motif.length, 4), dtype=bool)
    for i, letter in enumerate(motif.consensus):
        for b in IUPAC[letter]:
            mask[i, BASES.index(b)] = True
    return mask


def motif_pwm(motif: Motif | str, *, eps: float = 0.03) -> np.ndarray:
    """``(4, length) float64`` probabilities (rows A, C, G, T) derived from the consensus."""
    mask = allowed_mask(motif)
    n_ok = mask.sum(axis=1, keepdims=True)
    prob = np.where(mask, (1.0 - eps) / n_ok, eps / np.maximum(4 - n_ok, 1))
    prob = np.where(n_ok == 4, 0.25, prob)
    return prob.T.copy()


def _oriented(codes: np.ndarray, strand: str) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.uint8)
    return reverse_complement(codes) if strand == "-" else codes


def site_matches(codes: np.ndarray, motif: Motif | str, strand: str = "+") -> bool:
    """Whether the plus-strand ``codes`` of a site match `motif` read on `strand`."""
    mask = allowed_mask(motif)
    site = _oriented(codes, strand)
    if site.shape[0] != mask.shape[0] or (site > 3).any():
        return False
    return bool(mask[np.arange(site.shape[0]), site].all())


def pwm_score(
    codes: np.ndarray,
    motif: Motif | str,
    strand: str = "+",
    *,
    background: np.ndarray | None = None,
) -> float:
    """Log2-odds score of the plus-strand ``codes`` of a site for `motif` read on `strand`.

    `background` is ``(4,)`` base probabilities (default: 41% GC).
    """
    pwm = motif_pwm(motif)
    bg = np.array([0.295, 0.205, 0.205, 0.295]) if background is None else background
    site = _oriented(codes, strand)
    if site.shape[0] != pwm.shape[1] or (site > 3).any():
        return float("-inf")
    idx = np.arange(site.shape[0])
    return float(np.log2(pwm[site, idx] / bg[site]).sum())


def sample_instance(motif: Motif | str, rng: np.random.Generator) -> np.ndarray:
    """A random site matching `motif`, in motif orientation: ``(length,) uint8`` codes."""
    mask = allowed_mask(motif)
    u = rng.random(mask.shape[0])
    n_ok = mask.sum(axis=1)
    pick = np.minimum((u * n_ok).astype(np.int64), n_ok - 1)
    # index of the pick-th allowed base in each row
    order = np.cumsum(mask, axis=1) - 1
    hit = mask & (order == pick[:, None])
    return np.argmax(hit, axis=1).astype(np.uint8)
