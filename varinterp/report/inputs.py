"""Readers for the inputs of a locus report (every one optional except fine-mapping).

* fine-mapping: the folder written by ``varinterp finemap`` (``variants.tsv``,
  ``credible_sets.tsv``, ``run.json``);
* cell-type-specific elements: ``elements.tsv`` of ``varinterp elements call`` (or its
  output folder), or a TSV listing ``cell_type`` and ``bed``;
* ABC links: a folder of ``<cell_type>.abc.tsv`` / ``.abc.bedpe`` files, or one such file;
* per-cell-type tracks: a TSV ``cell_type plus_bigwig minus_bigwig [color]``;
* variant effects: ``effects.tsv`` of ``varinterp score`` (``chrom pos ref alt log2fc ...``);
* LD: a correlation matrix with its variants table (as ``varinterp finemap`` reads);
* genes: BED6 with names and strands.

Positions of variants are 1-based (as written by ``finemap`` and ``score``); regions and
links are 0-based half-open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.readers import read_csv, read_json

__all__ = [
    "FinemapTables",
    "TrackSpec",
    "chrom_key",
    "read_abc",
    "read_effects",
    "read_elements",
    "read_finemap",
    "read_genes_bed",
    "read_ld",
    "read_tracks_table",
]


@dataclass(frozen=True)
class FinemapTables:
    folder: Path
    variants: pd.DataFrame
    credible_sets: pd.DataFrame
    info: dict


@dataclass(frozen=True)
class TrackSpec:
    cell_type: str
    plus: Path
    minus: Path | None
    color: str | None


def _read_tsv(path: Path, what: str) -> pd.DataFrame:
    return read_csv(path, what, sep="\t", dtype={"chrom": str}, comment=None)


def read_finemap(folder: str | os.PathLike) -> FinemapTables:
    """The tables of a ``varinterp finemap`` output folder."""
    folder = Path(folder)
    vpath = folder / "variants.tsv"
    if not vpath.is_file():
        msg = (
            f"fine-mapping folder {folder} has no variants.tsv; give the --out of varinterp finemap"
        )
        raise InputError(msg)
    variants = _read_tsv(vpath, "fine-mapping table")
    need = ["chrom", "pos", "ref", "alt", "variant_id", "z", "p", "pip", "cs95", "cs99"]
    missing = [c for c in need if c not in variants.columns]
    if missing:
        raise InputError(f"{vpath} lacks column(s) {', '.join(missing)}; rerun varinterp finemap")
    if variants.empty:
        raise InputError(f"{vpath} has no variants")
    cs_path = folder / "credible_sets.tsv"
    cs = _read_tsv(cs_path, "credible-set table") if cs_path.is_file() else pd.DataFrame()
    info_path = folder / "run.json"
    info = read_json(info_path, "fine-mapping run record") if info_path.is_file() else {}
    return FinemapTables(folder=folder, variants=variants, credible_sets=cs, info=info)


def read_tracks_table(path: str | os.PathLike) -> list[TrackSpec]:
    """Per-cell-type stranded bigWigs from the track table (`varinterp.io.tracks`):
    ``cell_type``, ``plus``, optional ``minus`` and ``color``; one panel row each. Each
    bigWig is opened once here, so an unreadable one stops the report before any work."""
    from varinterp.io.bigwig import BigWig
    from varinterp.io.tracks import read_track_table

    table = read_track_table(path, require=("cell_type", "plus"))
    for file in [*table["plus"], *table["minus"]]:
        if file:
            with BigWig(Path(file), what="bigWig"):
                pass
    return [
        TrackSpec(
            row.cell_type, Path(row.plus), Path(row.minus) if row.minus else None, row.color or None
        )
        for row in table.itertuples(index=False)
    ]


def read_elements(path: str | os.PathLike) -> pd.DataFrame:
    """Cell-type-specific regions -> ``chrom start end cell_type`` (0-based half-open)."""
    from varinterp.regulatory.enrichment import read_specific_regions

    path = Path(path)
    if path.is_dir():
        path = path / "elements.tsv"
    if not path.is_file():
        raise InputError(f"elements table {path} does not exist; give elements call's output")
    regions = read_specific_regions(path)
    frames = [df.assign(cell_type=ct) for ct, df in regions.items() if len(df)]
    if not frames:
        return pd.DataFrame(columns=["chrom", "start", "end", "cell_type"])
    out = pd.concat(frames, ignore_index=True)
    out["chrom"] = out["chrom"].astype(str)
    return out[["chrom", "start", "end", "cell_type"]]


def _abc_tsv(path: Path) -> pd.DataFrame:
    t = _read_tsv(path, "ABC table")
    need = ["chr", "start", "end", "TargetGene", "TargetGeneTSS", "ABC.Score"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise InputError(f"ABC table {path} lacks {', '.join(missing)}; give link abc's output")
    ct = t["CellType"] if "CellType" in t.columns else path.name.split(".abc.")[0]
    return pd.DataFrame(
        {
            "chrom": t["chr"].astype(str),
            "start": t["start"].astype(np.int64),
            "end": t["end"].astype(np.int64),
            "gene": t["TargetGene"].astype(str),
            "tss": t["TargetGeneTSS"].astype(np.int64),
            "score": t["ABC.Score"].astype(float),
            "cell_type": ct,
            "self_promoter": t.get("isSelfPromoter", False),
        }
    )


def _abc_bedpe(path: Path) -> pd.DataFrame:
    t = read_csv(path, "ABC BEDPE", sep="\t", header=None, comment="#", dtype={0: str, 3: str})
    if t.shape[1] < 8:
        raise InputError(f"ABC BEDPE {path} needs 8 columns (element, TSS, name, score)")
    return pd.DataFrame(
        {
            "chrom": t[0].astype(str),
            "start": t[1].astype(np.int64),
            "end": t[2].astype(np.int64),
            "gene": t[6].astype(str).str.split("|").str[0],
            "tss": t[4].astype(np.int64),
            "score": t[7].astype(float),
            "cell_type": path.name.split(".abc.")[0],
            "self_promoter": False,
        }
    )


def read_abc(path: str | os.PathLike) -> pd.DataFrame:
    """ABC links -> ``chrom start end gene tss score cell_type self_promoter``.

    `path` is ``link abc``'s output folder (``*.abc.tsv``, else ``*.abc.bedpe``), or one
    such file.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.abc.tsv")) or sorted(path.glob("*.abc.bedpe"))
        if not files:
            raise InputError(f"ABC folder {path} holds no *.abc.tsv or *.abc.bedpe files")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"ABC input {path} does not exist; give link abc's output folder")
    frames = [_abc_bedpe(f) if f.suffix == ".bedpe" else _abc_tsv(f) for f in files]
    out = pd.concat(frames, ignore_index=True)
    out["self_promoter"] = out["self_promoter"].astype(str).str.lower().isin(["true", "1"])
    return out


