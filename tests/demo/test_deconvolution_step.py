"""The demo's deconvolution step on a small two-chromosome world (one epoch)."""

from __future__ import annotations

import pandas as pd
import pyBigWig

from varinterp.demo import DemoContext
from varinterp.demo.deconvolution import deconvolution_step
from varinterp.simulate import make_world, write_world


def test_demo_step_deconvolves_and_lists_tracks(tmp_path):
    world = make_world(seed=6, n_individuals=4, genome_size=120_000, n_chromosomes=2)
    files = write_world(world, tmp_path / "world")
    ctx = DemoContext(out=tmp_path, seed=1, threads=1)
    ctx.objects["world"] = world
    ctx.files["fasta"] = files.fasta
    lines = deconvolution_step(ctx, epochs=1)
    text = "\n".join(lines)
    assert "3 cell types" in text
    table = pd.read_csv(ctx.files["celltype_tracks"], sep="\t")
    assert list(table.columns) == ["cell_type", "plus", "minus"]  # the one track table
    assert table["cell_type"].tolist() == ["hepatocyte", "kupffer", "endothelial"]
    folder = ctx.files["celltype_tracks"].parent
    for path in [*table["plus"], *table["minus"]]:
        assert not path.startswith("/")  # relative: the demo folder can be moved
        path = str(folder / path)
        bw = pyBigWig.open(path)
        assert bw is not None and bw.isBigWig()
        bw.close()
    if "deconvolution not available" not in text:
        assert "CCC" in text
        kupffer = next(line for line in lines if line.strip().startswith("kupffer:"))
        values = [float(x) for x in kupffer.split(":")[1].split("/")]
        assert len(values) == 3
