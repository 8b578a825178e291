from __future__ import annotations

import numpy as np
import pytest

from varinterp.simulate.reference import (
    chromosome_sizes,
    dinucleotide_chain,
    make_reference,
    sample_markov,
)


@pytest.mark.parametrize(("gc", "cpg"), [(0.41, 0.25), (0.64, 0.8), (0.35, 0.2)])
def test_chain_stationary_law_hits_targets(gc, cpg):
    trans = dinucleotide_chain(gc, cpg)
    np.testing.assert_allclose(trans.sum(axis=1), 1.0)
    # stationary distribution from a matrix power (independent of the construction)
    stat = np.linalg.matrix_power(trans, 500)[0]
    assert stat[1] + stat[2] == pytest.approx(gc, abs=1e-6)
    cg_oe = stat[1] * trans[1, 2] / (stat[1] * stat[2])
    assert cg_oe == pytest.approx(cpg, abs=1e-4)


def test_sampled_chain_has_target_composition():
    rng = np.random.default_rng(0)
    seq = sample_markov(400_000, dinucleotide_chain(0.41, 0.25), rng)
    gc = np.isin(seq, (1, 2)).mean()
    cpg = ((seq[:-1] == 1) & (seq[1:] == 2)).mean() / ((seq == 1).mean() * (seq == 2).mean())
    assert gc == pytest.approx(0.41, abs=0.01)
    assert cpg == pytest.approx(0.25, abs=0.03)


def test_chromosome_sizes_sum_and_order():
    sizes = chromosome_sizes(1_500_000, 3)
    assert list(sizes) == ["chr1", "chr2", "chr3"]
    assert sum(sizes.values()) == 1_500_000
    assert sizes["chr1"] > sizes["chr2"] > sizes["chr3"]


def test_make_reference_is_seeded():
    a = make_reference(rng=np.random.default_rng(5), genome_size=50_000, n_chromosomes=2)
    b = make_reference(rng=np.random.default_rng(5), genome_size=50_000, n_chromosomes=2)
    c = make_reference(rng=np.random.default_rng(6), genome_size=50_000, n_chromosomes=2)
    assert all(np.array_equal(a.sequences[k], b.sequences[k]) for k in a.names)
    assert not np.array_equal(a.sequences["chr1"], c.sequences["chr1"])
    assert a.size == 50_000


def test_world_genome_is_human_like(world):
    ref = world.reference
    assert 0.38 <= ref.gc_fraction() <= 0.45
    assert 0.15 <= ref.cpg_observed_expected() <= 0.4
    assert set(np.unique(np.concatenate(list(ref.sequences.values())))) == {0, 1, 2, 3}


@pytest.mark.parametrize("n", [1, 7, 64, 1000, 5003])
def test_vectorised_chain_equals_a_naive_loop(n):
    trans = dinucleotide_chain(0.45, 0.3)
    cum = np.cumsum(trans, axis=1)
    got = sample_markov(n, trans, np.random.default_rng(n), previous=2)
    u = np.random.default_rng(n).random(n)  # the same uniforms, walked one by one
    state, want = 2, []
    for x in u:
        b = 0
        while b < 3 and x >= cum[state, b]:
            b += 1
        want.append(b)
        state = b
    assert got.dtype == np.uint8
    assert got.tolist() == want
