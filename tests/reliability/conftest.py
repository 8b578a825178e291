"""The valid inputs of the sweep, built once per test session (shared by xdist workers)."""

from __future__ import annotations

import fcntl
import shutil

import pytest

from tests.reliability._inputs import Inputs, build_inputs, load_inputs


@pytest.fixture(scope="session")
def inputs(tmp_path_factory, request) -> Inputs:
    """Every command's valid inputs (`_inputs.build_inputs`); read-only for the tests.

    The first xdist worker to get here builds them in the session's shared temporary
    folder; the others wait on a lock and reuse them.
    """
    shared = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # an xdist worker: share with the others
        shared = shared.parent
    root = shared / "reliability-inputs"
    with open(shared / "reliability-inputs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (root / "inputs.json").is_file():
                return load_inputs(root)
            shutil.rmtree(root, ignore_errors=True)  # a build that failed half-way
            root.mkdir()
            return build_inputs(root)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
