"""Simulated GWAS locus (world part 5): a PSC-like signal whose causal SNP sits in an
enhancer of a minority-cell-type program.

`simulate_gwas` takes a `World` and

1. picks a causal SNP inside an enhancer of `program` (default ``myeloid``, the
   Kupffer-like SPI1 program) with a common allele (founder-cohort MAF >= `causal_min_maf`),
   preferring, in this order, SNPs with an LD partner (r^2 >= 0.5 within 20 kb, MAF >=
   0.05, genotype dosages of the cohort), designed motif SNPs (the truth table's
   ``motif_break`` / ``motif_gain``) and SNPs in the program's defining motif (SPI1 for
   ``myeloid``); among the best, one of the three with the strongest partner is drawn.
   The nearest promoter (by sense TSS) is named as its target gene;
2. enlarges the sample: every synthetic haplotype is a mosaic of the world's cohort
   haplotypes, copying one source haplotype and switching to a random other one at
   recombination points (exponential spacing, mean `switch_length`), so local LD and
   allele frequencies follow the cohort's founder blocks;
3. simulates a trait with that SNP causal: quantitative ``y = sqrt(h2) g* + sqrt(1 - h2) e``
   (``g*`` the standardised dosage), or case-control by a liability threshold with the
   given prevalence;
4. computes marginal per-SNP linear regressions (``beta``, ``se``, ``z``, two-sided
   normal ``p``; for case-control, the linear-probability scale) and the in-sample LD
   (Pearson correlation of alt dosages) over the SNPs of the window with MAF >= `min_maf`.

`write_gwas` writes ``sumstats.tsv`` (1-based ``pos``), ``ld.npy`` (float64, row order of
``ld_variants.tsv``) and ``truth.json`` into one folder, atomically. Same world, seed and
options give the same files. `simulate_gwas_folder` does both for a world folder (what
``varinterp simulate gwas`` calls).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback
from varinterp.simulate.elements import ENHANCER_PROGRAMS
from varinterp.simulate.world import World, stream

__all__ = [
    "SUMSTATS_COLUMNS",
    "GwasLocus",
    "mosaic_haplotypes",
    "simulate_gwas",
    "simulate_gwas_folder",
    "write_gwas",
]

SUMSTATS_COLUMNS = ["chrom", "pos", "ref", "alt", "variant_id", "af", "beta", "se", "z", "p", "n"]


@dataclass(frozen=True, eq=False)
class GwasLocus:
    """A simulated GWAS locus.

    ``sumstats``: one row per SNP (columns `SUMSTATS_COLUMNS`, ``pos`` 1-based);
    ``R``: ``(n_snps, n_snps) float64`` in-sample LD in the same row order;
    ``truth``: causal SNP, its element and target gene, the trait model and the lead SNP.
    """

    chrom: str
    start: int
    end: int
    sumstats: pd.DataFrame
    R: np.ndarray
    truth: dict


def mosaic_haplotypes(
    haplotypes: np.ndarray,
    pos: np.ndarray,
    *,
    n_haplotypes: int,
    switch_length: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Resample haplotypes as mosaics of the source ones.

    `haplotypes` ``(n_variants, n_sources) int8`` (0/1) at sorted 0-based `pos`
    ``(n_variants,)``. Each new haplotype copies a random source and, between neighbouring
    variants at distance d, switches to a new random source with probability
    ``1 - exp(-d / switch_length)``. -> ``(n_variants, n_haplotypes) int8``.
    """
    n_var, n_src = haplotypes.shape
    out = np.empty((n_var, n_haplotypes), dtype=np.int8)
    if n_var == 0:
        return out
    gaps = np.diff(np.asarray(pos, dtype=np.float64), prepend=float(pos[0]))
    p_switch = 1.0 - np.exp(-gaps / switch_length)
    src = rng.integers(0, n_src, n_haplotypes)
    for j in range(n_var):
        if j:
            switch = rng.random(n_haplotypes) < p_switch[j]
            src[switch] = rng.integers(0, n_src, int(switch.sum()))
        out[j] = haplotypes[j, src]
    return out


