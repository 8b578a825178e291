"""Run a model directory's family recipe (``evaluate``, ...) with the options it takes.

`run_recipe` reads the directory's architecture from its ``config.json`` and calls that
family's recipe (`varinterp.training.registry.Architecture.recipe`) with ``model=`` and
the keyword options its signature accepts. Options it does not take are dropped when
unset (None or False) and refused otherwise, so a command shared by several families
(``varinterp evaluate``) says which of its options do not apply.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

from varinterp.errors import InputError
from varinterp.training.modeldir import read_model_dir

__all__ = ["run_recipe"]


def run_recipe(use: str, *, model: str | os.PathLike, **options: Any) -> Any:
    """Call the `use` recipe of the family of model directory `model` (module docstring)."""
    model_dir = read_model_dir(model)
    arch = model_dir.arch
    fn = arch.recipe(use)
    params = inspect.signature(fn).parameters
    accepted = {}
    for key, value in options.items():
        if key in params:
            if value is not None:
                accepted[key] = value
        elif value is not None and value is not False:
            flag = "--" + key.replace("_", "-")
            msg = f"{flag} does not apply to {arch.name} models ({model}); drop it"
            raise InputError(msg)
    return fn(model=model, **accepted)
