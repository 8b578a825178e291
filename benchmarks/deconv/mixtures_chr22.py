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
the fused model trained with the settings given (the documented CPU settings by
default: filters 8, profile shrinkage 4, one GRU layer, batch 8, lr 3e-3 x 0.7 per
epoch), its predictions scored three ways: rescaled to the bulk counts (``model``, the
default export), rescaled per base (``model[per-bp]``) and as predicted
(``model[none]``). ``--train-only`` restricts training to some mixtures (by name);
``--alpha``, ``--no-redundancy-gradient``, ``--count-scale``, ``--counts-start
random``, ``--split-anchor 0``, ``--exponent 1`` and ``--contributions none`` are the
ablations.

The bulk's response (``--contributions auto``, the default): as ``deconvolve prep``
does, each mixture's contributions and exponent (`varinterp.deconv.contributions`) are
estimated from 1-kb bins of the whole chromosome, whose bulk is the binned ground truth
thinned with the mixture's proportions (its own draw). The split by that scale function
alone is scored as ``scale function``.
``--oracles`` adds splits that know the truth (`oracle_splits`): what is possible, not
a method.
With ``--official CLI`` the official ``deepdetails`` package (its own environment)
is run on the same windows with the same budget (`write_official_dataset` writes its
``data.h5``), and its predictions scored the same way.

    python benchmarks/deconv/mixtures_chr22.py --fixtures ../shared/fixtures --out OUT \\
        --n-peaks 200 --proportions 0.6,0.3,0.1 0.1,0.3,0.6 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
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


def oracle_splits(data, proportions, powers=(0.75, 1.25, 1.5, 2.0)) -> dict[str, np.ndarray]:
    """Splits that use what only the truth knows, to show what is possible: the bulk split
    in proportion to ``load(k, r)^g x p_k`` (p: the mixing proportions; g = 1 and each of
    `powers`). Tracks ``(n, K, S, L) float32`` by name."""
    from varinterp.deconv.baselines import proportional_split

    load, bulk = data.load(), data.target_bulk()
    p = np.asarray(proportions, float)[None, :]
    out = {"oracle: split x p": proportional_split(bulk, load * p)}
    for g in powers:
        out[f"oracle: split^{g} x p"] = proportional_split(bulk, load**g * p)
    return out


