"""Fixtures of the CLIPNET tests: a tiny cohort and one small trained model directory."""

from __future__ import annotations

import pytest

from tests.models.clipnet._world import make_world, write_toml
from varinterp.models.clipnet.train import train_clipnet


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("train_world"))


@pytest.fixture(scope="session")
def trained(world, tmp_path_factory):
    """Folds 1 and 2 of a tiny CLIPNET, 2 epochs each."""
    folder = tmp_path_factory.mktemp("trained")
    cfg = write_toml(folder / "run.toml", world, training={"max_epochs": 2})
    out = folder / "model"
    result = train_clipnet(config=cfg, out=out, folds=[1, 2])
    return cfg, out, result
