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
  seq-only);
- ``bpaitac``: bpAI-TAC training windows/s and peak memory at the published widths
  (300 filters, 9 blocks, 998 bp), 90 tasks, bf16, batch 64, through the engine
  (`train_speed` of ``benchmarks/bpaitac/speed.py``);
- ``get``: GET training samples/s and peak memory at the published size (D 768, 12
  layers, 12 heads, 200 regions, 283 features), bf16, batch 8 (the recipe's) and 32,
  through `train_get` on synthetic features (featurisation is a CPU number, not measured
  here);
- ``crescendo``: cREscENDO peak-encoder training (published preset, 10,000 cells, batch
  128, bf16, the engine with `EncoderTask`): peaks/s and peaks x cells/s; DeepLIFT
  (`deeplift_gene`, float64 and float32) of one 60-token gene over 10,000 cells: cells/s.

Each training measurement runs a fixed number of steps (an untimed warm-up epoch, then
the timed one) sized to take well under a minute on an H100; the scoring runs stop at
``--budget-s``.

**Adding a family.** Write ``def measure_<name>(ctx: Context) -> list[dict]`` returning
rows with the keys of `ROW_KEYS`, and add it to `MEASUREMENTS`. Use ``ctx.size(full,
dry)`` for every size, ``ctx.device``, ``ctx.autocast()`` and ``ctx.peak_memory()``, so
that ``--dry-run`` stays tiny; a family's own benchmark script is imported with
``_script("<family>/speed.py")``.

Outputs: ``<out>/gpu_results.json`` (machine, torch/CUDA versions, every row) and
``<out>/gpu_results.md`` (the table to paste into ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
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


def _script(relative: str):
    """A benchmark script of this repository, imported as a module (benchmarks/ is no
    package)."""
    import importlib.util

    name = "gpu_" + relative.replace("/", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- bpAI-TAC
def measure_bpaitac(ctx: Context) -> list[dict]:
    speed = _script("bpaitac/speed.py")
    batch, steps, tasks = ctx.size(64, 4), ctx.size(60, 2), ctx.size(90, 3)
    ctx.reset_peak()
    row = speed.train_speed(device=str(ctx.device), preset=ctx.size("published", "small"),
                            tasks=tasks, batch_size=batch, steps=steps, bf16=True)  # fmt: skip
    ctx.sync()
    setting = (f"{ctx.size('published (F 300, 9 blocks, 998 bp)', 'small')}, {tasks} tasks, "
               f"batch {batch}, bf16, {steps} steps")  # fmt: skip
    return [_row("bpAI-TAC", "training windows/s", setting, row["windows_per_s"], "windows/s",
                 ctx.peak_memory(), "engine (`fit` + `AtacTask`), epoch 2 timed")]  # fmt: skip


# ---------------------------------------------------------------------------------- GET
def _get_data(n_clusters: int, contigs: int, regions_per_contig: int, cell_types: int):
    """A synthetic `GetData`: random motif features and accessibility, every region active
    in every cell type, one gene per tenth region (speed does not depend on the values)."""
    from varinterp.models.get.data import GetData

    rng = np.random.default_rng(0)
    n = contigs * regions_per_contig
    regions = pd.DataFrame({
        "chrom": np.repeat([f"chr{i + 1}" for i in range(contigs)], regions_per_contig),
        "start": np.tile(np.arange(regions_per_contig) * 2_000, contigs),
    })  # fmt: skip
    regions["end"] = regions["start"] + 500
    tss = np.arange(0, n, 10)
    genes = pd.DataFrame({
        "gene": [f"g{i}" for i in range(tss.size)], "chrom": regions["chrom"].to_numpy()[tss],
        "tss": regions["start"].to_numpy()[tss] + 250, "strand": "+", "region": tss,
    })  # fmt: skip
    labels = np.zeros((n, cell_types, 2), np.float32)
    labels[tss] = rng.random((tss.size, cell_types, 2), dtype=np.float32)
    return GetData(
        regions=regions, clusters=tuple(f"c{i}" for i in range(n_clusters)),
        motif=rng.random((n, n_clusters), dtype=np.float32),
        acpm=rng.random((n, cell_types), dtype=np.float32),
        active=np.ones((n, cell_types), bool), cell_types=tuple(f"type{i}" for i in
                                                                range(cell_types)),
        labels=labels, genes=genes, expression=rng.random((tss.size, cell_types)),
    )  # fmt: skip


def measure_get(ctx: Context) -> list[dict]:
    from varinterp.models.get.network import GetConfig
    from varinterp.models.get.train import GetRecipe, train_get

    n_regions = ctx.size(200, 16)
    data = _get_data(n_clusters=ctx.size(282, 6), contigs=ctx.size(3, 2),
                     regions_per_contig=ctx.size(10_000, 80), cell_types=4)  # fmt: skip
    cfg = ctx.size(GetConfig(n_features=data.n_features, n_regions=n_regions),
                   GetConfig.small(data.n_features, n_regions))  # fmt: skip
    steps = ctx.size(30, 2)
    rows = []
    for batch in ctx.size((8, 32), (2, 4)):
        recipe = GetRecipe(epochs=2, patience=2, batch_size=batch, max_batches_per_epoch=steps,
                           bf16=True)  # fmt: skip
        ctx.reset_peak()
        run = train_get(data, config=cfg, recipe=recipe, device=str(ctx.device))
        ctx.sync()
        size = ctx.size("published (D 768, 12 layers, 12 heads, 283 features)", "small")
        rows.append(_row("GET", "training samples/s", f"{size}, {n_regions} regions, batch "
                         f"{batch}, bf16, {steps} steps", run.result.history[-1].samples_per_s,
                         "samples/s", ctx.peak_memory(),
                         "`train_get` (engine), epoch 2 timed"))  # fmt: skip
        del run
    return rows


# ---------------------------------------------------------------------------- cREscENDO
@dataclass
class _Peaks:
    """What `EncoderTask` reads of a prepared run: ``train_peaks`` ``(P,) bool``, ``seq``
    ``(P, 1500) uint8`` base codes and the binarised ATAC ``(P, C)`` (sparse)."""

    train_peaks: np.ndarray
    seq: np.ndarray
    atac: object

    def atac_dense(self, peaks: np.ndarray) -> np.ndarray:
        return self.atac[peaks].toarray().astype(np.float32)


def measure_crescendo(ctx: Context) -> list[dict]:
    import dataclasses

    import scipy.sparse as sp

    from varinterp.models.crescendo.network import PeakEncoder
    from varinterp.models.crescendo.task import EncoderTask
    from varinterp.models.crescendo.train import CrescendoSettings
    from varinterp.training.engine import fit

    speed = _script("crescendo/speed.py")
    preset = ctx.size("published", "small")
    cells, batch, steps = ctx.size(10_000, 40), ctx.size(128, 8), ctx.size(20, 2)
    genes, tokens = ctx.size(4, 2), ctx.size(60, 6)
    model = speed.random_model(preset, cells=cells, genes=genes, tokens=tokens)
    rng = np.random.default_rng(0)
    n = batch * steps
    peaks = _Peaks(np.ones(n, bool), rng.integers(0, 4, (n, 1500), dtype=np.uint8),
                   sp.csr_matrix(rng.random((n, cells), dtype=np.float32) < 0.3))  # fmt: skip
    task = EncoderTask(peaks, batch_size=batch, input_length=model.config.input_length)
    settings = dataclasses.replace(CrescendoSettings(preset=preset, encoder_epochs=2)
                                   .encoder_fit(has_validation=False), max_batches_per_epoch=steps,
                                   bf16=True)  # fmt: skip
    ctx.reset_peak()
    result = fit(make_model=lambda _a: PeakEncoder(model.config), task=task, settings=settings,
                 device=ctx.device, seed=0)  # fmt: skip
    ctx.sync()
    rate = result.history[-1].samples_per_s
    setting = f"{preset} preset, {cells:,} cells, batch {batch} x 1,344 bp, bf16, {steps} steps"
    note = "engine (`fit` + `EncoderTask`), epoch 2 timed"
    rows = [
        _row("cREscENDO", "encoder training peaks/s", setting, rate, "peaks/s",
             ctx.peak_memory(), note),
        _row("cREscENDO", "encoder training peaks x cells/s", setting, rate * cells,
             "peaks x cells/s", ctx.peak_memory(), note),
    ]  # fmt: skip
    model = model.to(ctx.device)
    chunk = ctx.size(1000, 16)
    ctx.reset_peak()
    rates = speed.attribution_speed(model, chunk=chunk)
    ctx.sync()
    for dtype in ("float64", "float32"):
        rows.append(_row("cREscENDO", f"DeepLIFT activity cells/s ({dtype})",
                         f"{preset} preset, one gene of {tokens} tokens, {cells:,} cells, "
                         f"chunks of {chunk:,}", rates[f"attribution_cells_per_s_{dtype}"],
                         "cells/s", ctx.peak_memory(),
                         f"`deeplift_gene`; largest completeness delta "
                         f"{rates[f'attribution_max_delta_{dtype}']:.0e}"))  # fmt: skip
    return rows


#: name -> measurement; new families add theirs here.
MEASUREMENTS: dict[str, Callable[[Context], list[dict]]] = {
    "clipnet_train": measure_clipnet_train,
    "clipnet_score": measure_clipnet_score,
    "deepdetails": measure_deepdetails,
    "bpaitac": measure_bpaitac,
    "get": measure_get,
    "crescendo": measure_crescendo,
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
            gc.collect()  # the next measurement's peak memory starts from an empty device
            if device.type == "cuda":
                torch.cuda.empty_cache()
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
