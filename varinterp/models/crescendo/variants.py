"""Variant effects through a cREscENDO model: re-embed the ALT peak, re-predict its genes.

`score_crescendo_variants` is the architecture's ``variant_scorer``, so ``varinterp
score --model <crescendo model>`` and `varinterp.effects.frame.score_frame` reach it.
For an SNV inside a peak of the model:

1. the peak's 1,344-bp window (centred on the peak, from the FASTA) is embedded with the
   REF and with the ALT base; the ALT embedding changes both the peak's key (its
   attention scores, or the promoter's query when the peak is a gene's promoter) and its
   predicted accessibility in every cell (re-normalised over the cells);
2. every gene that has the peak among its tokens is predicted in every cell with the REF
   and with the ALT peak (the other peaks keep their cached embeddings);
3. per cell type (a task), the mean predicted log1p normalised expression of each
   allele gives ``quantity_ref`` / ``quantity_alt`` = ``expm1`` of it (expression per
   1e4 UMIs, the geometric-type mean), ``log2fc = log2((quantity_alt + 1) /
   (quantity_ref + 1))`` and ``expression_delta_z`` (the change in the gene's z-score).

One row per variant, gene and cell type (variant-major, then gene in model order, then
task), in the columns of `varinterp.effects.frame.frame_columns` plus ``gene`` (after
``task``) and ``peak`` (``chrom:start-end``), ``expression_delta_z``,
``accessibility_ref``, ``accessibility_alt`` (the peak's mean predicted accessibility in
the type's cells) before ``flags``. The profile and directionality scores do not apply
(NaN; ``tss_shift`` and ``tss_strand`` 0). A variant in no peak of the model gets one row
per task with ``gene`` ``.`` and flag ``no_peak``; a peak that is no gene's token,
``no_gene`` (its accessibility columns filled); a REF that is not the FASTA's base,
``ref_mismatch``. An ensemble of several members averages their predictions (``scorer``
``ensemble``). The forward strand is scored (as published; ``rc_average`` is ignored).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import torch

from varinterp.bases import CODE_N
from varinterp.effects.frame import ID_COLUMNS
from varinterp.effects.scores import SCORE_COLUMNS
from varinterp.errors import InputError
from varinterp.io.contigs import spellings
from varinterp.io.fasta import Reference
from varinterp.models.crescendo.data import one_hot_windows
from varinterp.models.crescendo.scoring import type_means
from varinterp.progress import report

__all__ = ["EXTRA_COLUMNS", "score_columns", "score_crescendo_variants"]

#: Columns this family adds to the scored table (see the module docstring).
EXTRA_COLUMNS = ("peak", "expression_delta_z", "accessibility_ref", "accessibility_alt")
_BASES = "ACGT"


def score_columns(*, multi_task: bool) -> list[str]:
    """The scored table's columns in order."""
    task = ["task"] if multi_task else []
    return [*ID_COLUMNS, *task, "gene", *SCORE_COLUMNS, *EXTRA_COLUMNS, "flags"]


def _variants(variants: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("chrom", "ref", "alt") if c not in variants]
    if "pos" not in variants and "pos0" not in variants:
        missing.append("pos (1-based) or pos0")
    if missing:
        raise InputError(f"variant table lacks column(s) {', '.join(missing)}")
    out = pd.DataFrame({"chrom": variants["chrom"].astype(str)})
    if "pos0" in variants:
        out["pos0"] = variants["pos0"].to_numpy(np.int64)
    else:
        out["pos0"] = variants["pos"].to_numpy(np.int64) - 1
    out["id"] = variants["id"].astype(str).to_numpy() if "id" in variants else "."
    out["ref"] = variants["ref"].astype(str).str.upper().to_numpy()
    out["alt"] = variants["alt"].astype(str).str.upper().to_numpy()
    bad = ~(
        out["ref"].isin(list(_BASES)) & out["alt"].isin(list(_BASES)) & (out["ref"] != out["alt"])
    )
    if bad.any():
        r = out[bad].iloc[0]
        msg = (
            f"variant {r['chrom']}:{r['pos0'] + 1} {r['ref']}>{r['alt']} is not a SNV of A, C, "
            f"G, T ({int(bad.sum())} such rows); score SNVs only"
        )
        raise InputError(msg)
    return out.reset_index(drop=True)


