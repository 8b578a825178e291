"""Plots of the MPRA benchmark: precision-recall curves and bootstrap delta-auPRC (PNG)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from varinterp.io.atomic import atomic_path

__all__ = ["save_delta_histograms", "save_pr_curves"]


def _figure(size: tuple[float, float]):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def save_pr_curves(
    path: str | os.PathLike,
    labels: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    title: str = "",
) -> Path:
    """One precision-recall curve per score (`sklearn.metrics.precision_recall_curve`),
    with the base rate as a dashed line."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig = _figure((5.0, 4.5))
    ax = fig.subplots()
    y = np.asarray(labels)
    for name, s in scores.items():
        if y.size and y.min() != y.max():
            prec, rec, _ = precision_recall_curve(y, s)
            ap = average_precision_score(y, s)
            ax.step(rec, prec, where="post", label=f"{name} (auPRC {ap:.3f})")
    if y.size:
        ax.axhline(float(y.mean()), color="grey", ls="--", lw=0.8, label=f"random ({y.mean():.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return path


def save_delta_histograms(
    path: str | os.PathLike, deltas: Mapping[str, np.ndarray], *, baseline: str
) -> Path:
    """Histograms of bootstrap ``auPRC(model) - auPRC(baseline)``, one row per model."""
    n = max(len(deltas), 1)
    fig = _figure((5.0, 1.8 * n + 0.6))
    axes = np.atleast_1d(fig.subplots(n, 1, squeeze=False)[:, 0])
    for ax, (name, d) in zip(axes, deltas.items(), strict=False):
        d = np.asarray(d, dtype=np.float64)
        d = d[np.isfinite(d)]
        if d.size:
            ax.hist(d, bins=40, color="tab:blue", alpha=0.8)
        ax.axvline(0, color="black", lw=0.8)
        p = float((d > 0).mean()) if d.size else float("nan")
        ax.set_title(f"{name} - {baseline}: P(delta > 0) = {p:.3f}", fontsize=9)
    axes[-1].set_xlabel("delta auPRC (bootstrap)")
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return path
