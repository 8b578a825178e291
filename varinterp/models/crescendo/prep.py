"""From a 10x multiome matrix, a genome and a TSS table to cREscENDO's training data.

`prepare_multiome` follows the paper's preprocessing:

1. **Features.** ``Gene Expression`` and ``Peaks`` features of the matrix (a 10x h5, a
   MatrixMarket folder or an RNA + ATAC pair of folders; `varinterp.io.tenx`).
2. **Filters.** With ``n`` the number of barcodes and ``m = int(n x min_cell_fraction)``
   (5%): genes detected in at least ``m`` cells, then cells with at least `min_genes`
   (500) of those genes; peaks detected in at least ``m`` of all barcodes, on the
   autosomes and X/Y (``chr1``-``chr22``, ``chrX``, ``chrY`` or ``1``-``22``, ``X``, ``Y``),
   restricted to the kept cells. ``max_cells`` then keeps a seeded random subset of cells
   (the paper's down-sampling).
3. **RNA.** Counts of the kept genes normalised to 1e4 per cell, log1p, z-scored per gene
   over the kept cells (standard deviation with ``n - 1``).
4. **TSS and tokens.** One TSS per gene (`varinterp.io.tss`); every kept gene must have
   one (``allow_missing_tss`` drops those that do not). Tokens as in
   `varinterp.models.crescendo.tokens`; genes without a promoter peak or a candidate are
   dropped and counted.
5. **Sequence.** A 1,500-bp window on each peak's centre (``(start + end) // 2``) from the
   FASTA (N = no base; past a contig end, N).
6. **Splits.** Cells: ``paper`` (default), a seeded random 80/20 split as the paper's
   text says, or ``code``, the first 90% of the kept cells in file order as its public
   code does (`train_fraction` overrides either share). Peaks: the kept peaks in
   coordinate order cut into `n_folds` (10) contiguous blocks; block `gene_fold` is held
   out: the encoder validates on it and a gene whose token range touches it is a test
   gene (the code's rule; ``n_folds=0`` holds out nothing).
7. **PCA.** ``torch.pca_lowrank`` (``q = n_pcs``, centred, seeded) of the training cells'
   z-scores; every cell's coordinates are its z-scores times the loadings (as the code).

Outputs in `out`: ``prep.h5`` (read by `PreparedData`) and ``prep.json`` (the settings,
what the filters kept and dropped, and the names of the genes dropped for want of a TSS,
a promoter peak or a candidate). A file or input on another genome build (TSS or
peak contigs the FASTA lacks, positions past contig ends) is an `InputError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.genome.sequence import StoreSequence
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.fasta import Reference
from varinterp.io.tenx import read_multiome
from varinterp.io.tss import read_tss
from varinterp.models.crescendo.filters import check_build, feature_filters, typed_cells
from varinterp.models.crescendo.tokens import gene_tokens
from varinterp.progress import ProgressCallback, report

__all__ = ["CELL_SPLITS", "PrepResult", "PrepSettings", "prepare_multiome"]

CELL_SPLITS = ("paper", "code")
WINDOW = 1500


@dataclass(frozen=True)
class PrepSettings:
    """The choices of `prepare_multiome` (module docstring)."""

    min_cell_fraction: float = 0.05
    min_genes: int = 500
    standard_contigs_only: bool = True
    max_cells: int | None = None
    cell_split: str = "paper"
    train_fraction: float | None = None
    n_folds: int = 10
    gene_fold: int = 0
    n_pcs: int = 50
    tss_position: str = "five_prime"
    allow_missing_tss: bool = False
    untyped_cells: str = "error"
    seed: int = 0

    def __post_init__(self) -> None:
        checks = [
            (0 <= self.min_cell_fraction < 1, "min_cell_fraction must be in [0, 1)"),
            (self.min_genes >= 0, "min_genes must be >= 0"),
            (self.max_cells is None or self.max_cells >= 10, "max_cells must be >= 10"),
            (self.cell_split in CELL_SPLITS, f"cell_split must be {' or '.join(CELL_SPLITS)}"),
            (
                self.train_fraction is None or 0 < self.train_fraction < 1,
                "train_fraction must be in (0, 1)",
            ),
            (
                self.n_folds == 0 or (self.n_folds >= 2 and 0 <= self.gene_fold < self.n_folds),
                "n_folds must be 0 or >= 2, with 0 <= gene_fold < n_folds",
            ),
            (self.n_pcs >= 1, "n_pcs must be >= 1"),
            (self.untyped_cells in ("error", "drop"), "untyped_cells must be error or drop"),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"multiome preparation: {what}")

    @property
    def cell_train_fraction(self) -> float:
        if self.train_fraction is not None:
            return self.train_fraction
        return 0.8 if self.cell_split == "paper" else 0.9


@dataclass
class PrepResult:
    """What `prepare_multiome` kept (counts) and where it wrote."""

    out: Path
    n_cells: int
    n_train_cells: int
    n_genes: int
    n_train_genes: int
    n_peaks: int
    n_train_peaks: int
    max_tokens: int
    cell_types: list[str]
    dropped: dict[str, int] = field(default_factory=dict)


def _zscores(counts: sp.csc_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``counts`` (genes x cells) -> z ``(cells, genes) float32``, log1p mean and sd
    (float64); the dense matrix is float32, the sums float64."""
    totals = np.asarray(counts.sum(axis=0), dtype=np.float64).ravel()
    totals[totals == 0] = 1.0
    x = counts.T.astype(np.float32).toarray()
    x *= (1e4 / totals)[:, None].astype(np.float32)
    np.log1p(x, out=x)
    mean = x.mean(axis=0, dtype=np.float64)
    sd = x.std(axis=0, ddof=1, dtype=np.float64) if x.shape[0] > 1 else np.ones(x.shape[1])
    sd = np.where(sd > 0, sd, 1.0)
    x -= mean.astype(np.float32)
    x /= sd.astype(np.float32)
    return x, mean, sd


