"""Deconvolution of real chr22 PRO-cap mixtures: equal-sum bulk and binomially thinned mixtures.

Windows around the strongest bulk peaks of the ``deepdetails_chr22`` fixture (as
``benchmarks/deconv/chr22.py``; or ``--data`` a saved ``data.h5`` with ground truth).
Mixtures over the predicted centre of every window:

* ``equal``: the fixture's bulk (exactly the sum of the three ground-truth tracks);
* ``thin-<p1>-<p2>-<p3>-s<seed>``: each cell type's ground-truth counts thinned base by
  base, ``Binomial(round(count), p_k / max(p))``; the bulk is their sum and the
  evaluation truth the thinned tracks (an unequal mixture with known truth).

For each mixture: Lin's CCC of log counts per window within each cell type
(`varinterp.deconv.metrics`) for the proportional split and NNLS and, with ``--train``,
the fused model trained with the settings given (export rescaled to the bulk counts).
With ``--official PYTHON`` the official ``deepdetails`` package (its own environment)
is run on the same windows with the same budget (`write_official_dataset` writes its
``data.h5``), and its predictions scored the same way.

    python benchmarks/deconv/mixtures_chr22.py --fixtures ../shared/fixtures --out OUT \\
        --n-peaks 200 --proportions 0.6,0.3,0.1 0.1,0.3,0.6 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

CELL_TYPES = ("K562", "GM12878", "MCF7")


def thin(data, proportions, seed: int):
    """A copy of `data` whose centre bulk is the sum of binomially thinned truth tracks."""
    rng = np.random.default_rng(seed)
    p = np.asarray(proportions, float) / max(proportions)
    counts = np.rint(np.abs(data.truth)).astype(np.int64)
    thinned = rng.binomial(counts, p[None, :, None, None]).astype(np.float32)
    bulk = np.zeros_like(data.bulk)
    start = (data.bulk.shape[-1] - data.target_length) // 2
    bulk[..., start : start + data.target_length] = thinned.sum(axis=1)
    return dataclasses.replace(data, bulk=bulk, truth=thinned)


def ccc_table(data, predictions: dict[str, np.ndarray]) -> pd.DataFrame:
    from varinterp.deconv.predict import evaluate_run

    table, _ = evaluate_run(data, predictions)
    return table[table["metric"] == "ccc_within"].pivot(
        index="unit", columns="method", values="value"
    )


def write_official_dataset(data, folder: Path) -> Path:
    """The official package's dataset folder (``data.h5``) from `data`: ``dec/seq``,
    ``dec/acc``, ``dec/bulk`` (the full window, absolute), ``dec/ref`` (truth, the centre
    padded to the window, cell types x strands), ``regions`` (chrom index, start, end,
    1 = peak) and ``scatac_norm`` (the accessibility depth factors)."""
    import h5py

    folder.mkdir(parents=True, exist_ok=True)
    n, k, length = data.acc.shape
    s = data.n_strands
    start = (length - data.target_length) // 2
    ref = np.zeros((n, k * s, length), np.float32)
    ref[..., start : start + data.target_length] = data.truth.reshape(n, k * s, -1)
    chroms = list(dict.fromkeys(data.regions["chrom"]))
    regions = np.stack(
        [
            data.regions["chrom"].map({c: i for i, c in enumerate(chroms)}).to_numpy(),
            data.regions["start"].to_numpy(),
            data.regions["end"].to_numpy(),
            np.ones(n, dtype=np.int64),
        ],
        axis=1,
    ).astype(np.int64)
    with h5py.File(folder / "data.h5", "w") as h5:
        dec = h5.create_group("dec")
        dec.attrs.update(
            n_clusters=k, n_targets=s, t_x=length, cluster_names=",".join(data.cell_types)
        )
        dec.create_dataset("seq", data=data.seq.astype(np.float32))
        dec.create_dataset("acc", data=data.acc.astype(np.float32))
        dec.create_dataset("bulk", data=np.abs(data.bulk).astype(np.float32))
        dec.create_dataset("ref", data=ref)
        reg = h5.create_dataset("regions", data=regions)
        for i, c in enumerate(chroms):
            reg.attrs[f"chr_{i}"] = c
        norm = np.rec.fromarrays([np.arange(k), data.norm.astype(float)])
        h5.create_dataset("scatac_norm", data=np.array(norm.tolist(), dtype=float))
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    ap.add_argument("--data", type=Path, default=None, help="a saved data.h5 with truth")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n-peaks", type=int, default=200)
    ap.add_argument("--proportions", nargs="*", default=["0.6,0.3,0.1", "0.1,0.3,0.6"])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--train", action="store_true", help="also train the fused model")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from varinterp.deconv.prep import build_windows, call_bulk_peaks, load_data, save_data

    args.out.mkdir(parents=True, exist_ok=True)
    if args.data is not None:
        data = load_data(args.data)
    else:
        fx = args.fixtures / "deepdetails_chr22"
        peaks = call_bulk_peaks(
            fx / "bulk.chr22.pl.bw", fx / "bulk.chr22.mn.bw", n_peaks=args.n_peaks,
            chroms=["chr22"],
        )  # fmt: skip
        data = build_windows(
            regions=peaks, bulk_pl=fx / "bulk.chr22.pl.bw", bulk_mn=fx / "bulk.chr22.mn.bw",
            accessibility={c: fx / f"acc.{c}.chr22.bw" for c in CELL_TYPES},
            truth={c: (fx / f"{c}.ds.chr22.pl.bw", fx / f"{c}.ds.chr22.mn.bw")
                   for c in CELL_TYPES},
        )  # fmt: skip
        save_data(data, args.out / "data.h5")
    mixtures = {"equal": data}
    for spec in args.proportions:
        props = [float(x) for x in spec.split(",")]
        for seed in args.seeds:
            mixtures[f"thin-{spec.replace(',', '-')}-s{seed}"] = thin(data, props, seed)
    rows = []
    for name, mix in mixtures.items():
        preds = {}
        t0 = time.time()
        if args.train:
            preds["model"] = _train(mix, args, args.out / name)
        ccc = ccc_table(mix, preds)
        for method in ccc.columns:
            for ct in ccc.index:
                rows.append({"mixture": name, "method": method, "cell_type": ct,
                             "ccc_within": float(ccc.loc[ct, method])})  # fmt: skip
        print(f"{name} ({time.time() - t0:.0f} s)\n{ccc.round(3).to_string()}", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "ccc.tsv", sep="\t", index=False, float_format="%.4f")
    (args.out / "args.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}))


def _train(data, args, out: Path) -> np.ndarray:
    from varinterp.deconv.predict import predict_tracks
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.network import DeepDetailsConfig
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    cfg = DeepDetailsConfig(n_cell_types=3, filters=8, profile_shrinkage=4, gru_layers=1)
    settings = TrainSettings(epochs=args.epochs, batch_size=8, lr=3e-3, lr_decay=0.7, seed=0)
    res = train_deconv(data, config=cfg, out=out, settings=settings)
    return predict_tracks(load_model(res.model_dir), data, rescale="counts")


def run_official(python: str, dataset: Path, out: Path, *, epochs: int) -> None:
    """Train the official package on `dataset` on the CPU (narrow model, as ours)."""
    cmd = [
        python, "-m", "deepdetails.cli", "deconv", "--dataset", str(dataset), "--save-to",
        str(out), "--accelerator", "cpu", "--devices", "1", "--max-epochs", str(epochs),
        "--batch-size", "8", "--filters", "8", "--profile-shrinkage", "4", "--gru-layers", "1",
        "--learning-rate", "3e-3", "--all-regions", "--hide-progress-bar", "--num-workers", "0",
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
