"""Train (or fine-tune) a CLIPNET fold ensemble from a run config into a model directory.

`train_clipnet` is what ``varinterp train clipnet`` calls; `run_folds` is shared with
fine-tuning (`varinterp.models.clipnet.finetune`). For each requested model fold ``k``
(default 1..9) it trains on the folds of `fold_split(k)`, early-stops on fold
``(k mod 9) + 1``, scores the best weights on fold ``k`` and writes them; a killed run
started again with the same arguments resumes (finished folds are kept, the running
fold continues from its last epoch). See ``docs/training.md``.

Each fold model trains through the engine (`varinterp.training.engine.fit`) on a
`ClipnetTask`, with the settings of `fit_settings` (Adam beta 0.9 / 0.999, eps 1e-7;
warm-up epochs; early stopping on ``val_loss``). Torch is seeded with
``seed * 1000 + k`` before the fold's model is built; the batch order of epoch ``e``
comes from ``(seed, k, e)``; every metrics line carries ``fold = k``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from varinterp.datasets.folds import FoldMap, balanced_folds, fold_split, human_folds
from varinterp.datasets.samplesheet import read_sample_sheet, subsample_individuals
from varinterp.errors import InputError
from varinterp.genome.store import GenomeStore
from varinterp.io.atomic import check_output
from varinterp.models.clipnet.card import model_card
from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.heads import mean_profile, start_profile_head, window_tracks
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.models.clipnet.predict import metrics_of, predict_examples
from varinterp.models.clipnet.runconfig import (
    RunConfig,
    fit_settings,
    load_run_config,
    model_config_from,
)
from varinterp.models.clipnet.task import ClipnetTask
from varinterp.progress import ProgressCallback
from varinterp.training.ddp import DistInfo, barrier, init_distributed
from varinterp.training.devices import resolve_device
from varinterp.training.engine import EpochLog, fit
from varinterp.training.rundir import RunDir

__all__ = [
    "TrainResult",
    "build_data",
    "resolve_fold_map",
    "run_folds",
    "train_clipnet",
]

StatusCallback = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training or fine-tuning run did."""

    out: Path
    folds: list[str]
    trained: list[int]
    n_libraries: int
    n_individuals: int
    n_peaks: int
    n_dropped_edge: int
    summaries: dict[int, dict[str, Any]] = field(default_factory=dict)


def build_data(
    run: RunConfig,
    model_cfg: ClipnetConfig,
    *,
    reference_only: bool = False,
    subsample: int | None = None,
    replicate: int = 0,
    on_progress: ProgressCallback | None = None,
) -> ClipnetData:
    """Open the store, read the sample sheet (optionally subsampled) and the tracks."""
    d = run.data
    store = GenomeStore.open(d.store, reference_only=reference_only or d.reference_only)
    libraries = read_sample_sheet(d.sample_sheet)
    missing = sorted({lib.sample for lib in libraries} - set(store.samples))
    if store.samples and not store.reference_only and missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        msg = (
            f"sample sheet {d.sample_sheet} names {len(missing)} sample(s) absent from genome "
            f"store {d.store}: {shown}; fix the sheet's sample column or rebuild the store"
        )
        raise InputError(msg)
    if subsample is not None:
        libraries = subsample_individuals(
            libraries, subsample, replicate=replicate, seed=run.training.seed
        )
    return ClipnetData.build(
        store=store,
        libraries=libraries,
        peaks=d.peaks,
        input_length=model_cfg.input_length,
        output_length=model_cfg.output_length,
        max_jitter=d.max_jitter,
        normalize=d.normalize,
        cache=d.track_cache,
        indel_aware=d.indel_aware,
        on_progress=on_progress,
    )


def resolve_fold_map(folds: str | Mapping[str, int], store: GenomeStore) -> FoldMap:
    """``"human"`` -> the published table, ``"auto"`` -> balanced by contig length, or a table."""
    if folds == "human":
        return human_folds()
    if folds == "auto":
        return balanced_folds(store.contig_lengths)
    return FoldMap(dict(folds))


def train_clipnet(
    *,
    config: str | os.PathLike,
    out: str | os.PathLike,
    folds: Sequence[int] | None = None,
    reference_only: bool = False,
    subsample_individuals: int | None = None,
    replicate: int = 0,
    device: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_status: StatusCallback | None = None,
) -> TrainResult:
    """Train CLIPNET fold models from the run config `config` into the folder `out`.

    `folds` picks model folds (default all, 1..9); `reference_only` trains on the
    reference sequence (variants masked); `subsample_individuals` keeps the libraries of
    that many individuals (draw `replicate`). `device` overrides ``[training] device``.
    """
    run = load_run_config(config)
    model_cfg = model_config_from(run.model, path=run.path)
    return run_folds(
        run=run,
        model_cfg=model_cfg,
        out=out,
        folds=folds,
        kind="train",
        reference_only=reference_only,
        subsample=subsample_individuals,
        replicate=replicate,
        device=device,
        overwrite=overwrite,
        on_progress=on_progress,
        on_epoch=on_epoch,
        on_status=on_status,
    )


