"""`realign_tracks`: a track measured on the reference, read in haplotype coordinates."""

from __future__ import annotations

import numpy as np

from tests.genome._cohort import write_cohort
from varinterp.genome.build import build_store
from varinterp.genome.realign import realign_tracks
from varinterp.genome.store import GenomeStore


def test_realign_by_hand():
    track = np.arange(10, dtype=np.float32)[None, None, :] + 100  # ref 5..14 -> 100..109
    coords = np.array([[5, 6, -1, -1, 7, 9, 10, 20]])  # an insertion, a deletion of 8
    got = realign_tracks(track, coords, 5, fill=-1.0)
    assert got.tolist() == [[[100, 101, -1, -1, 102, 104, 105, -1]]]


def test_realign_follows_the_store_coordinates(tmp_path):
    records = [
        "chr1\t3\td\tGTA\tG\t.\t.\t.\tGT\t1|0\t0|0",  # deletes 0-based 3, 4 on haplotype 1
        "chr1\t8\ti\tT\tTCC\t.\t.\t.\tGT\t0|1\t0|0",  # inserts CC after 0-based 7 on hap 2
    ]
    fasta, vcf = write_cohort(tmp_path, records)
    build_store(vcf=vcf, fasta=fasta, out=tmp_path / "s.vgs")
    store = GenomeStore.open(tmp_path / "s.vgs")
    _, coords = store.haplotype_codes("s1", "chr1", 0, 12, return_coordinates=True)
    signal = np.stack([np.arange(40.0), -np.arange(40.0)])[None]  # plus, minus on chr1
    got = realign_tracks(signal, coords, 0)
    assert got.shape == (1, 2, 2, 12)
    np.testing.assert_array_equal(got[0, 0, 0], [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    np.testing.assert_array_equal(got[0, 1, 0], [0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 8, 9])
    np.testing.assert_array_equal(got[0, 1, 1], -got[0, 1, 0])
    # the reference haplotype of s2 reads the track unchanged
    _, ref_coords = store.haplotype_codes("s2", "chr1", 0, 12, return_coordinates=True)
    np.testing.assert_array_equal(realign_tracks(signal, ref_coords, 0)[0, 0], signal[0, :, :12])
