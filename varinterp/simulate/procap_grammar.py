"""The ground-truth initiation function of simulated PRO-cap: core-promoter grammar -> rates.

`initiation` maps haplotype sequences (one row per haplotype) and a list of TSS *anchors*
to the expected initiation rate of every anchor and a stranded base-resolution profile.
It is a pure function of the sequence: a SNP changes a haplotype's rate only by making
or breaking a motif match that the grammar reads. Motif matches are IUPAC consensus
matches (`varinterp.simulate.motifs`), the same rule that defines the world's designed
motif SNPs.

An anchor is a position ``p`` (the planted +1 base) on a strand, with a base rate. Its
rate on one haplotype is the product (all distances read in the anchor's orientation,
"upstream" meaning 5' of the +1 base)::

    rate = base * f_inr * f_tata * 2 ** min(cap, sum_m coef_m * n_m)

``base``    `Grammar.role_base` of the anchor's role (sense 1, antisense 0.5, enhancer
            0.25) times the element's latent ``strength``;

``f_inr``   Inr (``YYANWYY``, TSS at the A) matches on the anchor's strand whose A lies
            within ``inr_search`` bp of ``p``; each match at distance ``d`` weighs
            ``g = 2 ** (-d / inr_decay)``; ``f_inr = min(1, sum g)``. Without any match,
            ``f_inr = inr_absent`` and initiation is dispersed.
``f_tata``  ``tata_factor`` when a TATA box (``TATAWAWR``) matches on the anchor's strand
            with its first base ``tata_upstream`` (28..34) bp upstream of ``p``, else 1.
``n_m``     matches (either strand, counted once per position) of each activator motif
            ``m`` lying wholly within ``activator_up`` bp upstream to ``activator_down``
            bp downstream of ``p``; ``coef_m`` is its log2 effect (`Grammar.activator_log2`),
            and the sum is capped at ``activator_cap``.

Shape: each Inr match ``q`` gets the share ``g_q / sum g`` of the rate, spread by the
narrow kernel `Grammar.peak_kernel` over ``q-2..q+2`` (oriented: the kernel leans
downstream); without an Inr, the rate is spread by a discrete Gaussian (sd
``dispersed_sd``) over ``p +- dispersed_half``.

Sequences are ``uint8`` codes A=0, C=1, G=2, T=3, N=4 (N matches nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from varinterp.simulate.motifs import MOTIFS, allowed_mask

__all__ = ["DEFAULT_GRAMMAR", "Anchor", "Grammar", "initiation", "motif_hits", "reach"]


def _roles() -> dict[str, float]:
    return {"sense": 1.0, "antisense": 0.5, "enhancer": 0.25}


def _activators() -> dict[str, float]:
    return {
        "SP1": 0.8,
        "ETS": 0.6,
        "NRF1": 0.7,
        "AP1": 0.7,
        "CEBP": 0.5,
        "NFKB": 0.5,
        "SPI1": 0.6,
        "HNF4A": 0.6,
    }


@dataclass(frozen=True)
class Grammar:
    """Coefficients of the ground-truth initiation function (module docstring)."""

    role_base: dict[str, float] = field(default_factory=_roles)
    inr_search: int = 8
    inr_decay: float = 4.0
    inr_absent: float = 0.1
    tata_factor: float = 4.0
    tata_upstream: tuple[int, int] = (28, 34)
    activator_up: int = 250
    activator_down: int = 50
    activator_log2: dict[str, float] = field(default_factory=_activators)
    activator_cap: float = 3.0
    peak_kernel: tuple[float, ...] = (0.04, 0.12, 0.55, 0.19, 0.10)
    dispersed_sd: float = 5.0
    dispersed_half: int = 15
    implicit_gap: int = 110

    def as_dict(self) -> dict:
        """JSON-ready coefficients (for the output manifest)."""
        return {
            "role_base": dict(self.role_base),
            "inr_search": self.inr_search,
            "inr_decay": self.inr_decay,
            "inr_absent": self.inr_absent,
            "tata_factor": self.tata_factor,
            "tata_upstream": list(self.tata_upstream),
            "activator_up": self.activator_up,
            "activator_down": self.activator_down,
            "activator_log2": dict(self.activator_log2),
            "activator_cap": self.activator_cap,
            "peak_kernel": list(self.peak_kernel),
            "dispersed_sd": self.dispersed_sd,
            "dispersed_half": self.dispersed_half,
            "implicit_gap": self.implicit_gap,
        }


DEFAULT_GRAMMAR = Grammar()


@dataclass(frozen=True)
class Anchor:
    """A TSS of the model: window offset of the +1 base, strand ``+``/``-``, base rate."""

    offset: int
    strand: str
    base: float


def reach(grammar: Grammar = DEFAULT_GRAMMAR) -> tuple[int, int]:
    """(sequence, profile) margins in bp: every base the rate of an anchor at ``p`` reads
    lies within ``p +- sequence``, and its profile within ``p +- profile``."""
    inr = MOTIFS["Inr"]
    seq = max(
        grammar.activator_up,
        grammar.activator_down,
        grammar.tata_upstream[1],
        grammar.inr_search + inr.length,
    )
    half = len(grammar.peak_kernel) // 2
    return seq, max(grammar.inr_search + half, grammar.dispersed_half)


def motif_hits(seqs: np.ndarray, motif: str, strand: str) -> np.ndarray:
    """Where `motif` read on `strand` matches: ``(R, W - L + 1) bool``, column ``j`` for
    the site ``[j, j + L)`` of the plus-strand ``seqs`` ``(R, W) uint8``."""
    mask = allowed_mask(motif)  # (L, 4)
    if strand == "-":
        mask = mask[::-1, ::-1]  # reverse complement: position L-1-k, base 3-b
    length = mask.shape[0]
    table = np.zeros((length, 5), dtype=bool)
    table[:, :4] = mask
    n = seqs.shape[1] - length + 1
    if n <= 0:
        return np.zeros((seqs.shape[0], 0), dtype=bool)
    hit = table[0][seqs[:, :n]]
    for k in range(1, length):
        hit &= table[k][seqs[:, k : k + n]]
    return hit


def _kernel_gauss(grammar: Grammar) -> np.ndarray:
    x = np.arange(-grammar.dispersed_half, grammar.dispersed_half + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / grammar.dispersed_sd) ** 2)
    return k / k.sum()


def _scatter(profile: np.ndarray, rows: np.ndarray, centre: int, kernel, strand, weight):
    """Add ``weight[r] * kernel`` centred at window position `centre` into ``profile[rows]``
    (oriented: kernel index i is offset ``i - half`` downstream on `strand`)."""
    half = len(kernel) // 2
    strand_axis = 0 if strand == "+" else 1
    for i, k in enumerate(kernel):
        off = i - half
        pos = centre + off if strand == "+" else centre - off
        profile[rows, strand_axis, pos] += weight * k


def initiation(
    seqs: np.ndarray,
    anchors: Sequence[Anchor],
    *,
    grammar: Grammar = DEFAULT_GRAMMAR,
    with_profile: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Expected initiation of `anchors` on each haplotype row of `seqs` ``(R, W) uint8``.

    Returns ``(rates, profile)``: rates ``(R, n_anchors) float64``; profile
    ``(R, 2, W) float64`` (axis 1: plus, minus; the rows of each anchor sum to its rate),
    or None without `with_profile`. Every anchor needs the margins of `reach` inside
    the window.
    """
    seqs = np.asarray(seqs, dtype=np.uint8)
    if seqs.ndim != 2:
        msg = f"seqs must be (R, W), got shape {seqs.shape}"
        raise ValueError(msg)
    n_rows, width = seqs.shape
    margin_seq, _ = reach(grammar)
    for a in anchors:
        if a.offset - margin_seq < 0 or a.offset + margin_seq >= width:
            msg = f"anchor at {a.offset} needs {margin_seq} bp each side in a {width} bp window"
            raise ValueError(msg)
    inr = MOTIFS["Inr"]
    tata = MOTIFS["TATA"]
    inr_hits = {s: motif_hits(seqs, "Inr", s) for s in "+-"}
    tata_hits = {s: motif_hits(seqs, "TATA", s) for s in "+-"}
    act_hits = {}
    for name in grammar.activator_log2:
        act_hits[name] = motif_hits(seqs, name, "+") | motif_hits(seqs, name, "-")
    rates = np.zeros((n_rows, len(anchors)), dtype=np.float64)
    profile = np.zeros((n_rows, 2, width), dtype=np.float64) if with_profile else None
    gauss = _kernel_gauss(grammar)
    for ai, a in enumerate(anchors):
        p, plus = a.offset, a.strand == "+"
        # Inr: window start j puts the A (motif index tss_offset) at q
        off = inr.tss_offset or 0
        shift = off if plus else inr.length - 1 - off
        qs = np.arange(p - grammar.inr_search, p + grammar.inr_search + 1)
        inr_at = inr_hits[a.strand][:, qs - shift]  # (R, n_q)
        g = np.where(inr_at, 2.0 ** (-np.abs(qs - p) / grammar.inr_decay), 0.0)
        g_sum = g.sum(axis=1)
        has_inr = g_sum > 0
        f_inr = np.where(has_inr, np.minimum(1.0, g_sum), grammar.inr_absent)
        # TATA: first oriented base u bp upstream of p
        u = np.arange(grammar.tata_upstream[0], grammar.tata_upstream[1] + 1)
        tata_start = p - u if plus else p + u - (tata.length - 1)
        f_tata = np.where(tata_hits[a.strand][:, tata_start].any(axis=1), grammar.tata_factor, 1.0)
        # activators wholly inside the oriented window
        lo = p - grammar.activator_up if plus else p - grammar.activator_down
        hi = p + grammar.activator_down if plus else p + grammar.activator_up  # inclusive
        act = np.zeros(n_rows, dtype=np.float64)
        for name, coef in grammar.activator_log2.items():
            length = MOTIFS[name].length
            act += coef * act_hits[name][:, lo : hi - length + 2].sum(axis=1)
        act = np.minimum(act, grammar.activator_cap)
        rate = a.base * f_inr * f_tata * np.exp2(act)
        rates[:, ai] = rate
        if profile is None:
            continue
        rows_inr = np.flatnonzero(has_inr)
        if rows_inr.size:
            share = g[rows_inr] / g_sum[rows_inr, None]  # (r, n_q)
            for k, q in enumerate(qs):
                w = share[:, k] * rate[rows_inr]
                hit = w > 0
                if hit.any():
                    _scatter(profile, rows_inr[hit], int(q), grammar.peak_kernel, a.strand, w[hit])
        rows_none = np.flatnonzero(~has_inr)
        if rows_none.size:
            _scatter(profile, rows_none, p, gauss, a.strand, rate[rows_none])
    return rates, profile
