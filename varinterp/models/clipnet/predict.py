"""Fold-ensemble predictions over CLIPNET examples, and their metrics.

`predict_examples` runs one fold model or the ensemble over a list of examples; the
ensemble is the mean of the fold models' raw outputs (the mean profile and the mean
quantity, as the published CLIPNET ensemble averages them), computed by the one
ensemble loop of varinterp (`varinterp.training.inference.forward_batch`). `metrics_of`
scores predictions with `varinterp.models.clipnet.metrics.clipnet_metrics`. Training
scores each fold's test set with them, and `varinterp.models.clipnet.evaluate` the
whole directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from varinterp.datasets.prefetch import prefetch
from varinterp.models.clipnet import ARCHITECTURE
from varinterp.models.clipnet.data import ClipnetData, Examples
from varinterp.models.clipnet.metrics import clipnet_metrics
from varinterp.progress import ProgressCallback, report
from varinterp.training.inference import forward_batch

__all__ = ["METRIC_NAMES", "Predictions", "metrics_of", "predict_examples"]

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
    """Mean of `models`' outputs on `examples` (at their fixed offsets, reverse
    complemented where flagged; no reverse-complement averaging). `models` must be on
    `device`; they are put in eval mode. `on_progress` counts batches."""
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
    with torch.no_grad():
        for b, batch in enumerate(prefetch(batches, depth)):
            x = torch.from_numpy(batch.x).to(device).float()
            p, q = forward_batch(models, ARCHITECTURE, x, bf16=bf16)
            k = x.shape[0]
            out_p[pos : pos + k] = p.reshape(k, -1).cpu().numpy()
            out_q[pos : pos + k] = q[:, 0].cpu().numpy()
            obs_p[pos : pos + k] = batch.profile
            obs_q[pos : pos + k] = batch.quantity[:, 0]
            pos += k
            report(on_progress, b + 1, total)
    return Predictions(out_p, out_q, obs_p, obs_q, examples.library.copy(), examples.peak.copy())


def metrics_of(pred: Predictions) -> dict[str, float]:
    """`clipnet_metrics` of `pred` (all NaN with < 2 windows)."""
    if pred.profile.shape[0] < 2:
        return dict.fromkeys(METRIC_NAMES, float("nan"))
    return clipnet_metrics(
        pred_profile=pred.profile,
        obs_profile=pred.obs_profile,
        pred_quantity=pred.quantity,
        obs_quantity=pred.obs_quantity,
    )
