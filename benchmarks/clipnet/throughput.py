"""Forward-pass throughput of the published CLIPNET network (random weights).

    python benchmarks/clipnet/throughput.py --device cpu --threads 2 --batch 64 --batches 5

Prints sequences per second for fp32 (and bf16 autocast on CUDA).
"""

from __future__ import annotations

import argparse
import time

import torch

from varinterp.models.clipnet.network import Clipnet, ClipnetConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--small", action="store_true", help="ClipnetConfig.small() instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = ClipnetConfig.small() if args.small else ClipnetConfig()
    model = Clipnet(cfg).to(args.device).eval()
    x = torch.randint(0, 3, (args.batch, 4, cfg.input_length), device=args.device).float()
    modes = [("fp32", False)] + ([("bf16", True)] if args.device.startswith("cuda") else [])
    for label, amp in modes:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
            model(x)  # warm-up
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(args.batches):
                model(x)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            dt = time.perf_counter() - t
        rate = args.batch * args.batches / dt
        print(f"{label}: {rate:,.0f} sequences/s (batch {args.batch}, {args.device})")


if __name__ == "__main__":
    main()
