"""Fine-tune a trained CLIPNET ensemble on a new data set (e.g. another cell type).

Each fold model starts from the source directory's weights of the same fold; every
weight stays trainable. The folds (contig -> fold table) are the source's, so no fold
model ever trains on a contig it was tested on (no leakage); the target config's
``[data] folds`` is ignored. Defaults that differ from training: patience 20 and one
warm-up epoch at lr / 10 (``[training]`` keys in the target config override them).
A target without genotypes (the K562 case) sets ``reference_only = true`` in ``[data]``
(or passes ``reference_only=True``): every library then uses the reference sequence.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence

from varinterp.datasets.folds import HUMAN_FOLDS
from varinterp.models.clipnet.runconfig import load_run_config
from varinterp.models.clipnet.train import TrainResult, run_folds
from varinterp.progress import ProgressCallback
from varinterp.training.engine import EpochLog
from varinterp.training.modeldir import load_model_dir

__all__ = ["FINETUNE_DEFAULTS", "finetune_clipnet"]

FINETUNE_DEFAULTS = {"patience": 20, "warmup_epochs": 1, "warmup_factor": 0.1}
_FOLD = re.compile(r"^fold_(\d+)$")


def finetune_clipnet(
    *,
    source: str | os.PathLike,
    config: str | os.PathLike,
    out: str | os.PathLike,
    folds: Sequence[int] | None = None,
    reference_only: bool = False,
    device: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_status: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fine-tune the fold models of the model directory `source` on `config`'s data.

    `folds` defaults to every numbered fold the source has. A source of another
    architecture, or folds it lacks, are an `InputError`.
    """
    model_dir, models = load_model_dir(source, architecture="clipnet")
    run = load_run_config(config, training_defaults=FINETUNE_DEFAULTS, allow_model=False)
    init = {}
    for name, model in models.items():
        m = _FOLD.match(name)
        if m:
            init[int(m.group(1))] = model.state_dict()
    table = model_dir.metadata.get("folds") or HUMAN_FOLDS
    n_folds = int(model_dir.metadata.get("n_folds", 10))
    wanted = list(folds) if folds is not None else sorted(k for k in init if 1 <= k < n_folds)
    return run_folds(
        run=run,
        model_cfg=model_dir.config,
        out=out,
        folds=wanted,
        kind="finetune",
        fold_table=table,
        n_folds=n_folds,
        init_states=init,
        source=str(source),
        reference_only=reference_only,
        device=device,
        overwrite=overwrite,
        on_progress=on_progress,
        on_epoch=on_epoch,
        on_status=on_status,
    )
