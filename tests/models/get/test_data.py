"""GET's samples against naive loops over the world's own tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.models.get.data import build_get_data
from varinterp.models.get.expression import read_expression, read_tss
from varinterp.motifs.files import read_features


def test_labels_equal_a_naive_loop(get_world):
    folder, _world, data = get_world
    tpm = pd.read_csv(folder / "expression.tsv", sep="\t", index_col=0)
    want = np.zeros_like(data.labels)
    for g in data.genes.itertuples(index=False):
        if g.region < 0:
            continue
        s = 0 if g.strand == "+" else 1
        for k, ct in enumerate(data.cell_types):
            want[g.region, k, s] += np.log10(tpm.loc[g.gene, ct] + 1)
    np.testing.assert_allclose(data.labels, want, rtol=1e-4, atol=1e-5)
    # every simulated TSS sits at its promoter's centre
    assert (data.genes["region"] >= 0).all()


def test_windows_tile_every_active_region_and_samples_normalise(get_world):
    _, _, data = get_world
    for k in range(len(data.cell_types)):
        w = data.window_starts(k, 16, 8)
        covered = set(w[w >= 0].tolist())
        assert covered == set(np.flatnonzero(data.active[:, k]).tolist())
        for row in w[:5]:
            assert len(set(data.regions["chrom"].to_numpy()[row[row >= 0]])) == 1
    w = data.window_starts(0, 16, 8)[0]
    x, _y, _valid, _tss = data.sample(0, w)
    acc = data.acpm[w, 0]
    np.testing.assert_allclose(x[:, -1], acc / acc.max(), rtol=1e-6)
    np.testing.assert_allclose(x[:, :-1], data.motif[w])
    xb, *_ = data.sample(0, w, binary_atac=True)
    assert (xb[:, -1] == 1).all()
    g = int(data.genes["region"].iloc[3])
    win, at = data.gene_window(0, g, 16)
    assert win[at] == g


def test_genes_without_a_tss_are_refused(get_world, tmp_path):
    folder, _, _ = get_world
    expr = read_expression(folder / "expression.tsv")
    tss = read_tss(folder / "genes.bed")
    with pytest.raises(InputError, match="have no TSS"):
        build_get_data(read_features(folder / "features.h5"), expr, tss.iloc[2:])
