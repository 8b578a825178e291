"""The model card (``README.md``) of a trained DeepDETAILS model directory."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from varinterp.models.deepdetails.network import DeepDetailsConfig
from varinterp.training.engine import EpochLog

__all__ = ["model_card"]


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def model_card(
    *,
    config: DeepDetailsConfig,
    metadata: Mapping[str, Any],
    history: Sequence[EpochLog] = (),
    n_parameters: int | None = None,
) -> str:
    """Markdown: the architecture, the data, the training settings, the epoch log of the
    accepted attempt, the self-check and the intended use."""
    t = metadata.get("training", {})
    kind = "seq-only" if config.seq_only else "fused (sequence + accessibility)"
    cell_types = ", ".join(str(c) for c in metadata.get("cell_types", []))
    monitor = "validation" if t.get("holdout") else "training"
    gradient = "trains" if t.get("redundancy", True) else "is logged only (ablation)"
    lines = [
        "# DeepDETAILS (trained with varinterp)",
        "",
        "## Model",
        "",
        f"- Architecture: {kind}, {_fmt(n_parameters)} parameters; {config.filters} filters, "
        f"{config.n_dilated} dilated blocks, scale placement {config.scale_placement}, "
        f"counts scale {config.count_scale:.4g}.",
        f"- Inputs: one-hot sequence (batch, 4, {config.input_length}), each cell type's "
        f"accessibility (batch, {config.n_cell_types}, {config.input_length}) and the "
        f"scale function (batch, {config.n_cell_types}).",
        f"- Outputs: per cell type and strand a track over the centre "
        f"{config.output_length} bp (batch, {config.n_cell_types}, {config.n_strands}, "
        f"{config.output_length}), on the bulk's scale; their sum is the predicted bulk.",
        "",
        "## Data",
        "",
        f"- Cell types: {cell_types}.",
        f"- Windows: {metadata.get('n_windows')} ({metadata.get('n_train')} trained on, "
        f"{metadata.get('n_validation', 0)} for validation).",
        "",
        "## Training",
        "",
        f"- Adam lr {_fmt(t.get('lr'))} x {_fmt(t.get('lr_decay'))} per epoch, batch "
        f"{t.get('batch_size')}, at most {t.get('epochs')} epochs, early stopping "
        f"(patience {t.get('patience')}) on the {monitor} loss; seed {t.get('seed')}.",
        f"- Loss: RMSLE of the bulk + {_fmt(t.get('alpha'))} x redundancy penalty; the "
        f"penalty's gradient {gradient}, weighting {t.get('penalty_sample_weight')}, "
        f"warm-up {_fmt(t.get('redundancy_warmup'))} and ramp "
        f"{_fmt(t.get('redundancy_ramp'))} epochs.",
        f"- Best epoch {metadata.get('best_epoch')} (loss {_fmt(metadata.get('best_loss'))}) "
        f"of attempt {metadata.get('attempts')}; self-check "
        f"{'passed' if metadata.get('qc_passed') else 'FAILED (a collapsed cell type)'}.",
    ]
    if history:
        lines += ["", "| epoch | lr | train loss | RMSLE | penalty | val loss |"]
        lines.append("|---|---|---|---|---|---|")
        for h in history:
            m = h.metrics
            lines.append(
                f"| {h.epoch}{' *' if h.best else ''} | {h.lr:.3g} | {_fmt(m.get('train_loss'))} "
                f"| {_fmt(m.get('train_rmsle'))} | {_fmt(m.get('train_penalty'))} "
                f"| {_fmt(m.get('val_loss'))} |"
            )
    lines += [
        "",
        "## Intended use",
        "",
        "Splitting the bulk library it was trained on into the listed cell types "
        "(`varinterp deconvolve predict`), and scoring variants per cell type (the scored "
        "windows need each cell type's accessibility bigWig). The model is "
        "fitted to one bulk sample without ground truth; check it against the "
        "proportional and NNLS baselines (`varinterp deconvolve eval`) where a truth exists.",
        "",
    ]
    return "\n".join(lines)
