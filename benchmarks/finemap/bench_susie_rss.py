"""Benchmark: our SuSiE-RSS against susieR's susie_rss on one simulated locus.

Simulates genotypes with block-wise AR(1) LD (see varinterp.finemap.simulate), a trait with
a few causal variants, marginal z-scores and the in-sample LD matrix; then fits both
implementations on the same z, R, n and L, in the same run, and reports wall times (fit,
PIPs and 95% credible sets with purity; data loading excluded on both sides), iterations,
the largest PIP difference and whether the 95% credible sets agree. Needs Rscript with
susieR (Debian r-cran-susier).

    python benchmarks/finemap/bench_susie_rss.py --variants 5000 --samples 3000 --L 10

Ours runs with one BLAS thread by default (--threads), like Debian's R with its reference
BLAS, so that both sides do the same work on one core.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from varinterp.finemap.credsets import credible_sets
from varinterp.finemap.simulate import simulate_locus
from varinterp.finemap.susie import susie_rss

R_SCRIPT = """
suppressMessages(library(susieR))
a <- commandArgs(TRUE); p <- as.integer(a[3]); n <- as.numeric(a[4]); L <- as.integer(a[5])
reps <- as.integer(a[6])
z <- readBin(a[1], "double", p); R <- matrix(readBin(a[2], "double", p * p), p, p)
times <- c()
for (i in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  s <- susie_rss(z, R, n = n, L = L)
  times <- c(times, proc.time()[["elapsed"]] - t0)
}
cat(times, "\\n"); cat(s$niter, "\\n"); cat(s$pip, "\\n")
for (cs in s$sets$cs) cat(cs - 1, "\\n")
cat(as.character(packageVersion("susieR")), "\\n")
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=5000)
    ap.add_argument("--samples", type=int, default=3000)
    ap.add_argument("--causal", type=int, default=3)
    ap.add_argument("--L", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pve", type=float, default=0.1)
    ap.add_argument("--rho", type=float, default=0.97, help="AR(1) LD between neighbours")
    ap.add_argument(
        "--threads", type=int, default=1, help="BLAS threads for ours (susieR uses its BLAS)"
    )
    args = ap.parse_args()
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)

    t0 = time.perf_counter()
    loc = simulate_locus(
        n_samples=args.samples,
        n_variants=args.variants,
        n_causal=args.causal,
        pve=args.pve,
        rho=args.rho,
        mean_block=250,
        seed=args.seed,
    )
    t_sim = time.perf_counter() - t0
    off = np.abs(loc.R[np.triu_indices(args.variants, 1)])
    print(
        f"simulated {args.variants} variants x {args.samples} samples in {t_sim:.1f} s; "
        f"pairs with |r| > 0.5: {np.mean(off > 0.5):.4f}, causal {loc.causal.tolist()}"
    )

    ours = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        fit = susie_rss(z=loc.z, R=loc.R, n=loc.n, L=args.L)
        sets = credible_sets(fit.alpha, R=loc.R, lbf=fit.lbf, active=fit.active)
        pip = fit.pip
        ours.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "z.bin").write_bytes(loc.z.astype("<f8").tobytes())
        (tmp / "R.bin").write_bytes(loc.R.astype("<f8").tobytes(order="F"))
        (tmp / "b.R").write_text(R_SCRIPT)
        out = (
            subprocess.run(
                [
                    "Rscript",
                    str(tmp / "b.R"),
                    str(tmp / "z.bin"),
                    str(tmp / "R.bin"),
                    str(args.variants),
                    str(loc.n),
                    str(args.L),
                    str(args.repeats),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()
        )
    r_times = [float(x) for x in out[0].split()]
    r_iter = int(out[1])
    r_pip = np.array(out[2].split(), dtype=float)
    r_sets = {frozenset(int(x) for x in ln.split()) for ln in out[3:-1]}
    version = out[-1].strip()

    same = {frozenset(c.variants.tolist()) for c in sets} == r_sets
    print("| implementation | median fit time (s) | runs | iterations |")
    print("|---|---|---|---|")
    print(
        f"| varinterp susie_rss (numpy) | {statistics.median(ours):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in ours)} | {fit.n_iter} |"
    )
    print(
        f"| susieR {version} susie_rss | {statistics.median(r_times):.2f} | "
        f"{', '.join(f'{t:.2f}' for t in r_times)} | {r_iter} |"
    )
    print(
        f"max |PIP difference| = {np.abs(pip - r_pip).max():.2e}; "
        f"95% credible sets identical: {same} ({len(sets)} sets, sizes "
        f"{[c.size for c in sets]})"
    )


if __name__ == "__main__":
    main()
