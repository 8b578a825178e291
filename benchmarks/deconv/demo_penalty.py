"""The demo's deconvolution step with different loss settings: CCC per cell type.

Builds the demo world (`simulate_world` with `varinterp.demo.DEMO_WORLD`, as
`varinterp demo --seed SEED`; ``--plain-world`` uses the `simulate_world` defaults
instead) and its cell-type simulation once, then for each variant trains the demo's
tiny fused model with the demo's settings
(`varinterp.demo.deconvolution.demo_settings`) plus the variant's overrides, predicts
(export rescaled to the bulk counts) and prints the training RMSLE (first -> last
epoch), the last epoch's penalty, the raw predicted total over the bulk total, and
Lin's CCC of log counts within each cell type for the model, the proportional split
and NNLS. One JSON line per variant goes to ``WORKDIR/results.jsonl``.

    python benchmarks/deconv/demo_penalty.py --workdir /tmp/demo_penalty \\
        default off=redundancy:0

A variant is ``NAME`` (the library defaults) or ``NAME=FIELD:VALUE[,FIELD:VALUE...]``
with `TrainSettings` fields (booleans as 0/1).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path


def _parse(spec: str, fields: dict) -> tuple[str, dict]:
    name, _, rest = spec.partition("=")
    over = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition(":")
        kind = fields[key].type
        if kind in ("bool", bool):
            over[key] = value not in ("0", "false", "False")
        elif kind in ("int", int):
            over[key] = int(value)
        elif "float" in str(kind):
            over[key] = None if value == "none" else float(value)
        else:
            over[key] = value
    return name, over


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+")
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0, help="demo seed (world and cell types)")
    ap.add_argument("--train-seed", type=int, default=None, help="default: --seed")
    ap.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plain-world", action="store_true", help="simulate_world defaults")
    args = ap.parse_args()

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from varinterp.deconv.predict import evaluate_run, predict_tracks
    from varinterp.demo.deconvolution import demo_data, demo_settings
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv
    from varinterp.simulate.celltypes import simulate_celltypes
    from varinterp.simulate.store import simulate_world

    fields = {f.name: f for f in dataclasses.fields(TrainSettings)}
    variants = [_parse(v, fields) for v in args.variants]
    args.workdir.mkdir(parents=True, exist_ok=True)
    t = time.time()
    from varinterp.demo import DEMO_WORLD

    shape = {} if args.plain_world else DEMO_WORLD
    world, files = simulate_world(
        out=args.workdir / "world", seed=args.seed, overwrite=True, **shape
    )
    sim = args.workdir / "celltypes"
    simulate_celltypes(
        world_dir=args.workdir / "world", out=sim, seed=args.seed, world=world, overwrite=True
    )
    config, data = demo_data(sim, files.fasta)
    print(f"{data.n} windows, {len(data.cell_types)} cell types; setup {time.time() - t:.1f} s")
    seed = args.seed if args.train_seed is None else args.train_seed
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    baselines = None
    names = data.cell_types
    print("variant\trmsle first->last\tpenalty\traw/bulk\t" + "\t".join(names) + "\tseconds")
    for name, over in variants:
        settings = demo_settings(seed=seed, **{**extra, **over})
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            t = time.time()
            res = train_deconv(data, config=config, out=tmp, settings=settings, resume=False)
            took = time.time() - t
            rows = [json.loads(x) for x in Path(tmp, "metrics.jsonl").read_text().splitlines()]
            model = load_model(res.model_dir)
        raw = predict_tracks(model, data, rescale="none")
        ratio = float(raw.sum() / np.abs(data.target_bulk()).sum())
        table, _ = evaluate_run(data, {"model": predict_tracks(model, data, rescale="counts")})
        ccc = table[table["metric"] == "ccc_within"].pivot(
            index="unit", columns="method", values="value"
        )
        if baselines is None:
            baselines = {m: [float(ccc.loc[c, m]) for c in names] for m in ("proportional", "nnls")}
            for m, vals in baselines.items():
                print(f"[{m}]\t\t\t\t" + "\t".join(f"{v:.3f}" for v in vals))
        model_ccc = [float(ccc.loc[c, "model"]) for c in names]
        rec = {
            "variant": name,
            "overrides": over,
            "settings": dataclasses.asdict(settings),
            "rmsle": [r["train_rmsle"] for r in rows],
            "penalty": [r["train_penalty"] for r in rows],
            "raw_over_bulk": ratio,
            "ccc_model": dict(zip(names, model_ccc, strict=True)),
            "ccc_proportional": dict(zip(names, baselines["proportional"], strict=True)),
            "ccc_nnls": dict(zip(names, baselines["nnls"], strict=True)),
            "train_s": took,
            "demo_seed": args.seed,
            "world": shape,
            "train_seed": seed,
        }
        with (args.workdir / "results.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec) + "\n")
        print(
            f"{name}\t{rows[0]['train_rmsle']:.2f}->{rows[-1]['train_rmsle']:.2f}\t"
            f"{rows[-1]['train_penalty']:.3f}\t{ratio:.3f}\t"
            + "\t".join(f"{v:.3f}" for v in model_ccc)
            + f"\t{took:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