def chromosome_bins(folder: Path, norm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-kb bins of chr22: ``(load (m, K), truth (m, K))`` float64, each cell type's
    normalised accessibility and ground-truth counts (both strands)."""
    from varinterp.deconv.contributions import bin_signals

    loads, truths = [], []
    for k, c in enumerate(CELL_TYPES):
        load, counts = bin_signals(
            bulk_pl=folder / f"{c}.ds.chr22.pl.bw", bulk_mn=folder / f"{c}.ds.chr22.mn.bw",
            accessibility=[folder / f"acc.{c}.chr22.bw"], norm=norm[k : k + 1],
            chroms=["chr22"],
        )  # fmt: skip
        loads.append(load[:, 0])
        truths.append(counts)
    return np.stack(loads, axis=1), np.stack(truths, axis=1)


def mixture_response(bins, proportions, seed: int, exponent: float | None = None):
    """The `BulkResponse` `varinterp.deconv.contributions` estimates from the
    chromosome's bins of a mixture: each cell type's binned truth thinned by
    ``Binomial(round(count), p_k / max p)`` (its own draw, seeded `seed`; the equal
    mixture unthinned), summed into the bulk. `exponent` None fits it."""
    from varinterp.deconv.contributions import response_from_bins

    load, truth = bins
    p = np.asarray(proportions, float) / max(proportions)
    counts = np.rint(truth).astype(np.int64)
    if np.all(p == 1):
        bulk = counts.sum(axis=1)
    else:
        bulk = np.random.default_rng(seed).binomial(counts, p[None, :]).sum(axis=1)
    return response_from_bins(load, bulk, exponent=exponent, cell_types=CELL_TYPES)


def scale_split(data) -> np.ndarray:
    """The bulk split by the model's scale function alone (contributions and exponent
    included): ``(n, K, S, L) float32``. What the model starts from."""
    from varinterp.deconv.baselines import split_bulk

    return split_bulk(data.target_bulk(), data.scale().astype(np.float64))


def _seed_of(name: str) -> int:
    return int(name.rsplit("-s", 1)[1]) if name.startswith("thin-") else 0


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
    ap.add_argument("--train-only", nargs="*", default=None, help="mixture names to train on")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--train-seed", type=int, default=0)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--redundancy-gradient", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--count-scale", type=float, default=None, help="1 = plain softplus")
    ap.add_argument("--counts-start", default="split", help="split (default) or random")
    ap.add_argument("--split-anchor", type=float, default=None, help="default: the library's")
    ap.add_argument("--exponent", default="fit", help="fit (default) or a fixed exponent")
    ap.add_argument(
        "--contributions", default="auto", choices=("auto", "none"),
        help="weigh the model's scale function by each cell type's contribution to the "
        "bulk, estimated from the chromosome's bins (auto) or not (none)",
    )  # fmt: skip
    ap.add_argument("--official", default=None, help="the official package's deepdetails CLI")
    ap.add_argument("--official-only", nargs="*", default=None, help="mixture names for it")
    ap.add_argument("--stub-path", default=None, help="folder with a bedGraphToBigWig stand-in")
    ap.add_argument("--oracles", action="store_true", help="also score the oracle splits")
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
    weights = {"equal": np.ones(len(data.cell_types))}
    for spec in args.proportions:
        props = [float(x) for x in spec.split(",")]
        for seed in args.seeds:
            mixtures[f"thin-{spec.replace(',', '-')}-s{seed}"] = thin(data, props, seed)
            weights[f"thin-{spec.replace(',', '-')}-s{seed}"] = np.asarray(props)
    if args.contributions == "auto":
        bins = chromosome_bins(args.fixtures / "deepdetails_chr22", data.norm)
        fixed = None if args.exponent == "fit" else float(args.exponent)
        for name, mix in mixtures.items():
            r = mixture_response(bins, weights[name], _seed_of(name), fixed)
            c = r.contributions
            mixtures[name] = dataclasses.replace(mix, contributions=c, exponent=r.exponent)
            print(f"{name}: contributions {np.round(c / c.sum(), 3).tolist()} exponent "
                  f"{r.exponent:.3f}", flush=True)  # fmt: skip
    rows = []
    for name, mix in mixtures.items():
        preds = {}
        t0 = time.time()
        if args.train and (args.train_only is None or name in args.train_only):
            preds.update(_train(mix, args, args.out / name))
        if args.oracles:
            preds.update(oracle_splits(mix, weights[name]))
        if mix.contributions is not None:
            preds["scale function"] = scale_split(mix)
        if args.official and (args.official_only is None or name in args.official_only):
            theirs, seconds = run_official(
                args.official, mix, args.out / name, epochs=args.epochs, stub_path=args.stub_path
            )
            print(f"official: {seconds:.0f} s", flush=True)
            if theirs is not None:
                preds["official"] = theirs
        ccc = ccc_table(mix, preds)
        for method in ccc.columns:
            for ct in ccc.index:
                rows.append({"mixture": name, "method": method, "cell_type": ct,
                             "ccc_within": float(ccc.loc[ct, method])})  # fmt: skip
        print(f"{name} ({time.time() - t0:.0f} s)\n{ccc.round(3).to_string()}", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out / "ccc.tsv", sep="\t", index=False, float_format="%.4f")
    (args.out / "args.json").write_text(json.dumps({k: str(v) for k, v in vars(args).items()}))


def _train(data, args, out: Path) -> dict[str, np.ndarray]:
    from varinterp.deconv.predict import predict_tracks, rescale_to_bulk
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.network import DeepDetailsConfig
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    cfg = DeepDetailsConfig(n_cell_types=3, filters=8, profile_shrinkage=4, gru_layers=1)
    settings = TrainSettings(
        epochs=args.epochs, batch_size=8, lr=3e-3, lr_decay=0.7, seed=args.train_seed,
        alpha=args.alpha, redundancy=args.redundancy_gradient, count_scale=args.count_scale,
        counts_start=args.counts_start,
        **({} if args.split_anchor is None else {"split_anchor": args.split_anchor}),
    )  # fmt: skip
    t0 = time.time()
    res = train_deconv(data, config=cfg, out=out, settings=settings)
    t1 = time.time()
    raw = predict_tracks(load_model(res.model_dir), data, rescale="none")
    bulk = data.target_bulk()
    info = {
        "train_s": t1 - t0, "predict_s": time.time() - t1, "epochs": res.epochs,
        "best_epoch": res.best_epoch, "attempts": res.attempts,
        "raw_over_bulk": float(raw.sum() / np.abs(bulk).sum()),
        "raw_share": (raw.sum(axis=(0, 2, 3)) / raw.sum()).round(4).tolist(),
        "true_share": (data.truth.sum(axis=(0, 2, 3)) / data.truth.sum()).round(4).tolist(),
    }  # fmt: skip
    (out / "run.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info), flush=True)
    return {
        "model": rescale_to_bulk(raw, bulk, mode="counts"),
        "model[per-bp]": rescale_to_bulk(raw, bulk, mode="per-bp"),
        "model[none]": raw,
    }


def run_official(
    cli: str, data, out: Path, *, epochs: int, stub_path: str | None = None
) -> tuple[np.ndarray | None, float]:
    """Train the official package on `data` on the CPU with the mixtures' budget (narrow
    fused model, batch 8, lr 3e-3 x 0.7 per epoch, `epochs` epochs, one retry) and read
    its predictions back: ``(n, K, S, L) float32`` (None when it wrote none) and the
    command's wall time in seconds. `cli` is its ``deepdetails`` command; `stub_path` a
    folder put first on the PATH with a stand-in for UCSC's ``bedGraphToBigWig``, which
    the command checks for although ``deconv`` never runs it."""
    import h5py

    dataset = write_official_dataset(data, out / "official_dataset")
    save_to = out / "official"
    save_to.mkdir(parents=True, exist_ok=True)
    cmd = [
        cli, "deconv", "--dataset", str(dataset), "--save-to", str(save_to),
        "--study-name", "", "--accelerator", "cpu", "--devices", "1", "--max-epochs",
        str(epochs), "--batch-size", "8", "--filters", "8", "--profile-shrinkage", "4",
        "--gru-layers", "1", "--head-mlp-layers", "3", "--learning-rate", "3e-3",
        "--lr-step-size", "1", "--lr-gamma", "0.7", "--earlystop-patience", str(epochs),
        "--max-retry", "1", "--hide-progress-bar", "--num-workers", "0",
    ]  # fmt: skip
    env = dict(os.environ, WANDB_MODE="offline")
    if stub_path:
        env["PATH"] = f"{stub_path}{os.pathsep}{env['PATH']}"
    t0 = time.time()
    log = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    seconds = time.time() - t0
    (out / "official.log").write_text(log.stdout + log.stderr)
    found = sorted(save_to.rglob("*predictions.h5"))
    if not found:
        print(f"the official run wrote no predictions (exit {log.returncode}); see official.log")
        return None, seconds
    with h5py.File(found[0], "r") as h5:
        return np.transpose(h5["preds"][:], (1, 0, 2, 3)).astype(np.float32), seconds


if __name__ == "__main__":
    main()
