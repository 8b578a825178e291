"""The per-cell cRE activity store: a sparse genes x peaks x cells array on disk.

Only the gene-peak pairs a model links (a gene's promoter and its candidates within
300 kb) are stored, so the genes x peaks plane is sparse and each stored pair holds a
dense vector over the cells. One HDF5 file (``activity.h5``):

- ``/values`` ``(n_pairs, n_cells)`` float32 (or float16), chunked by (64 pairs, up to
  4,096 cells) and gzip-compressed: row ``r`` is the activity of pair ``r`` in every
  cell; a gene's pairs are consecutive (promoter first);
- ``/pairs/gene``, ``/pairs/peak`` ``(n_pairs,) int32`` (indices into ``/genes`` and
  ``/peaks``), ``/pairs/promoter`` ``(n_pairs,) bool``; ``/genes/offsets`` ``(n_genes + 1,)``;
- ``/genes/name``, ``/peaks/chrom start end``, ``/cells/barcode``, ``/cells/type``
  (indices into the attribute ``cell_types`` of ``/cells``).

`ActivityWriter` fills it one gene at a time (memory: one gene's block plus the HDF5
chunk cache, 32 MB by default) and renames it into place when closed without error;
`ActivityStore` reads a gene's block, row ranges, or streams blocks of pairs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path

__all__ = ["CACHE_BYTES", "ActivityStore", "ActivityWriter"]

CACHE_BYTES = 32 * 1024 * 1024
_PAIR_CHUNK = 64
_CELL_CHUNK = 4096


def _text(ds) -> np.ndarray:
    return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in ds[()]])


class ActivityWriter:
    """Write an activity store gene by gene (module docstring); use as a context manager.

    `gene_pairs` lists, per gene, its peak indices (promoter first); `cell_type` ``(C,)``
    indexes `cell_types`. `write_gene(i, values)` takes ``values`` ``(C, n_i)``.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        genes: Sequence[str],
        gene_pairs: Sequence[np.ndarray],
        peaks: pd.DataFrame,
        barcodes: Sequence[str],
        cell_type: np.ndarray,
        cell_types: Sequence[str],
        dtype: str = "float32",
        attrs: dict | None = None,
    ) -> None:
        if dtype not in ("float32", "float16"):
            raise InputError(f"activity store dtype {dtype!r} must be float32 or float16")
        self.path = Path(path)
        self.genes = list(genes)
        counts = np.array([len(p) for p in gene_pairs], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.pair_peak = np.concatenate([np.asarray(p, np.int64) for p in gene_pairs])
        self.n_cells = len(barcodes)
        self._meta = dict(
            peaks=peaks,
            barcodes=list(barcodes),
            cell_type=np.asarray(cell_type),
            cell_types=list(cell_types),
            dtype=dtype,
            attrs=attrs or {},
        )
        self._ctx = None
        self._file = None
        self.written = np.zeros(len(self.genes), dtype=bool)

    def __enter__(self) -> ActivityWriter:
        import h5py

        self._ctx = atomic_path(self.path, suffix=".h5")
        tmp = self._ctx.__enter__()
        f = h5py.File(tmp, "w", rdcc_nbytes=CACHE_BYTES)
        self._file = f
        m = self._meta
        text = h5py.string_dtype("utf-8")
        n_pairs = int(self.offsets[-1])
        chunks = (max(1, min(_PAIR_CHUNK, n_pairs)), max(1, min(_CELL_CHUNK, self.n_cells)))
        f.create_dataset(
            "values",
            shape=(n_pairs, self.n_cells),
            dtype=m["dtype"],
            chunks=chunks,
            compression="gzip",
            compression_opts=1,
            fillvalue=np.nan,
        )
        g = f.create_group("pairs")
        g.create_dataset(
            "gene",
            data=np.repeat(np.arange(len(self.genes)), np.diff(self.offsets)).astype(np.int32),
        )
        g.create_dataset("peak", data=self.pair_peak.astype(np.int32))
        promoter = np.zeros(n_pairs, dtype=bool)
        promoter[self.offsets[:-1]] = True
        g.create_dataset("promoter", data=promoter)
        g = f.create_group("genes")
        g.create_dataset("name", data=np.array(self.genes, dtype=object), dtype=text)
        g.create_dataset("offsets", data=self.offsets)
        g = f.create_group("peaks")
        pk = m["peaks"]
        g.create_dataset(
            "chrom", data=pk["chrom"].astype(str).to_numpy().astype(object), dtype=text
        )
        g.create_dataset("start", data=pk["start"].to_numpy(np.int64))
        g.create_dataset("end", data=pk["end"].to_numpy(np.int64))
        g = f.create_group("cells")
        g.create_dataset("barcode", data=np.array(m["barcodes"], dtype=object), dtype=text)
        g.create_dataset("type", data=m["cell_type"].astype(np.int32))
        g.attrs["cell_types"] = json.dumps(m["cell_types"])
        f.attrs["format"] = "varinterp-cre-activity"
        f.attrs["format_version"] = 1
        f.attrs["info"] = json.dumps(m["attrs"], default=str)
        return self

    def write_gene(self, gene: int, values: np.ndarray) -> None:
        """Store gene `gene`'s activity ``(C, n_pairs_of_gene)``."""
        lo, hi = int(self.offsets[gene]), int(self.offsets[gene + 1])
        values = np.asarray(values)
        if values.shape != (self.n_cells, hi - lo):
            msg = f"gene {gene}: activity {values.shape} is not ({self.n_cells}, {hi - lo})"
            raise InputError(msg)
        self._file["values"][lo:hi] = values.T.astype(self._meta["dtype"])
        self.written[gene] = True

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.close()
        self._ctx.__exit__(exc_type, exc, tb)


class ActivityStore:
    """Read an activity store (module docstring)."""

    def __init__(self, path: str | os.PathLike) -> None:
        import h5py

        self.path = Path(path)
        if self.path.is_dir():
            self.path = self.path / "activity.h5"
        if not self.path.is_file():
            raise InputError(f"activity store {self.path} does not exist; run crescendo activity")
        try:
            self._file = h5py.File(self.path, "r", rdcc_nbytes=CACHE_BYTES)
        except OSError as exc:
            raise InputError(f"{self.path} is not readable HDF5 ({exc})") from None
        f = self._file
        if f.attrs.get("format") != "varinterp-cre-activity":
            raise InputError(f"{self.path} is not a varinterp cRE activity store")
        self.genes = _text(f["genes/name"])
        self.offsets = f["genes/offsets"][()]
        self.peaks = pd.DataFrame(
            {
                "chrom": _text(f["peaks/chrom"]),
                "start": f["peaks/start"][()],
                "end": f["peaks/end"][()],
            }
        )
        self.pair_gene = f["pairs/gene"][()]
        self.pair_peak = f["pairs/peak"][()]
        self.pair_promoter = f["pairs/promoter"][()]
        self.barcodes = _text(f["cells/barcode"])
        self.cell_type = f["cells/type"][()].astype(np.int64)
        self.cell_types = list(json.loads(f["cells"].attrs["cell_types"]))
        self.info = json.loads(f.attrs.get("info", "{}"))

    @property
    def n_pairs(self) -> int:
        return int(self.pair_gene.size)

    @property
    def n_cells(self) -> int:
        return int(self.barcodes.size)

    def gene_index(self, name: str) -> int:
        hits = np.flatnonzero(self.genes == name)
        if hits.size == 0:
            raise InputError(f"gene {name!r} is not in the activity store {self.path}")
        return int(hits[0])

    def gene(self, gene: int | str) -> tuple[np.ndarray, np.ndarray]:
        """``(peak indices (n,), activity (C, n) float32)`` of one gene."""
        g = self.gene_index(gene) if isinstance(gene, str) else int(gene)
        lo, hi = int(self.offsets[g]), int(self.offsets[g + 1])
        return self.pair_peak[lo:hi], self._file["values"][lo:hi].T.astype(np.float32)

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Pairs ``lo:hi`` over every cell: ``(hi - lo, C) float32``."""
        return self._file["values"][lo:hi].astype(np.float32)

    def blocks(self, size: int = _PAIR_CHUNK * 4) -> Iterator[tuple[int, np.ndarray]]:
        """``(first pair, rows (n, C) float32)`` blocks of `size` pairs, in order."""
        for lo in range(0, self.n_pairs, size):
            yield lo, self.rows(lo, min(lo + size, self.n_pairs))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ActivityStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
