"""Demo step: simulate cell types of the demo world, deconvolve their bulk, score it.

`deconvolution_step` writes the cell-type simulation into ``<demo>/celltypes``; when the
deconvolution package imports, it builds windows over the bulk regions, trains a tiny
fused DeepDETAILS model for a few epochs on the CPU, predicts per-cell-type tracks over
the 500-bp window centres and scores them (Lin's CCC of log counts per window, within
each cell type) against the proportional-split and NNLS baselines.
``ctx.files['celltype_tracks']`` is a TSV (cell_type, plus_bigwig, minus_bigwig; absolute
paths) of the deconvolved tracks, or of the ground-truth tracks when deconvolution is not
available.

The glue to `varinterp.deconv` lives only here, so an API change there touches one file.
`demo_data` and `demo_settings` are shared with the deconvolution benchmarks
(``benchmarks/deconv/``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from varinterp.demo.context import DemoContext

__all__ = [
    "TINY_MODEL",
    "deconvolution_step",
    "deepdetails_metrics",
    "demo_data",
    "demo_settings",
]

#: the tiny model trained in the demo (the reference model has 512 filters, 9 dilated)
TINY_MODEL = {
    "filters": 16,
    "n_dilated": 3,
    "head_layers": 1,
    "gru_layers": 1,
    "gru_dropout": 0.0,
}
_EPOCHS = 12
_BATCH = 16  # the default world: ~180 windows, 12 optimizer steps per epoch
_TARGET = 500  # bp predicted per window (covers every simulated element's initiation)


def _tracks_table(path: Path, cell_types, plus, minus) -> Path:
    """A track table (`varinterp.io.tracks`) of per-cell-type stranded bigWigs; paths are
    written relative to the table's folder when they lie under it."""
    from varinterp.io.tracks import write_track_table

    def rel(p) -> str:
        p = Path(p)
        try:
            return str(p.resolve().relative_to(path.parent.resolve()))
        except ValueError:
            return str(p)

    rows = [
        {"cell_type": c, "plus": rel(p), "minus": rel(m)}
        for c, p, m in zip(cell_types, plus, minus, strict=True)
    ]
    return write_track_table(rows, path)


def _loss_range(path: Path) -> tuple[float, float]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return float(rows[0]["train_rmsle"]), float(rows[-1]["train_rmsle"])


def demo_data(sim: Path, fasta: Path | None):
    """The demo's windows over a cell-type simulation folder `sim`: (config, data)."""
    from varinterp.deconv.prep import build_windows
    from varinterp.io.tracks import read_track_table
    from varinterp.models.deepdetails.network import DeepDetailsConfig

    tracks = read_track_table(sim / "tracks.tsv", require=("cell_type", "accessibility", "plus"))
    names = tracks["cell_type"].tolist()
    probe = DeepDetailsConfig(n_cell_types=len(names), **TINY_MODEL)
    input_length = _TARGET + probe.input_length - probe.output_length
    config = DeepDetailsConfig(n_cell_types=len(names), input_length=input_length, **TINY_MODEL)
    regions = pd.read_csv(
        sim / "regions.bed",
        sep="\t",
        header=None,
        usecols=[0, 1, 2],
        names=["chrom", "start", "end"],
    )
    data = build_windows(
        regions=regions,
        bulk_pl=sim / "bulk.pl.bw",
        bulk_mn=sim / "bulk.mn.bw",
        accessibility=dict(zip(names, tracks["accessibility"], strict=True)),
        truth={c: (p, m) for c, p, m in zip(names, tracks["plus"], tracks["minus"], strict=True)},
        fasta=fasta,
        input_length=input_length,
        target_length=config.output_length,
    )
    return config, data


def demo_settings(*, seed: int, epochs: int = _EPOCHS, **overrides):
    """The demo's `TrainSettings` (loss settings left at the library defaults)."""
    from varinterp.models.deepdetails.train import TrainSettings

    base = {
        "epochs": epochs,
        "batch_size": _BATCH,
        "lr": 3e-3,
        "lr_decay": 1.0,
        "patience": epochs,
        "seed": seed,
        "max_retry": 0,
    }
    return TrainSettings(**{**base, **overrides})


