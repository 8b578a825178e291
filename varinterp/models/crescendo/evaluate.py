"""How well a trained cREscENDO model predicts: accessibility and gene expression.

- `encoder_metrics`: on the held-out peaks (all cells), the binary cross-entropy of the
  predicted accessibility and its AUROC against the binarised ATAC (scikit-learn's
  ``roc_auc_score`` over the pooled peak x cell entries, at most 2,000,000 drawn with a
  fixed seed);
- `expression_metrics`: per gene, the Spearman correlation over the held-out cells of
  the predicted z-score with the observed one (the paper's Figure 2I), summarised as the
  median over the held-out genes and over the training genes.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from varinterp.models.crescendo.data import PreparedData, peak_windows
from varinterp.models.crescendo.network import Crescendo

__all__ = ["encoder_metrics", "expression_metrics", "predict_expression"]


def encoder_metrics(
    model: Crescendo, data: PreparedData, *, batch_size: int = 128, max_entries: int = 2_000_000
) -> dict[str, float]:
    """``{"val_bce", "val_auroc", "n_peaks"}`` over the held-out peaks (NaN without)."""
    from sklearn.metrics import roc_auc_score

    peaks = np.flatnonzero(~data.train_peaks)
    if peaks.size == 0:
        return {"val_bce": float("nan"), "val_auroc": float("nan"), "n_peaks": 0}
    device = next(model.parameters()).device
    probs, truth = [], []
    model.eval()
    with torch.no_grad():
        for lo in range(0, peaks.size, batch_size):
            b = peaks[lo : lo + batch_size]
            x = torch.from_numpy(peak_windows(data.seq[b])).to(device)
            probs.append(torch.sigmoid(model.encoder(x)).float().cpu().numpy())
            truth.append(data.atac_dense(b))
    p, y = np.concatenate(probs).ravel(), np.concatenate(truth).ravel()
    eps = 1e-7
    bce = float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
    if p.size > max_entries:
        pick = np.random.default_rng(0).choice(p.size, max_entries, replace=False)
        p, y = p[pick], y[pick]
    auroc = float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else float("nan")
    return {"val_bce": bce, "val_auroc": auroc, "n_peaks": int(peaks.size)}


def predict_expression(model: Crescendo, gene: int) -> np.ndarray:
    """Predicted z-score of `gene` in every cell: ``(n_cells,) float32``."""
    with torch.no_grad():
        tokens, mask, acc = model.gene_inputs(gene)
        w = model.gene_model.weights(tokens, mask)[0]
        return model.gene_expression(gene, acc, w).float().cpu().numpy()


def expression_metrics(model: Crescendo, data: PreparedData) -> dict[str, float]:
    """Median Spearman correlations over the held-out cells (module docstring)."""
    model.eval()
    cells = ~data.train_cells
    rho = np.full(data.n_genes, np.nan)
    for g in range(data.n_genes):
        pred = predict_expression(model, g)[cells]
        obs = data.rna_z[cells, g]
        if np.ptp(pred) > 0 and np.ptp(obs) > 0:
            rho[g] = stats.spearmanr(pred, obs).statistic
    test, train = ~data.train_genes, data.train_genes
    return {
        "spearman_test_genes": float(np.nanmedian(rho[test])) if test.any() else float("nan"),
        "spearman_train_genes": float(np.nanmedian(rho[train])) if train.any() else float("nan"),
        "n_test_genes": int(test.sum()),
        "n_train_genes": int(train.sum()),
    }
