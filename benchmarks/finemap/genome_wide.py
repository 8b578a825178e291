"""Benchmark: `varinterp finemap --genome-wide` on simulated loci, beside susieR per locus.

Simulates ``--loci`` loci (default 100) of 2,000-5,000 variants each (uniform), spread
over 10 chromosomes 3 Mb apart, variants evenly over 900 kb, 1-3 causal variants near
each locus's centre explaining ``--pve`` (default 20%) of a trait of its own (block-wise
AR(1) LD, `varinterp.finemap.simulate`), a GWAS of the ``--samples`` (default 1,000)
genotyped individuals (z from marginal regressions), and writes the genotypes as the
PLINK LD panel (in-sample LD) and one summary-statistics file. Then:

1. ``finemap_genome_wide`` (leads at p < 5e-8, +-500 kb, SuSiE-RSS L=10 and ABF per locus,
   the LD check on unless ``--no-ld-check``) with ``--threads`` workers: total wall time,
   and per locus (kept in ``gw_seconds.tsv`` as loci finish, so a resumed run keeps them);
2. per locus, the SuSiE-RSS fit alone on the same z, R and n, ours (one BLAS thread) and
   susieR's ``susie_rss`` (Rscript, Debian r-cran-susier) in the same run: wall time,
   largest PIP difference, whether the 95% credible sets agree.

Writes ``per_locus.tsv`` (appended as loci finish; a rerun skips the simulation when its
files are there, the loci already fine-mapped and the loci already compared) and prints a
summary. ``--skip-susier`` leaves step 2's R side out; ``--susier-loci K`` runs susieR on
a seeded random subset of K loci only.

    python benchmarks/finemap/genome_wide.py --out gw_bench --loci 100 --threads 1
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

R_SCRIPT = """
suppressMessages(library(susieR))
a <- commandArgs(TRUE); p <- as.integer(a[3]); n <- as.numeric(a[4])
z <- readBin(a[1], "double", p); R <- matrix(readBin(a[2], "double", p * p), p, p)
t0 <- proc.time()[["elapsed"]]
s <- susie_rss(z, R, n = n, L = 10)
cat(proc.time()[["elapsed"]] - t0, "\\n"); cat(s$pip, "\\n")
for (cs in s$sets$cs) cat(cs - 1, "\\n")
"""


def simulate(
    out: Path,
    n_loci: int,
    n_samples: int,
    seed: int,
    *,
    pve: float = 0.2,
    variants: tuple[int, int] = (2000, 5000),
) -> pd.DataFrame:
    """Write ``panel.{bed,bim,fam}`` and ``gwas.tsv``; return the truth per locus."""
    from bed_reader import to_bed

    from varinterp.finemap.simulate import simulate_genotypes

    rng = np.random.default_rng(seed)
    blocks, tables, truth = [], [], []
    for k in range(n_loci):
        chrom = str(1 + k % 10)
        centre = 2_000_000 + (k // 10) * 3_000_000
        p = int(rng.integers(variants[0], variants[1] + 1))
        g = simulate_genotypes(
            n_samples=n_samples, n_variants=p, rho=0.95, mean_block=100, seed=seed * 1000 + k
        )
        x = g - g.mean(axis=0)
        sd = x.std(axis=0)
        poly = np.flatnonzero(sd > 0)
        x[:, poly] /= sd[poly]
        mid = poly[(poly > 0.45 * p) & (poly < 0.55 * p)]
        causal = np.sort(rng.choice(mid, size=int(rng.integers(1, 4)), replace=False))
        b = np.zeros(p)
        b[causal] = rng.choice([-1.0, 1.0], causal.size) * np.sqrt(pve / causal.size)
        y = x @ b + rng.standard_normal(n_samples) * np.sqrt(1.0 - pve)
        y -= y.mean()
        d = np.maximum((x * x).sum(axis=0), 1e-12)
        beta = x.T @ y / d
        resid = (y * y).sum() - beta * beta * d
        z = np.where(sd > 0, beta / np.sqrt(np.maximum(resid, 1e-12) / (n_samples - 2) / d), 0.0)
        pos = centre - 450_000 + (np.arange(p) * 900_000) // p
        ids = [f"l{k}_{j}" for j in range(p)]
        keep = sd > 0
        blocks.append(g[:, keep].astype(np.int8))
        tables.append(
            pd.DataFrame(
                {
                    "CHR": chrom,
                    "BP": pos[keep],
                    "SNP": np.array(ids)[keep],
                    "A1": "G",
                    "A2": "A",
                    "Z": z[keep],
                    "N": n_samples,
                }
            )
        )
        truth.append({"locus": k, "chrom": chrom, "centre": centre, "n_variants": int(keep.sum()),
                      "causal": ",".join(ids[c] for c in causal)})  # fmt: skip
    table = pd.concat(tables, ignore_index=True)
    order = np.lexsort((table["BP"].to_numpy(), table["CHR"].astype(int).to_numpy()))
    geno = np.concatenate(blocks, axis=1)[:, order]
    table = table.iloc[order].reset_index(drop=True)
    to_bed(
        str(out / "panel.bed"), geno,
        properties={"chromosome": table["CHR"].tolist(), "sid": table["SNP"].tolist(),
                    "bp_position": table["BP"].to_numpy(), "allele_1": table["A1"].tolist(),
                    "allele_2": table["A2"].tolist(),
                    "iid": [f"s{i}" for i in range(n_samples)]},
        count_A1=True,
    )  # fmt: skip
    table.to_csv(out / "gwas.tsv", sep="\t", index=False)
    truth = pd.DataFrame(truth)
    truth.to_csv(out / "truth.tsv", sep="\t", index=False)
    return truth


def compare_fits(
    out: Path,
    summary: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    skip_r: bool,
    r_loci: int | None,
    seed: int,
) -> None:
    """Per locus: our SuSiE-RSS fit and susieR's on the same z, R, n; append to the table."""
    import os

    from threadpoolctl import threadpool_limits

    from varinterp.finemap.credsets import credible_sets
    from varinterp.finemap.ld import PlinkLd
    from varinterp.finemap.susie import susie_rss

    table_path = out / "per_locus.tsv"
    done = set(pd.read_csv(table_path, sep="\t")["locus_id"]) if table_path.is_file() else set()
    (out / "s.R").write_text(R_SCRIPT)
    panel = PlinkLd(out / "panel")
    gwas = pd.read_csv(out / "gwas.tsv", sep="\t")
    z_of = gwas.set_index("SNP")["Z"]
    causal = {c for cs in truth["causal"] for c in cs.split(",")}
    seconds = _gw_seconds(out)
    ok = summary.loc[summary["status"] == "ok", "locus_id"].tolist()
    with_r = set(ok)
    if r_loci is not None and r_loci < len(ok):
        pick = np.random.default_rng(seed).choice(len(ok), size=r_loci, replace=False)
        with_r = {ok[i] for i in pick}
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for row in summary.itertuples():
        if row.locus_id in done or row.status != "ok":
            continue
        var = pd.read_csv(out / "gw" / "loci" / row.locus_id / "susie" / "variants.tsv", sep="\t")
        idx = np.flatnonzero(np.isin(panel.variants["variant_id"], var["variant_id"]))
        R, _ = panel.matrix(idx)
        z = z_of.loc[panel.variants["variant_id"].iloc[idx]].to_numpy()
        n = float(gwas["N"].iloc[0])
        with threadpool_limits(limits=1):
            t0 = time.perf_counter()
            fit = susie_rss(z=z, R=R, n=n, L=10)
            sets = credible_sets(fit.alpha, R=R, lbf=fit.lbf, active=fit.active)
            ours = time.perf_counter() - t0
        top = str(row.top_variants).split(",")[0]
        rec = {"locus_id": row.locus_id, "n_variants": len(z), "lead_p": row.lead_p,
               "genome_wide_s": seconds.get(row.locus_id, row.seconds), "ours_fit_s": ours,
               "ours_n_cs95": len(sets), "top_variant_causal": top in causal,
               "cs95_has_causal": sum(bool(set(var["variant_id"].iloc[s.variants]) & causal)
                                      for s in sets)}  # fmt: skip
        if not skip_r and row.locus_id in with_r:
            (out / "z.bin").write_bytes(z.astype("<f8").tobytes())
            (out / "R.bin").write_bytes(R.astype("<f8").tobytes(order="F"))
            res = subprocess.run(
                ["Rscript", str(out / "s.R"), str(out / "z.bin"), str(out / "R.bin"), str(len(z)),
                 str(n)], capture_output=True, text=True, check=True, env=env,
            )  # fmt: skip
            lines = res.stdout.strip().splitlines()
            theirs = {frozenset(int(v) for v in ln.split()) for ln in lines[2:]}
            pip_r = np.array(lines[1].split(), dtype=float)
            rec.update(
                susier_fit_s=float(lines[0]),
                susier_n_cs95=len(theirs),
                speedup=float(lines[0]) / ours,
                max_pip_diff=float(np.max(np.abs(pip_r - fit.pip))),
                same_cs95={frozenset(s.variants.tolist()) for s in sets} == theirs,
            )
        pd.DataFrame([rec]).to_csv(
            table_path, sep="\t", index=False, mode="a", header=not table_path.is_file(),
            float_format="%.6g",
        )  # fmt: skip
        print(rec, flush=True)


