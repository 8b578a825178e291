"""Simulated PRO-cap of a world: files, truth tables, reads, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.simulate_procap import procap
from varinterp.simulate import write_world
from varinterp.simulate.motifs import BASES
from varinterp.simulate.procap import draw_reads, simulate_procap
from varinterp.simulate.procap_grammar import initiation
from varinterp.simulate.procap_model import element_models, expected_procap, window_with

FILES = ("samples.tsv", "peaks.bed", "tss.tsv", "tss_rates.tsv", "variant_effects.tsv")


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory, small_world) -> Path:
    out = tmp_path_factory.mktemp("procap") / "world"
    write_world(small_world, out)
    return out


@pytest.fixture(scope="module")
def procap_dir(world_dir, small_world) -> Path:
    out = world_dir.parent / "procap"
    simulate_procap(world_dir=world_dir, out=out, seed=5, world=small_world)
    return out


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, sep="\t")


def test_same_seed_same_bytes_other_seed_other_reads(procap_dir, world_dir, small_world):
    again = world_dir.parent / "again"
    simulate_procap(world_dir=world_dir, out=again, seed=5)  # rebuilt from the folder
    other = world_dir.parent / "other"
    simulate_procap(world_dir=world_dir, out=other, seed=6, world=small_world)
    names = [p.relative_to(procap_dir) for p in procap_dir.rglob("*") if p.is_file()]
    assert len(names) > 10
    for name in names:
        assert (procap_dir / name).read_bytes() == (again / name).read_bytes(), name
    # the expected truth does not depend on the library seed; the reads do
    assert (procap_dir / "tss.tsv").read_bytes() == (other / "tss.tsv").read_bytes()
    assert (procap_dir / "samples.tsv").read_bytes() != (other / "samples.tsv").read_bytes()


def test_sample_sheet_is_read_by_the_training_pipeline(procap_dir, small_world):
    from varinterp.datasets.samplesheet import read_sample_sheet

    libraries = read_sample_sheet(procap_dir / "samples.tsv")
    sheet = _read(procap_dir, "samples.tsv")
    assert [lib.name for lib in libraries] == sheet["library"].tolist()
    assert set(sheet["sample"]) == set(small_world.cohort.samples)
    assert sheet["replicate"].isin([1, 2]).all()
    assert 0 < (sheet["replicate"] == 2).sum() < len(small_world.cohort.samples)
    # realised library sizes follow the drawn depths (Poisson around depth x individual share)
    ratio = sheet["total_reads"] / sheet["depth"]
    assert ratio.between(0.8, 1.25).all()


def test_bigwigs_hold_the_reads_plus_positive_minus_negative(procap_dir, small_world):
    sheet = _read(procap_dir, "samples.tsv")
    for row in sheet.head(4).itertuples():
        total = 0.0
        for column, sign in (("plus", 1), ("minus", -1)):
            bw = pyBigWig.open(str(procap_dir / getattr(row, column)))
            assert bw.chroms() == small_world.reference.lengths
            for chrom, length in bw.chroms().items():
                for start, end, value in bw.intervals(chrom, 0, length) or ():
                    assert value * sign > 0 and float(value).is_integer()
                    total += abs(value) * (end - start)
            bw.close()
        assert total == row.total_reads


def _mean_reads(procap_dir: Path, sheet: pd.DataFrame, chrom: str, start: int, end: int):
    pooled = 0.0
    for row in sheet.itertuples():
        for column in ("plus", "minus"):
            with pyBigWig.open(str(procap_dir / getattr(row, column))) as bw:
                pooled += np.nansum(np.abs(bw.values(chrom, start, end, numpy=True)))
    return pooled / len(sheet)


def test_peaks_are_elements_whose_pooled_reads_pass_the_threshold(procap_dir, small_world):
    peaks = pd.read_csv(procap_dir / "peaks.bed", sep="\t", header=None)
    sheet = _read(procap_dir, "samples.tsv")
    models = {m.element.element_id: m for m in element_models(small_world)}
    assert set(peaks[3]) <= set(models) and len(peaks) > 5
    for chrom, start, end, name in peaks[[0, 1, 2, 3]].head(5).itertuples(index=False):
        assert (start, end) == (models[name].pstart, models[name].pend)
        assert _mean_reads(procap_dir, sheet, chrom, start, end) >= 100.0, name
    for name in sorted(set(models) - set(peaks[3])):
        m = models[name]
        assert _mean_reads(procap_dir, sheet, m.element.chrom, m.pstart, m.pend) < 100.0


def test_expected_rates_match_a_naive_haplotype_loop(procap_dir, small_world):
    rates = _read(procap_dir, "tss_rates.tsv").set_index("tss_id")
    expected = expected_procap(small_world)
    cohort = small_world.cohort
    for model in element_models(small_world)[:6]:
        el = model.element
        for i in (0, 7, len(cohort.samples) - 1):
            total = np.zeros(len(model.anchors))
            for h in (0, 1):
                seq = small_world.reference.sequences[el.chrom][model.start : model.end].copy()
                for v in range(cohort.n_variants):
                    inside = model.start <= cohort.pos[v] < model.end
                    if cohort.chrom[v] == el.chrom and inside and cohort.haplotypes[v, i, h]:
                        seq[cohort.pos[v] - model.start] = BASES.index(cohort.alt[v])
                total += initiation(seq[None], model.anchors, with_profile=False)[0][0]
            got = [
                rates.loc[f"{el.element_id}:{t.pos}{t.strand}", cohort.samples[i]]
                for t in model.tss
            ]
            np.testing.assert_allclose(got, total * expected.scale, rtol=1e-5)


def test_variant_effects_equal_a_direct_toggle(procap_dir, small_world):
    effects = _read(procap_dir, "variant_effects.tsv")
    causal = effects[effects["causal"]]
    assert len(causal) >= 3
    assert (effects.loc[~effects["causal"], "log2fc_total"] == 0).all()
    models = {m.element.element_id: m for m in element_models(small_world)}
    row_of = {vid: i for i, vid in enumerate(small_world.cohort.ids)}
    for row in causal.itertuples():
        model = models[row.element_id]
        v = row_of[row.variant_id]
        ref = window_with(small_world, model, v, "ref")
        alt = window_with(small_world, model, v, "alt")
        r = initiation(np.stack([ref, alt]), model.anchors, with_profile=False)[0].sum(axis=1)
        assert row.log2fc_total == pytest.approx(np.log2(r[1] / r[0]), abs=1e-5)
    # designed motif breaks that matter lower initiation; designed neutral SNPs do nothing
    breaks = effects[(effects["world_class"] == "motif_break") & effects["causal"]]
    assert (breaks["direction"] == "down").all() and len(breaks) >= 1
    assert not effects.loc[effects["world_class"] == "motif_neutral", "causal"].any()


def test_poisson_reads_have_the_expected_mean_and_variance():
    rng = np.random.default_rng(0)
    expected_rpm = np.array([[[0.0, 10.0, 200.0], [50.0, 1.0, 0.0]]])  # (1, 2, 3)
    n = 20_000
    depth = np.full(n, 1e5)
    reads = draw_reads(rng, expected_rpm, np.zeros(n, dtype=np.int64), depth)
    mean = expected_rpm[0] * 1e5 / 1e6
    se = np.sqrt(np.maximum(mean, 1e-12) / n)
    assert np.all(np.abs(reads.mean(axis=0) - mean) <= 5 * se)
    nz = mean > 0
    np.testing.assert_allclose(reads.var(axis=0)[nz] / mean[nz], 1.0, atol=0.06)
    assert (reads[:, mean == 0] == 0).all()


def _app() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    sim = typer.Typer()

    @sim.callback()
    def _sim() -> None:
        """simulate"""

    sim.command("procap")(procap)
    root.add_typer(sim, name="simulate")
    return root


def test_cli_writes_a_folder_and_rejects_bad_input(world_dir, tmp_path):
    runner = CliRunner()
    out = tmp_path / "pc"
    args = ["simulate", "procap", "--world", str(world_dir), "--out", str(out)]
    result = runner.invoke(_app(), [*args, "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert "libraries of 40 individuals" in result.output
    assert all((out / name).is_file() for name in FILES)
    # existing output without --overwrite
    again = runner.invoke(_app(), args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    # missing world folder
    missing = runner.invoke(
        _app(), ["simulate", "procap", "--world", str(tmp_path / "nope"), "-o", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2
    assert "world folder" in missing.output and "Traceback" not in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    # a folder that is not a world, and a parameter out of range
    (tmp_path / "empty").mkdir()
    not_world = runner.invoke(
        _app(), ["simulate", "procap", "-w", str(tmp_path / "empty"), "-o", str(tmp_path / "y")]
    )
    assert not_world.exit_code == 2 and "world.json" in not_world.output
    bad = runner.invoke(_app(), [*args, "--overwrite", "--replicate-fraction", "2"])
    assert bad.exit_code == 2 and "--replicate-fraction" in bad.output
