"""The truth tables of the simulated multiome world: gene-peak pairs and designed SNVs
(`varinterp.simulate.multiome`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.simulate.motifs import allowed_mask
from varinterp.simulate.multiome_grammar import PIONEERS, W_PIONEER, sigmoid
from varinterp.simulate.reference import Reference

__all__ = ["pair_table", "variant_table"]


def _break_site(reference: Reference, site: tuple, rng: np.random.Generator) -> tuple[int, int]:
    """A position inside a motif site and an ALT base code that breaks it."""
    chrom, start, name, strand = site
    mask = allowed_mask(name)
    fixed = np.flatnonzero(mask.sum(axis=1) == 1)
    i = int(rng.choice(fixed))
    pos = start + i if strand == "+" else start + mask.shape[0] - 1 - i
    ref = int(reference.sequences[chrom][pos])
    choices = [b for b in range(4) if b != ref]
    return pos, int(rng.choice(choices))


def pair_table(peaks: pd.DataFrame, genes: pd.DataFrame, p) -> pd.DataFrame:
    rows = []
    centre = ((peaks["start"] + peaks["end"]) / 2).to_numpy()
    for g, gene in genes.iterrows():
        on = (peaks["chrom"] == gene["chrom"]).to_numpy()
        d = centre - gene["tss"]
        near = np.flatnonzero(on & (np.abs(d) < 300_000))
        for i in near:
            cls, owner = peaks["class"].iat[i], peaks["gene_index"].iat[i]
            role = cls if (owner == g and cls in ("promoter", "causal", "decoy")) else "other"
            rows.append(
                (
                    gene["gene"],
                    peaks["peak_id"].iat[i],
                    float(d[i]),
                    role,
                    peaks["cell_type"].iat[i] if role in ("causal", "decoy") else ".",
                    p.effect if role == "causal" else 0.0,
                )
            )
    return pd.DataFrame(
        rows, columns=["gene", "peak_id", "distance", "role", "cell_type", "effect"]
    )


def variant_table(reference, peaks, sites, prob, logits, gene_names, types, p, rng) -> pd.DataFrame:
    half = p.peak_width // 2
    pioneer_sites = [s for s in sites if s[2] in PIONEERS]
    site_chrom = np.array([s[0] for s in pioneer_sites], dtype=object)
    site_start = np.array([s[1] for s in pioneer_sites], dtype=np.int64)
    rows = []
    for i, row in peaks.iterrows():
        if row["class"] not in ("causal", "decoy"):
            continue
        own = np.flatnonzero(
            (site_chrom == row["chrom"])
            & (site_start >= row["centre"] - half)
            & (site_start < row["centre"] + half)
        )
        if own.size == 0:
            continue
        site = pioneer_sites[int(own[rng.integers(own.size)])]
        pos, alt = _break_site(reference, site, rng)
        k = int(row["type_index"])
        delta = 0.0
        if row["class"] == "causal":
            new = sigmoid(np.array(logits[i, k] - W_PIONEER))
            delta = p.effect * (float(new) - float(prob[i, k]))
        ref = int(reference.sequences[row["chrom"]][pos])
        rows.append(
            (
                f"sim{len(rows) + 1:05d}",
                row["chrom"],
                pos + 1,
                "ACGT"[ref],
                "ACGT"[alt],
                row["peak_id"],
                row["class"],
                gene_names[int(row["gene_index"])],
                types[k],
                delta,
            )
        )
    cols = [
        "id",
        "chrom",
        "pos",
        "ref",
        "alt",
        "peak_id",
        "peak_class",
        "gene",
        "cell_type",
        "true_delta",
    ]
    table = pd.DataFrame(rows, columns=cols)
    order = {c: j for j, c in enumerate(reference.names)}
    return (
        table.assign(_o=table["chrom"].map(order))
        .sort_values(["_o", "pos"])
        .drop(columns="_o")
        .reset_index(drop=True)
    )