def _pca(z_train: np.ndarray, z_all: np.ndarray, q: int, seed: int):
    import torch

    q = int(min(q, z_train.shape[0], z_train.shape[1]))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, _, v = torch.pca_lowrank(torch.from_numpy(z_train), q=q, center=True)
    loadings = v.numpy().astype(np.float32)
    return loadings, (z_all @ loadings).astype(np.float32)


def _fold_block(n_peaks: int, s: PrepSettings) -> tuple[int, int] | None:
    if s.n_folds == 0:
        return None
    cuts = np.percentile(np.arange(n_peaks), np.linspace(0, 100, s.n_folds + 1)).astype(int)
    return int(cuts[s.gene_fold]), int(cuts[s.gene_fold + 1])


def _sequence_source(fasta, store, sample) -> Reference | StoreSequence:
    """The FASTA, or the genome store (its reference or `sample`'s sequence)."""
    if (fasta is None) == (store is None):
        raise InputError("give the peaks' genome as --fasta or as --store, one of the two")
    if sample is not None and store is None:
        raise InputError("--sample needs --store (a genome store holding that donor)")
    if store is None:
        return Reference(fasta)
    return StoreSequence(store, sample=sample)


def _sequences(
    reference: Reference | StoreSequence, chroms: list[str], peaks: pd.DataFrame
) -> np.ndarray:
    centre = ((peaks["start"] + peaks["end"]) // 2).to_numpy(np.int64)
    out = np.empty((len(peaks), WINDOW), dtype=np.uint8)
    for i, (c, m) in enumerate(zip(chroms, centre, strict=True)):
        lo = int(m) - WINDOW // 2
        codes = reference.codes(c, max(lo, 0), lo + WINDOW)
        if lo < 0:
            codes = np.concatenate([np.full(-lo, 4, np.uint8), codes])
        out[i] = codes[:WINDOW]
    return out


def prepare_multiome(
    *,
    matrix: str | os.PathLike,
    tss: str | os.PathLike,
    out: str | os.PathLike,
    fasta: str | os.PathLike | None = None,
    store: str | os.PathLike | None = None,
    sample: str | None = None,
    atac_matrix: str | os.PathLike | None = None,
    cell_types: str | os.PathLike | None = None,
    settings: PrepSettings | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> PrepResult:
    """Prepare a multiome run for training (module docstring).

    The peaks' sequences come from `fasta`, or from the genome store `store`: its
    reference, or with `sample` the donor's sequence (`varinterp.genome.sequence`).
    """
    import h5py

    s = settings or PrepSettings()
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    reference = _sequence_source(fasta, store, sample)
    tss_table = read_tss(tss, position=s.tss_position)
    mat = read_multiome(matrix, atac=atac_matrix)
    report(on_progress, 1, 6)
    dropped: dict[str, int] = {}
    dropped_names: dict[str, list[str]] = {}
    genes, atac, peaks, keep_gene, keep_cell, keep_peak = feature_filters(mat, s, dropped)
    barcodes = mat.barcodes[keep_cell]
    typed, type_index, type_names = typed_cells(cell_types, barcodes, s, dropped)
    cells = np.flatnonzero(keep_cell)[typed]
    if s.max_cells is not None and cells.size > s.max_cells:
        pick = np.sort(
            np.random.default_rng([s.seed, 1]).choice(cells.size, s.max_cells, replace=False)
        )
        dropped["cells_downsampled"] = int(cells.size - s.max_cells)
        cells, type_index = cells[pick], type_index[typed][pick]
    else:
        type_index = type_index[typed]
    barcodes = mat.barcodes[cells]

    # genes: TSS, then tokens over the kept peaks (coordinate order)
    names = genes.features["name"].astype(str).to_numpy()[keep_gene]
    tss_by_gene = tss_table.set_index("gene")
    has_tss = np.array([n in tss_by_gene.index for n in names])
    if not has_tss.all():
        missing = names[~has_tss]
        if not s.allow_missing_tss:
            msg = (
                f"{missing.size} of the {names.size} kept genes have no TSS in {tss} (e.g. "
                f"{', '.join(missing[:3])}); use a TSS table of the same annotation or pass "
                "--allow-missing-tss to drop them"
            )
            raise InputError(msg)
        dropped["genes_without_tss"] = int(missing.size)
        dropped_names["without_tss"] = missing.tolist()
    gene_rows = np.flatnonzero(keep_gene)[has_tss]
    names = names[has_tss]
    t = tss_by_gene.loc[names].reset_index()
    t["chrom"] = check_build(t["chrom"], t["tss"], reference, "TSS", tss)
    kept_peaks = peaks[keep_peak].reset_index(drop=True)
    kept_peaks["chrom"] = check_build(
        kept_peaks["chrom"], kept_peaks["end"] - 1, reference, "peak", mat.source
    )
    order = {c: i for i, c in enumerate(reference.names)}
    peak_order = np.lexsort(
        (kept_peaks["end"], kept_peaks["start"], kept_peaks["chrom"].map(order))
    )
    peak_rows = np.flatnonzero(keep_peak)[peak_order]
    kept_peaks = kept_peaks.iloc[peak_order].reset_index(drop=True)
    tokens = gene_tokens(kept_peaks, t)
    for reason, lost in tokens.dropped.items():
        dropped_names[reason] = list(lost)
        if lost:
            dropped[f"genes_{reason}"] = len(lost)
    if tokens.genes.empty:
        msg = (
            f"no gene has a peak within 500 bp of its TSS and another within 300 kb ({t.shape[0]}"
            " genes with a TSS); are the TSS table and the peaks on the same genome build?"
        )
        raise InputError(msg)
    report(on_progress, 2, 6)

    # RNA of the genes with tokens, over the kept cells
    row_of = dict(zip(names, gene_rows, strict=True))
    keep_rows = np.array([row_of[g] for g in tokens.genes["gene"]])
    z, log_mean, log_sd = _zscores(sp.csc_matrix(genes.counts[keep_rows][:, cells]))
    report(on_progress, 3, 6)

    # splits
    n_cells = cells.size
    n_train = int(n_cells * s.cell_train_fraction)
    if s.cell_split == "code":
        train_cell = np.arange(n_cells) < n_train
    else:
        train_cell = np.zeros(n_cells, bool)
        train_cell[np.random.default_rng([s.seed, 2]).permutation(n_cells)[:n_train]] = True
    if n_train < 2 or n_train == n_cells:
        raise InputError(f"{n_cells} cells are too few to split; keep more cells")
    block = _fold_block(len(kept_peaks), s)
    train_peak = np.ones(len(kept_peaks), bool)
    train_gene = np.ones(len(tokens.genes), bool)
    if block is not None:
        train_peak[block[0] : block[1] + 1] = False
        for i in range(len(tokens.genes)):
            ids = tokens.of(i)
            train_gene[i] = ids.max() < block[0] or ids.min() > block[1]
    loadings, coords = _pca(z[train_cell], z, s.n_pcs, s.seed)
    report(on_progress, 4, 6)

    seqs = _sequences(reference, list(kept_peaks["chrom"]), kept_peaks)
    acc = sp.csr_matrix(atac.counts[peak_rows][:, cells] > 0)
    report(on_progress, 5, 6)

    text = h5py.string_dtype("utf-8")
    with atomic_dir(out, overwrite=overwrite) as tmp, h5py.File(tmp / "prep.h5", "w") as f:
        g = f.create_group("cells")
        g.create_dataset("barcode", data=barcodes.astype(object), dtype=text)
        g.create_dataset("type_index", data=type_index)
        g.create_dataset("train", data=train_cell)
        g.attrs["cell_types"] = json.dumps(type_names)
        g = f.create_group("genes")
        for col in ("gene", "chrom", "strand"):
            src = (
                tokens.genes[col]
                if col != "strand"
                else t.set_index("gene").loc[tokens.genes["gene"], "strand"]
            )
            g.create_dataset(col, data=np.asarray(src).astype(str).astype(object), dtype=text)
        g.create_dataset("tss", data=tokens.genes["tss"].to_numpy(np.int64))
        g.create_dataset("train", data=train_gene)
        g.create_dataset("log1p_mean", data=log_mean)
        g.create_dataset("log1p_sd", data=log_sd)
        g.create_dataset("token_offsets", data=tokens.offsets)
        g.create_dataset("token_peaks", data=tokens.peaks)
        g.create_dataset("token_distance", data=tokens.distance)
        g = f.create_group("peaks")
        g.create_dataset("chrom", data=kept_peaks["chrom"].astype(object), dtype=text)
        g.create_dataset("start", data=kept_peaks["start"].to_numpy(np.int64))
        g.create_dataset("end", data=kept_peaks["end"].to_numpy(np.int64))
        g.create_dataset("train", data=train_peak)
        g.attrs["chrom_sizes"] = json.dumps(
            {c: reference.lengths[c] for c in dict.fromkeys(kept_peaks["chrom"])}
        )
        g.create_dataset("seq", data=seqs, compression="gzip", chunks=(min(256, len(seqs)), WINDOW))
        g = f.create_group("atac")
        g.create_dataset("indptr", data=acc.indptr.astype(np.int64))
        g.create_dataset("indices", data=acc.indices.astype(np.int32), compression="gzip")
        g = f.create_group("rna")
        g.create_dataset("z", data=z, compression="gzip")
        g = f.create_group("pca")
        g.create_dataset("loadings", data=loadings)
        g.create_dataset("coords", data=coords)
        result = PrepResult(
            out=out,
            n_cells=int(n_cells),
            n_train_cells=int(train_cell.sum()),
            n_genes=len(tokens.genes),
            n_train_genes=int(train_gene.sum()),
            n_peaks=len(kept_peaks),
            n_train_peaks=int(train_peak.sum()),
            max_tokens=tokens.max_tokens,
            cell_types=type_names,
            dropped=dropped,
        )
        f.attrs["settings"] = json.dumps(asdict(s))
        f.attrs["sources"] = json.dumps(
            {
                "matrix": str(matrix),
                "atac_matrix": str(atac_matrix),
                "fasta": str(fasta),
                "store": str(store),
                "sample": str(sample),
                "tss": str(tss),
                "cell_types": str(cell_types),
            }
        )
        summary = {k: v for k, v in asdict(result).items() if k != "out"}
        doc = {
            "settings": asdict(s),
            "held_out_peak_block": block,
            **summary,
            "dropped_genes": dropped_names,
        }
        (tmp / "prep.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    report(on_progress, 6, 6)
    return result
