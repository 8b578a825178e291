"""Every public import path of the previous release still imports, for one release.

``tests/data/previous_api.json`` lists each module of the previous release with its
``__all__``. Names that stayed import silently; names that moved (`varinterp._moved`)
import with a DeprecationWarning that names their new place, and are the very object
found there.
"""

from __future__ import annotations

import importlib
import json
import re
import warnings
from pathlib import Path

import pytest

from varinterp import _moved

PREVIOUS = json.loads((Path(__file__).resolve().parent / "data" / "previous_api.json").read_text())
PAIRS = [(m, n) for m, names in sorted(PREVIOUS.items()) for n in names]
_NEW = re.compile(r"moved to (varinterp(?:\.\w+)+)\.(\w+);")


def test_the_list_is_the_previous_release():
    assert len(PREVIOUS) > 100 and len(PAIRS) > 500
    assert "register_architecture" in PREVIOUS["varinterp.training.checkpoint"]


@pytest.mark.parametrize("module", sorted(PREVIOUS))
def test_old_module_imports(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        importlib.import_module(module)


@pytest.mark.parametrize("module,name", PAIRS, ids=[f"{m}.{n}" for m, n in PAIRS])
def test_old_name_imports(module, name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        obj = getattr(importlib.import_module(module), name)
    moved = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    if module in _moved.MOVED:
        assert moved, f"{module}.{name} moved but gave no DeprecationWarning"
    if moved:
        found = _NEW.search(str(moved[-1].message))
        assert found, str(moved[-1].message)
        new_module, new_name = found.groups()
        assert new_name == name
        assert getattr(importlib.import_module(new_module), name) is obj
