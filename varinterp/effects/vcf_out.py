"""Write effect scores into the INFO fields of a bgzipped, tabix-indexed VCF (cyvcf2).

Every record of the input VCF is copied; each score column ``c`` of the effect table
becomes an INFO field ``VI_c`` with ``Number=A`` (one value per ALT allele, in ALT
order; ``.`` for an ALT that was not scored: an indel longer than the limit, a
symbolic allele, a REF mismatch). Records with no scored ALT are copied unchanged. A
multi-task table (a ``task`` column, one row per variant and task) gives one field per
column and task, ``VI_<column>_<task>`` (characters other than letters, digits, ``_`` and
``.`` in the task name become ``_``). The output is written to a temporary file,
indexed, and renamed into place with its ``.tbi``. The header also gets
``##varinterp_version``, ``##varinterp_command``, ``##reference`` and
``##varinterp_model`` (`varinterp.provenance.vcf_header_lines`).

`write_table_vcf` writes a sites-only VCF from the effect table alone (for variants
that came as a list or as strings): one record per scored variant, sorted in the FASTA's
contig order, with the same INFO fields.
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
from varinterp.provenance import vcf_header_lines

__all__ = ["INFO_PREFIX", "write_annotated_vcf", "write_table_vcf"]

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
        # a family table with a gene column (GET) has one row per task and gene
        gene = f"_{row['gene']}" if "gene" in row else ""
        suffix = _task_key(f"{row['task']}{gene}")
        for k, v in row.items():
            if k not in _SKIP and k not in ("task", "gene"):
                current[f"{k}_{suffix}"] = v
    if current is not None:
        yield current


def _fields(table: Path) -> tuple[list[tuple[str, str]], bool]:
    """``[(INFO name without prefix, table column)]`` and whether `table` is multi-task.

    A family's table with a ``gene`` column (GET) has one row per task and gene: its
    numeric columns become one field per task and gene.
    """
    header = list(pd.read_csv(table, sep="\t", nrows=0).columns)
    multi = "task" in header
    base = [c for c in header if c not in _SKIP and c not in ("task", "gene")]
    if "gene" in header:
        sample = pd.read_csv(table, sep="\t", nrows=1000)
        base = [c for c in base if c in _TYPES or pd.api.types.is_numeric_dtype(sample[c])]
    fields = [(c, c) for c in base]
    if multi:
        cols = ["task", "gene"] if "gene" in header else ["task"]
        keys = pd.read_csv(table, sep="\t", usecols=cols, dtype=str).drop_duplicates()
        names = ["_".join(r) for r in keys.itertuples(index=False)]
        fields = [(f"{c}_{_task_key(t)}", c) for t in names for c in base]
    return fields, multi


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
    model: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Copy `vcf` to `out` (``.vcf.gz``) with the rows of effect table `table` as INFO fields.

    `table` must list the VCF's scored SNVs in VCF order (as `score_variants` writes it);
    `model` is the model directory that scored them (named in the header). Returns
    `out`; ``out + ".tbi"`` is its index.
    """
    import cyvcf2
    import pysam

    from varinterp.io.vcf import open_vcf_header

    out = Path(out)
    if not out.name.endswith(".vcf.gz"):
        msg = f"--vcf-out {out} must end in .vcf.gz (it is bgzipped and indexed)"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    fields, multi = _fields(Path(table))
    columns = [name for name, _ in fields]
    reader = open_vcf_header(vcf)
    for line in vcf_header_lines(reference=reference.path, model=model):
        reader.add_to_header(line)
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
                            _fmt(values[i].get(col, ".")) if i in values else "."
                            for i in range(len(alts))
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


def write_table_vcf(
    *,
    table: str | os.PathLike,
    out: str | os.PathLike,
    reference: Reference,
    model: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """A sites-only VCF (``.vcf.gz`` + ``.tbi``) of the effect table `table`: one record
    per scored variant (``ID`` from the table), sorted by FASTA contig order and
    position, scores as ``VI_*`` INFO fields. Returns `out`."""
    import pysam

    out = Path(out)
    if not out.name.endswith(".vcf.gz"):
        msg = f"VCF output {out} must end in .vcf.gz (it is bgzipped and indexed)"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    fields, multi = _fields(Path(table))
    order = {name: i for i, name in enumerate(reference.names)}
    rows = sorted(
        _variant_rows(Path(table), multi), key=lambda r: (order[r["chrom"]], int(r["pos"]))
    )
    lines = ["##fileformat=VCFv4.2", *vcf_header_lines(reference=reference.path, model=model)]
    lines += [f"##contig=<ID={n},length={n_bp}>" for n, n_bp in reference.lengths.items()]
    for name, col in fields:
        lines.append(
            f"##INFO=<ID={INFO_PREFIX}{name},Number=A,Type={_TYPES.get(col, 'Float')},"
            f'Description="varinterp score: {name} (see docs/scoring.md)">'
        )
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for r in rows:
        info = ";".join(f"{INFO_PREFIX}{name}={_fmt(r[name])}" for name, _ in fields)
        ident = str(r.get("id", ".") or ".")
        ident = "." if ident == "nan" else ident
        lines.append(
            f"{r['chrom']}\t{int(r['pos'])}\t{ident}\t{r['ref']}\t{r['alt']}\t.\t.\t{info}"
        )
    with atomic_path(out) as tmp:
        plain = Path(f"{tmp}.plain.vcf")
        plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
        pysam.tabix_compress(str(plain), str(tmp), force=True)
        plain.unlink()
        pysam.tabix_index(str(tmp), preset="vcf", force=True)
        Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    return out
