"""The MPRA benchmark of the CLIPNET K562 paper (`varinterp bench mpra`).

1. **Constructs** (`varinterp.effects.mpra_constructs`): each oligo of the oligo table
   (`varinterp.effects.mpra_table`) is inserted, once with the reference and once with
   the alternative allele, into the reporter backbone and cut to each model's input
   length.
2. **Predicted effect**: ``log2((q_ref + c) / (q_alt + c))`` from the quantity output
   (ensemble or hold-out composite, reverse-complement averaged;
   `varinterp.training.inference`), with a small pseudocount ``c`` (default 1e-3 RPM) so
   that a zero prediction gives a finite effect.
3. **emVar classification**: among active variants with a known emVar label, the
   precision-recall curve and auPRC of the score ``log2FC ** 2`` of every model and of
   every extra score column (other models' predicted log2 fold changes), with
   bootstrap intervals and auPRC differences against a baseline (`mpra_stats`).
4. **Agreement** of predicted with observed log2 fold changes: Pearson's r and the
   sign-mismatch rate, over all variants with an observed log2FC and over emVars.

Variants are compared on one common set: rows whose every score is finite.
``chroms`` restricts the benchmark to some chromosomes (the held-out ones, e.g. the
fold-0 chromosomes 9, 13, 20 and 21 of the human CLIPNET folds).

Outputs (a folder written atomically): ``mpra_effects.tsv``, ``summary.tsv``,
``bootstrap_auprc.tsv``, ``pr_curves.png``, ``scatter.png``, ``auprc_delta.png`` and,
on request, ``constructs.fa``; see ``docs/benchmarking_effects.md``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.progress import ProgressCallback, report

__all__ = ["MpraBenchResult", "mpra_benchmark", "predicted_log2fc"]

_TATA = re.compile("TATA[AT]AA")
_EGFP_START = "ATGGTGAGCAAGGGCGAG"


@dataclass
class MpraBenchResult:
    """What `mpra_benchmark` wrote, and warnings worth showing the user."""

    out: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


def predicted_log2fc(q_ref: np.ndarray, q_alt: np.ndarray, pseudocount: float) -> np.ndarray:
    """``log2((q_ref + c) / (q_alt + c))`` -> ``(n,) float64`` (NaN where undefined)."""
    a = np.asarray(q_ref, dtype=np.float64) + pseudocount
    b = np.asarray(q_alt, dtype=np.float64) + pseudocount
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log2(a / b)
    out[~np.isfinite(out)] = np.nan
    return out


def _select_chroms(table: pd.DataFrame, chroms: Sequence[str] | None) -> pd.DataFrame:
    if not chroms:
        return table
    from varinterp.io.contigs import spellings

    wanted = {s for c in chroms for s in spellings(str(c).strip())}
    keep = table["chrom"].isin(wanted)
    if not keep.any():
        msg = (
            f"no oligo table rows on --chroms {', '.join(chroms)}; the table's chromosomes "
            f"are {', '.join(sorted(set(table['chrom']))[:8])}"
        )
        raise InputError(msg)
    return table[keep].reset_index(drop=True)


def mpra_benchmark(
    *,
    oligos: str | os.PathLike,
    backbone: str | os.PathLike,
    insert_start: int,
    out: str | os.PathLike,
    models: Mapping[str, str | os.PathLike] | None = None,
    score_columns: Mapping[str, str] | None = None,
    insert_end: int | None = None,
    backbone_record: str | None = None,
    upstream: int | None = None,
    baseline: str | None = None,
    chroms: Sequence[str] | None = None,
    holdout_composite: bool = True,
    rc_average: bool = True,
    pseudocount: float = 1e-3,
    flip_observed: bool = False,
    n_boot: int = 1000,
    seed: int = 0,
    device: str | None = None,
    batch_size: int = 256,
    chunk_size: int = 2048,
    strict: bool = False,
    write_constructs: bool = False,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> MpraBenchResult:
    """Run the MPRA benchmark (module docstring) and write its folder to `out`.

    `models` maps labels to model directories; `score_columns` maps labels to columns of
    the oligo table holding other predictors' log2 fold changes (reference over
    alternative). `baseline` (default: the first label) is the model the auPRC
    differences are taken against. `flip_observed` negates an observed log2FC given as
    alternative over reference.
    """
    from varinterp.effects.mpra_constructs import read_backbone
    from varinterp.effects.mpra_table import read_oligo_table
    from varinterp.training.devices import resolve_device

    check_output(out)
    out = Path(out)
    models = dict(models or {})
    score_columns = dict(score_columns or {})
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if not models and not score_columns:
        msg = "nothing to benchmark; pass --model LABEL=MODEL_DIR and/or --score-column"
        raise InputError(msg)
    labels = list(models) + list(score_columns)
    if len(set(labels)) != len(labels):
        msg = f"model and score-column labels must be distinct, got {', '.join(labels)}"
        raise InputError(msg)
    baseline = baseline or labels[0]
    if baseline not in labels:
        msg = f"--baseline {baseline!r} is not one of the labels {', '.join(labels)}"
        raise InputError(msg)
    if pseudocount < 0 or n_boot < 0:
        msg = "the pseudocount and the number of bootstraps must be >= 0"
        raise InputError(msg)
    table = _select_chroms(read_oligo_table(oligos, strict=strict), chroms)
    if flip_observed:
        table["log2fc"] = -table["log2fc"]
    for label, col in score_columns.items():
        if col not in table.columns:
            msg = f"--score-column {label}={col}: the oligo table has no column {col!r}"
            raise InputError(msg)
        table[f"pred_log2fc_{label}"] = pd.to_numeric(
            table[col].replace("", np.nan), errors="coerce"
        )
    bb = read_backbone(
        backbone, insert_start=insert_start, insert_end=insert_end, record=backbone_record
    )
    warnings = []
    from varinterp.genome.encoding import sequence_from_codes

    down = sequence_from_codes(bb.downstream[:1500])
    if not _TATA.search(down[:100]):
        warnings.append(
            "no TATA box (TATAWAA) within 100 bp downstream of the insertion site; check "
            "the backbone and the insertion coordinate (see docs/benchmarking_effects.md)"
        )
    if _EGFP_START not in down:
        warnings.append(
            f"no EGFP start ({_EGFP_START}) within 1,500 bp downstream of the insertion "
            "site; is this the minP-GFP reporter? (see docs/benchmarking_effects.md)"
        )
    dev = resolve_device(device)
    ok = np.flatnonzero(table["status"].to_numpy() == "ok")
    constructs_fa: list[str] = []
    for mi, (label, path) in enumerate(models.items()):
        q_ref, q_alt, scorer, fa = _predict_model(
            table,
            ok,
            bb,
            path,
            upstream=upstream,
            holdout_composite=holdout_composite,
            rc_average=rc_average,
            device=dev,
            batch_size=batch_size,
            chunk_size=chunk_size,
            want_fasta=write_constructs and mi == 0,
            on_progress=_sub_progress(on_progress, mi, len(models) + 1),
        )
        constructs_fa = constructs_fa or fa
        table[f"q_ref_{label}"] = q_ref
        table[f"q_alt_{label}"] = q_alt
        table[f"pred_log2fc_{label}"] = predicted_log2fc(q_ref, q_alt, pseudocount)
        table[f"scorer_{label}"] = scorer
    summary, boot, eval_rows = _evaluate(
        table,
        labels,
        baseline,
        n_boot=n_boot,
        seed=seed,
        on_progress=_sub_progress(on_progress, len(models), len(models) + 1),
    )
    if not eval_rows.size:
        warnings.append(
            "no variant has active = 1 and an emVar label (with every score defined), so no "
            "auPRC was computed; add active and emvar columns to the oligo table"
        )
    _write(out, table, summary, boot, labels, baseline, eval_rows, constructs_fa, overwrite)
    return MpraBenchResult(out, table, summary, warnings)


def _sub_progress(on_progress, part: int, parts: int):
    if on_progress is None:
        return None

    def cb(done: int, total: int | None) -> None:
        frac = done / total if total else 0.0
        on_progress(int(1000 * (part + frac) / parts), 1000)

    return cb


def _predict_model(
    table,
    ok,
    bb,
    path,
    *,
    upstream,
    holdout_composite,
    rc_average,
    device,
    batch_size,
    chunk_size,
    want_fasta,
    on_progress,
):
    """Quantity of each ok row's ref and alt construct under one model directory."""
    from varinterp.effects.mpra_constructs import construct_two_hot
    from varinterp.genome.encoding import two_hot_to_iupac
    from varinterp.training.inference import load_model

    ens = load_model(path, device=device)
    ens.require_single_task("the MPRA benchmark")
    length = ens.input_length
    n = len(table)
    q_ref = np.full(n, np.nan)
    q_alt = np.full(n, np.nan)
    scorer = np.array([""] * n, dtype=object)
    # resolved up front: a missing fold model fails before any prediction
    scorer[ok] = [
        ens.scorer_of(c, holdout_composite=holdout_composite) for c in table["chrom"].iloc[ok]
    ]
    fasta: list[str] = []
    for lo in range(0, ok.size, chunk_size):
        rows = ok[lo : lo + chunk_size]
        sub = table.iloc[rows]
        x_ref, x_alt = construct_two_hot(
            sub["oligo"].tolist(),
            sub["ref"].tolist(),
            sub["alt"].tolist(),
            sub["offset"].to_numpy(),
            bb,
            length=length,
            upstream=upstream,
            alt_oligos=sub["oligo_alt"].tolist(),
        )
        chroms = sub["chrom"].to_numpy(dtype=object)
        _, q = ens.predict(
            np.concatenate([x_ref, x_alt]),
            chroms=np.concatenate([chroms, chroms]),
            holdout_composite=holdout_composite,
            rc_average=rc_average,
            batch_size=batch_size,
        ).task(0)
        k = rows.size
        q_ref[rows], q_alt[rows] = q[:k], q[k:]
        if want_fasta:
            for vid, a, b in zip(sub["id"], x_ref, x_alt, strict=True):
                fasta.append(
                    f">{vid}|ref\n{two_hot_to_iupac(a)}\n>{vid}|alt\n{two_hot_to_iupac(b)}\n"
                )
        report(on_progress, lo + k, ok.size)
    return q_ref, q_alt, scorer, fasta


