"""Per-cell cRE activity of every gene of a cREscENDO model, streamed to a store.

`cre_activity` runs DeepLIFT (`varinterp.models.crescendo.attribution`) gene by gene,
writes each gene's ``cells x tokens`` activity into the store of `varinterp.cre.store`
(never holding more than one gene in memory) and keeps per pair: the largest and the
mean activity over the cells, the Pearson correlation over the cells between the peak's
predicted accessibility (the encoder's probabilities, not normalised, as the published
labelling uses) and the activity, and per cell type the Mann-Whitney test against the
other types. Then it labels the pairs (`varinterp.cre.labels`), corrects the p-values
(`varinterp.cre.specificity`) and writes the summaries (`varinterp.cre.summaries`).

Outputs in `out` (a folder, written atomically): ``activity.h5``, ``pairs.tsv``,
``celltypes.tsv``, ``elements.tsv``, ``<type>.cre.bed``, ``<type>.activity.bw``,
``tracks.tsv`` and ``activity.json`` (counts, thresholds, the largest DeepLIFT
convergence delta). Cell types are the model's (from ``crescendo prep --cell-types``)
unless a ``barcode cell_type`` table is given; every cell of the model needs a type.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from varinterp.cre.labels import label_pairs, label_thresholds
from varinterp.cre.specificity import MAX_Q, MIN_DIFFERENCE, bh_per_type, type_tests
from varinterp.cre.store import ActivityWriter
from varinterp.cre.summaries import write_summaries
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.tables import read_table
from varinterp.models.crescendo.attribution import deeplift_gene
from varinterp.progress import ProgressCallback, report
from varinterp.training.inference import load_model

__all__ = ["ActivityResult", "cre_activity", "model_peaks"]


@dataclass
class ActivityResult:
    """What `cre_activity` wrote and found."""

    out: Path
    n_genes: int
    n_pairs: int
    n_cells: int
    cell_types: list[str]
    max_delta: float
    thresholds: tuple[float, float]
    labels: dict[str, int] = field(default_factory=dict)
    specific: dict[str, int] = field(default_factory=dict)


def model_peaks(model, chroms: Sequence[str]) -> pd.DataFrame:
    """The model's peaks as ``chrom start end`` (from its ``peak_coords`` buffer)."""
    c = model.peak_coords.cpu().numpy()
    return pd.DataFrame(
        {"chrom": np.asarray(chroms, dtype=object)[c[:, 0]], "start": c[:, 1], "end": c[:, 2]}
    )


def _cell_types(path, barcodes: np.ndarray, model_types: list[str], model_index: np.ndarray):
    if path is None:
        return model_types, model_index
    table = read_table(path, required=("barcode", "cell_type"), what="cell-type table")
    mapping = dict(zip(table["barcode"], table["cell_type"], strict=True))
    missing = [b for b in barcodes if not mapping.get(b)]
    if missing:
        msg = (
            f"{len(missing)} of the model's {barcodes.size} cells are absent from the cell-type "
            f"table {path} (e.g. {missing[0]}); give every cell of the model a type"
        )
        raise InputError(msg)
    names = sorted({mapping[b] for b in barcodes})
    return names, np.array([names.index(mapping[b]) for b in barcodes], dtype=np.int64)


