"""Simulated bulk mixtures (binomial thinning) and pseudo-bulk scATAC references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pysam
import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.simulate_mixture import mixture as mixture_cmd
from varinterp.errors import InputError
from varinterp.simulate.mixture import QUALITY, simulate_mixture, simulate_reference, thin

TYPES = ("K562", "GM12878", "MCF7")


def _sparse(path: Path, chrom: str = "chr22") -> pd.Series:
    """Nonzero bases of a bigWig as a Series position -> value (signs kept)."""
    bw = pyBigWig.open(str(path))
    iv = bw.intervals(chrom) or ()
    bw.close()
    out = {}
    for s, e, v in iv:
        for p in range(s, e):
            out[p] = v
    return pd.Series(out, dtype=np.float64)


@pytest.fixture(scope="module")
def fixture_tracks(shared_fixtures) -> dict:
    d = shared_fixtures / "deepdetails_chr22"
    return {c: (d / f"{c}.ds.chr22.pl.bw", d / f"{c}.ds.chr22.mn.bw") for c in TYPES}


@pytest.fixture(scope="module")
def mixed(fixture_tracks, tmp_path_factory):
    out = tmp_path_factory.mktemp("mix") / "bulk"
    props = {"K562": 0.6, "GM12878": 0.3, "MCF7": 0.1}
    return simulate_mixture(
        tracks=fixture_tracks, proportions=props, depth=120_000, out=out, seed=5
    )


def test_bulk_is_exact_sum_of_thinned_tracks(mixed):
    for s, strand in enumerate(("pl", "mn")):
        bulk = _sparse(mixed.bulk[s])
        parts = [_sparse(mixed.truth[c][s]) for c in TYPES]
        total = pd.concat(parts, axis=1).fillna(0).sum(axis=1)
        pd.testing.assert_series_equal(bulk.sort_index(), total.sort_index(), check_names=False)
        assert (bulk > 0).all() if strand == "pl" else (bulk < 0).all()


def test_thinned_totals_match_expectation(mixed, fixture_tracks):
    table = mixed.table.set_index("cell_type")
    for c in TYPES:
        row = table.loc[c]
        original = (
            _sparse(fixture_tracks[c][0]).abs().sum() + _sparse(fixture_tracks[c][1]).abs().sum()
        )
        assert row.input_total == original
        assert row.sampling_p == pytest.approx(row.proportion * 120_000 / original)
        # Binomial sum: sd <= sqrt(expected)
        assert abs(row.thinned_total - row.expected_total) < 5 * np.sqrt(row.expected_total)
        thinned = _sparse(mixed.truth[c][0])
        source = _sparse(fixture_tracks[c][0]).reindex(thinned.index)
        assert (thinned <= source).all() and thinned.sum() == pytest.approx(
            row.thinned_total - abs(_sparse(mixed.truth[c][1]).sum())
        )
    assert table.thinned_total.sum() == _sparse(mixed.bulk[0]).sum() - _sparse(mixed.bulk[1]).sum()


def test_seeded(fixture_tracks, tmp_path):
    tracks = {c: fixture_tracks[c] for c in ("K562", "MCF7")}
    kw = {"tracks": tracks, "proportions": dict.fromkeys(tracks, 1.0), "depth": 30_000}
    a = simulate_mixture(out=tmp_path / "a", seed=1, **kw)
    b = simulate_mixture(out=tmp_path / "b", seed=1, **kw)
    c = simulate_mixture(out=tmp_path / "c", seed=2, **kw)
    pd.testing.assert_series_equal(_sparse(a.bulk[0]), _sparse(b.bulk[0]))
    assert not _sparse(a.bulk[0]).equals(_sparse(c.bulk[0]))
    np.testing.assert_allclose(a.table.proportion, [0.5, 0.5])


def _track(path: Path, values: dict[int, float], length: int = 5000) -> Path:
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chrT", length)])
    pos = sorted(values)
    bw.addEntries(
        ["chrT"] * len(pos), pos, ends=[p + 1 for p in pos], values=[values[p] for p in pos]
    )
    bw.close()
    return path


def test_full_depth_keeps_everything_and_unstranded(tmp_path):
    a = _track(tmp_path / "a.bw", {10: 3.0, 11: 5.0, 4000: 2.0})
    b = _track(tmp_path / "b.bw", {11: 1.0, 20: 9.0})
    res = simulate_mixture(
        tracks={"a": (a, None), "b": (b, None)},
        proportions={"a": 10, "b": 10},
        depth=20,
        out=tmp_path / "o",
    )
    assert [p.name for p in res.bulk] == ["bulk.bw"]
    assert _sparse(res.bulk[0], "chrT").to_dict() == {10: 3.0, 11: 6.0, 20: 9.0, 4000: 2.0}
    assert res.table.sampling_p.tolist() == [1.0, 1.0]


def test_bad_inputs(tmp_path, fixture_tracks):
    a = _track(tmp_path / "a.bw", {10: 3.0})
    with pytest.raises(InputError, match="lower --depth to <= 3"):
        simulate_mixture(tracks={"a": (a, None)}, proportions={"a": 1}, depth=4, out=tmp_path / "o")
    frac = _track(tmp_path / "f.bw", {10: 0.5})
    with pytest.raises(InputError, match="non-integer"):
        simulate_mixture(
            tracks={"f": (frac, None)}, proportions={"f": 1}, depth=1, out=tmp_path / "o"
        )
    with pytest.raises(InputError, match="proportions name"):
        simulate_mixture(tracks={"a": (a, None)}, proportions={"b": 1}, depth=1, out=tmp_path / "o")
    with pytest.raises(InputError, match="minus-strand"):
        simulate_mixture(
            tracks={"a": (a, None), "K562": fixture_tracks["K562"]},
            proportions={"a": 1, "K562": 1},
            depth=1,
            out=tmp_path / "o",
        )
    assert not (tmp_path / "o").exists()


def test_thin_is_binomial():
    rng = np.random.default_rng(0)
    draws = thin(np.full(20_000, 10), 0.3, rng)
    assert draws.max() <= 10
    assert draws.mean() == pytest.approx(3.0, abs=0.05)
    assert draws.var() == pytest.approx(10 * 0.3 * 0.7, rel=0.05)


def _scatac(folder: Path, *, cells=(30, 12), per_cell=1500, seed=0, chrom="chrT") -> dict:
    rng = np.random.default_rng(seed)
    chunks, bcs = [], []
    for k, n in enumerate(cells):
        for c in range(n):
            bc = f"T{k}_{c}"
            bcs.append((bc, f"type{k}"))
            s = rng.choice(900_000, per_cell, replace=False)
            chunks.append(
                pd.DataFrame({0: chrom, 1: s, 2: s + 150, 3: bc, 4: rng.integers(1, 4, per_cell)})
            )
    frags = pd.concat(chunks).sort_values([0, 1, 2], kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "frags.tsv"
    frags.to_csv(path, sep="\t", header=False, index=False)
    bc = folder / "bc.tsv"
    pd.DataFrame(bcs).to_csv(bc, sep="\t", header=False, index=False)
    return {"fragments": path, "barcodes": bc, "rows": frags}


def test_reference_hierarchical_sampling(tmp_path):
    toy = _scatac(tmp_path / "in")
    res = simulate_reference(
        fragments=toy["fragments"],
        barcodes=toy["barcodes"],
        chrom_sizes={"chrT": 1_000_000},
        out=tmp_path / "ref",
        quality="acceptable",
        cells_per_type=20,
        seed=3,
    )
    assert res.table.n_cells.tolist() == [20, 12] and res.table.cells_available.tolist() == [30, 12]
    assert len(res.warnings) == 1 and "type1" in res.warnings[0]
    tbx = pysam.TabixFile(str(res.fragments))
    got = pd.DataFrame([r.split("\t") for r in tbx.fetch("chrT")])
    tbx.close()
    assert len(got) == res.table.n_fragments.sum()
    got[[1, 2, 4]] = got[[1, 2, 4]].astype(np.int64)
    # every sampled fragment is an original line, none twice (without replacement)
    key = ["c", "s", "e", "b", "n"]
    orig = toy["rows"].set_axis(key, axis=1)
    merged = got.set_axis(key, axis=1).merge(orig, how="left", indicator=True)
    assert (merged["_merge"] == "both").all() and not got.duplicated().any()
    per_cell = got.groupby(3).size()
    mu, sigma = QUALITY["acceptable"]
    assert abs(per_cell.mean() - mu) < 4 * sigma / np.sqrt(per_cell.size)
    assert per_cell.std() == pytest.approx(sigma, rel=0.5)
    assert (per_cell <= 1500).all()
    bcs = pd.read_csv(res.barcodes, sep="\t", header=None)
    assert set(bcs[0]) == set(per_cell.index) and len(bcs) == 32
    # excellent asks for ~10000 per cell: capped at the cell's 1500 fragments
    ex = simulate_reference(
        fragments=toy["fragments"],
        barcodes=toy["barcodes"],
        chrom_sizes={"chrT": 1_000_000},
        out=tmp_path / "ex",
        quality="excellent",
        cells_per_type={"type0": 5},
    )
    assert ex.table.n_fragments.tolist() == [5 * 1500, 12 * 1500]
    with pytest.raises(InputError, match="fewer than the 20"):
        simulate_reference(
            fragments=toy["fragments"],
            barcodes=toy["barcodes"],
            chrom_sizes={"chrT": 1_000_000},
            out=tmp_path / "st",
            cells_per_type=20,
            strict=True,
        )


def _app() -> typer.Typer:
    group = typer.Typer()
    group.command("mixture")(mixture_cmd)
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(group, name="simulate")
    return root


def test_cli_mixture(tmp_path, fixture_tracks):
    toy = _scatac(tmp_path / "in", cells=(6, 6), per_cell=200, chrom="22")
    args = ["simulate", "mixture", "-o", str(tmp_path / "sim"), "--depth", "20000"]
    for c, (pl, mn) in fixture_tracks.items():
        args += ["--track", f"{c}={pl},{mn}", "--proportion", f"{c}={2 if c == 'K562' else 1}"]
    args += ["--fragments", str(toy["fragments"]), "--barcodes", str(toy["barcodes"])]
    args += ["--quality", "acceptable", "--seed", "4"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    mix = pd.read_csv(tmp_path / "sim" / "bulk" / "mixture.tsv", sep="\t")
    assert mix.proportion.tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert (tmp_path / "sim" / "bulk" / "K562.ds.mn.bw").is_file()
    assert (tmp_path / "sim" / "reference" / "fragments.tsv.gz.tbi").is_file()
    bad = CliRunner().invoke(
        _app(), ["simulate", "mixture", "-o", str(tmp_path / "x"), "--track", "a=nope.bw"]
    )
    assert bad.exit_code == 2 and "does not exist" in bad.output
    no_depth = CliRunner().invoke(
        _app(),
        [
            "simulate",
            "mixture",
            "-o",
            str(tmp_path / "y"),
            "--track",
            f"K562={fixture_tracks['K562'][0]}",
        ],
    )
    assert no_depth.exit_code == 2 and "--depth" in no_depth.output
    assert len(no_depth.output.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_mixture_folder_writes_both_parts_and_checks_inputs_first(tmp_path):
    from varinterp.simulate.mixture_folder import simulate_mixture_folder

    a = _track(tmp_path / "a.bw", {10: 3.0, 11: 5.0, 4000: 2.0})
    b = _track(tmp_path / "b.bw", {11: 1.0, 20: 9.0})
    toy = _scatac(tmp_path / "in", cells=(4, 3), per_cell=50)
    out = tmp_path / "sim"
    got = simulate_mixture_folder(
        out=out,
        tracks={"a": (a, None), "b": (b, None)},
        depth=20,
        fragments=toy["fragments"],
        barcodes=toy["barcodes"],
        chrom_sizes={"chrT": 1_000_000},
        quality="acceptable",
        seed=2,
    )
    assert got.out == out and got.mixture.out == out / "bulk"
    assert got.mixture.bulk == [out / "bulk" / "bulk.bw"] and got.mixture.bulk[0].is_file()
    np.testing.assert_allclose(got.mixture.table.proportion, [0.5, 0.5])  # equal by default
    assert got.reference.fragments == out / "reference" / "fragments.tsv.gz"
    assert got.reference.fragments.is_file() and got.reference.table.n_cells.tolist() == [4, 3]
    # the same seed gives the same files as the two library calls on their own
    alone = simulate_reference(
        fragments=toy["fragments"], barcodes=toy["barcodes"], chrom_sizes={"chrT": 1_000_000},
        out=tmp_path / "alone", quality="acceptable", seed=2,
    )  # fmt: skip
    assert (alone.out / "barcodes.tsv").read_bytes() == (
        got.reference.out / "barcodes.tsv"
    ).read_bytes()
    with pytest.raises(InputError, match="--depth"):
        simulate_mixture_folder(out=tmp_path / "x", tracks={"a": (a, None)})
    with pytest.raises(InputError, match="--barcodes"):
        simulate_mixture_folder(out=tmp_path / "x", fragments=toy["fragments"])
    with pytest.raises(InputError, match="--chrom-sizes"):
        simulate_mixture_folder(
            out=tmp_path / "x", fragments=toy["fragments"], barcodes=toy["barcodes"]
        )
    with pytest.raises(InputError, match="and/or --fragments"):
        simulate_mixture_folder(out=tmp_path / "x")
    with pytest.raises(InputError, match="already exists"):
        simulate_mixture_folder(out=out, tracks={"a": (a, None)}, depth=5)
    assert not (tmp_path / "x").exists()
    # contig lengths come from the first track when no chrom sizes are given
    from_track = simulate_mixture_folder(
        out=tmp_path / "t", tracks={"a": (a, None)}, depth=5,
        fragments=toy["fragments"], barcodes=toy["barcodes"],
    )  # fmt: skip
    ends = pd.read_csv(from_track.reference.fragments, sep="\t", header=None)[2]
    assert len(ends) and ends.max() <= 5000  # clipped to the track's 5-kb chrT
