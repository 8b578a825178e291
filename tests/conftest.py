"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _fixtures_root() -> Path:
    return Path(os.environ.get("VARINTERP_FIXTURES", REPO.parent / "shared" / "fixtures"))


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The real-data fixtures folder (``VARINTERP_FIXTURES``, default ``../shared/fixtures``).

    Tests that need it are skipped, with the reason, when it is absent (a user's clone).
    """
    root = _fixtures_root()
    if not root.is_dir():
        pytest.skip(f"real-data fixtures not found at {root}; set VARINTERP_FIXTURES")
    return root


@pytest.fixture(autouse=True)
def _torch_one_thread():
    """Every test runs torch on one thread (restored afterwards).

    Tiny models run far faster on one thread than on two busy cores, and pytest-xdist
    already puts one worker on each core.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if has_cuda:
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip_gpu)
