"""LD reference panels: a correlation matrix file, or PLINK genotypes.

A panel is a table of variants (``chrom, pos, ref, alt, variant_id``; ``pos`` 1-based)
and a way to get the correlation matrix of any subset of them. Correlations are between
*alt*-allele dosages:

* PLINK 1 binary genotypes (``PREFIX.bed/.bim/.fam``, read with ``bed-reader``): the
  counted allele is the ``.bim`` file's 5th column (PLINK's A1), which is taken as ``alt``;
  the 6th column is ``ref``. Missing genotypes are replaced by the variant's mean dosage.
  Variants with no variation in the panel have no correlation and are reported.
* A matrix file (``.npy``, ``.npz`` holding one array or one named ``R``, or whitespace-
  separated text, gzip allowed) with a variants table of the same order (a header with
  chrom, pos, ref, alt and optionally id, same names as for summary statistics).

`check_ld` checks that a matrix is a correlation matrix and positive semi-definite; a
matrix that is not PSD is refused, or with ``fix="regularise"`` shrunk toward the
identity, ``(1-s) R + s I`` with the smallest ``s`` that makes it PSD.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.finemap.sumstats import COLUMN_NAMES, find_column
from varinterp.io.readers import npy_problem, read_csv

__all__ = ["LdCheck", "MatrixLd", "PlinkLd", "check_ld", "open_ld"]


class PlinkLd:
    """LD computed on demand from PLINK 1 genotypes ``PREFIX.bed/.bim/.fam``."""

    def __init__(self, prefix: str | Path) -> None:
        prefix = Path(prefix)
        if prefix.suffix == ".bed":
            prefix = prefix.with_suffix("")
        for ext in (".bed", ".bim", ".fam"):
            f = Path(f"{prefix}{ext}")
            if not f.is_file():
                raise InputError(
                    f"PLINK file {f} does not exist; give the prefix of .bed/.bim/.fam"
                )
        from bed_reader import open_bed

        self.path = Path(f"{prefix}.bed")
        try:
            self._bed = open_bed(self.path, count_A1=True)
            chrom = np.asarray(self._bed.chromosome).astype(str)
            pos = np.asarray(self._bed.bp_position).astype(np.int64)
            a1 = np.char.upper(np.asarray(self._bed.allele_1).astype(str))
            a2 = np.char.upper(np.asarray(self._bed.allele_2).astype(str))
            sid = np.asarray(self._bed.sid).astype(str)
        except Exception as exc:  # bed-reader raises several kinds on malformed files
            raise InputError(f"cannot read PLINK genotypes {self.path}: {exc}") from None
        self.variants = pd.DataFrame(
            {"chrom": chrom, "pos": pos, "ref": a2, "alt": a1, "variant_id": sid}
        )

    def matrix(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (R (k, k) float64, polymorphic (k,) bool) for panel rows `idx` (k,).

        Rows and columns of variants with no variation are 0 off the diagonal.
        """
        idx = np.asarray(idx, dtype=np.int64)
        order = np.argsort(idx)
        g = self._bed.read(index=np.s_[:, idx[order]], dtype="float64")
        x = np.empty_like(g)
        x[:, order] = g
        mean = np.nanmean(x, axis=0)
        mean = np.where(np.isnan(mean), 0.0, mean)
        x = np.where(np.isnan(x), mean[None, :], x) - mean[None, :]
        sd = np.sqrt(np.mean(x**2, axis=0))
        poly = sd > 1e-12
        x[:, poly] /= sd[poly]
        x[:, ~poly] = 0.0
        R = (x.T @ x) / x.shape[0]
        np.fill_diagonal(R, 1.0)
        return np.clip(R, -1.0, 1.0), poly


