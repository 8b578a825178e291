from __future__ import annotations

import itertools

import numpy as np
from scipy import stats

from varinterp.simulate.cohort import neutral_sfs
from varinterp.simulate.motifs import BASES


def test_shapes_and_dtypes(world):
    c = world.cohort
    assert c.haplotypes.shape == (c.n_variants, 60, 2)
    assert c.haplotypes.dtype == np.int8
    assert set(np.unique(c.haplotypes)) <= {0, 1}
    assert c.pos.dtype == np.int64
    assert len(set(c.samples)) == 60
    assert c.dosages().shape == (c.n_variants, 60)


def test_sorted_unique_biallelic_and_ref_matches(world):
    c = world.cohort
    order = {n: i for i, n in enumerate(world.reference.names)}
    keys = [(order[ch], p) for ch, p in zip(c.chrom, c.pos, strict=True)]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert (c.ref != c.alt).all()
    for ch, p, r in zip(c.chrom, c.pos, c.ref, strict=True):
        assert BASES[world.reference.sequences[ch][p]] == r


def test_snp_density_about_one_per_300bp(world):
    density = world.cohort.n_variants / world.reference.size
    assert 1 / 360 < density < 1 / 250


def test_every_variant_segregates(world):
    counts = world.cohort.alt_counts()
    assert counts.min() >= 1 and counts.max() <= 119


def test_transitions_outnumber_transversions(world):
    c = world.cohort
    ts = {("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")}
    n_ts = sum((r, a) in ts for r, a in zip(c.ref, c.alt, strict=True))
    ratio = n_ts / (c.n_variants - n_ts)
    assert 1.6 < ratio < 2.5


def test_site_frequency_spectrum_is_neutral(world):
    truth = world.truth
    counts = truth.loc[truth["class"].isin(["background", "element"]), "alt_count"].to_numpy()
    n_hap = 120
    edges = [1, 2, 3, 5, 9, 17, 33, 65, n_hap]
    observed = np.array([((counts >= a) & (counts < b)) for a, b in itertools.pairwise(edges)]).sum(
        axis=1
    )
    law = neutral_sfs(n_hap)
    expected = np.array([law[a:b].sum() for a, b in itertools.pairwise(edges)])
    expected = expected / expected.sum() * observed.sum()
    assert stats.chisquare(observed, expected).pvalue > 1e-3
    # more rare than common: singletons > doubletons > ..., and MAF < 5% dominates
    per_k = np.bincount(counts, minlength=n_hap + 1)
    assert per_k[1] > per_k[2] > per_k[3] > per_k[4] > per_k[8]
    maf = np.minimum(counts, n_hap - counts) / n_hap
    assert (maf < 0.05).mean() > (maf > 0.25).mean()


def test_neutral_sfs_law():
    law = neutral_sfs(10)
    assert law[0] == law[10] == 0
    np.testing.assert_allclose(law[1] / law[2], 2.0)
    assert neutral_sfs(10, k_min=2)[1] == 0
    np.testing.assert_allclose(law.sum(), 1.0)


def test_linkage_disequilibrium_decays_with_distance(world):
    c = world.cohort
    mask = c.chrom == "chr1"
    hap = c.haplotypes[mask].reshape(mask.sum(), -1).astype(float)
    pos = c.pos[mask]
    freq = hap.mean(axis=1)
    keep = (freq > 0.1) & (freq < 0.9)
    r2 = np.corrcoef(hap[keep]) ** 2
    dist = np.abs(pos[keep][:, None] - pos[keep][None, :])
    near = r2[(dist > 0) & (dist <= 5_000)].mean()
    far = r2[(dist > 100_000) & (dist <= 300_000)].mean()
    assert near > 4 * far
    assert far < 0.05
