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

from varinterp.effects.scores import (
    SCORE_COLUMNS,
    effect_scores,
    empirical_pvalues,
    jsd_distance,
)
from varinterp.effects.shuffle import shuffled_contexts, window_seeds
from varinterp.effects.windows import (
    BASE_INDEX,
    aligned_positions,
    allele_codes,
    allele_windows,
    build_windows,
    reference_contexts,
    window_starts,
)
from varinterp.errors import InputError
from varinterp.genome.encoding import codes_from_sequence, one_hot, two_hot
from varinterp.io.fasta import Reference
from varinterp.progress import ProgressCallback, report
from varinterp.training.inference import Ensemble, load_model, profile_tracks

__all__ = ["ID_COLUMNS", "PVALUE_COLUMNS", "frame_columns", "score_frame", "task_names"]

ID_COLUMNS = ("chrom", "pos", "id", "ref", "alt", "scorer")
PVALUE_COLUMNS = ("pval_abs_log2fc", "pval_profile_l2")
#: Default longest indel scored (|len(ALT) - len(REF)|, bp).
MAX_INDEL_LENGTH = 50
_ACGT = frozenset("ACGT")


def frame_columns(
    *, null_shuffles: int = 0, multi_task: bool = False, ilen: bool = False
) -> list[str]:
    """The columns of a scored table, in order (``ilen`` after ``alt`` when `ilen`)."""
    ids = [*ID_COLUMNS[:5], "ilen", ID_COLUMNS[5]] if ilen else list(ID_COLUMNS)
    cols = [*ids, *(["task"] if multi_task else []), *SCORE_COLUMNS]
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


