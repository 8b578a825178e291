"""Fixtures of the dataset tests: one tiny synthetic cohort per module."""

from __future__ import annotations

import pytest

from tests.datasets._world import make_world


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # libA and libB are isogenic replicates of s1; the A/T het sits at c1's first peak.
    return make_world(tmp_path_factory.mktemp("world"), at_het=("c1", 666))
