"""The output folder of a training run: work files, the metrics log, the model directory.

While training, ``OUT/`` holds::

    .train/run.json                 the run's settings (a restart must match them)
    .train/fold_3.state.pt          the fold's last-epoch checkpoint (deleted when done)
    .train/fold_3.safetensors       a finished fold's best weights
    .train/fold_3.json              its summary (best epoch, losses, test-fold metrics,
                                    epoch log)
    metrics.jsonl                   one JSON line per epoch and fold

When the requested folds are done, the model directory files are written next to them
(`varinterp.training.modeldir` format): ``config.json``, ``fold_*.safetensors`` (every
finished fold so far) and ``README.md`` (the model card).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, atomic_write_text
from varinterp.io.readers import read_json, reading
from varinterp.training.modeldir import save_model_dir

__all__ = ["RunDir"]


class RunDir:
    """Paths and bookkeeping of one run's output folder.

    Members are named ``<member>_<k>``: ``fold_3`` (chromosome-fold ensembles, the
    default) or ``replicate_2`` (runs of one split from different seeds).
    """

    def __init__(self, out: str | os.PathLike, *, member: str = "fold") -> None:
        self.out = Path(out)
        self.work = self.out / ".train"
        self.member = member

    def prepare(self, settings: dict[str, Any], *, overwrite: bool) -> bool:
        """Create the folder, or check that an existing one belongs to this run.

        Returns True when resuming. A folder from other settings, or a non-empty folder
        that is not a run, is an `InputError` unless `overwrite` (then it is emptied).
        """
        signature = self.work / "run.json"
        if self.out.exists() and overwrite:
            shutil.rmtree(self.out)
        if self.out.exists() and not self.out.is_dir():
            msg = f"output {self.out} exists and is not a folder; choose another --out"
            raise InputError(msg)
        if self.out.is_dir() and any(self.out.iterdir()):
            if not signature.is_file():
                msg = (
                    f"output {self.out} exists and is not a training run of varinterp; "
                    "choose another --out or pass --overwrite"
                )
                raise InputError(msg)
            old = read_json(signature, "training-run record")
            if old != _jsonable(settings):
                diff = sorted(
                    k for k in set(old) | set(settings) if old.get(k) != _jsonable(settings).get(k)
                )
                msg = (
                    f"output {self.out} holds a run with other settings ({', '.join(diff)}); "
                    "use another --out, or --overwrite to start again"
                )
                raise InputError(msg)
            return True
        self.work.mkdir(parents=True, exist_ok=True)
        atomic_write_text(signature, json.dumps(_jsonable(settings), indent=2) + "\n")
        return False

    def state_path(self, fold: int) -> Path:
        return self.work / f"{self.member}_{fold}.state.pt"

    def weights_path(self, fold: int) -> Path:
        return self.work / f"{self.member}_{fold}.safetensors"

    def summary_path(self, fold: int) -> Path:
        return self.work / f"{self.member}_{fold}.json"

    def done_folds(self) -> list[int]:
        """Folds with finished weights and summary, ascending."""
        done = []
        for p in self.work.glob(f"{self.member}_*.json"):
            k = p.stem.rsplit("_", 1)[1]
            if k.isdigit() and self.weights_path(int(k)).is_file():
                done.append(int(k))
        return sorted(done)

    def summary(self, fold: int) -> dict[str, Any]:
        return read_json(self.summary_path(fold), "finished fold summary")

    def finish_fold(self, fold: int, state: Mapping[str, torch.Tensor], summary: dict) -> None:
        """Write a finished fold's weights and summary; drop its epoch checkpoint."""
        from safetensors.torch import save_file

        tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
        with atomic_path(self.weights_path(fold), suffix=".safetensors") as tmp:
            save_file(tensors, str(tmp))
        atomic_write_text(self.summary_path(fold), json.dumps(_jsonable(summary), indent=2) + "\n")
        self.state_path(fold).unlink(missing_ok=True)

    def write_metrics(self, histories: Mapping[int, list[dict[str, Any]]]) -> Path:
        """Rewrite ``metrics.jsonl`` from every fold's epoch log (fold order)."""
        lines = [json.dumps(_jsonable(h)) for k in sorted(histories) for h in histories[k]]
        return atomic_write_text(self.out / "metrics.jsonl", "".join(f"{x}\n" for x in lines))

    def assemble(self, *, config: Any, metadata: dict[str, Any], card: str) -> list[str]:
        """Write config.json, fold_*.safetensors and README.md of every finished fold."""
        from safetensors.torch import load_file

        folds = self.done_folds()
        if not folds:
            msg = f"no finished fold in {self.out}; nothing to write"
            raise InputError(msg)
        states = {}
        for k in folds:
            with reading(self.weights_path(k), "finished fold weights"):
                states[f"{self.member}_{k}"] = load_file(str(self.weights_path(k)))
        staging = self.work / "assemble"
        shutil.rmtree(staging, ignore_errors=True)
        save_model_dir(staging, config=config, folds=states, metadata=metadata, card=card)
        stale = {p.name for p in self.out.glob(f"{self.member}_*.safetensors")}
        for name in [*(f"{f}.safetensors" for f in states), "README.md", "config.json"]:
            (staging / name).replace(self.out / name)
            stale.discard(name)
        for name in stale:  # folds of an earlier assembly that are no longer listed
            (self.out / name).unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        return list(states)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and obj != obj:  # NaN -> null (valid JSON)
        return None
    if isinstance(obj, float) and obj in (float("inf"), float("-inf")):
        return None
    if hasattr(obj, "item") and callable(obj.item):
        return _jsonable(obj.item())
    return obj
