"""Training cREscENDO on a prepared multiome run: the encoder, then the per-gene model.

Both steps run through the one engine (`varinterp.training.engine.fit`) with the
published optimiser settings (Adam, betas 0.95 / 0.9995, eps 1e-7):

1. the **peak encoder** (`EncoderTask`): lr 1e-2, batch 128 peaks, 1,000 epochs; the
   published run has no early stopping (``encoder_patience`` defaults to the epoch count)
   and the engine keeps the epoch with the lowest validation loss (held-out peaks; the
   BatchNorm statistics re-estimated before each validation, ``recalibrate_batches``);
2. the **gene model** (`GeneTask`, encoder frozen): lr 1e-5 for the attention (the
   query and key maps, the promoter weight and the 512 -> 128 -> 64 layers), 1e-3 for the
   decoder (`OptimizerSettings.group_lr`), batch 8 genes, at most 500 epochs, early
   stopping after 10 epochs without a better validation loss.

Outputs in `out`: ``model/`` (a model directory with member ``model``: the encoder, the
gene model and the data buffers of `Crescendo`; metadata with the genes, cell types,
contigs, barcodes, the settings and the metrics; a card), ``metrics_encoder.jsonl`` and
``metrics_gene.jsonl`` (one line per epoch), ``checkpoint_encoder.pt`` and
``checkpoint_gene.pt`` (the engine's resumable state: a killed run continues from them)
and ``train.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text, check_output
from varinterp.models.crescendo.card import model_card
from varinterp.models.crescendo.data import PreparedData
from varinterp.models.crescendo.evaluate import encoder_metrics, expression_metrics
from varinterp.models.crescendo.network import (
    PRESETS,
    Crescendo,
    CrescendoConfig,
    GeneModel,
    PeakEncoder,
)
from varinterp.models.crescendo.task import (
    TARGETS,
    EncoderTask,
    GeneInputs,
    GeneTask,
    recalibrate_batchnorm,
)
from varinterp.progress import ProgressCallback
from varinterp.training.devices import resolve_device
from varinterp.training.engine import EpochLog, fit
from varinterp.training.modeldir import save_model_dir
from varinterp.training.settings import FitSettings, OptimizerSettings

__all__ = [
    "ATTENTION_PARAMETERS",
    "CrescendoResult",
    "CrescendoSettings",
    "build_config",
    "train_crescendo",
]

#: Parameter-name prefixes of the gene model trained at the attention learning rate.
ATTENTION_PARAMETERS = ("prom_q", "prom_w", "key", "mlp")
MEMBER = "model"
EpochCallback = Callable[[str, EpochLog], None]


@dataclass(frozen=True)
class CrescendoSettings:
    """How `train_crescendo` trains (module docstring); `preset` picks the architecture
    sizes (`PRESETS`), `architecture` overrides single config fields."""

    preset: str = "published"
    architecture: tuple[tuple[str, Any], ...] = ()
    encoder_epochs: int = 1000
    encoder_patience: int | None = None
    encoder_lr: float = 1e-2
    encoder_batch: int = 128
    augment: bool = True
    recalibrate_batches: int = 8
    gene_epochs: int = 500
    gene_patience: int = 10
    attention_lr: float = 1e-5
    decoder_lr: float = 1e-3
    gene_batch: int = 8
    target: str = "pca"
    betas: tuple[float, float] = (0.95, 0.9995)
    eps: float = 1e-7
    seed: int = 0

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise InputError(f"preset {self.preset!r} must be one of {', '.join(PRESETS)}")
        if self.target not in TARGETS:
            raise InputError(f"target {self.target!r} must be one of {', '.join(TARGETS)}")
        if min(self.encoder_epochs, self.gene_epochs, self.encoder_batch, self.gene_batch) < 1:
            raise InputError("epochs and batch sizes must be >= 1")

    def encoder_fit(self, has_validation: bool) -> FitSettings:
        return FitSettings(
            max_epochs=self.encoder_epochs,
            patience=self.encoder_patience or self.encoder_epochs,
            monitor="val_loss" if has_validation else "train_loss",
            optimizer=OptimizerSettings(lr=self.encoder_lr, betas=self.betas, eps=self.eps),
        )

    def gene_fit(self) -> FitSettings:
        groups = tuple((p, self.attention_lr) for p in ATTENTION_PARAMETERS)
        return FitSettings(
            max_epochs=self.gene_epochs,
            patience=self.gene_patience,
            monitor="val_loss",
            optimizer=OptimizerSettings(
                lr=self.decoder_lr, betas=self.betas, eps=self.eps, group_lr=groups
            ),
        )


@dataclass
class CrescendoResult:
    """What `train_crescendo` wrote and measured."""

    model_dir: Path
    encoder_epochs: int
    gene_epochs: int
    metrics: dict[str, float] = field(default_factory=dict)


def build_config(data: PreparedData, settings: CrescendoSettings) -> CrescendoConfig:
    """The `CrescendoConfig` of `data` with the settings' preset and overrides."""
    fields = {
        "n_cells": data.n_cells,
        "n_genes": data.n_genes,
        "n_peaks": data.n_peaks,
        "max_tokens": data.max_tokens,
        "n_cell_types": len(data.cell_types),
        "n_chroms": int(data.peaks["chrom"].nunique()),
        "n_pcs": int(data.pca_loadings.shape[1]),
        **PRESETS[settings.preset],
        **dict(settings.architecture),
    }
    try:
        return CrescendoConfig(**fields)
    except (TypeError, ValueError) as exc:
        raise InputError(f"cREscENDO model: {exc}") from None


