"""The ground-truth PRO-cap grammar on hand-made sequences."""

from __future__ import annotations

import numpy as np
import pytest

from varinterp.simulate.motifs import (
    MOTIFS,
    encode,
    reverse_complement,
    sample_instance,
    site_matches,
)
from varinterp.simulate.procap_grammar import (
    DEFAULT_GRAMMAR,
    Anchor,
    initiation,
    motif_hits,
    reach,
)

W, P = 800, 400  # window width, anchor position
INR = "TCAGTCT"  # YYANWYY with its A (the +1) at index 2
TATA = "TATAAAAG"  # TATAWAWR
G = DEFAULT_GRAMMAR


def _seq(*edits: tuple[int, str]) -> np.ndarray:
    """All-G background (no motif of the grammar matches it) with `edits` written in."""
    s = np.full(W, 2, dtype=np.uint8)
    for start, text in edits:
        s[start : start + len(text)] = encode(text)
    return s


def _rate(seq: np.ndarray, strand: str = "+", base: float = 1.0) -> float:
    rates, _ = initiation(seq[None], [Anchor(P, strand, base)], with_profile=False)
    return float(rates[0, 0])


def test_background_has_no_motif_and_initiates_weakly_dispersed():
    seq = _seq()
    rates, prof = initiation(seq[None], [Anchor(P, "+", 2.0)])
    assert rates[0, 0] == pytest.approx(2.0 * G.inr_absent)
    assert prof[0, 1].sum() == 0  # nothing on the minus strand
    assert prof[0, 0].sum() == pytest.approx(rates[0, 0])
    # dispersed: symmetric Gaussian centred on the anchor, no base above 10% of the rate
    assert np.argmax(prof[0, 0]) == P
    assert prof[0, 0].max() < 0.1 * rates[0, 0]
    np.testing.assert_allclose(prof[0, 0, P - 5], prof[0, 0, P + 5])


def test_inr_at_the_tss_gives_a_narrow_peak_of_the_base_rate():
    seq = _seq((P - 2, INR))
    rates, prof = initiation(seq[None], [Anchor(P, "+", 1.5)])
    assert rates[0, 0] == pytest.approx(1.5)
    np.testing.assert_allclose(prof[0, 0, P - 2 : P + 3], 1.5 * np.array(G.peak_kernel))
    assert prof[0, 0].sum() == pytest.approx(1.5)


def test_adding_a_tata_box_multiplies_the_rate_by_the_documented_factor():
    without = _rate(_seq((P - 2, INR)))
    for upstream in range(G.tata_upstream[0], G.tata_upstream[1] + 1):
        with_tata = _rate(_seq((P - 2, INR), (P - upstream, TATA)))
        assert with_tata / without == pytest.approx(G.tata_factor)
    # too far upstream, or on the other strand: no effect
    assert _rate(_seq((P - 2, INR), (P - 45, TATA))) == pytest.approx(without)
    rc = "".join("ACGT"[3 - "ACGT".index(b)] for b in reversed(TATA))
    assert _rate(_seq((P - 2, INR), (P - 31, rc))) == pytest.approx(without)


def test_gc_boxes_add_log2_coefficients_up_to_the_cap():
    base = _rate(_seq((P - 2, INR)))
    one_c = _rate(_seq((P - 2, INR), (P - 100, "C")))  # one GGGGCGGGG in the G background
    assert np.log2(one_c / base) == pytest.approx(G.activator_log2["SP1"])
    two_c = _rate(_seq((P - 2, INR), (P - 100, "C"), (P - 150, "C")))
    assert np.log2(two_c / base) == pytest.approx(2 * G.activator_log2["SP1"])
    many = [(P - 200 + 12 * i, "C") for i in range(12)]
    assert np.log2(_rate(_seq((P - 2, INR), *many)) / base) == pytest.approx(G.activator_cap)
    # outside the window (more than activator_up bp upstream): no effect
    far = _rate(_seq((P - 2, INR), (P - G.activator_up - 20, "C")))
    assert far == pytest.approx(base)


def test_breaking_the_inr_abolishes_or_moves_the_tss():
    intact = _seq((P - 2, INR))
    broken = intact.copy()
    broken[P] = 2  # A -> G at the +1
    assert _rate(broken) == pytest.approx(G.inr_absent)
    # a second Inr 5 bp downstream takes over: the TSS moves there, weaker by 2^(-5/decay)
    moved = broken.copy()
    moved[P + 3 : P + 10] = encode(INR)  # its A at P + 5
    rates, prof = initiation(moved[None], [Anchor(P, "+", 1.0)])
    assert rates[0, 0] == pytest.approx(2 ** (-5 / G.inr_decay))
    assert np.argmax(prof[0, 0]) == P + 5


