"""Shared fixtures of the bpAI-TAC tests: a tiny simulated ATAC world and a bias model."""

from __future__ import annotations

import pytest

from tests.models.bpaitac._world import make_tiny_atac, write_config
from varinterp.models.bpaitac.train import train_tn5_bias


@pytest.fixture(scope="session")
def tiny_atac(tmp_path_factory):
    return make_tiny_atac(tmp_path_factory.mktemp("tiny_atac"))


@pytest.fixture(scope="session")
def tiny_bias(tmp_path_factory, tiny_atac):
    """A Tn5 bias model directory trained for two epochs on the tiny world."""
    root = tmp_path_factory.mktemp("tiny_bias")
    cfg = write_config(root / "bias.toml", tiny_atac, bias=True)
    train_tn5_bias(config=cfg, out=root / "bias", device="cpu")
    return root / "bias"
