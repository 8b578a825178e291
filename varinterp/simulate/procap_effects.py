"""Exact effects of cohort variants on simulated PRO-cap, by toggling them in the grammar.

For every cohort variant inside the sequence window of an element model (the only
variants that can change its initiation), the ground-truth function is evaluated with
the alt and with the ref allele (near an indel, in haplotype coordinates projected back
to the reference, `procap_indels`):

* on the **reference background** (every other base as in the reference): the
  ``log2fc_*``, ``delta_directionality``, ``profile_jsd`` and ``causal`` columns;
* on each of the cohort's ``2n`` haplotypes as background: ``log2fc_cohort``, the mean
  over haplotypes of the log2 fold change of the element's total initiation.

Columns of the table (one row per variant x element it can affect):

``variant_id``, ``chrom``, ``pos`` (1-based), ``ref``, ``alt``, ``alt_freq``,
``world_class`` (the world's truth ``class``), ``element_id``, ``element_kind``,
``log2fc_total`` (alt vs ref, all anchors), ``log2fc_plus``, ``log2fc_minus`` (anchors
on each strand), ``delta_directionality`` (change of ``log2(plus / minus)``),
``profile_jsd`` (Jensen-Shannon divergence, base 2, between the normalised stranded
profiles), ``peak_shift`` (signed bp, genomic order, that the strongest base of the
profile moves; 0 when it stays or moves to the other strand), ``log2fc_cohort``,
``causal`` (the alt changes the expected profile at all), ``direction`` (``up`` /
``down`` when ``|log2fc_total| >= 0.01``, else ``shape`` when causal, else ``none``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.progress import ProgressCallback, report
from varinterp.simulate.procap_grammar import initiation
from varinterp.simulate.procap_indels import element_signal, indel_rows
from varinterp.simulate.procap_model import (
    ElementModel,
    ExpectedProcap,
    allele_codes,
    haplotype_windows,
    reference_window,
    unique_rows,
    variants_in,
)
from varinterp.simulate.world import World

__all__ = ["EFFECT_COLUMNS", "profile_jsd", "summarize_pair", "variant_effects"]

EFFECT_COLUMNS = (
    "variant_id",
    "chrom",
    "pos",
    "ref",
    "alt",
    "alt_freq",
    "world_class",
    "element_id",
    "element_kind",
    "log2fc_total",
    "log2fc_plus",
    "log2fc_minus",
    "delta_directionality",
    "profile_jsd",
    "peak_shift",
    "log2fc_cohort",
    "causal",
    "direction",
)

_DIRECTION_MIN = 0.01


def profile_jsd(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence (base 2, in [0, 1]) of two non-negative profiles,
    each normalised to sum 1 (any shape; flattened)."""
    p = np.asarray(p, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def _kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    jsd = 0.5 * _kl(p) + 0.5 * _kl(q)
    return jsd if jsd > 1e-12 else 0.0  # rounding noise of a pure rescaling


def _peak_shift(ref_prof: np.ndarray, alt_prof: np.ndarray) -> int:
    """Signed bp the strongest base of the ``(2, W)`` profile moves (genomic order);
    0 when it stays or jumps to the other strand."""
    s_ref, i_ref = np.unravel_index(int(np.argmax(ref_prof)), ref_prof.shape)
    s_alt, i_alt = np.unravel_index(int(np.argmax(alt_prof)), alt_prof.shape)
    return int(i_alt - i_ref) if s_ref == s_alt else 0


def summarize_pair(
    model: ElementModel,
    ref_rates: np.ndarray,
    alt_rates: np.ndarray,
    ref_prof: np.ndarray,
    alt_prof: np.ndarray,
) -> dict[str, float | int | bool | str]:
    """Effect summary of alt vs ref for one element: rates ``(n_anchors,)``, profiles
    ``(2, W)`` -> the ``log2fc_*``, ``delta_directionality``, ``profile_jsd``,
    ``peak_shift``, ``causal`` and ``direction`` entries of the effects table."""
    plus = np.array([a.strand == "+" for a in model.anchors])

    def l2(alt: float, ref: float) -> float:
        return float(np.log2(alt / ref)) if ref > 0 and alt > 0 else float("nan")

    ref_p, ref_m = ref_rates[plus].sum(), ref_rates[~plus].sum()
    alt_p, alt_m = alt_rates[plus].sum(), alt_rates[~plus].sum()
    total = l2(alt_p + alt_m, ref_p + ref_m)
    scale = max(float(np.abs(ref_prof).max()), 1e-300)
    causal = bool(np.abs(alt_prof - ref_prof).max() > 1e-12 * scale)
    if causal and abs(total) >= _DIRECTION_MIN:
        direction = "up" if total > 0 else "down"
    else:
        direction = "shape" if causal else "none"
    return {
        "log2fc_total": total if causal else 0.0,
        "log2fc_plus": l2(alt_p, ref_p) if causal else 0.0,
        "log2fc_minus": l2(alt_m, ref_m) if causal else 0.0,
        "delta_directionality": (l2(alt_p, alt_m) - l2(ref_p, ref_m)) if causal else 0.0,
        "profile_jsd": profile_jsd(ref_prof, alt_prof) if causal else 0.0,
        "peak_shift": _peak_shift(ref_prof, alt_prof),
        "causal": causal,
        "direction": direction,
    }


def _indel_batch(world, model, rows, idx, grammar):
    """Rates and profiles of the same rows as the fixed-window batch of `variant_effects`
    (reference; then per variant of `idx`: alt on the reference, every haplotype with the
    variant set to ref, every haplotype with it set to alt), through `element_signal`."""
    n_hap = 2 * world.cohort.n_samples
    haps = world.cohort.haplotypes[rows].transpose(1, 2, 0).reshape(n_hap, rows.size)
    col = {int(r): c for c, r in enumerate(rows)}
    batch = [np.zeros((1, rows.size), np.int8)]
    for v in idx:
        c = col[int(v)]
        alt_row = np.zeros((1, rows.size), np.int8)
        alt_row[0, c] = 1
        with_ref, with_alt = haps.copy(), haps.copy()
        with_ref[:, c] = 0
        with_alt[:, c] = 1
        batch += [alt_row, with_ref, with_alt]
    return element_signal(world, model, rows, np.vstack(batch), grammar=grammar)


def variant_effects(
    world: World,
    expected: ExpectedProcap,
    *,
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """The effects table (module docstring), in element then position order."""
    grammar = expected.grammar
    cohort = world.cohort
    n_hap = 2 * cohort.n_samples
    freq = cohort.alt_counts() / n_hap
    world_class = dict(zip(world.truth["variant_id"], world.truth["class"], strict=True))
    rows: list[dict] = []
    for k, model in enumerate(expected.models):
        el = model.element
        idx = variants_in(world, el.chrom, model.start, model.end)
        report(on_progress, k + 1, len(expected.models))
        if idx.size == 0:
            continue
        near = indel_rows(world, model)
        if near is not None:
            r_u, p_u = _indel_batch(world, model, near, idx, grammar)
            inverse = np.arange(r_u.shape[0])
        else:
            ref = reference_window(world, el.chrom, model.start, model.end)
            haps = haplotype_windows(world, model).reshape(n_hap, model.width)
            cols = cohort.pos[idx] - model.start
            ref_c, alt_c = allele_codes(cohort.ref[idx]), allele_codes(cohort.alt[idx])
            batch = [ref[None]]
            for j in range(idx.size):
                alt_row = ref.copy()
                alt_row[cols[j]] = alt_c[j]
                with_ref, with_alt = haps.copy(), haps.copy()
                with_ref[:, cols[j]] = ref_c[j]
                with_alt[:, cols[j]] = alt_c[j]
                batch += [alt_row[None], with_ref, with_alt]
            uniq, inverse = unique_rows(np.vstack(batch))
            r_u, p_u = initiation(uniq, model.anchors, grammar=grammar)
            p_u = p_u[:, :, model.profile_slice]
        ref_i = inverse[0]
        for j, v in enumerate(idx):
            base = 1 + j * (1 + 2 * n_hap)
            alt_i = inverse[base]
            hr = r_u[inverse[base + 1 : base + 1 + n_hap]].sum(axis=1)
            ha = r_u[inverse[base + 1 + n_hap : base + 1 + 2 * n_hap]].sum(axis=1)
            row = {
                "variant_id": str(cohort.ids[v]),
                "chrom": el.chrom,
                "pos": int(cohort.pos[v]) + 1,
                "ref": str(cohort.ref[v]),
                "alt": str(cohort.alt[v]),
                "alt_freq": round(float(freq[v]), 6),
                "world_class": world_class.get(str(cohort.ids[v]), "."),
                "element_id": el.element_id,
                "element_kind": el.kind,
            }
            row |= summarize_pair(model, r_u[ref_i], r_u[alt_i], p_u[ref_i], p_u[alt_i])
            row["log2fc_cohort"] = float(np.mean(np.log2(ha / hr)))
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    return table[list(EFFECT_COLUMNS)]
