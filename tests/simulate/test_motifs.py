from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from varinterp.simulate.motifs import (
    MOTIFS,
    Motif,
    allowed_mask,
    decode,
    encode,
    motif_pwm,
    pwm_score,
    register_motif,
    reverse_complement,
    sample_instance,
    site_matches,
)


def test_encode_decode_round_trip():
    assert decode(encode("ACGTNacgt")) == "ACGTNACGT"
    assert encode("ACGTN").tolist() == [0, 1, 2, 3, 4]


def test_reverse_complement_by_hand():
    assert decode(reverse_complement(encode("AACGTN"))) == "NACGTT"


def test_known_consensus_strings():
    assert MOTIFS["SP1"].consensus == "GGGGCGGGG"
    assert MOTIFS["ETS"].consensus == "CCGGAAGT"
    assert MOTIFS["AP1"].consensus == "TGASTCA"
    assert MOTIFS["Inr"].consensus[MOTIFS["Inr"].tss_offset] == "A"
    assert "TATAAA" in MOTIFS["TATA"].consensus.replace("W", "A").replace("R", "A")


def test_site_matches_both_strands():
    assert site_matches(encode("TATAAAAG"), "TATA", "+")
    assert not site_matches(encode("TATAAAAG"), "TATA", "-")
    assert site_matches(reverse_complement(encode("TATAAAAG")), "TATA", "-")
    assert not site_matches(encode("TATCAAAG"), "TATA", "+")
    assert not site_matches(encode("TATAAAA"), "TATA", "+")  # wrong length


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(MOTIFS)), seed=st.integers(0, 2**32 - 1))
def test_sampled_instances_match_and_score_high(name, seed):
    inst = sample_instance(name, np.random.default_rng(seed))
    assert site_matches(inst, name, "+")
    assert site_matches(reverse_complement(inst), name, "-")
    # every single-base change at a fixed position lowers the PWM score
    mask = allowed_mask(name)
    fixed = np.flatnonzero(mask.sum(axis=1) == 1)
    if fixed.size:
        broken = inst.copy()
        broken[fixed[0]] = (inst[fixed[0]] + 1) % 4
        assert not site_matches(broken, name, "+")
        assert pwm_score(broken, name) < pwm_score(inst, name)


def test_pwm_columns_are_probabilities():
    for name in MOTIFS:
        pwm = motif_pwm(name)
        assert pwm.shape == (4, MOTIFS[name].length)
        np.testing.assert_allclose(pwm.sum(axis=0), 1.0)


def test_register_motif_rejects_conflicts_and_bad_letters():
    with pytest.raises(ValueError, match="different definition"):
        register_motif(Motif("SP1", "GGGGCGGGGC", "x", "promoter"))
    with pytest.raises(ValueError, match="non-IUPAC"):
        register_motif(Motif("bad", "ACGX", "x", "enhancer"))
    assert register_motif(MOTIFS["SP1"]) is MOTIFS["SP1"]
