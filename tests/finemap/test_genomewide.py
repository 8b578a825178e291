"""Genome-wide fine-mapping: loci from leads, every locus fine-mapped, resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from varinterp.errors import InputError
from varinterp.finemap.genomewide import find_loci, finemap_genome_wide
from varinterp.finemap.simulate import simulate_locus


def _table(rows):
    df = pd.DataFrame(rows, columns=["chrom", "pos", "p"])
    return df.assign(variant_id=[f"v{i}" for i in range(len(df))])


def test_find_loci_against_a_hand_answer():
    ss = _table(
        [
            ("1", 1_000_000, 1e-20),  # lead A
            ("1", 1_100_000, 1e-10),  # within 500 kb of A: not a lead
            ("1", 1_800_000, 1e-9),  # lead B: 800 kb from A, loci overlap -> merged
            ("1", 5_000_000, 1e-7),  # not significant
            ("2", 300_000, 1e-8),  # lead C, window clipped at 1
            ("2", 9_000_000, 4e-8),  # lead D
        ]
    )
    loci = find_loci(ss)
    assert loci[["chrom", "start", "end", "lead_variant", "n_leads"]].values.tolist() == [
        ["1", 500_000, 2_300_000, "v0", 2],
        ["2", 1, 800_000, "v4", 1],
        ["2", 8_500_000, 9_500_000, "v5", 1],
    ]
    assert loci["leads"].iloc[0] == "v0,v2"
    assert find_loci(ss, p_threshold=1e-15)["lead_variant"].tolist() == ["v0"]
    with pytest.raises(InputError, match="window"):
        find_loci(ss, window=0)


def _genome(tmp_path, n_samples: int = 300):
    """Three loci on two chromosomes (PLINK panel = the GWAS sample) and their sumstats."""
    from bed_reader import to_bed

    blocks, rows = [], []
    layout = [("1", 100_000, 1), ("1", 3_000_000, 2), ("2", 200_000, 3)]
    causal = []
    for chrom, start, seed in layout:
        loc = simulate_locus(
            n_samples=n_samples, n_variants=40, n_causal=1, pve=0.25, rho=0.8, mean_block=15,
            seed=seed,
        )  # fmt: skip
        blocks.append(loc.X)
        for j in range(40):
            rows.append((chrom, start + 100 * j, f"rs{seed}_{j}", "G", "A", loc.z[j], n_samples))
        causal.append(f"rs{seed}_{int(loc.causal[0])}")
    table = pd.DataFrame(rows, columns=["CHR", "BP", "SNP", "A1", "A2", "Z", "N"])
    prefix = tmp_path / "panel"
    to_bed(
        f"{prefix}.bed",
        np.concatenate(blocks, axis=1).astype(np.float32),
        properties={
            "chromosome": table["CHR"].tolist(), "sid": table["SNP"].tolist(),
            "bp_position": table["BP"].to_numpy(), "allele_1": table["A1"].tolist(),
            "allele_2": table["A2"].tolist(), "iid": [f"s{i}" for i in range(n_samples)],
        },
        count_A1=True,
    )  # fmt: skip
    ss = tmp_path / "gwas.tsv"
    table.to_csv(ss, sep="\t", index=False)
    return ss, prefix, causal


def test_genome_wide_finds_and_finemaps_every_locus(tmp_path):
    ss, prefix, causal = _genome(tmp_path)
    res = finemap_genome_wide(sumstats=ss, plink=prefix, out=tmp_path / "gw", L=3, window=50_000)
    summary = pd.read_csv(tmp_path / "gw" / "summary.tsv", sep="\t")
    assert len(summary) == 3 and (summary["status"] == "ok").all()
    assert summary["chrom"].astype(str).tolist() == ["1", "1", "2"]
    for row, c in zip(summary.itertuples(), causal, strict=True):
        assert c in row.top_variants.split(",")[:2]
        assert row.n_cs95 >= 1
        for method in ("susie", "abf"):
            assert (tmp_path / "gw" / "loci" / row.locus_id / method / "variants.tsv").is_file()
    assert res.n_resumed == 0
    # a second call resumes everything and gives the same summary
    again = finemap_genome_wide(sumstats=ss, plink=prefix, out=tmp_path / "gw", L=3, window=50_000)
    assert again.n_resumed == 3
    cols = [c for c in summary.columns if c != "seconds"]
    pd.testing.assert_frame_equal(again.summary[cols], res.summary[cols], check_dtype=False)
    with pytest.raises(InputError, match="other parameters"):
        finemap_genome_wide(sumstats=ss, plink=prefix, out=tmp_path / "gw", L=4, window=50_000)


def test_parallel_equals_serial(tmp_path):
    ss, prefix, _ = _genome(tmp_path)
    one = finemap_genome_wide(sumstats=ss, plink=prefix, out=tmp_path / "a", L=3, window=50_000)
    two = finemap_genome_wide(
        sumstats=ss, plink=prefix, out=tmp_path / "b", L=3, window=50_000, threads=2
    )
    assert (two.summary["status"] == "ok").all()
    for row in one.summary.itertuples():
        a = pd.read_csv(tmp_path / "a" / "loci" / row.locus_id / "susie" / "variants.tsv", sep="\t")
        b = pd.read_csv(tmp_path / "b" / "loci" / row.locus_id / "susie" / "variants.tsv", sep="\t")
        pd.testing.assert_frame_equal(a, b)


_RUN = """
import sys, time
from varinterp.finemap.genomewide import finemap_genome_wide
def slow(row):
    time.sleep(3)
