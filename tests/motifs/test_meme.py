"""Reading and writing MEME files; log-odds matrices are refused."""

from __future__ import annotations

import numpy as np
import pytest

from tests.motifs._toys import toy_motifs, write_toy_meme
from varinterp.errors import InputError
from varinterp.motifs.archetypes import default_clusters, default_motifs
from varinterp.motifs.meme import read_meme


def test_round_trip(tmp_path):
    path = write_toy_meme(tmp_path / "toy.meme")
    back = read_meme(path)
    want = toy_motifs()
    assert back.names == want.names
    for a, b in zip(back.matrices, want.matrices, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_log_odds_block_is_refused(tmp_path):
    path = tmp_path / "lo.meme"
    path.write_text(
        "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF X\nlog-odds matrix: alength= 4 w= 2\n"
        "1.2 -0.5 -2 -2\n-2 -2 1.9 -1\n"
    )
    with pytest.raises(InputError, match="log-odds"):
        read_meme(path)


def test_log_odds_values_in_a_probability_block_are_refused(tmp_path):
    path = tmp_path / "lo2.meme"
    path.write_text(
        "MEME version 4\n\nALPHABET= ACGT\n\nMOTIF X\nletter-probability matrix: alength= 4 w= 2\n"
        "1.2 -0.5 -2 -2\n-2 -2 1.9 -1\n"
    )
    with pytest.raises(InputError, match="log-odds or counts"):
        read_meme(path)


def test_not_a_meme_file(tmp_path):
    path = tmp_path / "x.meme"
    path.write_text(">seq\nACGT\n")
    with pytest.raises(InputError, match="not a MEME"):
        read_meme(path)


def test_the_shipped_collection_and_its_clusters():
    motifs = default_motifs()
    assert len(motifs) == 2179
    assert not any(n.startswith(("DNASE_", "TN5_")) for n in motifs.names)
    clusters = default_clusters()
    of = clusters.for_motifs(motifs)
    assert (of >= 0).all() and len(clusters.names) == 331
    ctcf = motifs.matrix("CTCF_MA0139.1")
    assert ctcf.shape == (4, 19)
    np.testing.assert_allclose(ctcf.sum(axis=0), 1.0, atol=1e-6)
    # the human CTCF matrices fall into one cluster
    group = {
        clusters.clusters[clusters.motifs.index(n)]
        for n in ("CTCF_MA0139.1", "CTCF_HUMAN.H11MO.0.A", "CTCF_C2H2_1")
    }
    assert len(group) == 1
