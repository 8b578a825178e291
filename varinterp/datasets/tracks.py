"""Per-library PRO-cap tracks around peaks, read once from bigWigs and cached.

`read_peak_tracks` fills ``(n_libraries, n_peaks, 2, span) float32`` (plus strand then
minus strand, genomic order, non-negative) for one interval per peak. bigWig reads are
slow, so the intervals of a contig are merged into blocks and each block is read once
per file. Values are scaled to RPM per library (``1e6 / total`` where total is the sum
of |signal| over both strand files) unless ``normalize="none"``.

Handling of odd input (documented in ``docs/training.md``):

- minus-strand values stored negative are read as absolute values;
- NaN (and infinite) values in a bigWig are read as 0 (no signal);
- a peak contig that a bigWig lacks is an `InputError` naming the library and file;
- a library whose bigWigs hold no signal at all cannot be RPM-normalised: `InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from varinterp.datasets.samplesheet import Library
from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig
from varinterp.progress import ProgressCallback, report

__all__ = ["NORMALIZATIONS", "read_peak_tracks"]

NORMALIZATIONS = ("rpm", "none")


def _blocks(starts: np.ndarray, span: int) -> list[tuple[int, int, np.ndarray]]:
    """Group sorted-able intervals ``[s, s + span)`` into merged blocks -> (lo, hi, members)."""
    order = np.argsort(starts, kind="stable")
    out: list[tuple[int, int, np.ndarray]] = []
    i = 0
    n = order.size
    while i < n:
        j = i
        lo = int(starts[order[i]])
        hi = lo + span
        while j + 1 < n and int(starts[order[j + 1]]) <= hi:
            j += 1
            hi = max(hi, int(starts[order[j]]) + span)
        out.append((lo, hi, order[i : j + 1]))
        i = j + 1
    return out


def read_peak_tracks(
    libraries: Sequence[Library],
    *,
    chroms: Sequence[str],
    starts: np.ndarray,
    span: int,
    normalize: str = "rpm",
    out: np.ndarray | None = None,
    on_progress: ProgressCallback | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Tracks of every library over ``chroms[p][starts[p]:starts[p] + span]``.

    Returns ``(tracks, scale)``: tracks ``(n_libraries, n_peaks, 2, span) float32``
    (strand axis plus, minus) already multiplied by ``scale`` ``(n_libraries,) float64``
    (``1e6 / total signal`` for ``"rpm"``, 1 for ``"none"``). `out` may be a preallocated
    (e.g. memory-mapped) array of that shape and dtype.
    """
    if normalize not in NORMALIZATIONS:
        msg = f"normalize={normalize!r}; choose one of {', '.join(NORMALIZATIONS)}"
        raise InputError(msg)
    starts = np.asarray(starts, dtype=np.int64)
    chroms_arr = np.asarray(chroms, dtype=object)
    shape = (len(libraries), starts.size, 2, span)
    if out is None:
        out = np.zeros(shape, dtype=np.float32)
    elif out.shape != shape or out.dtype != np.float32:
        msg = f"out must be {shape} float32, got {out.shape} {out.dtype}"
        raise ValueError(msg)
    scale = np.ones(len(libraries), dtype=np.float64)
    contigs = list(dict.fromkeys(chroms_arr.tolist()))
    groups = {c: np.flatnonzero(chroms_arr == c) for c in contigs}
    for li, lib in enumerate(libraries):
        total = 0.0
        for si, path in enumerate((lib.plus, lib.minus)):
            with BigWig(path, absolute=True) as bw:
                _check_contigs(bw, contigs, lib, path, groups)
                for chrom, members in groups.items():
                    for lo, hi, idx in _blocks(starts[members], span):
                        block = bw.values(chrom, lo, hi)
                        for p in members[idx]:
                            s = int(starts[p]) - lo
                            out[li, p, si] = block[s : s + span]
                if normalize == "rpm":
                    total += bw.total()
        if normalize == "rpm":
            if not np.isfinite(total) or total <= 0:
                msg = (
                    f"library {lib.name}: its bigWigs ({Path(lib.plus).name}, "
                    f"{Path(lib.minus).name}) hold no signal, so RPM is undefined; "
                    "drop the library from the sample sheet"
                )
                raise InputError(msg)
            scale[li] = 1e6 / total
            out[li] *= np.float32(scale[li])
        report(on_progress, li + 1, len(libraries))
    if not np.isfinite(out).all():  # pragma: no cover - the reader zeroes NaN already
        msg = "tracks hold non-finite values after reading; check the bigWigs"
        raise InputError(msg)
    return out, scale


def _check_contigs(bw: BigWig, contigs, lib: Library, path, groups) -> None:
    for chrom in contigs:
        if not bw.has_contig(chrom):
            msg = (
                f"bigWig {path} (library {lib.name}) has no contig {chrom!r}, which "
                f"{groups[chrom].size} peak(s) use; write the bigWig against the same "
                "genome or drop those peaks"
            )
            raise InputError(msg)
