"""GET's samples: windows of consecutive accessible regions per cell type, with labels.

`build_get_data` joins a motif-features file (regions x clusters + each cell type's
accessibility, `varinterp.motifs`), expression (``log10(TPM + 1)`` per gene and cell
type) and gene TSS into a `GetData`:

- regions are sorted by contig and start; a gene belongs to the region whose interval
  holds its TSS, else the nearest region within `tss_window` bp (GET: +/-300 bp);
- labels ``(n_regions, K, 2) float32``: per region and cell type the summed expression of
  its genes on the plus (0) and minus (1) strand, 0 elsewhere; a promoter whose
  accessibility (aCPM) is below `min_promoter_acpm` in a cell type gets 0 there;
- a region is *active* in a cell type when its count is above 0 (every region when the
  features carry no counts); windows and gene windows use the active regions only.

A **window** is ``n_regions`` consecutive active regions of one contig, as row indices
``(n_regions,) int64`` (-1 pads a contig with fewer regions). `window_starts` tiles each
contig with a stride (GET: half a window when fine-tuning, a whole one when pretraining);
`gene_window` centres a window on a gene's region (GET's interpretation windows).

A **sample** (`GetData.sample`): ``x`` ``(R, C + 1) float32`` (normalised motif scores,
then accessibility: the aCPM divided by its maximum in the window, or 1 with
``binary_atac``), ``y`` ``(R, 2)``, ``valid`` ``(R,)`` bool (not padding), ``tss``
``(R,)`` bool (a region holding a TSS).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.contigs import harmonize_contig
from varinterp.motifs.features import MotifFeatures

__all__ = ["GetData", "build_get_data"]


@dataclass
class GetData:
    """Regions, features, accessibility, labels and genes (module docstring).

    ``regions`` ``chrom, start, end``; ``motif`` ``(n, C) float32``; ``acpm`` ``(n, K)
    float32``; ``active`` ``(n, K) bool``; ``labels`` ``(n, K, 2) float32``; ``genes``
    ``gene, chrom, tss, strand, region`` (row index, -1 when no region is near);
    ``expression`` ``(n_genes, K) float64`` log10(TPM + 1).
    """

    regions: pd.DataFrame
    clusters: tuple[str, ...]
    motif: np.ndarray
    acpm: np.ndarray
    active: np.ndarray
    cell_types: tuple[str, ...]
    labels: np.ndarray
    genes: pd.DataFrame
    expression: np.ndarray
    features: MotifFeatures | None = None
    _by_type: dict = field(default_factory=dict, repr=False)

    @property
    def n_features(self) -> int:
        return self.motif.shape[1] + 1

    @property
    def tss(self) -> np.ndarray:
        """``(n,) bool``: regions holding a gene's TSS."""
        out = np.zeros(len(self.regions), bool)
        r = self.genes["region"].to_numpy(np.int64)
        out[r[r >= 0]] = True
        return out

    def type_index(self, name: str) -> int:
        if name not in self.cell_types:
            raise InputError(
                f"cell type {name!r} is not in the data ({', '.join(self.cell_types)})"
            )
        return self.cell_types.index(name)

    def _active_by_contig(self, k: int) -> dict[str, np.ndarray]:
        if k not in self._by_type:
            rows = np.flatnonzero(self.active[:, k])
            chroms = self.regions["chrom"].to_numpy()[rows]
            self._by_type[k] = {c: rows[chroms == c] for c in dict.fromkeys(chroms)}
        return self._by_type[k]

    def window_starts(
        self, k: int, n_regions: int, stride: int, chroms: set[str] | None = None
    ) -> np.ndarray:
        """Windows tiling each contig's active regions in cell type `k` ->
        ``(m, n_regions) int64`` (the last window of a contig ends at its last region)."""
        out = []
        for chrom, rows in self._active_by_contig(k).items():
            if chroms is not None and chrom not in chroms:
                continue
            if rows.size <= n_regions:
                w = np.full(n_regions, -1, np.int64)
                w[: rows.size] = rows
                out.append(w)
                continue
            starts = list(range(0, rows.size - n_regions + 1, stride))
            if starts[-1] != rows.size - n_regions:
                starts.append(rows.size - n_regions)
            out += [rows[s : s + n_regions] for s in starts]
        return np.array(out, dtype=np.int64).reshape(-1, n_regions)

    def gene_window(self, k: int, region: int, n_regions: int) -> tuple[np.ndarray, int]:
        """A window of cell type `k` centred on `region` -> ``(indices (R,) int64, the
        region's position in it)``; (-1 pads; position -1 when the region is inactive)."""
        chrom = str(self.regions["chrom"].iloc[region])
        rows = self._active_by_contig(k).get(chrom, np.zeros(0, np.int64))
        at = np.searchsorted(rows, region)
        if at >= rows.size or rows[at] != region:
            return np.full(n_regions, -1, np.int64), -1
        lo = int(np.clip(at - n_regions // 2, 0, max(rows.size - n_regions, 0)))
        w = np.full(n_regions, -1, np.int64)
        part = rows[lo : lo + n_regions]
        w[: part.size] = part
        return w, int(at - lo)

    def sample(
        self,
        k: int,
        window: np.ndarray,
        *,
        binary_atac: bool = False,
        motif: np.ndarray | None = None,
    ) -> tuple[np.ndarray, ...]:
        """``(x (R, C+1) float32, y (R, 2) float32, valid (R,) bool, tss (R,) bool)`` of
        one window (module docstring); `motif` replaces the motif rows ``(R, C)``."""
        valid = window >= 0
        idx = np.where(valid, window, 0)
        x = np.zeros((window.size, self.n_features), np.float32)
        x[:, :-1] = self.motif[idx] if motif is None else motif
        acc = self.acpm[idx, k]
        if binary_atac:
            x[:, -1] = 1.0
        else:
            top = acc[valid].max() if valid.any() else 0.0
            x[:, -1] = acc / top if top > 0 else 0.0
        x[~valid] = 0.0
        y = self.labels[idx, k].copy()
        y[~valid] = 0.0
        tss = self.tss[idx] & valid
        return x, y, valid, tss


def _assign_genes(regions: pd.DataFrame, genes: pd.DataFrame, tss_window: int) -> np.ndarray:
    out = np.full(len(genes), -1, np.int64)
    chroms = regions["chrom"].to_numpy()
    names = {c: c for c in dict.fromkeys(chroms)}
    starts = regions["start"].to_numpy(np.int64)
    ends = regions["end"].to_numpy(np.int64)
    spelled = []
    for x in genes["chrom"].astype(str):
        try:
            spelled.append(harmonize_contig(x, names))
        except InputError:
            spelled.append(None)
    gchrom = np.array(spelled, dtype=object)
    for c in names:
        rows = np.flatnonzero(chroms == c)
        g = np.flatnonzero(gchrom == c)
        if not g.size:
            continue
        t = genes["tss"].to_numpy(np.int64)[g]
        s, e = starts[rows], ends[rows]
        at = np.clip(np.searchsorted(s, t, side="right") - 1, 0, rows.size - 1)
        dist = np.where(t < s[at], s[at] - t, np.where(t >= e[at], t - e[at] + 1, 0))
        nxt = np.clip(at + 1, 0, rows.size - 1)
        dist_n = np.where(t < s[nxt], s[nxt] - t, np.where(t >= e[nxt], t - e[nxt] + 1, 0))
        use_next = dist_n < dist
        best = np.where(use_next, nxt, at)
        d = np.minimum(dist, dist_n)
        out[g] = np.where(d <= tss_window, rows[best], -1)
    return out


def build_get_data(
    features: MotifFeatures,
    expression: pd.DataFrame,
    tss: pd.DataFrame,
    *,
    tss_window: int = 300,
    min_promoter_acpm: float = 0.0,
) -> GetData:
    """Join features, expression and TSS (module docstring). Every gene of `expression`
    needs a TSS row; every cell type of `expression` needs an accessibility column."""
    if features.acpm is None or not features.cell_types:
        raise InputError(
            "the motif features carry no accessibility; scan with --counts or --tracks"
        )
    missing = sorted(set(expression.index) - set(tss["gene"]))
    if missing:
        raise InputError(
            f"{len(missing)} gene(s) of the expression table have no TSS (e.g. "
            f"{', '.join(missing[:3])}); add them to the TSS file or drop them"
        )
    unknown = [c for c in expression.columns if c not in features.cell_types]
    if unknown:
        raise InputError(
            f"expression cell type(s) {', '.join(unknown)} have no accessibility in the features "
            f"({', '.join(features.cell_types)})"
        )
    order = np.lexsort((features.regions["start"].to_numpy(), features.regions["chrom"].to_numpy()))
    regions = features.regions.iloc[order].reset_index(drop=True)[["chrom", "start", "end"]]
    k_idx = [features.cell_types.index(c) for c in expression.columns]
    acpm = features.acpm[order][:, k_idx]
    counts = features.counts[order][:, k_idx] if features.counts is not None else None
    active = counts > 0 if counts is not None else np.ones_like(acpm, dtype=bool)
    genes = tss.set_index("gene").loc[expression.index].reset_index()
    genes["region"] = _assign_genes(regions, genes, tss_window)
    expr = expression.to_numpy(np.float64)
    labels = np.zeros((len(regions), len(k_idx), 2), np.float32)
    strand = (genes["strand"].to_numpy() == "-").astype(np.int64)
    r = genes["region"].to_numpy(np.int64)
    ok = r >= 0
    np.add.at(labels, (r[ok], slice(None), strand[ok]), expr[ok])
    if min_promoter_acpm > 0:
        labels[acpm < min_promoter_acpm] = 0.0
    return GetData(
        regions=regions,
        clusters=features.clusters,
        motif=features.features[order],
        acpm=acpm,
        active=active,
        cell_types=tuple(expression.columns),
        labels=labels,
        genes=genes,
        expression=expr,
        features=features,
    )
