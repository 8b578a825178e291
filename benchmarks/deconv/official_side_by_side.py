"""varinterp's DeepDETAILS beside the official ``deepdetails`` package, same data, same budget.

Data: the ``deepdetails_chr22`` fixture's ``data.h5`` (16 prepared 4096-bp chr22 windows
*with sequence*, in the official package's own dataset format: ``dec/seq``, ``dec/acc``,
``dec/bulk``, ``regions``). Its accessibility channels carry no names, so each is
matched to the cell type whose accessibility bigWig it correlates with best over the
windows. The ground truth (centre 1,000 bp) is read from the ``*.ds.chr22`` bigWigs; it
is written into a copy of the dataset as ``dec/ref`` only for the official package's
bookkeeping (neither model trains on it). Both get no accessibility depth factors (the
file has none), so both scale functions are the raw accessibility shares.

Both train the narrow fused model on the CPU with the same budget: ``--epochs`` epochs,
batch ``--batch-size``, Adam lr 3e-3 decayed x0.7 per epoch, filters 8, profile
shrinkage 4, one GRU layer (official: its default ``--alpha 1`` on its 0-100 scale, a
penalty weight of 0.01, ``--max-retry 1``, ``--earlystop-patience`` = epochs, its default
counts rescaling; varinterp: penalty weight ``--alpha``, default 1, export rescaled to the
bulk counts).
Then Lin's CCC of log counts per window within each cell type for both and for the
proportional split and NNLS, and the wall times.

varinterp's scale function carries the bulk's response read from the fixture's chr22
bigWigs as ``deconvolve prep`` does (``--contributions auto``; scored alone as ``scale
function``); ``--no-sequence`` trains varinterp on all-N sequence (the same windows
without their sequence, so the two runs measure what the sequence adds),
``--split-anchor`` overrides the library's choice (0 with sequence, 10 without), and
``--skip-official`` leaves the official package out.

    python benchmarks/deconv/official_side_by_side.py --fixtures ../shared/fixtures \\
        --out OUT --official /path/to/venv/bin/deepdetails --epochs 10
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

CELL_TYPES = ("K562", "GM12878", "MCF7")


def fixture_data(fx: Path):
    """The fixture's 16 windows as a `DeconvData` with truth; channel order matched."""
    import h5py

    from varinterp.deconv.prep import DeconvData
    from varinterp.io.bigwig import BigWig

    with h5py.File(fx / "data.h5", "r") as h5:
        seq = h5["dec/seq"][:].astype(np.uint8)
        acc = h5["dec/acc"][:]
        bulk = np.abs(h5["dec/bulk"][:])
        reg = h5["regions"][:]
        chrom = h5["regions"].attrs["chr_0"]
    regions = pd.DataFrame({"chrom": chrom, "start": reg[:, 1], "end": reg[:, 2]})
    length = acc.shape[-1]

    def track(path, s, e):
        with BigWig(path, absolute=True) as bw:
            return bw.values(chrom, int(s), int(e))

    names = []
    for k in range(acc.shape[1]):
        scores = {}
        for ct in CELL_TYPES:
            ref = np.concatenate([track(fx / f"acc.{ct}.chr22.bw", s, e) for s, e in
                                  zip(regions["start"], regions["end"], strict=True)])  # fmt: skip
            scores[ct] = np.corrcoef(acc[:, k].ravel(), ref)[0, 1]
        names.append(max(scores, key=scores.get))
    if len(set(names)) != len(names):
        raise SystemExit(f"could not match accessibility channels to cell types: {names}")
    start = (length - 1000) // 2
    truth = np.zeros((len(regions), len(names), 2, 1000), np.float32)
    for i, (s, _e) in enumerate(zip(regions["start"], regions["end"], strict=True)):
        for k, ct in enumerate(names):
            for j, strand in enumerate(("pl", "mn")):
                truth[i, k, j] = track(
                    fx / f"{ct}.ds.chr22.{strand}.bw", s + start, s + start + 1000
                )
    sizes = dict(
        line.split()[:2] for line in (fx / "hg38.chrom.sizes").read_text().splitlines() if line
    )
    return DeconvData(
        seq=seq, acc=acc.astype(np.float32), bulk=bulk.astype(np.float32),
        norm=np.ones(len(names)), regions=regions, cell_types=names,
        chrom_sizes={k: int(v) for k, v in sizes.items()}, target_length=1000, truth=truth,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--official", required=True, help="the official package's deepdetails CLI")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--alpha", type=float, default=1.0, help="varinterp's redundancy-penalty weight"
    )
    ap.add_argument(
        "--official-seq-only", action="store_true", help="the official seq-only model (--seq)"
    )
    ap.add_argument(
        "--stub-path", default=None, help="folder with a bedGraphToBigWig stub for the CLI's check"
    )
    ap.add_argument(
        "--contributions", default="auto", choices=("auto", "none"),
        help="the bulk's response for varinterp's scale function, read from the fixture's "
        "chr22 bigWigs as `deconvolve prep` does (auto), or none",
    )  # fmt: skip
    ap.add_argument("--split-anchor", type=float, default=None, help="default: the library's")
    ap.add_argument("--no-sequence", action="store_true", help="varinterp sees all-N sequence")
    ap.add_argument("--skip-official", action="store_true", help="varinterp and baselines only")
    args = ap.parse_args()

    import h5py
    import torch

    torch.set_num_threads(args.threads)
    from varinterp.deconv.predict import predict_tracks
    from varinterp.models.deepdetails.files import load_model
    from varinterp.models.deepdetails.network import DeepDetailsConfig
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv

    fx = args.fixtures / "deepdetails_chr22"
    args.out.mkdir(parents=True, exist_ok=True)
    data = fixture_data(fx)
    print(f"{data.n} windows; accessibility channels: {data.cell_types}", flush=True)
    if args.contributions == "auto":
        from varinterp.deconv.contributions import estimate_response

        response = estimate_response(
            bulk_pl=fx / "bulk.chr22.pl.bw", bulk_mn=fx / "bulk.chr22.mn.bw",
            accessibility={c: fx / f"acc.{c}.chr22.bw" for c in data.cell_types},
            norm=data.norm, chroms=["chr22"],
        )  # fmt: skip
        data = dataclasses.replace(
            data, contributions=response.contributions, exponent=response.exponent
        )
        print(f"bulk response: {response}", flush=True)
    ours_data = dataclasses.replace(data, seq=np.zeros_like(data.seq)) if args.no_sequence else data
    times = {}
    t0 = time.time()
    cfg = DeepDetailsConfig(n_cell_types=3, filters=8, profile_shrinkage=4, gru_layers=1)
    settings = TrainSettings(
        epochs=args.epochs, batch_size=args.batch_size, lr=3e-3, lr_decay=0.7, seed=0,
        patience=args.epochs, max_retry=0, alpha=args.alpha,
        **({} if args.split_anchor is None else {"split_anchor": args.split_anchor}),
    )  # fmt: skip
    model_dir = args.out / "varinterp" / "model"
    if not (model_dir / "config.json").is_file():  # a rerun reuses the trained model
        model_dir = train_deconv(
            ours_data, config=cfg, out=args.out / "varinterp", settings=settings
        ).model_dir
        times["varinterp_s"] = time.time() - t0
    ours = predict_tracks(load_model(model_dir), ours_data, rescale="counts")
    preds = {"varinterp": ours}
    if data.contributions is not None:
        from mixtures_chr22 import scale_split  # this script's folder

        preds["scale function"] = scale_split(data)
    if args.skip_official:
        _report(data, preds, times, args.out)
        return

    dataset = args.out / "official_dataset"
    dataset.mkdir(exist_ok=True)
    shutil.copy(fx / "data.h5", dataset / "data.h5")
    with h5py.File(dataset / "data.h5", "a") as h5:
        n, k = data.n, len(data.cell_types)
        ref = np.zeros((n, k * 2, data.acc.shape[-1]), np.float32)
        start = (data.acc.shape[-1] - 1000) // 2
        ref[..., start : start + 1000] = data.truth.reshape(n, k * 2, 1000)
        if "ref" in h5["dec"]:
            del h5["dec/ref"]
        h5["dec"].create_dataset("ref", data=ref)
        h5["dec"].attrs["cluster_names"] = ",".join(data.cell_types)
    t0 = time.time()
    cmd = [
        args.official, "deconv", "--dataset", str(dataset), "--save-to", str(args.out / "official"),
        "--study-name", "", "--accelerator", "cpu", "--devices", "1", "--max-epochs",
        str(args.epochs), "--batch-size", str(args.batch_size), "--filters", "8",
        "--profile-shrinkage", "4", "--gru-layers", "1", "--head-mlp-layers", "3",
        "--learning-rate", "3e-3", "--lr-step-size", "1", "--lr-gamma", "0.7",
        "--earlystop-patience", str(args.epochs), "--max-retry", "1", "--hide-progress-bar",
        "--num-workers", "0", *(["--seq"] if args.official_seq_only else []),
    ]  # fmt: skip
    (args.out / "official").mkdir(exist_ok=True)
    env = dict(os.environ)
    if args.stub_path:  # the CLI checks for UCSC's bedGraphToBigWig, which deconv never runs
        env["PATH"] = f"{args.stub_path}{os.pathsep}{env['PATH']}"
    log = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    (args.out / "official.log").write_text(log.stdout + log.stderr)
    times["official_s"] = time.time() - t0
    found = sorted((args.out / "official").rglob("*predictions.h5"))
    if found:
        with h5py.File(found[0], "r") as h5:
            theirs = np.transpose(h5["preds"][:], (1, 0, 2, 3))  # (n, K, S, L)
        preds["official"] = theirs
    else:
        print(f"the official run wrote no predictions (exit {log.returncode}); see official.log")
    _report(data, preds, times, args.out)


def _report(data, preds, times, out: Path) -> None:
    from varinterp.deconv.predict import evaluate_run

    table, _ = evaluate_run(data, preds)
    ccc = table[table["metric"] == "ccc_within"].pivot(
        index="unit", columns="method", values="value"
    )
    ccc.to_csv(out / "ccc.tsv", sep="\t", float_format="%.4f")
    (out / "times.json").write_text(json.dumps(times, indent=2))
    print(ccc.round(3).to_string())
    print(times)


if __name__ == "__main__":
    main()
