"""Scatter plots of predicted vs observed effects, one panel per model (PNG, atomic).

Used by the QTL benchmark (log10 L2 scores) and the MPRA benchmark (log2 fold changes).
Points are coloured by a Gaussian kernel density estimate (scipy) when there are at
most `KDE_MAX_POINTS` of them, as in the CLIPNET paper's figures.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from varinterp.io.atomic import atomic_path

__all__ = ["KDE_MAX_POINTS", "Panel", "save_scatter_panels"]

KDE_MAX_POINTS = 20_000


@dataclass
class Panel:
    """One panel: ``x`` and ``y`` ``(n,) float`` (non-finite points are dropped)."""

    title: str
    x: np.ndarray
    y: np.ndarray
    note: str = ""


def _density(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    if x.size < 3 or x.size > KDE_MAX_POINTS:
        return None
    from scipy.stats import gaussian_kde

    xy = np.vstack([x, y])
    try:
        return gaussian_kde(xy)(xy)
    except (np.linalg.LinAlgError, ValueError):  # collinear or constant points
        return None


def save_scatter_panels(
    path: str | os.PathLike,
    panels: Sequence[Panel],
    *,
    xlabel: str,
    ylabel: str,
    diagonal: bool = False,
    zero_lines: bool = False,
) -> Path:
    """Write a PNG with one scatter panel per entry of `panels`, side by side."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    n = max(len(panels), 1)
    fig = Figure(figsize=(4.2 * n, 4.0), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        x = np.asarray(panel.x, dtype=np.float64)
        y = np.asarray(panel.y, dtype=np.float64)
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = x[keep], y[keep]
        c = _density(x, y)
        if c is not None:
            order = np.argsort(c)
            ax.scatter(x[order], y[order], c=c[order], s=6, cmap="viridis", linewidths=0)
        else:
            ax.scatter(x, y, s=6, color="tab:blue", linewidths=0, alpha=0.7)
        if diagonal and x.size:
            lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
            ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
        if zero_lines:
            ax.axhline(0, color="grey", lw=0.6)
            ax.axvline(0, color="grey", lw=0.6)
        ax.set_title(panel.title + (f"\n{panel.note}" if panel.note else ""), fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    return path
