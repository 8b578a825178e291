"""bigWig tracks with pyBigWig.

Reading returns ``(L,) float32`` (or ``(2, L) float32`` for a stranded pair, plus strand
first) over a 0-based half-open interval, with missing data and positions past the
contig end as 0. Minus-strand files that store negative values are read as absolute
values. Writing goes through a temporary file renamed into place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pyBigWig

from varinterp.io.atomic import atomic_path
from varinterp.io.contigs import ContigMap
from varinterp.io.readers import open_bigwig

__all__ = ["BigWig", "write_bigwig", "write_bigwig_sites"]


class BigWig:
    """An open bigWig file whose contig names are mapped onto the reference's names."""

    def __init__(
        self, path: str | os.PathLike, *, absolute: bool = False, what: str = "bigWig"
    ) -> None:
        self.path = Path(path)
        handle = open_bigwig(self.path, what)
        self._bw = handle
        self.absolute = absolute
        self.lengths: dict[str, int] = dict(handle.chroms())
        self._names = ContigMap(self.lengths, source="", target=f"bigWig {self.path}")

    def has_contig(self, chrom: str) -> bool:
        return self._names.get(chrom) is not None

    def length(self, chrom: str) -> int:
        """The length of `chrom` in the file (either spelling of its name)."""
        return int(self.lengths[self._names(chrom)])

    def values(self, chrom: str, start: int, end: int) -> np.ndarray:
        """Signal over ``chrom[start:end]`` -> ``(end - start,) float32``; NaN and out-of-range = 0.

        A contig the file lacks is an `InputError` naming both spellings.
        """
        name = self._names(chrom)
        out = np.zeros(max(end - start, 0), dtype=np.float32)
        lo, hi = max(start, 0), min(end, self.lengths[name])
        if hi > lo:
            vals = np.asarray(self._bw.values(name, lo, hi, numpy=True), dtype=np.float32)
            if vals.size == hi - lo:  # a contig with no entries reads as an empty array
                np.nan_to_num(vals, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
                out[lo - start : hi - start] = vals
        if self.absolute:
            np.abs(out, out=out)
        return out

    def total(self) -> float:
        """Sum of |signal| over the file (exact; the header's sumData is rounded)."""
        header = self._bw.header()
        if header.get("minVal", 0) >= 0:
            return float(
                sum(
                    self._bw.stats(name, 0, length, type="sum", exact=True)[0] or 0.0
                    for name, length in self.lengths.items()
                )
            )
        total = 0.0
        for name, length in self.lengths.items():
            for s, e, v in self._bw.intervals(name, 0, length) or ():
                total += abs(v) * (e - s)
        return total

    def close(self) -> None:
        self._bw.close()

    def __enter__(self) -> BigWig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_bigwig(
    path: str | os.PathLike,
    *,
    chrom_sizes: Mapping[str, int],
    tracks: Iterable[tuple[str, int, np.ndarray]],
    skip_zeros: bool = True,
) -> Path:
    """Write base-resolution tracks to a bigWig atomically.

    `tracks` yields ``(chrom, start, values)`` with ``values (L,) float`` covering
    ``chrom[start:start + L]``; chunks must come in `chrom_sizes` order and be sorted and
    non-overlapping within a contig. Runs of equal values are written as one interval.
    """
    path = Path(path)
    with atomic_path(path, suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(n)) for c, n in chrom_sizes.items()])
            for chrom, start, values in tracks:
                _add_runs(bw, chrom, int(start), np.asarray(values, dtype=np.float64), skip_zeros)
        finally:
            bw.close()
    return path


def _add_runs(bw, chrom: str, start: int, values: np.ndarray, skip_zeros: bool) -> None:
    if values.size == 0:
        return
    change = np.flatnonzero(np.diff(values) != 0) + 1
    run_starts = np.concatenate([[0], change])
    run_ends = np.concatenate([change, [values.size]])
    run_vals = values[run_starts]
    keep = run_vals != 0 if skip_zeros else np.ones(run_vals.size, dtype=bool)
    keep &= np.isfinite(run_vals)
    if not keep.any():
        return
    n = int(keep.sum())
    bw.addEntries(
        [chrom] * n,
        (run_starts[keep] + start).tolist(),
        ends=(run_ends[keep] + start).tolist(),
        values=run_vals[keep].tolist(),
    )


def write_bigwig_sites(
    path: str | os.PathLike,
    *,
    chrom_sizes: Mapping[str, int],
    sites: Iterable[tuple[str, np.ndarray, np.ndarray]],
) -> Path:
    """Write single-base values to a bigWig atomically.

    `sites` yields ``(chrom, positions (m,) int, values (m,) float)``: contigs in
    `chrom_sizes` order, positions sorted and distinct within a contig; each value
    covers ``[pos, pos + 1)`` and every other base reads as 0 (no entry).
    """
    path = Path(path)
    with atomic_path(path, suffix=".bw") as tmp:
        bw = pyBigWig.open(str(tmp), "w")
        try:
            bw.addHeader([(c, int(n)) for c, n in chrom_sizes.items()])
            for chrom, pos, values in sites:
                pos = np.asarray(pos, dtype=np.int64)
                if pos.size == 0:
                    continue
                bw.addEntries(
                    chrom,
                    pos.tolist(),
                    values=np.asarray(values, dtype=np.float64).tolist(),
                    span=1,
                )
        finally:
            bw.close()
    return path
