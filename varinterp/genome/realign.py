"""Re-align tracks measured on the reference to personal haplotypes with indels.

A track (PRO-cap, ATAC, any per-base signal) is measured in reference coordinates. A
haplotype window with indels has its own coordinates; `GenomeStore.haplotype_codes(...,
return_coordinates=True)` gives each base's reference position (-1 for an inserted
base). `realign_tracks` reads the track at those positions, so that position j of the
re-aligned track belongs to base j of the haplotype: deleted reference bases drop out,
inserted bases get `fill` (no read can be measured there on the reference).
"""

from __future__ import annotations

import numpy as np

__all__ = ["realign_tracks"]


def realign_tracks(
    tracks: np.ndarray, coordinates: np.ndarray, track_start, *, fill: float = 0.0
) -> np.ndarray:
    """Tracks in haplotype coordinates.

    `tracks` ``(n, C, W)`` (any float dtype): track i covers reference
    ``[track_start[i], track_start[i] + W)``; `coordinates` ``(n, L)`` or ``(n, H, L)``
    int64 reference positions of each haplotype base (-1: inserted); `track_start` an int
    or ``(n,)``. Returns ``(n, C, L)`` or ``(n, H, C, L)`` of the tracks' dtype: the
    track's value at each base's reference position, `fill` for inserted bases and for
    positions outside the track.
    """
    tracks = np.asarray(tracks)
    coords = np.asarray(coordinates, dtype=np.int64)
    n, _, width = tracks.shape
    per_hap = coords.ndim == 3
    c3 = coords if per_hap else coords[:, None, :]
    start = np.broadcast_to(np.asarray(track_start, dtype=np.int64), (n,))
    rel = c3 - start[:, None, None]
    ok = (c3 >= 0) & (rel >= 0) & (rel < width)
    idx = np.where(ok, rel, 0)
    # (n, H, C, L): gather along the position axis for every channel
    out = np.take_along_axis(tracks[:, None, :, :], idx[:, :, None, :], axis=3)
    out = np.where(ok[:, :, None, :], out, np.asarray(fill, dtype=tracks.dtype))
    out = out.astype(tracks.dtype, copy=False)
    return out if per_hap else out[:, 0]