def _corr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``x`` and ``y`` ``(C, n)`` -> ``(n,)``."""
    xc, yc = x - x.mean(0), y - y.mean(0)
    den = np.sqrt((xc**2).sum(0) * (yc**2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (xc * yc).sum(0) / den, np.nan)


def cre_activity(
    model: str | os.PathLike,
    *,
    out: str | os.PathLike,
    genes: Sequence[str] | None = None,
    cell_types: str | os.PathLike | None = None,
    chunk_cells: int = 1000,
    store_dtype: str = "float32",
    precision: str = "float64",
    top_active: float = 15.0,
    top_cre: float = 60.0,
    max_q: float = MAX_Q,
    min_difference: float = MIN_DIFFERENCE,
    device: str = "cpu",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ActivityResult:
    """Per-cell activity of the model's gene-peak pairs (module docstring).

    `genes` limits the run to some genes (names); `precision` is the DeepLIFT dtype
    (``float64`` or ``float32``); `store_dtype` the store's (``float32`` or ``float16``).
    """
    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if precision not in ("float64", "float32"):
        raise InputError(f"precision {precision!r} must be float64 or float32")
    if chunk_cells < 1:
        raise InputError("chunk_cells must be >= 1")
    ens = load_model(model, device=device, architecture="crescendo")
    members = list(ens.models.values())
    first = members[0]
    meta = ens.model_dir.metadata
    cfg = first.config
    gene_names = list(meta.get("genes") or [f"gene{i}" for i in range(cfg.n_genes)])
    chroms = list(meta.get("chroms") or [f"contig{i}" for i in range(cfg.n_chroms)])
    barcodes = np.asarray(meta.get("barcodes") or [f"cell{i}" for i in range(cfg.n_cells)])
    model_types = list(ens.tasks)
    type_names, type_index = _cell_types(
        cell_types, barcodes, model_types, first.cell_type.cpu().numpy()
    )
    if genes is None:
        chosen = list(range(cfg.n_genes))
    else:
        unknown = [g for g in genes if g not in gene_names]
        if unknown:
            msg = f"gene(s) {', '.join(unknown[:5])} are not in the model ({len(gene_names)} genes)"
            raise InputError(msg)
        chosen = [gene_names.index(g) for g in dict.fromkeys(genes)]
    peaks = model_peaks(first, chroms)
    tokens = first.token_peaks.cpu().numpy()
    pairs_of = [tokens[g][tokens[g] >= 0] for g in chosen]
    sizes = meta.get("chrom_sizes") or {
        c: int(peaks.loc[peaks["chrom"] == c, "end"].max()) + 1 for c in chroms
    }
    dtype = torch.float64 if precision == "float64" else torch.float32
    n_types = len(type_names)
    stats: dict[str, list] = {k: [] for k in ("max", "mean", "corr", "in", "rest", "p")}
    worst = 0.0
    with atomic_dir(out, overwrite=overwrite) as tmp:
        writer = ActivityWriter(
            tmp / "activity.h5",
            genes=[gene_names[g] for g in chosen],
            gene_pairs=pairs_of,
            peaks=peaks,
            barcodes=barcodes.tolist(),
            cell_type=type_index,
            cell_types=type_names,
            dtype=store_dtype,
            attrs={"model": str(model), "precision": precision},
        )
        with writer, torch.no_grad():
            for i, g in enumerate(chosen):
                with torch.enable_grad():
                    results = [
                        deeplift_gene(m, g, chunk_cells=chunk_cells, dtype=dtype) for m in members
                    ]
                act = np.mean([r.activity for r in results], axis=0)
                worst = max(worst, *(r.max_delta for r in results))
                writer.write_gene(i, act)
                idx = torch.from_numpy(pairs_of[i]).to(first.peak_embedding.device)
                raw = first.accessibility(first.peak_embedding[idx]).T.float().cpu().numpy()
                stats["max"].append(act.max(axis=0))
                stats["mean"].append(act.mean(axis=0))
                stats["corr"].append(_corr(raw.astype(np.float64), act.astype(np.float64)))
                mean_in, mean_out, p = type_tests(act, type_index, n_types)
                stats["in"].append(mean_in)
                stats["rest"].append(mean_out)
                stats["p"].append(p)
                report(on_progress, i + 1, len(chosen))
        score = np.concatenate(stats["max"])
        corr = np.concatenate(stats["corr"])
        promoter = np.concatenate([np.arange(p.size) == 0 for p in pairs_of])
        labels = label_pairs(score, corr, promoter, top_active=top_active, top_cre=top_cre)
        mean_in = np.concatenate(stats["in"], axis=1)
        mean_rest = np.concatenate(stats["rest"], axis=1)
        pvalue = np.concatenate(stats["p"], axis=1)
        qvalue = bh_per_type(pvalue)
        specific = (qvalue < max_q) & (mean_in - mean_rest > min_difference)
        pair_gene = np.repeat([gene_names[g] for g in chosen], [p.size for p in pairs_of])
        pair_peak = np.concatenate(pairs_of)
        dist = np.concatenate(
            [
                first.token_distance[g, : p.size].cpu().numpy()
                for g, p in zip(chosen, pairs_of, strict=True)
            ]
        )
        peak_name = (
            peaks["chrom"] + ":" + peaks["start"].astype(str) + "-" + peaks["end"].astype(str)
        ).to_numpy()
        pairs = pd.DataFrame(
            {
                "gene": pair_gene,
                "peak": peak_name[pair_peak],
                "chrom": peaks["chrom"].to_numpy()[pair_peak],
                "start": peaks["start"].to_numpy()[pair_peak],
                "end": peaks["end"].to_numpy()[pair_peak],
                "role": np.where(promoter, "promoter", "distal"),
                "distance": np.round(dist.astype(np.float64) * cfg.distance_scale, 1),
                "max_activity": score,
                "mean_activity": np.concatenate(stats["mean"]),
                "corr_accessibility": corr,
                "label": labels,
            }
        )
        n = len(pairs)
        celltypes = pd.DataFrame(
            {
                "gene": np.tile(pairs["gene"].to_numpy(), n_types),
                "peak": np.tile(pairs["peak"].to_numpy(), n_types),
                "cell_type": np.repeat(type_names, n),
                "label": np.tile(labels, n_types),
                "mean_activity": mean_in.reshape(-1),
                "mean_activity_rest": mean_rest.reshape(-1),
                "pvalue": pvalue.reshape(-1),
                "qvalue": qvalue.reshape(-1),
                "specific": specific.reshape(-1),
            }
        )
        write_summaries(
            tmp,
            pairs=pairs,
            celltypes=celltypes,
            cell_types=type_names,
            chrom_sizes={c: int(sizes[c]) for c in chroms},
        )
        result = ActivityResult(
            out=out,
            n_genes=len(chosen),
            n_pairs=n,
            n_cells=int(barcodes.size),
            cell_types=type_names,
            max_delta=worst,
            thresholds=label_thresholds(score, top_active=top_active, top_cre=top_cre),
            labels={k: int(v) for k, v in pd.Series(labels).value_counts().items()},
            specific={
                t: int(specific[k][labels != "promoter"].sum()) for k, t in enumerate(type_names)
            },
        )
        doc = {k: v for k, v in asdict(result).items() if k != "out"}
        doc.update(
            model=str(model),
            chunk_cells=chunk_cells,
            precision=precision,
            top_active=top_active,
            top_cre=top_cre,
            max_q=max_q,
            min_difference=min_difference,
        )
        (tmp / "activity.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return result