def _evaluate(table, labels, baseline, *, n_boot, seed, on_progress):
    from varinterp.effects.mpra_stats import (
        auprc,
        bootstrap_auprc,
        compare_to_baseline,
        effect_agreement,
    )

    ok = table["status"].to_numpy() == "ok"
    scores = np.column_stack([table[f"pred_log2fc_{m}"].to_numpy(float) for m in labels])
    common = ok & np.isfinite(scores).all(axis=1)
    active = table["active"].to_numpy(float) == 1
    emvar = table["emvar"].to_numpy(float)
    eval_rows = np.flatnonzero(common & active & np.isfinite(emvar))
    y = emvar[eval_rows].astype(np.int64)
    sq = scores[eval_rows] ** 2
    boot = bootstrap_auprc(y, sq, n_boot=n_boot, seed=seed, on_progress=on_progress)
    if eval_rows.size and n_boot:
        comparison = compare_to_baseline(boot, labels, baseline)
    else:
        comparison = [{"model": m} for m in labels]
    obs = table["log2fc"].to_numpy(float)
    is_emvar = emvar == 1
    rows = []
    for m, label in enumerate(labels):
        kind = "score_column" if f"q_ref_{label}" not in table.columns else "model"
        all_ = effect_agreement(scores[common, m], obs[common])
        em = effect_agreement(scores[common & is_emvar, m], obs[common & is_emvar])
        row = {
            "model": label,
            "kind": kind,
            "n_variants": int(common.sum()),
            "n_eval": int(eval_rows.size),
            "n_emvar": int(y.sum()),
            "base_rate": float(y.mean()) if y.size else float("nan"),
            "auprc": auprc(y, sq[:, m]) if y.size else float("nan"),
        }
        row.update({k: v for k, v in comparison[m].items() if k != "model"})
        row.update(
            {
                "pearson_all": all_.pearson,
                "pearson_all_p": all_.pearson_p,
                "sign_mismatch_all": all_.sign_mismatch,
                "n_all": all_.n,
                "pearson_emvar": em.pearson,
                "pearson_emvar_p": em.pearson_p,
                "sign_mismatch_emvar": em.sign_mismatch,
                "n_emvar_obs": em.n,
            }
        )
        rows.append(row)
    rows.append(
        {
            "model": "random",
            "kind": "baseline",
            "n_variants": int(common.sum()),
            "n_eval": int(eval_rows.size),
            "n_emvar": int(y.sum()),
            "base_rate": float(y.mean()) if y.size else float("nan"),
            "auprc": float(y.mean()) if y.size else float("nan"),
        }
    )
    summary = pd.DataFrame(rows)
    summary.insert(2, "baseline", baseline)
    return summary, boot, eval_rows


