"""Demo step: simulated PRO-cap, a small CLIPNET trained on it, and its held-out metrics.

`clipnet_step` runs inside `varinterp.demo.run_demo` after the world and the genome store
exist (`varinterp.demo.world`). It

1. simulates PRO-cap libraries of the world's individuals (`simulate_procap`) into
   ``procap/``;
2. writes a run config (``clipnet_run.toml``) for the **small** CLIPNET preset
   (`ClipnetConfig.small`) on one library of each of the first `DEMO_INDIVIDUALS`
   individuals, with CPU-sized settings (`DEMO_TRAINING`: 800 steps at a higher
   learning rate and quantity weight than the published recipe);
3. trains fold models on a **chain fold table** (`chain_folds`): contig ``i`` of the
   world is fold ``i``, so model ``k`` tests on contig ``k``, early-stops on contig
   ``k + 1`` and trains on the rest. The demo's five-chromosome world
   (`varinterp.demo.world.DEMO_WORLD`) gives ``fold_1`` (tests chr1) and ``fold_2`` (tests
   chr2), each trained on three chromosomes; no contig is fold 0, so there is no
   ensemble test fold and every number is a fold model on its own held-out
   chromosome. Training is `train_small`: `train_clipnet`'s fold loop, which starts
   both heads at the training windows' mean;
4. evaluates them (`evaluate_clipnet`) into ``clipnet_eval/`` and reports the median
   profile Pearson and the log-quantity Pearson of each fold model on its test contig
   (windows at their fixed evaluation offsets, `ClipnetData.fixed_shifts`), next to
   the profile Pearson of a sequence-blind predictor on the same windows
   (`mean_shape_baseline`: every window gets the training windows' mean shape). A
   model has learnt from sequence where it beats that number.

The model directory is ``clipnet/`` (``ctx.files["clipnet"]``). `chain_folds`,
`demo_sample_sheet`, `write_run_config` and `train_small` are shared with the personal-vs-reference
benchmark (``benchmarks/claim/``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from varinterp.demo.context import DemoContext, torch_threads
from varinterp.errors import InputError
from varinterp.io.atomic import atomic_write_text

__all__ = [
    "DEMO_DATA",
    "DEMO_INDIVIDUALS",
    "DEMO_TRAINING",
    "chain_folds",
    "chain_model_folds",
    "clipnet_metrics",
    "clipnet_step",
    "demo_sample_sheet",
    "held_out_metrics",
    "mean_shape_baseline",
    "train_small",
    "write_run_config",
]

#: Libraries used for the demo model (one per individual); keeps validation cheap.
DEMO_INDIVIDUALS = 10

#: ``[training]`` settings of the demo model (CPU, about a minute per fold model): 800
#: optimizer steps at a higher learning rate and quantity weight than the published
#: recipe, BatchNorm statistics recomputed before each validation (at this learning
#: rate the running averages lag the weights and validation swings).
DEMO_TRAINING: dict[str, Any] = {
    "batch_size": 32,
    "lr": 1e-2,
    "max_epochs": 20,
    "patience": 5,
    "max_batches_per_epoch": 40,
    "quantity_weight": 0.05,
    "bn_recalibration_batches": 4,
    "seed": 0,
    "device": "cpu",
    "prefetch": 1,
}

#: ``[data]`` settings besides paths and folds: +-100 bp jitter, one random strand.
DEMO_DATA: dict[str, Any] = {"max_jitter": 100, "rc_augment": "random"}


def chain_folds(contigs: Sequence[str]) -> dict[str, int]:
    """Contig ``i`` (0-based, in `contigs` order) -> fold ``i + 1``: a table for small genomes.

    Model ``k`` then tests on the ``k``-th contig and validates on the next one, so
    ``len(contigs) - 1`` fold models can be trained (`chain_model_folds`); the last
    contig is never a test fold. Needs 2-9 contigs.
    """
    contigs = list(contigs)
    if not 2 <= len(contigs) <= 9:
        msg = f"a chain fold table needs 2-9 contigs, got {len(contigs)}; use folds = 'auto'"
        raise InputError(msg)
    return {c: i + 1 for i, c in enumerate(contigs)}


def chain_model_folds(n_contigs: int, limit: int | None = None) -> list[int]:
    """Model folds trainable on a chain table of `n_contigs` (1 .. n - 1), at most `limit`."""
    folds = list(range(1, n_contigs))
    return folds[:limit] if limit is not None else folds


def demo_sample_sheet(
    sheet: str | os.PathLike,
    out: str | os.PathLike,
    *,
    n_individuals: int | None = None,
    one_per_individual: bool = True,
) -> Path:
    """Copy the sample sheet `sheet` to `out`, optionally reduced; bigWig paths rewritten.

    Keeps the first library of each individual (`one_per_individual`) and the first
    `n_individuals` individuals (all when None). Paths are made relative to `out`'s folder.
    """
    sheet, out = Path(sheet), Path(out)
    table = pd.read_csv(sheet, sep="\t", dtype=str, keep_default_na=False)
    if one_per_individual:
        table = table.drop_duplicates("sample")
    if n_individuals is not None:
        keep = list(dict.fromkeys(table["sample"]))[:n_individuals]
        table = table[table["sample"].isin(keep)]
    for col in ("plus", "minus"):
        table[col] = [
            os.path.relpath((sheet.parent / p).resolve(), out.parent.resolve()) for p in table[col]
        ]
    atomic_write_text(out, table.to_csv(sep="\t", index=False))
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_run_config(
    path: str | os.PathLike,
    *,
    store: str | os.PathLike,
    sample_sheet: str | os.PathLike,
    peaks: str | os.PathLike,
    folds: Mapping[str, int],
    training: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    model: Mapping[str, Any] | None = None,
) -> Path:
    """Write a run TOML (``docs/training.md``) for the small preset; paths are stored
    relative to the TOML's folder, so the folder can be moved."""
    path = Path(path)
    lines = ["[data]"]
    for key, p in (("store", store), ("sample_sheet", sample_sheet), ("peaks", peaks)):
        rel = os.path.relpath(Path(p).resolve(), path.parent.resolve())
        lines.append(f"{key} = {_toml_value(rel)}")
    lines += [f"{k} = {_toml_value(v)}" for k, v in (data or {}).items()]
    lines += ["", "[data.folds]"]
    lines += [f"{_toml_value(c)} = {int(f)}" for c, f in folds.items()]
    lines += ["", "[model]", 'preset = "small"']
    lines += [f"{k} = {_toml_value(v)}" for k, v in (model or {}).items()]
    lines += ["", "[training]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in training.items()]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def train_small(
    *,
    config: str | os.PathLike,
    out: str | os.PathLike,
    folds: Sequence[int],
    reference_only: bool = False,
    overwrite: bool = True,
    device: str | None = None,
    on_status=None,
):
    """Train the demo's fold models with `train_clipnet` (its quantity head starts at the
    training windows' RPM scale) on `device` (default: the config's); `on_status` gets a
    line per epoch. Returns the `TrainResult`."""
    from varinterp.models.clipnet.train import train_clipnet

    return train_clipnet(
        config=config,
        out=out,
        folds=list(folds),
        reference_only=reference_only,
        device=device,
        overwrite=overwrite,
        on_status=on_status,
    )


