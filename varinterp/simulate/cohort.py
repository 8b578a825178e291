"""A phased cohort: SNP positions, alleles and haplotypes with a neutral spectrum and LD.

* **Sites.** Background SNPs fall uniformly (a given density, default 1 per 300 bp) outside
  every planted motif site; the designed motif SNPs (`variants.plant_motif_variants`) are
  added on top. Alt alleles follow a transition/transversion ratio of 2.
* **Frequencies.** The alt allele is the derived one; its count among the ``2n``
  haplotypes follows the neutral site-frequency spectrum ``P(k) ∝ 1/k``, ``k = 1..2n-1``.
  Designed SNPs are drawn from the same law restricted to a minor-allele frequency of at
  least `causal_min_maf`, so that they can be detected.
* **LD.** Every haplotype is a mosaic of a few founder haplotypes, switching founder at
  recombination points (Poisson, mean spacing `switch_length`). Founders sit in a fixed
  random "tree" order; a variant with count ``k`` is carried by all copies of a run of
  neighbouring founders (a clade) plus a random part of the last one, so alleles travel
  on founder blocks and nearby variants are correlated.

Coordinates are 0-based inside; the VCF writer adds 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from varinterp.simulate.elements import Element
from varinterp.simulate.motifs import BASES
from varinterp.simulate.reference import Reference
from varinterp.simulate.variants import PlantedVariant

__all__ = ["Cohort", "make_cohort", "neutral_sfs"]

_TRANSITION = np.array([2, 3, 0, 1])  # A<->G, C<->T


@dataclass(frozen=True, eq=False)
class Cohort:
    """Phased genotypes of a simulated cohort, variants sorted by (chromosome, position).

    ``chrom`` ``(n_variants,) <U`` names; ``pos`` ``(n_variants,) int64`` 0-based;
    ``ref`` / ``alt`` ``(n_variants,) <U1``; ``ids`` ``(n_variants,) <U`` as
    ``chrom:pos1:ref:alt``; ``haplotypes`` ``(n_variants, n_samples, 2) int8`` with
    0 = ref, 1 = alt (axis 2: the first and second haplotype of each sample).
    """

    samples: tuple[str, ...]
    chrom: np.ndarray
    pos: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    ids: np.ndarray
    haplotypes: np.ndarray

    @property
    def n_variants(self) -> int:
        return int(self.pos.shape[0])

    @property
    def n_samples(self) -> int:
        return len(self.samples)

    def alt_counts(self) -> np.ndarray:
        """``(n_variants,) int64``: alt alleles among the ``2 * n_samples`` haplotypes."""
        return self.haplotypes.sum(axis=(1, 2), dtype=np.int64)

    def dosages(self) -> np.ndarray:
        """``(n_variants, n_samples) int8``: alt-allele dosage 0, 1 or 2."""
        return self.haplotypes.sum(axis=2, dtype=np.int8)


def neutral_sfs(n_haplotypes: int, *, k_min: int = 1) -> np.ndarray:
    """``(n_haplotypes + 1,) float64`` probabilities of derived count k, ∝ 1/k on
    ``k_min..n_haplotypes - k_min`` (zero elsewhere)."""
    k = np.arange(n_haplotypes + 1, dtype=float)
    prob = np.zeros(n_haplotypes + 1)
    lo, hi = max(k_min, 1), n_haplotypes - max(k_min, 1)
    prob[lo : hi + 1] = 1.0 / k[lo : hi + 1]
    return prob / prob.sum()


def _background_sites(
    rng: np.random.Generator,
    length: int,
    blocked: np.ndarray,
    n: int,
) -> np.ndarray:
    free = np.flatnonzero(~blocked)
    n = min(n, free.shape[0])
    return np.sort(rng.choice(free, size=n, replace=False)).astype(np.int64)


def _founder_paths(
    rng: np.random.Generator,
    length: int,
    positions: np.ndarray,
    n_haplotypes: int,
    founder_weights: np.ndarray,
    switch_length: float,
) -> np.ndarray:
    """``(n_haplotypes, n_positions) int64``: which founder each haplotype copies."""
    out = np.empty((n_haplotypes, positions.shape[0]), dtype=np.int64)
    k = founder_weights.shape[0]
    for h in range(n_haplotypes):
        n_switch = int(rng.poisson(length / switch_length))
        breaks = np.sort(rng.integers(0, length, size=n_switch))
        founders = rng.choice(k, size=n_switch + 1, p=founder_weights)
        out[h] = founders[np.searchsorted(breaks, positions, side="right")]
    return out


def _carriers(
    rng: np.random.Generator, founder_of: np.ndarray, order: np.ndarray, count: int
) -> np.ndarray:
    """Indices of the `count` haplotypes carrying the alt allele (a founder clade)."""
    n_found = order.shape[0]
    start = int(rng.integers(n_found))
    chosen: list[np.ndarray] = []
    need = count
    for step in range(n_found):
        members = np.flatnonzero(founder_of == order[(start + step) % n_found])
        if members.shape[0] == 0:
            continue
        if members.shape[0] >= need:
            chosen.append(rng.choice(members, size=need, replace=False))
            break
        chosen.append(members)
        need -= members.shape[0]
    return np.concatenate(chosen)


def make_cohort(
    *,
    rng: np.random.Generator,
    reference: Reference,
    elements: tuple[Element, ...],
    planted: tuple[PlantedVariant, ...],
    n_individuals: int,
    snp_density: float = 1 / 300,
    n_founders: int = 10,
    switch_length: float = 30_000.0,
    causal_min_maf: float = 0.05,
    ts_tv: float = 2.0,
    sample_prefix: str = "SIM",
) -> Cohort:
    """Draw SNPs and phased haplotypes for `n_individuals` over `reference`.

    Background SNPs avoid every motif site of `elements`; `planted` SNPs are included
    with a minor-allele frequency of at least `causal_min_maf`.
    """
    n_hap = 2 * n_individuals
    founder_weights = rng.dirichlet(np.full(n_founders, 2.0))
    order = rng.permutation(n_founders)
    sfs_all = neutral_sfs(n_hap)
    sfs_causal = neutral_sfs(n_hap, k_min=max(1, math.ceil(causal_min_maf * n_hap)))
    p_ts = ts_tv / (ts_tv + 1.0)
    chroms, positions, refs, alts, haps = [], [], [], [], []
    for chrom, seq in reference.sequences.items():
        length = seq.shape[0]
        blocked = np.zeros(length, dtype=bool)
        for el in elements:
            if el.chrom == chrom:
                for site in el.sites:
                    blocked[site.start : site.end] = True
        mine = [v for v in planted if v.chrom == chrom]
        n_bg = max(0, int(rng.poisson(length * snp_density)) - len(mine))
        bg_pos = _background_sites(rng, length, blocked, n_bg)
        bg_ref = seq[bg_pos].astype(np.int64)
        transversion = (bg_ref + rng.choice([1, 3], size=bg_ref.shape[0])) % 4
        bg_alt = np.where(rng.random(bg_ref.shape[0]) < p_ts, _TRANSITION[bg_ref], transversion)
        pos = np.concatenate([bg_pos, np.array([v.pos for v in mine], dtype=np.int64)])
        ref = np.concatenate([bg_ref, [BASES.index(v.ref) for v in mine]]).astype(np.int64)
        alt = np.concatenate([bg_alt, [BASES.index(v.alt) for v in mine]]).astype(np.int64)
        is_planted = np.concatenate([np.zeros(bg_pos.shape[0], bool), np.ones(len(mine), bool)])
        idx = np.argsort(pos, kind="stable")
        pos, ref, alt, is_planted = pos[idx], ref[idx], alt[idx], is_planted[idx]
        counts = np.where(
            is_planted,
            rng.choice(n_hap + 1, size=pos.shape[0], p=sfs_causal),
            rng.choice(n_hap + 1, size=pos.shape[0], p=sfs_all),
        )
        paths = _founder_paths(rng, length, pos, n_hap, founder_weights, switch_length)
        hap = np.zeros((pos.shape[0], n_hap), dtype=np.int8)
        for v in range(pos.shape[0]):
            hap[v, _carriers(rng, paths[:, v], order, int(counts[v]))] = 1
        chroms.append(np.full(pos.shape[0], chrom))
        positions.append(pos)
        refs.append(ref)
        alts.append(alt)
        haps.append(hap)
    letters = np.array(list(BASES))
    chrom_arr = np.concatenate(chroms)
    pos_arr = np.concatenate(positions)
    ref_arr = letters[np.concatenate(refs)]
    alt_arr = letters[np.concatenate(alts)]
    ids = np.array(
        [
            f"{c}:{p + 1}:{r}:{a}"
            for c, p, r, a in zip(chrom_arr, pos_arr, ref_arr, alt_arr, strict=True)
        ]
    )
    hap_all = np.concatenate(haps).reshape(-1, n_individuals, 2)
    width = max(3, len(str(n_individuals)))
    samples = tuple(f"{sample_prefix}{i + 1:0{width}d}" for i in range(n_individuals))
    return Cohort(
        samples=samples,
        chrom=chrom_arr,
        pos=pos_arr,
        ref=ref_arr,
        alt=alt_arr,
        ids=ids,
        haplotypes=hap_all,
    )