finemap_genome_wide(sumstats=sys.argv[1], plink=sys.argv[2], out=sys.argv[3], L=3,
                    window=50_000, on_locus=slow)
"""


def test_resumes_after_kill_9(tmp_path):
    ss, prefix, _ = _genome(tmp_path)
    out = tmp_path / "gw"
    proc = subprocess.Popen([sys.executable, "-c", _RUN, str(ss), str(prefix), str(out)])
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if (out / "loci").is_dir() and any(
            (d / "abf" / "run.json").is_file() for d in (out / "loci").iterdir()
        ):
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "summary.tsv").exists()
    res = finemap_genome_wide(sumstats=ss, plink=prefix, out=out, L=3, window=50_000)
    assert 1 <= res.n_resumed < 3
    assert (res.summary["status"] == "ok").all()
    leftovers = [p for p in out.rglob("*") if ".tmp" in p.name or p.name.startswith(".")]
    assert not leftovers


def test_cli_genome_wide(tmp_path):
    from varinterp.cli.main import app

    ss, prefix, _ = _genome(tmp_path)
    args = ["finemap", "--sumstats", str(ss), "--plink", str(prefix), "--genome-wide",
            "--window", "50000", "-L", "3", "--out", str(tmp_path / "gw")]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "3 loci" in res.output
    bad = CliRunner().invoke(app, [*args[:-2], "--out", str(tmp_path / "gw2"), "--threads", "0"])
    assert bad.exit_code == 2


def test_a_locus_reads_ld_and_checks_it_once_for_both_methods(tmp_path, monkeypatch):
    """Both methods of a locus come from one LD computation, one PSD check and one LD
    check, and write what `finemap` writes for each method on its own."""
    import varinterp.finemap.locus as locus_mod
    from varinterp.finemap.ld import PlinkLd
    from varinterp.finemap.run import finemap

    ss, prefix, _ = _genome(tmp_path)
    calls = {"matrix": 0, "check_ld": 0, "ld_diagnostics": 0}

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(PlinkLd, "matrix", counted("matrix", PlinkLd.matrix))
    monkeypatch.setattr(locus_mod, "check_ld", counted("check_ld", locus_mod.check_ld))
    monkeypatch.setattr(
        locus_mod, "ld_diagnostics", counted("ld_diagnostics", locus_mod.ld_diagnostics)
    )
    res = finemap_genome_wide(sumstats=ss, plink=prefix, out=tmp_path / "gw", L=3, window=50_000)
    assert (res.summary["status"] == "ok").all()
    assert calls == {"matrix": 3, "check_ld": 3, "ld_diagnostics": 3}  # one each per locus

    files = ["variants.tsv", "credible_sets.tsv", "dropped.tsv", "run.json",
             "ld_diagnostics.tsv", "ld_diagnostics.png"]  # fmt: skip
    for row in res.loci.itertuples():
        region = f"{row.chrom}:{row.start}-{row.end}"
        for method in ("susie", "abf"):
            alone = tmp_path / "alone" / row.locus_id / method
            finemap(sumstats=ss, plink=prefix, out=alone, method=method, region=region, L=3)
            gw = tmp_path / "gw" / "loci" / row.locus_id / method
            for name in files:
                assert (gw / name).read_bytes() == (alone / name).read_bytes(), (method, name)
    # the per-method path computes LD once per method: 3 loci x 2 methods more
    assert calls["matrix"] == 3 + 6


def test_resume_fits_only_the_missing_method(tmp_path):
    """A locus whose SuSiE folder was written but not its ABF folder (a kill in between)
    gets its ABF folder on resume, and the SuSiE folder is left as it was."""
    import shutil

    ss, prefix, _ = _genome(tmp_path)
    out = tmp_path / "gw"
    first = finemap_genome_wide(sumstats=ss, plink=prefix, out=out, L=3, window=50_000)
    locus_id = first.loci["locus_id"].iloc[1]
    susie = out / "loci" / locus_id / "susie" / "run.json"
    before = susie.stat().st_mtime_ns
    abf = out / "loci" / locus_id / "abf"
    kept = (abf / "variants.tsv").read_bytes()
    shutil.rmtree(abf)
    (out / "summary.tsv").unlink()
    again = finemap_genome_wide(sumstats=ss, plink=prefix, out=out, L=3, window=50_000)
    assert again.n_resumed == 2
    assert (abf / "variants.tsv").read_bytes() == kept
    assert susie.stat().st_mtime_ns == before
