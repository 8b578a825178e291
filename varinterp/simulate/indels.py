"""Insertions and deletions of a simulated world: designed indel QTLs and a neutral background.

Off by default (`WorldParams.n_indel_qtls` and `WorldParams.indel_density` are 0), so a
world without them is the world it always was. When on, three designed classes are planted
into elements that carry no designed SNP:

* ``indel_break``: a deletion of 2-6 bp starting inside an intact motif site (any motif the
  grammar reads: an activator, TATA or Inr), chosen so that no window covering the junction
  matches the motif on either strand (expected direction ``down``);
* ``indel_gain``: an insertion of a consensus instance of an activator motif (either
  orientation) 40-200 bp upstream of a promoter's sense TSS, or next to an enhancer's core
  (expected ``up``, unless the element already sits at the activator cap);
* ``indel_shift``: an insertion of 6-12 random bases between a TATA box and its TSS, which
  moves the box out of the 28-34 bp spacing the grammar reads (expected ``down``).

Background indels (1-10 bp, half insertions of random bases, half deletions) fall
uniformly at ``indel_density`` per bp, never touching a motif site, a designed variant or
another indel. Alleles are written as in a VCF: ``ref`` and ``alt`` share their first
(padding) base at 0-based ``pos``.

Genotypes (`add_indels`): each indel's alt-allele count follows the neutral spectrum of
`cohort.neutral_sfs` (designed ones restricted to a minor-allele frequency of at least
``causal_min_maf``), carried by random haplotypes (no LD with the SNPs); a SNP falling in
an indel's reference span is dropped, so that no two variants overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from varinterp.simulate.cohort import Cohort, neutral_sfs
from varinterp.simulate.elements import Element, MotifSite
from varinterp.simulate.motifs import (
    MOTIFS,
    allowed_mask,
    decode,
    reverse_complement,
    sample_instance,
    site_matches,
)
from varinterp.simulate.reference import Reference
from varinterp.simulate.variants import PlantedVariant

__all__ = ["INDEL_CLASSES", "PlantedIndel", "add_indels", "background_indels", "plant_indels"]

INDEL_CLASSES = {"indel_break": "down", "indel_gain": "up", "indel_shift": "down"}
_ACTIVATORS = ("SP1", "ETS", "NRF1", "AP1", "CEBP", "NFKB", "SPI1", "HNF4A")
_SHARES = (0.4, 0.3, 0.3)  # break, gain, shift


@dataclass(frozen=True)
class PlantedIndel:
    """A designed indel: 0-based `pos` of the padding base, VCF-style `ref`/`alt`.

    ``site_id``/``motif``/``strand`` name the site it breaks (break), the motif it inserts
    (gain) or the TATA box it moves (shift); ``offset`` is the first deleted base's
    position within the motif read in its own orientation (break), else -1.
    """

    chrom: str
    pos: int
    ref: str
    alt: str
    element_id: str
    site_id: str
    motif: str
    strand: str
    offset: int
    effect: str  # a key of INDEL_CLASSES

    @property
    def direction(self) -> str:
        return INDEL_CLASSES[self.effect]

    @property
    def causal(self) -> bool:
        return True

    @property
    def length(self) -> int:
        """``len(alt) - len(ref)``: positive for an insertion."""
        return len(self.alt) - len(self.ref)


def _junction_matches(seq: np.ndarray, start: int, n_del: int, motif: str) -> bool:
    """Whether `motif` matches (either strand) a window covering the junction left when
    ``seq[start:start + n_del]`` is deleted."""
    length = allowed_mask(motif).shape[0]
    lo, hi = max(start - length, 0), min(start + n_del + length, seq.shape[0])
    local = np.concatenate([seq[lo:start], seq[start + n_del : hi]])
    junction = start - lo
    for s in range(max(junction - length + 1, 0), min(junction, local.shape[0] - length) + 1):
        window = local[s : s + length]
        if site_matches(window, motif, "+") or site_matches(window, motif, "-"):
            return True
    return False


def _free(blocked: np.ndarray, lo: int, hi: int) -> bool:
    return 0 <= lo and hi <= blocked.shape[0] and not blocked[lo:hi].any()


def _break(rng, seq, blocked, el: Element, site: MotifSite) -> PlantedIndel | None:
    for _ in range(10):
        n_del = int(rng.integers(2, 7))
        d0 = int(rng.integers(site.start, site.end - 1))
        span = (d0 - 1, d0 + n_del)
        # the deleted bases may cover the broken site only
        other = blocked[span[0] : span[1]].copy()
        other[max(site.start - span[0], 0) : max(site.end - span[0], 0)] = False
        if other.any() or span[0] < 0 or span[1] > seq.shape[0]:
            continue
        if _junction_matches(seq, d0, n_del, site.motif):
            continue
        offset = d0 - site.start if site.strand == "+" else site.end - 1 - d0
        return PlantedIndel(
            chrom=el.chrom, pos=span[0], ref=decode(seq[span[0] : span[1]]),
            alt=decode(seq[span[0] : span[0] + 1]), element_id=el.element_id,
            site_id=site.site_id, motif=site.motif, strand=site.strand, offset=int(offset),
            effect="indel_break",
        )  # fmt: skip
    return None


def _gain(rng, seq, blocked, el: Element) -> PlantedIndel | None:
    sense = [t for t in el.tss if t.role == "sense"]
    motif = _ACTIVATORS[int(rng.integers(len(_ACTIVATORS)))]
    inserted = sample_instance(motif, rng)
    strand = "+" if rng.random() < 0.5 else "-"
    if strand == "-":
        inserted = reverse_complement(inserted)
    for _ in range(10):
        if sense:
            up = int(rng.integers(40, 201))
            t = sense[0]
            ins = t.pos - up if t.strand == "+" else t.pos + up + 1
        else:
            centre = (el.start + el.end) // 2
            ins = centre + int(rng.integers(-120, 121))
        if not _free(blocked, ins - 1, ins + 1):
            continue
        pad = decode(seq[ins - 1 : ins])
        return PlantedIndel(
            chrom=el.chrom, pos=ins - 1, ref=pad, alt=pad + decode(inserted),
            element_id=el.element_id, site_id=".", motif=motif, strand=strand, offset=-1,
            effect="indel_gain",
        )  # fmt: skip
    return None


def _shift(rng, seq, blocked, el: Element, tata: MotifSite) -> PlantedIndel | None:
    inrs = [s for s in el.sites if s.motif == "Inr" and s.strand == tata.strand]
    if not inrs:
        return None
    if tata.strand == "+":
        inr = min((s for s in inrs if s.start >= tata.end), key=lambda s: s.start, default=None)
        gap = (tata.end, inr.start) if inr else None
    else:
        inr = max((s for s in inrs if s.end <= tata.start), key=lambda s: s.end, default=None)
        gap = (inr.end, tata.start) if inr else None
    if gap is None or gap[1] - gap[0] < 3:
        return None
    for _ in range(10):
        ins = int(rng.integers(gap[0] + 1, gap[1]))
        if not _free(blocked, ins - 1, ins + 1):
            continue
        pad = decode(seq[ins - 1 : ins])
        added = decode(rng.integers(0, 4, size=int(rng.integers(6, 13))).astype(np.uint8))
        return PlantedIndel(
            chrom=el.chrom, pos=ins - 1, ref=pad, alt=pad + added, element_id=el.element_id,
            site_id=tata.site_id, motif="TATA", strand=tata.strand, offset=-1,
            effect="indel_shift",
        )  # fmt: skip
    return None


def _blocked(reference: Reference, elements, planted) -> dict[str, np.ndarray]:
    blocked = {
        name: np.zeros(seq.shape[0], dtype=bool) for name, seq in reference.sequences.items()
    }
    for el in elements:
        for site in el.sites:
            blocked[site.chrom][site.start : site.end] = True
        for t in el.tss:
            blocked[t.chrom][max(t.pos - 1, 0) : t.pos + 2] = True
    for v in planted:
        blocked[v.chrom][max(v.pos - 1, 0) : v.pos + 2] = True
    return blocked


def plant_indels(
    *,
    rng: np.random.Generator,
    reference: Reference,
    elements: tuple[Element, ...],
    planted: tuple[PlantedVariant, ...],
    n_indels: int,
) -> tuple[PlantedIndel, ...]:
    """Design up to `n_indels` indel QTLs (break, gain, shift; module docstring), at most
    one per element and none in an element with a designed SNP. Sorted by (chromosome,
    pos) in reference order."""
    blocked = _blocked(reference, elements, planted)
    taken = {v.element_id for v in planted}
    n_break = round(n_indels * _SHARES[0])
    n_gain = round(n_indels * _SHARES[1])
    plan = ["indel_break"] * n_break + ["indel_gain"] * n_gain
    plan += ["indel_shift"] * (n_indels - n_break - n_gain)
    out: list[PlantedIndel] = []
    for effect in plan:
        for _ in range(50):
            el = elements[int(rng.integers(len(elements)))]
            if el.element_id in taken:
                continue
            seq = reference.sequences[el.chrom]
            if effect == "indel_break":
                sites = [s for s in el.sites if s.intact and s.motif in MOTIFS]
                if not sites:
                    continue
                indel = _break(
                    rng, seq, blocked[el.chrom], el, sites[int(rng.integers(len(sites)))]
                )
            elif effect == "indel_gain":
                indel = _gain(rng, seq, blocked[el.chrom], el)
            else:
                tatas = [s for s in el.sites if s.motif == "TATA" and s.intact]
                if not tatas:
                    continue
                indel = _shift(rng, seq, blocked[el.chrom], el, tatas[0])
            if indel is None:
                continue
            taken.add(el.element_id)
            blocked[el.chrom][max(indel.pos - 1, 0) : indel.pos + len(indel.ref) + 1] = True
            out.append(indel)
            break
    order = {name: i for i, name in enumerate(reference.sequences)}
    out.sort(key=lambda v: (order[v.chrom], v.pos))
    return tuple(out)


def background_indels(
    *,
    rng: np.random.Generator,
    reference: Reference,
    elements: tuple[Element, ...],
    planted: tuple[PlantedVariant, ...],
    indels: tuple[PlantedIndel, ...],
    density: float,
) -> list[tuple[str, int, str, str]]:
    """Neutral background indels ``(chrom, pos, ref, alt)`` (module docstring), sorted by
    (chromosome, pos); none touches a motif site, a TSS, a designed SNP or designed indel."""
    blocked = _blocked(reference, elements, planted)
    for v in indels:
        blocked[v.chrom][max(v.pos - 1, 0) : v.pos + len(v.ref) + 1] = True
    out = []
    for chrom, seq in reference.sequences.items():
        mask = blocked[chrom]
        n = int(rng.poisson(seq.shape[0] * density))
        for pos in np.sort(rng.integers(1, seq.shape[0] - 12, size=n)):
            size = min(int(rng.geometric(0.4)), 10)
            deletion = rng.random() < 0.5
            span = (int(pos), int(pos) + 1 + (size if deletion else 0))
            if not _free(mask, span[0] - 1, span[1] + 1):
                continue
            mask[span[0] - 1 : span[1] + 1] = True
            pad = decode(seq[pos : pos + 1])
            if deletion:
                out.append((chrom, int(pos), decode(seq[span[0] : span[1]]), pad))
            else:
                added = decode(rng.integers(0, 4, size=size).astype(np.uint8))
                out.append((chrom, int(pos), pad, pad + added))
    return out


def add_indels(
    *,
    rng: np.random.Generator,
    cohort: Cohort,
    reference: Reference,
    indels: tuple[PlantedIndel, ...],
    background: list[tuple[str, int, str, str]],
    causal_min_maf: float,
) -> Cohort:
    """The cohort with `indels` (designed) and `background` indels added, genotypes drawn
    as the module docstring says, SNPs inside an indel's reference span dropped; variants
    re-sorted by (chromosome, position)."""
    n_hap = 2 * cohort.n_samples
    sfs_all = neutral_sfs(n_hap)
    sfs_causal = neutral_sfs(n_hap, k_min=max(1, math.ceil(causal_min_maf * n_hap)))
    new = [(v.chrom, v.pos, v.ref, v.alt, True) for v in indels]
    new += [(c, p, r, a, False) for c, p, r, a in background]
    spans: dict[str, list[tuple[int, int]]] = {}
    for c, p, r, _, _ in new:
        spans.setdefault(c, []).append((p, p + len(r)))
    keep = np.ones(cohort.n_variants, dtype=bool)
    for c, pairs in spans.items():
        rows = np.flatnonzero(cohort.chrom == c)
        for lo, hi in pairs:
            keep[rows[(cohort.pos[rows] >= lo) & (cohort.pos[rows] < hi)]] = False
    hap = np.zeros((len(new), n_hap), dtype=np.int8)
    for i, (*_, designed) in enumerate(new):
        count = int(rng.choice(n_hap + 1, p=sfs_causal if designed else sfs_all))
        hap[i, rng.choice(n_hap, size=count, replace=False)] = 1
    order_of = {name: i for i, name in enumerate(reference.sequences)}
    chrom = np.concatenate([cohort.chrom[keep], np.array([v[0] for v in new], dtype=str)])
    pos = np.concatenate([cohort.pos[keep], np.array([v[1] for v in new], dtype=np.int64)])
    ref = np.concatenate([cohort.ref[keep].astype(object), [v[2] for v in new]]).astype(str)
    alt = np.concatenate([cohort.alt[keep].astype(object), [v[3] for v in new]]).astype(str)
    haps = np.concatenate(
        [cohort.haplotypes[keep], hap.reshape(len(new), cohort.n_samples, 2)], axis=0
    )
    rank = np.array([order_of[str(c)] for c in chrom], dtype=np.int64)
    idx = np.lexsort((pos, rank))
    chrom, pos, ref, alt, haps = chrom[idx], pos[idx], ref[idx], alt[idx], haps[idx]
    ids = np.array(
        [f"{c}:{p + 1}:{r}:{a}" for c, p, r, a in zip(chrom, pos, ref, alt, strict=True)]
    )
    return Cohort(
        samples=cohort.samples, chrom=chrom, pos=pos, ref=ref, alt=alt, ids=ids, haplotypes=haps
    )