def held_out_metrics(metrics: pd.DataFrame) -> pd.DataFrame:
    """Rows of an evaluation table where a fold model is scored on its own test fold."""
    m = metrics[metrics["model"] != "ensemble"].copy()
    own = m["model"].str.removeprefix("fold_") == m["eval_fold"].astype(str)
    return m[own & (m["n_windows"] > 0)].reset_index(drop=True)


def mean_shape_baseline(
    config: str | os.PathLike, folds: Sequence[int], *, fold_table: Mapping[str, int]
) -> dict[int, float]:
    """Median profile Pearson of a sequence-blind predictor on each model fold's test windows.

    The predictor answers every window with the mean shape of the fold's training windows
    (`varinterp.models.clipnet.heads.mean_profile`, reverse-complement averaged as in training).
    Windows, training and test, sit at their evaluation offsets when the config's
    ``eval_jitter`` is on (the default), as in `evaluate_clipnet`; a model has learnt
    something from sequence only where it beats this number.
    """
    import numpy as np

    from varinterp.datasets.folds import FoldMap, fold_split
    from varinterp.models.clipnet.heads import mean_profile, window_tracks
    from varinterp.models.clipnet.metrics import profile_pearson
    from varinterp.models.clipnet.runconfig import load_run_config, model_config_from
    from varinterp.models.clipnet.train import build_data

    run = load_run_config(config)
    data = build_data(run, model_config_from(run.model, path=run.path))
    fold_map = FoldMap(dict(fold_table))
    shifts = data.fixed_shifts() if run.data.eval_jitter else None
    length = data.output_length
    out: dict[int, float] = {}
    for k in folds:
        split = fold_split(k, fold_map.n_folds)
        shape = mean_profile(
            data,
            data.peaks_in_folds(fold_map, split.train),
            rc=run.data.rc_augment != "none",
            shifts=shifts,
        )
        test = data.peaks_in_folds(fold_map, [split.test])
        obs = window_tracks(data, test, shifts).reshape(-1, 2 * length)
        r = profile_pearson(np.broadcast_to(shape, obs.shape), obs)
        out[k] = float(np.nanmedian(r)) if np.isfinite(r).any() else float("nan")
    return out


