"""cREscENDO speed and memory: encoder training, DeepLIFT attribution, the activity store.

Three measurements on models of the chosen preset with random weights (speed does not
depend on what the weights learnt), on one device:

- **encoder training**: optimizer steps of the peak encoder (batch `--batch` peaks of
  1,344 bp, BCE over `--cells` cells); reported as peaks x cells per second and peaks
  per second;
- **attribution**: DeepLIFT of one gene with `--tokens` tokens over `--cells` cells
  (`deeplift_gene`, float64 and float32), cells per second;
- **activity store**: `cre_activity` over `--genes` genes of `--tokens` tokens each at
  `--cells` cells, in a child process: its peak resident memory (``ru_maxrss``) beside
  that of a child that only loads the model, the store's size on disk, and the size of
  the dense genes x cells x tokens float32 array the published code keeps in memory.

Run (the numbers of docs/benchmarks.md)::

    python benchmarks/crescendo/speed.py --device cpu --preset published
    python benchmarks/crescendo/speed.py --device cpu --preset small
    python benchmarks/crescendo/speed.py --device cuda --preset published   # GPU, pending
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import torch

from varinterp.models.crescendo.attribution import deeplift_gene
from varinterp.models.crescendo.loss import accessibility_loss
from varinterp.models.crescendo.network import PRESETS, Crescendo, CrescendoConfig
from varinterp.training.modeldir import save_model_dir


def random_model(preset: str, *, cells: int, genes: int, tokens: int, seed: int = 0) -> Crescendo:
    """A `Crescendo` with random weights and `genes` genes of `tokens` tokens each (their
    own consecutive peaks), filled buffers, in eval mode."""
    n_peaks = genes * tokens
    cfg = CrescendoConfig(
        n_cells=cells,
        n_genes=genes,
        n_peaks=n_peaks,
        max_tokens=tokens,
        n_cell_types=4,
        **PRESETS[preset],
    )
    torch.manual_seed(seed)
    m = Crescendo(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        m.peak_embedding.copy_(torch.randn(n_peaks, cfg.embed_dim, generator=g))
        m.peak_norm.copy_(m.accessibility(m.peak_embedding).norm(dim=1))
        m.token_peaks.copy_(torch.arange(n_peaks).reshape(genes, tokens))
        m.token_distance.copy_(torch.linspace(-1, 1, tokens).repeat(genes, 1))
        starts = torch.arange(n_peaks) * 2000
        m.peak_coords.copy_(torch.stack([torch.zeros_like(starts), starts, starts + 500], 1))
        m.pca_loadings.copy_(torch.randn(genes, cfg.n_pcs, generator=g) / 7)
        m.cell_type.copy_(torch.arange(cells) % 4)
    return m


def encoder_speed(model: Crescendo, *, batch: int, steps: int, device: str) -> dict:
    enc = model.encoder.to(device).train()
    opt = torch.optim.Adam(enc.parameters(), lr=1e-2, betas=(0.95, 0.9995), eps=1e-7)
    x = torch.zeros(batch, 4, 1344, device=device)
    x[:, torch.randint(4, (1344,)), torch.arange(1344)] = 1.0
    y = (torch.rand(batch, model.config.n_cells, device=device) < 0.3).float()
    for i in range(steps + 1):
        if i == 1:  # the first step warms up (allocations, kernels)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        loss = accessibility_loss(enc(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    s = (time.perf_counter() - t0) / steps
    return {
        "encoder_step_s": s,
        "encoder_peaks_per_s": batch / s,
        "encoder_peak_cells_per_s": batch * model.config.n_cells / s,
    }


def attribution_speed(model: Crescendo, *, chunk: int) -> dict:
    out = {}
    for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
        deeplift_gene(model, 0, chunk_cells=chunk, dtype=dtype)  # warm-up
        t0 = time.perf_counter()
        res = deeplift_gene(model, 1, chunk_cells=chunk, dtype=dtype)
        s = time.perf_counter() - t0
        out[f"attribution_cells_per_s_{name}"] = model.config.n_cells / s
        out[f"attribution_max_delta_{name}"] = res.max_delta
    return out


def _child(task: str, model_dir: str, out: str, queue) -> None:
    torch.set_num_threads(1)
    from varinterp.models.crescendo.activity import cre_activity
    from varinterp.training.inference import load_model

    t0 = time.perf_counter()
    if task == "load":
        load_model(model_dir, device="cpu")
    else:
        cre_activity(model_dir, out=out)
    queue.put(
        {
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "seconds": time.perf_counter() - t0,
        }
    )


def store_memory(model: Crescendo, *, tmp: Path) -> dict:
    cfg = model.config
    save_model_dir(
        tmp / "model",
        config=cfg,
        folds={"model": model},
        metadata={
            "cell_types": ["a", "b", "c", "d"],
            "chrom_sizes": {"contig0": int(cfg.n_peaks) * 2000 + 1000},
        },
    )
    ctx = mp.get_context("spawn")
    res = {}
    for task in ("load", "activity"):
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(task, str(tmp / "model"), str(tmp / "act"), q))
        p.start()
        res[task] = q.get()
        p.join()
    size = sum(f.stat().st_size for f in (tmp / "act").iterdir())
    dense = cfg.n_genes * cfg.n_cells * cfg.max_tokens * 4
    return {
        "store_peak_rss_mb": res["activity"]["rss_mb"],
        "load_only_peak_rss_mb": res["load"]["rss_mb"],
        "activity_seconds": res["activity"]["seconds"],
        "activity_dir_mb": size / 2**20,
        "store_mb": (tmp / "act" / "activity.h5").stat().st_size / 2**20,
        "dense_array_mb": dense / 2**20,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--preset", default="published", choices=sorted(PRESETS))
    p.add_argument("--cells", type=int, default=10_000)
    p.add_argument("--genes", type=int, default=40)
    p.add_argument("--tokens", type=int, default=60)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--skip-store", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = random_model(args.preset, cells=args.cells, genes=args.genes, tokens=args.tokens)
    result = {
        "device": args.device,
        "preset": args.preset,
        "cells": args.cells,
        "genes": args.genes,
        "tokens": args.tokens,
        "threads": args.threads,
    }
    result.update(encoder_speed(model, batch=args.batch, steps=args.steps, device=args.device))
    model = model.to(args.device)
    result.update(attribution_speed(model, chunk=args.chunk))
    if not args.skip_store:
        with tempfile.TemporaryDirectory() as tmp:
            result.update(store_memory(model.cpu(), tmp=Path(tmp)))
    print(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
