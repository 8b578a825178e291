"""Per-variant effect scores from ref and alt predictions (vectorised NumPy).

Inputs are the ensemble's raw outputs for the ref and alt windows of each variant:
profiles ``(n, 2, L)`` (plus, minus; shape only) and quantities ``(n,)`` (linear RPM).
A predicted *track* is the profile scaled to sum to the quantity
(`varinterp.training.inference.profile_tracks`). The scores (all ``(n,) float64``):

``quantity_ref``, ``quantity_alt``
    predicted total initiation in the output window (both strands, RPM).
``log2fc``
    ``log2((quantity_alt + c) / (quantity_ref + c))`` with pseudocount ``c`` (default
    1e-3 RPM); positive = the ALT allele raises initiation. (variant-scorer's ``logfc``
    is alt over ref too; CLIPNET's MPRA script reports ref over alt.)
``profile_l2``
    Euclidean distance between the alt and ref tracks over both strands and all
    positions, ``sqrt(sum((track_alt - track_ref)^2))``: the CLIPNET QTL L2, which grows
    with both shape and quantity changes.
``profile_jsd``
    Jensen-Shannon *distance* (base 2, in [0, 1]) between the ref and alt profiles, each
    normalised to sum to 1 over both strands: a pure shape change score
    (variant-scorer's ``jsd``). NaN when either profile is all zero.
``directionality_ref``, ``directionality_alt``
    ``log1p(sum plus track) - log1p(sum minus track)``; positive = more plus-strand
    initiation (the CLIPNET directionality metric).
``directionality_delta``
    ``directionality_alt - directionality_ref``.
``tss_shift``
    shift (bp, genomic left-to-right) of the dominant initiation site: on the strand
    with more ref signal, ``argmax(alt track) - argmax(ref track)``. 0 when unchanged.
``tss_strand``
    that strand, ``+1`` (plus) or ``-1`` (minus).

`empirical_pvalues` turns observed scores and null scores (from shuffled contexts)
into ``(1 + #null >= observed) / (K + 1)`` p-values, as variant-scorer does.
"""

from __future__ import annotations

import numpy as np

from varinterp.errors import InputError
from varinterp.training.inference import profile_tracks

__all__ = ["SCORE_COLUMNS", "effect_scores", "empirical_pvalues", "jsd_distance"]

SCORE_COLUMNS = (
    "quantity_ref",
    "quantity_alt",
    "log2fc",
    "profile_l2",
    "profile_jsd",
    "directionality_ref",
    "directionality_alt",
    "directionality_delta",
    "tss_shift",
    "tss_strand",
)


def jsd_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Base-2 Jensen-Shannon distance of rows: ``(n, P), (n, P) -> (n,) float64`` in [0, 1].

    Rows are normalised to sum to 1 first; a row summing to 0 gives NaN.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    sp = p.sum(axis=1, keepdims=True)
    sq = q.sum(axis=1, keepdims=True)
    bad = (sp[:, 0] <= 0) | (sq[:, 0] <= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / np.where(sp > 0, sp, 1.0)
        q = q / np.where(sq > 0, sq, 1.0)
        m = 0.5 * (p + q)
        kl_p = np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
        kl_q = np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0) / np.where(m > 0, m, 1.0)), 0.0)
    js = 0.5 * kl_p.sum(axis=1) + 0.5 * kl_q.sum(axis=1)
    out = np.sqrt(np.clip(js, 0.0, 1.0))
    out[bad] = np.nan
    return out


def effect_scores(
    profile_ref: np.ndarray,
    quantity_ref: np.ndarray,
    profile_alt: np.ndarray,
    quantity_alt: np.ndarray,
    *,
    pseudocount: float = 1e-3,
) -> dict[str, np.ndarray]:
    """All scores of the module docstring, as ``name -> (n,)`` arrays (`SCORE_COLUMNS` order).

    ``profile_*`` ``(n, n_strands, L)``, ``quantity_*`` ``(n,)``. ``tss_shift`` and
    ``tss_strand`` are ``int64``; the rest ``float64``.
    """
    pr = np.asarray(profile_ref, dtype=np.float64)
    pa = np.asarray(profile_alt, dtype=np.float64)
    if pr.shape != pa.shape or pr.ndim != 3:
        msg = f"ref profile {pr.shape} and alt profile {pa.shape} must both be (n, strands, L)"
        raise InputError(msg)
    if pseudocount < 0:
        msg = f"pseudocount must be >= 0, got {pseudocount}"
        raise InputError(msg)
    qr = np.asarray(quantity_ref, dtype=np.float64).reshape(-1)
    qa = np.asarray(quantity_alt, dtype=np.float64).reshape(-1)
    n = pr.shape[0]
    tr = profile_tracks(pr, qr)
    ta = profile_tracks(pa, qa)
    with np.errstate(divide="ignore", invalid="ignore"):
        log2fc = np.log2(qa + pseudocount) - np.log2(qr + pseudocount)
    l2 = np.sqrt(((ta - tr) ** 2).reshape(n, -1).sum(axis=1))
    jsd = jsd_distance(pr.reshape(n, -1), pa.reshape(n, -1))
    s_r = tr.sum(axis=2)
    s_a = ta.sum(axis=2)
    if pr.shape[1] >= 2:
        dir_r = np.log1p(s_r[:, 0]) - np.log1p(s_r[:, 1])
        dir_a = np.log1p(s_a[:, 0]) - np.log1p(s_a[:, 1])
    else:
        dir_r = np.full(n, np.nan)
        dir_a = np.full(n, np.nan)
    strand = np.argmax(s_r, axis=1)  # ties -> plus
    rows = np.arange(n)
    tss_r = tr[rows, strand].argmax(axis=1)
    tss_a = ta[rows, strand].argmax(axis=1)
    return {
        "quantity_ref": qr,
        "quantity_alt": qa,
        "log2fc": log2fc,
        "profile_l2": l2,
        "profile_jsd": jsd,
        "directionality_ref": dir_r,
        "directionality_alt": dir_a,
        "directionality_delta": dir_a - dir_r,
        "tss_shift": (tss_a - tss_r).astype(np.int64),
        "tss_strand": np.where(strand == 0, 1, -1).astype(np.int64),
    }


def empirical_pvalues(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """``(1 + #{null_k >= observed}) / (K + 1)`` per row: ``(n,), (n, K) -> (n,) float64``.

    NaN nulls are left out of both counts; a NaN observation gives NaN.
    """
    obs = np.asarray(observed, dtype=np.float64).reshape(-1)
    null = np.asarray(null, dtype=np.float64)
    if null.ndim != 2 or null.shape[0] != obs.shape[0]:
        msg = f"null scores must be (n, K) with n={obs.shape[0]}, got {null.shape}"
        raise InputError(msg)
    valid = ~np.isnan(null)
    ge = (null >= obs[:, None]) & valid
    p = (1.0 + ge.sum(axis=1)) / (1.0 + valid.sum(axis=1))
    p[np.isnan(obs)] = np.nan
    return p
