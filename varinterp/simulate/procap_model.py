"""Expected PRO-cap initiation of every individual in a world, and exact SNP effects.

Every element of the world gets TSS *anchors*: its planted TSSs (`Element.tss`), plus
implicit ones where a divergent partner was not planted, so that every element can
initiate on both strands: a promoter without a planted antisense TSS gets an antisense
anchor ``implicit_gap`` (110) bp upstream of its sense TSS on the other strand, and an
enhancer without a planted pair gets one ``implicit_gap / 2`` bp each side of its centre
(plus strand downstream, minus strand upstream). Implicit anchors have no planted Inr,
so they initiate weakly and dispersed unless a chance Inr lies nearby.

For each individual, both haplotypes' sequences over each element window are read from
the reference and the phased cohort, passed through `procap_grammar.initiation`, and
summed (diploid); elements near an indel go through `procap_indels` (haplotype
coordinates, projected back to the reference). Rates are turned into expected reads per
million (RPM) with one world-wide factor: ``1e6 / (mean over individuals of the
genome-wide diploid rate)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from varinterp.progress import ProgressCallback, report
from varinterp.simulate.elements import TSS, Element
from varinterp.simulate.motifs import BASES
from varinterp.simulate.procap_grammar import DEFAULT_GRAMMAR, Anchor, Grammar, initiation, reach
from varinterp.simulate.procap_indels import element_signal, indel_rows
from varinterp.simulate.world import World

__all__ = [
    "ElementModel",
    "ExpectedProcap",
    "allele_codes",
    "element_models",
    "expected_procap",
    "haplotype_windows",
    "reference_window",
    "unique_rows",
    "variants_in",
    "window_with",
]

_CODE = {b: i for i, b in enumerate(BASES)}


@dataclass(frozen=True)
class ElementModel:
    """One element's anchors and windows (genomic, 0-based half-open).

    ``[start, end)``: the sequence window the grammar reads; ``[pstart, pend)``: where
    its profile can be non-zero; ``anchors`` use offsets into the sequence window and
    line up with ``tss`` (genomic) and ``planted``.
    """

    element: Element
    start: int
    end: int
    pstart: int
    pend: int
    anchors: tuple[Anchor, ...]
    tss: tuple[TSS, ...]
    planted: tuple[bool, ...]

    @property
    def width(self) -> int:
        return self.end - self.start

    @property
    def profile_slice(self) -> slice:
        return slice(self.pstart - self.start, self.pend - self.start)


def _anchors_of(element: Element, grammar: Grammar) -> list[tuple[TSS, bool]]:
    out = [(t, True) for t in element.tss]
    gap = grammar.implicit_gap
    roles = {t.role for t in element.tss}
    if element.kind == "promoter" and "antisense" not in roles:
        sense = [t for t in element.tss if t.role == "sense"]
        if sense:
            t = sense[0]
            pos, strand = (t.pos - gap, "-") if t.strand == "+" else (t.pos + gap, "+")
            out.append((TSS(element.chrom, pos, strand, "antisense"), False))
    elif element.kind == "enhancer" and not element.tss:
        centre = element.start + element.length // 2
        out.append((TSS(element.chrom, centre - gap // 2, "-", "enhancer"), False))
        out.append((TSS(element.chrom, centre + gap - gap // 2, "+", "enhancer"), False))
    return sorted(out, key=lambda x: (x[0].pos, x[0].strand))


def element_models(world: World, *, grammar: Grammar = DEFAULT_GRAMMAR) -> list[ElementModel]:
    """The `ElementModel` of every element of `world` that has anchors, in element order."""
    margin_seq, margin_prof = reach(grammar)
    models = []
    for el in world.elements:
        pairs = _anchors_of(el, grammar)
        if not pairs:
            continue
        lo = min(t.pos for t, _ in pairs)
        hi = max(t.pos for t, _ in pairs)
        start, end = lo - margin_seq, hi + margin_seq + 1
        base = el.strength
        anchors = tuple(
            Anchor(t.pos - start, t.strand, base * grammar.role_base[t.role]) for t, _ in pairs
        )
        models.append(
            ElementModel(
                element=el,
                start=start,
                end=end,
                pstart=lo - margin_prof,
                pend=hi + margin_prof + 1,
                anchors=anchors,
                tss=tuple(t for t, _ in pairs),
                planted=tuple(p for _, p in pairs),
            )
        )
    return models


def reference_window(world: World, chrom: str, start: int, end: int) -> np.ndarray:
    """``(end - start,) uint8`` reference codes, N (4) beyond the contig ends."""
    seq = world.reference.sequences[chrom]
    out = np.full(end - start, 4, dtype=np.uint8)
    lo, hi = max(start, 0), min(end, seq.shape[0])
    out[lo - start : hi - start] = seq[lo:hi]
    return out


def variants_in(world: World, chrom: str, start: int, end: int) -> np.ndarray:
    """Cohort row indices ``(k,) int64`` of the variants in ``chrom[start:end)``."""
    cohort = world.cohort
    rows = np.flatnonzero(cohort.chrom == chrom)
    if rows.size == 0:
        return rows
    pos = cohort.pos[rows]
    return rows[np.searchsorted(pos, start) : np.searchsorted(pos, end)]


def allele_codes(letters: np.ndarray) -> np.ndarray:
    """Allele letters ``(k,)`` -> ``(k,) uint8`` codes."""
    return np.array([_CODE[str(b)] for b in letters], dtype=np.uint8)


def haplotype_windows(world: World, model: ElementModel) -> np.ndarray:
    """Both haplotypes of every individual over the model's sequence window:
    ``(n_samples, 2, width) uint8`` codes (axis 1: first, second haplotype). SNVs only:
    an element near an indel needs `procap_indels.element_signal`."""
    el = model.element
    ref = reference_window(world, el.chrom, model.start, model.end)
    n = world.cohort.n_samples
    out = np.broadcast_to(ref, (n, 2, ref.shape[0])).copy()
    rows = variants_in(world, el.chrom, model.start, model.end)
    if rows.size:
        cols = world.cohort.pos[rows] - model.start
        ref_c, alt_c = allele_codes(world.cohort.ref[rows]), allele_codes(world.cohort.alt[rows])
        haps = world.cohort.haplotypes[rows]  # (k, n, 2)
        out[:, :, cols] = np.where(haps == 1, alt_c[:, None, None], ref_c[:, None, None]).transpose(
            1, 2, 0
        )
    return out


def window_with(world: World, model: ElementModel, variant: int, allele: str) -> np.ndarray:
    """The reference over the model's window with cohort variant `variant` set to its
    ``"ref"`` or ``"alt"`` allele: ``(width,) uint8``."""
    seq = reference_window(world, model.element.chrom, model.start, model.end)
    letter = world.cohort.ref[variant] if allele == "ref" else world.cohort.alt[variant]
    seq[int(world.cohort.pos[variant]) - model.start] = _CODE[str(letter)]
    return seq


def unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``(R, W) uint8`` -> ``(uniq (U, W) uint8, inverse (R,) int64)``."""
    rows = np.ascontiguousarray(rows)
    keys = rows.view(np.dtype((np.void, rows.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return rows[first], inverse.ravel()


@dataclass(frozen=True, eq=False)
class ExpectedProcap:
    """Expected initiation of every individual (diploid: both haplotypes summed).

    Per model ``k`` (same order as ``models``): ``rates[k]`` ``(n_samples, n_anchors)
    float64`` and ``profiles[k]`` ``(n_samples, 2, pend - pstart) float64`` (plus,
    minus) in model units; ``ref_rates[k]`` ``(n_anchors,)`` of a reference homozygote.
    Multiply by ``scale`` for expected reads per million (RPM).
    """

    models: tuple[ElementModel, ...]
    samples: tuple[str, ...]
    rates: tuple[np.ndarray, ...]
    profiles: tuple[np.ndarray, ...]
    ref_rates: tuple[np.ndarray, ...]
    scale: float
    grammar: Grammar


def expected_procap(
    world: World,
    *,
    grammar: Grammar = DEFAULT_GRAMMAR,
    on_progress: ProgressCallback | None = None,
) -> ExpectedProcap:
    """Run the ground-truth grammar over every individual's two haplotypes."""
    models = element_models(world, grammar=grammar)
    n = world.cohort.n_samples
    rates, profiles, ref_rates = [], [], []
    for k, model in enumerate(models):
        rows = indel_rows(world, model)
        if rows is not None:  # haplotypes of different lengths
            alleles = world.cohort.haplotypes[rows].transpose(1, 2, 0).reshape(2 * n, -1)
            alleles = np.vstack([np.zeros((1, rows.size), np.int8), alleles])
            r_all, p_all = element_signal(world, model, rows, alleles, grammar=grammar)
            rates.append(r_all[1:].reshape(n, 2, -1).sum(axis=1))
            profiles.append(p_all[1:].reshape(n, 2, 2, -1).sum(axis=1))
            ref_rates.append(2.0 * r_all[0])
            report(on_progress, k + 1, len(models))
            continue
        haps = haplotype_windows(world, model).reshape(2 * n, model.width)
        ref = reference_window(world, model.element.chrom, model.start, model.end)
        uniq, inverse = unique_rows(np.vstack([ref[None], haps]))
        r_u, p_u = initiation(uniq, model.anchors, grammar=grammar)
        hap_rates = r_u[inverse[1:]].reshape(n, 2, -1)
        hap_prof = p_u[inverse[1:]][:, :, model.profile_slice].reshape(n, 2, 2, -1)
        rates.append(hap_rates.sum(axis=1))
        profiles.append(hap_prof.sum(axis=1))
        ref_rates.append(2.0 * r_u[inverse[0]])
        report(on_progress, k + 1, len(models))
    total = sum(r.sum(axis=1) for r in rates) if rates else np.zeros(n)
    mean_total = float(np.mean(total)) if n else 0.0
    scale = 1e6 / mean_total if mean_total > 0 else 0.0
    return ExpectedProcap(
        models=tuple(models),
        samples=tuple(world.cohort.samples),
        rates=tuple(rates),
        profiles=tuple(profiles),
        ref_rates=tuple(ref_rates),
        scale=scale,
        grammar=grammar,
    )
