"""Cell-type-specific elements: against per-region scipy tests and statsmodels BH."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from varinterp.errors import InputError
from varinterp.regulatory.elements import call_elements, specific_tests

N_REGIONS = 30
WIDTH = 200
CELL_TYPES = ["hep", "mac", "endo"]
PLANTED = {"hep": [2, 5], "mac": [10], "endo": [20, 21]}


@pytest.fixture
def world(tmp_path, make_bigwig, chrom_sizes):
    """3 cell types x 3 replicates; a few regions planted 20x higher in one cell type."""
    rng = np.random.default_rng(7)
    starts = np.arange(N_REGIONS) * 1000 + 500
    regions = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": starts,
            "end": starts + WIDTH,
            "name": [f"r{i}" for i in range(N_REGIONS)],
        }
    )
    regions.to_csv(tmp_path / "regions.bed", sep="\t", header=False, index=False)
    rows = []
    base = rng.uniform(0.5, 1.5, N_REGIONS)
    for ct in CELL_TYPES:
        for rep in range(3):
            level = base * rng.uniform(0.95, 1.05, N_REGIONS)
            for r in PLANTED[ct]:
                level[r] *= 20
            sig = np.zeros(chrom_sizes["chr1"])
            for r, s in enumerate(starts):
                sig[s : s + WIDTH] = level[r] * rng.uniform(0.9, 1.1, WIDTH)
            sig[150_000:150_100] = 5.0  # signal outside the regions (part of the depth)
            path = make_bigwig(tmp_path / f"{ct}.{rep}.bw", {"chr1": sig})
            rows.append((ct, path.name))
    pd.DataFrame(rows, columns=["cell_type", "path"]).to_csv(
        tmp_path / "tracks.tsv", sep="\t", index=False
    )
    return tmp_path


def test_specific_tests_match_scipy_per_region():
    rng = np.random.default_rng(1)
    cpm = rng.gamma(2.0, 1.0, size=(12, 9, 1))
    cpm[3, :3, 0] = [100.0, 101.0, 99.5]
    labels = ["a"] * 3 + ["b"] * 3 + ["c"] * 3
    got = specific_tests(cpm, labels, fdr=0.05, log2fc=1.0)
    for ct in ("a", "b", "c"):
        sub = got[got["cell_type"] == ct].set_index("region")
        own = np.array(labels) == ct
        p = [
            stats.ttest_ind(
                cpm[r, own, 0], cpm[r, ~own, 0], equal_var=False, alternative="greater"
            ).pvalue
            for r in range(12)
        ]
        assert np.allclose(sub["pvalue"], p)
        assert np.allclose(sub["qvalue"], multipletests(p, method="fdr_bh")[1])
        fc = np.log2((cpm[:, own, 0].mean(1) + 0.01) / (cpm[:, ~own, 0].mean(1) + 0.01))
        assert np.allclose(sub["log2fc"], fc)
    assert bool(got.query("cell_type == 'a' and region == 3")["specific"].iloc[0])


def test_call_elements_finds_planted_regions(world):
    res = call_elements(
        tracks=world / "tracks.tsv", regions=world / "regions.bed", out=world / "out"
    )
    table = pd.read_csv(world / "out" / "elements.tsv", sep="\t")
    assert len(table) == N_REGIONS * 3
    for ct in CELL_TYPES:
        found = set(table.query("cell_type == @ct and specific")["name"])
        assert found == {f"r{i}" for i in PLANTED[ct]}, ct
        bed = pd.read_csv(world / "out" / f"{ct}.specific.bed", sep="\t", header=None)
        assert set(bed[3]) == found
        assert res.n_specific[ct] == len(found)


def test_cpm_is_depth_normalised(world):
    call_elements(tracks=world / "tracks.tsv", regions=world / "regions.bed", out=world / "o")
    table = pd.read_csv(world / "o" / "elements.tsv", sep="\t")
    # per track, CPM summed over regions + the outside block equals 1e6 (naive recount)
    import pyBigWig

    bw = pyBigWig.open(str(world / "hep.0.bw"))
    inside = sum(
        bw.stats("chr1", s, s + WIDTH, type="sum", exact=True)[0] for s in range(500, 30_500, 1000)
    )
    total = bw.header()["sumData"]
    bw.close()
    assert 0 < inside < total
    hep = table.query("cell_type == 'hep'")
    fractions = [
        inside / total,
        _inside_fraction(world / "hep.1.bw"),
        _inside_fraction(world / "hep.2.bw"),
    ]
    assert hep["mean_cpm"].sum() == pytest.approx(1e6 * np.mean(fractions), rel=1e-4)


def _inside_fraction(path):
    import pyBigWig

    bw = pyBigWig.open(str(path))
    inside = sum(
        bw.stats("chr1", s, s + WIDTH, type="sum", exact=True)[0] for s in range(500, 30_500, 1000)
    )
    total = bw.header()["sumData"]
    bw.close()
    return inside / total


def test_single_track_welch_needs_bins(world):
    table = pd.read_csv(world / "tracks.tsv", sep="\t").drop_duplicates("cell_type")
    table.to_csv(world / "one.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="--bins"):
        call_elements(
            tracks=world / "one.tsv", regions=world / "regions.bed", out=world / "x", test="welch"
        )
    res = call_elements(
        tracks=world / "one.tsv", regions=world / "regions.bed", out=world / "y", bins=4,
        test="welch",
    )  # fmt: skip
    assert res.n_specific["mac"] >= 1 and res.test == "welch"


def test_single_track_auto_uses_the_count_test(world):
    """One track per cell type: `auto` runs the count test and finds every planted region."""
    table = pd.read_csv(world / "tracks.tsv", sep="\t").drop_duplicates("cell_type")
    table.to_csv(world / "one.tsv", sep="\t", index=False)
    res = call_elements(tracks=world / "one.tsv", regions=world / "regions.bed", out=world / "o")
    assert res.test == "counts"
    got = pd.read_csv(world / "o" / "elements.tsv", sep="\t")
    assert (got["test"] == "counts").all()
    for ct in CELL_TYPES:
        found = set(got.query("cell_type == @ct and specific")["name"])
        assert found == {f"r{i}" for i in PLANTED[ct]}, ct
    # replicates: auto keeps Welch
    assert (
        call_elements(
            tracks=world / "tracks.tsv", regions=world / "regions.bed", out=world / "w"
        ).test
        == "welch"
    )


def test_reads_column_turns_scaled_tracks_into_counts(world):
    """A track in other units plus its read count gives the counts of CPM x reads / 1e6."""
    table = pd.read_csv(world / "tracks.tsv", sep="\t").drop_duplicates("cell_type")
    table.to_csv(world / "one.tsv", sep="\t", index=False)
    call_elements(tracks=world / "one.tsv", regions=world / "regions.bed", out=world / "a")
    table.assign(reads=[1e5, 2e5, 4e5]).to_csv(world / "reads.tsv", sep="\t", index=False)
    call_elements(tracks=world / "reads.tsv", regions=world / "regions.bed", out=world / "b")
    a = pd.read_csv(world / "a" / "elements.tsv", sep="\t")
    b = pd.read_csv(world / "b" / "elements.tsv", sep="\t")
    assert np.allclose(a["mean_cpm"], b["mean_cpm"])
    reads = b["cell_type"].map({"hep": 1e5, "mac": 2e5, "endo": 4e5})
    assert np.allclose(b["count"], np.rint(b["mean_cpm"] * reads / 1e6), atol=1)
    table.assign(reads=["-3", "1", "1"]).to_csv(world / "bad.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="reads must be a positive number"):
        call_elements(tracks=world / "bad.tsv", regions=world / "regions.bed", out=world / "c")


def test_cli_call_and_bad_inputs(world, cli):
    runner = CliRunner()
    args = [
        "elements",
        "call",
        "--tracks",
        str(world / "tracks.tsv"),
        "--regions",
        str(world / "regions.bed"),
    ]
    ok = runner.invoke(cli, [*args, "--out", str(world / "cli")])
    assert ok.exit_code == 0, ok.output
    assert (world / "cli" / "mac.specific.bed").is_file()
    again = runner.invoke(cli, [*args, "--out", str(world / "cli")])
    assert again.exit_code == 2 and "--overwrite" in again.output

    pd.DataFrame({"celltype": ["a"], "path": ["x.bw"]}).to_csv(
        world / "bad.tsv", sep="\t", index=False
    )
    bad = runner.invoke(
        cli,
        [
            "elements",
            "call",
            "--tracks",
            str(world / "bad.tsv"),
            "--regions",
            str(world / "regions.bed"),
            "--out",
            str(world / "b"),
        ],
    )
    assert bad.exit_code == 2
    assert "lacks column(s) cell_type" in bad.output
    assert "Traceback" not in bad.output

    missing = runner.invoke(
        cli,
        [
            "elements",
            "call",
            "--tracks",
            str(world / "nope.tsv"),
            "--regions",
            str(world / "regions.bed"),
            "--out",
            str(world / "c"),
        ],
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output

    pd.DataFrame({"cell_type": ["a", "b"], "path": ["gone.bw", "gone.bw"]}).to_csv(
        world / "gone.tsv", sep="\t", index=False
    )
    gone = runner.invoke(
        cli,
        [
            "elements",
            "call",
            "--tracks",
            str(world / "gone.tsv"),
            "--regions",
            str(world / "regions.bed"),
            "--out",
            str(world / "d"),
        ],
    )
    assert gone.exit_code == 2 and "gone.bw" in gone.output
    assert not (world / "d").exists()


def test_regions_without_signal_are_left_out_of_bh():
    rng = np.random.default_rng(2)
    cpm = rng.gamma(2.0, 1.0, size=(8, 6, 1))
    cpm[5:] = 0.0  # three empty regions: the test is undefined there
    labels = ["a"] * 2 + ["b"] * 2 + ["c"] * 2
    got = specific_tests(cpm, labels).query("cell_type == 'a'").set_index("region")
    assert (got.loc[5:, "pvalue"] == 1).all() and (got.loc[5:, "qvalue"] == 1).all()
    assert np.allclose(
        got.loc[:4, "qvalue"], multipletests(got.loc[:4, "pvalue"], method="fdr_bh")[1]
    )