def deepdetails_metrics(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Cell type -> CCC within cell type of the model and the two baselines, from the long
    table of `varinterp.deconv.predict.evaluate_run`."""
    ccc = table[table["metric"] == "ccc_within"].pivot(
        index="unit", columns="method", values="value"
    )
    return {
        str(ct): {m: float(ccc.loc[ct, m]) for m in ("model", "proportional", "nnls")}
        for ct in ccc.index
    }


def _deconvolve(
    sim: Path,
    seed: int,
    fasta: Path | None,
    epochs: int,
    *,
    shipped: Path | None = None,
    device: str = "cpu",
    say=None,
) -> tuple[list[str], Path, dict]:
    from varinterp.deconv.predict import evaluate_run, export_tracks, predict_tracks
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.train import train_deconv

    config, data = demo_data(sim, fasta)
    names = data.cell_types
    work = sim / "deconv"
    if shipped is None:
        settings = demo_settings(seed=seed, epochs=epochs)
        on_epoch = None
        if say is not None:

            def on_epoch(log, history) -> None:
                del history
                say(f"deconvolution epoch {log.epoch}: train loss {log.metrics['train_loss']:.4f}")

        result = train_deconv(
            data, config=config, out=work / "train", settings=settings, device=device,
            resume=False, on_epoch=on_epoch,
        )  # fmt: skip
        first, last = _loss_range(work / "train" / "metrics.jsonl")
        model_dir = result.model_dir
        how = f"{result.epochs} epochs on the CPU; training RMSLE {first:.2f} -> {last:.2f}"
    else:
        model_dir = shipped
        how = f"shipped weights of the zoo's {shipped.name}, not trained; --full trains it"
    model = load_model(model_dir, device=device)
    pred = predict_tracks(model, data, rescale="counts")
    export_tracks(pred, data, work / "tracks")
    table, _ = evaluate_run(data, {"model": pred})
    ccc = table[table["metric"] == "ccc_within"].pivot(
        index="unit", columns="method", values="value"
    )
    lines = [
        f"deconvolved {data.n} bulk windows into {len(names)} cell types with a tiny fused "
        f"model ({how})",
        "CCC of log counts per window (model / proportional split / NNLS):",
    ]
    for ct in names:
        row = ccc.loc[ct]
        lines.append(f"  {ct}: {row['model']:.3f} / {row['proportional']:.3f} / {row['nnls']:.3f}")
    out = _tracks_table(
        work / "celltype_tracks.tsv",
        names,
        [work / "tracks" / f"{c}.pl.bw" for c in names],
        [work / "tracks" / f"{c}.mn.bw" for c in names],
    )
    return lines, out, deepdetails_metrics(table)


def deconvolution_step(ctx: DemoContext, *, epochs: int = _EPOCHS) -> list[str]:
    """Simulate cell types of ``ctx.objects['world']`` and deconvolve their bulk.

    Returns summary lines; sets ``ctx.files['celltypes']`` (the simulation folder),
    ``ctx.files['celltype_tracks']`` (TSV of per-cell-type track bigWigs) and
    ``ctx.objects['deconv_metrics']`` (`deepdetails_metrics`). With
    ``ctx.quick`` the zoo's shipped ``deepdetails-demo`` model predicts instead of a
    freshly trained one.
    """
    from varinterp.simulate.celltypes import simulate_celltypes

    world = ctx.objects.get("world")
    fasta = ctx.files.get("fasta")
    world_dir = Path(fasta).parent if fasta is not None else ctx.out / "world"
    sim = ctx.out / "celltypes"
    result = simulate_celltypes(
        world_dir=world_dir, out=sim, seed=ctx.seed, world=world, overwrite=True
    )
    ctx.files["celltypes"] = sim
    mix = ", ".join(f"{c} {p:.0%}" for c, p in result.proportions.items())
    cells = ", ".join(f"{n} {c}" for c, n in result.n_cells.items())
    lines = [
        f"{len(result.cell_types)} cell types ({mix}); scATAC {cells} cells, "
        f"{result.n_fragments:,} fragments; bulk PRO-cap {result.bulk_reads:,} reads over "
        f"{result.n_regions} regions",
    ]
    shipped = None
    if ctx.quick:
        from varinterp.demo.shipped import DEEPDETAILS_DEMO, shipped_model

        shipped = shipped_model(DEEPDETAILS_DEMO, ctx.zoo)
    try:
        more, table, metrics = _deconvolve(
            sim, ctx.seed, Path(fasta) if fasta is not None else None, epochs, shipped=shipped,
            device=ctx.device, say=ctx.say,
        )  # fmt: skip
        ctx.objects["deconv_metrics"] = metrics
    except ImportError as exc:
        from varinterp.io.tracks import read_track_table

        tracks = read_track_table(result.tracks)
        table = _tracks_table(
            sim / "celltype_tracks.tsv", tracks["cell_type"], tracks["plus"], tracks["minus"]
        )
        more = [f"deconvolution not available ({exc}); showing the ground-truth tracks"]
    ctx.files["celltype_tracks"] = table
    return lines + more
