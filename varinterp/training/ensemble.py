"""Predictions of one fold model or of an ensemble (the mean of fold models).

The published CLIPNET ensemble averages the fold models' raw outputs: the mean
profile and the mean quantity (`construct_ensemble`); `predict_examples` does the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.datasets.clipnet import ClipnetData, Examples
from varinterp.datasets.prefetch import prefetch
from varinterp.progress import ProgressCallback, report

__all__ = ["METRIC_NAMES", "Predictions", "metrics_of", "predict_examples", "resolve_device"]

METRIC_NAMES = (
    "median_profile_pearson",
    "n_profile_defined",
    "log_quantity_pearson",
    "directionality_pearson",
    "tss_position_pearson",
)


@dataclass
class Predictions:
    """Predicted and observed values of `n` examples.

    ``profile``/``obs_profile`` ``(n, 2 * output_length) float32`` (plus then minus),
    ``quantity``/``obs_quantity`` ``(n,) float32`` (RPM), ``library``/``peak`` ``(n,) int64``.
    """

    profile: np.ndarray
    quantity: np.ndarray
    obs_profile: np.ndarray
    obs_quantity: np.ndarray
    library: np.ndarray
    peak: np.ndarray


def resolve_device(name: str | None) -> torch.device:
    """``auto`` (or None) -> CUDA when present, else CPU; otherwise ``torch.device(name)``."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(name).startswith("cuda") and not torch.cuda.is_available():
        from varinterp.errors import InputError

        msg = f"device {name!r} requested but CUDA is not available; use --device cpu"
        raise InputError(msg)
    return torch.device(name)


def predict_examples(
    models: Sequence[nn.Module],
    data: ClipnetData,
    examples: Examples,
    *,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    bf16: bool = True,
    depth: int = 2,
    on_progress: ProgressCallback | None = None,
) -> Predictions:
    """Mean of `models`' outputs on `examples` (no jitter; reverse complement as flagged)."""
    device = torch.device(device)
    for m in models:
        m.eval()
    n = len(examples)
    out_p = np.zeros((n, 2 * data.output_length), dtype=np.float32)
    out_q = np.zeros(n, dtype=np.float32)
    obs_p = np.zeros_like(out_p)
    obs_q = np.zeros(n, dtype=np.float32)
    pos = 0
    total = data.n_batches(n, batch_size)
    batches = data.iter_batches(examples, batch_size=batch_size)
    use_bf16 = bf16 and device.type == "cuda"
    with torch.no_grad():
        for b, batch in enumerate(prefetch(batches, depth)):
            x = torch.from_numpy(batch.x).to(device).float()
            acc_p = torch.zeros(x.shape[0], out_p.shape[1], dtype=torch.float32, device=device)
            acc_q = torch.zeros(x.shape[0], dtype=torch.float32, device=device)
            for m in models:
                ctx = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else nullcontext()
                with ctx:
                    p, q = m(x)
                acc_p += p.float()
                acc_q += q.float().reshape(-1)
            k = x.shape[0]
            out_p[pos : pos + k] = (acc_p / len(models)).cpu().numpy()
            out_q[pos : pos + k] = (acc_q / len(models)).cpu().numpy()
            obs_p[pos : pos + k] = batch.profile
            obs_q[pos : pos + k] = batch.quantity[:, 0]
            pos += k
            report(on_progress, b + 1, total)
    return Predictions(out_p, out_q, obs_p, obs_q, examples.library.copy(), examples.peak.copy())


def metrics_of(pred: Predictions) -> dict[str, float]:
    """`varinterp.nets.metrics.clipnet_metrics` of `pred` (all NaN with < 2 windows)."""
    from varinterp.nets.metrics import clipnet_metrics

    if pred.profile.shape[0] < 2:
        return dict.fromkeys(METRIC_NAMES, float("nan"))
    return clipnet_metrics(
        pred_profile=pred.profile,
        obs_profile=pred.obs_profile,
        pred_quantity=pred.quantity,
        obs_quantity=pred.obs_quantity,
    )
