"""Evaluate a bpAI-TAC model directory on the windows of a run config (``varinterp
evaluate --model <bpaitac dir> --config run.toml``).

Every window of the config's data is predicted by the members' mean (with each window's
Tn5 bias from the model's own bias network) and compared with the observed counts (the
normalised centre sums, as trained) and profiles (`varinterp.models.bpaitac.metrics`).
Writes the folder `out` atomically:

``metrics.tsv``        ``split metric value``: medians and means of the per-OCR Pearson
                       across cell types (linear and log counts; by CV quartile
                       ``ocr_pearson_cv_q1``..``q4``), the per-cell-type Pearson across
                       OCRs, the profile JSD and Pearson, per split
``per_ocr.tsv``        ``name chrom start end split cv cv_quartile pearson pearson_log``
``per_task.tsv``       ``split task pearson pearson_log profile_jsd profile_pearson``
``evaluation.json``    the model, the config and the metrics
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir
from varinterp.models.bpaitac.data import AtacData
from varinterp.models.bpaitac.metrics import (
    cv_quartile,
    per_ocr_pearson,
    per_task_pearson,
    profile_jsd,
    profile_pearson,
    summarize,
)
from varinterp.models.bpaitac.runconfig import load_run_config
from varinterp.models.bpaitac.train import ROLE_BIAS, build_data, predict_data, split_indices
from varinterp.progress import ProgressCallback

__all__ = ["EvalResult", "evaluate_bpaitac"]

SPLITS = ("train", "validation", "test")


@dataclass
class EvalResult:
    """What `evaluate_bpaitac` wrote and measured (``metrics``: split -> metric -> value)."""

    out: Path
    metrics: dict[str, dict[str, float]]
    per_ocr: pd.DataFrame
    per_task: pd.DataFrame

    def summary_line(self) -> str:
        m = self.metrics.get("test") or next(iter(self.metrics.values()))
        split = "test" if "test" in self.metrics else next(iter(self.metrics))
        return (
            f"{split}: {int(m['n_ocrs'])} OCRs, median Pearson across cell types "
            f"{m['ocr_pearson_median']:.3f}, across OCRs {m['task_pearson_median']:.3f}, "
            f"profile JSD {m.get('profile_jsd_median', float('nan')):.3f}; wrote {self.out}"
        )


def _ordered(data: AtacData, tasks: tuple[str, ...]) -> np.ndarray:
    missing = [t for t in tasks if t not in data.tasks]
    if missing:
        msg = f"the config's task table lacks the model's task(s) {missing}; give their bigWigs"
        raise InputError(msg)
    return np.array([data.tasks.index(t) for t in tasks], dtype=np.int64)


def evaluate_bpaitac(
    *,
    model: str | os.PathLike,
    config: str | os.PathLike,
    out: str | os.PathLike,
    device: str | None = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> EvalResult:
    """Evaluate `model` on the data of the run config `config` (module docstring)."""
    from varinterp.training.inference import load_model

    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    ens = load_model(model, device=device or "auto", architecture="bpaitac")
    cfg = ens.model_dir.config
    meta = ens.model_dir.metadata
    if meta.get("role") == ROLE_BIAS:
        msg = f"{model} is a Tn5 bias model; evaluate the bpAI-TAC model trained with it"
        raise InputError(msg)
    run = load_run_config(config, kind="bpaitac")
    data = build_data(run, input_length=cfg.input_length, output_length=cfg.output_length,
                      on_progress=on_progress)  # fmt: skip
    tasks = ens.tasks
    cols = _ordered(data, tasks)
    seed = int(meta.get("training", {}).get("seed", run.training.seed))
    split = split_indices(data, fraction=run.data.validation_fraction, seed=seed)
    models = list(ens.models.values())
    prof, counts = predict_data(
        models, data, np.arange(data.n), batch_size=batch_size or 64, device=ens.device
    )
    obs = data.totals[:, cols].astype(np.float64)
    obs_prof = np.asarray(data.profile)[:, cols]
    cv, q = cv_quartile(obs)
    names = np.empty(data.n, dtype=object)
    for s, idx in split.items():
        names[idx] = s
    per_ocr = data.regions[["name", "chrom", "start", "end"]].assign(
        split=names, cv=cv, cv_quartile=q + 1,
        pearson=per_ocr_pearson(counts, obs), pearson_log=per_ocr_pearson(counts, obs, log=True),
    )  # fmt: skip
    metrics: dict[str, dict[str, float]] = {}
    task_rows = []
    for s in SPLITS:
        idx = split[s]
        if idx.size < 2:
            continue
        metrics[s] = summarize(counts[idx], obs[idx], prof[idx], obs_prof[idx])
        jsd = profile_jsd(prof[idx], obs_prof[idx])
        pr = profile_pearson(prof[idx], obs_prof[idx])
        r = per_task_pearson(counts[idx], obs[idx])
        r_log = per_task_pearson(counts[idx], obs[idx], log=True)
        for k, task in enumerate(tasks):
            task_rows.append((s, task, r[k], r_log[k], np.nanmedian(jsd[:, k]),
                              np.nanmedian(pr[:, k])))  # fmt: skip
    per_task = pd.DataFrame(
        task_rows,
        columns=["split", "task", "pearson", "pearson_log", "profile_jsd", "profile_pearson"],
    )
    long = pd.DataFrame(
        [(s, k, v) for s, d in metrics.items() for k, v in d.items()],
        columns=["split", "metric", "value"],
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        long.to_csv(tmp / "metrics.tsv", sep="\t", index=False, float_format="%.6g")
        per_ocr.to_csv(tmp / "per_ocr.tsv", sep="\t", index=False, float_format="%.6g")
        per_task.to_csv(tmp / "per_task.tsv", sep="\t", index=False, float_format="%.6g")
        doc = {"model": str(model), "config": str(config), "metrics": metrics}
        (tmp / "evaluation.json").write_text(json.dumps(doc, indent=2, allow_nan=True) + "\n")
    return EvalResult(out=out, metrics=metrics, per_ocr=per_ocr, per_task=per_task)
