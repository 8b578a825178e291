"""Time the simulated PSC-like chain: GWAS simulation, fine-mapping, locus report, render.

    python benchmarks/report/locus.py [--n 10000] [--seed 0]

Prints one line per stage (seconds). Chromium is timed when installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from varinterp.demo.evidence import planted_evidence
    from varinterp.finemap.run import finemap
    from varinterp.report.locus import locus_report
    from varinterp.simulate import make_world
    from varinterp.simulate.gwas import simulate_gwas, write_gwas

    tmp = Path(tempfile.mkdtemp())
    world = make_world(seed=args.seed)
    t = time.perf_counter()
    locus = simulate_gwas(world=world, seed=args.seed, n_individuals=args.n)
    g = write_gwas(locus, tmp / "gwas")
    print(
        f"simulate gwas  n={args.n:,} snps={len(locus.sumstats)}  {time.perf_counter() - t:.2f} s"
    )
    t = time.perf_counter()
    fm = finemap(sumstats=g / "sumstats.tsv", ld_matrix=g / "ld.npy",
                 ld_variants=g / "ld_variants.tsv", out=tmp / "fm", L=5)  # fmt: skip
    print(f"finemap (SuSiE-RSS, L=5)  {time.perf_counter() - t:.2f} s")
    ev = planted_evidence(world, chrom=locus.chrom, out=tmp / "ev")
    t = time.perf_counter()
    res = locus_report(
        finemap_dir=fm.out, out=tmp / "report.html", ld_matrix=g / "ld.npy",
        ld_variants=g / "ld_variants.tsv", genes=ev["genes"], elements=ev["elements"],
        abc=ev["abc_dir"], tracks=ev["tracks"],
    )  # fmt: skip
    size = res.html.stat().st_size / 1e3
    print(
        f"report locus (all inputs, 3 track panels)  {time.perf_counter() - t:.2f} s, {size:.0f} kB"
    )
    chromium = shutil.which("chromium")
    if chromium:
        t = time.perf_counter()
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             f"--user-data-dir={tmp / 'profile'}", f"--screenshot={tmp / 'shot.png'}",
             "--window-size=1280,2000", res.html.as_uri()],
            capture_output=True, check=False,
        )  # fmt: skip
        print(f"chromium screenshot  {time.perf_counter() - t:.2f} s")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
