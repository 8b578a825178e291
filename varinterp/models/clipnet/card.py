"""The model card (``README.md``) of a trained or fine-tuned CLIPNET model directory."""

from __future__ import annotations

from typing import Any

from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

__all__ = ["model_card"]


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def model_card(
    *,
    kind: str,
    model_cfg: ClipnetConfig,
    metadata: dict[str, Any],
    summaries: dict[int, dict[str, Any]],
    data: ClipnetData,
) -> str:
    """Markdown: data, folds, training settings, per-fold metrics, intended use."""
    t = metadata["training"]
    n_params = sum(p.numel() for p in _param_shapes(model_cfg))
    folds_by = {}
    for contig, f in metadata["folds"].items():
        folds_by.setdefault(f, []).append(contig)
    lines = [
        f"# CLIPNET ({'fine-tuned' if kind == 'finetune' else 'trained'} with varinterp)",
        "",
        "## Data",
        "",
        f"- Libraries: {len(metadata['libraries'])} from {len(metadata['individuals'])} "
        f"individuals; peaks used: {data.n_peaks} ({data.n_dropped_edge} dropped near "
        "contig ends).",
        f"- Sequence: {'reference only (variants masked)' if metadata['reference_only'] else 'personal two-hot genomes'}.",  # noqa: E501
        f"- Subsample: {metadata['subsample_individuals'] or 'all'} individuals"
        + (f" (replicate {metadata['replicate']})" if metadata["subsample_individuals"] else "")
        + ".",
        f"- Tracks: {metadata['data']['normalize']} per library, 2 x "
        f"{model_cfg.output_length} bp (plus, minus); jitter +-{data.max_jitter} bp; "
        f"reverse complement: {metadata['data']['rc_augment']}.",
    ]
    if metadata.get("source"):
        lines.append(f"- Fine-tuned from: `{metadata['source']}` (same folds).")
    lines += ["", "## Folds", "", "| fold | contigs |", "|---|---|"]
    for f in sorted(folds_by):
        lines.append(f"| {f} | {', '.join(folds_by[f])} |")
    lines += [
        "",
        "Model k tests on fold k and validates on fold (k mod 9) + 1; fold 0 is never "
        "trained on (the ensemble's test set).",
        "",
        "## Training",
        "",
        f"- Architecture: CLIPNET, {n_params:,} parameters; input (batch, 4, "
        f"{model_cfg.input_length}) two-hot; outputs profile (batch, {model_cfg.profile_size}) "
        "and quantity (batch, 1).",
        f"- Adam lr {t['lr']}, batch {t['batch_size']}, at most {t['max_epochs']} epochs, "
        f"early stopping patience {t['patience']} on validation loss (best weights kept); "
        f"first {t['warmup_epochs']} epoch(s) at lr x {t['warmup_factor']}; seed {t['seed']}.",
        f"- Loss: -cosine(profile) + {t['quantity_weight']:g} x MSLE(quantity).",
        "",
        "## Fold models",
        "",
        "| model | best epoch | val loss | test fold | profile PCC (median) | log-quantity PCC |",
        "|---|---|---|---|---|---|",
    ]
    for k in sorted(summaries):
        s = summaries[k]
        m = s.get("test_metrics") or {}
        lines.append(
            f"| fold_{k} | {s['best_epoch']} | {_fmt(s['best_val_loss'])} | {s['test_fold']} | "
            f"{_fmt(m.get('median_profile_pearson'))} | {_fmt(m.get('log_quantity_pearson'))} |"
        )
    lines += [
        "",
        "## Intended use",
        "",
        "Predicting PRO-cap initiation profiles and quantities from 1 kb of (personal) "
        "sequence in the cell type of the training libraries, and scoring variant effects "
        "with the fold ensemble (mean of fold outputs). Evaluate on fold 0 with "
        "`varinterp evaluate` before use; predictions outside the training cell type are "
        "not validated.",
        "",
    ]
    return "\n".join(lines)


def _param_shapes(cfg: ClipnetConfig):
    return list(Clipnet(cfg).parameters())
