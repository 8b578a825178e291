"""Inputs of the QTL benchmark: the QTL list, its variants in the store, library totals.

**QTL list.** A text or tab-separated file, one QTL per line; ``#`` starts a comment.
Either a single column without header, or a table whose header names a ``qtl`` column
(``variant`` and ``id`` are accepted too; other columns are kept in the output). A QTL
is written as

- an ID from the VCF the store was built from (``rs4950928``; any ID that is not of the
  ``chrom:pos`` form below), or
- ``chrom:pos`` with a **1-based** position (VCF style, ``chr1:203186754``), or
- ``chrom:pos:ref:alt`` to pick one of several variants at a position.

Each QTL is matched to one biallelic SNV of the genome store. A QTL that matches no
stored variant is reported as ``not_in_store``; one that matches several (a
multiallelic site split into records, or a repeated ID) as ``multiallelic``; a QTL
listed twice is scored once (``duplicate``). Those rows stay in the output table with
their status and are left out of the correlation.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.datasets.samplesheet import Library
from varinterp.errors import InputError
from varinterp.genome.store import GenomeStore
from varinterp.io.bigwig import BigWig

__all__ = ["QTL_COLUMNS", "QtlTable", "library_totals", "read_qtl_list", "resolve_qtls"]

QTL_COLUMNS = ("qtl", "variant", "id")
_POS_RE = re.compile(
    r"^(?P<chrom>[^:\s]+):(?P<pos>\d+)(?::(?P<ref>[ACGTacgt]):(?P<alt>[ACGTacgt]))?$"
)


@dataclass
class QtlTable:
    """QTLs matched to the store: one row per listed QTL (see `resolve_qtls`)."""

    table: pd.DataFrame

    @property
    def ok(self) -> pd.DataFrame:
        return self.table[self.table["status"] == "ok"]


def read_qtl_list(path: str | os.PathLike) -> pd.DataFrame:
    """Read a QTL list (module docstring) -> a table with a ``qtl`` column (strings) first."""
    path = Path(path)
    if not path.is_file():
        msg = f"QTL list {path} does not exist; check the path"
        raise InputError(msg)
    lines = [
        ln.rstrip("\n")
        for ln in path.read_text(encoding="utf-8", errors="replace").splitlines()
        if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if not lines:
        msg = f"QTL list {path} lists no QTLs; write one rsID or chrom:pos per line"
        raise InputError(msg)
    header = [h.strip() for h in lines[0].split("\t")]
    col = next((c for c in QTL_COLUMNS if c in header), None)
    if col is None and len(header) == 1:
        table = pd.DataFrame({"qtl": [ln.strip() for ln in lines]})
    else:
        if col is None:
            msg = (
                f"QTL list {path}: the first line {lines[0][:60]!r} has several columns but "
                f"none is named {' / '.join(QTL_COLUMNS)}; add a header naming the QTL column"
            )
            raise InputError(msg)
        rows = [ln.split("\t") for ln in lines[1:]]
        width = len(header)
        rows = [(r + [""] * width)[:width] for r in rows]
        table = pd.DataFrame(rows, columns=header).rename(columns={col: "qtl"})
        table = table[["qtl"] + [c for c in table.columns if c != "qtl"]]
        table["qtl"] = table["qtl"].str.strip()
        if table.empty:
            msg = f"QTL list {path} has a header but no QTL rows"
            raise InputError(msg)
    bad = [q for q in table["qtl"] if not q]
    if bad:
        msg = f"QTL list {path} has {len(bad)} empty QTL field(s); remove those lines"
        raise InputError(msg)
    return table.reset_index(drop=True)


def resolve_qtls(store: GenomeStore, qtls: pd.DataFrame) -> QtlTable:
    """Match each row's ``qtl`` to stored SNVs.

    Adds ``status`` (``ok``, ``not_in_store``, ``multiallelic``, ``duplicate``),
    ``chrom``, ``pos0`` (0-based), ``ref``, ``alt`` and ``variant_index`` (store index,
    -1 when not ``ok``).
    """
    specs = qtls["qtl"].astype(str).tolist()
    wanted_ids = {s for s in specs if not _POS_RE.match(s)}
    by_id: dict[str, list[int]] = {}
    if wanted_ids:
        for i, vid in enumerate(store.variant_ids()):
            if vid in wanted_ids:
                by_id.setdefault(vid, []).append(i)
    contig_of = {c.name: c for c in store.contigs}
    matches: list[list[int]] = []
    for s in specs:
        m = _POS_RE.match(s)
        if m is None:
            matches.append(by_id.get(s, []))
            continue
        try:
            name = store.contig_name(m["chrom"])
        except InputError:
            matches.append([])
            continue
        c = contig_of[name]
        pos = np.asarray(store.positions[c.var_start : c.var_end])
        pos0 = int(m["pos"]) - 1
        lo, hi = np.searchsorted(pos, [pos0, pos0 + 1])
        hits = list(range(c.var_start + int(lo), c.var_start + int(hi)))
        if m["ref"] is not None and hits:
            want = (m["ref"].upper(), m["alt"].upper())
            refs, alts = store.alleles_of(hits)
            hits = [h for h, r, a in zip(hits, refs, alts, strict=True) if (r, a) == want]
        matches.append(hits)
    starts = np.array([c.var_start for c in store.contigs], dtype=np.int64)
    status, index = [], []
    seen: set[int] = set()
    for hits in matches:
        if not hits:
            status.append("not_in_store")
            index.append(-1)
        elif len(hits) > 1:
            status.append("multiallelic")
            index.append(-1)
        elif hits[0] in seen:
            status.append("duplicate")
            index.append(hits[0])
        else:
            seen.add(hits[0])
            status.append("ok")
            index.append(hits[0])
    out = qtls.copy()
    idx = np.array(index, dtype=np.int64)
    valid = idx >= 0
    contig_i = np.searchsorted(starts, np.where(valid, idx, 0), side="right") - 1
    out["status"] = status
    out["chrom"] = [
        store.contigs[int(k)].name if v else "" for k, v in zip(contig_i, valid, strict=True)
    ]
    out["pos0"] = np.where(valid, np.asarray(store.positions)[np.where(valid, idx, 0)], -1)
    refs, alts = store.alleles_of(idx[valid]) if valid.any() else ([], [])
    ref_of = dict(zip(idx[valid].tolist(), refs, strict=True))
    alt_of = dict(zip(idx[valid].tolist(), alts, strict=True))
    out["ref"] = [ref_of[int(i)] if v else "" for i, v in zip(idx, valid, strict=True)]
    out["alt"] = [alt_of[int(i)] if v else "" for i, v in zip(idx, valid, strict=True)]
    out["variant_index"] = np.where(np.array(status) == "ok", idx, -1)
    return QtlTable(out)


def library_totals(sheet: str | os.PathLike, libraries: list[Library]) -> np.ndarray:
    """Reads per library for RPM -> ``(n_libraries,) float64``.

    The track table's ``depth`` column (formerly ``total``) wins; otherwise the sum of
    |signal| of the plus and minus bigWigs. A library with no signal is an `InputError`.
    """
    from varinterp.io.tracks import read_track_table

    table = read_track_table(sheet, require=("library", "sample", "plus"), what="track table")
    given = dict(zip(table["library"].str.strip(), table["depth"], strict=True))
    out = np.zeros(len(libraries), dtype=np.float64)
    for i, lib in enumerate(libraries):
        depth = given.get(lib.name, np.nan)
        if np.isfinite(depth):
            out[i] = depth
        else:
            for path in (lib.plus, lib.minus):
                with BigWig(path, absolute=True) as bw:
                    out[i] += bw.total()
        if not np.isfinite(out[i]) or out[i] <= 0:
            msg = (
                f"library {lib.name}: total {out[i]:g} reads, so RPM is undefined; give a "
                "positive total or drop the library from the sample sheet"
            )
            raise InputError(msg)
    return out
