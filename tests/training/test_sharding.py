"""Batches over DDP ranks: equal training steps on every rank (an all-reduce waits for
all of them), every validation item on exactly one rank, checked against a naive split."""

from __future__ import annotations

import numpy as np
import pytest

from varinterp.training.sharding import batches_per_rank, rank_batches


@pytest.mark.parametrize("n_items", [1, 7, 32, 33, 100])
@pytest.mark.parametrize("batch_size", [1, 4, 8])
@pytest.mark.parametrize("world_size", [1, 2, 3])
def test_ranks_share_batches_as_a_naive_round_robin(n_items, batch_size, world_size):
    index = np.arange(100, 100 + n_items)
    naive = [index[i : i + batch_size] for i in range(0, n_items, batch_size)]
    train_steps = {
        batches_per_rank(n_items, batch_size, split="train", world_size=world_size)
        for _ in range(world_size)
    }
    assert len(train_steps) == 1  # the same number of steps on every rank
    (steps,) = train_steps
    seen = []
    for rank in range(world_size):
        got = list(rank_batches(index, batch_size, rng=None, rank=rank, world_size=world_size))
        expected = naive[rank::world_size]
        assert [b.tolist() for b in got] == [b.tolist() for b in expected]
        assert len(got) >= steps  # the engine stops every rank after `steps`
        n_val = batches_per_rank(n_items, batch_size, split="validation", world_size=world_size)
        assert len(got) <= n_val
        seen += [x for b in got for x in b.tolist()]
    assert sorted(seen) == index.tolist()  # validation: every item once


def test_training_order_is_a_seeded_permutation():
    index = np.arange(50)
    a = np.concatenate(list(rank_batches(index, 8, rng=np.random.default_rng(3))))
    b = np.concatenate(list(rank_batches(index, 8, rng=np.random.default_rng(3))))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, np.random.default_rng(3).permutation(50))
