"""bpAI-TAC training data: OCR windows, their sequence and per-task Tn5 insertions.

`build_atac_data` reads, for every OCR of a peak BED (centred on the BED interval's
midpoint ``c``, or on a narrowPeak summit):

- the sequence ``[c - L // 2, c - L // 2 + L)`` (``L`` = the model's input length),
  one-hot ``(N, 4, L) uint8`` (`varinterp.genome.encoding`);
- each task's insertion counts over the central window ``[c - Lout // 2, c - Lout // 2 +
  Lout)`` (the model's output window, 250 bp) from its bigWig: ``profile`` ``(N, T, Lout)
  float32``, and their sums ``totals_raw`` ``(N, T) float64`` (exactly the bigWig's sum
  over the window);
- ``totals`` ``(N, T) float32``, the count targets: per task, the centre sums quantile
  normalised (`quantile_normalize`: every task gets the mean sorted distribution, the
  paper's answer to sequencing depths of 2.5-40 M reads), or the raw sums with
  ``normalize="none"``. The paper leaves the profiles as they are (the default); the
  public code multiplies each profile by its task's factor (``rescale_profiles=True``;
  only the MNLL and Poisson losses see it).

OCRs whose window passes a contig end are dropped (counted in ``n_dropped_edge``). The
split is by chromosome (`split`): ``validation`` and ``test`` contigs (the paper's, for
mouse: chr12 + chr15 and chr11 + chr16), ``train`` the rest.

A task whose bigWig lacks a contig that holds OCRs is an `InputError` naming both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.contigs import ContigMap, spellings
from varinterp.io.readers import read_csv
from varinterp.progress import ProgressCallback, report

__all__ = [
    "NORMALIZATIONS",
    "PUBLISHED_TEST",
    "PUBLISHED_VALIDATION",
    "AtacData",
    "build_atac_data",
    "quantile_normalize",
    "read_task_table",
]

NORMALIZATIONS = ("quantile", "none")
PUBLISHED_VALIDATION = ("chr12", "chr15")
PUBLISHED_TEST = ("chr11", "chr16")


def quantile_normalize(x: np.ndarray) -> np.ndarray:
    """Quantile-normalise the columns of ``x`` ``(N, T)`` -> ``(N, T) float64``.

    The reference distribution is the mean over columns of the sorted columns; each
    value takes the reference value at its rank (tied values share the mean of the
    reference values over their ranks). Every column of the result has the same sorted
    values (up to ties) and the same ranks as the input column.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"quantile normalisation needs a (N, T) table, got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        return x.copy()
    reference = np.sort(x, axis=0).mean(axis=1)
    cum = np.concatenate([[0.0], np.cumsum(reference)])
    out = np.empty_like(x)
    for t in range(x.shape[1]):
        col = x[:, t]
        order = np.argsort(col, kind="stable")
        sorted_col = col[order]
        # ranks lo..hi-1 of each run of equal values share their reference mean
        lo = np.searchsorted(sorted_col, sorted_col, side="left")
        hi = np.searchsorted(sorted_col, sorted_col, side="right")
        out[order, t] = (cum[hi] - cum[lo]) / (hi - lo)
    return out


@dataclass
class AtacData:
    """The arrays of one data set (module docstring); ``regions`` has ``chrom start end
    name centre split`` (the input windows, 0-based half-open)."""

    regions: pd.DataFrame
    tasks: tuple[str, ...]
    seq: np.ndarray
    profile: np.ndarray
    totals_raw: np.ndarray
    totals: np.ndarray
    input_length: int
    output_length: int
    n_dropped_edge: int = 0
    factors: np.ndarray | None = None
    bias: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.seq.shape[0])

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    def index(self, split: str) -> np.ndarray:
        """Windows of `split` (``train``, ``validation``, ``test``): ``(m,) int64``."""
        return np.flatnonzero(self.regions["split"].to_numpy() == split)

    def subset(self, index: np.ndarray) -> AtacData:
        """The windows at `index` (a copy of the arrays)."""
        index = np.asarray(index, dtype=np.int64)
        return AtacData(
            regions=self.regions.iloc[index].reset_index(drop=True),
            tasks=self.tasks,
            seq=np.asarray(self.seq[index]),
            profile=np.asarray(self.profile[index]),
            totals_raw=self.totals_raw[index],
            totals=self.totals[index],
            input_length=self.input_length,
            output_length=self.output_length,
            n_dropped_edge=self.n_dropped_edge,
            factors=None if self.factors is None else self.factors[index],
            bias=None if self.bias is None else self.bias[index],
            info=dict(self.info),
        )


