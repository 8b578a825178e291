"""A prepared multiome run in memory (`PreparedData`) and the inputs the networks read.

`PreparedData.open` reads ``prep.h5`` of `varinterp.models.crescendo.prep`. Arrays:

- cells: ``barcodes`` ``(C,) str``, ``cell_type`` ``(C,) int64`` (into ``cell_types``),
  ``train_cells`` ``(C,) bool``;
- genes: ``genes`` (``gene chrom tss strand``), ``train_genes`` ``(G,) bool``,
  ``log1p_mean`` / ``log1p_sd`` ``(G,)``, tokens (``token_offsets`` ``(G + 1,)``,
  ``token_peaks`` and ``token_distance`` ``(T,)``), ``rna_z`` ``(C, G) float32``;
- peaks: ``peaks`` (``chrom start end``), ``train_peaks`` ``(P,) bool``, ``seq``
  ``(P, 1500) uint8`` base codes (A=0 C=1 G=2 T=3 N=4; `varinterp.bases`), ``atac``
  ``scipy.sparse.csr_matrix (P, C) bool`` (binarised counts);
- ``pca_loadings`` ``(G, q) float32``, ``pca_coords`` ``(C, q) float32``;
- ``chrom_sizes``: the FASTA's length of each contig holding a peak.

`peak_windows` turns base codes into the encoder's one-hot input (crop, shift, reverse
complement).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from varinterp.errors import InputError

__all__ = ["PreparedData", "one_hot_windows", "peak_windows"]


def one_hot_windows(codes: np.ndarray) -> np.ndarray:
    """Base codes ``(n, L) uint8`` -> one-hot ``(n, 4, L) float32`` (N = all zeros)."""
    out = np.zeros((codes.shape[0], 4, codes.shape[1]), dtype=np.float32)
    n_idx, pos = np.nonzero(codes < 4)
    out[n_idx, codes[n_idx, pos], pos] = 1.0
    return out


def peak_windows(
    seq: np.ndarray,
    *,
    input_length: int = 1344,
    starts: np.ndarray | None = None,
    reverse: np.ndarray | None = None,
) -> np.ndarray:
    """One-hot encoder inputs ``(n, 4, input_length) float32`` from 1,500-bp windows
    ``seq`` ``(n, 1500) uint8``.

    ``starts`` ``(n,)`` are crop offsets (default: centred, 78 for 1,344 of 1,500);
    rows with ``reverse`` ``(n,) bool`` are reverse-complemented (both axes flipped).
    """
    n, width = seq.shape
    centre = (width - input_length) // 2
    starts = np.full(n, centre) if starts is None else np.asarray(starts)
    cols = starts[:, None] + np.arange(input_length)[None, :]
    x = one_hot_windows(np.take_along_axis(seq, cols, axis=1))
    if reverse is not None and reverse.any():
        x[reverse] = x[reverse][:, ::-1, ::-1]
    return x


@dataclass(eq=False)
class PreparedData:
    """A prepared run (module docstring)."""

    path: Path
    barcodes: np.ndarray
    cell_type: np.ndarray
    cell_types: list[str]
    train_cells: np.ndarray
    genes: pd.DataFrame
    train_genes: np.ndarray
    log1p_mean: np.ndarray
    log1p_sd: np.ndarray
    token_offsets: np.ndarray
    token_peaks: np.ndarray
    token_distance: np.ndarray
    rna_z: np.ndarray
    peaks: pd.DataFrame
    train_peaks: np.ndarray
    seq: np.ndarray
    atac: sp.csr_matrix
    pca_loadings: np.ndarray
    pca_coords: np.ndarray
    settings: dict = field(default_factory=dict)
    chrom_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return int(self.barcodes.size)

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def n_peaks(self) -> int:
        return len(self.peaks)

    @property
    def max_tokens(self) -> int:
        return int(np.diff(self.token_offsets).max())

    def tokens_of(self, gene: int) -> np.ndarray:
        """Peak indices ``(n,) int64`` of gene `gene`'s tokens (promoter first)."""
        return self.token_peaks[self.token_offsets[gene] : self.token_offsets[gene + 1]]

    def padded_tokens(self) -> tuple[np.ndarray, np.ndarray]:
        """``(peaks (G, max_tokens) int64, -1 padded; distance (G, max_tokens) float32)``."""
        g, width = self.n_genes, self.max_tokens
        idx = np.full((g, width), -1, dtype=np.int64)
        dist = np.zeros((g, width), dtype=np.float32)
        for i in range(g):
            lo, hi = self.token_offsets[i], self.token_offsets[i + 1]
            idx[i, : hi - lo] = self.token_peaks[lo:hi]
            dist[i, : hi - lo] = self.token_distance[lo:hi]
        return idx, dist

    def atac_dense(self, peaks: np.ndarray) -> np.ndarray:
        """Binarised ATAC of `peaks` over every cell: ``(len(peaks), C) float32``."""
        return self.atac[peaks].toarray().astype(np.float32)

    @classmethod
    def open(cls, path: str | os.PathLike) -> PreparedData:
        """Read ``prep.h5`` from a prepared folder (or the file itself)."""
        import h5py

        path = Path(path)
        file = path / "prep.h5" if path.is_dir() else path
        if not file.is_file():
            msg = f"{path} is not a prepared multiome run (no prep.h5); run crescendo prep"
            raise InputError(msg)
        try:
            f = h5py.File(file, "r")
        except OSError as exc:
            raise InputError(f"{file} is not readable HDF5 ({exc})") from None
        with f:
            if not {"cells", "genes", "peaks", "atac", "rna", "pca"} <= set(f):
                raise InputError(f"{file} is not a crescendo prep.h5; run crescendo prep")

            def txt(ds) -> np.ndarray:
                return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in ds[()]])

            c, g, p = f["cells"], f["genes"], f["peaks"]
            n_peaks = p["start"].shape[0]
            atac = sp.csr_matrix(
                (
                    np.ones(f["atac/indices"].shape[0], dtype=bool),
                    f["atac/indices"][()],
                    f["atac/indptr"][()],
                ),
                shape=(n_peaks, c["barcode"].shape[0]),
            )
            return cls(
                path=file.parent,
                barcodes=txt(c["barcode"]),
                cell_type=c["type_index"][()].astype(np.int64),
                cell_types=list(json.loads(c.attrs["cell_types"])),
                train_cells=c["train"][()].astype(bool),
                genes=pd.DataFrame(
                    {
                        "gene": txt(g["gene"]),
                        "chrom": txt(g["chrom"]),
                        "tss": g["tss"][()],
                        "strand": txt(g["strand"]),
                    }
                ),
                train_genes=g["train"][()].astype(bool),
                log1p_mean=g["log1p_mean"][()],
                log1p_sd=g["log1p_sd"][()],
                token_offsets=g["token_offsets"][()].astype(np.int64),
                token_peaks=g["token_peaks"][()].astype(np.int64),
                token_distance=g["token_distance"][()].astype(np.float32),
                rna_z=f["rna/z"][()],
                peaks=pd.DataFrame(
                    {"chrom": txt(p["chrom"]), "start": p["start"][()], "end": p["end"][()]}
                ),
                train_peaks=p["train"][()].astype(bool),
                seq=p["seq"][()],
                atac=atac,
                pca_loadings=f["pca/loadings"][()],
                pca_coords=f["pca/coords"][()],
                settings=json.loads(f.attrs.get("settings", "{}")),
                chrom_sizes=json.loads(p.attrs.get("chrom_sizes", "{}")),
            )
