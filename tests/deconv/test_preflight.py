"""Preflight: signature regions, nu-SVR fractions, drop / merge, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyBigWig
import pytest
import typer
from scipy import sparse
from scipy.stats import ttest_ind
from statsmodels.stats.multitest import multipletests
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.deconvolve_inputs import preflight as preflight_cmd
from varinterp.cli.deconvolve_inputs import pseudobulk as pseudobulk_cmd
from varinterp.deconv.fragments import load_fragments, read_barcodes
from varinterp.deconv.preflight import (
    estimate_fractions,
    pseudo_replicates,
    region_counts,
    run_preflight,
    signature_regions,
)
from varinterp.errors import InputError

TYPES = ("alpha", "beta", "gamma")
LENGTH = 2_000_000


def atac_world(
    folder: Path,
    *,
    proportions=(0.6, 0.3, 0.1),
    n_cells=(60, 60, 60),
    seed: int = 0,
    n_regions: int = 300,
    frags_per_cell: int = 400,
    depth: float = 200_000.0,
) -> dict:
    """Three cell types with known accessibility; a bulk = known mixture of them.

    Every type has the same total accessibility over the peaks, so the bulk's linear
    weights on the types' CPM are exactly the proportions.
    """
    rng = np.random.default_rng(seed)
    k_types = len(proportions)
    starts = 10_000 + np.arange(n_regions) * 6000
    ends = starts + 500
    acc = np.tile(rng.lognormal(0, 0.8, n_regions), (k_types, 1))
    owner = rng.integers(-1, k_types, n_regions)  # -1: shared by all
    for k in range(k_types):
        acc[k, owner == k] *= 8.0
        acc[k, (owner >= 0) & (owner != k)] *= 0.3
    acc /= acc.sum(axis=1, keepdims=True)
    chunks, bc_rows = [], []
    for k in range(k_types):
        for c in range(n_cells[k]):
            bc = f"{TYPES[k]}_{c:03d}-1"
            bc_rows.append((bc, TYPES[k]))
            n = rng.poisson(frags_per_cell)
            in_peak = rng.random(n) < 0.7
            reg = rng.choice(n_regions, size=n, p=acc[k])
            flen = rng.integers(50, 300, n)
            s = np.where(
                in_peak,
                starts[reg] + rng.integers(0, 450, n) - flen // 2,
                rng.integers(0, LENGTH - 400, n),
            )
            chunks.append(pd.DataFrame({0: "chrS", 1: s, 2: s + flen, 3: bc, 4: 1}))
    frags = pd.concat(chunks).sort_values([0, 1, 2], kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    fpath = folder / "fragments.tsv"
    with fpath.open("w") as fh:
        fh.write("# id=toy\n")
        frags.to_csv(fh, sep="\t", header=False, index=False)
    bpath = folder / "barcodes.tsv"
    pd.DataFrame(bc_rows).to_csv(bpath, sep="\t", header=False, index=False)
    bulk = rng.poisson(depth * (np.asarray(proportions)[:, None] * acc).sum(axis=0))
    mids = (starts + ends) // 2
    keep = bulk > 0
    paths = {}
    for strand, sign, share in (("pl", 1.0, 0.5), ("mn", -1.0, 0.5)):
        path = folder / f"bulk.{strand}.bw"
        bw = pyBigWig.open(str(path), "w")
        bw.addHeader([("chrS", LENGTH)])
        vals = (sign * share * bulk[keep]).tolist()
        pos = (mids[keep] + (0 if strand == "pl" else 1)).tolist()
        bw.addEntries(["chrS"] * len(pos), pos, ends=[p + 1 for p in pos], values=vals)
        bw.close()
        paths[strand] = path
    peaks = folder / "peaks.bed"
    pd.DataFrame({0: "chrS", 1: starts, 2: ends}).to_csv(peaks, sep="\t", header=False, index=False)
    return {
        "fragments": fpath,
        "barcodes": bpath,
        "bulk_pl": paths["pl"],
        "bulk_mn": paths["mn"],
        "peaks": peaks,
        "sizes": {"chrS": LENGTH},
    }


def _peaks(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, names=["chrom", "start", "end"])


def _table(world: dict):
    return load_fragments(
        world["fragments"], barcodes=read_barcodes(world["barcodes"]), chrom_sizes=world["sizes"]
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    return atac_world(tmp_path_factory.mktemp("pf") / "w")


@pytest.mark.parametrize(
    "props", [(0.6, 0.3, 0.1), (1 / 3, 1 / 3, 1 / 3), (0.5, 0.45, 0.05)], ids=str
)
def test_fractions_recovered_on_known_mixture(tmp_path, props):
    w = atac_world(tmp_path, proportions=props, seed=2)
    result = run_preflight(
        _table(w), regions=_peaks(w["peaks"]), bulk_pl=w["bulk_pl"], bulk_mn=w["bulk_mn"], seed=1
    )
    got = np.array([result.fractions[t] for t in TYPES])
    np.testing.assert_allclose(got, props, atol=0.03)
    assert result.r2 > 0.9
    assert list(result.table["status"]) == ["kept"] * 3


def test_absent_type_dropped_or_merged(tmp_path):
    w = atac_world(tmp_path, proportions=(0.7, 0.3, 0.0), seed=3)
    table, peaks = _table(w), _peaks(w["peaks"])
    dropped = run_preflight(table, regions=peaks, bulk_pl=w["bulk_pl"], bulk_mn=w["bulk_mn"])
    assert dropped.fractions["gamma"] < 0.035
    assert dict(zip(dropped.table.cell_type, dropped.table.status, strict=True)) == {
        "alpha": "kept",
        "beta": "kept",
        "gamma": "dropped",
    }
    assert set(dropped.barcodes.cell_type) == {"alpha", "beta"}
    assert len(dropped.barcodes) == 120
    merged = run_preflight(
        table, regions=peaks, bulk_pl=w["bulk_pl"], bulk_mn=w["bulk_mn"], merge_into="others"
    )
    assert set(merged.barcodes.cell_type) == {"alpha", "beta", "others"}
    gamma = merged.barcodes.barcode.str.startswith("gamma")
    assert (merged.barcodes.cell_type[gamma] == "others").all() and gamma.sum() == 60
    # a cutoff above a kept type's fraction drops it too
    high = run_preflight(
        table, regions=peaks, bulk_pl=w["bulk_pl"], bulk_mn=w["bulk_mn"], cutoff=0.5
    )
    assert list(high.table.status) == ["kept", "dropped", "dropped"]


def test_too_few_cells_left_out(tmp_path):
    w = atac_world(tmp_path, n_cells=(60, 60, 12), seed=4)
    result = run_preflight(_table(w), regions=_peaks(w["peaks"]), bulk_pl=w["bulk_pl"])
    row = result.table.set_index("cell_type").loc["gamma"]
    assert row.status == "too_few_cells" and row.n_cells == 12 and np.isnan(row.fraction)
    assert "gamma" not in set(result.barcodes.cell_type)


def test_region_counts_match_naive_loop(world):
    full = _table(world)
    table = full.subset(np.arange(full.n) % 8 == 0)
    rng = np.random.default_rng(0)
    starts = np.sort(rng.integers(0, LENGTH - 3000, 60))
    regions = pd.DataFrame({"chrom": "chrS", "start": starts, "end": starts + 2500})
    got = region_counts(table, regions).toarray()  # overlapping regions included
    want = np.zeros_like(got)
    for s, e, c in zip(table.start, table.end, table.cell, strict=True):
        hit = (regions.start.to_numpy() < e) & (regions.end.to_numpy() > s)
        want[c, hit] += 1
    np.testing.assert_array_equal(got, want)


def test_replicates_are_half_the_cells_in_cpm():
    counts = sparse.csr_matrix(np.arange(24, dtype=np.int64).reshape(6, 4))
    totals = np.full(6, 100.0)
    cpm = pseudo_replicates(counts, totals, [np.arange(4), np.arange(4, 6)], n_replicates=3)
    assert cpm.shape == (2, 3, 4)
    # type 2 has 2 cells -> 1 drawn per replicate: a row of counts times 1e6 / 100
    for r in range(3):
        assert any(np.allclose(cpm[1, r], counts[i].toarray().ravel() * 1e4) for i in (4, 5))


def test_t_test_and_bh_match_scipy_statsmodels():
    rng = np.random.default_rng(5)
    cpm = rng.gamma(30.0, 1.0, size=(3, 5, 200))
    cpm[0, :, :20] *= 6  # planted signatures of type 0
    index, owner, stats = signature_regions(cpm, max_per_type=1000)
    for k in range(3):
        g1, g2 = cpm[k], np.concatenate([cpm[j] for j in range(3) if j != k])
        p = ttest_ind(g1, g2, axis=0, equal_var=False, alternative="greater").pvalue
        q = multipletests(p, method="fdr_bh")[1]
        fc = g1.mean(0) / (g2.mean(0) + 1e-8)
        mine = stats[stats.type == k]
        np.testing.assert_allclose(mine.p, p, rtol=1e-10)
        np.testing.assert_allclose(mine.q, q, rtol=1e-10)
        np.testing.assert_allclose(mine.fc, fc, rtol=1e-10)
    ok0 = set(np.flatnonzero((stats[stats.type == 0].q < 0.01) & (stats[stats.type == 0].fc > 2)))
    assert ok0 and set(index[owner == 0]) == ok0
    assert ok0 <= set(range(20))


def test_signature_top_n_is_smallest_list():
    rng = np.random.default_rng(6)
    cpm = rng.gamma(50.0, 1.0, size=(2, 5, 300))
    cpm[0, :, :40] *= 8
    cpm[1, :, 40:50] *= 8
    _, owner, stats = signature_regions(cpm)
    ok = (stats.q < 0.01) & (stats.fc > 2)
    sizes = ok.groupby(stats.type).sum().tolist()
    assert sizes[0] > sizes[1] >= 5
    assert np.bincount(owner).tolist() == [sizes[1], sizes[1]]
    _, owner_c, _ = signature_regions(cpm, max_per_type=4)
    assert np.bincount(owner_c).tolist() == [4, 4]


def test_estimate_fractions_scale_free_and_clipped():
    rng = np.random.default_rng(7)
    a = rng.gamma(2.0, 50.0, size=(150, 3))
    b = a @ np.array([3.0, 1.0, 0.0]) + rng.normal(0, 1.0, 150)
    f, r2 = estimate_fractions(a, b)
    np.testing.assert_allclose(f, [0.75, 0.25, 0.0], atol=0.02)
    assert r2 > 0.99 and f.min() >= 0 and np.isclose(f.sum(), 1)
    f2, _ = estimate_fractions(a * 1000, b * 7)
    np.testing.assert_allclose(f, f2, atol=0.02)


def test_seeded_and_reproducible(world):
    table, peaks = _table(world), _peaks(world["peaks"])
    kw = {"regions": peaks, "bulk_pl": world["bulk_pl"]}
    a = run_preflight(table, seed=11, **kw)
    b = run_preflight(table, seed=11, **kw)
    pd.testing.assert_frame_equal(a.signatures, b.signatures)
    assert a.fractions == b.fractions
    counts = region_counts(table, peaks)
    totals = np.bincount(table.cell, minlength=table.barcodes.size).astype(float)
    groups = [np.flatnonzero(table.cell_type == k) for k in range(3)]
    r1 = pseudo_replicates(counts, totals, groups, seed=11)
    r2 = pseudo_replicates(counts, totals, groups, seed=12)
    assert not np.array_equal(r1, r2)


def test_bad_inputs(world):
    table = _table(world)
    with pytest.raises(InputError, match="two cell types"):
        run_preflight(
            table, regions=_peaks(world["peaks"]), bulk_pl=world["bulk_pl"], min_cells=500
        )
    with pytest.raises(InputError, match="'chrQ'"):
        run_preflight(
            table,
            regions=pd.DataFrame({"chrom": ["chrQ"], "start": [0], "end": [10]}),
            bulk_pl=world["bulk_pl"],
        )
    flat = np.zeros((3, 5, 50))
    index, _, _ = signature_regions(flat)
    assert index.size == 0
    with pytest.raises(InputError, match="no signature regions"):
        run_preflight(
            table,
            regions=pd.DataFrame({"chrom": ["chrS"], "start": [5], "end": [6]}),
            bulk_pl=world["bulk_pl"],
        )


def _app() -> typer.Typer:
    group = typer.Typer()
    group.command("preflight")(preflight_cmd)
    group.command("pseudobulk")(pseudobulk_cmd)
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(group, name="deconvolve")
    return root


def test_cli_preflight(world, tmp_path):
    out = tmp_path / "pf"
    args = [
        "deconvolve", "preflight",
        "--fragments", str(world["fragments"]), "--barcodes", str(world["barcodes"]),
        "--peaks", str(world["peaks"]), "--bulk-pl", str(world["bulk_pl"]),
        "--bulk-mn", str(world["bulk_mn"]), "-o", str(out), "--seed", "3",
    ]  # fmt: skip
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "preflight.tsv", sep="\t")
    assert list(table.status) == ["kept"] * 3
    np.testing.assert_allclose(table.fraction, [0.6, 0.3, 0.1], atol=0.03)
    sig = pd.read_csv(out / "signatures.tsv", sep="\t")
    assert {"chrom", "start", "end", "signature_of", "alpha", "bulk"} <= set(sig.columns)
    assert (out / "signatures.png").stat().st_size > 1000
    assert len(pd.read_csv(out / "barcodes.tsv", sep="\t", header=None)) == 180
    again = CliRunner().invoke(_app(), args)
    assert again.exit_code == 2 and "already exists" in again.output
    # pseudobulk with the preflight folded in
    out2 = tmp_path / "pb"
    args2 = [
        "deconvolve", "pseudobulk",
        "--fragments", str(world["fragments"]), "--barcodes", str(world["barcodes"]),
        "--peaks", str(world["peaks"]), "--bulk-pl", str(world["bulk_pl"]),
        "-o", str(out2), "--cutoff", "0.2", "--merge-into", "others",
    ]  # fmt: skip
    result = CliRunner().invoke(_app(), args2)
    assert result.exit_code == 0, result.output
    lib = pd.read_csv(out2 / "library_sizes.tsv", sep="\t")
    assert list(lib.cell_type) == ["alpha", "beta", "others"]
    assert (out2 / "preflight" / "preflight.tsv").is_file() and (out2 / "others.bw").is_file()


def test_cli_preflight_bad_input(world, tmp_path):
    base = ["deconvolve", "preflight", "--barcodes", str(world["barcodes"])]
    base += ["--peaks", str(world["peaks"]), "--bulk-pl", str(world["bulk_pl"])]
    missing = CliRunner().invoke(
        _app(), [*base, "--fragments", str(tmp_path / "nope.tsv"), "-o", str(tmp_path / "o")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output
    bad = tmp_path / "bad.tsv"
    bad.write_text("chrS\t10\t20\n")
    short = CliRunner().invoke(_app(), [*base, "--fragments", str(bad), "-o", str(tmp_path / "o")])
    assert short.exit_code == 2 and "columns" in short.output
    assert len(short.output.strip().splitlines()) == 1