def read_task_table(path: str | os.PathLike) -> dict[str, Path]:
    """A ``task<TAB>bigwig`` table (``tasks.tsv`` of ``varinterp atac insertions``) -> task
    -> bigWig path, in table order. Without a header the first two columns are task and
    bigWig; a header starts with ``task`` or ``cell_type`` and names the bigWig column
    ``bigwig`` (or ``path``); more columns are ignored. Relative paths are relative to the
    table."""
    path = Path(path)
    table = read_csv(path, "task table", sep="\t", header=None, dtype=str, comment="#")
    if table.shape[1] < 2:
        raise InputError(f"task table {path} needs two columns: task<TAB>bigwig")
    column = 1
    if str(table.iloc[0, 0]).lower() in ("task", "cell_type"):
        head = [str(c).lower() for c in table.iloc[0]]
        named = [k for k, c in enumerate(head) if c in ("bigwig", "path")]
        if not named:
            msg = (
                f"task table {path} has no bigwig column (its header has {', '.join(head)}); "
                "its header needs task<TAB>bigwig"
            )
            raise InputError(msg)
        column = named[0]
        table = table.iloc[1:]
    out: dict[str, Path] = {}
    for task, file in zip(table[0], table[column], strict=True):
        if task in out:
            raise InputError(f"task table {path} lists task {task!r} twice")
        p = Path(str(file)).expanduser()
        out[str(task)] = p if p.is_absolute() else path.parent / p
    if not out:
        raise InputError(f"task table {path} lists no tasks")
    return out


