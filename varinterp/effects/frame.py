"""Score variants held in a table, in memory: `score_frame`.

`score_frame` is the scoring core; `varinterp.effects.score.score_variants` (a VCF in,
TSV/VCF out, chunked and resumable) streams every chunk through it, and the demo and
notebooks call it directly.

For each SNV two windows of the model's input length are centred on it
(`varinterp.effects.windows`): the **reference context** (the FASTA, homozygous two-hot)
or a **personal context** (a genome store's sample), with REF/REF at the centre in the
ref window and ALT/ALT (or REF/ALT with ``heterozygous``) in the alt window. Both are
predicted by the model directory's ensemble mean (or, with ``holdout_composite``, by the
member that held out the variant's chromosome), reverse-complement averaged unless
turned off, through the one forward loop (`varinterp.training.inference`). The scores
are those of `varinterp.effects.scores`, one set per task.

**Tasks.** A single-task model (CLIPNET) gives one row per variant. A multi-task model
(DeepDETAILS: one task per cell type) gives one row per variant and task, variant-major,
with a ``task`` column after ``scorer``; `tasks` picks some.

**Families that score their own way.** An architecture with a ``variant_scorer`` (a
region x motif model, a peak-embedding model) gets the variants and every option, and
returns the same table layout.

**Extra inputs.** A family that needs more than sequence (DeepDETAILS: each cell type's
accessibility) reads it for the windows from `context_tracks` (name -> file) and
`context_options` through its architecture's ``read_context``.

``null_shuffles=K`` adds empirical p-values from K dinucleotide-shuffled reference
contexts per variant (`varinterp.effects.shuffle`), seeded by ``(seed, variant index)``
where the index counts from `first_index` (so a chunk of a longer list gets the same
p-values as the whole list).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from varinterp.effects.scores import SCORE_COLUMNS, effect_scores, empirical_pvalues
from varinterp.effects.shuffle import shuffled_contexts, window_seeds
from varinterp.effects.windows import BASE_INDEX, allele_windows, build_windows, window_starts
from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.fasta import Reference
from varinterp.progress import ProgressCallback, report
from varinterp.training.inference import Ensemble, load_model

__all__ = ["ID_COLUMNS", "PVALUE_COLUMNS", "frame_columns", "score_frame", "task_names"]

ID_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "scorer")
PVALUE_COLUMNS = ("pval_abs_log2fc", "pval_profile_l2")


def frame_columns(*, null_shuffles: int = 0, multi_task: bool = False) -> list[str]:
    """The columns of a scored table, in order."""
    cols = [*ID_COLUMNS, *(["task"] if multi_task else []), *SCORE_COLUMNS]
    if null_shuffles:
        cols += list(PVALUE_COLUMNS)
    return [*cols, "flags"]


def task_names(ens: Ensemble, tasks: Sequence[str] | None) -> tuple[list[int], bool]:
    """Indices of the chosen tasks of `ens` and whether the table is multi-task (long)."""
    names = list(ens.tasks)
    if tasks is None:
        return list(range(len(names))), len(names) > 1
    if len(names) == 1 and names[0] == "":
        msg = f"{ens.model_dir.path} is a single-task model; drop --tasks"
        raise InputError(msg)
    unknown = [t for t in tasks if t not in names]
    if unknown or not tasks:
        msg = f"--tasks {', '.join(unknown) or '(none)'}: the model's tasks are {', '.join(names)}"
        raise InputError(msg)
    return [names.index(t) for t in tasks], True


def _variant_columns(variants: pd.DataFrame) -> tuple[list[str], np.ndarray, list, list, list]:
    missing = [c for c in ("chrom", "ref", "alt") if c not in variants]
    if "pos" not in variants and "pos0" not in variants:
        missing.append("pos (1-based) or pos0")
    if missing:
        msg = f"variant table lacks column(s) {', '.join(missing)}"
        raise InputError(msg)
    chroms = variants["chrom"].astype(str).tolist()
    if "pos0" in variants:
        pos0 = variants["pos0"].to_numpy(dtype=np.int64)
    else:
        pos0 = variants["pos"].to_numpy(dtype=np.int64) - 1
    refs = variants["ref"].astype(str).str.upper().tolist()
    alts = variants["alt"].astype(str).str.upper().tolist()
    bad = [
        i
        for i, (r, a) in enumerate(zip(refs, alts, strict=True))
        if r not in BASE_INDEX or a not in BASE_INDEX or r == a
    ]
    if bad:
        i = bad[0]
        msg = (
            f"variant {chroms[i]}:{pos0[i] + 1} {refs[i]}>{alts[i]} is not a SNV of A, C, G, T "
            f"({len(bad)} such rows); score SNVs only"
        )
        raise InputError(msg)
    ids = variants["id"].astype(str).tolist() if "id" in variants else ["."] * len(chroms)
    return chroms, pos0, refs, alts, ids


class _Scorer:
    """One scoring call's fixed inputs (model, options, context reader)."""

    def __init__(self, ens: Ensemble, task_idx: list[int], opts: dict[str, Any]) -> None:
        self.ens = ens
        self.task_idx = task_idx
        self.opts = opts

    def context(self, chroms: np.ndarray, starts: np.ndarray) -> dict[str, np.ndarray] | None:
        spec = self.ens.spec
        if not spec.context:
            return None
        reader = self.ens.arch.read_context
        tracks = self.opts["context_tracks"]
        if reader is None or not tracks:
            msg = (
                f"this {self.ens.arch.name} model also needs {', '.join(spec.context)} at "
                "every variant; pass --context-tracks (a table of name and file per task)"
            )
            raise InputError(msg)
        return reader(
            tracks=tracks,
            options=self.opts["context_options"],
            chroms=[str(c) for c in chroms],
            starts=np.asarray(starts, dtype=np.int64),
            spec=spec,
        )

    def scores(self, x, refs, alts, chroms, starts) -> tuple[list[dict], list[str]]:
        """Per chosen task, the `effect_scores` of windows `x` ``(n, 4, L)`` two-hot."""
        xr, xa = allele_windows(x, refs, alts, heterozygous=self.opts["heterozygous"])
        n = x.shape[0]
        both = np.concatenate([xr, xa])
        ch = np.concatenate([chroms, chroms])
        ctx = self.context(chroms, starts)
        if ctx is not None:
            ctx = {k: np.concatenate([v, v]) for k, v in ctx.items()}
        out = self.ens.predict(both, chroms=ch, context=ctx, **self.opts["predict"])
        per_task = []
        for t in self.task_idx:
            prof, q = out.task(t)
            per_task.append(
                effect_scores(
                    prof[:n], q[:n], prof[n:], q[n:], pseudocount=self.opts["pseudocount"]
                )
            )
        comp = self.opts["predict"]["holdout_composite"]
        return per_task, [self.ens.scorer_of(str(c), holdout_composite=comp) for c in chroms]

    def null_pvalues(self, codes, refs, alts, chroms, starts, seeds, observed) -> list[tuple]:
        k = self.opts["null_shuffles"]
        n, length = codes.shape
        shuf = shuffled_contexts(codes, n_shuffles=k, seeds=seeds).reshape(n * k, length)
        rep = np.repeat(np.arange(n), k)
        null, _ = self.scores(2 * one_hot(shuf), refs[rep], alts[rep], chroms[rep], starts[rep])
        out = []
        for obs, nul in zip(observed, null, strict=True):
            p_fc = empirical_pvalues(np.abs(obs["log2fc"]), np.abs(nul["log2fc"]).reshape(n, k))
            p_l2 = empirical_pvalues(obs["profile_l2"], nul["profile_l2"].reshape(n, k))
            out.append((p_fc, p_l2))
        return out