class _Log:
    """A JSONL metrics log rewritten from the engine's history after every epoch."""

    def __init__(self, path: Path, step: str, then: EpochCallback | None) -> None:
        self.path, self.step, self.then = path, step, then

    def __call__(self, log: EpochLog, history: list[EpochLog]) -> None:
        atomic_write_text(self.path, "".join(json.dumps(h.to_dict()) + "\n" for h in history))
        if self.then is not None:
            self.then(self.step, log)


def assemble(
    config: CrescendoConfig,
    data: PreparedData,
    encoder_state: Mapping[str, torch.Tensor],
    gene_state: Mapping[str, torch.Tensor],
    inputs: GeneInputs,
) -> Crescendo:
    """A `Crescendo` with the trained weights and the buffers filled from `data`."""
    model = Crescendo(config)
    model.encoder.load_state_dict(encoder_state)
    model.gene_model.load_state_dict(gene_state)
    peaks, dist = data.padded_tokens()
    chroms = list(dict.fromkeys(data.peaks["chrom"]))
    coords = np.stack(
        [
            data.peaks["chrom"].map({c: i for i, c in enumerate(chroms)}).to_numpy(),
            data.peaks["start"].to_numpy(),
            data.peaks["end"].to_numpy(),
        ],
        axis=1,
    )
    with torch.no_grad():
        model.pca_loadings.copy_(torch.from_numpy(data.pca_loadings))
        model.gene_mean.copy_(torch.from_numpy(data.log1p_mean))
        model.gene_sd.copy_(torch.from_numpy(data.log1p_sd))
        model.token_peaks.copy_(torch.from_numpy(peaks))
        model.token_distance.copy_(torch.from_numpy(dist))
        model.peak_coords.copy_(torch.from_numpy(coords.astype(np.int64)))
        model.peak_embedding.copy_(inputs.embedding)
        model.peak_norm.copy_(inputs.norm)
        model.cell_type.copy_(torch.from_numpy(data.cell_type))
    return model.eval()


