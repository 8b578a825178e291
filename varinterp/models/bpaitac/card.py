"""The model card (``README.md``) of a trained bpAI-TAC or Tn5 bias model directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig, count_parameters

__all__ = ["model_card"]


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def model_card(
    *, config: BpAiTacConfig, metadata: Mapping[str, Any], summaries: Mapping[int, Mapping]
) -> str:
    """Markdown: architecture, data, training, held-out metrics per member, intended use."""
    role = metadata.get("role", "bpaitac")
    bias_net = role == "tn5-bias"
    n_params = count_parameters(BpAiTac(config))
    t = metadata.get("training", {})
    d = metadata.get("data", {})
    loss = metadata.get("loss", {})
    tasks = metadata.get("tasks", [])
    title = "Tn5 bias model" if bias_net else "bpAI-TAC model"
    lines = [
        f"# {title} (trained with varinterp)",
        "",
        "## Model",
        "",
        f"- bpAI-TAC body: stem conv {config.stem_kernel} bp ({config.stem_activation} after "
        f"it), {config.n_blocks} dilated residual blocks of {config.filters} filters; "
        f"{n_params:,} trainable parameters.",
        f"- Input: one-hot sequence (batch, 4, {config.input_length}). Output: per task the "
        f"Tn5 insertion profile over the central {config.output_length} bp (softmax over "
        "positions)"
        + ("" if bias_net else " and the insertion count there (counts, not log counts)")
        + ".",
    ]
    if bias_net:
        lines.append(
            "- Role: the frozen Tn5 bias network of bpAI-TAC models (its profile logits are "
            "added to theirs; `varinterp train bpaitac --bias-model`)."
        )
    else:
        b = metadata.get("bias_model")
        source = f"frozen network from {b['path']}" if b else "none (trained --no-bias)"
        lines.append(
            f"- Tn5 bias: {source}; it is part of every member's weights, and scoring "
            "recomputes it on each ALT sequence."
        )
    lines += [
        "",
        "## Data",
        "",
        f"- Tasks ({len(tasks)}): {', '.join(str(x) for x in tasks) or 'tn5 (summed)'}.",
        f"- Windows: {d.get('n_windows')} ({d.get('n_train')} train, {d.get('n_validation')} "
        f"validation, {d.get('n_test')} test); validation contigs "
        f"{d.get('validation_chroms')}, test contigs {d.get('test_chroms')}"
        + (f", validation share {d['validation_fraction']}" if d.get("validation_fraction") else "")
        + f"; centre sums normalised: {d.get('normalize')}.",
        "",
        "## Training",
        "",
        f"- Loss {loss.get('kind')}"
        + ("" if bias_net else f", lambda {_fmt(loss.get('lambda'))}")
        + f"; Adam lr {_fmt(t.get('lr'))} with a {t.get('warmup_steps')}-step warm-up, batch "
        f"{t.get('batch_size')}, at most {t.get('max_epochs')} epochs, patience "
        f"{t.get('patience')}; seed {t.get('seed')}, {t.get('replicates')} replicate(s).",
        "",
        "## Held-out test windows",
        "",
    ]
    keys = (
        ("profile_jsd_median", "profile_pearson_median")
        if bias_net
        else ("ocr_pearson_median", "task_pearson_median", "profile_jsd_median")
    )
    lines.append("| member | best epoch | " + " | ".join(keys) + " |")
    lines.append("|---|---|" + "---|" * len(keys))
    for k, s in sorted(summaries.items()):
        m = s.get("test_metrics") or {}
        lines.append(
            f"| replicate_{k} | {s.get('best_epoch')} | "
            + " | ".join(_fmt(m.get(key)) for key in keys)
            + " |"
        )
    lines += [
        "",
        "## Intended use",
        "",
        (
            "The bias input of bpAI-TAC models trained on the same genome and input length."
            if bias_net
            else "Per-cell-type accessibility and Tn5 insertion profiles from sequence; "
            "per-cell-type variant effects (`varinterp score`: log2 fold change of counts "
            "and profile JSD per cell type), attributions and in-silico footprints with the "
            "bias zeroed (`varinterp attribute`, `varinterp atac footprint`)."
        ),
        "",
    ]
    return "\n".join(lines)
