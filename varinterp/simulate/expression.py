"""Simulated world, part 7: expression across cell types from accessibility and motifs.

The planted truth that GET is measured against (`make_expression_world`):

* **Factors and motifs.** ``n_factors`` transcription factors, each with a random
  10-12 bp consensus (no two alike) and a probability matrix (0.91 on the consensus base),
  and a core-promoter element ``CORE`` planted at the centre of every promoter (it marks
  promoters and drives nothing itself).
* **Cell types.** Each training cell type expresses a random subset of the factors
  (activity 0.5-1); the **held-out** cell type (last, ``heldout``) has a novel mix: the
  factors least often active in training, at high activity, plus the most common one at
  half activity.
* **Regions** (``region_width`` bp peaks, spacing drawn around ``mean_spacing``) carry 0-3
  planted motif instances each (promoters 1-3). Regions come in neighbourhoods of
  ``domain_size`` consecutive regions, each favouring two factors: a site's factor is one
  of them with probability ``domain_bias``, else any (so a region's motifs can be guessed
  from its neighbours', which masked pretraining can learn). Motif activity of region
  ``r`` in cell type ``k``: ``m[k, r] = sum_t a[k, t] x sites[r, t]``.
* **Accessibility**: ``acc[k, r] = open_r x (0.15 + m[k, r]) x LogNormal(0, 0.25)``
  (promoters add 0.5); read counts are Poisson around ``depth x acc / sum(acc)``.
* **Genes** sit on every ``promoter_every``-th region (TSS at its centre, random strand).
  A gene's **causal enhancers** are the motif-bearing regions within ``max_distance`` bp
  that share a factor with its promoter (promoter-enhancer compatibility through a common
  factor), with weight ``w ~ U(0.5, 1.5)``; every other motif-bearing region in range is a
  **decoy**. Expression (TPM):
  ``TPM[g, k] = scale_g x (0.2 + m[k, promoter] + gain x sum_e w_e x acc[k, e] /
  mean(acc[k]) x s[k, e] x exp(-|d_e| / decay))``, ``s[k, e]`` the motif activity of the
  enhancer's sites of the shared factors, ``gain`` = ``enhancer_gain``, times
  LogNormal(0, ``noise``), ``scale_g ~ LogNormal(log 20, 0.3)``.
* **SNPs** destroy one planted instance in a causal enhancer (the consensus base at the
  most constrained position replaced); the truth lists the genes it should change and
  the expected change of ``log10(TPM + 1)`` per cell type, every other gene unchanged.

Files (`write_expression_world`): ``genome.fa``, ``peaks.bed``, ``counts.tsv`` (chrom
start end + a column per cell type), ``expression.tsv`` (gene x cell type, TPM),
``genes.bed`` (TSS, BED6), ``motifs.meme``, ``clusters.tsv`` (one cluster per factor),
``snps.vcf.gz`` (+ ``.tbi``), ``truth/activity.tsv`` (factor x cell type),
``truth/enhancers.tsv`` (gene, region, distance, causal, weight), ``truth/snps.tsv``,
``truth/sites.tsv``, ``world.json``.
Coordinates are 0-based half-open in BED files and 1-based in the VCF and SNP truth.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output

__all__ = [
    "ExpressionWorld",
    "ExpressionWorldParams",
    "make_expression_world",
    "simulate_expression",
    "write_expression_world",
]

_BASES = np.array(list("ACGT"))


@dataclass(frozen=True)
class ExpressionWorldParams:
    seed: int = 0
    n_chromosomes: int = 3
    chrom_length: int = 2_000_000
    mean_spacing: int = 4_000
    region_width: int = 400
    n_factors: int = 12
    n_cell_types: int = 6
    factors_per_type: int = 4
    promoter_every: int = 4
    max_distance: int = 150_000
    decay: float = 40_000.0
    enhancer_gain: float = 0.5
    domain_size: int = 12
    domain_bias: float = 0.6
    noise: float = 0.1
    depth: float = 2e6
    n_snps: int = 40

    def __post_init__(self) -> None:
        checks = [
            (self.n_chromosomes >= 1, "n_chromosomes >= 1"),
            (self.chrom_length >= 50 * self.mean_spacing, "chrom_length >= 50 x mean_spacing"),
            (self.mean_spacing > 2 * self.region_width, "mean_spacing > 2 x region_width"),
            (2 <= self.factors_per_type <= self.n_factors, "2 <= factors_per_type <= n_factors"),
            (self.n_cell_types >= 2, "n_cell_types >= 2"),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"expression world: need {what}")


@dataclass
class ExpressionWorld:
    params: ExpressionWorldParams
    genome: dict[str, str]
    factors: list[str]
    consensus: list[str]
    cell_types: list[str]
    activity: np.ndarray  # (K, T)
    regions: pd.DataFrame  # chrom start end name promoter
    sites: pd.DataFrame  # region factor start (genomic) strand
    counts: np.ndarray  # (n, K)
    genes: pd.DataFrame  # gene chrom tss strand region
    tpm: np.ndarray  # (G, K)
    enhancers: pd.DataFrame  # gene region distance causal weight
    snps: pd.DataFrame
    extra: dict = field(default_factory=dict)

    @property
    def held_out(self) -> str:
        return self.cell_types[-1]


def _consensus(rng: np.random.Generator, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        s = "".join(rng.choice(_BASES, int(rng.integers(10, 13)), p=[0.27, 0.23, 0.23, 0.27]))
        rc = s[::-1].translate(str.maketrans("ACGT", "TGCA"))
        if all(_distance(s, o) > 5 and _distance(rc, o) > 5 for o in out):
            out.append(s)
    return out


def _distance(a: str, b: str) -> int:
    n = min(len(a), len(b))
    return sum(x != y for x, y in zip(a[:n], b[:n], strict=True))


def _activity(rng: np.random.Generator, p: ExpressionWorldParams) -> np.ndarray:
    k, t = p.n_cell_types, p.n_factors
    a = np.zeros((k + 1, t))
    for i in range(k):
        on = rng.choice(t, p.factors_per_type, replace=False)
        a[i, on] = rng.uniform(0.5, 1.0, on.size)
    seen = (a[:k] > 0).sum(axis=0)
    rare = np.argsort(seen + rng.random(t) * 0.1)[: max(p.factors_per_type - 1, 2)]
    a[k, rare] = rng.uniform(0.6, 1.0, rare.size)
    common = int(np.argmax(seen))
    a[k, common] = 0.5
    return a


def _motif_activity(sites_count: np.ndarray, activity: np.ndarray) -> np.ndarray:
    return activity @ sites_count.T  # (K, n)


def _expression(p, genes, enh, count, activity, acc, scale) -> np.ndarray:
    """TPM ``(G, K)`` of the module docstring (before the multiplicative noise)."""
    m = _motif_activity(count, activity)  # (K, n)
    mean_acc = acc.mean(axis=1, keepdims=True)
    drive = 0.2 + m[:, genes["region"].to_numpy()]  # (K, G)
    causal = enh[enh["causal"]]
    gi = causal["gene_index"].to_numpy()
    ri = causal["region"].to_numpy()
    promoter = genes["region"].to_numpy()[gi]
    shared = count[ri] * (count[promoter] > 0)  # (links, T): the enhancer's shared-factor sites
    m_shared = activity @ shared.T  # (K, links)
    contrib = (
        p.enhancer_gain
        * causal["weight"].to_numpy()[None, :]
        * (acc[:, ri] / mean_acc)
        * m_shared
        * np.exp(-np.abs(causal["distance"].to_numpy()) / p.decay)[None, :]
    )
    for j in range(m.shape[0]):
        np.add.at(drive[j], gi, contrib[j])
    return (scale[None, :] * drive).T


def make_expression_world(params: ExpressionWorldParams | None = None) -> ExpressionWorld:
    """Build the world of the module docstring (deterministic for a seed)."""
    p = params or ExpressionWorldParams()
    rng = np.random.default_rng(p.seed)
    factors = [f"TF{i + 1}" for i in range(p.n_factors)] + ["CORE"]
    consensus = _consensus(rng, p.n_factors + 1)
    cell_types = [f"type{i + 1}" for i in range(p.n_cell_types)] + ["heldout"]
    activity = np.concatenate([_activity(rng, p), np.zeros((p.n_cell_types + 1, 1))], axis=1)
    core = p.n_factors
    genome, rows, site_rows = {}, [], []
    pair = rng.choice(p.n_factors, 2, replace=False)
    for c in range(p.n_chromosomes):
        chrom = f"chr{c + 1}"
        seq = rng.choice(_BASES, p.chrom_length, p=[0.29, 0.21, 0.21, 0.29])
        pos = int(rng.integers(p.mean_spacing // 2, p.mean_spacing))
        while pos + p.region_width < p.chrom_length - p.mean_spacing // 2:
            idx = len(rows)
            if idx % p.domain_size == 0:  # a new neighbourhood and its favoured factors
                pair = rng.choice(p.n_factors, 2, replace=False)
            rows.append((chrom, pos, pos + p.region_width, f"r{idx}"))
            if idx % p.promoter_every == 0:  # a core-promoter element marks every promoter
                at = pos + p.region_width // 2 - len(consensus[core]) // 2
                seq[at : at + len(consensus[core])] = list(consensus[core])
                site_rows.append((idx, core, at, "+"))
            promoter = idx % p.promoter_every == 0
            n_sites = int(rng.integers(1, 4)) if promoter else int(rng.choice([0, 1, 1, 2, 2, 3]))
            for _ in range(n_sites):
                t = int(
                    pair[rng.integers(2)]
                    if rng.random() < p.domain_bias
                    else rng.integers(p.n_factors)
                )
                site = consensus[t]
                strand = "+" if rng.random() < 0.5 else "-"
                if strand == "-":
                    site = site[::-1].translate(str.maketrans("ACGT", "TGCA"))
                at = pos + int(rng.integers(10, p.region_width - len(site) - 10))
                if any(s[0] == idx and abs(s[2] - at) < 14 for s in site_rows[-4:]):
                    continue
                seq[at : at + len(site)] = list(site)
                site_rows.append((idx, t, at, strand))
            pos += p.region_width + int(rng.exponential(p.mean_spacing - p.region_width)) + 50
        genome[chrom] = "".join(seq)
    regions = pd.DataFrame(rows, columns=["chrom", "start", "end", "name"])
    n = len(regions)
    regions["promoter"] = (np.arange(n) % p.promoter_every) == 0
    sites = pd.DataFrame(site_rows, columns=["region", "factor", "start", "strand"])
    count = np.zeros((n, p.n_factors + 1))
    np.add.at(count, (sites["region"].to_numpy(), sites["factor"].to_numpy()), 1.0)
    m = _motif_activity(count, activity)  # (K, n)
    tf = count[:, : p.n_factors] > 0
    openness = rng.lognormal(0.0, 0.25, (len(cell_types), n))
    acc = openness * (0.15 + m + 0.5 * regions["promoter"].to_numpy()[None, :])
    counts = rng.poisson(p.depth * acc / acc.sum(axis=1, keepdims=True)).T.astype(np.int64)
    prom = np.flatnonzero(regions["promoter"].to_numpy())
    centre = (regions["start"].to_numpy() + regions["end"].to_numpy()) // 2
    genes = pd.DataFrame(
        {
            "gene": [f"g{i + 1}" for i in range(prom.size)],
            "chrom": regions["chrom"].to_numpy()[prom],
            "tss": centre[prom],
            "strand": np.where(rng.random(prom.size) < 0.5, "+", "-"),
            "region": prom,
        }
    )
    has_motif = count.sum(axis=1) > 0
    erows = []
    chroms = regions["chrom"].to_numpy()
    for gi, (r, tss) in enumerate(zip(prom, centre[prom], strict=True)):
        near = np.flatnonzero(
            (chroms == chroms[r])
            & (np.abs(centre - tss) <= p.max_distance)
            & has_motif
            & ~regions["promoter"].to_numpy()
        )
        if near.size == 0:
            continue
        causal = set(near[(tf[near] & tf[r]).any(axis=1)].tolist())  # shares a factor
        for e in near:
            erows.append(
                (
                    gi,
                    genes["gene"].iloc[gi],
                    int(e),
                    int(centre[e] - tss),
                    e in causal,
                    float(rng.uniform(0.5, 1.5)) if e in causal else 0.0,
                )
            )
    enh = pd.DataFrame(
        erows, columns=["gene_index", "gene", "region", "distance", "causal", "weight"]
    )
    scale = rng.lognormal(np.log(20.0), 0.3, len(genes))
    noise = rng.lognormal(0, p.noise, (len(genes), len(cell_types)))
    tpm = _expression(p, genes, enh, count, activity, acc, scale) * noise
    snps = _snps(p, rng, genome, regions, sites, consensus, enh, count, activity, acc, genes, scale)
    return ExpressionWorld(
        p,
        genome,
        factors,
        consensus,
        cell_types,
        activity,
        regions,
        sites,
        counts,
        genes,
        tpm,
        enh,
        snps,
        {"scale": scale},
    )


def _snps(p, rng, genome, regions, sites, consensus, enh, count, activity, acc, genes, scale):
    causal = enh[enh["causal"]]
    cand = sites[sites["region"].isin(set(causal["region"]))]
    cand = cand.sample(frac=1.0, random_state=int(rng.integers(1 << 31)))
    rows = []
    used = set()
    base_expr = _expression(p, genes, enh, count, activity, acc, scale)
    for s in cand.itertuples(index=False):
        if len(rows) >= p.n_snps or s.region in used:
            continue
        used.add(s.region)
        site = consensus[s.factor]
        offset = len(site) // 2
        at = s.start + (offset if s.strand == "+" else len(site) - 1 - offset)
        chrom = regions["chrom"].iloc[s.region]
        ref = genome[chrom][at]
        alt = {"A": "C", "C": "A", "G": "T", "T": "G"}[ref]
        c2 = count.copy()
        c2[s.region, s.factor] -= 1
        new = _expression(p, genes, enh, c2, activity, acc, scale)
        delta = np.log10(new + 1) - np.log10(base_expr + 1)  # (G, K)
        hit = np.flatnonzero(np.abs(delta).max(axis=1) > 1e-9)
        rows.append(
            {
                "chrom": chrom,
                "pos": at + 1,
                "id": f"snp{len(rows) + 1}",
                "ref": ref,
                "alt": alt,
                "region": int(s.region),
                "factor": f"TF{s.factor + 1}",
                "genes": ",".join(genes["gene"].iloc[hit]) or ".",
                **{
                    f"delta_{ct}": float(delta[hit, j].sum()) if hit.size else 0.0
                    for j, ct in enumerate(
                        [f"type{i + 1}" for i in range(p.n_cell_types)] + ["heldout"]
                    )
                },
            }
        )
    return pd.DataFrame(rows)


def _meme(factors, consensus) -> str:
    out = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        "A 0.25 C 0.25 G 0.25 T 0.25",
        "",
    ]
    for name, s in zip(factors, consensus, strict=True):
        out += [f"MOTIF {name}", f"letter-probability matrix: alength= 4 w= {len(s)}"]
        for b in s:
            row = [0.03] * 4
            row["ACGT".index(b)] = 0.91
            out.append(" ".join(f"{v:.2f}" for v in row))
        out.append("")
    return "\n".join(out) + "\n"


def write_expression_world(
    world: ExpressionWorld, out: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Write the files of the module docstring into the folder `out` (atomically)."""
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "truth").mkdir()
        with (tmp / "genome.fa").open("w") as fh:
            for chrom, seq in world.genome.items():
                fh.write(f">{chrom}\n")
                for i in range(0, len(seq), 80):
                    fh.write(seq[i : i + 80] + "\n")
        r = world.regions
        r[["chrom", "start", "end", "name"]].to_csv(
            tmp / "peaks.bed", sep="\t", header=False, index=False
        )
        counts = r[["chrom", "start", "end"]].copy()
        for j, ct in enumerate(world.cell_types):
            counts[ct] = world.counts[:, j]
        counts.to_csv(tmp / "counts.tsv", sep="\t", index=False)
        expr = pd.DataFrame(world.tpm, index=world.genes["gene"], columns=world.cell_types)
        expr.index.name = "gene"
        expr.to_csv(tmp / "expression.tsv", sep="\t", float_format="%.5g")
        g = world.genes
        pd.DataFrame(
            {
                "chrom": g["chrom"],
                "start": g["tss"],
                "end": g["tss"] + 1,
                "name": g["gene"],
                "score": 0,
                "strand": g["strand"],
            }
        ).to_csv(tmp / "genes.bed", sep="\t", header=False, index=False)
        (tmp / "motifs.meme").write_text(_meme(world.factors, world.consensus))
        pd.DataFrame({"motif": world.factors, "cluster": world.factors}).to_csv(
            tmp / "clusters.tsv", sep="\t", index=False
        )
        act = pd.DataFrame(world.activity.T, index=world.factors, columns=world.cell_types)
        act.index.name = "factor"
        act.to_csv(tmp / "truth" / "activity.tsv", sep="\t")
        enh = world.enhancers.merge(
            r[["chrom", "start", "end"]], left_on="region", right_index=True
        )
        enh.drop(columns=["gene_index"]).to_csv(
            tmp / "truth" / "enhancers.tsv", sep="\t", index=False
        )
        world.snps.to_csv(tmp / "truth" / "snps.tsv", sep="\t", index=False)
        sites = world.sites.assign(factor=[world.factors[t] for t in world.sites["factor"]])
        sites.to_csv(tmp / "truth" / "sites.tsv", sep="\t", index=False)
        lines = ["##fileformat=VCFv4.2"]
        lines += [f"##contig=<ID={c},length={len(s)}>" for c, s in world.genome.items()]
        lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
        for s in world.snps.sort_values(["chrom", "pos"]).itertuples(index=False):
            lines.append(f"{s.chrom}\t{s.pos}\t{s.id}\t{s.ref}\t{s.alt}\t.\t.\t.")
        (tmp / "snps.vcf").write_text("\n".join(lines) + "\n")
        import pysam

        pysam.tabix_index(str(tmp / "snps.vcf"), preset="vcf", force=True)  # -> snps.vcf.gz
        meta = {
            "params": asdict(world.params),
            "cell_types": world.cell_types,
            "held_out_cell_type": world.held_out,
            "n_regions": len(r),
            "n_genes": len(g),
            "factors": dict(zip(world.factors, world.consensus, strict=True)),
        }
        (tmp / "world.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


def simulate_expression(
    *, out: str | os.PathLike, overwrite: bool = False, **params
) -> ExpressionWorld:
    """`make_expression_world` + `write_expression_world` (what the CLI runs)."""
    check_output(out)
    world = make_expression_world(ExpressionWorldParams(**params))
    write_expression_world(world, out, overwrite=overwrite)
    return world
