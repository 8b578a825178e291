"""The true genotype-group L2 and true QTL sets of a simulated world."""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.simulate.procap_effects import variant_effects
from varinterp.simulate.procap_model import expected_procap
from varinterp.simulate.qtl_truth import expected_window_tracks, true_group_l2, true_qtl_sets
from varinterp.simulate.world import WorldParams, make_world


def test_true_l2_against_a_per_person_loop():
    world = make_world(
        params=WorldParams(seed=2, n_individuals=30, genome_size=120_000, n_chromosomes=2,
                           n_motif_variants=20, causal_min_maf=0.25)
    )  # fmt: skip
    expected = expected_procap(world)
    effects = variant_effects(world, expected)
    causal = effects[effects["causal"].astype(bool)].drop_duplicates("variant_id")
    people = list(world.cohort.samples)
    chroms = causal["chrom"].tolist()
    pos0 = (causal["pos"] - 1).tolist()
    got = true_group_l2(world, expected, chroms, pos0, people, 500)
    key = {
        (c, int(p)): i
        for i, (c, p) in enumerate(zip(world.cohort.chrom, world.cohort.pos, strict=True))
    }
    checked = 0
    for i, (c, p) in enumerate(zip(chroms, pos0, strict=True)):
        dos = world.cohort.dosages()[key[(c, p)]]
        if not ((dos == 0).any() and (dos == 2).any()):
            assert np.isnan(got[i])
            continue
        # naive: one person at a time, then the group means
        tracks = [expected_window_tracks(expected, [s], c, p - 250, 500)[0] for s in people]
        ref = np.mean([t for t, d in zip(tracks, dos, strict=True) if d == 0], axis=0)
        alt = np.mean([t for t, d in zip(tracks, dos, strict=True) if d == 2], axis=0)
        assert np.isclose(got[i], np.sqrt(((ref - alt) ** 2).sum()), rtol=1e-12)
        assert got[i] > 0
        checked += 1
    assert checked >= 3


def test_true_qtl_sets_follow_the_thresholds():
    table = pd.DataFrame(
        {"variant_id": ["a", "b", "c", "d"], "causal": ["true", "true", "false", "true"],
         "log2fc_total": [0.5, 0.01, 2.0, -0.2], "delta_directionality": [0.0, 0.3, 1.0, 0.0]}
    )  # fmt: skip
    sets = true_qtl_sets(table)
    assert sets == {"causal": {"a", "b", "d"}, "tiQTL": {"a", "d"}, "diQTL": {"b"}}
