"""scATAC fragments -> per-cell-type pseudo-bulk bigWigs (and their bad inputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.deconvolve_inputs import pseudobulk as pseudobulk_cmd
from varinterp.deconv.fragments import (
    coverage_runs,
    dense_blocks,
    load_fragments,
    make_pseudobulk,
    read_barcodes,
    relabel,
    write_pseudobulk,
)
from varinterp.errors import InputError
from varinterp.io.bigwig import BigWig

SIZES = {"chr1": 40_000, "chr2": 20_000}


def _toy(folder: Path, *, n_cells=(25, 22, 8), seed=0, chrom_names=("1", "2"), gz=True) -> dict:
    """Fragments of three cell types (A, B and a small C) plus 5 unannotated barcodes."""
    rng = np.random.default_rng(seed)
    rows, bc_rows = [], []
    types = ["A", "B", "C"]
    for k, n in enumerate(n_cells):
        for c in range(n):
            bc = f"{types[k]}{c}-1"
            bc_rows.append((bc, types[k]))
            for _ in range(rng.integers(5, 15)):
                ci = rng.integers(0, 2)
                s = int(rng.integers(0, list(SIZES.values())[ci] - 500))
                rows.append((chrom_names[ci], s, s + int(rng.integers(40, 400)), bc, 1))
    for j in range(5):
        rows.append((chrom_names[0], 100 + j, 300 + j, f"STRAY{j}", 2))
    frags = pd.DataFrame(rows).sort_values([0, 1, 2], kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "fragments.tsv"
    with text.open("w") as fh:
        fh.write("# comment line\n# another\n")
        frags.to_csv(fh, sep="\t", header=False, index=False)
    path = text
    if gz:
        path = Path(pysam.tabix_index(str(text), preset="bed", force=True, meta_char="#"))
    bc = folder / "barcodes.tsv"
    pd.DataFrame(bc_rows).to_csv(bc, sep="\t", header=False, index=False)
    return {"fragments": path, "barcodes": bc, "rows": frags}


def _naive(rows: pd.DataFrame, cell_type: str, chrom: str, length: int, mode: str) -> np.ndarray:
    out = np.zeros(length)
    for c, s, e, bc in rows[[0, 1, 2, 3]].itertuples(index=False):
        if c != chrom or not bc.startswith(cell_type) or bc.startswith("STRAY"):
            continue
        if mode == "coverage":
            out[s:e] += 1
        else:
            out[s] += 1
            out[e - 1] += 1
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 60)), min_size=0, max_size=40),
    st.sampled_from(["coverage", "cutsites"]),
    st.sampled_from([7, 64, 1 << 20]),
)
def test_runs_and_blocks_match_naive_pileup(frags, mode, block):
    start = np.array([s for s, _ in frags], dtype=np.int64)
    end = start + np.array([n for _, n in frags], dtype=np.int64)
    want = np.zeros(400)
    for s, e in zip(start, end, strict=True):
        if mode == "coverage":
            want[s:e] += 1
        else:
            want[s] += 1
            want[e - 1] += 1
    bounds, values = coverage_runs(start, end, mode=mode)
    got = np.zeros(400)
    last = -1
    for s, vals in dense_blocks(bounds, values, block=block):
        assert s >= last  # sorted, non-overlapping chunks
        got[s : s + vals.size] = vals
        last = s + vals.size
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("mode", ["coverage", "cutsites"])
@pytest.mark.parametrize("gz", [True, False], ids=["bgzip-tabix", "plain"])
def test_pseudobulk_tracks_match_naive_loop(tmp_path, mode, gz):
    toy = _toy(tmp_path / "in", gz=gz)
    out = tmp_path / "pb"
    result = make_pseudobulk(
        fragments=toy["fragments"],
        barcodes=toy["barcodes"],
        out=out,
        chrom_sizes=SIZES,
        mode=mode,
    )
    assert result.cell_types == ["A", "B"] and result.dropped == {"C": 8}
    assert result.n_unmatched_fragments == 5 and result.n_unmatched_barcodes == 5
    for ct in ("A", "B"):
        with BigWig(result.tracks[ct]) as bw:
            for chrom, length in SIZES.items():
                want = _naive(toy["rows"], ct, chrom.removeprefix("chr"), length, mode)
                np.testing.assert_array_equal(bw.values(chrom, 0, length), want)
    lib = pd.read_csv(out / "library_sizes.tsv", sep="\t")
    rows = toy["rows"]
    for ct, n_frag, n_cells, norm in lib[["cell_type", "n_fragments", "n_cells", "norm"]].values:
        mine = rows[rows[3].str.match(f"{ct}\\d")]
        assert n_frag == len(mine) and n_cells == mine[3].nunique()
        assert norm == pytest.approx(1e6 / n_frag)


def test_small_cell_types_strict_and_min_cells(tmp_path):
    toy = _toy(tmp_path / "in")
    kw = {"fragments": toy["fragments"], "barcodes": toy["barcodes"], "chrom_sizes": SIZES}
    with pytest.raises(InputError, match="'C' has 8 cells"):
        make_pseudobulk(out=tmp_path / "a", strict=True, **kw)
    assert not (tmp_path / "a").exists()
    result = make_pseudobulk(out=tmp_path / "b", min_cells=5, **kw)
    assert result.cell_types == ["A", "B", "C"] and not result.dropped


def test_no_barcode_matches(tmp_path):
    toy = _toy(tmp_path / "in")
    other = tmp_path / "other.tsv"
    other.write_text("barcode\tcell_type\nAAAC-2\tX\n")
    with pytest.raises(InputError, match=r"none of the .* barcodes"):
        make_pseudobulk(
            fragments=toy["fragments"], barcodes=other, out=tmp_path / "o", chrom_sizes=SIZES
        )


def test_contig_mismatch_names_both_spellings(tmp_path):
    toy = _toy(tmp_path / "in", chrom_names=("chrQ", "chrR"))
    with pytest.raises(InputError, match=r"'chrQ'.*'chr1'"):
        make_pseudobulk(
            fragments=toy["fragments"],
            barcodes=toy["barcodes"],
            out=tmp_path / "o",
            chrom_sizes=SIZES,
        )
    # one unknown contig among known ones: dropped and counted, or an error with strict
    toy2 = _toy(tmp_path / "in2", chrom_names=("1", "chrR"))
    kw = {"fragments": toy2["fragments"], "barcodes": toy2["barcodes"], "chrom_sizes": SIZES}
    result = make_pseudobulk(out=tmp_path / "o2", **kw)
    assert set(result.off_contig) == {"chrR"} and result.off_contig["chrR"] > 0
    with pytest.raises(InputError, match="'chrR'"):
        make_pseudobulk(out=tmp_path / "o3", strict=True, min_cells=1, **kw)


def test_bulk_contig_check(tmp_path):
    toy = _toy(tmp_path / "in")
    import pyBigWig

    bulk = tmp_path / "bulk.bw"
    bw = pyBigWig.open(str(bulk), "w")
    bw.addHeader([("chr1", 40_000)])  # no chr2
    bw.addEntries(["chr1"], [10], ends=[11], values=[1.0])
    bw.close()
    kw = {"fragments": toy["fragments"], "barcodes": toy["barcodes"], "out": tmp_path / "o"}
    with pytest.raises(InputError, match="'chr2'"):
        make_pseudobulk(chrom_sizes=SIZES, bulk=bulk, **kw)
    # sizes from the bulk alone: chr2 fragments are off-contig, chr1 tracks are built
    result = make_pseudobulk(bulk=bulk, **kw)
    assert set(result.off_contig) == {"2"}


def test_all_zero_track_names_cell_type(tmp_path):
    toy = _toy(tmp_path / "in")
    table = load_fragments(
        toy["fragments"], barcodes=read_barcodes(toy["barcodes"]), chrom_sizes=SIZES
    )
    table = table.subset(table.cell_type[table.cell] != 1)  # B loses every fragment
    with pytest.raises(InputError, match="cell type 'B' is all zero"):
        write_pseudobulk(table, out=tmp_path / "o", min_cells=0)
    assert not (tmp_path / "o").exists()


def test_relabel_merges_and_drops(tmp_path):
    toy = _toy(tmp_path / "in")
    table = load_fragments(
        toy["fragments"], barcodes=read_barcodes(toy["barcodes"]), chrom_sizes=SIZES
    )
    bc = read_barcodes(toy["barcodes"])
    bc = bc[bc.cell_type != "C"].replace({"cell_type": {"B": "others", "A": "others"}})
    merged = relabel(table, bc)
    assert merged.cell_types == ["others"]
    assert merged.fragments_per_type().tolist() == [int(table.fragments_per_type()[:2].sum())]


def test_barcode_table_conflict(tmp_path):
    path = tmp_path / "bc.tsv"
    path.write_text("X-1\tA\nX-1\tB\n")
    with pytest.raises(InputError, match="more than one cell type"):
        read_barcodes(path)
    path.write_text("X-1\n")
    with pytest.raises(InputError, match="column"):
        read_barcodes(path)


def _app() -> typer.Typer:
    group = typer.Typer()
    group.command("pseudobulk")(pseudobulk_cmd)
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(group, name="deconvolve")
    return root


def test_cli_pseudobulk(tmp_path):
    toy = _toy(tmp_path / "in")
    sizes = tmp_path / "chrom.sizes"
    sizes.write_text("".join(f"{c}\t{n}\n" for c, n in SIZES.items()))
    base = ["deconvolve", "pseudobulk", "--fragments", str(toy["fragments"])]
    base += ["--barcodes", str(toy["barcodes"]), "--chrom-sizes", str(sizes)]
    ok = CliRunner().invoke(_app(), [*base, "-o", str(tmp_path / "o"), "--skip-preflight"])
    assert ok.exit_code == 0, ok.output
    assert "dropped cell types" in ok.output and "5 of" in ok.output
    assert (tmp_path / "o" / "A.bw").is_file() and not (tmp_path / "o" / "C.bw").exists()
    # bad input: exit 2 and one line
    no_peaks = CliRunner().invoke(_app(), [*base, "-o", str(tmp_path / "p")])
    assert no_peaks.exit_code == 2 and "--skip-preflight" in no_peaks.output
    strict = CliRunner().invoke(
        _app(), [*base, "-o", str(tmp_path / "q"), "--skip-preflight", "--strict"]
    )
    assert strict.exit_code == 2 and "'C' has 8 cells" in strict.output
    assert len(strict.output.strip().splitlines()) == 1
    args = ["deconvolve", "pseudobulk", "--fragments", str(tmp_path / "none.tsv.gz")]
    args += ["--barcodes", str(toy["barcodes"]), "-o", str(tmp_path / "r"), "--skip-preflight"]
    missing = CliRunner().invoke(_app(), args)
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_tracks_feed_deconv_prep(tmp_path):
    from varinterp.deconv.prep import build_windows
    from varinterp.io.bigwig import write_bigwig

    toy = _toy(tmp_path / "in")
    result = make_pseudobulk(
        fragments=toy["fragments"], barcodes=toy["barcodes"], out=tmp_path / "o", chrom_sizes=SIZES
    )
    bulk = tmp_path / "bulk.bw"
    write_bigwig(bulk, chrom_sizes=SIZES, tracks=[("chr1", 0, np.ones(1000))])
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [5000], "end": [6000]})
    sizes = dict(zip(result.table.cell_type, result.table.n_fragments, strict=True))
    data = build_windows(
        regions=regions,
        bulk_pl=bulk,
        bulk_mn=None,
        accessibility=result.tracks,
        library_sizes=sizes,
        input_length=2048,
        target_length=500,
    )
    np.testing.assert_allclose(data.norm, result.table.norm)
    want = _naive(toy["rows"], "A", "1", SIZES["chr1"], "coverage")[4476:6524]
    np.testing.assert_array_equal(data.acc[0, 0], want)
