"""Reading GWAS summary statistics for fine-mapping.

A whitespace-separated table (gzip allowed) with one header line. Column names are matched
case-insensitively against common spellings:

=========  ==========================================================================
role       accepted names
=========  ==========================================================================
chrom      chrom, chr, #chrom, #chr, chromosome
pos        pos, bp, position, base_pair_location (1-based, as in VCF and PLINK .bim)
ref        ref, a2, other_allele, nea, allele0 (the non-effect allele)
alt        alt, a1, effect_allele, ea, allele1 (the allele the effect refers to)
id         snp, rsid, id, variant_id, variant, snpid, marker (optional)
z          z, zscore, z_score (or beta and se)
beta, se   beta, b / se, sebeta, standard_error
n          n, n_total, samplesize, neff (optional; ``--n`` overrides it)
=========  ==========================================================================

Either z or both beta and se are needed. Positions stay 1-based in the returned table
(column ``pos``); ``pos0`` holds the 0-based start used inside the library.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from varinterp.errors import InputError
from varinterp.io.readers import read_csv

__all__ = ["COLUMN_NAMES", "find_column", "parse_region", "read_sumstats"]

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "chrom": ("chrom", "chr", "#chrom", "#chr", "chromosome"),
    "pos": ("pos", "bp", "position", "base_pair_location"),
    "ref": ("ref", "a2", "other_allele", "nea", "allele0"),
    "alt": ("alt", "a1", "effect_allele", "ea", "allele1"),
    "id": ("snp", "rsid", "id", "variant_id", "variant", "snpid", "marker"),
    "z": ("z", "zscore", "z_score"),
    "beta": ("beta", "b"),
    "se": ("se", "sebeta", "standard_error"),
    "n": ("n", "n_total", "samplesize", "neff"),
}


def parse_region(region: str) -> tuple[str, int, int]:
    """``chr1:46000001-49000001`` (1-based, inclusive) -> (chrom, start0, end0) half-open."""
    try:
        chrom, rng = region.rsplit(":", 1)
        a, b = rng.replace(",", "").split("-")
        start, end = int(a), int(b)
    except ValueError:
        raise InputError(
            f"region {region!r} is not CHROM:START-END (1-based, e.g. chr1:46000001-49000001)"
        ) from None
    if start < 1 or end < start:
        raise InputError(f"region {region!r} has start < 1 or end < start")
    return chrom, start - 1, end


def find_column(columns: list[str], role: str, override: dict[str, str]) -> str | None:
    """The header name playing `role` (override first, then `COLUMN_NAMES`), or None."""
    if role in override:
        if override[role] not in columns:
            raise InputError(
                f"column {override[role]!r} given for {role} is not in the summary statistics "
                f"header ({', '.join(columns)})"
            )
        return override[role]
    lower = {c.lower(): c for c in columns}
    for name in COLUMN_NAMES[role]:
        if name in lower:
            return lower[name]
    return None


def read_sumstats(
    path: str | Path,
    *,
    region: str | None = None,
    columns: dict[str, str] | None = None,
    prior_weight_column: str | None = None,
) -> pd.DataFrame:
    """Read summary statistics into a table with standard columns, one row per variant.

    Returns columns ``chrom, pos, pos0, ref, alt, variant_id, z, p, beta, se, n`` and,
    with `prior_weight_column`, ``prior_weight`` (beta/se/n are NaN when absent). Rows
    outside `region` (``CHROM:START-END``, 1-based inclusive) are left out. `columns`
    maps a role (chrom, pos, ref, alt, id, z, beta, se, n) to a header name.
    """
    path = Path(path)
    df = read_csv(path, "summary statistics", sep=r"\s+", dtype=str, comment=None)
    cols = list(df.columns)
    override = dict(columns or {})
    found = {role: find_column(cols, role, override) for role in COLUMN_NAMES}
    missing = [r for r in ("chrom", "pos", "ref", "alt") if found[r] is None]
    if found["z"] is None and (found["beta"] is None or found["se"] is None):
        missing.append("z (or beta and se)")
    if missing:
        raise InputError(
            f"summary statistics {path} lack column(s) {', '.join(missing)}; header is "
            f"{' '.join(cols)}; rename them or map them with --columns role=NAME"
        )
    out = pd.DataFrame(
        {
            "chrom": df[found["chrom"]].astype(str),
            "ref": df[found["ref"]].str.upper(),
            "alt": df[found["alt"]].str.upper(),
        }
    )
    out["pos"] = _numeric(df[found["pos"]], "pos", path)
    if (out["pos"] < 1).any() or (out["pos"] % 1 != 0).any():
        raise InputError(f"summary statistics {path}: positions must be whole numbers >= 1")
    out["pos"] = out["pos"].astype(np.int64)
    out["pos0"] = out["pos"] - 1
    if found["id"] is not None:
        out["variant_id"] = df[found["id"]].astype(str)
    else:
        out["variant_id"] = out["chrom"] + ":" + out["pos"].astype(str) + ":" + out["ref"]
        out["variant_id"] += ":" + out["alt"]
    for role in ("beta", "se", "n"):
        out[role] = np.nan if found[role] is None else _numeric(df[found[role]], role, path)
    if found["z"] is not None:
        out["z"] = _numeric(df[found["z"]], "z", path)
    else:
        if (out["se"] <= 0).any():
            raise InputError(f"summary statistics {path}: se must be positive")
        out["z"] = out["beta"] / out["se"]
    if prior_weight_column is not None:
        if prior_weight_column not in cols:
            raise InputError(
                f"prior-weight column {prior_weight_column!r} is not in {path} "
                f"(header: {' '.join(cols)})"
            )
        out["prior_weight"] = _numeric(df[prior_weight_column], prior_weight_column, path)
        if (out["prior_weight"] < 0).any():
            raise InputError(f"prior weights in {path} must be non-negative")
    if region is not None:
        chrom, start0, end0 = parse_region(region)
        from varinterp.io.contigs import spellings

        names = set(spellings(chrom))
        keep = out["chrom"].isin(names) & (out["pos0"] >= start0) & (out["pos0"] < end0)
        out = out.loc[keep]
        if out.empty:
            raise InputError(f"no summary statistics in region {region} of {path}")
    bad = ~np.isfinite(out["z"].to_numpy())
    if bad.any():
        first = out.loc[bad, "variant_id"].iloc[0]
        raise InputError(
            f"{int(bad.sum())} variant(s) in {path} have a missing z (or beta/se), first "
            f"{first}; remove them"
        )
    key = out["chrom"] + ":" + out["pos"].astype(str) + ":" + out["ref"] + ":" + out["alt"]
    dup = key.duplicated()
    if dup.any():
        raise InputError(
            f"summary statistics {path} list {key[dup].iloc[0]} more than once; keep one row"
        )
    out["p"] = 2.0 * norm.sf(np.abs(out["z"].to_numpy()))
    order = [
        "chrom",
        "pos",
        "pos0",
        "ref",
        "alt",
        "variant_id",
        "z",
        "p",
        "beta",
        "se",
        "n",
    ]
    if prior_weight_column is not None:
        order.append("prior_weight")
    return out[order].reset_index(drop=True)


def _numeric(col: pd.Series, role: str, path: Path) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna() & ~col.isin(["NA", "nan", "NaN", "."])
    if bad.any():
        raise InputError(
            f"summary statistics {path}: column {col.name} ({role}) has non-numeric value "
            f"{col[bad].iloc[0]!r}"
        )
    return values.astype(np.float64)
