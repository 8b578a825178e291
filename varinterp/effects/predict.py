"""Predict sequence windows with one model or an ensemble of fold models.

This is the prediction core of variant scoring (`varinterp.effects.score`) and of the QTL
and MPRA benchmarks. It takes two-hot windows as they come out of
`varinterp.genome.store.GenomeStore.windows` or `varinterp.genome.encoding.one_hot`
(``(n, 4, L) uint8``, channels A, C, G, T, values 0..2), moves them to the device one
batch at a time, and returns CPU arrays.

**Ensemble.** Like the published CLIPNET ensemble, the fold models' raw outputs are
averaged: the mean profile and the mean quantity over models.

**Reverse-complement averaging** (on by default, as in variant-scorer and kipoi-veff):
each window is also predicted as its reverse complement; that prediction is mapped back
to the forward frame (strands swapped, positions reversed: the model's plus strand of
the reverse-complemented input is the genomic minus strand) and averaged with the
forward prediction. The result is then identical for a window and its reverse
complement up to that same strand swap and flip.

**Precision.** On CUDA the forward pass runs under bf16 autocast (``bf16=True``); outputs
are always returned as float32. On the CPU everything is float32.

`tracks` turns a profile and quantity into predicted tracks (profile scaled to sum to
the quantity), the form every effect score in `varinterp.effects.scores` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext

import numpy as np
import torch
from torch import nn

from varinterp.errors import InputError
from varinterp.progress import ProgressCallback, report

__all__ = ["model_geometry", "predict_windows", "tracks"]


def model_geometry(models: Sequence[nn.Module]) -> tuple[int, int, int]:
    """``(input_length, n_strands, output_length)`` shared by `models` (from ``.config``).

    Models of different geometry cannot be averaged and are an `InputError`.
    """
    if not models:
        msg = "no models given; pass at least one fold model"
        raise InputError(msg)
    shapes = set()
    for m in models:
        cfg = getattr(m, "config", None)
        if cfg is None:
            msg = f"model {type(m).__name__} has no .config with input/output lengths"
            raise InputError(msg)
        shapes.add((cfg.input_length, getattr(cfg, "n_strands", 2), cfg.output_length))
    if len(shapes) > 1:
        msg = f"the models differ in input/output geometry {sorted(shapes)}; use one model family"
        raise InputError(msg)
    return shapes.pop()


def _as_device(device: torch.device | str) -> torch.device:
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        msg = f"device {device} requested but CUDA is not available; use --device cpu"
        raise InputError(msg)
    return device


def predict_windows(
    models: Sequence[nn.Module],
    x: np.ndarray,
    *,
    rc_average: bool = True,
    batch_size: int = 256,
    device: torch.device | str = "cpu",
    bf16: bool = True,
    on_progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean prediction of `models` on windows `x`.

    ``x``: ``(n, 4, input_length)`` two-hot (``uint8`` preferred; any numeric dtype is cast
    per batch), channels A, C, G, T. `models` are modules returning ``(profile (b,
    n_strands * L), quantity (b, 1))`` like `varinterp.nets.clipnet.Clipnet`; they are put
    in eval mode but not moved (load them on `device`).

    Returns ``profile`` ``(n, n_strands, output_length) float32`` (strand axis plus, minus;
    positions in genomic order; the raw model output, shape only) and ``quantity``
    ``(n,) float32`` (linear, e.g. RPM). `on_progress` gets ``(windows done, n)``.
    """
    in_len, n_strands, out_len = model_geometry(models)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1:] != (4, in_len):
        msg = f"windows have shape {x.shape}; the models need (n, 4, {in_len}) two-hot"
        raise InputError(msg)
    if batch_size < 1:
        msg = f"batch_size must be >= 1, got {batch_size}"
        raise InputError(msg)
    device = _as_device(device)
    for m in models:
        m.eval()
    n = x.shape[0]
    profile = np.zeros((n, n_strands, out_len), dtype=np.float32)
    quantity = np.zeros(n, dtype=np.float32)
    use_bf16 = bf16 and device.type == "cuda"
    with torch.inference_mode():
        for lo in range(0, n, batch_size):
            hi = min(lo + batch_size, n)
            xb = torch.from_numpy(np.ascontiguousarray(x[lo:hi])).to(device).float()
            if rc_average:
                xb = torch.cat([xb, xb.flip(1, 2)], dim=0)
            acc_p = torch.zeros(xb.shape[0], n_strands * out_len, device=device)
            acc_q = torch.zeros(xb.shape[0], device=device)
            for m in models:
                ctx = torch.autocast("cuda", dtype=torch.bfloat16) if use_bf16 else nullcontext()
                with ctx:
                    p, q = m(xb)
                acc_p += p.float()
                acc_q += q.float().reshape(-1)
            p = (acc_p / len(models)).reshape(-1, n_strands, out_len)
            q = acc_q / len(models)
            if rc_average:
                k = hi - lo
                p = 0.5 * (p[:k] + p[k:].flip(1, 2))
                q = 0.5 * (q[:k] + q[k:])
            profile[lo:hi] = p.cpu().numpy()
            quantity[lo:hi] = q.cpu().numpy()
            report(on_progress, hi, n)
    return profile, quantity


def tracks(profile: np.ndarray, quantity: np.ndarray) -> np.ndarray:
    """Predicted tracks: each profile scaled to sum (over strands and positions) to its quantity.

    ``profile`` ``(n, n_strands, L)``, ``quantity`` ``(n,)`` -> ``(n, n_strands, L) float64``.
    A profile summing to 0 gives a zero track (not NaN).
    """
    p = np.asarray(profile, dtype=np.float64)
    q = np.asarray(quantity, dtype=np.float64).reshape(-1)
    total = p.reshape(p.shape[0], -1).sum(axis=1)
    scale = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
    return p * scale[:, None, None]
