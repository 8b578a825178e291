"""Train a bpAI-TAC model, or its Tn5 bias model, from a run config into a model directory.

``varinterp train bpaitac`` calls `train_bpaitac`; ``varinterp train tn5-bias`` calls
`train_tn5_bias`. Both read the run config (`varinterp.models.bpaitac.runconfig`), build
the windows (`varinterp.models.bpaitac.data`), split them by chromosome (or, with
``validation_fraction``, a random share of the non-test windows validates) and train
``replicates`` members through the one engine (`varinterp.training.engine.fit`, task
adapter `AtacTask`): member ``k`` seeds torch with ``seed * 1000 + k`` before its model
is built and orders epoch ``e``'s batches from ``(seed, k, e)``. A killed run started
again with the same arguments resumes (`varinterp.training.rundir.RunDir`: finished
members are kept, the running one continues from its last epoch; ``metrics.jsonl``
has one line per epoch and member).

**The Tn5 bias.** A bpAI-TAC model adds a frozen bias network's profile logits before
its softmax. `train_bpaitac` takes that network from a ``tn5-bias`` model directory
(`bias_model`, or ``[training] bias_model``; its input and output lengths must be the
model's), copies its weights into the new model (``bias.*`` weights of every member,
so the model directory is complete on its own: scoring recomputes the bias of every
ALT sequence) and precomputes its logits for the training windows. ``no_bias=True``
trains without one (the paper: as good or better across cell types). One of the two is
required.

The Tn5 bias model (`train_tn5_bias`) is the same body with one task and no scalar
head, trained on the profiles alone (JSD, the paper's loss; or ``loss = "ce"``) of the
tasks' insertions summed over cell types in closed regions (``[data] peaks``), windows
with fewer than 10 insertions dropped, a random 10% validating (the public code's
choices).

Departure from a literal port: each member's count head starts with its bias at the
training windows' typical count per task (``expm1(mean(log1p(totals)))``), so that the
ReLU-ended head starts at the data's scale.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.models.bpaitac.card import model_card
from varinterp.models.bpaitac.data import AtacData, build_atac_data
from varinterp.models.bpaitac.loss import AtacLoss
from varinterp.models.bpaitac.metrics import profile_jsd, profile_pearson, summarize
from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig
from varinterp.models.bpaitac.runconfig import (
    RunConfig,
    fit_settings,
    load_run_config,
    model_config_from,
)
from varinterp.models.bpaitac.task import AtacTask
from varinterp.progress import ProgressCallback
from varinterp.training.ddp import barrier, init_distributed
from varinterp.training.devices import autocast, resolve_device
from varinterp.training.engine import EpochLog, fit
from varinterp.training.rundir import RunDir

__all__ = [
    "ROLE_BIAS",
    "ROLE_MODEL",
    "BiasModel",
    "TrainResult",
    "build_data",
    "load_bias_model",
    "predict_data",
    "split_indices",
    "train_bpaitac",
    "train_tn5_bias",
]

ROLE_MODEL = "bpaitac"
ROLE_BIAS = "tn5-bias"
StatusCallback = Callable[[str], None]


@dataclass
class TrainResult:
    """What a training run did: the model directory, its members, those trained now,
    the windows per split and each member's summary."""

    out: Path
    members: list[str]
    trained: list[int]
    n_windows: dict[str, int]
    summaries: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass
class BiasModel:
    """A loaded Tn5 bias model: its config, weights (one member) and where it came from."""

    path: Path
    config: BpAiTacConfig
    state: dict[str, torch.Tensor]
    metadata: dict[str, Any]

    def network(self) -> BpAiTac:
        net = BpAiTac(self.config)
        net.load_state_dict(self.state)
        return net.eval()


def load_bias_model(path: str | os.PathLike, *, input_length: int, output_length: int) -> BiasModel:
    """The first member of a ``tn5-bias`` model directory, checked to fit a model that
    maps `input_length` to `output_length` bp."""
    from varinterp.training.modeldir import load_member, read_model_dir

    model_dir = read_model_dir(path, architecture="bpaitac")
    cfg: BpAiTacConfig = model_dir.config
    role = model_dir.metadata.get("role")
    if role != ROLE_BIAS or cfg.n_tasks != 1 or cfg.scalar_head:
        msg = (
            f"{path} is not a Tn5 bias model (role {role!r}, {cfg.n_tasks} task(s)); train "
            "one with varinterp train tn5-bias"
        )
        raise InputError(msg)
    if (cfg.input_length, cfg.output_length) != (input_length, output_length):
        msg = (
            f"Tn5 bias model {path} maps {cfg.input_length} -> {cfg.output_length} bp but "
            f"this model takes {input_length} bp and predicts {output_length} bp; train a "
            f"bias model with input_length = {input_length} and output_length = "
            f"{output_length}"
        )
        raise InputError(msg)
    net = load_member(model_dir, model_dir.folds[0])
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return BiasModel(Path(path), cfg, state, dict(model_dir.metadata))


