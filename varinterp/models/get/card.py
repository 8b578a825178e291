"""The model card (README.md) of a GET model or adapter directory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["get_card"]


def get_card(
    *,
    title: str,
    config: Any,
    cell_types: list[str],
    n_regions: int,
    n_peaks: int,
    n_genes: int,
    metrics: Mapping[str, Any] | None = None,
    objective: str = "expression",
    notes: str = "",
) -> str:
    """Markdown: what the model is, what it was trained on, what it scored."""
    rows = "\n".join(f"| {k} | {v} |" for k, v in (metrics or {}).items())
    return (
        f"# {title}\n\n"
        f"GET (region x motif transformer, varinterp's `get` family), objective: {objective}.\n\n"
        f"- widths: {config.n_features} features per region, D {config.d_model}, "
        f"{config.n_layers} layers, {config.n_heads} heads; positional: {config.positional}\n"
        f"- windows of {n_regions} consecutive accessible regions\n"
        f"- inputs: {n_peaks:,} peaks, {n_genes:,} genes, cell types: {', '.join(cell_types)}\n\n"
        + (f"| metric | value |\n|---|---|\n{rows}\n\n" if rows else "")
        + (f"{notes}\n" if notes else "")
        + "Intended use: expression per gene and cell type from accessibility and motifs, "
        "enhancer scores (Jacobian x accessibility) and SNV effects through motif changes "
        "(`varinterp score`). See docs/get.md.\n"
    )
