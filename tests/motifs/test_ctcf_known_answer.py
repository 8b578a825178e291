"""Known answer: the human CTCF matrix (JASPAR MA0139.1, chosen by matrix ID) finds its
site in real GM12878 CTCF ChIP peaks and rarely in their dinucleotide shuffles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from varinterp.genome.encoding import codes_from_sequence, one_hot
from varinterp.motifs.archetypes import default_motifs
from varinterp.motifs.scan import scan_hits

FASTA = (
    Path(__file__).resolve().parents[1] / "data" / "gm12878_ctcf" / "Gm12878.CTCF.top500.w200.fa"
)


def _peaks() -> np.ndarray:
    seqs = [line.strip() for line in FASTA.read_text().splitlines() if not line.startswith(">")]
    assert len(seqs) == 500
    return np.stack([codes_from_sequence(s) for s in seqs])


def test_ctcf_hits_real_peaks_not_their_shuffles():
    from tangermeme.ersatz import dinucleotide_shuffle

    motifs = default_motifs()
    ctcf = motifs.subset([n for n in motifs.names if n.split("_")[-1] == "MA0139.1"])
    assert ctcf.names == ("CTCF_MA0139.1",)
    x = one_hot(_peaks()).astype(np.float32)
    hits = scan_hits(ctcf, x, threshold=1e-4)
    real = hits["region"].nunique() / 500
    shuffled = dinucleotide_shuffle(torch.from_numpy(x), n=1, random_state=0).numpy()[:, 0]
    shuf_hits = scan_hits(ctcf, shuffled.astype(np.float32), threshold=1e-4)
    null = shuf_hits["region"].nunique() / 500
    assert real >= 0.85, real
    assert null <= 0.25, null