def _effects_from_vcf(path: Path) -> pd.DataFrame:
    """The ``VI_log2fc`` / ``VI_profile_l2`` INFO fields (per task too) of a scored VCF."""
    import cyvcf2

    rows = []
    reader = cyvcf2.VCF(str(path))
    try:
        keys = [
            h["ID"]
            for h in reader.header_iter()
            if h["HeaderType"] == "INFO" and h["ID"].startswith(("VI_log2fc", "VI_profile_l2"))
        ]
        for rec in reader:
            for i, alt in enumerate(rec.ALT):
                row = {"chrom": rec.CHROM, "pos": rec.POS, "ref": rec.REF, "alt": alt}
                for key in keys:
                    value = rec.INFO.get(key)
                    values = value if isinstance(value, tuple) else (value,)
                    v = values[i] if i < len(values) else None
                    column = "log2fc" if key.startswith("VI_log2fc") else "profile_l2"
                    if v is not None and v == v:
                        row.setdefault(f"_{column}", []).append(float(v))
                if "_log2fc" in row:
                    fc = row.pop("_log2fc")
                    row["log2fc"] = max(fc, key=abs)
                    if "_profile_l2" in row:
                        row["profile_l2"] = max(row.pop("_profile_l2"))
                    rows.append(row)
    finally:
        reader.close()
    return pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "log2fc", "profile_l2"])


def read_effects(path: str | os.PathLike) -> pd.DataFrame:
    """Variant effect scores -> one row per variant (``chrom pos ref alt log2fc
    [profile_l2]``); with several scorers or tasks the row with the largest ``|log2fc|`` is
    kept. `path` is any output of ``varinterp score``: a TSV, a scored VCF (``VI_*`` INFO
    fields) or Parquet."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"effects table {path} does not exist; give varinterp score's output")
    name = path.name.lower()
    if name.endswith((".vcf.gz", ".vcf", ".bcf")):
        t = _effects_from_vcf(path)
    elif name.endswith((".parquet", ".pq")):
        t = pd.read_parquet(path)
    else:
        t = _read_tsv(path, "effects table")
    need = ["chrom", "pos", "ref", "alt", "log2fc"]
    missing = [c for c in need if c not in t.columns]
    if missing:
        raise InputError(f"effects table {path} lacks {', '.join(missing)}")
    keep = [c for c in (*need, "profile_l2") if c in t.columns]
    t = t[keep].copy()
    t["chrom"] = t["chrom"].astype(str)
    t["_abs"] = t["log2fc"].abs()
    t = t.sort_values("_abs", ascending=False, kind="stable")
    t = t.drop_duplicates(["chrom", "pos", "ref", "alt"]).drop(columns="_abs")
    return t.reset_index(drop=True)


def read_ld(
    *,
    plink: str | os.PathLike | None = None,
    matrix: str | os.PathLike | None = None,
    variants: str | os.PathLike | None = None,
):
    """An LD panel (PLINK genotypes, or a matrix with its variants table) with
    ``.variants`` (``chrom pos ref alt variant_id``) and ``.matrix(idx) -> (R, ok)``."""
    from varinterp.finemap.ld import open_ld

    return open_ld(plink=plink, matrix=matrix, variants=variants)


def read_genes_bed(path: str | os.PathLike) -> pd.DataFrame:
    """Genes from BED6 -> ``chrom start end name strand tss``."""
    from varinterp.regulatory.abc_run import read_genes

    return read_genes(path)[["chrom", "start", "end", "name", "strand", "tss"]]


def chrom_key(name: str) -> str:
    """A contig name without its ``chr`` prefix (``chr1`` and ``1`` give the same key)."""
    name = str(name)
    return name[3:] if name.lower().startswith("chr") else name
