"""The across-loci evaluation of a CLIPNET model directory.

`evaluate_clipnet` is what ``varinterp evaluate`` calls. It scores

- the **ensemble** (mean of the fold models' profile and quantity outputs) and every
  fold model on **fold 0** (never trained on), and
- every fold model ``k`` on its own **test fold** ``k``,

over every (library, peak) window of those folds (no jitter, forward strand), and writes
a folder::

    metrics.tsv             model, eval_fold, n_windows and the metrics of
                            `varinterp.models.clipnet.metrics.clipnet_metrics`
    windows_fold0.tsv       per window of fold 0: library, chrom, start, end (the output
                            window), obs_quantity, pred_quantity, profile_pearson
                            (the ensemble's prediction)
    tracks.png              predicted vs observed tracks at example loci of fold 0
    quantity_scatter.png    log1p predicted vs observed quantity on fold 0

When no contig is fold 0, the figures show the first fold model on its own held-out
fold instead (their titles say which); with no held-out windows at all they are not
written (never an empty figure).

Predicted tracks are ``profile / sum(profile) * quantity`` (RPM).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.datasets.folds import HUMAN_FOLDS, FoldMap
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.models.clipnet.metrics import profile_pearson
from varinterp.models.clipnet.predict import (
    METRIC_NAMES,
    Predictions,
    metrics_of,
    predict_examples,
)
from varinterp.models.clipnet.runconfig import load_run_config
from varinterp.models.clipnet.train import build_data
from varinterp.progress import ProgressCallback
from varinterp.training.devices import resolve_device
from varinterp.training.modeldir import load_member, read_model_dir

__all__ = ["EvalResult", "evaluate_clipnet"]


@dataclass
class EvalResult:
    """The evaluation folder, its metrics table, and what the figures show (None when
    there were no held-out windows to draw)."""

    out: Path
    metrics: pd.DataFrame
    figures_of: str | None = None

    def summary_line(self) -> str:
        """One line for the command line: the ensemble's fold-0 metrics."""
        ens = self.metrics[self.metrics["model"] == "ensemble"].iloc[0]
        return (
            f"ensemble on fold 0 ({int(ens['n_windows'])} windows): median profile r "
            f"{ens['median_profile_pearson']:.3f}, log-quantity r "
            f"{ens['log_quantity_pearson']:.3f}; wrote {self.out}"
        )


