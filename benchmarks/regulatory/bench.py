"""Time `elements call` and `link abc` on the real chr22 fixtures.

Usage: python benchmarks/regulatory/bench.py [FIXTURES]   (default ../shared/fixtures)
Prints one line per step: what ran, on what, and the wall time in seconds.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.regulatory.abc_run import link_abc
from varinterp.regulatory.elements import call_elements


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/fixtures").resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dd = root / "deepdetails_chr22"
        starts = np.arange(16_000_000, 51_000_000, 1000)
        pd.DataFrame({"c": "chr22", "s": starts, "e": starts + 1000}).to_csv(
            tmp / "tiles.bed", sep="\t", header=False, index=False
        )
        rows = [
            (ct, str(dd / f"{ct}.ds.chr22.pl.bw"), str(dd / f"{ct}.ds.chr22.mn.bw"))
            for ct in ("K562", "GM12878", "MCF7")
        ]
        pd.DataFrame(rows, columns=["cell_type", "path", "minus"]).to_csv(
            tmp / "tracks.tsv", sep="\t", index=False
        )
        t = time.perf_counter()
        res = call_elements(
            tracks=tmp / "tracks.tsv", regions=tmp / "tiles.bed", out=tmp / "el", bins=10
        )
        print(
            f"elements call: {len(starts)} x 1 kb chr22 tiles, 3 stranded PRO-cap tracks, "
            f"--bins 10: {time.perf_counter() - t:.1f} s; specific {res.n_specific}"
        )

        abc = root / "abc_k562_chr22"
        genes = pd.read_csv(abc / "GeneList.txt", sep="\t")
        genes[["chr", "start", "end", "name", "score", "strand"]].to_csv(
            tmp / "genes.bed", sep="\t", header=False, index=False
        )
        dhs = abc / "Enhancers.DHS.ENCFF860XAE.chr22.sorted.se.bam.CountReads.bedgraph"
        h3 = abc / "Enhancers.H3K27ac.ENCFF790GFL.chr22.sorted.se.bam.CountReads.bedgraph"
        pd.DataFrame(
            {
                "cell_type": ["K562"],
                "accessibility": [str(dhs)],
                "h3k27ac": [str(h3)],
                "accessibility_total": [379428],
                "h3k27ac_total": [113284],
            }
        ).to_csv(tmp / "samples.tsv", sep="\t", index=False)
        for all_putative in (False, True):
            t = time.perf_counter()
            res = link_abc(
                elements=abc / "EnhancerList.bed",
                genes=tmp / "genes.bed",
                samples=tmp / "samples.tsv",
                out=tmp / f"abc{all_putative}",
                accessibility_kind="DHS",
                qnorm=abc / "EnhancersQNormRef.K562.txt",
                all_putative=all_putative,
            )
            print(
                f"link abc: 17,732 elements x 517 genes (chr22, power law), "
                f"all_putative={all_putative}: {time.perf_counter() - t:.1f} s; "
                f"{res.n_pairs} pairs, {res.n_links['K562']} links"
            )


if __name__ == "__main__":
    main()