def train_crescendo(
    prep: PreparedData | str | os.PathLike,
    *,
    out: str | os.PathLike,
    settings: CrescendoSettings | None = None,
    device: str | torch.device = "auto",
    resume: bool = True,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> CrescendoResult:
    """Train both networks on `prep` and write ``out/model`` (module docstring).

    With `resume`, checkpoints in `out` are continued; without it both steps start
    afresh. `on_epoch(step, log)` gets ``"encoder"`` or ``"gene"`` and the epoch's log.
    """
    s = settings or CrescendoSettings()
    out = check_output(out)
    data = prep if isinstance(prep, PreparedData) else PreparedData.open(prep)
    config = build_config(data, s)
    if (out / "model").exists() and not overwrite:
        raise InputError(f"output {out / 'model'} already exists; remove it or pass --overwrite")
    out.mkdir(parents=True, exist_ok=True)
    states = [out / "checkpoint_encoder.pt", out / "checkpoint_gene.pt"]
    if not resume:
        for p in states:
            p.unlink(missing_ok=True)
    dev = resolve_device(device)
    enc_task = EncoderTask(
        data,
        batch_size=s.encoder_batch,
        input_length=config.input_length,
        augment=s.augment,
        recalibrate_batches=s.recalibrate_batches,
    )
    enc = fit(
        make_model=lambda attempt: PeakEncoder(config),
        task=enc_task,
        settings=s.encoder_fit(enc_task.has_validation()),
        device=dev,
        seed=s.seed,
        state_path=states[0],
        labels={"step": "encoder"},
        on_epoch=_Log(out / "metrics_encoder.jsonl", "encoder", on_epoch),
        on_progress=on_progress,
    )
    encoder = PeakEncoder(config)
    encoder.load_state_dict(enc.best_state)
    if not enc_task.has_validation():  # no validation pass re-estimated the statistics
        recalibrate_batchnorm(
            encoder, enc_task, device=torch.device("cpu"), rng=np.random.default_rng(s.seed)
        )
    inputs = GeneInputs.from_encoder(encoder, data, device=dev)
    gene_task = GeneTask(data, inputs, batch_size=s.gene_batch, target=s.target)
    gene = fit(
        make_model=lambda attempt: GeneModel(config),
        task=gene_task,
        settings=s.gene_fit(),
        device=dev,
        seed=s.seed + 1,
        state_path=states[1],
        labels={"step": "gene"},
        on_epoch=_Log(out / "metrics_gene.jsonl", "gene", on_epoch),
        on_progress=on_progress,
    )
    model = assemble(config, data, enc.best_state, gene.best_state, inputs).to(dev)
    metrics = {
        "encoder_best_epoch": enc.best_epoch,
        "encoder_best_val_loss": enc.best_value,
        "gene_best_epoch": gene.best_epoch,
        "gene_best_val_loss": gene.best_value,
        **{f"encoder_{k}": v for k, v in encoder_metrics(model, data).items()},
        **expression_metrics(model, data),
    }
    chroms = list(dict.fromkeys(data.peaks["chrom"]))
    metadata = {
        "tasks": list(data.cell_types),
        "cell_types": list(data.cell_types),
        "genes": data.genes["gene"].tolist(),
        "chroms": chroms,
        "chrom_sizes": data.chrom_sizes,
        "barcodes": data.barcodes.tolist(),
        "prep": str(data.path),
        "prep_settings": data.settings,
        "settings": asdict(s),
        "metrics": metrics,
    }
    card = model_card(config=config, data=data, settings=s, metrics=metrics)
    model_dir = save_model_dir(
        out / "model",
        config=config,
        folds={MEMBER: model.cpu()},
        metadata=metadata,
        card=card,
        overwrite=True,
    )
    summary = {
        "model_dir": str(model_dir),
        "encoder_epochs": enc.epochs_run,
        "gene_epochs": gene.epochs_run,
        "metrics": metrics,
    }
    atomic_write_text(out / "train.json", json.dumps(summary, indent=2, default=float) + "\n")
    return CrescendoResult(model_dir, enc.epochs_run, gene.epochs_run, metrics)
