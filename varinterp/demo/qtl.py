"""Demo step: personal vs reference-only CLIPNET on the genotype-group QTL benchmark.

`qtl_step` (about as long again as training the demo model) runs after
`varinterp.demo.clipnet.clipnet_step`. It trains the same small CLIPNET on the reference
sequence only (``--reference-only``: same settings, seed and folds) and runs the
genotype-group QTL benchmark (`varinterp.effects.qtl`) with both models side by side on
every SNP of the held-out contigs that the simulator says can change an element
(``procap/variant_effects.tsv``), against the simulated tracks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from varinterp.demo.clipnet import train_small
from varinterp.demo.context import DemoContext, torch_threads
from varinterp.io.atomic import atomic_path

__all__ = ["qtl_step"]


def qtl_step(ctx: DemoContext) -> list[str]:
    """Personal vs reference-only demo model on the QTL benchmark (module docstring).

    Needs ``ctx.files`` ``clipnet``, ``clipnet_config``, ``clipnet_samples`` and
    ``procap`` (the CLIPNET demo step; the benchmark uses the demo model's libraries);
    sets ``ctx.files`` ``clipnet_reference`` and ``qtl`` (the benchmark folder).
    """
    from varinterp.effects.qtl import qtl_benchmark
    from varinterp.training.modeldir import read_model_dir

    if ctx.quick:
        return ["skipped: it trains a reference-only model (run varinterp demo --full)"]
    out = Path(ctx.out)
    personal = Path(ctx.files["clipnet"])
    model_dir = read_model_dir(personal, architecture="clipnet")
    table = model_dir.metadata.get("folds") or {}
    folds = sorted(int(n.split("_", 1)[1]) for n in model_dir.folds)
    held = [c for c, f in table.items() if f in folds]
    effects = pd.read_csv(Path(ctx.files["procap"]) / "variant_effects.tsv", sep="\t")
    ids = effects.loc[effects["chrom"].isin(held), "variant_id"].drop_duplicates()
    qtls = out / "qtl_snps.txt"
    with atomic_path(qtls) as tmp:
        tmp.write_text("".join(f"{v}\n" for v in ids))
    with torch_threads(ctx.threads):
        train_small(
            config=ctx.files["clipnet_config"], out=out / "clipnet_reference", folds=folds,
            reference_only=True, device=ctx.device, on_status=ctx.say,
        )  # fmt: skip
        bench = qtl_benchmark(
            qtls=qtls, store=ctx.files["store"], sample_sheet=ctx.files["clipnet_samples"],
            models={"personal": personal, "reference": out / "clipnet_reference"},
            out=out / "qtl", device=ctx.device, batch_size=64, overwrite=True,
        )  # fmt: skip
    ctx.files.update(clipnet_reference=out / "clipnet_reference", qtl=out / "qtl")
    s = bench.summary.set_index("model")
    return [
        "reference-only CLIPNET (same settings, seed, folds) -> clipnet_reference/",
        f"QTL benchmark on {len(ids)} SNPs of held-out {', '.join(held)} "
        f"({int(s.loc['personal', 'n_scored'])} with both homozygous groups): Pearson of "
        f"log10 genotype-group L2, predicted vs observed: personal "
        f"{s.loc['personal', 'pearson_log10_l2']:.3f}, reference-only "
        f"{s.loc['reference', 'pearson_log10_l2']:.3f} -> qtl/",
    ]
