"""Write an ``.h5ad`` (AnnData's HDF5 layout) with h5py alone, for scanpy / muon users.

The file follows AnnData's on-disk specification (``encoding-type`` / ``encoding-version``
attributes on every element): ``X`` a ``csr_matrix`` group (``data``, ``indices``,
``indptr``; attribute ``shape`` = ``(n_obs, n_var)``), ``obs`` and ``var`` ``dataframe``
groups (an ``_index`` string array plus one element per column: numeric ``array``,
``string-array``, or ``categorical`` with ``codes`` and ``categories``), and empty
``dict`` groups ``obsm varm obsp varp layers uns``. Only what varinterp exports is
supported: one sparse ``X`` and columns of numbers, strings or categories.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, check_output

__all__ = ["export_h5ad", "write_h5ad"]


def _attrs(node, kind: str, version: str) -> None:
    node.attrs["encoding-type"] = kind
    node.attrs["encoding-version"] = version


def _strings(group, name: str, values) -> None:
    import h5py

    data = np.array([str(v) for v in values], dtype=object)
    ds = group.create_dataset(name, data=data, dtype=h5py.string_dtype("utf-8"))
    _attrs(ds, "string-array", "0.2.0")


def _frame(parent, name: str, index, columns: Mapping[str, object]) -> None:
    import h5py

    group = parent.create_group(name)
    _attrs(group, "dataframe", "0.2.0")
    group.attrs["_index"] = "_index"
    order = np.array([str(c) for c in columns], dtype=object)
    group.attrs.create("column-order", data=order, shape=order.shape, dtype=h5py.string_dtype())
    _strings(group, "_index", index)
    for col, values in columns.items():
        series = pd.Series(values)
        if isinstance(series.dtype, pd.CategoricalDtype):
            cat = group.create_group(col)
            _attrs(cat, "categorical", "0.2.0")
            cat.attrs["ordered"] = bool(series.cat.ordered)
            codes = cat.create_dataset("codes", data=series.cat.codes.to_numpy().astype(np.int16))
            _attrs(codes, "array", "0.2.0")
            _strings(cat, "categories", series.cat.categories.astype(str))
        elif pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            ds = group.create_dataset(col, data=series.to_numpy())
            _attrs(ds, "array", "0.2.0")
        else:
            _strings(group, col, series.astype(str))


def write_h5ad(
    path: str | os.PathLike,
    *,
    X: sp.spmatrix,
    obs_names,
    var_names,
    obs: Mapping[str, object] | None = None,
    var: Mapping[str, object] | None = None,
) -> Path:
    """Write ``X`` ``(n_obs, n_var)`` (cells x features; stored as CSR) with the obs and var
    names and columns to `path` atomically (module docstring)."""
    import h5py

    X = sp.csr_matrix(X)
    X.sort_indices()
    if X.shape != (len(obs_names), len(var_names)):
        msg = f"X is {X.shape} but there are {len(obs_names)} obs and {len(var_names)} var names"
        raise InputError(msg)
    for label, table, n in (("obs", obs, X.shape[0]), ("var", var, X.shape[1])):
        for col, values in (table or {}).items():
            if len(values) != n:
                raise InputError(f"{label} column {col} has {len(values)} values, not {n}")
    path = Path(path)
    with atomic_path(path, suffix=".h5ad") as tmp, h5py.File(tmp, "w") as f:
        _attrs(f, "anndata", "0.1.0")
        x = f.create_group("X")
        _attrs(x, "csr_matrix", "0.1.0")
        x.attrs["shape"] = np.array(X.shape, dtype=np.int64)
        x.create_dataset("data", data=X.data, compression="gzip")
        x.create_dataset("indices", data=X.indices.astype(np.int64), compression="gzip")
        x.create_dataset("indptr", data=X.indptr.astype(np.int64))
        _frame(f, "obs", obs_names, dict(obs or {}))
        _frame(f, "var", var_names, dict(var or {}))
        for name in ("obsm", "varm", "obsp", "varp", "layers", "uns"):
            _attrs(f.create_group(name), "dict", "0.1.0")
    return path


def export_h5ad(
    *,
    matrix: str | os.PathLike,
    out: str | os.PathLike,
    atac_matrix: str | os.PathLike | None = None,
    cell_types: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """A 10x multiome matrix (`varinterp.io.tenx.read_multiome`) as an ``.h5ad``: cells x
    features, ``var`` with ``gene_ids``, ``feature_types`` (categorical) and ``interval``;
    ``obs`` with ``cell_type`` (categorical; ``""`` for a cell the table lacks) when a
    ``barcode cell_type`` table is given."""
    from varinterp.io.tables import read_table
    from varinterp.io.tenx import read_multiome

    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    m = read_multiome(matrix, atac=atac_matrix)
    obs: dict[str, object] = {}
    if cell_types is not None:
        table = read_table(cell_types, required=("barcode", "cell_type"), what="cell-type table")
        mapping = dict(zip(table["barcode"], table["cell_type"], strict=True))
        obs["cell_type"] = pd.Categorical([mapping.get(b, "") for b in m.barcodes])
    var = {
        "gene_ids": m.features["id"].to_numpy(),
        "feature_types": pd.Categorical(m.features["feature_type"]),
        "interval": m.features["interval"].to_numpy(),
    }
    return write_h5ad(
        out, X=m.counts.T, obs_names=m.barcodes, var_names=m.features["name"], obs=obs, var=var
    )
