"""10x Genomics feature-barcode matrices: the HDF5 file and MatrixMarket folders.

Read with h5py and scipy only (no anndata / scanpy). A matrix is a `FeatureMatrix`:

- ``counts``: ``scipy.sparse.csc_matrix (n_features, n_barcodes) int32``, features as
  rows and barcodes (cells) as columns, as 10x stores it;
- ``barcodes``: ``(n_barcodes,) str``;
- ``features``: a DataFrame, one row per feature, columns ``id``, ``name``,
  ``feature_type`` (``Gene Expression``, ``Peaks``, ...) and ``interval`` (``chr1:100-200``
  or ``""``).

**The HDF5 file** (Cell Ranger 3+ and Cell Ranger ARC ``filtered_feature_bc_matrix.h5``):
one group ``/matrix`` holding ``barcodes``, ``data``, ``indices`` (the feature of each
stored value), ``indptr`` (``n_barcodes + 1`` offsets, column-major), ``shape``
(``[n_features, n_barcodes]``) and ``features/`` with ``id``, ``name``, ``feature_type``,
``genome`` and (ARC) ``interval``. `write_10x_h5` writes the same layout.

**MatrixMarket folders** (``matrix.mtx[.gz]``, ``barcodes.tsv[.gz]`` and
``features.tsv[.gz]``: id, name, type and, for ARC, chrom, start, end; or the older
``genes.tsv``; or ``peaks.bed`` for an ATAC-only folder). `read_multiome` takes one file
or folder, or a pair of folders (RNA and ATAC) that it joins on the barcodes.

**Peak intervals.** A peak's ``interval`` (or its id, when the interval is empty) is
``chrom:start-end`` (``chrom-start-end`` also accepted) with BED coordinates, 0-based
half-open, as Cell Ranger ARC names its peaks after ``atac_peaks.bed``; `peak_table`
returns them as ``chrom start end`` columns.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.io.readers import open_hdf5, reading

__all__ = [
    "GENE_EXPRESSION",
    "PEAKS",
    "FeatureMatrix",
    "parse_intervals",
    "peak_table",
    "read_10x_h5",
    "read_10x_mtx",
    "read_multiome",
    "write_10x_h5",
]

GENE_EXPRESSION = "Gene Expression"
PEAKS = "Peaks"
_FEATURE_COLUMNS = ("id", "name", "feature_type", "interval")
_INTERVAL = re.compile(r"^(?P<chrom>.+?)[:-](?P<start>\d+)-(?P<end>\d+)$")


@dataclass
class FeatureMatrix:
    """A feature-barcode matrix (see the module docstring for the fields)."""

    counts: sp.csc_matrix
    barcodes: np.ndarray
    features: pd.DataFrame
    source: str = ""

    @property
    def n_features(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_barcodes(self) -> int:
        return int(self.counts.shape[1])

    def of_type(self, feature_type: str) -> FeatureMatrix:
        """The features of one type (rows in file order), all barcodes."""
        keep = (self.features["feature_type"] == feature_type).to_numpy()
        return FeatureMatrix(
            counts=sp.csc_matrix(self.counts[keep]),
            barcodes=self.barcodes,
            features=self.features[keep].reset_index(drop=True),
            source=self.source,
        )

    def feature_types(self) -> dict[str, int]:
        """How many features of each type."""
        return {str(k): int(v) for k, v in self.features["feature_type"].value_counts().items()}


def _text(values) -> np.ndarray:
    out = np.asarray(values)
    if out.dtype.kind in "SO":
        out = np.array([v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in out])
    return out.astype(str)


def read_10x_h5(path: str | os.PathLike) -> FeatureMatrix:
    """Read a 10x ``filtered_feature_bc_matrix.h5`` (module docstring).

    A file that is not HDF5, or an HDF5 file without the ``/matrix`` group of Cell Ranger
    3+ (e.g. an ``.h5ad``, or a Cell Ranger 2 file with one group per genome), is an
    `InputError` that says so.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(f"10x matrix {path} does not exist; check the path")
    if not h5py.is_hdf5(path):
        msg = (
            f"{path} is not an HDF5 file; give Cell Ranger's filtered_feature_bc_matrix.h5 "
            "(or its MatrixMarket folder)"
        )
        raise InputError(msg)
    with open_hdf5(path, "10x matrix") as f, reading(path, "10x matrix", kind="HDF5"):
        if "matrix" not in f:
            found = ", ".join(sorted(f.keys())[:5]) or "nothing"
            msg = (
                f"{path} is not a 10x feature-barcode matrix: it has no /matrix group (it "
                f"holds {found}); give Cell Ranger 3+ / ARC filtered_feature_bc_matrix.h5"
            )
            raise InputError(msg)
        g = f["matrix"]
        need = ["barcodes", "data", "indices", "indptr", "shape", "features"]
        missing = [k for k in need if k not in g]
        if missing:
            msg = f"{path}: /matrix lacks {', '.join(missing)}; the file is not a 10x matrix"
            raise InputError(msg)
        shape = tuple(int(x) for x in g["shape"][()])
        counts = sp.csc_matrix((g["data"][()], g["indices"][()], g["indptr"][()]), shape=shape)
        barcodes = _text(g["barcodes"][()])
        feats = g["features"]
        table = {}
        for col, key in zip(
            _FEATURE_COLUMNS, ("id", "name", "feature_type", "interval"), strict=True
        ):
            if key in feats:
                table[col] = _text(feats[key][()])
            elif col in ("id", "feature_type"):
                msg = f"{path}: /matrix/features lacks {key}; the file is not a 10x matrix"
                raise InputError(msg)
            else:
                table[col] = None
    features = pd.DataFrame(table)
    if features["name"].isna().all():
        features["name"] = features["id"]
    features["interval"] = features["interval"].fillna("").replace("NA", "")
    if len(features) != shape[0] or len(barcodes) != shape[1]:
        msg = (
            f"{path}: shape {shape} does not match {len(features)} features and "
            f"{len(barcodes)} barcodes; the file is damaged"
        )
        raise InputError(msg)
    counts.sort_indices()
    return FeatureMatrix(counts.astype(np.int32), barcodes, features, str(path))


