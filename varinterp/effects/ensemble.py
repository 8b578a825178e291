"""A model directory's fold models as an ensemble, and the hold-out "composite".

A chromosome-fold ensemble (``fold_1`` ... ``fold_9``) has model ``i`` testing on fold
``i``; fold 0 is held out from every model. Two ways to predict a window:

- **ensemble** (default): the mean of all fold models (`varinterp.effects.predict`);
- **hold-out composite**: each window is predicted by the one fold model that never saw
  its chromosome in training or validation (model ``i`` for a contig of fold ``i``),
  and by the whole ensemble for fold-0 contigs and contigs in no fold (chrX, chrM,
  unplaced). This is how the CLIPNET paper scores QTLs and MPRA variants without
  leakage.

The contig -> fold table is the model's own (``metadata.folds`` in ``config.json``,
written by ``varinterp train``), else the published human table
(`varinterp.datasets.folds.HUMAN_FOLDS`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.datasets.folds import HUMAN_FOLDS, FoldMap
from varinterp.effects.predict import model_geometry, predict_windows
from varinterp.errors import InputError
from varinterp.progress import ProgressCallback
from varinterp.training.checkpoint import ModelDir, load_fold, read_model_dir

__all__ = ["ENSEMBLE", "Ensemble", "load_ensemble"]

#: The label `Ensemble.scorer_of` gives windows predicted by all fold models.
ENSEMBLE = "ensemble"


@dataclass
class Ensemble:
    """Fold models of one model directory plus its contig -> fold table."""

    model_dir: ModelDir
    models: dict[str, nn.Module]
    fold_map: FoldMap

    @property
    def input_length(self) -> int:
        return model_geometry(list(self.models.values()))[0]

    @property
    def output_length(self) -> int:
        return model_geometry(list(self.models.values()))[2]

    @property
    def output_start(self) -> int:
        """First input position covered by the profile output."""
        return (self.input_length - self.output_length) // 2

    def fold_model(self, fold: int) -> str | None:
        """Name of the model that tests on `fold` (``fold_3`` for fold 3), None if absent."""
        name = f"fold_{fold}"
        return name if fold >= 1 and name in self.models else None

    def scorer_of(self, chrom: str, *, holdout_composite: bool) -> str:
        """Which model predicts windows on `chrom`: a fold model name or `ENSEMBLE`.

        In composite mode a contig of fold ``i >= 1`` whose model ``fold_i`` is not in
        the directory is an `InputError` (every other model trained on it).
        """
        if not holdout_composite:
            return ENSEMBLE
        fold = self.fold_map(chrom)
        if fold is None or fold == 0:
            return ENSEMBLE
        name = self.fold_model(fold)
        if name is None:
            msg = (
                f"{chrom} is in fold {fold} but {self.model_dir.path} has no fold_{fold} model "
                f"(it has {', '.join(self.models)}), so every model saw it in training; "
                "drop --holdout-composite or use a complete ensemble"
            )
            raise InputError(msg)
        return name

    def predict(
        self,
        x: np.ndarray,
        *,
        chroms: Sequence[str] | np.ndarray | None = None,
        holdout_composite: bool = False,
        rc_average: bool = True,
        batch_size: int = 256,
        device: torch.device | str = "cpu",
        bf16: bool = True,
        on_progress: ProgressCallback | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict windows ``x`` ``(n, 4, input_length)``; see `predict_windows`.

        With `holdout_composite`, `chroms` (``(n,)`` contig names of the windows) picks each
        window's model (`scorer_of`). Returns ``profile`` ``(n, n_strands, output_length)
        float32`` (plus, minus) and ``quantity`` ``(n,) float32``.
        """
        kw = {"rc_average": rc_average, "batch_size": batch_size, "device": device, "bf16": bf16}
        if not holdout_composite:
            return predict_windows(list(self.models.values()), x, on_progress=on_progress, **kw)
        if chroms is None or len(chroms) != len(x):
            msg = "holdout_composite needs one contig name per window (chroms)"
            raise InputError(msg)
        scorers = np.array(
            [self.scorer_of(str(c), holdout_composite=True) for c in chroms], dtype=object
        )
        _, n_strands, out_len = model_geometry(list(self.models.values()))
        profile = np.zeros((len(x), n_strands, out_len), dtype=np.float32)
        quantity = np.zeros(len(x), dtype=np.float32)
        done = 0
        for name in sorted(set(scorers.tolist())):
            idx = np.flatnonzero(scorers == name)
            models = list(self.models.values()) if name == ENSEMBLE else [self.models[name]]
            p, q = predict_windows(models, x[idx], **kw)
            profile[idx], quantity[idx] = p, q
            done += idx.size
            if on_progress is not None:
                on_progress(done, len(x))
        return profile, quantity


def load_ensemble(
    path: str | os.PathLike,
    *,
    folds: Sequence[str] | None = None,
    device: torch.device | str = "cpu",
) -> Ensemble:
    """Load a model directory's fold models (all, or the named `folds`) on `device`.

    A fold listed in ``config.json`` whose weights are missing or unreadable is an
    `InputError` naming the file.
    """
    model_dir = read_model_dir(path)
    names = list(folds) if folds is not None else list(model_dir.folds)
    models = {name: load_fold(model_dir, name, device=device) for name in names}
    table = model_dir.metadata.get("folds") or HUMAN_FOLDS
    n_folds = int(model_dir.metadata.get("n_folds", 10))
    return Ensemble(model_dir, models, FoldMap(dict(table), n_folds=n_folds))