class MatrixLd:
    """A precomputed LD matrix with a variants table in the same order."""

    def __init__(self, matrix: str | Path, variants: str | Path) -> None:
        matrix, variants = Path(matrix), Path(variants)
        for f, what in ((matrix, "LD matrix"), (variants, "LD variants table")):
            if not f.is_file():
                raise InputError(f"{what} {f} does not exist; check the path")
        tab = read_csv(variants, "LD variants table", sep=r"\s+", dtype=str)
        cols = list(tab.columns)
        found = {r: find_column(cols, r, {}) for r in ("chrom", "pos", "ref", "alt", "id")}
        missing = [r for r in ("chrom", "pos", "ref", "alt") if found[r] is None]
        if missing:
            raise InputError(
                f"LD variants table {variants} lacks column(s) {', '.join(missing)}; "
                f"header is {' '.join(cols)}; expected e.g. {COLUMN_NAMES['chrom'][0]} pos ref alt"
            )
        pos = pd.to_numeric(tab[found["pos"]], errors="coerce")
        if pos.isna().any():
            raise InputError(f"LD variants table {variants} has non-numeric positions")
        self.variants = pd.DataFrame(
            {
                "chrom": tab[found["chrom"]].astype(str).to_numpy(),
                "pos": pos.astype(np.int64).to_numpy(),
                "ref": tab[found["ref"]].str.upper().to_numpy(),
                "alt": tab[found["alt"]].str.upper().to_numpy(),
            }
        )
        if found["id"] is not None:
            self.variants["variant_id"] = tab[found["id"]].astype(str).to_numpy()
        else:
            v = self.variants
            self.variants["variant_id"] = (
                v["chrom"] + ":" + v["pos"].astype(str) + ":" + v["ref"] + ":" + v["alt"]
            )
        self.path = matrix
        self._R = _load_matrix(matrix)
        p = len(self.variants)
        if self._R.shape != (p, p):
            raise InputError(
                f"LD matrix {matrix} is {self._R.shape[0]} x {self._R.shape[1]} but its "
                f"variants table {variants} lists {p} variants; they must match row for row"
            )

    def matrix(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """-> (R (k, k) float64, polymorphic (k,) bool) for panel rows `idx` (k,)."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.shape[0] == self._R.shape[0] and np.array_equal(idx, np.arange(idx.shape[0])):
            R = self._R  # the whole matrix in order: no copy (callers do not modify it)
        else:
            R = self._R[np.ix_(idx, idx)]
        return R, np.ones(idx.shape[0], dtype=bool)


def _load_matrix(path: Path) -> np.ndarray:
    name = path.name.lower()
    try:
        if name.endswith(".npy"):
            R = np.load(path, allow_pickle=False)
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = "R" if "R" in keys else keys[0] if len(keys) == 1 else None
                if key is None:
                    raise InputError(f"LD matrix {path} holds {keys}; name the matrix 'R'")
                R = z[key]
        else:
            R = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except InputError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        msg = (
            f"cannot read LD matrix {path} ({npy_problem(exc)}); give a numeric .npy, .npz or "
            "text matrix"
        )
        raise InputError(msg) from None
    R = np.asarray(R, dtype=np.float64)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise InputError(f"LD matrix {path} must be square, got shape {R.shape}")
    return R


def open_ld(
    *, plink: str | Path | None = None, matrix: str | Path | None = None, variants=None
) -> PlinkLd | MatrixLd:
    """Open an LD panel: PLINK genotypes, or a matrix file with its variants table."""
    if (plink is None) == (matrix is None):
        raise InputError("give exactly one LD source: PLINK genotypes or an LD matrix file")
    if plink is not None:
        return PlinkLd(plink)
    if variants is None:
        raise InputError("an LD matrix needs its variants table (--ld-variants)")
    return MatrixLd(matrix, variants)


@dataclass(frozen=True)
class LdCheck:
    """What `check_ld` found: smallest eigenvalue, and the shrinkage applied (0 if none)."""

    min_eigenvalue: float
    shrinkage: float


def check_ld(
    R: np.ndarray, *, fix: str = "refuse", tol: float = 1e-6, source: str = "LD matrix"
) -> tuple[np.ndarray, LdCheck]:
    """Check that `R` (p, p) is a PSD correlation matrix; -> (R to use (p, p), LdCheck).

    `fix` is ``"refuse"`` (raise `InputError` when an eigenvalue is below ``-tol``) or
    ``"regularise"`` (shrink toward the identity just enough to make it PSD).
    """
    if fix not in ("refuse", "regularise"):
        raise InputError(f"LD fix must be 'refuse' or 'regularise', got {fix!r}")
    if not np.all(np.isfinite(R)):
        raise InputError(f"{source} contains NaN or infinite values; recompute it")
    if np.max(np.abs(R - R.T), initial=0.0) > 1e-6:
        raise InputError(f"{source} is not symmetric; it must be a correlation matrix")
    if np.max(np.abs(np.diag(R) - 1.0), initial=0.0) > 1e-6:
        raise InputError(f"{source} has diagonal values other than 1; give correlations")
    if np.max(np.abs(R), initial=0.0) > 1.0 + 1e-6:
        raise InputError(f"{source} has |r| > 1; give correlations, not covariances")
    R = 0.5 * (R + R.T)
    p = R.shape[0]
    try:
        np.linalg.cholesky(R + (tol + 1e-10) * np.eye(p))
        return R, LdCheck(min_eigenvalue=float("nan"), shrinkage=0.0)
    except np.linalg.LinAlgError:
        pass
    lam = float(np.linalg.eigvalsh(R)[0])
    if lam >= -tol:
        return R, LdCheck(min_eigenvalue=lam, shrinkage=0.0)
    if fix == "refuse":
        raise InputError(
            f"{source} is not positive semi-definite (smallest eigenvalue {lam:.3g}); it may "
            "come from another panel or mixed samples: recompute it, or pass --ld-fix "
            "regularise to shrink it toward the identity"
        )
    s = min(1.0, -lam / (1.0 - lam) * (1.0 + 1e-6) + 1e-12)
    R = (1.0 - s) * R + s * np.eye(p)
    return R, LdCheck(min_eigenvalue=lam, shrinkage=s)