def _find(folder: Path, *names: str) -> Path | None:
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_lines_table(path: Path) -> pd.DataFrame:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        return pd.read_csv(fh, sep="\t", header=None, dtype=str, keep_default_na=False)


def read_10x_mtx(folder: str | os.PathLike) -> FeatureMatrix:
    """Read a 10x MatrixMarket folder (module docstring): ``matrix.mtx``, ``barcodes.tsv``
    and ``features.tsv`` (or ``genes.tsv``, or ``peaks.bed``), each optionally gzipped."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"MatrixMarket folder {folder} does not exist; check the path")
    mtx = _find(folder, "matrix.mtx")
    bcs = _find(folder, "barcodes.tsv")
    feats = _find(folder, "features.tsv", "genes.tsv")
    peaks = _find(folder, "peaks.bed")
    if mtx is None or bcs is None or (feats is None and peaks is None):
        msg = (
            f"{folder} is not a 10x MatrixMarket folder: it needs matrix.mtx, barcodes.tsv "
            "and features.tsv (or peaks.bed), optionally .gz"
        )
        raise InputError(msg)
    try:
        counts = sp.csc_matrix(scipy.io.mmread(str(mtx))).astype(np.int32)
    except (ValueError, OSError) as exc:
        raise InputError(f"{mtx} is not a MatrixMarket file ({exc})".splitlines()[0]) from None
    barcodes = _read_lines_table(bcs)[0].to_numpy().astype(str)
    if feats is not None:
        t = _read_lines_table(feats)
        ids = t[0].to_numpy().astype(str)
        names = t[1].to_numpy().astype(str) if t.shape[1] > 1 else ids
        types = t[2].to_numpy().astype(str) if t.shape[1] > 2 else np.full(len(t), GENE_EXPRESSION)
        if t.shape[1] >= 6:
            interval = np.array(
                [
                    f"{c}:{s}-{e}" if c and s and e else ""
                    for c, s, e in zip(t[3], t[4], t[5], strict=True)
                ]
            )
        else:
            interval = np.full(len(t), "")
    else:
        t = _read_lines_table(peaks)
        ids = np.array([f"{c}:{s}-{e}" for c, s, e in zip(t[0], t[1], t[2], strict=True)])
        names, types, interval = ids, np.full(len(t), PEAKS), ids
    features = pd.DataFrame({"id": ids, "name": names, "feature_type": types, "interval": interval})
    if counts.shape != (len(features), len(barcodes)):
        msg = (
            f"{mtx}: matrix shape {counts.shape} does not match {len(features)} features x "
            f"{len(barcodes)} barcodes in {folder}"
        )
        raise InputError(msg)
    counts.sort_indices()
    return FeatureMatrix(counts, barcodes, features, str(folder))


def read_multiome(
    path: str | os.PathLike, *, atac: str | os.PathLike | None = None
) -> FeatureMatrix:
    """A multiome matrix from a 10x h5 or a MatrixMarket folder (`path`), or from a pair of
    folders: RNA (`path`) and ATAC (`atac`), joined on the RNA folder's barcodes (every one
    must be in the ATAC folder; the result keeps the RNA order)."""
    path = Path(path)
    first = read_10x_mtx(path) if path.is_dir() else read_10x_h5(path)
    if atac is None:
        return first
    second = read_10x_mtx(atac)
    where = {b: i for i, b in enumerate(second.barcodes)}
    missing = [b for b in first.barcodes if b not in where]
    if missing:
        msg = (
            f"{len(missing)} barcode(s) of {path} are not in {atac} (e.g. {missing[0]}); "
            "give the RNA and ATAC folders of the same multiome run"
        )
        raise InputError(msg)
    order = np.array([where[b] for b in first.barcodes], dtype=np.int64)
    counts = sp.vstack([first.counts, second.counts[:, order]]).tocsc()
    features = pd.concat([first.features, second.features], ignore_index=True)
    return FeatureMatrix(counts, first.barcodes, features, f"{path} + {atac}")


def parse_intervals(values) -> pd.DataFrame:
    """``chrom:start-end`` strings -> ``chrom start end`` (int64, BED coordinates).

    A string that does not parse, or with ``end <= start``, is an `InputError`.
    """
    rows = []
    for text in np.asarray(values).astype(str):
        m = _INTERVAL.match(text.strip())
        if m is None or int(m["end"]) <= int(m["start"]):
            msg = (
                f"peak interval {text!r} is not chrom:start-end with start < end; the ATAC "
                "features need intervals like chr1:9768-10660"
            )
            raise InputError(msg)
        rows.append((m["chrom"], int(m["start"]), int(m["end"])))
    table = pd.DataFrame(rows, columns=["chrom", "start", "end"])
    return table.astype({"chrom": str, "start": np.int64, "end": np.int64})


def peak_table(matrix: FeatureMatrix) -> pd.DataFrame:
    """The ``Peaks`` features as ``chrom start end id`` (BED coordinates), file order.

    The interval is read from ``interval``, else from the feature id. No peak feature is
    an `InputError`.
    """
    peaks = matrix.features[matrix.features["feature_type"] == PEAKS]
    if peaks.empty:
        found = ", ".join(f"{k} ({v})" for k, v in matrix.feature_types().items()) or "none"
        msg = (
            f"{matrix.source or 'the matrix'} has no ATAC features (feature_type 'Peaks'; "
            f"it has {found}); give a 10x Multiome (RNA + ATAC) matrix"
        )
        raise InputError(msg)
    text = np.where(peaks["interval"].astype(str) != "", peaks["interval"], peaks["id"])
    table = parse_intervals(text)
    table["id"] = peaks["id"].to_numpy()
    return table


def write_10x_h5(
    path: str | os.PathLike,
    matrix: FeatureMatrix,
    *,
    genome: str = "",
    chemistry: str = "Single Cell Multiome ATAC + Gene Expression v1",
) -> Path:
    """Write `matrix` as a Cell Ranger ARC style ``filtered_feature_bc_matrix.h5``
    (module docstring), atomically; strings as fixed-length bytes, counts gzip-compressed."""
    import h5py

    path = Path(path)
    counts = sp.csc_matrix(matrix.counts)
    counts.sort_indices()

    def fixed(values) -> np.ndarray:
        text = [str(v).encode("utf-8") for v in values]
        width = max([1, *(len(t) for t in text)])
        return np.array(text, dtype=f"S{width}")

    n = len(matrix.features)
    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as f:
        f.attrs["filetype"] = "matrix"
        f.attrs["version"] = 2
        f.attrs["chemistry_description"] = chemistry
        f.attrs["library_ids"] = np.array([b"1"])
        f.attrs["original_gem_groups"] = np.array([1], dtype=np.int64)
        g = f.create_group("matrix")
        g.create_dataset("barcodes", data=fixed(matrix.barcodes))
        g.create_dataset("data", data=counts.data.astype(np.int32), compression="gzip")
        g.create_dataset("indices", data=counts.indices.astype(np.int64), compression="gzip")
        g.create_dataset("indptr", data=counts.indptr.astype(np.int64))
        g.create_dataset("shape", data=np.array(counts.shape, dtype=np.int32))
        fg = g.create_group("features")
        fg.create_dataset("_all_tag_keys", data=np.array([b"genome", b"interval"]))
        fg.create_dataset("id", data=fixed(matrix.features["id"]))
        fg.create_dataset("name", data=fixed(matrix.features["name"]))
        fg.create_dataset("feature_type", data=fixed(matrix.features["feature_type"]))
        fg.create_dataset("genome", data=fixed([genome] * n))
        fg.create_dataset("interval", data=fixed(matrix.features["interval"].replace("", "NA")))
    return path
