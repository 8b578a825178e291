"""A tiny simulated multiome world, prepared and trained once per session (seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

TINY_ARCHITECTURE = (
    ("tower", (8, 8, 8, 8, 8, 8, 8)),
    ("bottleneck", 8),
    ("n_scores", 8),
    ("hidden", (8, 8)),
    ("decoder_width", 16),
)


@dataclass
class TinyRun:
    world: Path
    prep: Path
    train: Path

    @property
    def model(self) -> Path:
        return self.train / "model"


def simulate_tiny(out: Path, seed: int = 0):
    from varinterp.simulate.multiome_files import simulate_multiome

    return simulate_multiome(
        out=out,
        seed=seed,
        n_cells=160,
        n_cell_types=3,
        n_genes=12,
        n_chromosomes=1,
        gene_spacing=40_000,
        background_spacing=8_000,
        causal_distance=15_000,
    )


def tiny_settings(**kw):
    from varinterp.models.crescendo.train import CrescendoSettings

    base = dict(
        preset="small",
        architecture=TINY_ARCHITECTURE,
        encoder_epochs=2,
        gene_epochs=2,
        attention_lr=1e-3,
        encoder_batch=64,
    )
    base.update(kw)
    return CrescendoSettings(**base)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> TinyRun:
    import torch

    from varinterp.models.crescendo.prep import PrepSettings, prepare_multiome
    from varinterp.models.crescendo.train import train_crescendo

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("crescendo")
    files = simulate_tiny(root / "world")
    prepare_multiome(
        matrix=files.h5,
        fasta=files.fasta,
        tss=files.tss_bed,
        out=root / "prep",
        cell_types=files.cell_types,
        settings=PrepSettings(min_genes=1, n_pcs=8, n_folds=4),
    )
    train_crescendo(root / "prep", out=root / "train", settings=tiny_settings(), device="cpu")
    return TinyRun(root / "world", root / "prep", root / "train")