def run_folds(
    *,
    run: RunConfig,
    model_cfg: ClipnetConfig,
    out: str | os.PathLike,
    folds: Sequence[int] | None,
    kind: str,
    fold_table: Mapping[str, int] | None = None,
    n_folds: int | None = None,
    init_states: Mapping[int, Mapping[str, torch.Tensor]] | None = None,
    source: str | None = None,
    reference_only: bool = False,
    subsample: int | None = None,
    replicate: int = 0,
    device: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_status: StatusCallback | None = None,
) -> TrainResult:
    """Train the requested folds (see the module docstring); `init_states` start weights."""
    check_output(out)
    dev = resolve_device(device or run.training.device)
    dist = init_distributed(dev)
    say = on_status if on_status is not None and dist.is_main else (lambda _msg: None)
    if dist.enabled and dev.type == "cuda":
        dev = torch.device("cuda", dist.local_rank)
    data = build_data(
        run,
        model_cfg,
        reference_only=reference_only,
        subsample=subsample,
        replicate=replicate,
        on_progress=on_progress,
    )
    fold_map = (
        FoldMap(dict(fold_table), n_folds=n_folds or 10)
        if fold_table is not None
        else resolve_fold_map(run.data.folds, data.store)
    )
    all_folds = list(range(1, fold_map.n_folds))
    wanted = list(all_folds if folds is None else folds)
    bad = [k for k in wanted if k not in all_folds]
    if bad or not wanted:
        msg = f"--folds {bad or wanted}: model folds are {all_folds[0]}..{all_folds[-1]}"
        raise InputError(msg)
    if init_states is not None:
        missing = [k for k in wanted if k not in init_states]
        if missing:
            msg = f"source model has no fold(s) {missing}; fine-tune only folds it has"
            raise InputError(msg)
    individuals = sorted({lib.sample for lib in data.libraries})
    settings = {
        "kind": kind,
        "model": model_cfg.to_dict(),
        "training": run.training.to_dict(),
        "data": {k: str(v) if isinstance(v, Path) else v for k, v in run.data.__dict__.items()},
        "reference_only": bool(reference_only or run.data.reference_only),
        "subsample_individuals": subsample,
        "replicate": replicate if subsample is not None else None,
        "folds": fold_map.to_dict(),
        "source": source,
    }
    for k in wanted:  # every fold's data is checked before the output folder is made
        _fold_peaks(k, data, fold_map)
    rundir = RunDir(out)
    if dist.is_main:
        resumed = rundir.prepare(settings, overwrite=overwrite)
        if resumed:
            say(f"resuming the run in {rundir.out}")
    barrier(dist)
    say(
        f"{data.n_libraries} libraries of {len(individuals)} individuals, {data.n_peaks} peaks "
        f"({data.n_dropped_edge} dropped near contig ends), device {dev}"
    )
    histories: dict[int, list[dict]] = {
        k: rundir.summary(k)["history"] for k in rundir.done_folds()
    }
    trained = []
    for k in wanted:
        if k in rundir.done_folds():
            say(f"fold {k}: already trained, kept")
            continue
        summary = _train_one(
            k, data, fold_map, run, model_cfg, dev, dist, rundir, init_states,
            histories, on_progress, on_epoch, say,
        )  # fmt: skip
        histories[k] = summary["history"]
        trained.append(k)
    summaries = {k: rundir.summary(k) for k in rundir.done_folds()}
    names: list[str] = []
    if dist.is_main:
        metadata = {
            "trained_by": f"varinterp {kind}",
            "folds": fold_map.to_dict(),
            "n_folds": fold_map.n_folds,
            "training": run.training.to_dict(),
            "data": settings["data"],
            "libraries": [lib.name for lib in data.libraries],
            "individuals": individuals,
            "reference_only": settings["reference_only"],
            "subsample_individuals": subsample,
            "replicate": settings["replicate"],
            "source": source,
            "fold_summaries": {f"fold_{k}": _brief(s) for k, s in summaries.items()},
            "output": "profile+quantity",
        }
        card = model_card(
            kind=kind, model_cfg=model_cfg, metadata=metadata, summaries=summaries, data=data
        )
        names = rundir.assemble(config=model_cfg, metadata=metadata, card=card)
    barrier(dist)
    return TrainResult(
        out=rundir.out,
        folds=names,
        trained=trained,
        n_libraries=data.n_libraries,
        n_individuals=len(individuals),
        n_peaks=data.n_peaks,
        n_dropped_edge=data.n_dropped_edge,
        summaries=summaries,
    )


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k != "history"}


