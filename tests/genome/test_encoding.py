from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from varinterp.errors import InputError
from varinterp.genome.encoding import (
    codes_from_sequence,
    iupac_to_two_hot,
    one_hot,
    reverse_complement,
    sequence_from_codes,
    two_hot,
    two_hot_to_iupac,
)

COMPLEMENT = str.maketrans("ACGTRYSWKMN", "TGCAYRSWMKN")


def test_hand_checked_aycr():
    # rows are positions, columns A, C, G, T (the array itself is channel-first)
    expected = [[2, 0, 0, 0], [0, 1, 0, 1], [0, 2, 0, 0], [1, 0, 1, 0]]
    x = iupac_to_two_hot("AYCR")
    assert x.shape == (4, 4) and x.dtype == np.uint8
    assert x.T.tolist() == expected
    assert two_hot_to_iupac(x) == "AYCR"


def test_het_two_hot_from_haplotypes():
    haps = np.stack([codes_from_sequence("AGN"), codes_from_sequence("GGT")])
    assert two_hot(haps).T.tolist() == [[1, 0, 1, 0], [0, 0, 2, 0], [0, 0, 0, 1]]


def test_one_hot_against_naive_loop():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 5, size=(7, 33)).astype(np.uint8)
    fast = one_hot(codes)
    naive = np.zeros((7, 4, 33), dtype=np.uint8)
    for i in range(7):
        for j in range(33):
            if codes[i, j] < 4:
                naive[i, codes[i, j], j] = 1
    np.testing.assert_array_equal(fast, naive)
    assert fast.dtype == np.uint8


@given(st.text(alphabet="ACGTRYSWKMN", min_size=1, max_size=60))
def test_reverse_complement_is_flip_for_every_iupac_code(seq):
    x = iupac_to_two_hot(seq)
    rc = reverse_complement(x)
    assert two_hot_to_iupac(rc) == seq.translate(COMPLEMENT)[::-1]
    np.testing.assert_array_equal(reverse_complement(rc), x)


@given(st.text(alphabet="ACGTN", min_size=1, max_size=60), st.text(alphabet="ACGTN", min_size=0))
def test_two_hot_round_trip_through_iupac(a, b):
    b = (b + "A" * len(a))[: len(a)]
    haps = np.stack([codes_from_sequence(a), codes_from_sequence(b)])
    x = two_hot(haps)
    y = iupac_to_two_hot(two_hot_to_iupac(x))
    # a column with one N allele is not two alleles' worth: IUPAC writes N
    full = (haps < 4).all(axis=0)
    np.testing.assert_array_equal(y[:, full], x[:, full])
    assert (y[:, ~full] == 0).all()


def test_lower_case_and_iupac_reference_letters():
    assert sequence_from_codes(codes_from_sequence("acgtRYn")) == "ACGTNNN"


def test_bad_characters_name_offset():
    with pytest.raises(InputError, match=r"'-' at offset 2"):
        codes_from_sequence("AC-T")
    with pytest.raises(InputError, match="two alleles cannot make"):
        iupac_to_two_hot("AB")