def clipnet_metrics(eval_metrics: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Fold model -> its held-out metrics, from `evaluate_clipnet`'s ``metrics.tsv``."""
    held = held_out_metrics(eval_metrics)
    return {
        str(r.model): {
            "eval_fold": int(r.eval_fold),
            "n_windows": int(r.n_windows),
            "median_profile_pearson": float(r.median_profile_pearson),
            "log_quantity_pearson": float(r.log_quantity_pearson),
        }
        for r in held.itertuples()
    }


def clipnet_step(ctx: DemoContext) -> list[str]:
    """Simulate PRO-cap, train and evaluate the demo CLIPNET (module docstring).

    Reads ``ctx.objects["world"]`` and ``ctx.files`` ``fasta`` and ``store``; sets
    ``ctx.files`` ``procap`` (folder), ``samples`` (full sample sheet), ``clipnet``
    (model directory), ``clipnet_config`` (run TOML), ``clipnet_samples`` (the reduced
    sample sheet it trained on) and ``clipnet_eval`` (folder), and
    ``ctx.objects["clipnet_metrics"]`` (`clipnet_metrics`). With
    ``ctx.quick`` the zoo's shipped ``clipnet-demo`` weights are evaluated instead of
    training.
    """
    import shutil

    from varinterp.demo.shipped import CLIPNET_DEMO, shipped_model
    from varinterp.models.clipnet.evaluate import evaluate_clipnet
    from varinterp.simulate.procap import simulate_procap

    world = ctx.objects["world"]
    out = Path(ctx.out)
    procap = simulate_procap(
        world_dir=Path(ctx.files["fasta"]).parent,
        out=out / "procap",
        seed=ctx.seed,
        world=world,
        overwrite=True,
    )
    ctx.files["procap"] = out / "procap"
    ctx.files["samples"] = procap.sample_sheet
    sheet = demo_sample_sheet(
        procap.sample_sheet, out / "clipnet_samples.tsv", n_individuals=DEMO_INDIVIDUALS
    )
    contigs = list(world.reference.names)
    table = chain_folds(contigs)
    folds = chain_model_folds(len(contigs), limit=2)
    config = write_run_config(
        out / "clipnet_run.toml",
        store=ctx.files["store"],
        sample_sheet=sheet,
        peaks=out / "procap" / "peaks.bed",
        folds=table,
        training={**DEMO_TRAINING, "seed": ctx.seed},
        data=DEMO_DATA,
    )
    with torch_threads(ctx.threads):
        if ctx.quick:
            shipped = shipped_model(CLIPNET_DEMO, ctx.zoo)
            shutil.rmtree(out / "clipnet", ignore_errors=True)
            shutil.copytree(shipped, out / "clipnet")
            how = f"shipped weights of the zoo's {CLIPNET_DEMO} (not trained; --full trains it)"
        else:
            result = train_small(
                config=config, out=out / "clipnet", folds=folds, device=ctx.device,
                on_status=ctx.say,
            )  # fmt: skip
            epochs = [int(result.summaries[k]["epochs_run"]) for k in sorted(result.summaries)]
            how = f"{result.n_libraries} libraries, {'/'.join(map(str, epochs))} epochs"
        ev = evaluate_clipnet(
            model=out / "clipnet", config=config, out=out / "clipnet_eval", device=ctx.device,
            overwrite=True,
        )  # fmt: skip
    ctx.files.update(
        clipnet=out / "clipnet",
        clipnet_config=config,
        clipnet_samples=sheet,
        clipnet_eval=out / "clipnet_eval",
    )
    ctx.objects["clipnet_metrics"] = clipnet_metrics(ev.metrics)
    ctx.objects["clipnet_figures_of"] = ev.figures_of
    held = held_out_metrics(ev.metrics)
    baseline = mean_shape_baseline(config, folds, fold_table=table)
    lines = [
        f"PRO-cap: {procap.n_libraries} libraries of {procap.n_samples} individuals, "
        f"{procap.n_peaks} peaks -> procap/ (sample sheet, bigWigs, peaks, true SNP effects)",
        f"small CLIPNET, fold models {', '.join(f'fold_{k}' for k in folds)} "
        f"(test contigs {', '.join(contigs[k - 1] for k in folds)}), {how} -> clipnet/",
    ]
    for row in held.itertuples():
        lines.append(
            f"{row.model} on held-out {contigs[int(row.eval_fold) - 1]} "
            f"({row.n_windows} windows): median profile Pearson "
            f"{row.median_profile_pearson:.3f}, log-quantity Pearson "
            f"{row.log_quantity_pearson:.3f} (mean-shape baseline profile Pearson "
            f"{baseline.get(int(row.eval_fold), float('nan')):.3f})"
        )
    return lines
