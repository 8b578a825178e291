"""Stores of the previous release (format version 1) open as they are and upgrade.

``tests/data/genome_store_v1`` holds a version-1 store written by the previous release
(three samples, two SNVs at one position, an insertion it skipped, an unphased call)
and the windows, haplotypes and dosages that release read from it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from varinterp.errors import InputError
from varinterp.genome.store import GenomeStore
from varinterp.genome.upgrade import upgrade_store

DATA = Path(__file__).resolve().parents[1] / "data" / "genome_store_v1"


def _same_as_previous_release(store: GenomeStore) -> None:
    expected = np.load(DATA / "v1.vgs.expected.npz")
    starts = expected["starts"]
    for s in range(3):
        np.testing.assert_array_equal(store.windows(s, "chr1", starts, 7), expected[f"two_hot_{s}"])
        for anchor in ("start", "end", "centre"):
            np.testing.assert_array_equal(
                store.haplotype_codes(s, "chr1", starts, 7, anchor=anchor), expected[f"codes_{s}"]
            )
    dosages = np.stack([store.dosages(v) for v in range(store.n_variants)])
    # rs2b (T>C) shares rs2's position: its calls on haplotypes that already carry rs2's
    # G or A are dropped (the sequence never had them); the other counts are unchanged
    keep = np.arange(store.n_variants) != 3
    np.testing.assert_array_equal(dosages[keep], expected["dosages"][keep])
    assert dosages[3].tolist() == [0, 1, 2] and expected["dosages"][3].tolist() == [2, 1, 2]
    assert not store.is_phased() and store.is_phased(["s1", "s2"])


def test_previous_release_store_opens_and_reads_the_same():
    store = GenomeStore.open(DATA / "v1.vgs")
    assert store.version == 1
    _same_as_previous_release(store)
    assert store.variants()["alt"].tolist() == ["T", "G", "A", "C", "G", "C"]


def test_upgrade_writes_a_current_store_that_reads_the_same(tmp_path):
    copy = tmp_path / "old.vgs"
    shutil.copytree(DATA / "v1.vgs", copy)
    upgrade_store(store=copy, out=tmp_path / "new.vgs")
    new = GenomeStore.open(tmp_path / "new.vgs")
    assert new.version == 2
    _same_as_previous_release(new)
    assert new.meta["counts"]["overlapping_calls_dropped"] > 0  # the SNV at a taken position
    with pytest.raises(InputError, match="already format version 2"):
        upgrade_store(store=tmp_path / "new.vgs", out=tmp_path / "again.vgs")
