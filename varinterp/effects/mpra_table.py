"""The oligo table of the MPRA benchmark (tab-separated, with a header).

Required columns:

- ``id``: the variant's name (unique);
- ``chrom``, ``pos``: its genomic position, **1-based** (VCF style); used to pick the
  hold-out fold model and for ``--chroms``;
- ``ref``, ``alt``: single bases (rows with other alleles, e.g. indels, are skipped as
  ``not_snv``);
- ``oligo``: the tested oligo sequence carrying the reference allele.

Optional columns:

- ``oligo_alt``: the oligo carrying the alternative allele (as in tables that list
  both allele oligos); when absent the alternative oligo is ``oligo`` with the base at
  ``offset`` replaced. It must have the same length and the ``alt`` base at ``offset``
  (else the row is skipped as ``alt_mismatch``);
- ``offset``: 0-based position of the variant in the oligo (an empty cell or no
  column: the oligo's middle, ``len(oligo) // 2``, i.e. base 101 of a 200 bp oligo);
- ``active``: 1 when the oligo is active in the cell type (``active_K562``), else 0;
- ``emvar``: 1 for an expression-modulating variant (``emVar_K562``), else 0;
- ``log2fc``: the observed allelic effect as ``log2((RNA_ref/DNA_ref)/(RNA_alt/DNA_alt))``
  (reference over alternative, the sign of the predicted effect);
- any other columns, e.g. other models' predicted log2 fold changes, kept as they are.

A row whose oligo does not carry the reference allele at the offset is skipped as
``ref_mismatch`` (an `InputError` with ``strict``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.tables import read_table

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_oligo_table"]

REQUIRED_COLUMNS = ("id", "chrom", "pos", "ref", "alt", "oligo")
OPTIONAL_COLUMNS = ("oligo_alt", "offset", "active", "emvar", "log2fc")
_TRUE = {"1", "true", "t", "yes", "1.0"}
_FALSE = {"0", "false", "f", "no", "0.0"}


def _flags(values: pd.Series, path: Path, column: str) -> np.ndarray:
    """0/1 (true/false, yes/no) -> ``(n,) float64`` with NaN for empty cells."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.astype(str).str.strip().str.lower()):
        if v in _TRUE:
            out[i] = 1.0
        elif v in _FALSE:
            out[i] = 0.0
        elif v not in ("", "nan", "na"):
            msg = f"oligo table {path}, line {i + 2}: {column} is {v!r}; write 1 or 0"
            raise InputError(msg)
    return out


def read_oligo_table(path: str | os.PathLike, *, strict: bool = False) -> pd.DataFrame:
    """Read and check the oligo table -> a table with ``status`` (``ok``, ``not_snv``,
    ``ref_mismatch``, ``alt_mismatch``), ``pos0`` (0-based), ``offset`` (int), float ``active`` /
    ``emvar`` / ``log2fc`` (NaN when absent) and the file's other columns."""
    path = Path(path)
    table = read_table(path, required=REQUIRED_COLUMNS, what="oligo table")
    for c in REQUIRED_COLUMNS:
        table[c] = table[c].str.strip()
    dup = table["id"][table["id"].duplicated()]
    if len(dup):
        msg = f"oligo table {path}: id {dup.iloc[0]!r} appears more than once; ids must be unique"
        raise InputError(msg)
    pos = pd.to_numeric(table["pos"], errors="coerce")
    if pos.isna().any() or (pos < 1).any():
        i = int(np.flatnonzero(pos.isna() | (pos < 1))[0])
        value = table["pos"].iat[i]
        msg = f"oligo table {path}, line {i + 2}: pos {value!r} is not a 1-based position"
        raise InputError(msg)
    table["pos0"] = pos.astype(np.int64) - 1
    table["ref"] = table["ref"].str.upper()
    table["alt"] = table["alt"].str.upper()
    lengths = table["oligo"].str.len().to_numpy()
    raw = table["offset"].str.strip() if "offset" in table.columns else pd.Series([""] * len(table))
    given = raw.to_numpy() != ""
    offset = pd.to_numeric(raw.where(given, "0"), errors="coerce").to_numpy()
    notint = given & (np.isnan(offset) | (offset != np.round(offset)))
    if notint.any():
        i = int(np.flatnonzero(notint)[0])
        msg = f"oligo table {path}, line {i + 2}: offset {raw.iat[i]!r} is not an integer"
        raise InputError(msg)
    table["offset"] = np.where(given, np.nan_to_num(offset), lengths // 2).astype(np.int64)
    bad = (table["offset"].to_numpy() < 0) | (table["offset"].to_numpy() >= lengths)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"oligo table {path}, line {i + 2}: offset {table['offset'].iat[i]} lies outside "
            f"the {lengths[i]} bp oligo"
        )
        raise InputError(msg)
    for c in ("active", "emvar"):
        table[c] = _flags(table[c], path, c) if c in table.columns else np.nan
    if "log2fc" in table.columns:
        raw_fc = table["log2fc"].str.strip()
        values = pd.to_numeric(raw_fc.replace("", np.nan), errors="coerce")
        text = values.isna().to_numpy() & ~raw_fc.str.lower().isin(["", "nan", "na"]).to_numpy()
        if text.any():  # missing measurements may be empty or NA; words are a broken table
            i = int(np.flatnonzero(text)[0])
            msg = f"oligo table {path}, line {i + 2}: log2fc {raw_fc.iat[i]!r} is not a number"
            raise InputError(msg)
        table["log2fc"] = values
    else:
        table["log2fc"] = np.nan
    snv = table["ref"].isin(list("ACGT")) & table["alt"].isin(list("ACGT"))
    snv &= table["ref"] != table["alt"]
    at = np.array(
        [
            s[o].upper() if 0 <= o < len(s) else ""
            for s, o in zip(table["oligo"], table["offset"], strict=True)
        ]
    )
    match = at == table["ref"].to_numpy()
    status = np.where(~snv, "not_snv", np.where(match, "ok", "ref_mismatch"))
    if "oligo_alt" not in table.columns:
        table["oligo_alt"] = ""
    table["oligo_alt"] = table["oligo_alt"].str.strip()
    alt_ok = np.array(
        [
            not a or (len(a) == len(s) and a[o].upper() == alt)
            for a, s, o, alt in zip(
                table["oligo_alt"], table["oligo"], table["offset"], table["alt"], strict=True
            )
        ],
        dtype=bool,
    )
    status = np.where((status == "ok") & ~alt_ok, "alt_mismatch", status)
    if strict and (status == "ref_mismatch").any():
        i = int(np.flatnonzero(status == "ref_mismatch")[0])
        msg = (
            f"oligo table {path}, line {i + 2}: the oligo has {str(at[i])!r} at offset "
            f"{table['offset'].iat[i]}, not the ref allele {table['ref'].iat[i]!r}; fix the "
            "offset or the oligo (or drop --strict to skip such rows)"
        )
        raise InputError(msg)
    table["status"] = status
    return table
