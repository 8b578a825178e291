"""The motif-features file: a region x cluster matrix with everything needed to reuse it.

The peaks are 0-based half-open. Written as HDF5 (``.h5``) or NumPy (``.npz``), chosen
by the file name. Keys (``n`` regions, ``C`` clusters, ``K`` cell types, ``M`` motifs):

| key | shape, dtype | what |
|---|---|---|
| ``chrom``, ``start``, ``end``, ``name`` | ``(n,)`` str, int64, int64, str | the peaks |
| ``clusters`` | ``(C,)`` str | column names |
| ``features`` | ``(n, C) float32`` | normalised motif scores (GET's input) |
| ``raw`` | ``(n, C) float64`` | summed hit scores before normalisation |
| ``column_max`` | ``(C,) float64`` | the normalisation's column maxima |
| ``cell_types`` | ``(K,)`` str | accessibility columns (may be empty) |
| ``counts``, ``acpm`` | ``(n, K)`` float64, float32 | counts and ``log10(CPM-like + 1)`` |
| ``motif_names`` | ``(M,)`` str | the scanned motif set |
| ``motif_widths`` | ``(M,) int64`` | their widths |
| ``motif_values`` | ``(4, sum widths) float64`` | their matrices, concatenated |
| ``cluster_of`` | ``(M,) int64`` | each motif's column, -1 for none |
| ``settings`` | JSON str | threshold, bin size, eps, scaler |
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.io.readers import npy_problem, open_hdf5
from varinterp.motifs.features import MotifFeatures, ScanSettings
from varinterp.motifs.meme import MotifSet

__all__ = ["read_features", "write_features"]


def _arrays(f: MotifFeatures) -> dict[str, np.ndarray]:
    regions = f.regions
    names = regions["name"] if "name" in regions else pd.Series([""] * len(regions))
    widths = np.array([m.shape[1] for m in f.motifs.matrices], dtype=np.int64)
    n, k = len(regions), len(f.cell_types)
    return {
        "chrom": regions["chrom"].astype(str).to_numpy(dtype="U"),
        "start": regions["start"].to_numpy(np.int64),
        "end": regions["end"].to_numpy(np.int64),
        "name": names.astype(str).to_numpy(dtype="U"),
        "clusters": np.array(f.clusters, dtype="U"),
        "features": np.asarray(f.features, np.float32),
        "raw": np.asarray(f.raw, np.float64),
        "column_max": np.asarray(f.column_max, np.float64),
        "cell_types": np.array(f.cell_types, dtype="U").reshape(k),
        "counts": np.zeros((n, 0)) if f.counts is None else np.asarray(f.counts, np.float64),
        "acpm": np.zeros((n, 0), np.float32) if f.acpm is None else np.asarray(f.acpm, np.float32),
        "motif_names": np.array(f.motifs.names, dtype="U"),
        "motif_widths": widths,
        "motif_values": np.concatenate(list(f.motifs.matrices), axis=1),
        "cluster_of": np.asarray(f.cluster_of, np.int64),
        "background": np.asarray(f.motifs.background, np.float64),
        "settings": np.array(json.dumps(dataclasses.asdict(f.settings))),
    }


def write_features(features: MotifFeatures, path: str | os.PathLike) -> Path:
    """Write `features` to `path` (``.h5`` or ``.npz``), atomically."""
    path = Path(path)
    arrays = _arrays(features)
    if path.suffix == ".npz":
        with atomic_path(path, suffix=".npz") as tmp, tmp.open("wb") as fh:
            np.savez_compressed(fh, **arrays)
        return path
    if path.suffix not in (".h5", ".hdf5"):
        raise InputError(f"features file {path} must end in .h5 or .npz")
    import h5py

    with atomic_path(path, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs["format"] = "varinterp-motif-features"
        for key, value in arrays.items():
            if value.dtype.kind == "U":
                h5.create_dataset(key, data=value.astype(object), dtype=h5py.string_dtype())
            else:
                h5.create_dataset(
                    key, data=value, compression="gzip" if value.size > 1000 else None
                )
    return path


def _read_raw(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InputError(f"features file {path} does not exist; run varinterp motifs scan")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            msg = (
                f"features file {path} is not a readable .npz file ({npy_problem(exc)}); "
                "write it again with varinterp motifs scan"
            )
            raise InputError(msg) from None
    with open_hdf5(path, "features file") as h5:
        out = {}
        try:
            for key in h5:
                v = h5[key][()]
                if isinstance(v, bytes):
                    v = v.decode()
                elif isinstance(v, np.ndarray) and v.dtype.kind in "OS":
                    v = np.array([s.decode() if isinstance(s, bytes) else s for s in v], "U")
                out[key] = np.asarray(v)
        except OSError as exc:
            msg = (
                f"features file {path} is not a readable HDF5 file (truncated or garbled: "
                f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                f"check it with: h5ls {path}"
            )
            raise InputError(msg) from None
        return out


#: What every features file holds (with cell types, also counts and acpm).
_arrays_needed = (
    "chrom", "start", "end", "name", "clusters", "raw", "column_max", "features",
    "motif_names", "motif_widths", "motif_values", "cluster_of", "background", "settings",
    "cell_types",
)  # fmt: skip


def read_features(path: str | os.PathLike) -> MotifFeatures:
    """Read a file written by `write_features`."""
    path = Path(path)
    a = _read_raw(path)
    with_types = np.asarray(a.get("cell_types", [])).size > 0
    need = [*_arrays_needed, *(("counts", "acpm") if with_types else ())]
    missing = [k for k in need if k not in a]
    if missing:
        raise InputError(
            f"features file {path} is not a whole motif-features file (missing "
            f"{', '.join(missing)}); write it again with varinterp motifs scan"
        )
    widths = a["motif_widths"].astype(np.int64)
    cuts = np.concatenate([[0], np.cumsum(widths)])
    mats = tuple(
        np.ascontiguousarray(a["motif_values"][:, cuts[i] : cuts[i + 1]])
        for i in range(len(widths))
    )
    motifs = MotifSet(
        tuple(str(n) for n in a["motif_names"]), mats, a["background"], source=str(path)
    )
    regions = pd.DataFrame(
        {
            "chrom": a["chrom"].astype(str),
            "start": a["start"].astype(np.int64),
            "end": a["end"].astype(np.int64),
            "name": a["name"].astype(str),
        }
    )
    k = int(a["cell_types"].size)
    return MotifFeatures(
        regions=regions,
        clusters=tuple(str(c) for c in a["clusters"]),
        raw=a["raw"].astype(np.float64),
        column_max=a["column_max"].astype(np.float64),
        features=a["features"].astype(np.float32),
        motifs=motifs,
        cluster_of=a["cluster_of"].astype(np.int64),
        settings=ScanSettings(**json.loads(str(a["settings"]))),
        cell_types=tuple(str(c) for c in a["cell_types"]),
        counts=a["counts"].astype(np.float64) if k else None,
        acpm=a["acpm"].astype(np.float32) if k else None,
    )
