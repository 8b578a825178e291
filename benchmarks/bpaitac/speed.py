"""bpAI-TAC training speed and memory: windows per second through the one engine.

Synthetic windows (random one-hot sequence, Poisson insertion counts, precomputed bias
logits, as training sees them) of the chosen model size train through
`varinterp.training.engine.fit` with `AtacTask` and the default loss (0.5 x CE + 0.5 x
MSE): epoch 0 warms up, epoch 1 (``--steps`` batches) is timed; the engine's
``samples_per_s`` of epoch 1 is reported, with the peak GPU memory on CUDA. One JSON
line per run on stdout.

    python benchmarks/bpaitac/speed.py --device cpu --tasks 90 --batch-size 20 --steps 3
    python benchmarks/bpaitac/speed.py --device cpu --preset small --tasks 11 --steps 20
    # the GPU numbers of the issue (90 tasks, bf16, batch 64) come with every other GPU
    # number from benchmarks/gpu/run_all.py, which calls `train_speed`
"""

from __future__ import annotations

import argparse
import json
import platform
import time


def train_speed(
    *,
    device: str = "cpu",
    preset: str = "published",
    tasks: int = 90,
    batch_size: int = 20,
    steps: int = 5,
    bf16: bool = False,
) -> dict:
    """Train synthetic windows for two epochs of `steps` batches (module docstring); the
    row of one run: windows/s of the timed epoch, parameters, peak GPU memory on CUDA."""
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

    dev = resolve_device(device)
    base = BpAiTacConfig.small() if preset == "small" else BpAiTacConfig()
    cfg = BpAiTacConfig(**{**base.to_dict(), "n_tasks": tasks, "bias": None})
    n = batch_size * steps
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, size=(n, cfg.input_length))
    seq = np.zeros((n, 4, cfg.input_length), dtype=np.uint8)
    np.put_along_axis(seq, codes[:, None, :], 1, axis=1)
    profile = rng.poisson(0.3, size=(n, tasks, cfg.output_length)).astype(np.float32)
    data = AtacData(
        regions=pd.DataFrame({"split": ["train"] * n}),
        tasks=tuple(f"t{i}" for i in range(tasks)),
        seq=seq, profile=profile, totals_raw=profile.sum(-1).astype(np.float64),
        totals=profile.sum(-1), input_length=cfg.input_length,
        output_length=cfg.output_length,
        bias=rng.normal(size=(n, cfg.output_length)).astype(np.float32),
    )  # fmt: skip
    task = AtacTask(data, train_index=np.arange(n), val_index=np.zeros(0, np.int64),
                    batch_size=batch_size, loss=AtacLoss("ce", 0.5))  # fmt: skip
    settings = FitSettings(max_epochs=2, monitor="train_loss", bf16=bf16,
                           max_batches_per_epoch=steps)  # fmt: skip
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    res = fit(make_model=lambda _a: BpAiTac(cfg), task=task, settings=settings, device=dev,
              seed=0)  # fmt: skip
    return {
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "preset": preset,
        "tasks": tasks,
        "parameters": count_parameters(BpAiTac(cfg)),
        "input_length": cfg.input_length,
        "batch_size": batch_size,
        "steps": steps,
        "bf16": bool(bf16 and dev.type == "cuda"),
        "windows_per_s": round(res.history[-1].samples_per_s, 2),
        "seconds_total": round(time.perf_counter() - t0, 1),
        "peak_gpu_memory_gib": (
            round(torch.cuda.max_memory_allocated(dev) / 2**30, 2) if dev.type == "cuda" else None
        ),
        "torch": torch.__version__,
    }


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

    import torch

    torch.set_num_threads(args.threads)
    row = train_speed(device=args.device, preset=args.preset, tasks=args.tasks,
                      batch_size=args.batch_size, steps=args.steps, bf16=args.bf16)  # fmt: skip
    print(json.dumps(row))


if __name__ == "__main__":
    main()
