"""DeepDETAILS (fused, N sequence) vs the statistical baselines on the real chr22 fixture.

Usage: python benchmarks/deconv/chr22.py --fixtures ../shared/fixtures --out bench_out \
           [--n-peaks 1000] [--filters 32] [--epochs 5] [--threads 1]

Builds windows around the strongest bulk peaks of chr22 from the fixture's bigWigs (no
FASTA: the sequence is all N, so the accessibility branch carries the model), trains the
fused model, predicts, and writes ``summary.tsv`` (medians per method) and ``eval.tsv``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

CELL_TYPES = ("K562", "GM12878", "MCF7")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n-peaks", type=int, default=1000)
    ap.add_argument("--filters", type=int, default=32)
    ap.add_argument("--profile-shrinkage", type=int, default=4)
    ap.add_argument("--gru-layers", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr-decay", type=float, default=0.5)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--redundancy-gradient",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="let the penalty's gradient train (default); --no-redundancy-gradient = ablation",
    )
    ap.add_argument("--penalty-weighting", choices=("counts", "none"), default="counts")
    ap.add_argument("--redundancy-warmup", type=float, default=0.0)
    ap.add_argument("--redundancy-ramp", type=float, default=1.0)
    ap.add_argument("--count-scale", type=float, default=None, help="1 = plain softplus")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from varinterp.deconv.predict import evaluate_run, export_tracks, predict_tracks
    from varinterp.deconv.prep import build_windows, call_bulk_peaks, save_data
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.network import DeepDetailsConfig
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    fx = args.fixtures / "deepdetails_chr22"
    args.out.mkdir(parents=True, exist_ok=True)
    timings = {}
    t = time.time()
    peaks = call_bulk_peaks(
        fx / "bulk.chr22.pl.bw", fx / "bulk.chr22.mn.bw", n_peaks=args.n_peaks, chroms=["chr22"]
    )
    data = build_windows(
        regions=peaks,
        bulk_pl=fx / "bulk.chr22.pl.bw",
        bulk_mn=fx / "bulk.chr22.mn.bw",
        accessibility={c: fx / f"acc.{c}.chr22.bw" for c in CELL_TYPES},
        truth={c: (fx / f"{c}.ds.chr22.pl.bw", fx / f"{c}.ds.chr22.mn.bw") for c in CELL_TYPES},
    )
    save_data(data, args.out / "data.h5")
    timings["prep_s"] = time.time() - t
    cfg = DeepDetailsConfig(
        n_cell_types=3,
        filters=args.filters,
        profile_shrinkage=args.profile_shrinkage,
        gru_layers=args.gru_layers,
    )
    settings = TrainSettings(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        lr_decay=args.lr_decay,
        alpha=args.alpha,
        redundancy=args.redundancy_gradient,
        penalty_sample_weight=args.penalty_weighting,
        redundancy_warmup=args.redundancy_warmup,
        redundancy_ramp=args.redundancy_ramp,
        count_scale=args.count_scale,
        seed=args.seed,
    )
    t = time.time()
    result = train_deconv(
        data,
        config=cfg,
        out=args.out / "run",
        settings=settings,
        on_progress=lambda d, n: print(f"\rstep {d}/{n}", end="", flush=True),
    )
    print()
    timings["train_s"] = time.time() - t
    model = load_model(result.model_dir)
    raw = predict_tracks(model, data, rescale="none")
    timings["raw_over_bulk"] = float(raw.sum() / abs(data.target_bulk()).sum())
    rows = [json.loads(x) for x in (args.out / "run" / "metrics.jsonl").read_text().splitlines()]
    timings["rmsle_per_epoch"] = [round(r["train_rmsle"], 3) for r in rows]
    timings["penalty_per_epoch"] = [round(r["train_penalty"], 4) for r in rows]
    preds = {}
    for mode in ("counts", "per-bp"):
        preds[f"deepdetails[{mode}]"] = predict_tracks(model, data, rescale=mode)
    export_tracks(preds["deepdetails[counts]"], data, args.out / "tracks")
    table, summary = evaluate_run(data, preds)
    table.to_csv(args.out / "eval.tsv", sep="\t", index=False)
    summary.to_csv(args.out / "summary.tsv", sep="\t", float_format="%.3f")
    (args.out / "timings.json").write_text(
        json.dumps(
            {
                **timings,
                "n_windows": data.n,
                "attempts": result.attempts,
                "epochs": result.epochs,
                "best_loss": result.best_loss,
            },
            indent=2,
        )
    )
    print(summary.round(3).to_string())
    print(timings)


if __name__ == "__main__":
    main()
