"""Predictions of a GET model at genes: gene-centred windows, batched.

For gene ``g`` of cell type ``k`` the window is the ``n_regions`` active regions centred
on the gene's region (`GetData.gene_window`) and the prediction is the model's output at
that region on the gene's strand: ``log10(TPM + 1)``. `gene_predictions` returns
``(n_genes,) float64`` (NaN for a gene with no region or an inactive one); `motif_rows`
overrides the motif features of some regions (a rescanned allele, a knock-out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from varinterp.models.get.data import GetData
from varinterp.training.devices import autocast

__all__ = ["evaluate_genes", "gene_inputs", "gene_predictions", "run_batches"]


def gene_inputs(
    data: GetData,
    k: int,
    genes: Sequence[int],
    n_regions: int,
    *,
    binary_atac: bool = False,
    motif_rows: Mapping[int, np.ndarray] | None = None,
    zero_regions: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs ``(n, R, F) float32`` of gene-centred windows, each gene's position ``(n,)``
    (-1: no active region) and strand ``(n,)`` (0 plus, 1 minus). Regions in
    `zero_regions` get all-zero features (a knock-out)."""
    n = len(genes)
    x = np.zeros((n, n_regions, data.n_features), np.float32)
    pos = np.full(n, -1, np.int64)
    strand = (data.genes["strand"].to_numpy() == "-").astype(np.int64)[list(genes)]
    regions = data.genes["region"].to_numpy(np.int64)
    zero = set(int(z) for z in zero_regions)
    for i, g in enumerate(genes):
        r = int(regions[g])
        if r < 0:
            continue
        w, at = data.gene_window(k, r, n_regions)
        if at < 0:
            continue
        motif = None
        if motif_rows:
            motif = data.motif[np.where(w >= 0, w, 0)].copy()
            for j, row in enumerate(w):
                if int(row) in motif_rows:
                    motif[j] = motif_rows[int(row)]
        x[i], _, _, _ = data.sample(k, w, binary_atac=binary_atac, motif=motif)
        for j, row in enumerate(w):
            if int(row) in zero:
                x[i, j] = 0.0
        pos[i] = at
    return x, pos, strand


def run_batches(
    models: Sequence[nn.Module],
    x: np.ndarray,
    *,
    device: torch.device,
    batch_size: int = 32,
    bf16: bool = True,
) -> np.ndarray:
    """Ensemble-mean expression ``(n, R, 2) float32`` of inputs ``(n, R, F)``."""
    out = np.zeros((x.shape[0], x.shape[1], 2), np.float32)
    with torch.inference_mode():
        for lo in range(0, x.shape[0], batch_size):
            xb = torch.from_numpy(x[lo : lo + batch_size]).to(device)
            acc = None
            for m in models:
                m.eval()
                with autocast(device, bf16):
                    p = m(xb).float()
                acc = p if acc is None else acc + p
            out[lo : lo + batch_size] = (acc / len(models)).cpu().numpy()
    return out


def gene_predictions(
    models: Sequence[nn.Module],
    data: GetData,
    k: int,
    genes: Sequence[int],
    *,
    n_regions: int,
    device: torch.device | str = "cpu",
    binary_atac: bool = False,
    batch_size: int = 32,
    **overrides,
) -> np.ndarray:
    """Predicted ``log10(TPM + 1)`` of `genes` in cell type `k` ``(n,) float64``."""
    device = torch.device(device)
    x, pos, strand = gene_inputs(data, k, genes, n_regions, binary_atac=binary_atac, **overrides)
    out = np.full(len(genes), np.nan)
    ok = pos >= 0
    if ok.any():
        pred = run_batches(models, x[ok], device=device, batch_size=batch_size)
        out[ok] = pred[np.arange(int(ok.sum())), pos[ok], strand[ok]]
    return out


def evaluate_genes(
    models: Sequence[nn.Module],
    data: GetData,
    cell_type: str,
    *,
    chroms: set[str] | None,
    n_regions: int,
    device: torch.device | str = "cpu",
    binary_atac: bool = False,
) -> dict[str, float]:
    """Pearson and Spearman of predicted vs observed expression of the genes on `chroms`
    (every contig when None) with an active TSS region in `cell_type`."""
    from scipy.stats import pearsonr, spearmanr

    k = data.type_index(cell_type)
    genes = np.arange(len(data.genes))
    if chroms is not None:
        genes = genes[data.genes["chrom"].astype(str).isin(chroms).to_numpy()]
    pred = gene_predictions(
        models, data, k, genes, n_regions=n_regions, device=device, binary_atac=binary_atac
    )
    obs = data.expression[genes, k]
    ok = np.isfinite(pred)
    if ok.sum() < 3 or np.std(obs[ok]) == 0 or np.std(pred[ok]) == 0:
        return {"pearson": float("nan"), "spearman": float("nan"), "n_genes": int(ok.sum())}
    return {
        "pearson": float(pearsonr(pred[ok], obs[ok])[0]),
        "spearman": float(spearmanr(pred[ok], obs[ok])[0]),
        "n_genes": int(ok.sum()),
    }
