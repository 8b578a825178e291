"""Rank the candidate causal variants of a locus, with the reason for each rank.

A candidate is a fine-mapped variant with PIP >= `min_pip` or in a 95% / 99% credible set.
When fewer than `min_candidates` qualify, the next-highest PIPs are added **for context**:
they carry ``role`` ``context``, no rank, and come after the ranked candidates (never
ranked with them). Each variant gets three pieces of functional evidence, each worth at
most 1:

* ``element``: 1 when it lies in a cell-type-specific element (any cell type);
* ``abc``: 1 when an element holding it has an ABC link to a gene (any cell type);
* ``effect``: ``min(|log2fc| / effect_scale, 1)`` from predicted variant effects (0 if
  not scored); `effect_scale` 1 means a two-fold predicted change counts fully.

``score = pip * (1 + element + abc + effect)``: fine-mapping comes first (a variant with
PIP 0 never ranks), and functional evidence can lift a variant up to four-fold above a
variant of equal PIP without any. Ties are broken by PIP, then by p-value. Evidence that
was not provided counts 0 for every variant, so the ranking is then by PIP.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.report.inputs import chrom_key

__all__ = ["CANDIDATE_COLUMNS", "rank_candidates"]

CANDIDATE_COLUMNS = [
    "rank",
    "role",
    "variant_id",
    "chrom",
    "pos",
    "ref",
    "alt",
    "z",
    "p",
    "pip",
    "cs95",
    "cs99",
    "specific_in",
    "element",
    "abc_genes",
    "abc_top_gene",
    "abc_top_score",
    "log2fc",
    "profile_l2",
    "score",
    "reason",
]

_COMPLEMENT = str.maketrans("ACGT", "TGCA")


def _hits(table: pd.DataFrame | None, chrom: str, pos0: int) -> pd.DataFrame:
    if table is None or table.empty:
        return pd.DataFrame()
    keys = table["chrom"].map(chrom_key)
    m = (keys == chrom_key(chrom)) & (table["start"] <= pos0) & (table["end"] > pos0)
    return table[m.to_numpy()]


def _effect(effects: pd.DataFrame | None, row: pd.Series) -> tuple[float, float]:
    if effects is None or effects.empty:
        return np.nan, np.nan
    e = effects[
        (effects["chrom"].map(chrom_key) == chrom_key(row["chrom"]))
        & (effects["pos"] == row["pos"])
    ]
    ref, alt = str(row["ref"]).upper(), str(row["alt"]).upper()
    for _, r in e.iterrows():
        er, ea = str(r["ref"]).upper(), str(r["alt"]).upper()
        l2 = float(r["profile_l2"]) if "profile_l2" in r else np.nan
        if (er, ea) in ((ref, alt), (ref.translate(_COMPLEMENT), alt.translate(_COMPLEMENT))):
            return float(r["log2fc"]), l2
        if (er, ea) in ((alt, ref), (alt.translate(_COMPLEMENT), ref.translate(_COMPLEMENT))):
            return -float(r["log2fc"]), l2
    return np.nan, np.nan


def rank_candidates(
    variants: pd.DataFrame,
    *,
    elements: pd.DataFrame | None = None,
    abc: pd.DataFrame | None = None,
    effects: pd.DataFrame | None = None,
    min_pip: float = 0.01,
    min_candidates: int = 5,
    effect_scale: float = 1.0,
) -> pd.DataFrame:
    """Rank fine-mapped `variants` (``variants.tsv`` of finemap) -> `CANDIDATE_COLUMNS`.

    `elements` (``chrom start end cell_type``), `abc` (``chrom start end gene tss score
    cell_type``) and `effects` (``chrom pos ref alt log2fc [profile_l2]``) are optional.
    """
    v = variants.copy()
    in_cs = (v["cs95"].fillna(0) > 0) | (v["cs99"].fillna(0) > 0)
    chosen = v[(v["pip"] >= min_pip) | in_cs].assign(role="candidate")
    if len(chosen) < min_candidates:
        extra = v.drop(index=chosen.index).sort_values("pip", ascending=False)
        extra = extra.head(min_candidates - len(chosen)).assign(role="context")
        chosen = pd.concat([chosen, extra])
    keys = set(chosen["chrom"].map(chrom_key))
    elements, abc, effects = (
        None if t is None else t[t["chrom"].map(chrom_key).isin(keys).to_numpy()]
        for t in (elements, abc, effects)
    )  # keep only the locus' chromosome(s) once, not per candidate
    rows = []
    for _, r in chosen.iterrows():
        pos0 = int(r["pos"]) - 1
        el = _hits(elements, r["chrom"], pos0)
        links = _hits(abc, r["chrom"], pos0)
        log2fc, l2 = _effect(effects, r)
        cts = sorted(set(el["cell_type"].astype(str))) if len(el) else []
        element = (
            ";".join(sorted({f"{c}:{s}-{e}" for c, s, e in el[["chrom", "start", "end"]].values}))
            if len(el)
            else "."
        )
        gene_best: dict[str, tuple[float, str]] = {}
        for _, link in links.iterrows():
            g = str(link["gene"])
            if g not in gene_best or link["score"] > gene_best[g][0]:
                gene_best[g] = (float(link["score"]), str(link["cell_type"]))
        genes = sorted(gene_best.items(), key=lambda kv: -kv[1][0])
        e_el = 1.0 if cts else 0.0
        e_abc = 1.0 if genes else 0.0
        e_eff = 0.0 if np.isnan(log2fc) else min(abs(log2fc) / effect_scale, 1.0)
        pip = float(r["pip"])
        reason = [f"PIP {pip:.3f}"]
        if r["role"] == "context":
            reason[0] = f"context only (PIP {pip:.3f} < --min-pip, in no credible set)"
        if r["cs95"] > 0:
            reason[0] += f" (95% credible set {int(r['cs95'])})"
        elif r["cs99"] > 0:
            reason[0] += f" (99% credible set {int(r['cs99'])})"
        if cts:
            reason.append(f"in a {', '.join(cts)}-specific element ({element})")
        if genes:
            g, (s, ct) = genes[0]
            more = f" and {len(genes) - 1} more" if len(genes) > 1 else ""
            reason.append(f"ABC link to {g} (score {s:.3f}, {ct}){more}")
        if not np.isnan(log2fc):
            reason.append(f"predicted log2FC {log2fc:+.2f} (alt vs ref)")
        rows.append(
            {
                "role": r["role"],
                "variant_id": r["variant_id"],
                "chrom": r["chrom"],
                "pos": int(r["pos"]),
                "ref": r["ref"],
                "alt": r["alt"],
                "z": float(r["z"]),
                "p": float(r["p"]),
                "pip": pip,
                "cs95": int(r["cs95"]),
                "cs99": int(r["cs99"]),
                "specific_in": ",".join(cts) if cts else ".",
                "element": element,
                "abc_genes": ";".join(f"{g}:{s:.4f}:{ct}" for g, (s, ct) in genes) or ".",
                "abc_top_gene": genes[0][0] if genes else ".",
                "abc_top_score": genes[0][1][0] if genes else np.nan,
                "log2fc": log2fc,
                "profile_l2": l2,
                "score": pip * (1.0 + e_el + e_abc + e_eff),
                "reason": "; ".join(reason),
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in CANDIDATE_COLUMNS if c != "rank"])
    table["_context"] = table["role"] == "context"
    table = table.sort_values(
        ["_context", "score", "pip", "p"], ascending=[True, False, False, True], kind="stable"
    ).reset_index(drop=True)
    n_ranked = int((~table["_context"]).sum())
    rank = pd.array([*range(1, n_ranked + 1), *[pd.NA] * (len(table) - n_ranked)], dtype="Int64")
    table.insert(0, "rank", rank)
    return table[CANDIDATE_COLUMNS]
