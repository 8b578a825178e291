"""Save and load DeepDETAILS models: ``config.json`` + ``model.safetensors`` in a folder.

Loading never runs code from the file (safetensors holds tensors only).
"""

from __future__ import annotations

import json
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, atomic_write_text
from varinterp.nets.deepdetails import DeepDetailsConfig, build_model

__all__ = ["CONFIG_NAME", "WEIGHTS_NAME", "load_model", "save_model"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def save_model(model, directory: str | Path, *, extra: dict | None = None) -> Path:
    """Write `model`'s config (plus `extra` metadata) and weights into `directory`."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp))
    payload = {"architecture": "deepdetails", "config": model.config.to_dict()}
    if extra:
        payload["metadata"] = extra
    atomic_write_text(directory / CONFIG_NAME, json.dumps(payload, indent=2) + "\n")
    return directory


def load_model(directory: str | Path, *, device: str = "cpu"):
    """Build the model described in `directory` and load its weights (eval mode)."""
    from safetensors.torch import load_file

    directory = Path(directory)
    cfg_path, w_path = directory / CONFIG_NAME, directory / WEIGHTS_NAME
    for path in (cfg_path, w_path):
        if not path.is_file():
            msg = f"model folder {directory} has no {path.name}; point --model at a trained model"
            raise InputError(msg)
    payload = json.loads(cfg_path.read_text(encoding="utf-8"))
    if payload.get("architecture") != "deepdetails":
        msg = f"{cfg_path} is not a DeepDETAILS model config (architecture field)"
        raise InputError(msg)
    model = build_model(DeepDetailsConfig.from_dict(payload["config"]))
    model.load_state_dict(load_file(str(w_path), device=device))
    return model.to(device).eval()