def build_data(
    run: RunConfig, *, input_length: int, output_length: int, on_progress=None
) -> AtacData:
    """The windows of a run config's ``[data]`` (the tn5-bias kind sums the tasks)."""
    d = run.data
    return build_atac_data(
        fasta=d.fasta, tracks=d.tasks, peaks=d.peaks, input_length=input_length,
        output_length=output_length, normalize=d.normalize, rescale_profiles=d.rescale_profiles,
        validation_chroms=d.validation_chroms, test_chroms=d.test_chroms,
        sum_tasks="tn5" if run.kind == ROLE_BIAS else None, min_total=d.min_total,
        memmap_dir=d.memmap_dir, on_progress=on_progress,
    )  # fmt: skip


def split_indices(data: AtacData, *, fraction: float, seed: int) -> dict[str, np.ndarray]:
    """Window indices ``(m,) int64`` of ``train``, ``validation`` and ``test``: by
    chromosome, or with `fraction` > 0 a seeded random share of the non-test windows
    validates."""
    test = data.index("test")
    if fraction > 0:
        rest = np.setdiff1d(np.arange(data.n), test)
        rng = np.random.default_rng(seed)
        n_val = max(1, round(fraction * rest.size))
        val = np.sort(rng.choice(rest, size=n_val, replace=False))
        return {"train": np.setdiff1d(rest, val), "validation": val, "test": test}
    return {"train": data.index("train"), "validation": data.index("validation"), "test": test}