def _fold_peaks(k: int, data, fold_map) -> dict[str, np.ndarray]:
    """The peak indices of fold model `k`'s train, validation and test folds; a part of
    training with no peak is an `InputError`."""
    split = fold_split(k, fold_map.n_folds)
    peaks = {
        "train": data.peaks_in_folds(fold_map, split.train),
        "validation": data.peaks_in_folds(fold_map, [split.validation]),
        "test": data.peaks_in_folds(fold_map, [split.test]),
    }
    for part in ("train", "validation"):
        if peaks[part].size == 0:
            folds = split.train if part == "train" else (split.validation,)
            msg = (
                f"fold {k}: no peak lies on the {part} fold(s) {list(folds)} (contigs "
                f"{', '.join(fold_map.contigs(folds)) or 'none'}); add peaks there or give "
                "a [data.folds] table that fits this genome"
            )
            raise InputError(msg)
    return peaks


def _train_one(
    k, data, fold_map, run, model_cfg, dev, dist: DistInfo, rundir: RunDir, init_states,
    histories, on_progress, on_epoch, say,
) -> dict[str, Any]:  # fmt: skip
    split = fold_split(k, fold_map.n_folds)
    peaks = _fold_peaks(k, data, fold_map)
    rc = run.data.rc_augment
    train_ex = data.examples(peaks["train"], rc=rc)
    fixed = run.data.eval_jitter
    val_ex = data.examples(
        peaks["validation"], rc="none" if rc == "none" else "both", fixed_jitter=fixed
    )
    test_ex = data.examples(peaks["test"], rc="none", fixed_jitter=fixed)

    def make_model(_attempt: int) -> Clipnet:
        model = Clipnet(model_cfg)  # the engine seeded torch: weights depend on seed and fold
        if init_states is not None:
            model.load_state_dict(dict(init_states[k]))
            return model
        # from scratch, start both heads where the training windows are on average
        # (each at its evaluation offset: jittered as the training windows are)
        shifts = data.fixed_shifts()
        q = window_tracks(data, peaks["train"], shifts).sum(axis=(2, 3), dtype=np.float64)
        model.init_quantity_scale(float(q.mean()), float(max(q.std(), 1e-3)))
        shape = mean_profile(data, peaks["train"], rc=rc != "none", shifts=shifts)
        start_profile_head(model, shape)
        return model

    say(
        f"fold {k}: train folds {list(split.train)} ({len(train_ex)} examples), validation "
        f"fold {split.validation} ({len(val_ex)}), test fold {split.test} ({len(test_ex)})"
    )

    def epoch_done(log: EpochLog, history: list[EpochLog]) -> None:
        if dist.is_main:
            histories[k] = [h.to_dict() for h in history]
            rundir.write_metrics(histories)
        say(
            f"fold {k} epoch {log.epoch}: train {log.train_loss:.4f}, val {log.val_loss:.4f}"
            f"{' (best)' if log.best else ''}, {log.samples_per_s:.0f} samples/s"
        )
        if on_epoch is not None:
            on_epoch(log)

    t = run.training
    task = ClipnetTask(
        data, train_ex, val_ex, batch_size=t.batch_size, quantity_weight=t.quantity_weight,
        bn_recalibration_batches=t.bn_recalibration_batches,
    )  # fmt: skip
    result = fit(
        make_model=make_model,
        task=task,
        settings=fit_settings(t),
        device=dev,
        seed=t.seed * 1000 + k,
        order_seed=(t.seed, k),
        state_path=rundir.state_path(k),
        dist=dist,
        labels={"fold": k},
        on_epoch=epoch_done,
        on_progress=on_progress,
    )
    metrics: dict[str, Any] = {}
    if test_ex and dist.is_main:
        best = Clipnet(model_cfg)
        best.load_state_dict(result.best_state)
        pred = predict_examples(
            [best.to(dev)], data, test_ex, batch_size=t.batch_size, device=dev, bf16=t.bf16,
            depth=t.prefetch,
        )  # fmt: skip
        metrics = metrics_of(pred)
    summary = {
        "fold": k,
        "train_folds": list(split.train),
        "validation_fold": split.validation,
        "test_fold": split.test,
        "n_train_examples": len(train_ex),
        "n_validation_examples": len(val_ex),
        "n_test_examples": len(test_ex),
        "best_epoch": result.best_epoch,
        "best_val_loss": result.best_val_loss,
        "epochs_run": result.epochs_run,
        "test_metrics": {m: float(v) if np.isfinite(v) else None for m, v in metrics.items()},
        "history": [h.to_dict() for h in result.history],
    }
    if dist.is_main:
        rundir.finish_fold(k, result.best_state, summary)
    barrier(dist)
    return summary
