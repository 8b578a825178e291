"""BED intervals: reading, checking against a reference, merging.

A regions table is a pandas DataFrame with columns ``chrom`` (str, the reference's
spelling), ``start``, ``end`` (int64, 0-based half-open) and, when the BED has them,
``name``, ``score``, ``strand``.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.contigs import ContigMap
from varinterp.io.readers import reading

__all__ = [
    "RegionCheck",
    "check_regions",
    "merge_regions",
    "read_bed",
    "read_peaks",
    "require_within_contigs",
]

_BED_COLUMNS = ["chrom", "start", "end", "name", "score", "strand"]


def read_bed(path: str | os.PathLike) -> pd.DataFrame:
    """Read a BED file (plain or gzipped; ``track``/``browser``/``#`` lines skipped).

    Returns the regions table described in the module docstring, in file order.
    An empty file, fewer than 3 columns, non-integer coordinates or ``end <= start`` is
    an `InputError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"BED file {path} does not exist; check the path"
        raise InputError(msg)
    with reading(path, "BED file"):
        with path.open("rb") as fh:
            opener = gzip.open if fh.read(2) == b"\x1f\x8b" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            body = "".join(
                line
                for line in fh
                if line.strip() and not line.startswith(("#", "track", "browser"))
            )
    try:
        table = pd.read_csv(
            io.StringIO(body), sep="\t", header=None, dtype=str, keep_default_na=False
        )
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    except pd.errors.ParserError as exc:
        msg = f"BED file {path} is not tab-separated with a fixed number of columns: {exc}"
        raise InputError(msg.splitlines()[0]) from None
    if table.empty:
        msg = f"BED file {path} has no regions; give at least one 'chrom<TAB>start<TAB>end' line"
        raise InputError(msg)
    if table.shape[1] < 3:
        msg = f"BED file {path} has {table.shape[1]} column(s); BED needs chrom, start, end"
        raise InputError(msg)
    table = table.iloc[:, :6]
    table.columns = _BED_COLUMNS[: table.shape[1]]
    out = pd.DataFrame({"chrom": table["chrom"].astype(str)})
    for col in ("start", "end"):
        values = pd.to_numeric(table[col], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            msg = (
                f"BED file {path}, region {row + 1}: {col} {table[col].iloc[row]!r} is not a "
                "non-negative integer"
            )
            raise InputError(msg)
        out[col] = values.astype(np.int64).to_numpy()
    empty = out["end"] <= out["start"]
    if empty.any():
        row = int(np.flatnonzero(empty.to_numpy())[0])
        msg = (
            f"BED file {path}, region {row + 1}: end {out['end'].iloc[row]} is not after start "
            f"{out['start'].iloc[row]} (BED is 0-based half-open)"
        )
        raise InputError(msg)
    for col in ("name", "score", "strand"):
        if col in table.columns:
            out[col] = table[col].to_numpy()
    return out.reset_index(drop=True)


def read_peaks(path: str | os.PathLike) -> pd.DataFrame:
    """A BED file -> DataFrame ``chrom, start, end`` (start/end int64), file order."""
    table = read_bed(path)
    return table[["chrom", "start", "end"]].astype({"start": np.int64, "end": np.int64})


class RegionCheck:
    """What `check_regions` changed: regions clipped at contig ends, and whether it sorted."""

    def __init__(self, n_clipped: int, n_dropped: int, was_sorted: bool) -> None:
        self.n_clipped = n_clipped
        self.n_dropped = n_dropped
        self.was_sorted = was_sorted


def check_regions(
    regions: pd.DataFrame, lengths: Mapping[str, int], *, source: str = "regions"
) -> tuple[pd.DataFrame, RegionCheck]:
    """Map contig names onto the reference, clip at contig ends, sort.

    Returns ``(regions, check)``: the regions with reference contig names, ends clipped
    to the contig length (regions that start past the end are dropped), sorted by
    reference contig order then start. A contig the reference lacks is an `InputError`
    naming both spellings; regions that are all past contig ends are an `InputError`.
    """
    mapper = ContigMap(lengths, source=source)
    out = regions.copy()
    out["chrom"] = [mapper(c) for c in out["chrom"]]
    contig_len = out["chrom"].map(lengths).to_numpy(dtype=np.int64)
    past = out["start"].to_numpy() >= contig_len
    clipped = (~past) & (out["end"].to_numpy() > contig_len)
    out.loc[clipped, "end"] = contig_len[clipped]
    out = out[~past]
    if out.empty:
        msg = f"every region in {source} starts past the end of its contig; check the genome build"
        raise InputError(msg)
    order = {name: i for i, name in enumerate(lengths)}
    keys = list(zip(out["chrom"].map(order), out["start"], strict=True))
    was_sorted = keys == sorted(keys)
    out = (
        out.assign(_order=out["chrom"].map(order))
        .sort_values(["_order", "start", "end"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    return out, RegionCheck(int(clipped.sum()), int(past.sum()), was_sorted)


def require_within_contigs(
    regions: pd.DataFrame,
    lengths: Mapping[str, int],
    *,
    source: str,
    against: str,
    known_contigs: bool = False,
) -> None:
    """Raise `InputError` for the first region (columns chrom, start, end) that starts at
    or past the end of its contig in `lengths`. Contigs `lengths` lacks are skipped, or
    with `known_contigs` are an `InputError` too. `source` names the regions, `against`
    the file whose contig lengths are used, in the message."""
    if regions.empty:
        return
    names = ContigMap(lengths, source=source, target=against)
    for row, (chrom, start, end) in enumerate(
        zip(regions["chrom"], regions["start"], regions["end"], strict=True)
    ):
        name = names(str(chrom)) if known_contigs else names.get(str(chrom))
        if name is not None and int(start) >= lengths[name]:
            msg = (
                f"{source}, region {row + 1} ({chrom}:{int(start) + 1}-{int(end)}) lies past "
                f"the end of {name} ({lengths[name]:,} bp in {against}); check the genome build"
            )
            raise InputError(msg)


def merge_regions(regions: pd.DataFrame, *, flank: int = 0) -> pd.DataFrame:
    """Extend each region by `flank` on both sides (clipped at 0) and merge overlaps.

    Input must be sorted (as `check_regions` returns it). Returns columns chrom, start, end.
    """
    rows: list[tuple[str, int, int]] = []
    for chrom, group in regions.groupby("chrom", sort=False):
        starts = np.maximum(group["start"].to_numpy() - flank, 0)
        ends = group["end"].to_numpy() + flank
        cur_s, cur_e = int(starts[0]), int(ends[0])
        for s, e in zip(starts[1:], ends[1:], strict=True):
            if s <= cur_e:
                cur_e = max(cur_e, int(e))
            else:
                rows.append((str(chrom), cur_s, cur_e))
                cur_s, cur_e = int(s), int(e)
        rows.append((str(chrom), cur_s, cur_e))
    return pd.DataFrame(rows, columns=["chrom", "start", "end"])
