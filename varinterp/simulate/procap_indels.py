"""Expected PRO-cap of elements whose haplotypes carry indels (haplotype coordinates).

An indel changes a haplotype's length, so the element's window is no longer a fixed
slice of the reference. For each distinct combination of alleles, `element_signal`
builds the haplotype over the element's window padded by `PAD` bp each side (the
alleles applied in order, VCF style), places every TSS anchor at the haplotype base of
its reference position (the next kept base when the anchor base itself is deleted), runs
the grammar (`procap_grammar.initiation`) over the haplotype around the anchors, and
projects the profile back to reference coordinates: each haplotype base adds its signal
at its reference position; inserted bases have none, so their signal is lost (reads
starting in sequence the reference lacks do not map to it), and deleted reference bases
get none. Without indels this gives exactly what the fixed-window path of
`procap_model` gives.
"""

from __future__ import annotations

import numpy as np

from varinterp.simulate.motifs import encode
from varinterp.simulate.procap_grammar import DEFAULT_GRAMMAR, Anchor, Grammar, initiation, reach

__all__ = ["PAD", "apply_alleles", "element_signal", "indel_rows"]

#: Reference bp added each side of an element's window (longer than the largest indel).
PAD = 64


def indel_rows(world, model) -> np.ndarray | None:
    """Cohort rows ``(k,) int64`` of the variants wholly inside the model's window padded
    by `PAD`, when one of them is an indel; None when none is (the fixed-window path)."""
    cohort = world.cohort
    lo, hi = model.start - PAD, model.end + PAD
    rows = np.flatnonzero(cohort.chrom == model.element.chrom)
    pos = cohort.pos[rows]
    rows = rows[np.searchsorted(pos, lo) : np.searchsorted(pos, hi)]
    if rows.size == 0:
        return None
    ref_len = np.char.str_len(cohort.ref[rows].astype(str))
    alt_len = np.char.str_len(cohort.alt[rows].astype(str))
    rows = rows[cohort.pos[rows] + ref_len <= hi]
    if not (ref_len != alt_len).any():
        return None
    return rows


def apply_alleles(
    ref: np.ndarray, start: int, pos, refs, alts, carried: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One haplotype of the reference slice `ref` ``(W,) uint8`` (starting at `start`)
    with the carried alleles applied (``pos`` 0-based, sorted, non-overlapping; VCF-style
    ``refs``/``alts``). Returns ``(codes (L,) uint8, coords (L,) int64, inserted (L,)
    bool)``: each base's reference position (an inserted base carries the position of
    the base before it) and whether the reference lacks it."""
    codes, coords, inserted = [], [], []
    cursor = 0
    for p, r, a, on in zip(pos, refs, alts, carried, strict=True):
        if not on:
            continue
        off = int(p) - start
        codes.append(ref[cursor:off])
        coords.append(np.arange(start + cursor, start + off, dtype=np.int64))
        inserted.append(np.zeros(off - cursor, dtype=bool))
        shared = min(len(r), len(a))
        alt_codes = encode(str(a))
        codes.append(alt_codes)
        kept = np.arange(int(p), int(p) + shared, dtype=np.int64)
        extra = np.full(len(a) - shared, int(p) + shared - 1, dtype=np.int64)
        coords.append(np.concatenate([kept, extra]))
        inserted.append(np.arange(len(a)) >= shared)
        cursor = off + len(r)
    codes.append(ref[cursor:])
    coords.append(np.arange(start + cursor, start + ref.shape[0], dtype=np.int64))
    inserted.append(np.zeros(ref.shape[0] - cursor, dtype=bool))
    return (
        np.concatenate(codes).astype(np.uint8),
        np.concatenate(coords),
        np.concatenate(inserted),
    )


def element_signal(
    world, model, rows: np.ndarray, alleles: np.ndarray, *, grammar: Grammar = DEFAULT_GRAMMAR
) -> tuple[np.ndarray, np.ndarray]:
    """Expected initiation of one element on haplotypes given by `alleles` ``(R, k)``
    (0 ref / 1 alt of the cohort variants `rows` ``(k,)``; module docstring).

    Returns ``(rates (R, n_anchors) float64, profiles (R, 2, pend - pstart) float64)``
    (profiles in reference coordinates of ``[pstart, pend)``, axis 1: plus, minus), in
    model units as `procap_model.expected_procap` keeps them.
    """
    from varinterp.simulate.procap_model import reference_window, unique_rows

    cohort = world.cohort
    lo = model.start - PAD
    ref = reference_window(world, model.element.chrom, lo, model.end + PAD)
    pos, refs, alts = cohort.pos[rows], cohort.ref[rows], cohort.alt[rows]
    margin, _ = reach(grammar)
    uniq, inverse = unique_rows(np.asarray(alleles, dtype=np.uint8))
    width = model.pend - model.pstart
    rates = np.zeros((uniq.shape[0], len(model.anchors)))
    profiles = np.zeros((uniq.shape[0], 2, width))
    groups: dict[tuple, list] = {}
    for u in range(uniq.shape[0]):
        codes, coords, inserted = apply_alleles(ref, lo, pos, refs, alts, uniq[u].astype(bool))
        hap = np.searchsorted(coords, [t.pos for t in model.tss], side="left")
        first, last = int(hap.min()) - margin, int(hap.max()) + margin + 1
        key = (last - first, tuple(int(h) - first for h in hap))
        piece = slice(first, last)
        groups.setdefault(key, []).append((u, codes[piece], coords[piece], inserted[piece]))
    for (_, offsets), items in groups.items():
        anchors = [Anchor(o, a.strand, a.base) for o, a in zip(offsets, model.anchors, strict=True)]
        r, p = initiation(np.stack([it[1] for it in items]), anchors, grammar=grammar)
        for i, (u, _, coords, inserted) in enumerate(items):
            rates[u] = r[i]
            ok = ~inserted & (coords >= model.pstart) & (coords < model.pend)
            profiles[u][:, coords[ok] - model.pstart] = p[i][:, ok]
    return rates[inverse], profiles[inverse]
