"""Start a CLIPNET's output heads at the training data (training from scratch).

`window_tracks` cuts the target tracks of shifted windows out of a `ClipnetData`;
`mean_profile` averages their shapes; `start_profile_head` puts that mean shape into the
profile head's last BatchNorm. The quantity head's start is
`varinterp.models.clipnet.network.Clipnet.init_quantity_scale`. See docs/training.md, "What
happens", item 4.
"""

from __future__ import annotations

import numpy as np
import torch

from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.network import Clipnet

__all__ = ["mean_profile", "start_profile_head", "window_tracks"]


def window_tracks(
    data: ClipnetData, peaks: np.ndarray, shifts: np.ndarray | None = None
) -> np.ndarray:
    """Target tracks of the windows of `peaks` in every library, each window shifted by
    its peak's entry of `shifts` (``(n_peaks,) int``, e.g. `ClipnetData.fixed_shifts`;
    None: centred). Returns ``(n_libraries, len(peaks), 2, output_length) float32``."""
    peaks = np.asarray(peaks, dtype=np.int64)
    offset = np.zeros(peaks.size, np.int64) if shifts is None else np.asarray(shifts)[peaks]
    return data.target_windows(data.tracks[:, peaks], offset)


def mean_profile(
    data: ClipnetData, peaks: np.ndarray, *, rc: bool = False, shifts: np.ndarray | None = None
) -> np.ndarray:
    """Mean shape of the training windows of `peaks` over every library.

    Windows are shifted as in `window_tracks` (`shifts` None: centred). Each window's
    profile is divided by its sum first (empty windows are skipped), so strong peaks do
    not dominate; with `rc` the mean of the profile and its reverse complement (the
    training targets then come in both orientations).
    Returns ``(2 * output_length,) float64`` (plus then minus), summing to 1 (zeros
    when no window has signal).
    """
    length = data.output_length
    t = window_tracks(data, peaks, shifts).astype(np.float64)
    t = t.reshape(-1, 2, length)
    total = t.sum(axis=(1, 2))
    t = t[total > 0] / total[total > 0, None, None]
    if t.shape[0] == 0:
        return np.zeros(2 * length)
    mean = t.mean(axis=0)
    if rc:
        mean = 0.5 * (mean + mean[::-1, ::-1])
    return mean.reshape(-1)


def start_profile_head(model: Clipnet, shape: np.ndarray, *, spread: float = 0.1) -> None:
    """Start the profile head at `shape` (``(profile_size,)``, e.g. `mean_profile`).

    The head ends in BatchNorm -> ReLU; from Keras' start (``bias=0, weight=1``) its
    output is ReLU of unit noise at every position, and a short run spends most of its
    steps unlearning that. This sets the BN bias to `shape` scaled to a maximum of 1 and
    the BN weight to `spread`, so training starts from the mean shape and learns the
    sequence-dependent part on top. A zero `shape` leaves the head as it is.
    """
    top = float(np.max(shape)) if np.size(shape) else 0.0
    if top <= 0:
        return
    bn = model.profile_bn
    with torch.no_grad():
        bn.bias.copy_(torch.as_tensor(shape / top, dtype=bn.bias.dtype))
        bn.weight.fill_(spread)
