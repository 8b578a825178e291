"""Write effect scores into the INFO fields of a bgzipped, tabix-indexed VCF (cyvcf2).

Every record of the input VCF is copied; each score column ``c`` of the effect table
becomes an INFO field ``VI_c`` with ``Number=A`` (one value per ALT allele, in ALT
order; ``.`` for an ALT that was not scored: an indel longer than the limit, a
symbolic allele, a REF mismatch). Records with no scored ALT are copied unchanged. A
multi-task table (a ``task`` column, one row per variant and task) gives one field per
column and task, ``VI_<column>_<task>`` (characters other than letters, digits, ``_`` and
``.`` in the task name become ``_``). The output is written to a temporary file,
indexed, and renamed into place with its ``.tbi``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path
from varinterp.io.fasta import Reference

__all__ = ["INFO_PREFIX", "write_annotated_vcf"]

INFO_PREFIX = "VI_"
_TYPES = {"scorer": "String", "flags": "String", "tss_shift": "Integer", "tss_strand": "Integer"}
_SKIP = {"chrom", "pos", "id", "ref", "alt", "ilen"}


def _task_key(task: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.]", "_", str(task))


def _rows(table: Path) -> Iterator[dict]:
    dtypes = {"chrom": str, "id": str, "task": str}
    for part in pd.read_csv(table, sep="\t", chunksize=65536, dtype=dtypes):
        yield from part.to_dict("records")


def _variant_rows(table: Path, multi_task: bool) -> Iterator[dict]:
    """One dict per scored ALT; a multi-task table's rows of one ALT merged, with keys
    ``<column>_<task>``."""
    if not multi_task:
        yield from _rows(table)
        return
    current: dict | None = None
    for row in _rows(table):
        key = (row["chrom"], row["pos"], row["ref"], row["alt"])
        if current is None or current["_key"] != key:
            if current is not None:
                yield current
            current = {k: row[k] for k in ("chrom", "pos", "ref", "alt")} | {"_key": key}
        suffix = _task_key(row["task"])
        for k, v in row.items():
            if k not in _SKIP and k != "task":
                current[f"{k}_{suffix}"] = v
    if current is not None:
        yield current


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "." if math.isnan(value) else f"{value:.6g}"
    return str(value)


def write_annotated_vcf(
    *,
    vcf: str | os.PathLike,
    table: str | os.PathLike,
    out: str | os.PathLike,
    reference: Reference,
    overwrite: bool = False,
) -> Path:
    """Copy `vcf` to `out` (``.vcf.gz``) with the rows of effect table `table` as INFO fields.

    `table` must list the VCF's scored SNVs in VCF order (as `score_variants` writes it).
    Returns `out`; ``out + ".tbi"`` is its index.
    """
    import cyvcf2
    import pysam

    out = Path(out)
    if not out.name.endswith(".vcf.gz"):
        msg = f"--vcf-out {out} must end in .vcf.gz (it is bgzipped and indexed)"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    header = list(pd.read_csv(table, sep="\t", nrows=0).columns)
    multi = "task" in header
    base = [c for c in header if c not in _SKIP and c != "task"]
    fields = [(c, c) for c in base]
    if multi:
        tasks = pd.read_csv(table, sep="\t", usecols=["task"], dtype=str)["task"].unique()
        fields = [(f"{c}_{_task_key(t)}", c) for t in tasks for c in base]
    columns = [name for name, _ in fields]
    reader = cyvcf2.VCF(str(vcf))
    for name, col in fields:
        reader.add_info_to_header(
            {
                "ID": INFO_PREFIX + name,
                "Number": "A",
                "Type": _TYPES.get(col, "Float"),
                "Description": f"varinterp score: {name} (see docs/scoring.md)",
            }
        )
    names = reference.contig_map(f"VCF {Path(vcf).name}")
    rows = _variant_rows(Path(table), multi)
    pending = next(rows, None)
    with atomic_path(out) as tmp:
        writer = cyvcf2.Writer(str(tmp), reader, mode="wz")
        try:
            for rec in reader:
                alts = [a.upper() for a in rec.ALT]
                chrom = names.get(rec.CHROM)
                values: dict[int, dict] = {}
                while (
                    pending is not None
                    and pending["chrom"] == chrom
                    and int(pending["pos"]) == rec.POS
                    and pending["ref"] == rec.REF.upper()
                    and pending["alt"] in alts
                    and alts.index(pending["alt"]) not in values
                ):
                    values[alts.index(pending["alt"])] = pending
                    pending = next(rows, None)
                if values:
                    for col in columns:
                        vals = [
                            _fmt(values[i][col]) if i in values else "." for i in range(len(alts))
                        ]
                        rec.INFO[INFO_PREFIX + col] = ",".join(vals)
                writer.write_record(rec)
        finally:
            writer.close()
            reader.close()
        if pending is not None:
            msg = (
                f"effect table {table} has rows not in VCF order (first unmatched "
                f"{pending['chrom']}:{pending['pos']}); rescore from the same VCF"
            )
            raise InputError(msg)
        pysam.tabix_index(str(tmp), preset="vcf", force=True)
        Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    return out