def predict_data(
    models: list[BpAiTac],
    data: AtacData,
    index: np.ndarray,
    *,
    batch_size: int = 64,
    device: torch.device,
    bf16: bool = True,
    with_bias: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean prediction of `models` on the windows at `index`: profiles ``(m, T, Lout)
    float32`` (probabilities) and counts ``(m, T) float32``."""
    index = np.asarray(index, dtype=np.int64)
    n_tasks = models[0].config.n_tasks
    prof = np.zeros((index.size, n_tasks, data.output_length), dtype=np.float32)
    counts = np.zeros((index.size, n_tasks), dtype=np.float32)
    for m in models:
        m.eval()
    with torch.inference_mode():
        for lo in range(0, index.size, batch_size):
            b = index[lo : lo + batch_size]
            x = torch.from_numpy(np.ascontiguousarray(data.seq[b])).to(device).float()
            bias = None
            if data.bias is not None and with_bias:
                bias = torch.from_numpy(np.ascontiguousarray(data.bias[b])).to(device)
            p_sum = c_sum = 0.0
            for m in models:
                with autocast(device, bf16):
                    out = m(x, bias_logits=bias, with_bias=with_bias)
                p_sum = p_sum + out.log_profile.float().exp()
                c_sum = c_sum + out.counts.float()
            prof[lo : lo + b.size] = (p_sum / len(models)).cpu().numpy()
            counts[lo : lo + b.size] = (c_sum / len(models)).cpu().numpy()
    return prof, counts


def _bias_logits(bias: BiasModel, data: AtacData, device, bf16: bool) -> np.ndarray:
    net = bias.network().to(device)
    out = np.zeros((data.n, data.output_length), dtype=np.float32)
    with torch.inference_mode():
        for lo in range(0, data.n, 256):
            x = torch.from_numpy(np.ascontiguousarray(data.seq[lo : lo + 256])).to(device).float()
            with autocast(device, bf16):
                logits = net.profile_logits(net.body(x))[:, 0]
            out[lo : lo + x.shape[0]] = logits.float().cpu().numpy()
    return out


def _typical_counts(totals: np.ndarray) -> np.ndarray:
    return np.expm1(np.log1p(np.maximum(totals, 0)).mean(axis=0))


def _test_metrics(models, data, index, device, bf16, kind) -> dict[str, float]:
    if index.size == 0:
        return {}
    prof, counts = predict_data(models, data, index, device=device, bf16=bf16)
    obs_prof = np.asarray(data.profile[index])
    if kind == ROLE_BIAS:
        jsd, r = profile_jsd(prof, obs_prof), profile_pearson(prof, obs_prof)
        return {
            "profile_jsd_median": float(np.nanmedian(jsd)),
            "profile_pearson_median": float(np.nanmedian(r)),
            "n_windows": float(index.size),
        }
    return summarize(counts, data.totals[index], prof, obs_prof)


def _run(
    run: RunConfig,
    *,
    kind: str,
    out,
    model_cfg_of: Callable[[AtacData], BpAiTacConfig],
    bias: BiasModel | None,
    loss: AtacLoss,
    replicates: int,
    device: str | None,
    overwrite: bool,
    on_progress,
    on_epoch,
    on_status,
) -> TrainResult:
    t = run.training
    dev = resolve_device(device or t.device)
    dist = init_distributed(dev)
    if dist.enabled and dev.type == "cuda":
        dev = torch.device("cuda", dist.local_rank)
    say = on_status if on_status is not None and dist.is_main else (lambda _m: None)
    probe = model_config_from(run.model, n_tasks=1, where=f"run config {run.path}")
    data = build_data(
        run, input_length=probe.input_length, output_length=probe.output_length,
        on_progress=on_progress,
    )  # fmt: skip
    model_cfg = model_cfg_of(data)
    split = split_indices(data, fraction=run.data.validation_fraction, seed=t.seed)
    for part in ("train", "validation"):
        if split[part].size == 0:
            msg = (
                f"no {part} windows: validation contigs {list(run.data.validation_chroms)}, "
                f"test contigs {list(run.data.test_chroms)}, {data.n} windows in all; set "
                "[data] validation_chroms / test_chroms for this genome (or "
                "validation_fraction)"
            )
            raise InputError(msg)
    if bias is not None:
        data.bias = _bias_logits(bias, data, dev, t.bf16)
    settings = {
        "kind": kind,
        "model": model_cfg.to_dict(),
        "training": {**t.to_dict(), "loss": loss.kind, "lam": loss.lam, "replicates": replicates},
        "data": {k: str(v) if isinstance(v, Path) else v for k, v in
                 dataclasses.asdict(run.data).items()},
        "bias_model": None if bias is None else str(bias.path),
    }  # fmt: skip
    rundir = RunDir(out, member="replicate")
    if dist.is_main and rundir.prepare(settings, overwrite=overwrite):
        say(f"resuming the run in {rundir.out}")
    barrier(dist)
    say(
        f"{data.n} windows x {data.n_tasks} task(s) ({data.n_dropped_edge} past contig ends "
        f"dropped): {split['train'].size} train, {split['validation'].size} validation, "
        f"{split['test'].size} test; device {dev}"
    )
    typical = _typical_counts(data.totals[split["train"]])
    histories: dict[int, list[dict]] = {
        k: rundir.summary(k)["history"] for k in rundir.done_folds()
    }
    trained = []
    for k in range(1, replicates + 1):
        if k in rundir.done_folds():
            say(f"replicate {k}: already trained, kept")
            continue

        def make_model(_attempt: int) -> BpAiTac:
            model = BpAiTac(model_cfg)
            if bias is not None and model.bias is not None:
                model.bias.load_state_dict(bias.state)
            if model_cfg.scalar_head:
                with torch.no_grad():
                    model.counts.bias.copy_(torch.from_numpy(typical).float())
            return model

        def epoch_done(log: EpochLog, history: list[EpochLog], k=k) -> None:
            if dist.is_main:
                histories[k] = [h.to_dict() for h in history]
                rundir.write_metrics(histories)
            say(
                f"replicate {k} epoch {log.epoch}: train {log.train_loss:.4f}, val "
                f"{log.val_loss:.4f}{' (best)' if log.best else ''}, "
                f"{log.samples_per_s:.0f} windows/s"
            )
            if on_epoch is not None:
                on_epoch(log)

        task = AtacTask(
            data, train_index=split["train"], val_index=split["validation"],
            batch_size=t.batch_size, loss=loss,
        )  # fmt: skip
        result = fit(
            make_model=make_model, task=task, settings=fit_settings(t), device=dev,
            seed=t.seed * 1000 + k, order_seed=(t.seed, k), state_path=rundir.state_path(k),
            dist=dist, labels={"replicate": k}, on_epoch=epoch_done, on_progress=on_progress,
        )  # fmt: skip
        metrics: dict[str, float] = {}
        if dist.is_main:
            best = make_model(0)
            best.load_state_dict(result.best_state)
            metrics = _test_metrics([best.to(dev)], data, split["test"], dev, t.bf16, kind)
            summary = {
                "replicate": k, "best_epoch": result.best_epoch,
                "best_val_loss": result.best_val_loss, "epochs_run": result.epochs_run,
                "test_metrics": {m: (v if np.isfinite(v) else None) for m, v in
                                 metrics.items()},
                "history": [h.to_dict() for h in result.history],
            }  # fmt: skip
            rundir.finish_fold(k, result.best_state, summary)
            histories[k] = summary["history"]
        barrier(dist)
        trained.append(k)
    summaries = {k: rundir.summary(k) for k in rundir.done_folds()}
    members: list[str] = []
    if dist.is_main:
        metadata = {
            "role": kind,
            "trained_by": f"varinterp train {kind}",
            "tasks": list(data.tasks),
            "loss": {"kind": loss.kind, "lambda": loss.lam},
            "training": settings["training"],
            "data": {**settings["data"], **data.info, "n_windows": data.n,
                     **{f"n_{p}": int(v.size) for p, v in split.items()}},
            "bias_model": None if bias is None else {
                "path": str(bias.path), "trained_by": bias.metadata.get("trained_by"),
                "test_metrics": bias.metadata.get("test_metrics"),
            },
            "test_metrics": {f"replicate_{k}": s.get("test_metrics") for k, s in
                             summaries.items()},
        }  # fmt: skip
        card = model_card(config=model_cfg, metadata=metadata, summaries=summaries)
        members = rundir.assemble(config=model_cfg, metadata=metadata, card=card)
    barrier(dist)
    return TrainResult(
        out=rundir.out, members=members, trained=trained,
        n_windows={p: int(v.size) for p, v in split.items()}, summaries=summaries,
    )  # fmt: skip


def train_bpaitac(
    *,
    config: str | os.PathLike,
    out: str | os.PathLike,
    bias_model: str | os.PathLike | None = None,
    no_bias: bool = False,
    lam: float | None = None,
    loss: str | None = None,
    replicates: int | None = None,
    device: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_status: StatusCallback | None = None,
) -> TrainResult:
    """Train a bpAI-TAC model from the run config `config` into the folder `out`.

    `bias_model` (a ``tn5-bias`` directory) overrides ``[training] bias_model``;
    `no_bias` trains without one (module docstring). `lam`, `loss` and `replicates`
    override the config's.
    """
    out = check_output(out)
    run = load_run_config(config, kind=ROLE_MODEL)
    t = run.training
    kind = loss or t.loss
    if kind == "jsd":
        raise InputError("loss jsd trains profiles only (Tn5 bias models); use ce, mnll or poisson")
    atac_loss = AtacLoss(kind, t.lam if lam is None else lam)
    path = bias_model if bias_model is not None else t.bias_model
    if no_bias and bias_model is not None:
        raise InputError("give --bias-model or --no-bias, not both")
    if no_bias:
        path = None
    elif path is None:
        msg = (
            "a bpAI-TAC model needs a Tn5 bias model (--bias-model DIR, trained by varinterp "
            "train tn5-bias, or [training] bias_model) or --no-bias to train without one"
        )
        raise InputError(msg)
    probe = model_config_from(run.model, n_tasks=1, where=f"run config {run.path}")
    bias = None
    if path is not None:
        bias = load_bias_model(
            path, input_length=probe.input_length, output_length=probe.output_length
        )

    def cfg_of(data: AtacData) -> BpAiTacConfig:
        return model_config_from(
            run.model, n_tasks=data.n_tasks, bias=None if bias is None else bias.config,
            where=f"run config {run.path}",
        )  # fmt: skip

    return _run(
        run, kind=ROLE_MODEL, out=out, model_cfg_of=cfg_of, bias=bias, loss=atac_loss,
        replicates=replicates or t.replicates, device=device, overwrite=overwrite,
        on_progress=on_progress, on_epoch=on_epoch, on_status=on_status,
    )  # fmt: skip


def train_tn5_bias(
    *,
    config: str | os.PathLike,
    out: str | os.PathLike,
    device: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_status: StatusCallback | None = None,
) -> TrainResult:
    """Train a Tn5 bias model from the run config `config` into `out` (module docstring)."""
    out = check_output(out)
    run = load_run_config(config, kind=ROLE_BIAS)
    t = run.training
    if t.loss not in ("jsd", "ce"):
        raise InputError("a Tn5 bias model trains on profiles only: loss = 'jsd' or 'ce'")
    atac_loss = AtacLoss(t.loss, 1.0)

    def cfg_of(data: AtacData) -> BpAiTacConfig:
        del data
        return model_config_from(run.model, n_tasks=1, tn5_bias=True,
                                 where=f"run config {run.path}")  # fmt: skip

    return _run(
        run, kind=ROLE_BIAS, out=out, model_cfg_of=cfg_of, bias=None, loss=atac_loss,
        replicates=t.replicates, device=device, overwrite=overwrite, on_progress=on_progress,
        on_epoch=on_epoch, on_status=on_status,
    )  # fmt: skip
