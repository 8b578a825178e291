"""Helpers for the fine-mapping tests: small simulated loci written as PLINK and TSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from varinterp.finemap.simulate import simulate_locus

BASES = np.array(list("ACGT"))


def write_locus(tmp: Path, *, p: int = 60, n: int = 400, seed: int = 1, chrom: str = "1"):
    """Simulate a locus; write PLINK genotypes (alt = .bim column 5) and sumstats.

    Returns (locus, bfile prefix, sumstats path, table of variants).
    """
    from bed_reader import to_bed

    loc = simulate_locus(
        n_samples=n, n_variants=p, n_causal=2, pve=0.2, rho=0.8, mean_block=20, seed=seed
    )
    rng = np.random.default_rng(seed)
    ref, alt = [], []
    for _ in range(p):  # non-palindromic SNVs only
        pair = rng.choice([("A", "G"), ("C", "T"), ("A", "C"), ("G", "T"), ("C", "A")])
        ref.append(pair[0])
        alt.append(pair[1])
    pos = 1000 + 10 * np.arange(p)
    table = pd.DataFrame(
        {
            "CHR": chrom,
            "SNP": [f"rs{i}" for i in range(p)],
            "BP": pos,
            "A1": alt,
            "A2": ref,
            "Z": loc.z,
            "N": n,
        }
    )
    prefix = tmp / "panel"
    to_bed(
        f"{prefix}.bed",
        loc.X.astype(np.float32),
        properties={
            "chromosome": [chrom] * p,
            "sid": table["SNP"].tolist(),
            "bp_position": pos,
            "allele_1": alt,
            "allele_2": ref,
            "iid": [f"s{i}" for i in range(n)],
        },
        count_A1=True,
    )
    ss = tmp / "sumstats.tsv"
    table.to_csv(ss, sep="\t", index=False)
    return loc, prefix, ss, table


@pytest.fixture
def small_locus(tmp_path):
    return write_locus(tmp_path)
