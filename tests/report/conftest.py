"""A simulated locus, fine-mapped, with planted cell-type evidence (built once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Locus:
    root: Path
    world: object
    truth: dict
    gwas: Path
    finemap: Path
    evidence: dict[str, Path]


@pytest.fixture(scope="session")
def sim_locus(tmp_path_factory) -> Locus:
    from varinterp.demo.evidence import planted_evidence
    from varinterp.finemap.run import finemap
    from varinterp.simulate import make_world
    from varinterp.simulate.gwas import simulate_gwas, write_gwas

    root = tmp_path_factory.mktemp("locus")
    world = make_world(seed=0)
    locus = simulate_gwas(world=world, seed=0, n_individuals=5000, h2=0.02)
    gwas = write_gwas(locus, root / "gwas")
    fm = finemap(
        sumstats=gwas / "sumstats.tsv",
        ld_matrix=gwas / "ld.npy",
        ld_variants=gwas / "ld_variants.tsv",
        out=root / "finemap",
        L=5,
    )
    evidence = planted_evidence(world, chrom=locus.chrom, out=root / "evidence")
    return Locus(root, world, locus.truth, gwas, fm.out, evidence)
