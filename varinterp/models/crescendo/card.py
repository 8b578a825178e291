"""The model card (``README.md``) of a trained cREscENDO model directory."""

from __future__ import annotations

from typing import Any

from varinterp.models.crescendo.network import CrescendoConfig, describe_sizes

__all__ = ["model_card"]

_CARD = """# cREscENDO model

Per-cell cis-regulatory element activity from 10x multiome RNA + ATAC (Murakami, Iida and
Okada, Genes to Cells 2025), trained by varinterp (`varinterp crescendo train`).

- **Data:** {n_cells:,} cells ({n_train_cells:,} training), {n_genes:,} genes
  ({n_train_genes:,} training), {n_peaks:,} peaks ({n_train_peaks:,} training); cell types:
  {cell_types}. Prepared from `{prep}`.
- **Encoder:** scBasset-style, tower {tower}, bottleneck {bottleneck}, 32-d embedding,
  per-cell head over {n_cells:,} cells ({enc_params:,} parameters + {head_params:,} in the
  head). Trained {encoder_epochs} epochs at most, lr {encoder_lr:g}.
- **Gene model:** {n_scores} scores per peak, decoder width {decoder_width}, target
  `{target}` ({n_pcs} PCA components); {gene_params:,} parameters. Attention lr
  {attention_lr:g}, decoder lr {decoder_lr:g}, at most {gene_epochs} epochs, patience
  {gene_patience}.
- **Metrics:** encoder held-out peaks: BCE {val_bce:.4f}, AUROC {val_auroc:.3f}; gene
  expression over the held-out cells, median Spearman: held-out genes {rho_test:.3f},
  training genes {rho_train:.3f}.

Intended use: `varinterp crescendo activity` (per-cell cRE activity by DeepLIFT) and
`varinterp score --model <this folder>` (SNVs in peaks: the predicted change of each
linked gene per cell type). The model only knows the peaks and genes it was trained on.
"""


def model_card(
    *, config: CrescendoConfig, data: Any, settings: Any, metrics: dict[str, Any]
) -> str:
    """The card text for a model trained on `data` with `settings`."""
    sizes = describe_sizes(config)
    return _CARD.format(
        n_cells=data.n_cells,
        n_train_cells=int(data.train_cells.sum()),
        n_genes=data.n_genes,
        n_train_genes=int(data.train_genes.sum()),
        n_peaks=data.n_peaks,
        n_train_peaks=int(data.train_peaks.sum()),
        cell_types=", ".join(data.cell_types),
        prep=data.path.name,
        tower=list(config.tower),
        bottleneck=config.bottleneck,
        enc_params=sizes["encoder"],
        head_params=sizes["encoder_head"],
        encoder_epochs=settings.encoder_epochs,
        encoder_lr=settings.encoder_lr,
        n_scores=config.n_scores,
        decoder_width=config.decoder_width,
        target=settings.target,
        n_pcs=config.n_pcs,
        gene_params=sizes["gene_model"],
        attention_lr=settings.attention_lr,
        decoder_lr=settings.decoder_lr,
        gene_epochs=settings.gene_epochs,
        gene_patience=settings.gene_patience,
        val_bce=metrics.get("encoder_val_bce", float("nan")),
        val_auroc=metrics.get("encoder_val_auroc", float("nan")),
        rho_test=metrics.get("spearman_test_genes", float("nan")),
        rho_train=metrics.get("spearman_train_genes", float("nan")),
    )
