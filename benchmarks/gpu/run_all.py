"""Every GPU number the benchmarks page waits for, in one run: one JSON and a Markdown table.

Run on a GPU machine from the repository root (about 5-8 minutes on one H100/H200)::

    .venv/bin/python benchmarks/gpu/run_all.py --out gpu_results

and on any machine, with tiny sizes on the CPU (the test suite runs this, so the script
cannot rot)::

    .venv/bin/python benchmarks/gpu/run_all.py --dry-run --out /tmp/gpu_dry

Measurements (each a function below, registered in `MEASUREMENTS`):

- ``clipnet_train``: CLIPNET (published geometry) training samples/s with bf16 autocast at
  batch 256, from personal windows of a simulated cohort through the real loader
  (`ClipnetData.iter_batches` behind `prefetch`), and the fraction of step time spent
  waiting for the next batch;
- ``clipnet_score``: 9-fold CLIPNET scoring (`score_frame`, reverse-complement averaged)
  of 10^4 and 10^6 random SNVs: SNV/s and peak GPU memory (goal: at least 20,000 SNV/s);
  a run that would pass its time budget stops early and says how far it got;
- ``deepdetails``: DeepDETAILS windows/s (prediction and a training step, bf16) and peak
  memory for 3, 5 and 10 cell types, both versions (fused with accessibility, and
  seq-only).

**Adding a family.** Write ``def measure_<name>(ctx: Context) -> list[dict]`` returning
rows with the keys of `ROW_KEYS`, and add it to `MEASUREMENTS` (new families: bpAI-TAC,
GET, cREscENDO). Use ``ctx.size(full, dry)`` for every size, ``ctx.device``,
``ctx.autocast()`` and ``ctx.peak_memory()``, so that ``--dry-run`` stays tiny.

Outputs: ``<out>/gpu_results.json`` (machine, torch/CUDA versions, every row) and
``<out>/gpu_results.md`` (the table to paste into ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ROW_KEYS = ("family", "measurement", "setting", "value", "unit", "peak_memory_gb", "note")


@dataclass
class Context:
    """What every measurement shares: the device, the size mode, a scratch folder."""

    device: torch.device
    dry_run: bool
    work: Path
    budget_s: float
    rows: list[dict] = field(default_factory=list)

    def size(self, full, dry):
        return dry if self.dry_run else full

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def reset_peak(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()

    def peak_memory(self) -> float | None:
        """Peak GPU memory (GB) since `reset_peak`; None on the CPU."""
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated() / 1e9
        return None


def _row(family, measurement, setting, value, unit, peak=None, note="") -> dict:
    return dict(zip(ROW_KEYS, (family, measurement, setting, value, unit, peak, note), strict=True))


# ------------------------------------------------------------------------------ CLIPNET
def measure_clipnet_train(ctx: Context) -> list[dict]:
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

    cfg = ctx.size(ClipnetConfig(), ClipnetConfig.small(input_length=200, output_length=100))
    batch = ctx.size(256, 8)
    steps = ctx.size(60, 3)
    samples = tuple(f"s{i}" for i in range(ctx.size(20, 3)))
    libs = tuple((f"lib{i}", samples[i % len(samples)]) for i in range(ctx.size(24, 3)))
    world = make_world(
        ctx.work / "clipnet_world", n_contigs=ctx.size(10, 2),
        contig_len=ctx.size(100_000, 2_000), peaks_per_contig=ctx.size(40, 4),
        samples=samples, libraries=libs, snvs_per_contig=ctx.size(2000, 20),
    )  # fmt: skip
    data = ClipnetData.build(
        store=GenomeStore.open(world.store), libraries=read_sample_sheet(world.sheet),
        peaks=world.peaks, input_length=cfg.input_length, output_length=cfg.output_length,
    )  # fmt: skip
    examples = data.examples(np.arange(data.n_peaks), rc="random")
    model = Clipnet(cfg).to(ctx.device)
    opt = make_optimizer(model, fit_settings(TrainingConfig(lr=1e-3)).optimizer)
    rng = np.random.default_rng(0)

    def batches():
        while True:
            yield from data.iter_batches(examples, batch_size=batch, rng=rng, train=True)

    it = prefetch(batches(), 2)
    wait = total = 0.0
    n = 0
    ctx.reset_peak()
    for step in range(steps + 1):
        t0 = time.perf_counter()
        b = next(it)
        t1 = time.perf_counter()
        x, prof, q = to_device(b, ctx.device)
        opt.zero_grad()
        with ctx.autocast():
            p_hat, q_hat = model(x)
        clipnet_loss(p_hat, q_hat, prof, q).total.backward()
        opt.step()
        ctx.sync()
        t2 = time.perf_counter()
        if step:  # step 0 warms up (kernels, JIT)
            wait += t1 - t0
            total += t2 - t0
            n += x.shape[0]
    setting = f"batch {batch}, bf16, {steps} steps"
    return [
        _row("CLIPNET", "training samples/s", setting, n / total, "samples/s", ctx.peak_memory()),
        _row("CLIPNET", "fraction of step time waiting for data", setting, wait / total, ""),
    ]


def _nine_fold_model(ctx: Context, path: Path):
    from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
    from varinterp.training.modeldir import save_model_dir

    cfg = ctx.size(ClipnetConfig(), ClipnetConfig.small(input_length=200, output_length=100))
    folds = {}
    for k in range(1, 10):
        torch.manual_seed(k)
        folds[f"fold_{k}"] = Clipnet(cfg)
    return save_model_dir(path, config=cfg, folds=folds, metadata={})


class _OutOfTime(Exception):
    pass


def measure_clipnet_score(ctx: Context) -> list[dict]:
    from varinterp.effects.frame import score_frame
    from varinterp.training.inference import load_model

    model = _nine_fold_model(ctx, ctx.work / "clipnet9")
    ens = load_model(model, device=str(ctx.device))
    length = ctx.size(5_000_000, 50_000)
    rng = np.random.default_rng(0)
    seq = np.array(list("ACGT"))[rng.integers(0, 4, length)]
    fasta = ctx.work / "score_ref.fa"
    fasta.write_text(">chr1\n" + "\n".join("".join(seq[i : i + 60]) for i in range(0, length, 60)))
    rows = []
    for n in ctx.size((10_000, 1_000_000), (40, 200)):
        pos0 = np.sort(rng.integers(1000, length - 1000, n))
        ref = seq[pos0]
        alt = np.array(list("ACGT"))[(np.searchsorted(list("ACGT"), ref) + 1) % 4]
        variants = pd.DataFrame({"chrom": "chr1", "pos0": pos0, "ref": ref, "alt": alt})
        start = time.perf_counter()
        done = [0]

        def stop_at_budget(k, total, start=start, done=done):
            done[0] = k
            if time.perf_counter() - start > ctx.budget_s:
                raise _OutOfTime

        ctx.reset_peak()
        note = ""
        try:
            score_frame(ens, variants, fasta=fasta, batch_size=ctx.size(1024, 16),
                        on_progress=stop_at_budget)  # fmt: skip
            done[0] = n
        except _OutOfTime:
            note = f"stopped after {done[0]:,} of {n:,} variants ({ctx.budget_s:.0f} s budget)"
        ctx.sync()
        dt = time.perf_counter() - start
        rows.append(_row("CLIPNET", "9-fold scoring SNV/s (RC averaged)", f"{n:,} SNVs",
                         done[0] / dt, "SNV/s", ctx.peak_memory(), note))  # fmt: skip
    return rows


# --------------------------------------------------------------------------- DeepDETAILS
def measure_deepdetails(ctx: Context) -> list[dict]:
    from varinterp.models.deepdetails.network import DeepDetailsConfig, build_model

    rows = []
    batch = ctx.size(64, 2)
    reps = ctx.size(20, 1)
    for seq_only in (False, True):
        version = "seq-only" if seq_only else "fused (accessibility)"
        for k in (3, 5, 10):
            cfg = DeepDetailsConfig(
                n_cell_types=k, seq_only=seq_only, input_length=ctx.size(4096, 512),
                filters=ctx.size(512, 8), gru_layers=ctx.size(2, 1), n_dilated=ctx.size(9, 2),
            )  # fmt: skip
            model = build_model(cfg).to(ctx.device)
            seq = torch.zeros(batch, 4, cfg.input_length, device=ctx.device)
            seq[:, 0] = 1
            acc = torch.rand(batch, k, cfg.input_length, device=ctx.device)
            scale = torch.ones(batch, k, device=ctx.device)
            for mode in ("prediction", "training step"):
                model.train(mode == "training step")
                opt = torch.optim.Adam(model.parameters(), lr=1e-4)
                ctx.reset_peak()
                t0 = 0.0
                for rep in range(reps + 1):
                    if rep == 1:
                        ctx.sync()
                        t0 = time.perf_counter()
                    if mode == "prediction":
                        with torch.no_grad(), ctx.autocast():
                            model(seq, acc, scale)
                    else:
                        opt.zero_grad()
                        with ctx.autocast():
                            out = model(seq, acc, scale)
                        (out.profile.float().mean() + out.counts.float().mean()).backward()
                        opt.step()
                ctx.sync()
                rate = reps * batch / (time.perf_counter() - t0)
                rows.append(_row("DeepDETAILS", f"{mode} windows/s", f"{version}, {k} cell types",
                                 rate, "windows/s", ctx.peak_memory()))  # fmt: skip
            del model
    return rows


#: name -> measurement; new families add theirs here.
MEASUREMENTS: dict[str, Callable[[Context], list[dict]]] = {
    "clipnet_train": measure_clipnet_train,
    "clipnet_score": measure_clipnet_score,
    "deepdetails": measure_deepdetails,
}


def markdown(rows: list[dict]) -> str:
    lines = [
        "| family | measurement | setting | value | unit | peak GPU memory (GB) | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        value = f"{r['value']:,.3f}" if r["value"] < 10 else f"{r['value']:,.0f}"
        peak = "" if r["peak_memory_gb"] is None else f"{r['peak_memory_gb']:.2f}"
        lines.append(f"| {r['family']} | {r['measurement']} | {r['setting']} | {value} | "
                     f"{r['unit']} | {peak} | {r['note']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the JSON and table")
    ap.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU")
    ap.add_argument("--only", nargs="*", choices=sorted(MEASUREMENTS), help="run these only")
    ap.add_argument("--budget-s", type=float, default=150.0,
                    help="time budget of one scoring run (s)")  # fmt: skip
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.dry_run:
        device = torch.device("cpu")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        ap.error("no CUDA device; use --dry-run for the CPU check")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(device=device, dry_run=args.dry_run, work=Path(tmp), budget_s=args.budget_s)
        for name in args.only or MEASUREMENTS:
            t0 = time.perf_counter()
            ctx.rows += MEASUREMENTS[name](ctx)
            print(f"{name}: {time.perf_counter() - t0:.1f} s", flush=True)
    result = {
        "machine": platform.platform(),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "dry_run": args.dry_run,
        "date": time.strftime("%Y-%m-%d"),
        "seconds": time.perf_counter() - started,
        "rows": ctx.rows,
    }
    (args.out / "gpu_results.json").write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(ctx.rows)
    (args.out / "gpu_results.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