def evaluate_clipnet(
    *,
    model: str | os.PathLike,
    config: str | os.PathLike,
    out: str | os.PathLike,
    reference_only: bool = False,
    device: str | None = None,
    batch_size: int | None = None,
    n_examples: int = 6,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> EvalResult:
    """Evaluate the model directory `model` on the data of run config `config`.

    Only ``[data]`` (and ``[training]`` batch size / device) of the config is used; the
    folds are the model's own (from its ``config.json``; the published human table when
    it has none). Writes the folder described in the module docstring to `out`.
    """

    check_output(out)
    out = Path(out)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    model_dir = read_model_dir(model, architecture="clipnet")
    run = load_run_config(config)
    dev = resolve_device(device or run.training.device)
    bs = batch_size or run.training.batch_size
    data = build_data(run, model_dir.config, reference_only=reference_only)
    table = model_dir.metadata.get("folds") or HUMAN_FOLDS
    fold_map = FoldMap(dict(table), n_folds=int(model_dir.metadata.get("n_folds", 10)))
    models = {name: load_member(model_dir, name, device=dev) for name in model_dir.folds}
    rows = []
    fixed = run.data.eval_jitter
    fold0 = data.examples(data.peaks_in_folds(fold_map, [0]), rc="none", fixed_jitter=fixed)

    def run_models(names: list[str], examples) -> Predictions:
        return predict_examples(
            [models[n] for n in names], data, examples, batch_size=bs, device=dev,
            bf16=run.training.bf16, depth=run.training.prefetch, on_progress=on_progress,
        )  # fmt: skip

    ensemble = run_models(list(models), fold0)
    rows.append(_row("ensemble", 0, ensemble))
    shown, shown_title = ensemble, "ensemble, fold 0"
    for name in model_dir.folds:
        rows.append(_row(name, 0, run_models([name], fold0)))
        k = name.split("_", 1)[1]
        if k.isdigit() and 1 <= int(k) < fold_map.n_folds:
            own = data.examples(
                data.peaks_in_folds(fold_map, [int(k)]), rc="none", fixed_jitter=fixed
            )
            held = run_models([name], own)
            rows.append(_row(name, int(k), held))
            if shown.profile.shape[0] == 0 and held.profile.shape[0] > 0:
                shown, shown_title = held, f"{name} on its held-out fold {k}"
    metrics = pd.DataFrame(rows)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        metrics.to_csv(tmp / "metrics.tsv", sep="\t", index=False, float_format="%.6g")
        _windows_table(data, ensemble).to_csv(
            tmp / "windows_fold0.tsv", sep="\t", index=False, float_format="%.6g"
        )
        drawn = shown.profile.shape[0] > 0
        if drawn:
            _plots(tmp, data, shown, n_examples, shown_title)
    return EvalResult(out, metrics, shown_title if drawn else None)


def _row(model: str, fold: int, pred: Predictions) -> dict:
    m = metrics_of(pred)
    row = {"model": model, "eval_fold": fold, "n_windows": int(pred.profile.shape[0])}
    row.update({k: m.get(k, float("nan")) for k in METRIC_NAMES})
    return row


def _windows_table(data, pred: Predictions) -> pd.DataFrame:
    start = data.anchor[pred.peak] - data.input_length // 2 + data.output_start
    r = profile_pearson(pred.profile, pred.obs_profile) if pred.profile.shape[0] else np.zeros(0)
    return pd.DataFrame(
        {
            "library": [data.libraries[i].name for i in pred.library],
            "chrom": data.peak_chrom[pred.peak],
            "start": start,
            "end": start + data.output_length,
            "obs_quantity": pred.obs_quantity,
            "pred_quantity": pred.quantity,
            "profile_pearson": r,
        }
    )


def _plots(folder: Path, data, pred: Predictions, n_examples: int, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = pred.profile.shape[0]
    L = data.output_length
    picks = np.argsort(-pred.obs_quantity, kind="stable")[: max(min(n_examples, n), 0)]
    fig, axes = plt.subplots(max(len(picks), 1), 1, figsize=(8, 1.8 * max(len(picks), 1)),
                             squeeze=False)  # fmt: skip
    for ax, i in zip(axes[:, 0], picks, strict=False):
        total = pred.profile[i].sum()
        track = pred.profile[i] / total * pred.quantity[i] if total > 0 else pred.profile[i] * 0
        x = np.arange(L)
        ax.fill_between(x, pred.obs_profile[i, :L], color="tab:blue", alpha=0.4, label="obs +")
        ax.fill_between(x, -pred.obs_profile[i, L:], color="tab:red", alpha=0.4, label="obs -")
        ax.plot(x, track[:L], color="tab:blue", lw=1, label="pred +")
        ax.plot(x, -track[L:], color="tab:red", lw=1, label="pred -")
        lib = data.libraries[pred.library[i]].name
        start = int(data.anchor[pred.peak[i]] - data.input_length // 2 + data.output_start)
        ax.set_title(f"{lib} {data.peak_chrom[pred.peak[i]]}:{start}-{start + L}", fontsize=8)
        ax.set_ylabel("RPM", fontsize=7)
    axes[0, 0].legend(fontsize=6, ncol=4, loc="upper right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "tracks.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(np.log1p(pred.obs_quantity), np.log1p(pred.quantity), s=4, alpha=0.5)
    ax.set_xlabel("log1p observed quantity (RPM)")
    ax.set_ylabel("log1p predicted quantity (RPM)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(folder / "quantity_scatter.png", dpi=100)
    plt.close(fig)