def _gw_seconds(out: Path) -> dict[str, float]:
    path = out / "gw_seconds.tsv"
    if not path.is_file():
        return {}
    t = pd.read_csv(path, sep="\t", names=["locus_id", "seconds"])
    return dict(zip(t["locus_id"], t["seconds"], strict=True))


def _record_seconds(out: Path, t0: float):
    def on_locus(row: dict) -> None:
        with open(out / "gw_seconds.tsv", "a") as fh:
            fh.write(f"{row['locus_id']}\t{row['seconds']:.4f}\n")
        print(f"[{time.time() - t0:7.1f} s] {row['locus_id']} {row['status']} "
              f"{row.get('seconds') or 0:.1f} s", flush=True)  # fmt: skip

    return on_locus


def summarise(out: Path, truth: pd.DataFrame, summary: pd.DataFrame) -> str:
    """The numbers of the summary table in docs/benchmarks.md."""
    per = pd.read_csv(out / "per_locus.tsv", sep="\t")
    r = per.dropna(subset=["susier_fit_s"]) if "susier_fit_s" in per else per.iloc[0:0]

    def mr(x: pd.Series, fmt: str = "{:.3g}") -> str:
        return f"{fmt.format(x.median())} ({fmt.format(x.min())}-{fmt.format(x.max())})"

    lines = [
        f"simulated loci: {len(truth)}; variants {truth['n_variants'].min()}-"
        f"{truth['n_variants'].max()}",
        f"loci found (p < 5e-8): {len(summary)}, fine-mapped: "
        f"{int((summary['status'] == 'ok').sum())}",
        f"genome-wide s per locus: {mr(per['genome_wide_s'])}",
        f"our SuSiE fit s: {mr(per['ours_fit_s'])} on {len(per)} loci",
        f"top-PIP variant causal: {int(per['top_variant_causal'].sum())} of {len(per)}",
        f"95% sets: {int(per['ours_n_cs95'].sum())}, holding a causal variant: "
        f"{int(per['cs95_has_causal'].sum())}",
    ]
    if len(r):
        lines += [
            f"susieR loci: {len(r)}; ours {mr(r['ours_fit_s'])} s, susieR "
            f"{mr(r['susier_fit_s'])} s, speed-up {mr(r['speedup'])}x",
            f"same 95% sets: {int(r['same_cs95'].sum())} of {len(r)}; max PIP diff "
            f"{r['max_pip_diff'].max():.2g} (median {r['max_pip_diff'].median():.2g})",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--loci", type=int, default=100)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--pve", type=float, default=0.2, help="trait variance the causal explain")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-susier", action="store_true")
    ap.add_argument("--susier-loci", type=int, default=None, help="susieR on a random subset")
    ap.add_argument("--no-ld-check", action="store_true", help="skip the per-locus LD check")
    args = ap.parse_args()
    from varinterp.finemap.genomewide import finemap_genome_wide

    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if not (args.out / "truth.tsv").is_file():
        truth = simulate(args.out, args.loci, args.samples, args.seed, pve=args.pve)
        print(f"[{time.time() - t0:7.1f} s] simulated {len(truth)} loci", flush=True)
    truth = pd.read_csv(args.out / "truth.tsv", sep="\t")
    t1 = time.time()
    res = finemap_genome_wide(
        sumstats=args.out / "gwas.tsv", plink=args.out / "panel", out=args.out / "gw",
        threads=args.threads, L=10, ld_check=not args.no_ld_check,
        on_locus=_record_seconds(args.out, t0),
    )  # fmt: skip
    wall = time.time() - t1
    s = res.summary
    print(
        f"genome-wide: {len(s)} loci ({res.n_resumed} resumed), {int((s['status'] == 'ok').sum())} "
        f"ok, wall {wall:.0f} s with {args.threads} workers (this call)",
        flush=True,
    )
    compare_fits(args.out, s, truth, skip_r=args.skip_susier, r_loci=args.susier_loci,
                 seed=args.seed)  # fmt: skip
    print(summarise(args.out, truth, s), flush=True)


if __name__ == "__main__":
    main()