class _Members:
    """The members of a loaded cREscENDO ensemble and the data buffers of the first."""

    def __init__(self, ens) -> None:
        self.models = list(ens.models.values())
        self.device = ens.device
        self.first = self.models[0]
        cfg = self.first.config
        self.config = cfg
        self.coords = self.first.peak_coords.cpu().numpy()
        self.tokens = self.first.token_peaks.cpu().numpy()
        meta = ens.model_dir.metadata
        self.chroms = list(meta.get("chroms") or [f"contig{i}" for i in range(cfg.n_chroms)])
        self.genes = list(meta.get("genes") or [f"gene{i}" for i in range(cfg.n_genes)])
        self.scorer = "ensemble" if len(self.models) > 1 else next(iter(ens.models))
        self.cell_type = self.first.cell_type
        self.n_types = int(cfg.n_cell_types)

    def contig(self, name: str) -> int | None:
        for s in spellings(name):
            if s in self.chroms:
                return self.chroms.index(s)
        return None

    def peaks_at(self, contig: int, pos0: int) -> np.ndarray:
        c = self.coords
        return np.flatnonzero((c[:, 0] == contig) & (c[:, 1] <= pos0) & (c[:, 2] > pos0))

    def genes_of(self, peak: int) -> np.ndarray:
        return np.flatnonzero((self.tokens == peak).any(axis=1))


def _embed(model, codes: np.ndarray, device) -> torch.Tensor:
    x = torch.from_numpy(one_hot_windows(codes)).to(device)
    return model.encoder.embedding(x).float()


def _gene_log1p(model, gene: int, peak: int, emb: torch.Tensor) -> torch.Tensor:
    """Mean predicted log1p expression per type ``(2, T)`` for REF / ALT embeddings
    ``emb`` ``(2, E)`` of `peak`; and the z-scores' type means ``(2, T)``."""
    out = []
    for allele in range(2):
        embedding = model.peak_embedding.clone()
        embedding[peak] = emb[allele]
        norm = model.peak_norm.clone()
        norm[peak] = model.accessibility(emb[allele : allele + 1])[0].norm().clamp_min(1e-12)
        tokens, mask, acc = model.gene_inputs(gene, embedding, norm)
        w = model.gene_model.weights(tokens, mask)[0]
        out.append(model.gene_expression(gene, acc, w))
    z = torch.stack(out)  # (2, C)
    return type_means(z, model.cell_type, int(model.config.n_cell_types))


