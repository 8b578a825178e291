"""Designed SNPs inside planted motif sites: the causal (and decoy) variants of the world.

Three classes, at most one designed SNP per element:

* ``motif_break``: the alt allele puts a base the consensus forbids into an intact site,
  so the site no longer matches on either strand (expected direction ``down``);
* ``motif_gain``: the reference carries the broken site (``MotifSite.intact`` is False)
  and the alt allele restores the consensus (expected direction ``up``);
* ``motif_neutral``: the alt allele is another base the consensus allows at a degenerate
  position (``N``, ``W``, ``Y`` ...), so the site still matches (not causal, ``none``).

Positions are genomic 0-based; ``offset`` is the 0-based position within the motif read in
its own orientation (for a minus-strand site, offset 0 is the site's last plus-strand base).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from varinterp.simulate.elements import Element, MotifSite
from varinterp.simulate.motifs import BASES, allowed_mask, site_matches
from varinterp.simulate.reference import Reference

__all__ = ["PlantedVariant", "covering_match", "plant_motif_variants"]

_CLASSES = {"motif_break": "down", "motif_gain": "up", "motif_neutral": "none"}


@dataclass(frozen=True)
class PlantedVariant:
    """A designed SNP (0-based `pos`, plus-strand `ref`/`alt`) in one motif site."""

    chrom: str
    pos: int
    ref: str
    alt: str
    element_id: str
    site_id: str
    motif: str
    strand: str
    offset: int
    effect: str  # "motif_break", "motif_gain" or "motif_neutral"

    @property
    def direction(self) -> str:
        return _CLASSES[self.effect]

    @property
    def causal(self) -> bool:
        return self.effect != "motif_neutral"


def _genomic(site: MotifSite, offset: int) -> int:
    return site.start + offset if site.strand == "+" else site.end - 1 - offset


def _to_plus(base: int, strand: str) -> int:
    return base if strand == "+" else 3 - base


def covering_match(seq: np.ndarray, pos: int, base: int, motif: str) -> bool:
    """Whether `motif` matches (either strand) any window of `seq` that covers `pos`
    once ``seq[pos]`` is set to `base` (``seq`` is ``(length,) uint8`` codes)."""
    length = allowed_mask(motif).shape[0]
    lo, hi = max(pos - length + 1, 0), min(pos + length, seq.shape[0])
    local = seq[lo:hi].copy()
    local[pos - lo] = base
    for start in range(local.shape[0] - length + 1):
        window = local[start : start + length]
        if site_matches(window, motif, "+") or site_matches(window, motif, "-"):
            return True
    return False


def _design(
    rng: np.random.Generator, seq: np.ndarray, site: MotifSite, effect: str
) -> tuple[int, int, int, int] | None:
    """(offset, pos, ref code, alt code) for `effect` at `site`, or None when impossible.

    A break (or the broken reference of a gain) leaves no match of the motif, on either
    strand, in any window covering the SNP.
    """
    mask = allowed_mask(site.motif)
    n_ok = mask.sum(axis=1)
    if effect == "motif_neutral":
        offsets = np.flatnonzero((n_ok >= 2) & (n_ok < 4))
        if offsets.size == 0:
            offsets = np.flatnonzero(n_ok >= 2)
    else:
        offsets = np.flatnonzero(n_ok == 1)
        if offsets.size == 0:
            offsets = np.flatnonzero(n_ok < 4)
    for off in rng.permutation(offsets):
        pos = _genomic(site, int(off))
        ref = int(seq[pos])
        ref_m = _to_plus(ref, site.strand)  # ref read in motif orientation
        if effect == "motif_neutral":
            choices = [b for b in range(4) if mask[off, b] and b != ref_m]
        else:
            choices = [b for b in range(4) if not mask[off, b]]
        for alt_m in rng.permutation(choices):
            alt = _to_plus(int(alt_m), site.strand)
            if effect == "motif_neutral":
                mutated = seq[site.start : site.end].copy()
                mutated[pos - site.start] = alt
                if site_matches(mutated, site.motif, site.strand):
                    return int(off), pos, ref, alt
            elif not covering_match(seq, pos, alt, site.motif):
                # a gain swaps the roles: the reference gets the broken base
                if effect == "motif_gain":
                    return int(off), pos, alt, ref
                return int(off), pos, ref, alt
    return None


def plant_motif_variants(
    *,
    rng: np.random.Generator,
    reference: Reference,
    elements: tuple[Element, ...],
    n_variants: int,
    shares: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> tuple[Reference, tuple[Element, ...], tuple[PlantedVariant, ...]]:
    """Design up to `n_variants` SNPs in planted motif sites (break, gain, neutral by `shares`).

    Motifs are drawn evenly (then a random site of that motif), at most one SNP per element
    (so a world with few elements gets fewer). A gain
    rewrites the reference at the site (the returned reference and elements reflect that).
    Returns the new reference, the elements and the variants sorted by (chromosome, pos).
    """
    sequences = {name: seq.copy() for name, seq in reference.sequences.items()}
    n_break = round(n_variants * shares[0])
    n_gain = round(n_variants * shares[1])
    plan = (
        ["motif_break"] * n_break
        + ["motif_gain"] * n_gain
        + ["motif_neutral"] * (n_variants - n_break - n_gain)
    )
    by_motif: dict[str, list[tuple[int, int]]] = {}
    for ei, element in enumerate(elements):
        for si, site in enumerate(element.sites):
            by_motif.setdefault(site.motif, []).append((ei, si))
    degenerate = {m for m in by_motif if (allowed_mask(m).sum(axis=1) > 1).any()}
    used_elements: set[int] = set()
    changed: dict[int, dict[int, MotifSite]] = {}
    planted: list[PlantedVariant] = []
    for effect in plan:
        names = sorted(degenerate if effect == "motif_neutral" else by_motif)
        for _ in range(50):
            if not names:
                break
            motif = names[int(rng.integers(len(names)))]
            ei, si = by_motif[motif][int(rng.integers(len(by_motif[motif])))]
            if ei in used_elements:
                continue
            site = elements[ei].sites[si]
            design = _design(rng, sequences[site.chrom], site, effect)
            if design is None:
                continue
            off, pos, ref, alt = design
            if effect == "motif_gain":
                sequences[site.chrom][pos] = ref
                changed.setdefault(ei, {})[si] = dataclasses.replace(site, intact=False)
            used_elements.add(ei)
            planted.append(
                PlantedVariant(
                    chrom=site.chrom,
                    pos=pos,
                    ref=BASES[ref],
                    alt=BASES[alt],
                    element_id=site.element_id,
                    site_id=site.site_id,
                    motif=site.motif,
                    strand=site.strand,
                    offset=off,
                    effect=effect,
                )
            )
            break
    new_elements = tuple(
        dataclasses.replace(
            el, sites=tuple(changed.get(ei, {}).get(si, s) for si, s in enumerate(el.sites))
        )
        if ei in changed
        else el
        for ei, el in enumerate(elements)
    )
    order = {name: i for i, name in enumerate(sequences)}
    planted.sort(key=lambda v: (order[v.chrom], v.pos))
    return Reference(sequences=sequences), new_elements, tuple(planted)
