"""The one track table, end to end: simulate celltypes -> elements call -> link abc ->
report locus, each command reading the files the previous ones wrote, no hand edits.

The chain is the user's: a world, its cell types (whose ``tracks.tsv`` is the track
table), specific elements and ABC links from that table, a GWAS locus fine-mapped, and
the locus report drawing the same table's tracks beside the elements and links."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from varinterp.cli.main import app


def _run(*args) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (args[:2], result.output)


def test_simulate_call_link_report_chain(tmp_path):
    w, ct, el, abc = (tmp_path / n for n in ("world", "celltypes", "elements", "abc"))
    gwas, fm, report = tmp_path / "gwas", tmp_path / "finemap", tmp_path / "report.html"
    _run("simulate", "world", "-o", w, "--seed", "0", "-q")
    _run("simulate", "celltypes", "--world", w, "-o", ct, "--seed", "0", "-q")
    tracks = ct / "tracks.tsv"
    _run("elements", "call", "--tracks", tracks, "--regions", ct / "regions.bed", "-o", el,
         "--bins", "10", "-q")  # fmt: skip
    _run("link", "abc", "--elements", ct / "regions.bed", "--genes", w / "genes.bed",
         "--tracks", tracks, "-o", abc, "-q")  # fmt: skip
    _run("simulate", "gwas", "--world", w, "-o", gwas, "-n", "5000", "--h2", "0.02", "-q")
    _run("finemap", "--sumstats", gwas / "sumstats.tsv", "--ld-matrix", gwas / "ld.npy",
         "--ld-variants", gwas / "ld_variants.tsv", "-o", fm, "-L", "5", "-q")  # fmt: skip
    _run("report", "locus", "--finemap", fm, "--tracks", tracks, "--elements", el, "--abc", abc,
         "--genes", w / "genes.bed", "-o", report, "-q")  # fmt: skip

    names = pd.read_csv(tracks, sep="\t")["cell_type"].tolist()
    elements = pd.read_csv(el / "elements.tsv", sep="\t")
    assert sorted(elements["cell_type"].unique()) == sorted(names)
    assert sorted(p.name for p in abc.glob("*.abc.tsv")) == sorted(f"{n}.abc.tsv" for n in names)
    html = report.read_text()
    assert "per-cell-type tracks: not provided" not in html
    assert "ABC links: not provided" not in html
    assert "cell-type-specific elements: not provided" not in html
    candidates = pd.read_csv(tmp_path / "report.candidates.tsv", sep="\t", dtype=str)
    assert len(candidates) > 0
    # the evidence columns name the table's cell types (or '.' where none applies)
    for column in ("specific_in",):
        seen = {c for v in candidates[column] for c in v.split(",") if c != "."}
        assert seen <= set(names), seen
