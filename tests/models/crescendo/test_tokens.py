"""Each gene's tokens against a naive loop, on random peaks and on the real ABC chr22 fixture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.io.intervals import read_bed
from varinterp.io.tss import read_tss
from varinterp.models.crescendo.tokens import gene_tokens


def _naive(peaks: pd.DataFrame, tss: pd.DataFrame) -> dict[str, tuple[list[int], list[float]]]:
    """The token rule written directly: for every gene, a mask over all peaks."""
    chrom = peaks["chrom"].to_numpy()
    start, end = peaks["start"].to_numpy(), peaks["end"].to_numpy()
    mid = (start + end) // 2
    out = {}
    for gene, c, t in tss[["gene", "chrom", "tss"]].itertuples(index=False):
        on = chrom == c
        near = np.flatnonzero(on & (mid > t - 300_000) & (mid < t + 300_000))
        close = np.flatnonzero(on & (mid > t - 500) & (mid < t + 500))
        if close.size == 0:
            continue
        gap = np.abs(mid[close] - t)
        promoter = int(close[gap == gap.min()].min())
        distal = [
            i for i in sorted(near.tolist(), key=lambda i: (start[i], end[i], i)) if i != promoter
        ]
        if not distal:
            continue
        ids = [promoter, *distal]
        out[gene] = (ids, [((start[i] + end[i]) / 2 - t) / 300_000 for i in ids])
    return out


def _compare(peaks, tss):
    tokens = gene_tokens(peaks, tss)
    naive = _naive(peaks, tss)
    assert tokens.genes["gene"].tolist() == list(naive)
    for i, gene in enumerate(tokens.genes["gene"]):
        ids, dist = naive[gene]
        assert tokens.of(i).tolist() == ids
        lo, hi = tokens.offsets[i], tokens.offsets[i + 1]
        assert np.allclose(tokens.distance[lo:hi], dist)
    dropped = set(tokens.dropped["no_promoter"]) | set(tokens.dropped["no_candidate"])
    assert dropped == set(tss["gene"]) - set(naive)
    return tokens


def test_tokens_equal_a_naive_loop_on_random_peaks():
    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(0, 2_000_000, 400))
    peaks = pd.DataFrame(
        {
            "chrom": rng.choice(["chr1", "chr2"], 400),
            "start": starts,
            "end": starts + rng.integers(100, 1500, 400),
        }
    )
    near = peaks.sample(30, random_state=1)
    tss = pd.DataFrame(
        {
            "gene": [f"g{i}" for i in range(50)],
            "chrom": [*near["chrom"], *rng.choice(["chr1", "chr2", "chr3"], 20)],
            "tss": [
                *((near["start"] + near["end"]) // 2 + rng.integers(-600, 600, 30)),
                *rng.integers(0, 2_000_000, 20),
            ],
        }
    )
    tokens = _compare(peaks, tss)
    assert len(tokens.genes) > 10


def test_tokens_on_the_real_abc_k562_chr22_elements(shared_fixtures):
    """The 17,732 ABC candidate elements and 517 chr22 TSSs (window centres of
    GeneList.TSS1kb.bed, which equal GeneList.txt's tss column)."""
    folder = shared_fixtures / "abc_k562_chr22"
    peaks = read_bed(folder / "EnhancerList.bed")[["chrom", "start", "end"]]
    tss = read_tss(folder / "GeneList.TSS1kb.bed", position="center")
    genes = pd.read_csv(folder / "GeneList.txt", sep="\t")
    assert len(tss) == 517 and len(peaks) == 17_732
    by_name = genes.drop_duplicates("name").set_index("name")["tss"]
    assert (tss.set_index("gene")["tss"] == by_name.loc[tss["gene"]].to_numpy()).all()
    tokens = _compare(peaks, tss)
    n = np.diff(tokens.offsets)
    assert len(tokens.genes) > 300 and n.max() > 100  # real loci: hundreds of candidates


@pytest.mark.parametrize("shift", [-499, 499])
def test_promoter_window_is_strict_and_nearest_wins(shift):
    peaks = pd.DataFrame(
        {"chrom": ["c"] * 3, "start": [1000, 1300, 5000], "end": [1100, 1400, 5100]}
    )
    tss = pd.DataFrame({"gene": ["a"], "chrom": ["c"], "tss": [1050 + shift]})
    t = gene_tokens(peaks, tss)
    expected = 0 if shift < 0 else 1
    assert t.of(0)[0] == expected
    far = pd.DataFrame({"gene": ["b"], "chrom": ["c"], "tss": [1050 - 500]})
    assert gene_tokens(peaks, far).dropped["no_promoter"] == ["b"]
