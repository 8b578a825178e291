"""Chromosome folds: the published human table and the train/validation/test rule."""

from __future__ import annotations

import pytest

from varinterp.datasets.folds import (
    HUMAN_FOLDS,
    FoldMap,
    balanced_folds,
    fold_split,
    human_folds,
)
from varinterp.errors import InputError

SPEC = {  # written out independently from the spec's table
    0: "9 13 20 21", 1: "5 7", 2: "11 12", 3: "14 15 18", 4: "1",
    5: "2 22", 6: "4 6", 7: "3 16", 8: "10 19", 9: "8 17",
}  # fmt: skip


def test_human_table_matches_spec_and_covers_each_autosome_once():
    expected = {f"chr{c}": f for f, cs in SPEC.items() for c in cs.split()}
    assert expected == HUMAN_FOLDS
    assert sorted(int(c[3:]) for c in HUMAN_FOLDS) == list(range(1, 23))
    fm = human_folds()
    assert fm("1") == 4 and fm("chr1") == 4 and fm("chr9") == 0
    assert fm("chrX") is None and fm("chrM") is None


@pytest.mark.parametrize("k", range(1, 10))
def test_fold_split_rule(k):
    s = fold_split(k)
    assert s.test == k
    assert s.validation == (k % 9) + 1
    assert len(s.train) == 7
    assert 0 not in s.train and s.validation != 0
    assert set(s.train) | {s.validation, s.test} == set(range(1, 10))
    assert k not in s.train and s.validation not in s.train


def test_every_fold_is_tested_and_validated_exactly_once():
    tests = sorted(fold_split(k).test for k in range(1, 10))
    vals = sorted(fold_split(k).validation for k in range(1, 10))
    assert tests == vals == list(range(1, 10))
    assert fold_split(9).validation == 1


def test_fold_split_rejects_fold_zero_and_out_of_range():
    for bad in (0, 10, -1):
        with pytest.raises(InputError, match="not a model fold"):
            fold_split(bad)


def test_balanced_folds_deterministic_and_balanced():
    lengths = {f"c{i}": 1000 * (i + 1) for i in range(20)}
    a = balanced_folds(lengths)
    assert a.to_dict() == balanced_folds(lengths).to_dict()
    assert set(a.to_dict()) == set(lengths)
    load = [0] * 10
    for c, f in a.to_dict().items():
        load[f] += lengths[c]
    assert max(load) - min(load) <= max(lengths.values())
    with pytest.raises(InputError, match="at least 10 contigs"):
        balanced_folds({"a": 10, "b": 20})


def test_fold_table_values_are_checked():
    with pytest.raises(InputError, match=r"folds are 0\.\.9"):
        FoldMap({"c1": 12})
    assert FoldMap({"c1": 3}).contigs([3]) == ["c1"]