def _variant_columns(
    variants: pd.DataFrame, max_indel: int
) -> tuple[list[str], np.ndarray, list, list, list]:
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
        if not r or not a or set(r) - _ACGT or set(a) - _ACGT or r == a
    ]
    if bad:
        i = bad[0]
        msg = (
            f"variant {chroms[i]}:{pos0[i] + 1} {refs[i]}>{alts[i]} does not have REF and ALT "
            f"of A, C, G, T that differ ({len(bad)} such rows); give explicit alleles"
        )
        raise InputError(msg)
    too_long = [
        i
        for i, (r, a) in enumerate(zip(refs, alts, strict=True))
        if abs(len(a) - len(r)) > max_indel
    ]
    if too_long:
        i = too_long[0]
        msg = (
            f"variant {chroms[i]}:{pos0[i] + 1} changes the length by "
            f"{len(alts[i]) - len(refs[i])} bp, more than max_indel_length={max_indel} "
            f"({len(too_long)} such rows); raise --max-indel-length or drop them"
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
        """Per chosen task, the `effect_scores` of SNV windows `x` ``(n, 4, L)`` two-hot."""
        xr, xa = allele_windows(x, refs, alts, heterozygous=self.opts["heterozygous"])
        return self.predict_scores(xr, xa, chroms, starts)

    def predict_scores(self, xr, xa, chroms, starts, lengths=None) -> tuple[list[dict], list[str]]:
        """Per chosen task, the `effect_scores` of ref and alt windows ``(n, 4, L)``;
        `lengths` (``(ref_len, alt_len)`` arrays) scores the profiles on aligned positions
        where the lengths differ (`aligned_scores`)."""
        n = xr.shape[0]
        both = np.concatenate([xr, xa])
        ch = np.concatenate([chroms, chroms])
        ctx = self.context(chroms, starts)
        if ctx is not None:
            ctx = {k: np.concatenate([v, v]) for k, v in ctx.items()}
        out = self.ens.predict(both, chroms=ch, context=ctx, **self.opts["predict"])
        per_task = []
        for t in self.task_idx:
            prof, q = out.task(t)
            scores = effect_scores(
                prof[:n], q[:n], prof[n:], q[n:], pseudocount=self.opts["pseudocount"]
            )
            if lengths is not None:
                offset = xr.shape[2] // 2 - self.ens.spec.output_start
                aligned_scores(scores, prof[:n], q[:n], prof[n:], q[n:], *lengths, offset)
            per_task.append(scores)
        comp = self.opts["predict"]["holdout_composite"]
        return per_task, [self.ens.scorer_of(str(c), holdout_composite=comp) for c in chroms]

    def allele_scores(self, context, ref_len, ref_codes, alt_codes, chroms, starts):
        """Scores of variants of any kind from haplotype contexts ``(n, 2, L + extra)``
        (`varinterp.effects.windows.allele_codes`)."""
        length = self.ens.input_length
        hr = allele_codes(context, ref_len, ref_codes, length)
        ha = allele_codes(context, ref_len, alt_codes, length)
        xr = two_hot(hr)
        xa = (
            two_hot(np.stack([hr[:, 0], ha[:, 1]], axis=1))
            if self.opts["heterozygous"]
            else two_hot(ha)
        )
        alt_len = np.array([a.size for a in alt_codes], dtype=np.int64)
        return self.predict_scores(xr, xa, chroms, starts, (np.asarray(ref_len), alt_len))

    def null_pvalues(self, codes, refs, alts, chroms, starts, seeds, observed) -> list[tuple]:
        k = self.opts["null_shuffles"]
        n, length = codes.shape
        shuf = shuffled_contexts(codes, n_shuffles=k, seeds=seeds).reshape(n * k, length)
        rep = np.repeat(np.arange(n), k)
        null, _ = self.scores(2 * one_hot(shuf), refs[rep], alts[rep], chroms[rep], starts[rep])
        return _pvalues(observed, null, n, k)

    def allele_null_pvalues(self, context, ref_len, ref_codes, alt_codes, chroms, starts, seeds,
                            observed) -> list[tuple]:  # fmt: skip
        k = self.opts["null_shuffles"]
        n, _, width = context.shape
        shuf = shuffled_contexts(context[:, 0], n_shuffles=k, seeds=seeds).reshape(n * k, width)
        rep = np.repeat(np.arange(n), k)
        half = self.ens.input_length // 2
        for row, i in enumerate(rep):  # the REF allele stays where the allele goes
            shuf[row, half : half + int(ref_len[i])] = ref_codes[i]
        ctx = np.repeat(shuf[:, None, :], 2, axis=1)
        null, _ = self.allele_scores(
            ctx, ref_len[rep], [ref_codes[i] for i in rep], [alt_codes[i] for i in rep],
            chroms[rep], starts[rep],
        )  # fmt: skip
        return _pvalues(observed, null, n, k)


def _pvalues(observed: list[dict], null: list[dict], n: int, k: int) -> list[tuple]:
    out = []
    for obs, nul in zip(observed, null, strict=True):
        p_fc = empirical_pvalues(np.abs(obs["log2fc"]), np.abs(nul["log2fc"]).reshape(n, k))
        p_l2 = empirical_pvalues(obs["profile_l2"], nul["profile_l2"].reshape(n, k))
        out.append((p_fc, p_l2))
    return out


def aligned_scores(
    scores: dict[str, np.ndarray],
    profile_ref: np.ndarray,
    quantity_ref: np.ndarray,
    profile_alt: np.ndarray,
    quantity_alt: np.ndarray,
    ref_len: np.ndarray,
    alt_len: np.ndarray,
    offset: int,
) -> None:
    """Recompute ``profile_l2``, ``profile_jsd`` and ``tss_shift`` in `scores` (in place)
    for the variants whose REF and ALT lengths differ, on the profile positions that show
    the same reference base in both windows (`varinterp.effects.windows.aligned_positions`;
    the variant starts at `offset` of the output window). The inserted bases are removed
    from the alt profile and the deleted ones from the ref profile, and each profile is
    renormalised over what is left before the JSD (variant-scorer's indel-adjusted JSD);
    ``tss_shift`` is in reference bases. Quantities and directionality use the whole
    window. Profiles are ``(n, strands, L)``.
    """
    pr = np.asarray(profile_ref, dtype=np.float64)
    pa = np.asarray(profile_alt, dtype=np.float64)
    if pr.shape[-1] == 0:
        return
    tr = profile_tracks(pr, np.asarray(quantity_ref, dtype=np.float64).reshape(-1))
    ta = profile_tracks(pa, np.asarray(quantity_alt, dtype=np.float64).reshape(-1))
    for i in np.flatnonzero(np.asarray(ref_len) != np.asarray(alt_len)):
        ri, ai = aligned_positions(int(ref_len[i]), int(alt_len[i]), offset, pr.shape[-1])
        scores["profile_l2"][i] = np.sqrt(((ta[i][:, ai] - tr[i][:, ri]) ** 2).sum())
        scores["profile_jsd"][i] = jsd_distance(
            pr[i][:, ri].reshape(1, -1), pa[i][:, ai].reshape(1, -1)
        )[0]
        strand = 0 if scores["tss_strand"][i] == 1 else 1
        scores["tss_shift"][i] = ri[ta[i][strand, ai].argmax()] - ri[tr[i][strand, ri].argmax()]


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


def _check_ref_alleles(reference, chroms, pos0, refs_l, mask) -> None:
    for i in np.flatnonzero(mask):
        c, p, r = str(chroms[i]), int(pos0[i]), refs_l[i]
        have = reference.sequence(c, p, p + len(r)).upper()
        if have != r:
            msg = (
                f"variant {c}:{p + 1} has REF {r} but {reference.path.name} has "
                f"{have or '(nothing)'} there; check the genome build"
            )
            raise InputError(msg)


def _score_rows(scorer, reference, store, sample, rows, chroms, pos0, refs_l, alts_l, refs, alts,
                ref_len, plain, seed, first_index):  # fmt: skip
    """``(per_task, scorers, pvals, edge)`` of the variants `rows` (one path for all)."""
    length = scorer.ens.input_length
    starts = window_starts(pos0[rows], length)
    ch = chroms[rows]
    k = scorer.opts["null_shuffles"]
    seeds = window_seeds(seed, first_index + rows) if k else None
    if plain:
        x, codes, edge = build_windows(reference, list(ch), pos0[rows], length)
        per_task, scorers = scorer.scores(x, refs[rows], alts[rows], ch, starts)
        pvals = None
        if k:
            pvals = scorer.null_pvalues(codes, refs[rows], alts[rows], ch, starts, seeds, per_task)
        return per_task, scorers, pvals, edge
    ref_codes = [codes_from_sequence(refs_l[i]) for i in rows]
    alt_codes = [codes_from_sequence(alts_l[i]) for i in rows]
    rl = ref_len[rows]
    extra = int(max(0, (rl - np.array([a.size for a in alt_codes])).max()))
    extra = max(extra, int(rl.max()))
    if store is None:
        context = reference_contexts(reference, list(ch), pos0[rows], length, extra)
    else:
        names = [store.contig_name(c) for c in ch]
        context = store.allele_contexts(sample, names, pos0[rows], rl, length, extra)
    reach = length + np.maximum(rl - np.array([a.size for a in alt_codes]), 0)
    edge = np.array(
        [
            s < 0 or s + int(e) > reference.lengths[c]
            for c, s, e in zip(ch, starts, reach, strict=True)
        ]
    )
    per_task, scorers = scorer.allele_scores(context, rl, ref_codes, alt_codes, ch, starts)
    pvals = None
    if k:
        ref_context = reference_contexts(reference, list(ch), pos0[rows], length, extra)
        pvals = scorer.allele_null_pvalues(
            ref_context, rl, ref_codes, alt_codes, ch, starts, seeds, per_task
        )
    return per_task, scorers, pvals, edge


def _merge(results, sl):
    """Put the per-path results of a slice back in the slice's order."""
    n = sl.size
    where = {int(i): k for k, i in enumerate(sl)}
    first = results[0]
    per_task = [
        {name: np.empty(n, dtype=np.asarray(col).dtype) for name, col in task.items()}
        for task in first[1]
    ]
    scorers = np.empty(n, dtype=object)
    edge = np.zeros(n, dtype=bool)
    pvals = None if first[3] is None else [(np.empty(n), np.empty(n)) for _ in first[3]]
    for rows, tasks, names, pv, ed in results:
        idx = np.array([where[int(i)] for i in rows])
        for t, task in enumerate(tasks):
            for name, col in task.items():
                per_task[t][name][idx] = col
        scorers[idx] = names
        edge[idx] = ed
        if pvals is not None:
            for t, (p_fc, p_l2) in enumerate(pv):
                pvals[t][0][idx] = p_fc
                pvals[t][1][idx] = p_l2
    return per_task, list(scorers), pvals, edge


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
    max_indel_length: int = MAX_INDEL_LENGTH,
    ilen_column: bool | None = None,
    on_progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Effect scores of the variants in `variants` (see the module docstring).

    `variants` has columns ``chrom``, ``pos`` (1-based, as in a VCF; or ``pos0``, 0-based),
    ``ref``, ``alt`` and optionally ``id``. `model` is a loaded `Ensemble`
    (`varinterp.training.inference.load_model`) or a model directory (loaded on
    `device`). `fasta` is the reference (a path or an open `Reference`); `store` (a
    `GenomeStore` or its path) with `sample` scores in that person's context.

    SNVs, MNPs and indels are scored; an indel longer than `max_indel_length`
    (|len(ALT) - len(REF)|) is an `InputError`. Returns the table of `frame_columns`:
    ``chrom pos id ref alt [ilen] scorer [task]`` + the scores of
    `varinterp.effects.scores.effect_scores` (+ ``pval_abs_log2fc pval_profile_l2``) +
    ``flags`` (``edge`` when the window passes a contig end, else ``.``), in the order of
    `variants`. ``ilen`` (``len(alt) - len(ref)``) is there when some variant changes the
    length, or always / never with `ilen_column` True / False. `batch_size` (windows per
    forward pass, before reverse-complement doubling) defaults to 256 on CUDA and 32 on
    the CPU; `on_progress` gets ``(variants done, n)``.
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
    chroms_l, pos0, refs_l, alts_l, ids = _variant_columns(variants, max_indel_length)
    chroms = np.array(chroms_l, dtype=object)
    ref_len = np.array([len(r) for r in refs_l], dtype=np.int64)
    ilen = np.array([len(a) for a in alts_l], dtype=np.int64) - ref_len
    # SNVs in the reference context keep the centre-column path; the rest build windows
    # from haplotype contexts (indels, MNPs, a person's genome)
    plain = (ref_len == 1) & (ilen == 0) & (store is None)
    refs = np.array([BASE_INDEX.get(r, 0) for r in refs_l], dtype=np.int64)
    alts = np.array([BASE_INDEX.get(a, 0) for a in alts_l], dtype=np.int64)
    if (~plain).any():
        _check_ref_alleles(reference, chroms, pos0, refs_l, ~plain)
    with_ilen = bool((ilen != 0).any()) if ilen_column is None else ilen_column
    labels = [ens.tasks[t] for t in task_idx]
    budget = window_budget or max(2 * batch_size, 2048)
    # slices small enough that windows (and shuffled nulls) stay a bounded size
    step = max(1, budget // (2 * (1 + int(null_shuffles))))
    parts = []
    n = len(chroms)
    for lo in range(0, n, step):
        sl = np.arange(lo, min(lo + step, n))
        results = []
        for rows in (sl[plain[sl]], sl[~plain[sl]]):
            if rows.size:
                results.append((rows, *_score_rows(
                    scorer, reference, store, sample, rows, chroms, pos0, refs_l, alts_l,
                    refs, alts, ref_len, plain[rows[0]], seed, first_index,
                )))  # fmt: skip
        per_task, scorers, pvals, edge = _merge(results, sl)
        ids_part = {
            "chrom": chroms[sl],
            "pos": pos0[sl] + 1,
            "id": [ids[i] for i in sl],
            "ref": [refs_l[i] for i in sl],
            "alt": [alts_l[i] for i in sl],
            **({"ilen": ilen[sl]} if with_ilen else {}),
            "scorer": scorers,
        }
        flags = np.where(edge, "edge", ".")
        parts.append(_table(ids_part, per_task, pvals, labels, flags, multi))
        report(on_progress, int(sl[-1]) + 1, n)
    if not parts:
        cols = frame_columns(null_shuffles=null_shuffles, multi_task=multi, ilen=with_ilen)
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)