def _write(out, table, summary, boot, labels, baseline, eval_rows, fasta, overwrite) -> None:
    from varinterp.effects.mpra_plots import save_delta_histograms, save_pr_curves
    from varinterp.effects.qtl_plots import Panel, save_scatter_panels
    from varinterp.io.atomic import atomic_dir

    with atomic_dir(out, overwrite=overwrite) as tmp:
        # the oligo table's 1-based pos stays; the 0-based pos0 is internal
        table.drop(columns="pos0", errors="ignore").to_csv(
            tmp / "mpra_effects.tsv", sep="\t", index=False, float_format="%.6g"
        )
        summary.to_csv(tmp / "summary.tsv", sep="\t", index=False, float_format="%.6g")
        pd.DataFrame(boot, columns=labels).rename_axis("draw").to_csv(
            tmp / "bootstrap_auprc.tsv", sep="\t", float_format="%.6g"
        )
        y = table["emvar"].to_numpy(float)[eval_rows]
        scores = {m: table[f"pred_log2fc_{m}"].to_numpy(float)[eval_rows] ** 2 for m in labels}
        save_pr_curves(
            tmp / "pr_curves.png",
            y,
            scores,
            title=f"emVar vs active non-emVar (n = {eval_rows.size}, {int(np.nansum(y))} emVars)",
        )
        j = labels.index(baseline)
        deltas = {m: boot[:, i] - boot[:, j] for i, m in enumerate(labels) if i != j}
        save_delta_histograms(tmp / "auprc_delta.png", deltas, baseline=baseline)
        ok = table["status"].to_numpy() == "ok"
        obs = table["log2fc"].to_numpy(float)
        panels = []
        for row in summary[summary["kind"] != "baseline"].itertuples():
            pred = table[f"pred_log2fc_{row.model}"].to_numpy(float)
            panels.append(
                Panel(
                    row.model,
                    obs[ok],
                    pred[ok],
                    note=f"r = {row.pearson_all:.3f}, sign mismatch = {row.sign_mismatch_all:.3f}",
                )
            )
        save_scatter_panels(
            tmp / "scatter.png",
            panels,
            xlabel="observed log2FC (ref/alt)",
            ylabel="predicted log2FC (ref/alt)",
            zero_lines=True,
        )
        if fasta:
            (tmp / "constructs.fa").write_text("".join(fasta), encoding="utf-8")
