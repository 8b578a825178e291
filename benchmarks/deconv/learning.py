"""Does a tiny DeepDETAILS model learn? Training RMSLE on a toy whose answer is known.

The toy is the one of ``tests/models/deepdetails/test_learning.py`` (one TATAAA per
window, both cell types initiate 20 bp downstream, reads proportional to accessibility).
Four settings: the redundancy penalty's gradient on (unweighted,
``penalty_sample_weight="none"``) / off x counts scale plain softplus (1) / from the
data (the default). Prints the first-epoch and best training RMSLE of each, and the raw
predicted total over the observed bulk total. (``demo_penalty.py`` compares the penalty
settings on the demo.)

    python benchmarks/deconv/learning.py --windows 64 --epochs 40

``--demo DIR`` runs the same four settings on the demo's simulated cell types instead
(world seed 6, 120 kb, cell-type seed 1; written to DIR), with the demo's tiny model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--input-length", type=int, default=128)
    ap.add_argument("--n-dilated", type=int, default=2)
    ap.add_argument("--demo", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.models.deepdetails.test_learning import SMALL, toy_data
    from varinterp.deconv.predict import predict_tracks
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.network import DeepDetailsConfig
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    if args.demo is None:
        arch = {**SMALL, "input_length": args.input_length, "n_dilated": args.n_dilated}
        cfg = DeepDetailsConfig(n_cell_types=2, n_strands=1, **arch)
        data, _ = toy_data(n=args.windows, seed=args.seed, config=cfg)
    else:
        from varinterp.demo.deconvolution import demo_data
        from varinterp.simulate import make_world, write_world
        from varinterp.simulate.celltypes import simulate_celltypes

        world = make_world(seed=6, n_individuals=4, genome_size=120_000, n_chromosomes=2)
        files = write_world(world, args.demo / "world")
        sim = args.demo / "celltypes"
        simulate_celltypes(
            world_dir=args.demo / "world", out=sim, seed=1, world=world, overwrite=True
        )
        cfg, data = demo_data(sim, files.fasta)
    print("penalty_gradient\tcount_scale\tfirst_rmsle\tbest_rmsle\traw/bulk\tseconds")
    for gradient in (True, False):
        for scale in (1.0, None):
            settings = TrainSettings(
                epochs=args.epochs,
                batch_size=args.batch_size,
                lr=args.lr,
                lr_decay=1.0,
                patience=args.epochs,
                seed=args.seed,
                max_retry=0,
                redundancy=gradient,
                penalty_sample_weight="none",
                count_scale=scale,
            )
            with tempfile.TemporaryDirectory() as tmp:
                t = time.time()
                res = train_deconv(data, config=cfg, out=tmp, settings=settings, resume=False)
                took = time.time() - t
                rows = [json.loads(x) for x in Path(tmp, "metrics.jsonl").read_text().splitlines()]
                model = load_model(res.model_dir)
                raw = predict_tracks(model, data, rescale="none").sum() / data.target_bulk().sum()
                print(
                    f"{gradient}\t{model.config.count_scale:.3g}\t{rows[0]['train_rmsle']:.3f}\t"
                    f"{min(r['train_rmsle'] for r in rows):.3f}\t{raw:.3f}\t{took:.1f}"
                )


if __name__ == "__main__":
    main()