def _choose_causal(
    world: World, *, program: str, causal_min_maf: float, causal_variant: str | None, rng
) -> tuple[int, object]:
    cohort = world.cohort
    freq = cohort.alt_counts() / (2.0 * cohort.n_samples)
    maf = np.minimum(freq, 1.0 - freq)
    enhancers = [e for e in world.elements if e.kind == "enhancer" and e.program == program]
    if not enhancers:
        programs = sorted({e.program for e in world.elements if e.kind == "enhancer"})
        msg = f"the world has no enhancers of program {program!r}; choose one of {programs}"
        raise InputError(msg)
    if causal_variant is not None:
        hit = np.flatnonzero(cohort.ids == causal_variant)
        if hit.size == 0:
            raise InputError(f"causal variant {causal_variant!r} is not in the world's cohort")
        j = int(hit[0])
        el = next(
            (
                e
                for e in world.elements
                if e.chrom == cohort.chrom[j] and e.start <= cohort.pos[j] < e.end
            ),
            None,
        )
        return j, el
    truth_class = world.truth["class"].to_numpy()
    truth_motif = world.truth["motif"].to_numpy()
    dosages = cohort.dosages()
    options: list[tuple[int, float, int, object]] = []  # (tier, -best r², index, element)
    for el in enhancers:
        idx = np.flatnonzero(
            (cohort.chrom == el.chrom) & (cohort.pos >= el.start) & (cohort.pos < el.end)
        )
        for j in idx:
            if maf[j] < causal_min_maf:
                continue
            near = np.flatnonzero(
                (cohort.chrom == el.chrom) & (np.abs(cohort.pos - cohort.pos[j]) < 20_000)
            )
            near = near[(near != j) & (maf[near] >= 0.05)]
            d = dosages[np.r_[j, near]].astype(np.float64)
            best_r2 = 0.0
            if near.size and d[0].std() > 0:
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = np.corrcoef(d)[0, 1:]
                best_r2 = float(np.max(np.nan_to_num(r) ** 2))
            designed = truth_class[j] in ("motif_break", "motif_gain")
            defining = truth_motif[j] == ENHANCER_PROGRAMS[program][0]
            tier = 4 * (best_r2 < 0.5) + 2 * (not designed) + (not defining)
            options.append((tier, -best_r2, int(j), el))
    if not options:
        msg = (
            f"no SNP with MAF >= {causal_min_maf} lies in a {program} enhancer; use a larger "
            "world (--genome-size) or lower --causal-min-maf"
        )
        raise InputError(msg)
    best = min(o[0] for o in options)
    pool = sorted(o for o in options if o[0] == best)[:3]  # the 3 with the strongest LD partner
    _, _, j, el = pool[int(rng.integers(0, len(pool)))]
    return j, el


def _target_gene(world: World, chrom: str, pos0: int) -> dict | None:
    best = None
    for el in world.elements:
        if el.kind != "promoter" or el.chrom != chrom:
            continue
        sense = [t for t in el.tss if t.role == "sense"] or list(el.tss)
        tss = sense[0].pos if sense else (el.start + el.end) // 2
        d = abs(tss - pos0)
        if best is None or d < best["distance"]:
            best = {
                "gene": el.element_id,
                "chrom": chrom,
                "tss": int(tss),
                "strand": el.strand,
                "distance": int(d),
            }
    return best


