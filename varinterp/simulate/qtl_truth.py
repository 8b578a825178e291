"""The true genotype-group effect of a SNP on simulated PRO-cap, and the true QTL sets.

The CLIPNET QTL benchmark (`varinterp.effects.qtl`) scores a SNP by the L2 norm of the
difference between the mean track of the hom-ref and of the hom-alt individuals over
the output window centred on it. On a simulated world the same number can be computed
without counting noise, from the expected (noise-free) RPM tracks of the simulator
(`varinterp.simulate.procap_model.expected_procap`): `true_group_l2`. A model's
predicted L2 is then compared with the truth instead of with the observed Poisson
tracks, whose L2 is dominated by counting noise where the true effect is small.

`true_qtl_sets` names the SNPs that truly change initiation quantity (tiQTLs: the
alt allele changes the element's total initiation by at least ``min_log2fc`` in
log2) or directionality (diQTLs: ``log2(plus / minus)`` changes by at least
``min_delta_directionality``), from the simulator's ``variant_effects.tsv``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from varinterp.simulate.procap_model import ExpectedProcap
from varinterp.simulate.world import World

__all__ = ["expected_window_tracks", "true_group_l2", "true_qtl_sets"]


def expected_window_tracks(
    expected: ExpectedProcap, individuals: Sequence[str], chrom: str, start: int, length: int
) -> np.ndarray:
    """Expected RPM of `individuals` over ``[start, start + length)`` of `chrom`.

    The sum of the expected profiles of every element overlapping the window, times the
    world-wide RPM scale. Returns ``(n_individuals, 2, length) float64`` (axis 1: plus,
    minus strand; both non-negative).
    """
    idx = np.array([list(expected.samples).index(s) for s in individuals], dtype=np.int64)
    track = np.zeros((idx.shape[0], 2, length))
    for k, m in enumerate(expected.models):
        if m.element.chrom != chrom:
            continue
        lo, hi = max(start, m.pstart), min(start + length, m.pend)
        if lo >= hi:
            continue
        prof = expected.profiles[k][idx]
        track[:, :, lo - start : hi - start] += prof[:, :, lo - m.pstart : hi - m.pstart]
    return track * expected.scale


def true_group_l2(
    world: World,
    expected: ExpectedProcap,
    chroms: Sequence[str],
    positions: Sequence[int],
    individuals: Sequence[str],
    out_len: int,
) -> np.ndarray:
    """Noise-free genotype-group L2 of each SNP (``chroms[i]``, 0-based ``positions[i]``).

    Per SNP: the expected tracks (`expected_window_tracks`) of `individuals` over the
    `out_len`-bp window starting at ``pos - out_len // 2`` (the benchmark's output
    window of a model whose output is centred), grouped by genotype from the world's
    phased haplotypes; ``sqrt(sum((mean_homref - mean_homalt) ** 2))`` over both
    strands and all positions. NaN for a SNP that is not in the cohort or lacks a
    hom-ref or a hom-alt individual. Returns ``(n_snps,) float64``.
    """
    cohort = world.cohort
    rows = np.array([cohort.samples.index(s) for s in individuals], dtype=np.int64)
    key = {
        (str(c), int(p)): i for i, (c, p) in enumerate(zip(cohort.chrom, cohort.pos, strict=True))
    }
    out = np.full(len(chroms), np.nan)
    for i, (chrom, pos0) in enumerate(zip(chroms, positions, strict=True)):
        v = key.get((str(chrom), int(pos0)))
        if v is None:
            continue
        dosage = cohort.haplotypes[v][rows].sum(axis=1)
        ref_rows, alt_rows = np.flatnonzero(dosage == 0), np.flatnonzero(dosage == 2)
        if ref_rows.size == 0 or alt_rows.size == 0:
            continue
        track = expected_window_tracks(
            expected, individuals, str(chrom), int(pos0) - out_len // 2, out_len
        )
        diff = track[ref_rows].mean(axis=0) - track[alt_rows].mean(axis=0)
        out[i] = float(np.sqrt(np.sum(diff * diff)))
    return out


def true_qtl_sets(
    effects: pd.DataFrame, *, min_log2fc: float = 0.1, min_delta_directionality: float = 0.1
) -> dict[str, set[str]]:
    """Variant IDs of the true QTLs in a ``variant_effects.tsv`` table.

    Returns ``{"causal": ..., "tiQTL": ..., "diQTL": ...}``: every SNP that changes the
    expected profile at all; those whose alt changes an element's total initiation by
    at least `min_log2fc` (absolute log2 fold change, reference background); those
    that change its directionality by at least `min_delta_directionality`. A SNP that
    affects several elements counts when any of them passes.
    """
    causal = effects["causal"].astype(str).str.lower() == "true"
    ti = causal & (effects["log2fc_total"].abs() >= min_log2fc)
    di = causal & (effects["delta_directionality"].abs() >= min_delta_directionality)
    return {
        "causal": set(effects.loc[causal, "variant_id"]),
        "tiQTL": set(effects.loc[ti, "variant_id"]),
        "diQTL": set(effects.loc[di, "variant_id"]),
    }