def _centres(peaks: pd.DataFrame) -> np.ndarray:
    start = peaks["start"].to_numpy(np.int64)
    end = peaks["end"].to_numpy(np.int64)
    if "summit" in peaks:
        summit = pd.to_numeric(peaks["summit"], errors="coerce").to_numpy()
        ok = np.isfinite(summit) & (summit >= 0)
        return np.where(ok, start + np.nan_to_num(summit).astype(np.int64), (start + end) // 2)
    return (start + end) // 2


def _read_peaks(peaks: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    if isinstance(peaks, pd.DataFrame):
        return peaks.reset_index(drop=True)
    from varinterp.io.intervals import read_bed

    table = read_bed(peaks)
    raw = pd.read_csv(peaks, sep="\t", header=None, comment="#", dtype=str)
    if raw.shape[1] >= 10 and len(raw) == len(table):  # narrowPeak: summit offset
        table["summit"] = pd.to_numeric(raw[9], errors="coerce").to_numpy()
    return table


def _sequence_source(fasta: Any):
    if hasattr(fasta, "codes") and hasattr(fasta, "lengths"):
        return fasta
    from varinterp.io.fasta import Reference

    return Reference(fasta)


def _split(chroms: np.ndarray, validation: Sequence[str], test: Sequence[str]) -> np.ndarray:
    def names(given: Sequence[str]) -> set[str]:
        return {s for c in given for s in spellings(str(c))}

    val, tst = names(validation), names(test)
    out = np.full(chroms.size, "train", dtype=object)
    out[np.isin(chroms, list(val))] = "validation"
    out[np.isin(chroms, list(tst))] = "test"
    return out


def _array(folder, name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    if folder is None:
        return np.zeros(shape, dtype=dtype)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)


def build_atac_data(
    *,
    fasta: Any,
    tracks: Mapping[str, str | os.PathLike] | str | os.PathLike,
    peaks: str | os.PathLike | pd.DataFrame,
    input_length: int = 998,
    output_length: int = 250,
    normalize: str = "quantile",
    rescale_profiles: bool = False,
    validation_chroms: Sequence[str] = PUBLISHED_VALIDATION,
    test_chroms: Sequence[str] = PUBLISHED_TEST,
    sum_tasks: str | None = None,
    min_total: float = 0.0,
    memmap_dir: str | os.PathLike | None = None,
    on_progress: ProgressCallback | None = None,
) -> AtacData:
    """Read the windows of `peaks` (module docstring).

    `fasta` is a FASTA path or an object with ``codes(chrom, start, end)`` and
    ``lengths`` (`varinterp.io.fasta.Reference`). `tracks` maps task -> bigWig, or is a
    task table (`read_task_table`). With `sum_tasks` (a name) the tasks' counts are
    summed into that one task (a Tn5 bias model's closed regions). Windows whose summed
    centre counts are below `min_total` are dropped. With `memmap_dir` the sequence and
    profile arrays are memory-mapped ``.npy`` files in that folder (``seq.npy``,
    ``profile.npy``; 29 GB of profiles for the published 90 tasks x 328,000 OCRs) instead
    of memory. `on_progress` counts windows.
    """
    from varinterp.io.bigwig import BigWig

    if normalize not in NORMALIZATIONS:
        raise InputError(f"normalize must be one of {', '.join(NORMALIZATIONS)}")
    if not 0 < output_length <= input_length:
        raise InputError(f"output length {output_length} must be in 1..{input_length}")
    task_paths = read_task_table(tracks) if not isinstance(tracks, Mapping) else dict(tracks)
    if not task_paths:
        raise InputError("no tasks given: pass at least one task bigWig")
    reference = _sequence_source(fasta)
    table = _read_peaks(peaks)
    names = ContigMap(reference.lengths, source="the peak BED")
    chroms = np.array([names(str(c)) for c in table["chrom"]], dtype=object)
    centres = _centres(table)
    starts = centres - input_length // 2
    out_starts = centres - output_length // 2
    lengths = np.array([reference.lengths[c] for c in chroms], dtype=np.int64)
    inside = (starts >= 0) & (starts + input_length <= lengths)
    keep = np.flatnonzero(inside)
    if keep.size == 0:
        raise InputError("no OCR window fits inside its contig; check the peaks and the FASTA")
    bigwigs = {t: BigWig(p) for t, p in task_paths.items()}
    try:
        for task, bw in bigwigs.items():
            for c in sorted(set(chroms[keep])):
                if not bw.has_contig(c):
                    n = int((chroms[keep] == c).sum())
                    msg = (
                        f"task {task}: bigWig {bw.path} has no contig {c} (nor another "
                        f"spelling of it), where {n} OCRs lie; give a track over the whole "
                        "genome or drop those OCRs"
                    )
                    raise InputError(msg)
        tasks = tuple(task_paths)
        n, t = keep.size, len(tasks)
        seq = _array(memmap_dir, "seq", (n, 4, input_length), np.uint8)
        profile = _array(memmap_dir, "profile", (n, t, output_length), np.float32)
        for j, i in enumerate(keep):
            c = str(chroms[i])
            seq[j] = one_hot(reference.codes(c, int(starts[i]), int(starts[i]) + input_length))
            for k, task in enumerate(tasks):
                profile[j, k] = bigwigs[task].values(
                    c, int(out_starts[i]), int(out_starts[i]) + output_length
                )
            report(on_progress, j + 1, n)
    finally:
        for bw in bigwigs.values():
            bw.close()
    if sum_tasks is not None:
        profile = profile.sum(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        tasks = (str(sum_tasks),)
    totals_raw = profile.sum(axis=2, dtype=np.float64)
    enough = totals_raw.sum(axis=1) >= min_total
    sel = np.flatnonzero(enough)
    if sel.size < keep.size:
        seq, profile = seq[sel], profile[sel]
    totals_raw, keep = totals_raw[sel], keep[sel]
    if keep.size == 0:
        raise InputError(f"no OCR has at least {min_total:g} insertions; lower min_total")
    if normalize == "quantile":
        totals = quantile_normalize(totals_raw)
    else:
        totals = totals_raw.copy()
    factors = np.divide(totals, totals_raw, out=np.ones_like(totals), where=totals_raw > 0)
    if rescale_profiles:
        profile *= factors[:, :, None].astype(np.float32)
    names_col = (
        table["name"].astype(str).to_numpy()[keep]
        if "name" in table
        else np.array([f"ocr{i + 1}" for i in keep], dtype=object)
    )
    regions = pd.DataFrame(
        {
            "chrom": chroms[keep],
            "start": starts[keep],
            "end": starts[keep] + input_length,
            "name": names_col,
            "centre": centres[keep],
            "split": _split(chroms[keep], validation_chroms, test_chroms),
        }
    )
    return AtacData(
        regions=regions,
        tasks=tasks,
        seq=seq,
        profile=profile,
        totals_raw=totals_raw,
        totals=totals.astype(np.float32),
        input_length=input_length,
        output_length=output_length,
        n_dropped_edge=int((~inside).sum()),
        factors=factors,
        info={
            "normalize": normalize,
            "rescale_profiles": rescale_profiles,
            "validation_chroms": list(validation_chroms),
            "test_chroms": list(test_chroms),
            "n_dropped_low": int((~enough).sum()),
        },
    )
