"""The zoo's shipped demo models: made by the demo, reused by ``varinterp demo --quick``.

``models/clipnet-demo`` (the demo's two small CLIPNET fold models) and
``models/deepdetails-demo`` (its tiny fused DeepDETAILS model) are the models a full
``varinterp demo --seed 0 --threads 1`` trains on the seeded demo world
(`varinterp.demo.world.DEMO_WORLD`; `varinterp.demo.shipped` names them).
`package_demo_models` copies them from a finished demo folder into the zoo with a card
and their metrics in ``config.json`` (``metadata.zoo.metrics``); `measure_demo_models`
rebuilds the same world and measures the shipped weights again, which is how the test
suite checks the cards stay true.

Metrics: for CLIPNET each fold model on its held-out chromosome (median profile Pearson
and log-quantity Pearson, `evaluate_clipnet`); for DeepDETAILS Lin's CCC of log counts
per window within each cell type, next to the proportional split and NNLS; for
``models/bpaitac-demo`` (the demo's small bpAI-TAC with its Tn5 bias network) its
held-out-chromosome metrics on the seed-0 simulated ATAC world and its effects on the
world's motif-breaking SNPs (`varinterp.demo.bpaitac.demo_metrics`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from varinterp.demo.bpaitac import DEMO_ATAC, bpaitac_step
from varinterp.demo.clipnet import clipnet_step
from varinterp.demo.deconvolution import deconvolution_step
from varinterp.demo.shipped import BPAITAC_DEMO, CLIPNET_DEMO, DEEPDETAILS_DEMO, MADE_BY
from varinterp.io.atomic import atomic_dir

__all__ = ["measure_demo_models", "package_bpaitac_demo", "package_demo_models"]

_CLIPNET_CARD = """# clipnet-demo: the demo's small CLIPNET (shipped weights)

Two fold models of the `small` CLIPNET preset (about 130,000 parameters each; 1 kb
two-hot input, a 2 x 500 bp profile and a quantity in RPM), trained by
`{made_by}` on the demo's simulated world (5 chromosomes of 500 kb, a
promoter every 5 kb and an enhancer every 6 kb, 60 people; seed 0) and its simulated
PRO-cap libraries of 10 individuals. Chain folds: `fold_1` tests on chr1 and `fold_2`
on chr2; each validated on the next chromosome and trained on the other three.

For demos, tests and the tutorials only: it has seen no real data.

## Held-out metrics (as measured when packaged; the test suite re-measures them)

| model | held-out contig | windows | median profile Pearson | log-quantity Pearson |
|---|---|---|---|---|
{rows}

Use: `varinterp score --model models/clipnet-demo --fasta world/reference.fa ...` on
the demo world, or `varinterp demo --quick`, which reuses these weights.
"""

_DEEPDETAILS_CARD = """# deepdetails-demo: the demo's tiny DeepDETAILS model (shipped weights)

A tiny fused DeepDETAILS model (16 filters, 3 dilated blocks, one GRU layer; see
`config.json`) trained by `{made_by}` for 12 epochs on the bulk PRO-cap of the demo's
simulated liver-like cell types ({cell_types}) with their simulated scATAC
accessibility (seed 0). Windows of {input_length} bp, {output_length} bp predicted per
window, both strands.

For demos, tests and the tutorials only.

## Metrics on the demo's windows (CCC of log counts within each cell type)

| cell type | model | proportional split | NNLS |
|---|---|---|---|
{rows}

Use: `varinterp deconvolve predict --model models/deepdetails-demo --data data.h5 ...`
on windows prepared like the demo's, or `varinterp demo --quick`.
"""


_BPAITAC_CARD = """# bpaitac-demo: the demo's small bpAI-TAC model (shipped weights)

A small bpAI-TAC model ({filters} filters, {blocks} dilated residual blocks, {length}-bp
input, the central 250 bp predicted for each of 11 cell types) with its frozen Tn5 bias
network, trained by `{made_by}` on the demo's simulated ATAC world (seed 0: 11
immune-like cell types in 3 lineages, 6 chromosomes of a 4-Mb genome; validation
chr5, test chr6), loss 0.5 x CE(profile) + 0.5 x MSE(log counts).

For demos, tests and the tutorials only: it has seen no real data.

## Metrics (as measured when packaged; the test suite re-measures them)

| metric | value |
|---|---|
{rows}