def _regressions(G: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Marginal OLS of y on each row of G ``(p, n)`` -> beta, se, z, p ``(p,) float64``."""
    n = y.shape[0]
    Gc = G - G.mean(axis=1, keepdims=True)
    yc = y - y.mean()
    sxx = np.einsum("ij,ij->i", Gc, Gc)
    sxy = Gc @ yc
    syy = float(yc @ yc)
    beta = sxy / sxx
    rss = np.maximum(syy - beta * sxy, 0.0)
    se = np.sqrt(rss / (n - 2) / sxx)
    z = beta / se
    p = 2.0 * norm.sf(np.abs(z))
    return beta, se, z, p


def simulate_gwas(
    *,
    world: World,
    seed: int = 0,
    n_individuals: int = 10_000,
    program: str = "myeloid",
    window: int = 200_000,
    h2: float = 0.005,
    trait: str = "quantitative",
    prevalence: float = 0.1,
    min_maf: float = 0.01,
    causal_min_maf: float = 0.1,
    switch_length: float = 50_000.0,
    causal_variant: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> GwasLocus:
    """Simulate a GWAS locus on `world` (see the module docstring); seeded by `seed`."""
    if trait not in ("quantitative", "case-control"):
        raise InputError(f"trait must be 'quantitative' or 'case-control', got {trait!r}")
    if not 0.0 < h2 < 1.0:
        raise InputError(f"h2 (variance explained by the causal SNP) must be in (0, 1), got {h2}")
    if not 0.0 < prevalence < 1.0:
        raise InputError(f"prevalence must be in (0, 1), got {prevalence}")
    if n_individuals < 100:
        raise InputError(f"n_individuals must be at least 100, got {n_individuals}")
    if window < 1000:
        raise InputError(f"window must be at least 1000 bp, got {window}")
    rng = stream(seed, "gwas")
    cohort = world.cohort
    j, element = _choose_causal(
        world,
        program=program,
        causal_min_maf=causal_min_maf,
        causal_variant=causal_variant,
        rng=rng,
    )
    chrom, pos0 = str(cohort.chrom[j]), int(cohort.pos[j])
    length = int(world.reference.lengths[chrom])
    start = max(pos0 - window // 2, 0)
    end = min(pos0 + window // 2, length)
    idx = np.flatnonzero((cohort.chrom == chrom) & (cohort.pos >= start) & (cohort.pos < end))
    if on_progress is not None:
        on_progress(0, 3)
    source = cohort.haplotypes[idx].reshape(idx.size, -1)  # (p, 2 n0)
    haps = mosaic_haplotypes(
        source,
        cohort.pos[idx],
        n_haplotypes=2 * n_individuals,
        switch_length=switch_length,
        rng=rng,
    )
    G = (haps[:, 0::2] + haps[:, 1::2]).astype(np.float64)  # (p, n) dosages
    af = G.mean(axis=1) / 2.0
    causal_row = int(np.flatnonzero(idx == j)[0])
    keep = np.minimum(af, 1.0 - af) >= min_maf
    keep[causal_row] = True
    if af[causal_row] in (0.0, 1.0):
        raise InputError("the causal SNP is monomorphic in the resampled cohort; change --seed")
    if on_progress is not None:
        on_progress(1, 3)
    g = G[causal_row]
    gs = (g - g.mean()) / g.std()
    liability = np.sqrt(h2) * gs + np.sqrt(1.0 - h2) * rng.standard_normal(n_individuals)
    if trait == "quantitative":
        y = liability
    else:
        y = (liability > norm.isf(prevalence)).astype(np.float64)
    kept = idx[keep]
    Gk = G[keep]
    beta, se, z, p = _regressions(Gk, y)
    R = np.corrcoef(Gk)
    R = (R + R.T) / 2.0
    np.fill_diagonal(R, 1.0)
    if on_progress is not None:
        on_progress(2, 3)
    sumstats = pd.DataFrame(
        {
            "chrom": chrom,
            "pos": cohort.pos[kept] + 1,
            "ref": cohort.ref[kept],
            "alt": cohort.alt[kept],
            "variant_id": cohort.ids[kept],
            "af": af[keep],
            "beta": beta,
            "se": se,
            "z": z,
            "p": p,
            "n": n_individuals,
        }
    )[SUMSTATS_COLUMNS]
    c = int(np.flatnonzero(kept == j)[0])
    lead = int(np.argmax(np.abs(z)))
    truth_row = world.truth.iloc[j]
    truth = {
        "seed": seed,
        "trait": trait,
        "h2": h2,
        "prevalence": prevalence if trait == "case-control" else None,
        "n": n_individuals,
        "n_cases": int(y.sum()) if trait == "case-control" else None,
        "region": {"chrom": chrom, "start": start, "end": end},
        "region_1based": f"{chrom}:{start + 1}-{end}",
        "n_snps": len(sumstats),
        "causal": {
            "variant_id": str(cohort.ids[j]),
            "chrom": chrom,
            "pos": pos0 + 1,
            "ref": str(cohort.ref[j]),
            "alt": str(cohort.alt[j]),
            "af": float(af[causal_row]),
            "beta_per_allele": float(np.sqrt(h2) / g.std()),
            "z": float(z[c]),
            "row": c,
            "class": str(truth_row["class"]),
            "motif": str(truth_row["motif"]),
        },
        "element": None
        if element is None
        else {
            "element_id": element.element_id,
            "chrom": element.chrom,
            "start": int(element.start),
            "end": int(element.end),
            "program": element.program,
        },
        "target_gene": _target_gene(world, chrom, pos0),
        "lead": {
            "variant_id": str(sumstats["variant_id"].iloc[lead]),
            "z": float(z[lead]),
            "r2_with_causal": float(R[lead, c] ** 2),
        },
        "n_snps_r2_over_0.5_with_causal": int(np.sum(R[c] ** 2 > 0.5) - 1),
    }
    if on_progress is not None:
        on_progress(3, 3)
    return GwasLocus(chrom=chrom, start=start, end=end, sumstats=sumstats, R=R, truth=truth)


def write_gwas(locus: GwasLocus, out: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``sumstats.tsv``, ``ld.npy``, ``ld_variants.tsv`` and ``truth.json`` to `out`."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    with atomic_dir(out, overwrite=overwrite) as tmp:
        locus.sumstats.to_csv(tmp / "sumstats.tsv", sep="\t", index=False, float_format="%.6g")
        np.save(tmp / "ld.npy", np.ascontiguousarray(locus.R, dtype=np.float64))
        locus.sumstats[["chrom", "pos", "ref", "alt", "variant_id"]].to_csv(
            tmp / "ld_variants.tsv", sep="\t", index=False
        )
        (tmp / "truth.json").write_text(json.dumps(locus.truth, indent=2) + "\n")
    return out


def simulate_gwas_folder(
    *,
    world_dir: str | os.PathLike,
    out: str | os.PathLike,
    seed: int = 0,
    n_individuals: int = 10_000,
    program: str = "myeloid",
    window: int = 200_000,
    h2: float = 0.005,
    trait: str = "quantitative",
    prevalence: float = 0.1,
    min_maf: float = 0.01,
    causal_variant: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> GwasLocus:
    """`simulate_gwas` on the world written in `world_dir`, then `write_gwas` into `out`.

    `world_dir` must hold a ``world.json`` (``varinterp simulate world``), and `out` must
    not exist unless `overwrite` (both checked before any work). Returns the locus.
    """
    from varinterp.simulate.store import load_world

    check_output(out)
    world_dir, out = Path(world_dir), Path(out)
    if not (world_dir / "world.json").is_file():
        msg = f"{world_dir} is not a world folder (no world.json); run simulate world"
        raise InputError(msg)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    locus = simulate_gwas(
        world=load_world(world_dir),
        seed=seed,
        n_individuals=n_individuals,
        program=program,
        window=window,
        h2=h2,
        trait=trait,
        prevalence=prevalence,
        min_maf=min_maf,
        causal_variant=causal_variant,
        on_progress=on_progress,
    )
    write_gwas(locus, out, overwrite=overwrite)
    return locus
