"""Preflight output files: the decision table, the signatures, the relabelled barcodes, a plot."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from varinterp.deconv.preflight_decision import PreflightResult

__all__ = ["write_preflight"]


def write_preflight(result: PreflightResult, folder: str | os.PathLike, *, cutoff: float) -> None:
    """Write preflight.tsv, signatures.tsv, barcodes.tsv and signatures.png into `folder`."""
    from matplotlib.figure import Figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / "preflight.tsv", sep="\t", index=False, float_format="%.6g")
    result.signatures.to_csv(folder / "signatures.tsv", sep="\t", index=False, float_format="%.6g")
    result.barcodes.to_csv(folder / "barcodes.tsv", sep="\t", index=False, header=False)
    tested = [c for c, f in result.fractions.items() if np.isfinite(f)]
    fig = Figure(figsize=(9, 4.5))
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    mat = np.log1p(result.signatures[tested].to_numpy(np.float64))
    im = ax1.imshow(mat, aspect="auto", interpolation="none", cmap="viridis")
    ax1.set_xticks(range(len(tested)), tested, rotation=45, ha="right")
    ax1.set_ylabel(f"signature regions (n={len(mat)})")
    ax1.set_title("log1p mean CPM")
    fig.colorbar(im, ax=ax1)
    ax2.bar(range(len(tested)), [result.fractions[c] for c in tested], color="0.4")
    ax2.axhline(cutoff, color="red", lw=1, ls="--", label=f"cutoff {cutoff:g}")
    ax2.set_xticks(range(len(tested)), tested, rotation=45, ha="right")
    ax2.set_ylabel("estimated fraction (nu-SVR)")
    ax2.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(folder / "signatures.png", dpi=120)
