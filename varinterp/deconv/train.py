"""Training a DeepDETAILS model on one bulk sample (self-supervised deconvolution).

The model sees every window (peaks and any background) and learns to reproduce the
bulk; by default there is no validation set and early stopping watches the training
loss ``RMSLE + alpha x penalty`` (the penalty's value counts also when its gradient is
off or weighted down), as in the reference. ``holdout=True`` holds out validation
contigs (chr22) for early stopping and test contigs (chr19) entirely.

Adam (lr 1e-3, betas 0.9/0.999), batch 32, the learning rate multiplied by `lr_decay`
after each epoch (0.1, the reference's StepLR), early stopping with patience 2 and
min_delta 1e-4, at most 50 epochs. bf16 autocast on CUDA, fp32 on the CPU.

Outputs in `out`: ``model/`` (config.json + model.safetensors, the best epoch),
``metrics.jsonl`` (one line per epoch), ``checkpoint.pt`` (state after the last finished
epoch: a killed run resumes from it), ``train.json`` (summary).

Two settings depart from a literal port (see ``docs/deconvolution.md``):

- ``redundancy`` (default True): the redundancy penalty's gradient trains the model, as
  the paper's loss says; the reference packs the penalty into a new tensor, so there it
  is logged but never trains, which ``redundancy=False`` (the ablation) reproduces.
  ``penalty_sample_weight="counts"`` (default) multiplies each window's penalty by the
  share of its bulk the prediction accounts for (capped at 1; see
  `varinterp.deconv.loss`), and ``redundancy_ramp`` (default 1 epoch) raises its weight
  linearly from 0 to alpha, after ``redundancy_warmup`` epochs of plain RMSLE (default
  0; both count optimizer steps, fractions allowed). The penalty's gradient does not
  shrink with the predicted counts; unweighted and from the first step it pulls the
  profiles apart before the fit has shaped them (on the demo the rare cell type's CCC
  fell from 0.91 to 0.10; with the defaults 0.82, the proportional split 0.76). Numbers
  on the benchmarks page.
- ``count_scale`` (default None = from the data): the counts heads start at
  `initial_count_scale` (a tenth of the typical bulk window count) instead of
  softplus(0) ~ 0.7 reads, so the counts do not have to climb several orders of
  magnitude through an additive softplus. 1.0 gives the reference's plain softplus.

Self-check: after training, a cell type whose predicted total (per strand, over the
training windows) is below ``collapse_tol`` x the mean total is a collapsed branch; the
run is retried with the next seed, up to `max_retry` more times.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from varinterp.deconv.loss import DeconvLoss
from varinterp.deconv.prep import DeconvData
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, atomic_write_text
from varinterp.nets.deepdetails import DeepDetailsConfig, build_model, scale_weights
from varinterp.nets.deepdetails_io import load_model, save_model
from varinterp.progress import ProgressCallback, report

__all__ = [
    "TrainResult",
    "TrainSettings",
    "branch_totals",
    "forward_batches",
    "initial_count_scale",
    "penalty_weight",
    "train_deconv",
]


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 50
    batch_size: int = 32
    lr: float = 1e-3
    lr_decay: float = 0.1
    alpha: float = 1.0
    redundancy: bool = True
    redundancy_warmup: float = 0.0
    redundancy_ramp: float = 1.0
    penalty_sample_weight: str = "counts"
    count_scale: float | None = None
    patience: int = 2
    min_delta: float = 1e-4
    seed: int = 0
    max_retry: int = 3
    collapse_tol: float = 1e-3
    holdout: bool = False
    val_chroms: tuple[str, ...] = ("chr22",)
    test_chroms: tuple[str, ...] = ("chr19",)


@dataclass
class TrainResult:
    model_dir: Path
    attempts: int
    epochs: int
    best_loss: float
    qc_passed: bool
    branch_totals: list[list[float]] = field(default_factory=list)


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for but no CUDA device is available")
    return torch.device(device)


def _tensors(data: DeconvData, index: np.ndarray, dev: torch.device, scale: np.ndarray):
    seq = torch.from_numpy(data.seq[index]).to(dev).float()
    acc = torch.from_numpy(data.acc[index]).to(dev)
    sc = torch.from_numpy(scale[index]).to(dev)
    return seq, acc, sc


def initial_count_scale(data: DeconvData, index: np.ndarray | None = None) -> float:
    """A tenth of the typical bulk count of a window and strand (at least 1.0).

    "Typical" is the geometric mean, ``expm1(mean(log1p(total)))``, over the windows at
    `index` (all by default), matching the log scale of the loss.
    """
    target = data.target_bulk() if index is None else data.target_bulk()[index]
    totals = np.abs(target).sum(axis=-1, dtype=np.float64)
    if totals.size == 0:
        return 1.0
    return float(max(1.0, 0.1 * np.expm1(np.log1p(totals).mean())))


def data_scale(data: DeconvData) -> np.ndarray:
    """s(k, r) for every window: ``(n, K) float32``."""
    return scale_weights(torch.from_numpy(data.load())).numpy().astype(np.float32)


def forward_batches(model, data: DeconvData, *, batch_size: int, device: str = "cpu"):
    """Yield ``(index, prediction (b, K, S, L) float32 numpy)`` over all windows, no grad."""
    dev = _device(device)
    model = model.to(dev).eval()
    scale = data_scale(data)
    with torch.no_grad():
        for lo in range(0, data.n, batch_size):
            idx = np.arange(lo, min(lo + batch_size, data.n))
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                out = model(*_tensors(data, idx, dev, scale))
            yield idx, out.prediction.float().cpu().numpy()


def branch_totals(model, data: DeconvData, *, batch_size: int, device: str) -> np.ndarray:
    """Predicted total of each cell type and strand over `data`: ``(K, S) float64``."""
    total = None
    for _, pred in forward_batches(model, data, batch_size=batch_size, device=device):
        part = pred.sum(axis=(0, 3), dtype=np.float64)
        total = part if total is None else total + part
    return total


def _split(data: DeconvData, s: TrainSettings) -> tuple[np.ndarray, np.ndarray]:
    chroms = data.regions["chrom"].astype(str).to_numpy()
    if not s.holdout:
        return np.arange(data.n), np.array([], dtype=np.int64)
    val = np.isin(chroms, s.val_chroms)
    test = np.isin(chroms, s.test_chroms)
    train = ~(val | test)
    if not train.any() or not val.any():
        msg = (
            f"chromosome hold-out needs windows outside and inside the validation contigs "
            f"{list(s.val_chroms)}; got {int(train.sum())} training and {int(val.sum())} "
            "validation windows (drop --holdout for a single-contig run)"
        )
        raise InputError(msg)
    return np.flatnonzero(train), np.flatnonzero(val)


def _epoch_loss(model, loss_fn, data, idx, scale, target, dev, bs) -> float:
    """The objective ``RMSLE + alpha x penalty`` over the windows `idx` (no grad)."""
    model.eval()
    tot, n = 0.0, 0
    with torch.no_grad():
        for lo in range(0, idx.size, bs):
            b = idx[lo : lo + bs]
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                out = model(*_tensors(data, b, dev, scale))
            parts = loss_fn(out.prediction, torch.from_numpy(target[b]).to(dev))
            tot += (float(parts.rmsle) + loss_fn.alpha * float(parts.penalty)) * b.size
            n += b.size
    return tot / max(n, 1)


def penalty_weight(step: int, *, warmup_steps: int, ramp_steps: int) -> float:
    """Share of alpha whose gradient trains at optimizer step `step` (0-based), in [0, 1].

    0 for the first `warmup_steps` steps, then rising linearly to 1 over `ramp_steps`
    steps (at once when `ramp_steps` is 0).
    """
    if step < warmup_steps:
        return 0.0
    if ramp_steps <= 0:
        return 1.0
    return min(1.0, (step - warmup_steps + 1) / ramp_steps)


def _save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def train_deconv(
    data: DeconvData,
    *,
    config: DeepDetailsConfig,
    out: str | Path,
    settings: TrainSettings | None = None,
    device: str = "cpu",
    resume: bool = True,
    on_progress: ProgressCallback | None = None,
) -> TrainResult:
    """Train on `data` and write the best model to ``out/model``; see the module docstring."""
    s = settings or TrainSettings()
    if config.n_cell_types != len(data.cell_types) or config.n_strands != data.n_strands:
        msg = (
            f"model expects {config.n_cell_types} cell types x {config.n_strands} strands; "
            f"data has {len(data.cell_types)} x {data.n_strands}"
        )
        raise InputError(msg)
    if config.input_length != data.seq.shape[-1] or config.output_length != data.target_length:
        msg = (
            f"model maps {config.input_length} bp to {config.output_length} bp; data windows "
            f"are {data.seq.shape[-1]} bp with a {data.target_length}-bp target"
        )
        raise InputError(msg)
    if s.penalty_sample_weight not in ("none", "counts"):
        msg = f"penalty weighting must be 'counts' or 'none', got {s.penalty_sample_weight!r}"
        raise InputError(msg)
    if s.redundancy_warmup < 0 or s.redundancy_ramp < 0:
        raise InputError("the redundancy warm-up and ramp must be >= 0 epochs")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = _device(device)
    train_idx, val_idx = _split(data, s)
    count_scale = s.count_scale or initial_count_scale(data, train_idx)
    config = dataclasses.replace(config, count_scale=float(count_scale))
    scale = data_scale(data)
    target = np.ascontiguousarray(data.target_bulk())
    loss_fn = DeconvLoss(
        alpha=s.alpha, redundancy=s.redundancy, sample_weight=s.penalty_sample_weight
    )
    ckpt_path, log_path = out / "checkpoint.pt", out / "metrics.jsonl"
    steps_per_epoch = math.ceil(train_idx.size / s.batch_size)
    total_steps = s.epochs * steps_per_epoch
    warmup_steps = round(s.redundancy_warmup * steps_per_epoch)
    ramp_steps = round(s.redundancy_ramp * steps_per_epoch)

    state = None
    if resume and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    elif log_path.exists():
        log_path.unlink()
    attempt = int(state["attempt"]) if state else 0
    while True:
        seed = s.seed + attempt
        torch.manual_seed(seed)
        model = build_model(config).to(dev)
        opt = torch.optim.Adam(model.parameters(), lr=s.lr, betas=(0.9, 0.999))
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=s.lr_decay)
        start_epoch, best, bad = 0, math.inf, 0
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            start_epoch, best, bad = (
                int(state["epoch"]) + 1,
                float(state["best"]),
                int(state["bad"]),
            )
            torch.set_rng_state(state["rng"])
            state = None
        epochs_done = start_epoch
        for epoch in range(start_epoch, s.epochs):
            if bad >= s.patience:
                break
            model.train()
            order = train_idx[np.random.default_rng([seed, epoch]).permutation(train_idx.size)]
            sums = np.zeros(2)
            weight = 0.0
            for step, lo in enumerate(range(0, order.size, s.batch_size)):
                b = order[lo : lo + s.batch_size]
                t = epoch * steps_per_epoch + step
                weight = penalty_weight(t, warmup_steps=warmup_steps, ramp_steps=ramp_steps)
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
                    pred = model(*_tensors(data, b, dev, scale)).prediction
                parts = loss_fn(pred, torch.from_numpy(target[b]).to(dev), weight=weight)
                opt.zero_grad(set_to_none=True)
                parts.total.backward()
                opt.step()
                sums += (
                    np.array([float(parts.rmsle.detach()), float(parts.penalty.detach())]) * b.size
                )
                report(on_progress, t + 1, total_steps)
            lr = opt.param_groups[0]["lr"]
            sched.step()
            fit, pen = (float(x) for x in sums / order.size)
            train_loss = fit + s.alpha * pen
            val_loss = (
                _epoch_loss(model, loss_fn, data, val_idx, scale, target, dev, s.batch_size)
                if val_idx.size
                else None
            )
            watched = val_loss if val_loss is not None else train_loss
            if watched < best - s.min_delta:
                best, bad = watched, 0
                save_model(model, out / "model", extra={"cell_types": data.cell_types})
            else:
                bad += 1
            row = {
                "attempt": attempt,
                "epoch": epoch,
                "lr": lr,
                "train_loss": train_loss,
                "train_rmsle": fit,
                "train_penalty": pen,
                "penalty_weight": weight if s.redundancy else 0.0,
                "val_loss": val_loss,
            }
            with log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
            _save_checkpoint(
                ckpt_path,
                {
                    "attempt": attempt,
                    "epoch": epoch,
                    "best": float(best),
                    "bad": bad,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "rng": torch.get_rng_state(),
                },
            )
            epochs_done = epoch + 1
            if bad >= s.patience:
                break
        if not (out / "model").is_dir():
            save_model(model, out / "model", extra={"cell_types": data.cell_types})
        best_model = load_model(out / "model", device=str(dev))
        totals = branch_totals(
            best_model, data.subset(train_idx), batch_size=s.batch_size, device=str(dev)
        )
        mean_total = float(totals.mean())
        passed = bool(np.all(totals >= s.collapse_tol * mean_total)) and mean_total > 0
        if passed or attempt >= s.max_retry:
            break
        attempt += 1
        ckpt_path.unlink(missing_ok=True)
        shutil.rmtree(out / "model", ignore_errors=True)
    result = TrainResult(
        out / "model", attempt + 1, epochs_done, float(best), passed, totals.tolist()
    )
    summary = {
        **asdict(result),
        "model_dir": str(result.model_dir.name),
        "settings": asdict(s),
        "n_windows": data.n,
        "n_train": int(train_idx.size),
    }
    atomic_write_text(out / "train.json", json.dumps(summary, indent=2) + "\n")
    return result
