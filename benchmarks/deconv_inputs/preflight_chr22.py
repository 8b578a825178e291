"""Preflight on the DeepDETAILS chr22 fixtures: synthetic cells from the real tracks.

Cells of K562, GM12878 and MCF7 are drawn from each cell type's real accessibility
track (fragment centres with probability proportional to its coverage, 200-bp
fragments); the bulk is a binomially thinned mixture of the real PRO-cap tracks
(`simulate_mixture`); peaks are the top 500-bp bins of accessibility. Prints the
estimated fractions for several mixtures, the R^2 and the time per preflight run.

    python benchmarks/deconv_inputs/preflight_chr22.py [fixtures folder]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig

from varinterp.deconv.fragments import load_fragments
from varinterp.deconv.preflight import run_preflight
from varinterp.simulate.mixture import simulate_mixture

TYPES = ("K562", "GM12878", "MCF7")
CHROM = "chr22"


def synth_cells(acc: Path, ct: str, rng, n_cells=100, per_cell=3000) -> pd.DataFrame:
    bw = pyBigWig.open(str(acc))
    iv = np.asarray(bw.intervals(CHROM), dtype=np.float64)
    bw.close()
    w = iv[:, 2] * (iv[:, 1] - iv[:, 0])
    n = n_cells * per_cell
    pick = rng.choice(len(iv), size=n, p=w / w.sum())
    centre = (iv[pick, 0] + rng.random(n) * (iv[pick, 1] - iv[pick, 0])).astype(np.int64)
    cells = np.repeat([f"{ct}_{i}" for i in range(n_cells)], per_cell)
    return pd.DataFrame({0: CHROM, 1: centre - 100, 2: centre + 100, 3: cells, 4: 1})


def top_bins(accs: dict, n=3000, width=500) -> pd.DataFrame:
    keep = set()
    for path in accs.values():
        bw = pyBigWig.open(str(path))
        length = bw.chroms(CHROM)
        nb = length // width
        s = np.nan_to_num(
            np.array(bw.stats(CHROM, 0, nb * width, nBins=nb, type="sum", exact=True), dtype=float)
        )
        bw.close()
        keep.update(np.argsort(-s)[:n].tolist())
    b = np.array(sorted(keep))
    return pd.DataFrame({"chrom": CHROM, "start": b * width, "end": b * width + width})


def main(root: Path) -> None:
    d = root / "deepdetails_chr22"
    rng = np.random.default_rng(0)
    accs = {c: d / f"acc.{c}.chr22.bw" for c in TYPES}
    tracks = {c: (d / f"{c}.ds.chr22.pl.bw", d / f"{c}.ds.chr22.mn.bw") for c in TYPES}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frags = pd.concat([synth_cells(accs[c], c, rng) for c in TYPES]).sort_values([1, 2])
        frags.to_csv(tmp / "f.tsv", sep="\t", header=False, index=False)
        bcs = pd.DataFrame({"barcode": frags[3].unique()})
        bcs["cell_type"] = bcs.barcode.str.split("_").str[0]
        table = load_fragments(tmp / "f.tsv", barcodes=bcs, chrom_sizes={CHROM: 50_818_468})
        peaks = top_bins(accs)
        print(f"{table.n} fragments, {len(peaks)} peaks")
        for props in [(0.6, 0.3, 0.1), (1 / 3, 1 / 3, 1 / 3), (0.7, 0.3, 0.0), (0.5, 0.0, 0.5)]:
            mix = simulate_mixture(
                tracks=tracks, proportions=dict(zip(TYPES, props, strict=True)), depth=150_000,
                out=tmp / "mix", seed=1, overwrite=True,
            )  # fmt: skip
            t = time.perf_counter()
            res = run_preflight(table, regions=peaks, bulk_pl=mix.bulk[0], bulk_mn=mix.bulk[1])
            dt = time.perf_counter() - t
            est = ", ".join(f"{c} {res.fractions[c]:.3f}" for c in TYPES)
            status = ",".join(res.table.status)
            print(f"true {props} -> {est}; R2 {res.r2:.2f}; {len(res.signatures)} sig; "
                  f"{status}; {dt:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/fixtures"))
