"""Small motif sets and sequences for the motif tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from varinterp.genome.encoding import one_hot
from varinterp.motifs.meme import MotifSet, write_meme


def consensus_matrix(consensus: str, strength: float = 0.91) -> np.ndarray:
    """A ``(4, w)`` probability matrix with `strength` on each consensus base."""
    m = np.full((4, len(consensus)), (1 - strength) / 3)
    for i, b in enumerate(consensus):
        m["ACGT".index(b), i] = strength
    return m


def toy_motifs() -> MotifSet:
    names = ("AP1", "AP1b", "CTCFish", "GATA")
    mats = (
        consensus_matrix("TGACTCA"),
        consensus_matrix("TGAGTCA", 0.85),
        consensus_matrix("CCGCGAGGG"),
        consensus_matrix("AGATAA"),
    )
    return MotifSet(names, mats, source="toy")


def write_toy_meme(path: Path) -> Path:
    return write_meme(toy_motifs(), path)


def planted_sequences(n: int, length: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Random sequences with planted AP1/GATA/CTCF-like sites -> (strings, (n,4,L) one-hot)."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        s = list(rng.choice(list("ACGT"), length))
        for site in ("TGACTCA", "AGATAA", "CCGCGAGGG", "TGAGTCA"):
            if rng.random() < 0.6:
                at = int(rng.integers(0, length - len(site)))
                s[at : at + len(site)] = list(site)
        seqs.append("".join(s))
    codes = np.array([["ACGT".index(b) for b in s] for s in seqs], dtype=np.uint8)
    return seqs, one_hot(codes).astype(np.float32)


def write_fasta(path: Path, records: dict[str, str]) -> Path:
    path.write_text("".join(f">{k}\n{v}\n" for k, v in records.items()))
    return path