def test_minus_strand_is_the_mirror_image_of_plus():
    rng = np.random.default_rng(4)
    seqs = rng.integers(0, 4, size=(30, W)).astype(np.uint8)
    seqs[:10, P - 2 : P + 5] = encode(INR)
    seqs[5:15, P - 31 : P - 23] = encode(TATA)
    anchors = [Anchor(P, "+", 1.0), Anchor(P - 110, "-", 0.5), Anchor(P + 40, "-", 0.7)]
    rates, prof = initiation(seqs, anchors)
    rc = np.stack([reverse_complement(s) for s in seqs])
    mirrored = [Anchor(W - 1 - a.offset, "-" if a.strand == "+" else "+", a.base) for a in anchors]
    rates_rc, prof_rc = initiation(rc, mirrored)
    np.testing.assert_allclose(rates_rc, rates)
    np.testing.assert_allclose(prof_rc, prof[:, ::-1, ::-1])


@pytest.mark.parametrize("motif", ["Inr", "TATA", "SP1", "NFKB", "HNF4A"])
def test_motif_hits_match_a_naive_scan(motif):
    rng = np.random.default_rng(1)
    seqs = rng.integers(0, 5, size=(2, 800)).astype(np.uint8)
    for start in (100, 300):  # plant one site per strand so that positives exist
        inst = sample_instance(motif, rng)
        seqs[0, start : start + inst.size] = inst
        seqs[1, start : start + inst.size] = reverse_complement(inst)
    for strand in "+-":
        hits = motif_hits(seqs, motif, strand)
        assert hits[:, [100, 300]].any(axis=0).all()
        length = seqs.shape[1] - hits.shape[1] + 1
        naive = np.array(
            [
                [site_matches(s[j : j + length], motif, strand) for j in range(hits.shape[1])]
                for s in seqs
            ]
        )
        np.testing.assert_array_equal(hits, naive)


def test_anchor_too_close_to_the_window_edge_is_rejected():
    margin, _ = reach(G)
    with pytest.raises(ValueError, match="needs"):
        initiation(_seq()[None], [Anchor(margin - 1, "+", 1.0)])


def _naive_rate(seq: np.ndarray, a: Anchor) -> float:
    """The documented rule, written out with `site_matches` one window at a time."""
    sign = 1 if a.strand == "+" else -1

    def oriented(start_up: int, length: int) -> np.ndarray:
        """Plus-strand codes of the site whose first oriented base is `start_up` bp
        downstream (negative: upstream) of the anchor."""
        first = a.offset + sign * start_up
        lo = first if sign == 1 else first - length + 1
        return seq[lo : lo + length]

    weights = [
        2 ** (-abs(d) / G.inr_decay)
        for d in range(-G.inr_search, G.inr_search + 1)
        if site_matches(oriented(d - 2, 7), "Inr", a.strand)
    ]
    f_inr = min(1.0, sum(weights)) if weights else G.inr_absent
    tata = any(
        site_matches(oriented(-u, 8), "TATA", a.strand)
        for u in range(G.tata_upstream[0], G.tata_upstream[1] + 1)
    )
    lo, hi = (
        (a.offset - G.activator_up, a.offset + G.activator_down)
        if a.strand == "+"
        else (a.offset - G.activator_down, a.offset + G.activator_up)
    )
    act = 0.0
    for name, coef in G.activator_log2.items():
        length = len(MOTIFS[name].consensus)
        for j in range(lo, hi - length + 2):
            window = seq[j : j + length]
            if site_matches(window, name, "+") or site_matches(window, name, "-"):
                act += coef
    return a.base * f_inr * (G.tata_factor if tata else 1.0) * 2 ** min(act, G.activator_cap)


def test_vectorised_rates_equal_the_naive_rule_on_random_promoters():
    rng = np.random.default_rng(11)
    seqs = rng.integers(0, 4, size=(6, W)).astype(np.uint8)
    for r, seq in enumerate(seqs):  # plant a varying grammar on each row
        if r % 2 == 0:
            seq[P - 2 : P + 5] = encode(INR)
        if r % 3 == 0:
            seq[P - 31 : P - 23] = encode(TATA)
        for k in range(r):
            name = ["SP1", "ETS", "NRF1", "AP1"][k % 4]
            inst = sample_instance(name, rng)
            start = P - 240 + 45 * k
            seq[start : start + inst.size] = inst if k % 2 else reverse_complement(inst)
        seq[P - 113 : P - 106] = reverse_complement(encode(INR))  # antisense Inr, A at P-110
    anchors = [Anchor(P, "+", 1.0), Anchor(P - 110, "-", 0.5), Anchor(P + 3, "+", 0.3)]
    rates, prof = initiation(seqs, anchors)
    for r, seq in enumerate(seqs):
        for k, a in enumerate(anchors):
            assert rates[r, k] == pytest.approx(_naive_rate(seq, a)), (r, k)
    np.testing.assert_allclose(prof.sum(axis=(1, 2)), rates.sum(axis=1))
