"""DeepDETAILS input windows built from bigWig tracks (and optionally a reference FASTA).

A window is ``input_length`` bp (4096) centred on a region; the model predicts its centre
``target_length`` bp (1000). Regions come from a BED file or are called from the bulk:
the bulk's |plus| + |minus| signal is summed in ``target_length`` bins (step half a bin)
and the strongest bins are taken greedily so that no two centres overlap.

`DeconvData` arrays (see the field docs) are saved to and loaded from one HDF5 file.
Without a FASTA the sequence is all N (zeros); the fused model's accessibility branch
still carries the signal.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, check_output
from varinterp.io.readers import read_csv
from varinterp.progress import ProgressCallback, report

__all__ = [
    "DeconvData",
    "build_windows",
    "call_bulk_peaks",
    "load_data",
    "read_library_sizes",
    "save_data",
]

FORMAT = "varinterp-deconv-data/1"


@dataclass
class DeconvData:
    """Inputs of a deconvolution run (n windows, K cell types, S strands).

    - ``seq``: ``(n, 4, input_length) uint8`` one-hot A, C, G, T (N = zeros)
    - ``acc``: ``(n, K, input_length) float32`` accessibility
    - ``bulk``: ``(n, S, input_length) float32`` bulk, absolute values, plus first
    - ``norm``: ``(K,) float64`` depth normalisation (1e6 / library size)
    - ``regions``: table chrom, start, end of the windows (0-based half-open), plus an
      optional bool column ``background`` (GC-matched background windows: trained on,
      not exported or scored; see `peaks_only`)
    - ``truth``: optional ``(n, K, S, target_length) float32`` ground truth (absolute)
    - ``contributions``: optional ``(K,) float64`` each cell type's bulk signal per unit
      of normalised accessibility (to the power `exponent`), mean 1
      (`varinterp.deconv.contributions`), and ``exponent`` the bulk's response exponent;
      the model's scale function is ``c_k load_k^e`` normalised over cell types. None
      and 1 = the reference's scale function.
    """

    seq: np.ndarray
    acc: np.ndarray
    bulk: np.ndarray
    norm: np.ndarray
    regions: pd.DataFrame
    cell_types: list[str]
    chrom_sizes: dict[str, int]
    target_length: int = 1000
    truth: np.ndarray | None = None
    contributions: np.ndarray | None = None
    exponent: float = 1.0

    @property
    def n(self) -> int:
        return int(self.seq.shape[0])

    @property
    def n_strands(self) -> int:
        return int(self.bulk.shape[1])

    def target_bulk(self) -> np.ndarray:
        """The bulk over the centre windows: ``(n, S, target_length) float32``."""
        start = (self.bulk.shape[-1] - self.target_length) // 2
        return self.bulk[..., start : start + self.target_length]

    def load(self) -> np.ndarray:
        """Depth-normalised accessibility over the centre: ``(n, K) float64``."""
        from varinterp.deconv.baselines import accessibility_load

        return accessibility_load(self.acc, self.norm, center=self.target_length)

    def scale(self) -> np.ndarray:
        """The model's scale input s(k, r) of every window: ``(n, K) float32``; the
        accessibility is raised to `exponent` and weighed by `contributions`."""
        from varinterp.deconv.baselines import window_scale

        return window_scale(
            self.acc,
            self.norm,
            center=self.target_length,
            contributions=self.contributions,
            exponent=self.exponent,
        )

    def target_regions(self) -> pd.DataFrame:
        """chrom, start, end of the predicted centre windows."""
        offset = (self.seq.shape[-1] - self.target_length) // 2
        out = self.regions[["chrom"]].copy()
        out["start"] = self.regions["start"].to_numpy() + offset
        out["end"] = out["start"] + self.target_length
        return out.reset_index(drop=True)

    def peaks_only(self) -> DeconvData:
        """The windows that are not background (all of them without the column)."""
        if "background" not in self.regions:
            return self
        return self.subset(~self.regions["background"].to_numpy(dtype=bool))

    def subset(self, index: np.ndarray) -> DeconvData:
        """The windows at `index` (an integer or boolean array)."""
        index = np.arange(self.n)[np.asarray(index)]
        return DeconvData(
            seq=self.seq[index],
            acc=self.acc[index],
            bulk=self.bulk[index],
            norm=self.norm,
            regions=self.regions.iloc[index].reset_index(drop=True),
            cell_types=self.cell_types,
            chrom_sizes=self.chrom_sizes,
            target_length=self.target_length,
            truth=None if self.truth is None else self.truth[index],
            contributions=self.contributions,
            exponent=self.exponent,
        )


def call_bulk_peaks(
    bulk_pl: str | os.PathLike,
    bulk_mn: str | os.PathLike | None,
    *,
    n_peaks: int,
    chroms: Sequence[str] | None = None,
    bin_size: int = 1000,
    flank: int = 2048,
    min_signal: float = 1.0,
) -> pd.DataFrame:
    """The strongest non-overlapping `bin_size` bins of the bulk signal.

    Returns chrom, start, end, signal of at most `n_peaks` bins (sorted by position),
    each at least `flank` bp from the contig ends and with signal >= `min_signal`.
    """
    from varinterp.io.readers import open_bigwig

    half = bin_size // 2
    paths = [bulk_pl] if bulk_mn is None else [bulk_pl, bulk_mn]
    files = [open_bigwig(path, "bulk bigWig") for path in paths]
    try:
        lengths = dict(files[0].chroms())
        names = list(chroms) if chroms else list(lengths)
        rows = []
        for chrom in names:
            if chrom not in lengths:
                msg = f"contig {chrom} is not in bulk bigWig {bulk_pl}; check --chroms"
                raise InputError(msg)
            n_half = lengths[chrom] // half
            if n_half < 2:
                continue
            sums = np.zeros(n_half, dtype=np.float64)
            for f in files:
                stat = f.stats(chrom, 0, n_half * half, type="sum", nBins=n_half, exact=True)
                sums += np.nan_to_num(np.abs(np.asarray(stat, dtype=np.float64)))
            window = sums[:-1] + sums[1:]  # bin_size windows at half-bin steps
            starts = np.arange(window.size) * half
            ok = (starts + half - flank >= 0) & (starts + half + flank <= lengths[chrom])
            ok &= window >= min_signal
            rows.append(pd.DataFrame({"chrom": chrom, "start": starts[ok], "signal": window[ok]}))
    finally:
        for f in files:
            f.close()
    if not rows:
        return pd.DataFrame(columns=["chrom", "start", "end", "signal"])
    cand = pd.concat(rows, ignore_index=True).sort_values("signal", ascending=False, kind="stable")
    taken: dict[str, list[int]] = {}
    picked = []
    for chrom, start, signal in cand.itertuples(index=False):
        prev = taken.setdefault(chrom, [])
        if any(abs(start - p) < bin_size for p in prev):
            continue
        prev.append(start)
        picked.append((chrom, int(start), int(start) + bin_size, float(signal)))
        if len(picked) >= n_peaks:
            break
    out = pd.DataFrame(picked, columns=["chrom", "start", "end", "signal"])
    return out.sort_values(["chrom", "start"], kind="stable").reset_index(drop=True)


def read_library_sizes(path: str | os.PathLike) -> dict[str, float]:
    """Library sizes per cell type from a table such as ``library_sizes.tsv``.

    Tab-separated with a header; the cell type is in column ``cell_type`` (or ``name``),
    the size in ``n_fragments`` (or, failing that, derived from ``norm`` = 1e6 / size).
    Returns cell type -> library size.
    """
    path = Path(path)
    table = read_csv(path, "library sizes", sep="\t")
    name_col = next((c for c in ("cell_type", "name") if c in table), None)
    if name_col is None or not ({"n_fragments", "norm"} & set(table)):
        msg = (
            f"library sizes {path} need a cell_type (or name) column and an n_fragments "
            f"(or norm) column; found {', '.join(map(repr, table.columns))[:200]}"
        )
        raise InputError(msg)
    names = table[name_col].astype(str)
    if names.duplicated().any():
        raise InputError(
            f"library sizes {path} list cell type {names[names.duplicated()].iloc[0]!r} twice"
        )
    if "n_fragments" in table:
        sizes = pd.to_numeric(table["n_fragments"], errors="coerce")
    else:
        sizes = 1e6 / pd.to_numeric(table["norm"], errors="coerce")
    bad = ~np.isfinite(sizes.to_numpy(dtype=np.float64)) | (sizes.to_numpy() <= 0)
    if bad.any():
        msg = f"library sizes {path}: cell type {names[bad].iloc[0]!r} has no positive size"
        raise InputError(msg)
    return dict(zip(names, sizes.astype(float), strict=True))


def build_windows(
    *,
    regions: pd.DataFrame,
    bulk_pl: str | os.PathLike,
    bulk_mn: str | os.PathLike | None,
    accessibility: Mapping[str, str | os.PathLike],
    truth: Mapping[str, tuple[str | os.PathLike, str | os.PathLike | None]] | None = None,
    library_sizes: Mapping[str, float] | None = None,
    fasta: str | os.PathLike | None = None,
    input_length: int = 4096,
    target_length: int = 1000,
    on_progress: ProgressCallback | None = None,
) -> DeconvData:
    """Read `input_length` windows centred on `regions` (chrom, start, end) from bigWigs.

    `accessibility` maps cell-type name -> bigWig; `truth` maps the same names to their
    (plus, minus) ground-truth bigWigs. `library_sizes` gives each cell type's library size
    (e.g. fragments); by default the total signal of its accessibility bigWig.
    """
    from varinterp.io.bigwig import BigWig

    cell_types = list(accessibility)
    if not cell_types:
        raise InputError("no accessibility tracks given; pass one per cell type")
    if truth is not None and set(truth) != set(cell_types):
        msg = f"ground-truth cell types {sorted(truth)} differ from accessibility {cell_types}"
        raise InputError(msg)
    n = len(regions)
    if n == 0:
        raise InputError("no regions to build windows on; check the BED file or the peak call")
    mids = ((regions["start"].to_numpy() + regions["end"].to_numpy()) // 2).astype(np.int64)
    starts = mids - input_length // 2
    chroms = regions["chrom"].astype(str).to_numpy()
    bulk_files = [BigWig(bulk_pl, absolute=True)]
    if bulk_mn is not None:
        bulk_files.append(BigWig(bulk_mn, absolute=True))
    acc_files = [BigWig(accessibility[c], absolute=True) for c in cell_types]
    truth_files = []
    if truth is not None:
        for c in cell_types:
            pl, mn = truth[c]
            truth_files.append([BigWig(pl, absolute=True)])
            if bulk_mn is not None:
                if mn is None:
                    msg = f"ground truth for {c} has no minus-strand bigWig but the bulk has one"
                    raise InputError(msg)
                truth_files[-1].append(BigWig(mn, absolute=True))
    s = len(bulk_files)
    k = len(cell_types)
    seq = np.zeros((n, 4, input_length), dtype=np.uint8)
    acc = np.zeros((n, k, input_length), dtype=np.float32)
    bulk = np.zeros((n, s, input_length), dtype=np.float32)
    gt = np.zeros((n, k, s, target_length), dtype=np.float32) if truth is not None else None
    off = (input_length - target_length) // 2
    ref = None
    if fasta is not None:
        from varinterp.io.fasta import Reference

        ref = Reference(fasta)
        cmap = ref.contig_map(source="regions")
    try:
        for i in range(n):
            c, a = chroms[i], int(starts[i])
            for j, f in enumerate(bulk_files):
                bulk[i, j] = f.values(c, a, a + input_length)
            for j, f in enumerate(acc_files):
                acc[i, j] = f.values(c, a, a + input_length)
            if gt is not None:
                for j, pair in enumerate(truth_files):
                    for t, f in enumerate(pair):
                        gt[i, j, t] = f.values(c, a + off, a + off + target_length)
            if ref is not None:
                from varinterp.genome.encoding import one_hot

                seq[i] = one_hot(ref.codes(cmap(c), a, a + input_length))
            if i % 64 == 0 or i == n - 1:
                report(on_progress, i + 1, n)
        if library_sizes is None:
            sizes = np.array([f.total() for f in acc_files], dtype=np.float64)
        else:
            missing = [c for c in cell_types if c not in library_sizes]
            if missing:
                msg = f"library sizes are missing for cell types {missing}"
                raise InputError(msg)
            sizes = np.array([float(library_sizes[c]) for c in cell_types])
        chrom_sizes = dict(bulk_files[0].lengths)
    finally:
        for f in [*bulk_files, *acc_files, *(x for pair in truth_files for x in pair)]:
            f.close()
    if np.any(sizes <= 0):
        msg = f"library sizes must be positive, got {dict(zip(cell_types, sizes, strict=True))}"
        raise InputError(msg)
    out_regions = pd.DataFrame({"chrom": chroms, "start": starts, "end": starts + input_length})
    return DeconvData(
        seq=seq,
        acc=acc,
        bulk=bulk,
        norm=1e6 / sizes,
        regions=out_regions,
        cell_types=cell_types,
        chrom_sizes=chrom_sizes,
        target_length=target_length,
        truth=gt,
    )


def save_data(data: DeconvData, path: str | os.PathLike) -> Path:
    """Write `data` to one HDF5 file atomically."""
    import h5py

    check_output(path)
    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs["format"] = FORMAT
        h5.attrs["target_length"] = data.target_length
        h5.attrs["cell_types"] = np.array(data.cell_types, dtype=object)
        h5.create_dataset("seq", data=data.seq, compression="gzip", compression_opts=1)
        h5.create_dataset("acc", data=data.acc, compression="gzip", compression_opts=1)
        h5.create_dataset("bulk", data=data.bulk, compression="gzip", compression_opts=1)
        h5.create_dataset("norm", data=data.norm)
        if data.contributions is not None:
            h5.create_dataset("contributions", data=np.asarray(data.contributions, np.float64))
        h5.attrs["exponent"] = float(data.exponent)
        if data.truth is not None:
            h5.create_dataset("truth", data=data.truth, compression="gzip", compression_opts=1)
        h5.create_dataset(
            "regions/chrom",
            data=data.regions["chrom"].astype(str).to_numpy(dtype=object),
            dtype=h5py.string_dtype(),
        )
        h5.create_dataset("regions/start", data=data.regions["start"].to_numpy(np.int64))
        h5.create_dataset("regions/end", data=data.regions["end"].to_numpy(np.int64))
        if "background" in data.regions:
            h5.create_dataset(
                "regions/background", data=data.regions["background"].to_numpy(dtype=bool)
            )
        names = list(data.chrom_sizes)
        h5.create_dataset(
            "chrom_sizes/name", data=np.array(names, dtype=object), dtype=h5py.string_dtype()
        )
        h5.create_dataset(
            "chrom_sizes/length",
            data=np.array([data.chrom_sizes[c] for c in names], dtype=np.int64),
        )
    return path


def load_data(path: str | os.PathLike) -> DeconvData:
    """Read a file written by `save_data`."""
    from varinterp.io.readers import open_hdf5

    path = Path(path)
    if not path.is_file():
        msg = f"deconvolution data {path} does not exist; build it with `deconvolve prep`"
        raise InputError(msg)
    with open_hdf5(path, "deconvolution data") as h5:
        if h5.attrs.get("format") != FORMAT:
            msg = f"{path} is not a varinterp deconvolution data file; build it with `prep`"
            raise InputError(msg)
        regions = pd.DataFrame(
            {
                "chrom": [
                    x.decode() if isinstance(x, bytes) else x for x in h5["regions/chrom"][:]
                ],
                "start": h5["regions/start"][:],
                "end": h5["regions/end"][:],
            }
        )
        if "regions/background" in h5:
            regions["background"] = h5["regions/background"][:].astype(bool)
        names = [x.decode() if isinstance(x, bytes) else x for x in h5["chrom_sizes/name"][:]]
        return DeconvData(
            seq=h5["seq"][:],
            acc=h5["acc"][:],
            bulk=h5["bulk"][:],
            norm=h5["norm"][:],
            regions=regions,
            cell_types=[str(x) for x in h5.attrs["cell_types"]],
            chrom_sizes=dict(
                zip(names, (int(x) for x in h5["chrom_sizes/length"][:]), strict=True)
            ),
            target_length=int(h5.attrs["target_length"]),
            truth=h5["truth"][:] if "truth" in h5 else None,
            contributions=h5["contributions"][:] if "contributions" in h5 else None,
            exponent=float(h5.attrs.get("exponent", 1.0)),
        )
