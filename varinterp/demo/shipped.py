"""Where the demo finds the zoo's shipped demo models (the default ``varinterp demo``)."""

from __future__ import annotations

import os
from pathlib import Path

from varinterp.errors import InputError

__all__ = ["BPAITAC_DEMO", "CLIPNET_DEMO", "DEEPDETAILS_DEMO", "MADE_BY", "shipped_model"]

CLIPNET_DEMO = "clipnet-demo"
DEEPDETAILS_DEMO = "deepdetails-demo"
BPAITAC_DEMO = "bpaitac-demo"
MADE_BY = "varinterp demo --seed 0 --threads 1"


def shipped_model(name: str, zoo: str | os.PathLike | None = None) -> Path:
    """The folder of shipped zoo model `name` (a model directory); `InputError` if absent."""
    from varinterp.models.zoo import default_zoo_dir

    path = Path(zoo) if zoo is not None else default_zoo_dir()
    path = path / name
    if not (path / "config.json").is_file():
        msg = (
            f"the zoo has no shipped model {name} at {path}; run the demo with --full, "
            "or set VARINTERP_ZOO to a zoo folder that has it"
        )
        raise InputError(msg)
    return path
