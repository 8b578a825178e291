"""Which regions and motifs drive a gene: GET's Jacobian scores and perturbations.

For gene ``g`` in cell type ``k`` (a gene-centred window, `varinterp.models.get.predict`)
with prediction ``E = f(X)[pos, strand]``:

- **region score** (GET's Jacobian score): ``||dE / d e_j||_2 x acc_j`` per region ``j``,
  ``e_j`` the region's embedding (``D`` values) and ``acc_j`` its accessibility (aCPM);
- **motif attribution** (`motif_attributions`): ``dE / dx_jc x x_jc`` per region and
  feature (gradient x input);
- **knock-out**: the change of ``E`` when region ``j``'s features are all set to 0;
- **motif knock-out**: the change when one cluster's column is set to 0 in a region (or in
  every region of the window).

`enhancer_scores` returns a table, one row per gene and region of its window: ``gene,
cell_type, chrom, start, end, distance`` (region centre - TSS), ``jacobian``,
``accessibility``, ``score`` (Jacobian x accessibility), ``score_norm`` (divided by the
gene's largest), ``rank`` (1 = top).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.models.get.data import GetData
from varinterp.models.get.predict import gene_inputs, gene_predictions

__all__ = [
    "ENHANCER_COLUMNS",
    "enhancer_scores",
    "gene_jacobians",
    "knockout_effects",
    "motif_attributions",
    "motif_knockout_effect",
]

ENHANCER_COLUMNS = (
    "gene",
    "cell_type",
    "chrom",
    "start",
    "end",
    "distance",
    "jacobian",
    "accessibility",
    "score",
    "score_norm",
    "rank",
)


def gene_jacobians(
    model: nn.Module, x: np.ndarray, pos: int, strand: int
) -> tuple[np.ndarray, np.ndarray]:
    """For one window ``x`` ``(R, F)``: ``(||dE/de||_2 (R,), dE/dx (R, F))`` float64."""
    model.eval()
    device = next(model.parameters()).device
    xt = torch.from_numpy(x[None]).float().to(device).requires_grad_(requires_grad=True)
    e = model.embed(xt)
    e.retain_grad()
    out = model.expression_from_embedding(e)
    out[0, pos, strand].backward()
    return (e.grad[0].norm(dim=-1).double().cpu().numpy(), xt.grad[0].double().cpu().numpy())


def enhancer_scores(
    model: nn.Module,
    data: GetData,
    *,
    cell_type: str,
    genes: Sequence[str] | None = None,
    n_regions: int,
    binary_atac: bool = False,
) -> pd.DataFrame:
    """Region scores of `genes` (names; default every gene with an active region)."""
    k = data.type_index(cell_type)
    names = data.genes["gene"].astype(str).tolist()
    rows = list(range(len(names))) if genes is None else [_gene_row(names, g) for g in genes]
    parts = []
    for g in rows:
        x, pos, strand = gene_inputs(data, k, [g], n_regions, binary_atac=binary_atac)
        if pos[0] < 0:
            continue
        region = int(data.genes["region"].iloc[g])
        w, _ = data.gene_window(k, region, n_regions)
        jac, _ = gene_jacobians(model, x[0], int(pos[0]), int(strand[0]))
        ok = w >= 0
        idx = w[ok]
        acc = data.acpm[idx, k].astype(np.float64)
        score = jac[ok] * acc
        reg = data.regions.iloc[idx]
        centre = (reg["start"].to_numpy() + reg["end"].to_numpy()) // 2
        top = score.max() if score.size and score.max() > 0 else 1.0
        parts.append(
            pd.DataFrame(
                {
                    "gene": names[g],
                    "cell_type": cell_type,
                    "chrom": reg["chrom"].to_numpy(),
                    "start": reg["start"].to_numpy(),
                    "end": reg["end"].to_numpy(),
                    "distance": centre - int(data.genes["tss"].iloc[g]),
                    "jacobian": jac[ok],
                    "accessibility": acc,
                    "score": score,
                    "score_norm": score / top,
                    "rank": (-score).argsort().argsort() + 1,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=list(ENHANCER_COLUMNS))
    return pd.concat(parts, ignore_index=True)


def _gene_row(names: list[str], gene: str) -> int:
    try:
        return names.index(gene)
    except ValueError:
        raise InputError(f"gene {gene!r} is not in the model's gene table") from None


def motif_attributions(
    model: nn.Module,
    data: GetData,
    *,
    cell_type: str,
    gene: str,
    n_regions: int,
    binary_atac: bool = False,
) -> pd.DataFrame:
    """Gradient x input of `gene`'s prediction for every region and feature of its
    window, long format: ``chrom start end feature value attribution`` (``feature`` a
    motif cluster or ``accessibility``), largest ``|attribution|`` first."""
    k = data.type_index(cell_type)
    g = _gene_row(data.genes["gene"].astype(str).tolist(), gene)
    x, pos, strand = gene_inputs(data, k, [g], n_regions, binary_atac=binary_atac)
    if pos[0] < 0:
        raise InputError(f"gene {gene} has no active region in {cell_type}")
    _, grad = gene_jacobians(model, x[0], int(pos[0]), int(strand[0]))
    w, _ = data.gene_window(k, int(data.genes["region"].iloc[g]), n_regions)
    ok = np.flatnonzero(w >= 0)
    reg = data.regions.iloc[w[ok]]
    names = [*data.clusters, "accessibility"]
    f = len(names)
    table = pd.DataFrame(
        {
            "chrom": np.repeat(reg["chrom"].to_numpy(), f),
            "start": np.repeat(reg["start"].to_numpy(), f),
            "end": np.repeat(reg["end"].to_numpy(), f),
            "feature": np.tile(names, ok.size),
            "value": x[0][ok].reshape(-1),
            "attribution": (grad[ok] * x[0][ok]).reshape(-1),
        }
    )
    order = np.argsort(-np.abs(table["attribution"].to_numpy()), kind="stable")
    return table.iloc[order].reset_index(drop=True)


def knockout_effects(
    models: Sequence[nn.Module],
    data: GetData,
    *,
    cell_type: str,
    gene: str,
    n_regions: int,
    binary_atac: bool = False,
) -> pd.DataFrame:
    """Predicted change of `gene` when each region of its window is knocked out:
    ``chrom, start, end, delta`` (knocked-out minus intact log10(TPM + 1))."""
    k = data.type_index(cell_type)
    g = _gene_row(data.genes["gene"].astype(str).tolist(), gene)
    region = int(data.genes["region"].iloc[g])
    w, at = data.gene_window(k, region, n_regions)
    if at < 0:
        raise InputError(f"gene {gene} has no active region in {cell_type}")
    base = gene_predictions(models, data, k, [g], n_regions=n_regions, binary_atac=binary_atac)[0]
    idx = w[w >= 0]
    deltas = [
        gene_predictions(
            models,
            data,
            k,
            [g],
            n_regions=n_regions,
            binary_atac=binary_atac,
            zero_regions=[int(r)],
        )[0]
        - base
        for r in idx
    ]
    reg = data.regions.iloc[idx]
    return pd.DataFrame(
        {
            "chrom": reg["chrom"].to_numpy(),
            "start": reg["start"].to_numpy(),
            "end": reg["end"].to_numpy(),
            "delta": deltas,
        }
    )


def motif_knockout_effect(
    models: Sequence[nn.Module],
    data: GetData,
    *,
    cell_type: str,
    gene: str,
    cluster: str,
    n_regions: int,
    region: int | None = None,
    binary_atac: bool = False,
) -> float:
    """Predicted change of `gene` when motif `cluster` is removed from `region` (a row
    index) or, when None, from every region of the gene's window."""
    k = data.type_index(cell_type)
    g = _gene_row(data.genes["gene"].astype(str).tolist(), gene)
    if cluster not in data.clusters:
        raise InputError(f"motif cluster {cluster!r} is not a feature of this model")
    c = data.clusters.index(cluster)
    w, _ = data.gene_window(k, int(data.genes["region"].iloc[g]), n_regions)
    rows = [int(region)] if region is not None else [int(r) for r in w[w >= 0]]
    edited = {}
    for r in rows:
        row = data.motif[r].copy()
        row[c] = 0.0
        edited[r] = row
    base = gene_predictions(models, data, k, [g], n_regions=n_regions, binary_atac=binary_atac)[0]
    new = gene_predictions(
        models, data, k, [g], n_regions=n_regions, binary_atac=binary_atac, motif_rows=edited
    )[0]
    return float(new - base)
