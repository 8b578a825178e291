"""Figures of a locus report, drawn with matplotlib's Agg canvas (no pyplot, no display).

Each function returns PNG bytes; `data_uri` turns them into a ``data:image/png;base64``
URI for inlining in the HTML, so the report works offline as one file. With ``save_as``
(a path without suffix) the same figure is also written as ``.svg`` and ``.pdf`` (for a
paper or a slide).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Arc

from varinterp.report.inputs import TrackSpec, chrom_key

__all__ = [
    "abc_figure",
    "cell_type_colours",
    "data_uri",
    "label_rows",
    "locus_figure",
    "tracks_figure",
]

_R2_BINS = [(0.8, "#d7191c", "0.8-1"), (0.6, "#fdae61", "0.6-0.8"), (0.4, "#7fbf3f", "0.4-0.6")]
_R2_BINS += [(0.2, "#4aa3df", "0.2-0.4"), (0.0, "#2b3a8c", "0-0.2")]
_PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"]
_DPI = 100


def cell_type_colours(*groups) -> dict[str, str]:
    """One colour per cell type over every group of names (first seen, first coloured)."""
    out: dict[str, str] = {}
    for group in groups:
        for name in group:
            if str(name) not in out:
                out[str(name)] = _PALETTE[len(out) % len(_PALETTE)]
    return out


def _png(fig: Figure, save_as: Path | None = None) -> bytes:
    """PNG bytes of `fig`; with `save_as`, also ``save_as.svg`` and ``save_as.pdf``."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight")
    if save_as is not None:
        import matplotlib

        from varinterp.io.atomic import atomic_path

        for fmt in ("svg", "pdf"):
            target = Path(f"{save_as}.{fmt}")
            # fixed ids and no dates: the same figure gives the same bytes
            meta = {"Date": None} if fmt == "svg" else {"CreationDate": None}
            with (
                matplotlib.rc_context({"svg.hashsalt": "varinterp"}),
                atomic_path(target, suffix=f".{fmt}") as tmp,
            ):
                fig.savefig(tmp, format=fmt, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def label_rows(positions, labels, span: float, *, max_rows: int = 4) -> list[int | None]:
    """Greedy rows for text labels centred at `positions` so none overlap: the row of each
    label (in input order), or None when all `max_rows` rows are full there. A label is
    taken as ``0.8%`` of `span` per character plus a margin (8-pt text, 11-inch axes)."""
    order = np.argsort(np.asarray(positions, dtype=np.float64), kind="stable")
    ends: list[float] = []
    rows: list[int | None] = [None] * len(order)
    for i in order:
        half = (len(str(labels[i])) * 0.008 + 0.01) * span / 2
        left = float(positions[i]) - half
        row = next((r for r, e in enumerate(ends) if e < left), None)
        if row is None and len(ends) < max_rows:
            ends.append(-np.inf)
            row = len(ends) - 1
        if row is not None:
            ends[row] = float(positions[i]) + half
            rows[i] = row
    return rows


def data_uri(png: bytes) -> str:
    """PNG bytes -> ``data:image/png;base64,...``."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _mb(x):
    return np.asarray(x, dtype=np.float64) / 1e6


def _gene_track(ax, genes: pd.DataFrame | None, chrom: str, lo: int, hi: int) -> None:
    ax.set_yticks([])
    ax.set_ylabel("genes", rotation=0, ha="right", va="center")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if genes is None or genes.empty:
        ax.text(0.5, 0.5, "genes not provided", transform=ax.transAxes, ha="center", va="center")
        return
    g = genes[(genes["chrom"].map(chrom_key) == chrom_key(chrom))]
    g = g[(g["end"] > lo) & (g["start"] < hi)].sort_values("start")
    for (_, row), (y, labelled) in zip(g.iterrows(), _gene_rows(g, hi - lo), strict=True):
        ax.plot(_mb([row["start"], row["end"]]), [y, y], color="#333", lw=2)
        dx = 0.004 * (hi - lo) / 1e6 * (1 if row["strand"] == "+" else -1)
        ax.annotate(
            "",
            xy=(_mb(row["tss"]) + dx, y + 0.35),
            xytext=(_mb(row["tss"]), y + 0.35),
            arrowprops={"arrowstyle": "->", "color": "#333"},
        )
        if labelled:
            ax.text(
                _mb((row["start"] + row["end"]) / 2),
                y + 0.45,
                str(row["name"]),
                ha="center",
                fontsize=7,
            )
    ax.set_ylim(-0.5, _GENE_ROWS)


#: rows of the gene track; a gene whose label fits in none is drawn without it
_GENE_ROWS = 4


def _gene_rows(genes: pd.DataFrame, span: int) -> list[tuple[int, bool]]:
    """Greedy row packing of gene labels: ``(row, labelled)`` per gene, in start order.

    A label is taken as ``0.8%`` of the axis width per character (7-pt text on the
    11-inch figure) plus a margin; each gene goes to the first row whose last label
    ends before its own begins.
    """
    ends: list[float] = []
    out: list[tuple[int, bool]] = []
    for start, end, name in zip(genes["start"], genes["end"], genes["name"], strict=True):
        mid = (start + end) / 2
        half = (len(str(name)) * 0.008 + 0.015) * span / 2
        left, right = min(start, mid - half), max(end, mid + half)
        row = next((r for r, e in enumerate(ends) if e < left), None)
        if row is None and len(ends) < _GENE_ROWS:
            ends.append(-np.inf)
            row = len(ends) - 1
        if row is None:
            row = int(np.argmin(ends))
            out.append((row, False))
            ends[row] = max(ends[row], end)
            continue
        out.append((row, True))
        ends[row] = right
    return out


def locus_figure(
    variants: pd.DataFrame,
    *,
    lead: str,
    r2: np.ndarray | None,
    genes: pd.DataFrame | None = None,
    title: str = "",
    save_as: Path | None = None,
) -> bytes:
    """-log10 p coloured by r^2 with `lead`, PIP coloured by credible set, genes.

    `variants`: the fine-mapping table (1-based ``pos``); `r2` ``(n,)`` r^2 of each row
    with the lead (None: no LD colouring).
    """
    fig = Figure(figsize=(11, 6.8))
    axes = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 1.5]})
    x = _mb(variants["pos"].to_numpy() - 1)
    logp = -np.log10(np.clip(variants["p"].to_numpy(dtype=np.float64), 1e-300, 1.0))
    is_lead = (variants["variant_id"] == lead).to_numpy()
    ax = axes[0]
    if r2 is None:
        ax.scatter(x, logp, s=14, c="#555", edgecolors="none", label="LD not provided")
    else:
        for lo_r2, colour, label in _R2_BINS:
            hi_r2 = {0.8: 1.01, 0.6: 0.8, 0.4: 0.6, 0.2: 0.4, 0.0: 0.2}[lo_r2]
            m = (r2 >= lo_r2) & (r2 < hi_r2) & ~is_lead
            ax.scatter(x[m], logp[m], s=14, c=colour, edgecolors="none", label=f"r² {label}")
    ax.scatter(
        x[is_lead],
        logp[is_lead],
        s=80,
        marker="D",
        c="#7b2cbf",
        edgecolors="k",
        label=f"lead {lead}",
        zorder=5,
    )
    ax.axhline(-np.log10(5e-8), color="#999", ls="--", lw=0.8)
    ax.set_ylabel("-log10 p")
    ax.legend(fontsize=7, loc="upper left", frameon=False, ncol=2)
    if title:
        ax.set_title(title)
    ax = axes[1]
    cs = variants["cs95"].fillna(0).to_numpy(dtype=int)
    ax.scatter(
        x[cs == 0],
        variants["pip"].to_numpy()[cs == 0],
        s=14,
        c="#999",
        edgecolors="none",
        label="not in a 95% CS",
    )
    for k, c in enumerate(sorted(set(cs[cs > 0]))):
        m = cs == c
        ax.scatter(
            x[m],
            variants["pip"].to_numpy()[m],
            s=30,
            c=_PALETTE[k % len(_PALETTE)],
            edgecolors="k",
            linewidths=0.4,
            label=f"95% CS {c}",
        )
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("PIP")
    ax.legend(fontsize=7, loc="upper left", frameon=False, ncol=3)
    chrom = str(variants["chrom"].iloc[0])
    lo, hi = int(variants["pos"].min()) - 1, int(variants["pos"].max())
    _gene_track(axes[2], genes, chrom, lo, hi)
    axes[2].set_xlabel(f"{chrom} position (Mb)")
    return _png(fig, save_as)


def tracks_figure(
    specs: list[TrackSpec],
    *,
    chrom: str,
    pos0: int,
    flank: int,
    label: str,
    elements: pd.DataFrame | None = None,
    colours: dict[str, str] | None = None,
    save_as: Path | None = None,
) -> bytes:
    """Per-cell-type stranded tracks in ``[pos0 - flank, pos0 + flank)``, one row each:
    plus strand up, minus strand down, on one scale shared by all cell types; the variant
    as a vertical line, the cell type's specific elements shaded."""
    from varinterp.io.bigwig import BigWig

    lo, hi = max(pos0 - flank, 0), pos0 + flank
    fig = Figure(figsize=(11, 0.3 + 1.2 * len(specs)))
    axes = np.atleast_1d(fig.subplots(len(specs), 1, sharex=True))
    xs = np.arange(lo, hi)
    signals = []
    for spec in specs:
        with BigWig(spec.plus, absolute=True) as bw:
            plus = bw.values(chrom, lo, hi) if bw.has_contig(chrom) else np.zeros(hi - lo)
        minus = np.zeros(hi - lo)
        if spec.minus is not None:
            with BigWig(spec.minus, absolute=True) as bw:
                minus = bw.values(chrom, lo, hi) if bw.has_contig(chrom) else minus
        signals.append((plus, minus))
    top = max([1e-6] + [float(max(p.max(), m.max())) for p, m in signals])  # one shared scale
    for i, (ax, spec, (plus, minus)) in enumerate(zip(axes, specs, signals, strict=True)):
        colour = spec.color or (colours or {}).get(spec.cell_type) or _PALETTE[i % len(_PALETTE)]
        ax.fill_between(xs, 0, plus, color=colour, step="mid", lw=0)
        ax.fill_between(xs, 0, -minus, color=colour, alpha=0.6, step="mid", lw=0)
        ax.set_ylim(-top * 1.1, top * 1.1)
        if elements is not None and not elements.empty:
            el = elements[
                (elements["cell_type"] == spec.cell_type)
                & (elements["chrom"].map(chrom_key) == chrom_key(chrom))
                & (elements["end"] > lo)
                & (elements["start"] < hi)
            ]
            for s, e in el[["start", "end"]].to_numpy():
                ax.axvspan(s, e, color="#ffd54f", alpha=0.3, lw=0)
        ax.axvline(pos0, color="#7b2cbf", lw=1, ls="--")
        ax.axhline(0, color="#999", lw=0.5)
        ax.set_ylabel(spec.cell_type, rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_title(label, fontsize=9)
    axes[-1].set_xlabel(f"{chrom} position (bp)")
    return _png(fig, save_as)


def abc_figure(
    links: pd.DataFrame,
    *,
    chrom: str,
    lo: int,
    hi: int,
    candidates: pd.DataFrame | None = None,
    colours: dict[str, str] | None = None,
    save_as: Path | None = None,
) -> bytes:
    """ABC links as arcs from element midpoint to target TSS (height grows with distance,
    width with ABC score), one colour per cell type; links of elements holding a
    candidate are drawn solid and labelled with their gene, the rest faint; candidates
    are purple dotted lines. Gene labels are stacked in rows so that none overlap (one
    label per gene)."""
    fig = Figure(figsize=(11, 3.6))
    ax = fig.subplots()
    cell_types = sorted(links["cell_type"].astype(str).unique()) if len(links) else []
    colour = cell_type_colours(list(colours or {}), cell_types)
    colour.update(colours or {})
    cand_pos = (
        candidates["pos"].to_numpy(dtype=np.int64) - 1 if candidates is not None else np.array([])
    )
    top_h = 0.0
    drawn = set()
    labels: dict[str, tuple[float, str]] = {}
    for _, link in links.iterrows():
        mid = (link["start"] + link["end"]) / 2
        a, b = sorted((mid, float(link["tss"])))
        width = max(b - a, 1.0)
        held = bool(((cand_pos >= link["start"]) & (cand_pos < link["end"])).any())
        ct = str(link["cell_type"])
        arc = Arc(
            (_mb((a + b) / 2), 0),
            _mb(width),
            2 * width,
            theta1=0,
            theta2=180,
            color=colour[ct],
            lw=0.8 + 4 * float(link["score"]),
            alpha=1.0 if held else 0.3,
            label=ct if ct not in drawn else None,
        )
        drawn.add(ct)
        ax.add_patch(arc)
        top_h = max(top_h, width)
        gene = str(link["gene"])
        if held and gene not in labels:
            labels[gene] = (float(link["tss"]), colour[ct])
    names = list(labels)
    positions = [labels[g][0] for g in names]
    rows = label_rows(positions, names, hi - lo)
    depth = max((r for r in rows if r is not None), default=0) + 1
    step = 0.09 * max(top_h, 1)
    for gene, pos, row in zip(names, positions, rows, strict=True):
        if row is None:
            continue
        ax.text(_mb(pos), -0.03 * max(top_h, 1) - row * step, gene, ha="center", va="top",
                fontsize=8, color=labels[gene][1])  # fmt: skip
    for p in cand_pos:
        ax.axvline(_mb(p), color="#7b2cbf", lw=0.8, ls=":")
    ax.set_xlim(_mb(lo), _mb(hi))
    ax.set_ylim(-0.06 * max(top_h, 1) - depth * step, 1.1 * max(top_h, 1))
    ax.set_yticks([])
    ax.set_xlabel(f"{chrom} position (Mb)")
    if cell_types:
        ax.legend(fontsize=8, frameon=False, loc="upper right")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return _png(fig, save_as)