def _table(ids_part: dict, per_task: list[dict], pvals, task_labels, flags, multi: bool):
    n = len(ids_part["chrom"])
    t = len(per_task)
    if not multi:
        table = pd.DataFrame({**ids_part, **per_task[0]})
        if pvals is not None:
            table["pval_abs_log2fc"], table["pval_profile_l2"] = pvals[0]
        table["flags"] = flags
        return table
    cols: dict[str, Any] = {
        k: np.repeat(np.asarray(v, dtype=object), t) for k, v in ids_part.items()
    }
    cols["pos"] = np.repeat(np.asarray(ids_part["pos"]), t)
    cols["task"] = np.tile(np.asarray(task_labels, dtype=object), n)
    for name in SCORE_COLUMNS:
        cols[name] = np.stack([s[name] for s in per_task], axis=1).reshape(-1)
    if pvals is not None:
        cols["pval_abs_log2fc"] = np.stack([p[0] for p in pvals], axis=1).reshape(-1)
        cols["pval_profile_l2"] = np.stack([p[1] for p in pvals], axis=1).reshape(-1)
    cols["flags"] = np.repeat(np.asarray(flags, dtype=object), t)
    return pd.DataFrame(cols)


def score_frame(
    model: Ensemble | str | os.PathLike,
    variants: pd.DataFrame,
    *,
    fasta: Reference | str | os.PathLike,
    store=None,
    sample: str | None = None,
    heterozygous: bool = False,
    holdout_composite: bool = False,
    rc_average: bool = True,
    null_shuffles: int = 0,
    pseudocount: float = 1e-3,
    seed: int = 0,
    tasks: Sequence[str] | None = None,
    context_tracks: Mapping[str, str | os.PathLike] | None = None,
    context_options: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    bf16: bool = True,
    first_index: int = 0,
    window_budget: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Effect scores of the SNVs in `variants` (see the module docstring).

    `variants` has columns ``chrom``, ``pos`` (1-based, as in a VCF; or ``pos0``, 0-based),
    ``ref``, ``alt`` and optionally ``id``. `model` is a loaded `Ensemble`
    (`varinterp.training.inference.load_model`) or a model directory (loaded on
    `device`). `fasta` is the reference (a path or an open `Reference`); `store` (a
    `GenomeStore` or its path) with `sample` scores in that person's context.

    Returns the table of `frame_columns`: ``chrom pos id ref alt scorer [task]`` + the
    scores of `varinterp.effects.scores.effect_scores` (+ ``pval_abs_log2fc
    pval_profile_l2``) + ``flags`` (``edge`` when the window passes a contig end, else
    ``.``), in the order of `variants`. `batch_size` (windows per forward pass, before
    reverse-complement doubling) defaults to 256 on CUDA and 32 on the CPU;
    `on_progress` gets ``(variants done, n)``.
    """
    ens = model if isinstance(model, Ensemble) else load_model(model, device=device)
    if ens.arch.variant_scorer is not None:
        return ens.arch.variant_scorer(
            ens, variants, fasta=fasta, store=store, sample=sample, heterozygous=heterozygous,
            holdout_composite=holdout_composite, rc_average=rc_average,
            null_shuffles=null_shuffles, pseudocount=pseudocount, seed=seed, tasks=tasks,
            context_tracks=context_tracks, context_options=context_options,
            batch_size=batch_size, bf16=bf16, first_index=first_index, on_progress=on_progress,
        )  # fmt: skip
    reference = fasta if isinstance(fasta, Reference) else Reference(fasta)
    if (store is None) != (sample is None):
        msg = "personal context needs both a genome store (--store) and a sample (--sample)"
        raise InputError(msg)
    if null_shuffles < 0 or pseudocount < 0:
        msg = f"null_shuffles and pseudocount must be >= 0 (got {null_shuffles}, {pseudocount})"
        raise InputError(msg)
    if store is not None and not hasattr(store, "windows"):
        from varinterp.genome.store import GenomeStore

        store = GenomeStore.open(store)
        store.sample_indices([sample])
    task_idx, multi = task_names(ens, tasks)
    if batch_size is None:
        batch_size = 256 if ens.device.type == "cuda" else 32
    opts = {
        "heterozygous": heterozygous,
        "null_shuffles": int(null_shuffles),
        "pseudocount": float(pseudocount),
        "context_tracks": dict(context_tracks or {}),
        "context_options": dict(context_options or {}),
        "predict": {
            "holdout_composite": holdout_composite,
            "rc_average": rc_average,
            "batch_size": batch_size,
            "bf16": bf16,
        },
    }
    scorer = _Scorer(ens, task_idx, opts)
    chroms_l, pos0, refs_l, alts_l, ids = _variant_columns(variants)
    chroms = np.array(chroms_l, dtype=object)
    refs = np.array([BASE_INDEX[r] for r in refs_l], dtype=np.int64)
    alts = np.array([BASE_INDEX[a] for a in alts_l], dtype=np.int64)
    labels = [ens.tasks[t] for t in task_idx]
    length = ens.input_length
    budget = window_budget or max(2 * batch_size, 2048)
    # slices small enough that windows (and shuffled nulls) stay a bounded size
    step = max(1, budget // (2 * (1 + int(null_shuffles))))
    parts = []
    n = len(chroms)
    for lo in range(0, n, step):
        sl = slice(lo, min(lo + step, n))
        x, codes, edge = build_windows(
            reference, list(chroms[sl]), pos0[sl], length, store=store, sample=sample
        )
        starts = window_starts(pos0[sl], length)
        per_task, scorers = scorer.scores(x, refs[sl], alts[sl], chroms[sl], starts)
        pvals = None
        if null_shuffles:
            seeds = window_seeds(seed, np.arange(first_index + sl.start, first_index + sl.stop))
            pvals = scorer.null_pvalues(
                codes, refs[sl], alts[sl], chroms[sl], starts, seeds, per_task
            )
        ids_part = {
            "chrom": chroms[sl],
            "pos": pos0[sl] + 1,
            "id": ids[sl],
            "ref": refs_l[sl],
            "alt": alts_l[sl],
            "scorer": scorers,
        }
        flags = np.where(edge, "edge", ".")
        parts.append(_table(ids_part, per_task, pvals, labels, flags, multi))
        report(on_progress, sl.stop, n)
    if not parts:
        return pd.DataFrame(columns=frame_columns(null_shuffles=null_shuffles, multi_task=multi))
    return pd.concat(parts, ignore_index=True)
