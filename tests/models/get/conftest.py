from __future__ import annotations

import pytest
import torch

from tests.models.get._world import make_world


@pytest.fixture(scope="session")
def get_world(tmp_path_factory):
    torch.set_num_threads(1)
    return make_world(tmp_path_factory.mktemp("get_world"))
