"""Worlds shared by the simulate tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from varinterp.simulate import World, make_world, write_world


@pytest.fixture(scope="session")
def world() -> World:
    """The default-size world (3 chromosomes, 1.5 Mb, 60 individuals)."""
    return make_world(seed=7)


@pytest.fixture(scope="session")
def small_world() -> World:
    return make_world(seed=3, n_individuals=40, genome_size=150_000, n_chromosomes=2)


@pytest.fixture(scope="session")
def written(tmp_path_factory, world) -> Path:
    out = tmp_path_factory.mktemp("sim") / "world"
    write_world(world, out)
    return out
