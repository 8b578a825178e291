"""ABC contact: the power law, Hi-C scaling and pseudocount, and Hi-C readers.

Power law (ABC defaults, fitted on Hi-C at 5 kb): ``C(d) = exp(scale - gamma * ln(max(d,
5000) + 1))`` with gamma 1.024238616787792 and scale 5.9594510043736655. The reference
power law uses gamma 0.87 and scale ``-4.80 + 11.63 * gamma_ref``. Hi-C contact is scaled
by ``C_ref(d) / C(d)`` and a pseudocount ``min(C(d), C(5 kb))`` is added.

Hi-C inputs:

- ``.cool`` / ``.mcool::/resolutions/<bp>`` through `cooler` (balanced values); the
  matrix is divided by its mean row sum (as ABC does for .hic, to imitate a doubly
  stochastic matrix) and each diagonal bin takes the larger of its two neighbours;
- a BEDPE contact table ``chr1 x1 x2 chr2 y1 y2 contact`` (tab-separated, no header,
  ``#`` comments allowed), used as given; anchors must not overlap each other.

``.hic`` files are not read (no installable reader here); convert them with
``hic2cool`` and pass the .cool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.readers import read_csv

__all__ = [
    "GAMMA",
    "GAMMA_REFERENCE",
    "SCALE",
    "ContactTable",
    "load_bedpe_contacts",
    "load_cool_contacts",
    "open_contacts",
    "powerlaw",
    "reference_scale",
]

GAMMA = 1.024238616787792
SCALE = 5.9594510043736655
GAMMA_REFERENCE = 0.87


def reference_scale(gamma_reference: float) -> float:
    """Scale of the reference power law for `gamma_reference` (``-4.80 + 11.63 * gamma``)."""
    return -4.80 + 11.63 * gamma_reference


def powerlaw(
    distance: np.ndarray | float, *, gamma: float, scale: float, min_distance: float = 5000
) -> np.ndarray:
    """Power-law contact at `distance` (clipped below at `min_distance`) -> float64 array."""
    if not (gamma > 0 and scale > 0):
        msg = f"power-law gamma ({gamma}) and scale ({scale}) must both be positive"
        raise InputError(msg)
    d = np.clip(np.asarray(distance, dtype=np.float64), min_distance, None)
    return np.exp(scale - gamma * np.log(d + 1.0))


@dataclass
class ContactTable:
    """Contacts of one chromosome, looked up from two positions.

    ``anchors_start``/``anchors_end`` (``(K,) int64``) are sorted, non-overlapping anchor
    intervals; ``keys`` (``(m,) int64``, sorted) encode anchor pairs ``i <= j`` as
    ``i * K + j``, and ``values`` (``(m,) float64``) hold their contacts.
    """

    anchors_start: np.ndarray
    anchors_end: np.ndarray
    keys: np.ndarray
    values: np.ndarray

    @classmethod
    def from_pairs(
        cls, starts: np.ndarray, ends: np.ndarray, i: np.ndarray, j: np.ndarray, v: np.ndarray
    ) -> ContactTable:
        """Build from anchor indices; a repeated pair keeps its last value."""
        k = len(starts)
        lo, hi = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
        keys = lo * k + hi
        uniq, last = np.unique(keys[::-1], return_index=True)
        vals = np.asarray(v, dtype=np.float64)[::-1][last]
        return cls(np.asarray(starts), np.asarray(ends), uniq, vals)

    def _anchor(self, pos: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.anchors_start, pos, side="right") - 1
        safe = np.clip(idx, 0, None)
        ok = (idx >= 0) & (pos < self.anchors_end[safe])
        return np.where(ok, idx, -1)

    def lookup(self, pos_a: np.ndarray, pos_b: np.ndarray) -> np.ndarray:
        """Contact between positions -> ``(n,) float64``; NaN where no value is stored."""
        out = np.full(np.shape(pos_a), np.nan)
        if len(self.anchors_start) == 0 or len(self.keys) == 0:
            return out
        a = self._anchor(np.asarray(pos_a, dtype=np.float64))
        b = self._anchor(np.asarray(pos_b, dtype=np.float64))
        ok = (a >= 0) & (b >= 0)
        key = np.minimum(a, b) * len(self.anchors_start) + np.maximum(a, b)
        idx = np.clip(np.searchsorted(self.keys, key), 0, len(self.keys) - 1)
        found = ok & (self.keys[idx] == key)
        out[found] = self.values[idx[found]]
        return out


class _Contacts:
    """Per-chromosome contact tables from one source, built on demand."""

    def __init__(self, loader, *, kind: str) -> None:
        self._loader = loader
        self._cache: dict[str, ContactTable | None] = {}
        self.kind = kind

    def table(self, chrom: str) -> ContactTable | None:
        if chrom not in self._cache:
            self._cache[chrom] = self._loader(chrom)
        return self._cache[chrom]


def load_cool_contacts(
    uri: str, chrom: str, *, resolution: int, window: int, balance: bool = True
) -> ContactTable | None:
    """Contacts of `chrom` from a cooler URI, normalised as described in the module docstring.

    Returns None when the cooler lacks the chromosome (every pair then gets no Hi-C).
    """
    import cooler

    try:
        clr = cooler.Cooler(uri)
    except Exception as exc:  # cooler raises several types for unreadable files
        msg = f"cannot open Hi-C {uri} as a cooler ({exc}); for .mcool give FILE::/resolutions/N"
        raise InputError(msg) from None
    if clr.binsize != resolution:
        msg = (
            f"Hi-C {uri} has {clr.binsize} bp bins but --hic-resolution is {resolution}; "
            "pick the matching resolution (.mcool::/resolutions/N)"
        )
        raise InputError(msg)
    from varinterp.io.contigs import ContigMap

    name = ContigMap(clr.chromnames, source="", target=f"Hi-C {uri}").get(chrom)
    if name is None:
        return None
    offset = int(clr.offset(name))
    pixels = clr.matrix(balance=balance, as_pixels=True, join=False).fetch(name)
    col = "balanced" if balance else "count"
    pixels = pixels.dropna(subset=[col])
    b1 = pixels["bin1_id"].to_numpy(np.int64) - offset
    b2 = pixels["bin2_id"].to_numpy(np.int64) - offset
    v = pixels[col].to_numpy(np.float64)
    # row sums over the whole chromosome (each off-diagonal pixel counts for both bins)
    n = int(clr.extent(name)[1] - offset)
    sums = np.bincount(b1, weights=v, minlength=n) + np.bincount(
        b2, weights=np.where(b1 != b2, v, 0.0), minlength=n
    )
    nonzero = sums[sums > 0]
    if nonzero.size == 0:
        return None
    v = v / nonzero.mean()
    keep = np.abs(b2 - b1) <= window // resolution
    b1, b2, v = b1[keep], b2[keep], v[keep]
    # each diagonal bin takes the larger of its two neighbours (b-1, b) and (b, b+1)
    neighbour = {
        (int(i), int(j)): float(x) for i, j, x in zip(b1, b2, v, strict=True) if j == i + 1
    }
    diag = np.flatnonzero(b1 == b2)
    for k in diag:
        b = int(b1[k])
        v[k] = max(neighbour.get((b - 1, b), 0.0), neighbour.get((b, b + 1), 0.0))
    starts = np.arange(n, dtype=np.int64) * resolution
    return ContactTable.from_pairs(starts, starts + resolution, b1, b2, v)


def load_bedpe_contacts(path: str | os.PathLike) -> dict[str, ContactTable]:
    """Read a BEDPE contact table -> per-chromosome `ContactTable` (intra-chromosomal rows)."""
    path = Path(path)
    raw = read_csv(path, "Hi-C contact table", sep="\t", header=None, comment="#", dtype=str)
    if raw.shape[1] < 7:
        msg = (
            f"Hi-C contact table {path} has {raw.shape[1]} columns; BEDPE contacts need "
            "chr1 x1 x2 chr2 y1 y2 contact"
        )
        raise InputError(msg)
    raw = raw.iloc[:, :7]
    raw.columns = ["chr1", "x1", "x2", "chr2", "y1", "y2", "contact"]
    num = raw[["x1", "x2", "y1", "y2", "contact"]].apply(pd.to_numeric, errors="coerce")
    bad = num.isna().any(axis=1).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        msg = f"Hi-C contact table {path}, row {row}: coordinates and contact must be numbers"
        raise InputError(msg)
    raw[["x1", "x2", "y1", "y2"]] = num[["x1", "x2", "y1", "y2"]].astype(np.int64)
    raw["contact"] = num["contact"].astype(np.float64)
    raw = raw[raw["chr1"] == raw["chr2"]]
    out: dict[str, ContactTable] = {}
    for chrom, grp in raw.groupby("chr1", sort=False):
        anchors = pd.concat(
            [
                grp[["x1", "x2"]].set_axis(["s", "e"], axis=1),
                grp[["y1", "y2"]].set_axis(["s", "e"], axis=1),
            ]
        ).drop_duplicates()
        anchors = anchors.sort_values(["s", "e"]).reset_index(drop=True)
        s, e = anchors["s"].to_numpy(), anchors["e"].to_numpy()
        if (s[1:] < e[:-1]).any():
            msg = (
                f"Hi-C contact table {path}: anchors on {chrom} overlap; give one row per pair "
                "of non-overlapping bins"
            )
            raise InputError(msg)
        index = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(s, e, strict=True))}
        i = np.array([index[(a, b)] for a, b in zip(grp["x1"], grp["x2"], strict=True)])
        j = np.array([index[(a, b)] for a, b in zip(grp["y1"], grp["y2"], strict=True)])
        out[str(chrom)] = ContactTable.from_pairs(s, e, i, j, grp["contact"].to_numpy())
    return out


def open_contacts(path: str, *, resolution: int, window: int) -> _Contacts:
    """Open a Hi-C source (.cool/.mcool URI or BEDPE contact table) for per-chrom lookups."""
    file_part = path.split("::", 1)[0]
    if not Path(file_part).is_file():
        msg = f"Hi-C file {file_part} does not exist; check --hic"
        raise InputError(msg)
    lower = file_part.lower()
    if lower.endswith(".hic"):
        msg = (
            f"{file_part}: .hic files are not supported (no installable reader); convert it "
            "with hic2cool and pass the .cool, or give a BEDPE contact table"
        )
        raise InputError(msg)
    if lower.endswith((".cool", ".mcool")):
        return _Contacts(
            lambda chrom: load_cool_contacts(path, chrom, resolution=resolution, window=window),
            kind="cool",
        )
    tables = load_bedpe_contacts(file_part)
    from varinterp.io.contigs import ContigMap

    names = ContigMap(tables, source="", target=f"Hi-C {file_part}")

    def _get(chrom: str) -> ContactTable | None:
        found = names.get(chrom)
        return tables[found] if found is not None else None

    return _Contacts(_get, kind="bedpe")
