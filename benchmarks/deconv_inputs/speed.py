"""Throughput of `deconvolve pseudobulk` and `simulate mixture` on chr22-sized inputs.

Writes a bgzipped, tabix-indexed fragments file of synthetic cells drawn from the real
chr22 accessibility tracks (3 cell types x `n_cells` cells x `per_cell` fragments), then
times the pseudo-bulk tracks (coverage and cut sites), the reference sampling (good
quality) and the bulk thinning of the real chr22 PRO-cap tracks.

    python benchmarks/deconv_inputs/speed.py [fixtures folder] [n_cells] [per_cell]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

sys.path.insert(0, str(Path(__file__).parent))
from preflight_chr22 import CHROM, TYPES, synth_cells

from varinterp.deconv.fragments import make_pseudobulk
from varinterp.simulate.mixture import simulate_mixture, simulate_reference


def main(root: Path, n_cells: int, per_cell: int) -> None:
    d = root / "deepdetails_chr22"
    rng = np.random.default_rng(0)
    sizes = {CHROM: 50_818_468}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        frags = pd.concat(
            [synth_cells(d / f"acc.{c}.chr22.bw", c, rng, n_cells, per_cell) for c in TYPES]
        ).sort_values([1, 2])
        frags.to_csv(tmp / "f.tsv", sep="\t", header=False, index=False)
        path = pysam.tabix_index(str(tmp / "f.tsv"), preset="bed", force=True)
        bcs = pd.DataFrame({"barcode": frags[3].unique()})
        bcs["cell_type"] = bcs.barcode.str.split("_").str[0]
        bcs.to_csv(tmp / "bc.tsv", sep="\t", header=False, index=False)
        print(f"{len(frags):,} fragments, {len(bcs)} cells")
        for mode in ("coverage", "cutsites"):
            t = time.perf_counter()
            make_pseudobulk(
                fragments=path, barcodes=tmp / "bc.tsv", out=tmp / mode, chrom_sizes=sizes,
                mode=mode,
            )  # fmt: skip
            print(f"pseudobulk {mode}: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        ref = simulate_reference(
            fragments=path, barcodes=tmp / "bc.tsv", chrom_sizes=sizes, out=tmp / "ref",
            quality="acceptable", cells_per_type=n_cells // 2,
        )  # fmt: skip
        n = int(ref.table.n_fragments.sum())
        print(f"reference (acceptable, {n:,} fragments): {time.perf_counter() - t:.1f} s")
        tracks = {c: (d / f"{c}.ds.chr22.pl.bw", d / f"{c}.ds.chr22.mn.bw") for c in TYPES}
        t = time.perf_counter()
        simulate_mixture(
            tracks=tracks, proportions=dict.fromkeys(TYPES, 1.0), depth=300_000, out=tmp / "mix"
        )
        print(f"mixture (3 types, 2 strands, chr22): {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(
        Path(args[0]) if args else Path("../shared/fixtures"),
        int(args[1]) if len(args) > 1 else 300,
        int(args[2]) if len(args) > 2 else 3000,
    )
