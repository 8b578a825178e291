"""Benchmark the CLIPNET data loader (windows/s) and training step (samples/s).

Builds a synthetic cohort (reference, VCF -> genome store, stranded bigWigs, peaks) in a
temporary folder, then times

- the loader alone: `ClipnetData.iter_batches` (train mode: shuffle, jitter, reverse
  complement, two-hot from the store, tracks from the cache), with and without the
  background prefetch thread;
- training steps (forward + backward + Adam) of the small and the published CLIPNET on
  the CPU, or on CUDA when present.

Usage: python benchmarks/training/bench_clipnet.py [--batches 20] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.models.clipnet._world import make_world
from varinterp.datasets.prefetch import prefetch
from varinterp.datasets.samplesheet import read_sample_sheet
from varinterp.genome.store import GenomeStore
from varinterp.models.clipnet.data import ClipnetData
from varinterp.models.clipnet.loss import clipnet_loss
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.models.clipnet.runconfig import TrainingConfig, fit_settings
from varinterp.models.clipnet.task import to_device
from varinterp.training.settings import make_optimizer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    t0 = time.perf_counter()
    samples = tuple(f"s{i}" for i in range(20))
    libs = tuple((f"lib{i}", samples[i % 20]) for i in range(24))
    world = make_world(tmp / "w", n_contigs=10, contig_len=100_000, peaks_per_contig=40,
                       samples=samples, libraries=libs, snvs_per_contig=2000)  # fmt: skip
    print(f"world: {time.perf_counter() - t0:.1f} s")
    store = GenomeStore.open(world.store)
    t0 = time.perf_counter()
    data = ClipnetData.build(store=store, libraries=read_sample_sheet(world.sheet),
                             peaks=world.peaks)  # fmt: skip
    print(f"track cache ({data.n_libraries} libraries x {data.n_peaks} peaks): "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    ex = data.examples(np.arange(data.n_peaks), rc="both")
    for depth in (0,):
        it = prefetch(
            data.iter_batches(
                ex, batch_size=args.batch_size, rng=np.random.default_rng(0), train=True
            ),
            depth,
        )
        next(it)  # JIT warm-up
        t0 = time.perf_counter()
        n = 0
        for i, b in enumerate(it):
            n += b.x.shape[0]
            if i + 1 >= args.batches:
                break
        dt = time.perf_counter() - t0
        print(f"loader (prefetch {depth}): {n / dt:,.0f} windows/s "
              f"({args.batches} batches of {args.batch_size})")  # fmt: skip
    device = torch.device(args.device)
    batch = next(data.iter_batches(ex, batch_size=args.batch_size))
    for name, cfg in (("small", ClipnetConfig.small()), ("published", ClipnetConfig())):
        model = Clipnet(cfg).to(device)
        opt = make_optimizer(model, fit_settings(TrainingConfig(lr=1e-3)).optimizer)
        x, prof, q = to_device(batch, device)
        steps = max(2, args.batches // (4 if name == "published" else 1))
        for step in range(steps + 1):
            if step == 1:
                if device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
            opt.zero_grad()
            ctx = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                   else torch.autocast("cpu", enabled=False))  # fmt: skip
            with ctx:
                p_hat, q_hat = model(x)
            clipnet_loss(p_hat, q_hat, prof, q).total.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        print(f"train step {name} on {device}: {steps * x.shape[0] / dt:,.0f} samples/s")


if __name__ == "__main__":
    main()
