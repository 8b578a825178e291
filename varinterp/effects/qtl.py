"""The tiQTL / diQTL benchmark of the CLIPNET paper (`varinterp bench qtl`).

For every QTL (a biallelic SNV of the genome store), the individuals of the sample
sheet are grouped by genotype; heterozygotes are not used. Then, on the window centred
on the SNV (input ``[pos0 - L // 2, pos0 - L // 2 + L)``, profile output
``[pos0 - L // 2 + output_start, ... + output_length)``):

- **predicted**: each homozygous individual's personal window is predicted (ensemble
  or hold-out composite, reverse-complement averaged; `varinterp.training.inference`) and
  turned into a track (profile scaled to the predicted quantity,
  `varinterp.training.inference.profile_tracks`); the tracks of the hom-ref and of the hom-alt
  individuals are averaged;
- **observed**: each library's RPM track over the output window (both strands, minus as
  absolute values) is averaged over the libraries of each homozygous group (isogenic
  replicates count as separate libraries);
- the effect is the **L2 norm** of the difference of the two group means over both
  strands and all positions (``sqrt(sum((mean_ref - mean_alt) ** 2))``); the same
  unsigned score serves tiQTLs and diQTLs.

The benchmark reports, per model, the Pearson correlation of
``log10(L2_observed + 1e-3)`` with ``log10(L2_predicted + 1e-3)`` over the scored QTLs
(`scipy.stats.pearsonr`). A QTL without a hom-ref or without a hom-alt individual
(with data) is reported and not scored.

Outputs (a folder written atomically): ``qtl_effects.tsv`` (one row per listed QTL),
``summary.tsv`` (one row per model) and ``scatter.png``; see
``docs/benchmarking_effects.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.datasets.samplesheet import Library, read_sample_sheet
from varinterp.datasets.tracks import read_peak_tracks
from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.progress import ProgressCallback, report

__all__ = ["LOG_PSEUDOCOUNT", "QtlBenchResult", "group_mean_l2", "log_l2_pearson", "qtl_benchmark"]

#: Added to L2 before the log10, as in the paper.
LOG_PSEUDOCOUNT = 1e-3


@dataclass
class QtlBenchResult:
    """What `qtl_benchmark` wrote: the folder, the per-QTL table and the per-model summary."""

    out: Path
    table: pd.DataFrame
    summary: pd.DataFrame


def group_mean_l2(tracks: np.ndarray, ref_rows: np.ndarray, alt_rows: np.ndarray) -> float:
    """L2 norm of ``mean(tracks[ref_rows]) - mean(tracks[alt_rows])`` over all other axes.

    ``tracks`` is ``(n, ...)``; the row index arrays must be non-empty.
    """
    diff = tracks[ref_rows].mean(axis=0, dtype=np.float64) - tracks[alt_rows].mean(
        axis=0, dtype=np.float64
    )
    return float(np.sqrt(np.sum(diff * diff)))


def log_l2_pearson(observed: np.ndarray, predicted: np.ndarray) -> tuple[float, float, int]:
    """Pearson r (and its p-value) of ``log10(L2 + 1e-3)``, over finite pairs -> (r, p, n).

    NaN when fewer than 3 pairs or a constant side.
    """
    from scipy.stats import pearsonr

    o = np.asarray(observed, dtype=np.float64)
    p = np.asarray(predicted, dtype=np.float64)
    keep = np.isfinite(o) & np.isfinite(p)
    n = int(keep.sum())
    lo, lp = np.log10(o[keep] + LOG_PSEUDOCOUNT), np.log10(p[keep] + LOG_PSEUDOCOUNT)
    if n < 3 or np.ptp(lo) == 0 or np.ptp(lp) == 0:
        return float("nan"), float("nan"), n
    res = pearsonr(lo, lp)
    return float(res.statistic), float(res.pvalue), n


def _unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct windows of ``x (n, 4, L) uint8`` -> (first index of each, inverse (n,))."""
    flat = np.ascontiguousarray(x).reshape(x.shape[0], -1)
    keys = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def qtl_benchmark(
    *,
    qtls: str | os.PathLike,
    store: str | os.PathLike,
    sample_sheet: str | os.PathLike,
    models: Mapping[str, str | os.PathLike],
    out: str | os.PathLike,
    holdout_composite: bool = True,
    rc_average: bool = True,
    device: str | None = None,
    batch_size: int = 256,
    chunk_size: int = 128,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> QtlBenchResult:
    """Run the QTL benchmark (module docstring) and write its folder to `out`.

    `models` maps a label (``personal``, ``reference``) to a model directory; every
    model must have the same input and output lengths. `holdout_composite` scores each
    QTL with the fold model that held out its chromosome (the ensemble for fold 0 and
    unassigned contigs); otherwise with the whole ensemble.
    """
    from varinterp.effects.qtl_inputs import library_totals, read_qtl_list, resolve_qtls
    from varinterp.genome.store import GenomeStore
    from varinterp.training.devices import resolve_device
    from varinterp.training.inference import load_model, profile_tracks

    check_output(out)
    out = Path(out)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if not models:
        msg = "no models given; pass --model LABEL=MODEL_DIR (e.g. personal=models/clipnet)"
        raise InputError(msg)
    if chunk_size < 1:
        msg = f"chunk_size must be >= 1, got {chunk_size}"
        raise InputError(msg)
    dev = resolve_device(device)
    gstore = GenomeStore.open(store)
    libraries = read_sample_sheet(sample_sheet)
    individuals = list(dict.fromkeys(lib.sample for lib in libraries))
    gstore.sample_indices(individuals)  # unknown samples -> InputError
    lib_ind = np.array([individuals.index(lib.sample) for lib in libraries], dtype=np.int64)
    scale = 1e6 / library_totals(sample_sheet, libraries)
    resolved = resolve_qtls(gstore, read_qtl_list(qtls)).table
    if not (resolved["status"] == "ok").any():
        found = resolved["status"].value_counts().to_dict()
        shown = ", ".join(f"{n} {k}" for k, n in found.items())
        msg = (
            f"none of the {len(resolved)} QTLs of {qtls} is a biallelic SNV of genome store "
            f"{Path(store).name} ({shown}); check the IDs and the genome build"
        )
        raise InputError(msg)
    ensembles = {label: load_model(path, device=dev) for label, path in models.items()}
    for ens in ensembles.values():
        ens.require_single_task("the QTL benchmark")
    geometry = {(e.input_length, e.output_length) for e in ensembles.values()}
    if len(geometry) > 1:
        msg = f"the models differ in input/output length {sorted(geometry)}; compare like models"
        raise InputError(msg)
    in_len, out_len = geometry.pop()
    out_start = (in_len - out_len) // 2

    table, groups = _genotype_groups(resolved, gstore, individuals, lib_ind)
    if not groups:
        msg = (
            f"no QTL of {qtls} has both homozygous groups (REF/REF and ALT/ALT) among the "
            f"{len(individuals)} individuals of {sample_sheet}; nothing to benchmark"
        )
        raise InputError(msg)
    is_ok = table["status"].to_numpy() == "ok"
    scorers = {  # resolved up front: a missing fold model fails before any prediction
        label: [
            ens.scorer_of(c, holdout_composite=holdout_composite) if k else ""
            for c, k in zip(table["chrom"], is_ok, strict=True)
        ]
        for label, ens in ensembles.items()
    }
    todo = np.array(sorted(groups), dtype=np.int64)
    obs_l2 = np.full(len(table), np.nan)
    pred_l2 = {label: np.full(len(table), np.nan) for label in ensembles}
    steps = max(len(todo), 1) * (len(ensembles) + 1)
    done = 0
    for lo in range(0, len(todo), chunk_size):
        rows = todo[lo : lo + chunk_size]
        sub = table.iloc[rows]
        chunk_groups = [groups[int(r)] for r in rows]
        chroms = sub["chrom"].to_numpy(dtype=object)
        win_starts = sub["pos0"].to_numpy(dtype=np.int64) - in_len // 2
        obs_l2[rows] = _observed_l2(
            libraries, lib_ind, scale, chunk_groups, chroms, win_starts + out_start, out_len
        )
        done += rows.size
        report(on_progress, done, steps)
        req_q, req_ind, x = _windows(gstore, chunk_groups, individuals, chroms, win_starts, in_len)
        first, inverse = _unique_rows(x)
        for label, ens in ensembles.items():
            pred = ens.predict(
                x[first],
                chroms=chroms[req_q[first]],
                holdout_composite=holdout_composite,
                rc_average=rc_average,
                batch_size=batch_size,
            )
            tr = profile_tracks(*pred.task(0))[inverse]
            pred_l2[label][rows] = _predicted_l2(tr, req_q, req_ind, chunk_groups)
            done += rows.size
            report(on_progress, done, steps)
    table["obs_l2"] = obs_l2
    summary_rows = []
    for label in ensembles:
        table[f"pred_l2_{label}"] = pred_l2[label]
        table[f"scorer_{label}"] = scorers[label]
        r, p, n = log_l2_pearson(obs_l2, pred_l2[label])
        summary_rows.append(
            {
                "model": label,
                "model_dir": str(models[label]),
                "mode": "holdout_composite" if holdout_composite else "ensemble",
                "n_qtls_listed": len(table),
                "n_scored": n,
                "pearson_log10_l2": r,
                "pearson_p": p,
            }
        )
    summary = pd.DataFrame(summary_rows)
    _write(out, table, summary, overwrite=overwrite)
    return QtlBenchResult(out, table, summary)


def _genotype_groups(
    table: pd.DataFrame, store, individuals: list[str], lib_ind: np.ndarray
) -> tuple[pd.DataFrame, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Add genotype and library counts per QTL; mark QTLs lacking a homozygous group.

    Returns the table and, per scoreable row, the hom-ref and hom-alt individuals
    (indices into `individuals`).
    """
    table = table.copy()
    n = len(table)
    cols = ("n_hom_ref", "n_het", "n_hom_alt", "n_lib_ref", "n_lib_alt")
    counts = {k: np.zeros(n, dtype=np.int64) for k in cols}
    groups: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    status = table["status"].to_numpy(dtype=object).copy()
    for i in np.flatnonzero(status == "ok"):
        dos = store.dosages(int(table["variant_index"].iat[i]), individuals)
        counts["n_hom_ref"][i] = int((dos == 0).sum())
        counts["n_het"][i] = int((dos == 1).sum())
        counts["n_hom_alt"][i] = int((dos == 2).sum())
        counts["n_lib_ref"][i] = int((dos[lib_ind] == 0).sum())
        counts["n_lib_alt"][i] = int((dos[lib_ind] == 2).sum())
        if counts["n_hom_ref"][i] == 0:
            status[i] = "no_hom_ref"
        elif counts["n_hom_alt"][i] == 0:
            status[i] = "no_hom_alt"
        else:
            groups[int(i)] = (np.flatnonzero(dos == 0), np.flatnonzero(dos == 2))
    for k, v in counts.items():
        table[k] = v
    table["status"] = status
    return table, groups


def _observed_l2(
    libraries: list[Library],
    lib_ind: np.ndarray,
    scale: np.ndarray,
    groups: list[tuple[np.ndarray, np.ndarray]],
    chroms: np.ndarray,
    starts: np.ndarray,
    span: int,
) -> np.ndarray:
    """Observed L2 of each QTL from per-library RPM tracks -> ``(len(groups),) float64``."""
    obs, _ = read_peak_tracks(libraries, chroms=chroms, starts=starts, span=span, normalize="none")
    obs *= scale[:, None, None, None].astype(np.float32)
    out = np.zeros(len(groups), dtype=np.float64)
    for j, (ref_ind, alt_ind) in enumerate(groups):
        ref_libs = np.flatnonzero(np.isin(lib_ind, ref_ind))
        alt_libs = np.flatnonzero(np.isin(lib_ind, alt_ind))
        out[j] = group_mean_l2(obs[:, j], ref_libs, alt_libs)
    return out


def _windows(store, groups, individuals, chroms, win_starts, in_len: int):
    """Personal windows of every homozygous individual of every QTL of a chunk.

    Returns ``(qtl (m,) int64, individual (m,) int64, x (m, 4, in_len) uint8)``.
    """
    req_q, req_ind = [], []
    for j, (ref_ind, alt_ind) in enumerate(groups):
        members = np.concatenate([ref_ind, alt_ind])
        req_q.append(np.full(members.size, j, dtype=np.int64))
        req_ind.append(members)
    q = np.concatenate(req_q)
    ind = np.concatenate(req_ind)
    samples = np.array(individuals, dtype=object)[ind]
    x = store.windows(samples, chroms[q], win_starts[q], in_len, indels=False)
    return q, ind, x


def _predicted_l2(tr: np.ndarray, req_q, req_ind, groups) -> np.ndarray:
    out = np.zeros(len(groups), dtype=np.float64)
    for j, (ref_ind, alt_ind) in enumerate(groups):
        mine = np.flatnonzero(req_q == j)
        ref_rows = mine[np.isin(req_ind[mine], ref_ind)]
        alt_rows = mine[np.isin(req_ind[mine], alt_ind)]
        out[j] = group_mean_l2(tr, ref_rows, alt_rows)
    return out


def _write(out: Path, table: pd.DataFrame, summary: pd.DataFrame, *, overwrite: bool) -> None:
    from varinterp.effects.qtl_plots import Panel, save_scatter_panels
    from varinterp.io.atomic import atomic_dir

    written = table.copy()
    if "pos0" in written:  # every table states 1-based variant positions
        at = written.columns.get_loc("pos0")
        pos0 = written.pop("pos0").to_numpy(dtype=np.int64)
        written.insert(at, "pos", pd.array(np.where(pos0 >= 0, pos0 + 1, 0), dtype="Int64"))
        written.loc[pos0 < 0, "pos"] = pd.NA
    with atomic_dir(out, overwrite=overwrite) as tmp:
        written.to_csv(tmp / "qtl_effects.tsv", sep="\t", index=False, float_format="%.6g")
        summary.to_csv(tmp / "summary.tsv", sep="\t", index=False, float_format="%.6g")
        lo = np.log10(table["obs_l2"].to_numpy() + LOG_PSEUDOCOUNT)
        panels = [
            Panel(
                title=row.model,
                x=lo,
                y=np.log10(table[f"pred_l2_{row.model}"].to_numpy() + LOG_PSEUDOCOUNT),
                note=f"r = {row.pearson_log10_l2:.3f}, n = {row.n_scored}",
            )
            for row in summary.itertuples()
        ]
        save_scatter_panels(
            tmp / "scatter.png",
            panels,
            xlabel="observed log10(L2 + 1e-3)",
            ylabel="predicted log10(L2 + 1e-3)",
        )