Use: `varinterp score --model models/bpaitac-demo --fasta ... --vcf ...` (one row per
variant and cell type), `varinterp atac footprint --model models/bpaitac-demo --motif
AAAGAGGAAGTG`, or `varinterp demo --quick`, which reuses these weights.
"""


def _copy_model(src: Path, dst: Path) -> Path:
    from varinterp.training.modeldir import read_model_dir

    model_dir = read_model_dir(src)
    with atomic_dir(dst, overwrite=True) as tmp:
        for name in [*(f"{m}.safetensors" for m in model_dir.folds), "config.json"]:
            shutil.copyfile(src / name, tmp / name)
    return dst


def _relative(value: Any, root: str) -> Any:
    """`value` with paths under the demo folder `root` written as ``demo_out/...``."""
    if isinstance(value, dict):
        return {k: _relative(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative(v, root) for v in value]
    if isinstance(value, str) and value.startswith(root):
        return "demo_out" + value[len(root) :]
    return value


def _finish_entry(
    path: Path, *, metrics: dict[str, Any], card: str, demo_out: Path, world: dict | None = None
) -> None:
    from varinterp.demo.world import DEMO_WORLD
    from varinterp.io.atomic import atomic_write_text

    doc = json.loads((path / "config.json").read_text(encoding="utf-8"))
    doc = _relative(doc, str(demo_out.resolve()))
    world = {"seed": 0, **DEMO_WORLD} if world is None else world
    zoo_meta = {"made_by": MADE_BY, "world": world, "metrics": metrics}
    doc["metadata"] = {**doc.get("metadata", {}), "zoo": zoo_meta}
    atomic_write_text(path / "config.json", json.dumps(doc, indent=2) + "\n")
    atomic_write_text(path / "README.md", card)


def measure_demo_models(
    *, zoo: str | os.PathLike | None, work: str | os.PathLike, threads: int = 1
) -> dict[str, dict[str, Any]]:
    """Rebuild the seed-0 demo world in `work` and measure the zoo's shipped demo models.

    Returns ``{"clipnet-demo": clipnet_metrics, "deepdetails-demo": deepdetails_metrics,
    "bpaitac-demo": bpaitac_metrics}`` (the quick demo's CLIPNET, deconvolution and
    bpAI-TAC steps, without the others).
    """
    from varinterp.demo.context import DemoContext
    from varinterp.demo.world import store_step, world_step

    ctx = DemoContext(
        out=Path(work), seed=0, threads=threads, quick=True,
        zoo=None if zoo is None else Path(zoo),
    )  # fmt: skip
    ctx.out.mkdir(parents=True, exist_ok=True)
    for step in (world_step, store_step, clipnet_step, deconvolution_step, bpaitac_step):
        step(ctx)
    return {
        CLIPNET_DEMO: ctx.objects["clipnet_metrics"],
        DEEPDETAILS_DEMO: ctx.objects["deconv_metrics"],
        BPAITAC_DEMO: {"seed0": ctx.objects["bpaitac_metrics"]},
    }


def package_demo_models(
    *, demo_out: str | os.PathLike, zoo: str | os.PathLike, work: str | os.PathLike
) -> dict[str, dict[str, Any]]:
    """Copy the models of a finished full demo (seed 0) into the zoo folder `zoo`,
    measure them (`measure_demo_models`, in `work`) and write their cards and metrics.

    Reads ``demo_out/clipnet``, ``demo_out/celltypes/deconv/train/model`` and
    ``demo_out/atac/model``. Returns the metrics written.
    """
    from varinterp.training.modeldir import read_model_dir

    demo_out, zoo = Path(demo_out), Path(zoo)
    clip = _copy_model(demo_out / "clipnet", zoo / CLIPNET_DEMO)
    dd = _copy_model(demo_out / "celltypes" / "deconv" / "train" / "model", zoo / DEEPDETAILS_DEMO)
    _copy_model(demo_out / "atac" / "model", zoo / BPAITAC_DEMO)
    metrics = measure_demo_models(zoo=zoo, work=work)
    rows = "\n".join(
        f"| {m} | chr{v['eval_fold']} | {v['n_windows']} | {v['median_profile_pearson']:.3f} | "
        f"{v['log_quantity_pearson']:.3f} |"
        for m, v in metrics[CLIPNET_DEMO].items()
    )
    _finish_entry(
        clip,
        metrics=metrics[CLIPNET_DEMO],
        card=_CLIPNET_CARD.format(made_by=MADE_BY, rows=rows),
        demo_out=demo_out,
    )
    dd_metrics = metrics[DEEPDETAILS_DEMO]
    rows = "\n".join(
        f"| {ct} | {v['model']:.3f} | {v['proportional']:.3f} | {v['nnls']:.3f} |"
        for ct, v in dd_metrics.items()
    )
    cfg = read_model_dir(dd).config
    card = _DEEPDETAILS_CARD.format(
        made_by=MADE_BY, cell_types=", ".join(dd_metrics), rows=rows,
        input_length=cfg.input_length, output_length=cfg.output_length,
    )  # fmt: skip
    _finish_entry(dd, metrics=dd_metrics, card=card, demo_out=demo_out)
    _finish_bpaitac(demo_out, zoo, metrics[BPAITAC_DEMO])
    return metrics


def _finish_bpaitac(demo_out: Path, zoo: Path, metrics: dict[str, Any]) -> None:
    from varinterp.training.modeldir import read_model_dir

    bp = zoo / BPAITAC_DEMO
    cfg = read_model_dir(bp).config
    rows = "\n".join(f"| {k} | {v:.4g} |" for k, v in metrics["seed0"].items())
    card = _BPAITAC_CARD.format(
        made_by=MADE_BY, rows=rows, filters=cfg.filters, blocks=cfg.n_blocks,
        length=cfg.input_length,
    )  # fmt: skip
    world = {"seed": 0, "atac": DEMO_ATAC}
    _finish_entry(bp, metrics=metrics, card=card, demo_out=demo_out, world=world)


def package_bpaitac_demo(
    *, demo_out: str | os.PathLike, zoo: str | os.PathLike, threads: int = 1
) -> dict[str, Any]:
    """Only the bpAI-TAC entry: run the demo's bpAI-TAC step (seed 0, trained) into
    `demo_out`, copy ``demo_out/atac/model`` into the zoo, measure it as
    `measure_demo_models` does and write its card. Returns its metrics."""
    from varinterp.demo.context import DemoContext

    demo_out, zoo = Path(demo_out), Path(zoo)
    ctx = DemoContext(out=demo_out, seed=0, threads=threads)
    bpaitac_step(ctx)
    _copy_model(demo_out / "atac" / "model", zoo / BPAITAC_DEMO)
    quick = DemoContext(out=demo_out / "measure", seed=0, threads=threads, quick=True, zoo=zoo)
    bpaitac_step(quick)
    metrics = {"seed0": quick.objects["bpaitac_metrics"]}
    _finish_bpaitac(demo_out, zoo, metrics)
    return metrics
