from __future__ import annotations

import numpy as np
import pytest

from varinterp.errors import InputError
from varinterp.simulate import TRUTH_COLUMNS, WorldParams, make_world
from varinterp.simulate.world import stream


def test_same_seed_same_world_other_seed_other_world(small_world):
    again = make_world(seed=3, n_individuals=40, genome_size=150_000, n_chromosomes=2)
    assert np.array_equal(again.cohort.haplotypes, small_world.cohort.haplotypes)
    assert again.truth.equals(small_world.truth)
    other = make_world(seed=4, n_individuals=40, genome_size=150_000, n_chromosomes=2)
    assert not np.array_equal(
        other.reference.sequences["chr1"], small_world.reference.sequences["chr1"]
    )


def test_named_streams_are_independent():
    a = stream(1, "reference").random(3)
    assert np.array_equal(a, stream(1, "reference").random(3))
    assert not np.array_equal(a, stream(1, "cohort").random(3))
    assert not np.array_equal(a, stream(2, "reference").random(3))


def test_cohort_size_does_not_change_the_reference(small_world):
    bigger = make_world(seed=3, n_individuals=50, genome_size=150_000, n_chromosomes=2)
    for name in small_world.reference.names:
        assert np.array_equal(
            bigger.reference.sequences[name], small_world.reference.sequences[name]
        )
    assert bigger.elements == small_world.elements


def test_truth_table_columns_and_classes(world):
    truth = world.truth
    assert tuple(truth.columns) == TRUTH_COLUMNS
    assert len(truth) == world.cohort.n_variants
    assert set(truth["class"]) == {
        "background",
        "element",
        "motif_break",
        "motif_gain",
        "motif_neutral",
    }
    causal = truth[truth["causal"] == "true"]
    assert set(causal["class"]) == {"motif_break", "motif_gain"}
    assert set(causal["direction"]) == {"down", "up"}
    assert (truth.loc[truth["class"] == "motif_break", "direction"] == "down").all()
    assert (truth.loc[truth["class"] == "background", "element_id"] == ".").all()
    # 'element' rows really fall inside their element (1-based pos -> 0-based)
    for row in truth[truth["class"] == "element"].itertuples():
        el = world.element(row.element_id)
        assert el.chrom == row.chrom and el.start <= row.pos - 1 < el.end


def test_progress_is_reported():
    calls = []
    make_world(
        seed=0,
        genome_size=40_000,
        n_chromosomes=1,
        n_individuals=4,
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (0, 5) and calls[-1] == (5, 5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_individuals": 1}, "--n-individuals"),
        ({"genome_size": 1_000}, "--genome-size"),
        ({"seed": -1}, "--seed"),
        ({"genome_size": 40_000, "n_chromosomes": 8}, "under 10 kb"),
        ({"n_motif_variants": -2}, "--n-motif-variants"),
    ],
)
def test_bad_parameters_raise_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        make_world(**kwargs)


def test_params_validate_returns_self():
    p = WorldParams()
    assert p.validate() is p
    assert p.motif_variant_count() == 50


def test_element_spacing_sets_density_and_is_validated():
    def check(**kw):
        params = WorldParams(seed=2, n_individuals=4, genome_size=200_000, n_chromosomes=2, **kw)
        world = make_world(params=params)
        kinds = [e.kind for e in world.elements]
        lengths = world.reference.lengths.values()
        # one per `spacing` bp of each chromosome, rounded, at least one
        for kind, spacing in (("promoter", params.promoter_spacing),
                              ("enhancer", params.enhancer_spacing)):  # fmt: skip
            assert kinds.count(kind) == sum(max(1, round(n / spacing)) for n in lengths)
        return kinds.count("promoter")

    assert check(promoter_spacing=10_000, enhancer_spacing=20_000) > 2 * check()
    with pytest.raises(InputError, match="--promoter-spacing"):
        WorldParams(promoter_spacing=100).validate()
    with pytest.raises(InputError, match="--enhancer-spacing"):
        WorldParams(enhancer_spacing=0).validate()
