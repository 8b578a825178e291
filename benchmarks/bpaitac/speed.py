"""bpAI-TAC training speed and memory: windows per second through the one engine.

Synthetic windows (random one-hot sequence, Poisson insertion counts, precomputed bias
logits, as training sees them) of the chosen model size train through
`varinterp.training.engine.fit` with `AtacTask` and the default loss (0.5 x CE + 0.5 x
MSE): epoch 0 warms up, epoch 1 (``--steps`` batches) is timed; the engine's
``samples_per_s`` of epoch 1 is reported, with the peak GPU memory on CUDA. One JSON
line per run on stdout.

    python benchmarks/bpaitac/speed.py --device cpu --tasks 90 --batch-size 20 --steps 3
    python benchmarks/bpaitac/speed.py --device cpu --preset small --tasks 11 --steps 20
    # the GPU numbers of the issue: 90 tasks, bf16, batch 64
    python benchmarks/bpaitac/speed.py --device cuda --tasks 90 --batch-size 64 --bf16 --steps 50
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--preset", choices=("published", "small"), default="published")
    ap.add_argument("--tasks", type=int, default=90)
    ap.add_argument("--batch-size", type=int, default=20)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    from varinterp.models.bpaitac.data import AtacData
    from varinterp.models.bpaitac.loss import AtacLoss
    from varinterp.models.bpaitac.network import BpAiTac, BpAiTacConfig, count_parameters
    from varinterp.models.bpaitac.task import AtacTask
    from varinterp.training.devices import resolve_device
    from varinterp.training.engine import fit
    from varinterp.training.settings import FitSettings

    torch.set_num_threads(args.threads)
    dev = resolve_device(args.device)
    base = BpAiTacConfig.small() if args.preset == "small" else BpAiTacConfig()
    cfg = BpAiTacConfig(**{**base.to_dict(), "n_tasks": args.tasks, "bias": None})
    n = args.batch_size * args.steps
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=(n, cfg.input_length))
    seq = np.zeros((n, 4, cfg.input_length), dtype=np.uint8)
    np.put_along_axis(seq, codes[:, None, :], 1, axis=1)
    profile = rng.poisson(0.3, size=(n, args.tasks, cfg.output_length)).astype(np.float32)
    data = AtacData(
        regions=pd.DataFrame({"split": ["train"] * n}),
        tasks=tuple(f"t{i}" for i in range(args.tasks)),
        seq=seq, profile=profile, totals_raw=profile.sum(-1).astype(np.float64),
        totals=profile.sum(-1), input_length=cfg.input_length,
        output_length=cfg.output_length,
        bias=rng.normal(size=(n, cfg.output_length)).astype(np.float32),
    )  # fmt: skip
    task = AtacTask(data, train_index=np.arange(n), val_index=np.zeros(0, np.int64),
                    batch_size=args.batch_size, loss=AtacLoss("ce", 0.5))  # fmt: skip
    settings = FitSettings(max_epochs=2, monitor="train_loss", bf16=args.bf16,
                           max_batches_per_epoch=args.steps)  # fmt: skip
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    res = fit(make_model=lambda _a: BpAiTac(cfg), task=task, settings=settings, device=dev,
              seed=0)  # fmt: skip
    row = {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": args.threads,
        "preset": args.preset,
        "tasks": args.tasks,
        "parameters": count_parameters(BpAiTac(cfg)),
        "input_length": cfg.input_length,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "bf16": bool(args.bf16 and dev.type == "cuda"),
        "windows_per_s": round(res.history[-1].samples_per_s, 2),
        "seconds_total": round(time.perf_counter() - t0, 1),
        "peak_gpu_memory_gib": (
            round(torch.cuda.max_memory_allocated(dev) / 2**30, 2) if dev.type == "cuda" else None
        ),
        "torch": torch.__version__,
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