def score_crescendo_variants(
    ens,
    variants: pd.DataFrame,
    *,
    fasta,
    tasks=None,
    on_progress=None,
    **options: Any,
) -> pd.DataFrame:
    """Score the SNVs of `variants` (module docstring); `options` are `score_frame`'s
    other keywords (personal contexts and null p-values do not apply and are refused)."""
    if options.get("store") is not None or options.get("sample") is not None:
        raise InputError("a cREscENDO model scores reference peaks; drop --store / --sample")
    if options.get("null_shuffles"):
        raise InputError("a cREscENDO model has no shuffled-null p-values; drop --null-shuffles")
    m = _Members(ens)
    names = list(ens.tasks)
    if tasks is None:
        chosen = list(range(len(names)))
    else:
        unknown = [t for t in tasks if t not in names]
        if unknown or not tasks:
            msg = f"--tasks {', '.join(unknown) or '(none)'}: the model's cell types are {names}"
            raise InputError(msg)
        chosen = [names.index(t) for t in tasks]
    multi = len(names) > 1 or tasks is not None
    table = _variants(variants)
    reference = fasta if isinstance(fasta, Reference) else Reference(fasta)
    cfg = m.config
    rows: list[dict[str, Any]] = []
    nan = math.nan

    def emit(v, gene, peak_name, acc, expr, flags):
        for t in chosen:
            q_ref = q_alt = fc = dz = nan
            if expr is not None:
                (l_ref, l_alt), (z_ref, z_alt) = expr
                q_ref, q_alt = math.expm1(l_ref[t]), math.expm1(l_alt[t])
                fc = (l_alt[t] - l_ref[t]) / math.log(2)
                dz = z_alt[t] - z_ref[t]
            row = {
                "chrom": v.chrom,
                "pos": int(v.pos0) + 1,
                "id": v.id,
                "ref": v.ref,
                "alt": v.alt,
                "scorer": m.scorer,
            }
            if multi:
                row["task"] = names[t]
            row.update(
                {
                    "gene": gene,
                    "quantity_ref": q_ref,
                    "quantity_alt": q_alt,
                    "log2fc": fc,
                    "profile_l2": nan,
                    "profile_jsd": nan,
                    "directionality_ref": nan,
                    "directionality_alt": nan,
                    "directionality_delta": nan,
                    "tss_shift": 0,
                    "tss_strand": 0,
                    "peak": peak_name,
                    "expression_delta_z": dz,
                    "accessibility_ref": acc[0][t] if acc is not None else nan,
                    "accessibility_alt": acc[1][t] if acc is not None else nan,
                    "flags": flags,
                }
            )
            rows.append(row)

    with torch.no_grad():
        for i, v in enumerate(table.itertuples(index=False)):
            contig = m.contig(v.chrom)
            peaks = np.zeros(0, np.int64) if contig is None else m.peaks_at(contig, int(v.pos0))
            if peaks.size == 0:
                emit(v, ".", ".", None, None, "no_peak")
                report(on_progress, i + 1, len(table))
                continue
            fasta_chrom = next((s for s in spellings(v.chrom) if s in reference.lengths), None)
            for p in peaks:
                chrom_name, start, end = m.chroms[m.coords[p, 0]], m.coords[p, 1], m.coords[p, 2]
                peak_name = f"{chrom_name}:{start}-{end}"
                w0 = (start + end) // 2 - cfg.window_length // 2 + cfg.crop_start
                offset = int(v.pos0) - w0
                if fasta_chrom is None or not 0 <= offset < cfg.input_length:
                    emit(v, ".", peak_name, None, None, "outside_window")
                    continue
                codes = reference.codes(fasta_chrom, max(w0, 0), w0 + cfg.input_length)
                if w0 < 0:
                    codes = np.concatenate([np.full(-w0, CODE_N, np.uint8), codes])
                codes = np.pad(codes, (0, cfg.input_length - codes.size), constant_values=CODE_N)
                flags = "." if codes[offset] == _BASES.index(v.ref) else "ref_mismatch"
                pair = np.stack([codes, codes])
                pair[0, offset] = _BASES.index(v.ref)
                pair[1, offset] = _BASES.index(v.alt)
                acc_sum = expr_sum = None
                genes = m.genes_of(int(p))
                for model in m.models:
                    emb = _embed(model, pair, m.device)
                    acc = type_means(model.accessibility(emb), model.cell_type, m.n_types)
                    acc_sum = acc if acc_sum is None else acc_sum + acc
                    per_gene = []
                    for g in genes:
                        z = _gene_log1p(model, int(g), int(p), emb)
                        log1p = model.gene_mean[g] + model.gene_sd[g] * z
                        per_gene.append(torch.stack([log1p, z]))
                    if per_gene:
                        stacked = torch.stack(per_gene)
                        expr_sum = stacked if expr_sum is None else expr_sum + stacked
                acc_mean = (acc_sum / len(m.models)).cpu().numpy()
                if genes.size == 0:
                    emit(v, ".", peak_name, acc_mean, None, "no_gene" if flags == "." else flags)
                    continue
                expr_mean = (expr_sum / len(m.models)).cpu().numpy().astype(np.float64)
                for j, g in enumerate(genes):
                    e = expr_mean[j]  # (2 kinds, 2 alleles, T)
                    emit(
                        v,
                        m.genes[g],
                        peak_name,
                        acc_mean,
                        ((e[0][0], e[0][1]), (e[1][0], e[1][1])),
                        flags,
                    )
            report(on_progress, i + 1, len(table))
    return pd.DataFrame(rows, columns=score_columns(multi_task=multi))
