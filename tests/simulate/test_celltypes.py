from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyBigWig
import pysam
import pytest

from varinterp.errors import InputError
from varinterp.simulate import make_world, write_world
from varinterp.simulate.celltypes import simulate_celltypes, thin_libraries
from varinterp.simulate.celltypes_model import (
    CELL_TYPES,
    cell_type_grammar,
    element_is_open,
    resolve_cell_types,
)

CELLS = {"hepatocyte": 60, "kupffer": 20, "endothelial": 40}


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory):
    world = make_world(seed=5, n_individuals=10, genome_size=200_000, n_chromosomes=2)
    out = tmp_path_factory.mktemp("ct") / "world"
    write_world(world, out)
    return out, world


def _run(world_dir, out, **kw):
    folder, world = world_dir
    args = {"n_cells": CELLS, "fragments_per_cell": 300.0, "seed": 4, **kw}
    return simulate_celltypes(world_dir=folder, out=out, world=world, **args)


@pytest.fixture(scope="module")
def sim(world_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ct") / "sim"
    return _run(world_dir, out)


def _values(path, chrom, length):
    bw = pyBigWig.open(str(path))
    try:
        return np.nan_to_num(np.asarray(bw.values(chrom, 0, length), dtype=np.float64))
    finally:
        bw.close()


def _all(path, sizes):
    return {c: _values(path, c, n) for c, n in sizes.items()}


def test_reruns_are_byte_identical(world_dir, sim, tmp_path):
    again = _run(world_dir, tmp_path / "again")
    files = sorted(p.relative_to(sim.out_dir) for p in sim.out_dir.rglob("*") if p.is_file())
    assert len(files) > 20
    for f in files:
        assert (sim.out_dir / f).read_bytes() == (again.out_dir / f).read_bytes(), f
    other = _run(world_dir, tmp_path / "other", seed=5)
    a = (sim.out_dir / "bulk.pl.bw").read_bytes()
    assert a != (other.out_dir / "bulk.pl.bw").read_bytes()


def test_bulk_is_exact_sum_of_truth_tracks(world_dir, sim):
    _, world = world_dir
    sizes = world.reference.lengths
    tracks = pd.read_csv(sim.tracks, sep="\t")
    for strand, col in (("pl", "plus"), ("mn", "minus")):
        bulk = _all(sim.out_dir / f"bulk.{strand}.bw", sizes)
        parts = [_all(sim.out_dir / p, sizes) for p in tracks[col]]
        for c in sizes:
            total = sum(p[c] for p in parts)
            np.testing.assert_array_equal(bulk[c], total)
            assert (bulk[c] >= 0).all() if strand == "pl" else (bulk[c] <= 0).all()
            assert np.array_equal(bulk[c], np.round(bulk[c]))  # integer counts
    # the truth tracks are binomial thins of the libraries: never above them
    for _, row in tracks.iterrows():
        for c in sizes:
            lib = _values(sim.out_dir / row["library_plus"], c, sizes[c])
            thin = _values(sim.out_dir / row["plus"], c, sizes[c])
            assert (thin <= lib).all()


def test_thinning_hits_proportions_of_depth(sim):
    manifest = json.loads((sim.out_dir / "celltypes.json").read_text())
    tracks = pd.read_csv(sim.tracks, sep="\t")
    depth = manifest["params"]["bulk_depth"]
    bw_totals = []
    for _, row in tracks.iterrows():
        total = 0.0
        for col in ("plus", "minus"):
            bw = pyBigWig.open(str(sim.out_dir / row[col]))
            total += sum(
                abs(v) * (e - s) for c in bw.chroms() for s, e, v in (bw.intervals(c) or ())
            )
            bw.close()
        bw_totals.append(total)
    want = tracks["proportion"].to_numpy() * depth
    # binomial sd is at most sqrt(depth); allow 5 sd
    assert np.all(np.abs(np.array(bw_totals) - want) < 5 * np.sqrt(want) + 1)
    assert manifest["bulk_reads"] == pytest.approx(sum(bw_totals))


def test_thin_libraries_matches_binomial_and_rejects_overdraw():
    reads = [np.full((2, 2, 50), 40, dtype=np.int64), np.full((2, 2, 30), 40, dtype=np.int64)]
    thinned, p = thin_libraries(reads, np.array([0.75, 0.25]), 3200, seed=1)
    np.testing.assert_allclose(p, [0.75 * 3200 / 6400, 0.25 * 3200 / 6400])
    assert all(t.shape == r.shape for t, r in zip(thinned, reads, strict=True))
    assert all((t <= r).all() for t, r in zip(thinned, reads, strict=True))
    got = [sum(int(t[j].sum()) for t in thinned) for j in range(2)]
    assert abs(got[0] - 2400) < 5 * np.sqrt(2400 * 0.625) and abs(got[1] - 800) < 5 * 25
    with pytest.raises(InputError, match="lower --depth"):
        thin_libraries(reads, np.array([0.5, 0.5]), 20_000, seed=1)


def test_myeloid_enhancer_only_in_kupffer(world_dir, sim):
    _, world = world_dir
    sizes = world.reference.lengths
    elements = pd.read_csv(sim.out_dir / "elements.tsv", sep="\t")
    myeloid = elements[(elements["kind"] == "enhancer") & (elements["program"] == "myeloid")]
    assert len(myeloid) >= 2
    assert set(myeloid["active_cell_types"]) == {"kupffer"}
    assert myeloid["specific"].all()
    truth = {
        ct: {s: _all(sim.out_dir / "truth" / f"{ct}.{s}.bw", sizes) for s in ("pl", "mn")}
        for ct in CELLS
    }
    acc = {ct: _all(sim.out_dir / "accessibility" / f"{ct}.bw", sizes) for ct in CELLS}
    for el in myeloid.itertuples():
        sl = slice(el.start - 50, el.end + 50)
        kupffer = sum(np.abs(truth["kupffer"][s][el.chrom][sl]).sum() for s in ("pl", "mn"))
        assert kupffer > 0
        for ct in ("hepatocyte", "endothelial"):
            assert sum(np.abs(truth[ct][s][el.chrom][sl]).sum() for s in ("pl", "mn")) == 0
        centre = (el.start + el.end) // 2
        background = {ct: np.median(acc[ct][el.chrom]) for ct in CELLS}
        assert acc["kupffer"][el.chrom][centre] > 5 * background["kupffer"]
        for ct in ("hepatocyte", "endothelial"):
            assert acc[ct][el.chrom][centre] == pytest.approx(background[ct], rel=1e-3)
    shared = elements[elements["program"] == "shared"]
    assert set(shared["active_cell_types"]) == {"hepatocyte,kupffer,endothelial"}


def test_fragments_readable_and_proportional_to_cells(sim):
    path = sim.out_dir / "fragments.tsv.gz"
    barcodes = pd.read_csv(
        sim.out_dir / "barcodes.tsv", sep="\t", header=None, names=["barcode", "cell_type"]
    )
    assert barcodes["barcode"].is_unique
    assert barcodes["cell_type"].value_counts().to_dict() == CELLS
    owner = dict(zip(barcodes["barcode"], barcodes["cell_type"], strict=True))
    counts = dict.fromkeys(CELLS, 0)
    with pysam.TabixFile(str(path)) as tbx:
        contigs = list(tbx.contigs)
        last = None
        for contig in contigs:
            for row in tbx.fetch(contig, parser=pysam.asTuple()):
                start, end = int(row[1]), int(row[2])
                assert 0 <= start < end
                assert last is None or last[0] != contig or start >= last[1]
                last = (contig, start)
                counts[owner[row[3]]] += 1
                assert row[4] in ("1", "2")
        # a region query works (the index is usable)
        assert sum(1 for _ in tbx.fetch(contigs[0], 0, 50_000)) > 0
    assert sum(counts.values()) == sim.n_fragments
    per_cell = {ct: counts[ct] / CELLS[ct] for ct in CELLS}
    mean = np.mean(list(per_cell.values()))
    assert all(abs(v / mean - 1) < 0.15 for v in per_cell.values()), per_cell
    tracks = pd.read_csv(sim.tracks, sep="\t").set_index("cell_type")
    assert tracks["n_fragments"].to_dict() == counts


def test_fragments_follow_accessibility(world_dir, sim):
    """Fragment midpoints fall in kupffer-only enhancers far more for kupffer cells."""
    elements = pd.read_csv(sim.out_dir / "elements.tsv", sep="\t")
    myeloid = elements[elements["program"] == "myeloid"]
    barcodes = pd.read_csv(sim.out_dir / "barcodes.tsv", sep="\t", header=None)
    owner = dict(zip(barcodes[0], barcodes[1], strict=True))
    hits = dict.fromkeys(CELLS, 0)
    with pysam.TabixFile(str(sim.out_dir / "fragments.tsv.gz")) as tbx:
        for el in myeloid.itertuples():
            for row in tbx.fetch(el.chrom, el.start, el.end, parser=pysam.asTuple()):
                hits[owner[row[3]]] += 1
    assert hits["kupffer"] / CELLS["kupffer"] > 3 * hits["hepatocyte"] / CELLS["hepatocyte"]


def test_manifest_and_tables(sim):
    manifest = json.loads((sim.out_dir / "celltypes.json").read_text())
    assert manifest["tf_table"]["kupffer"] == sorted(CELL_TYPES["kupffer"])
    assert manifest["proportions"] == {"hepatocyte": 0.6, "kupffer": 0.1, "endothelial": 0.3}
    assert "SPI1" not in manifest["tf_table"]["hepatocyte"]
    for name, md5 in manifest["files"].items():
        assert (sim.out_dir / name).is_file(), name
        assert len(md5) == 32
    sizes = (sim.out_dir / "chrom.sizes").read_text().split()
    assert sizes[0] == "chr1"
    bed = pd.read_csv(sim.out_dir / "regions.bed", sep="\t", header=None)
    assert len(bed) == sim.n_regions > 0 and bed.shape[1] == 6
    assert set(manifest["specific_elements"]) >= set(
        pd.read_csv(sim.out_dir / "elements.tsv", sep="\t").query("program == 'myeloid'")[
            "element_id"
        ]
    )


def test_grammar_gating_and_table_resolution():
    g = cell_type_grammar(CELL_TYPES["endothelial"])
    assert "HNF4A" not in g.activator_log2 and "SPI1" not in g.activator_log2
    assert g.activator_log2["SP1"] == 0.8

    class _El:
        kind, program = "enhancer", "hepatocyte"

    assert element_is_open(_El(), CELL_TYPES["hepatocyte"])
    assert not element_is_open(_El(), CELL_TYPES["kupffer"])
    table = resolve_cell_types({"a": ["ap1", "SP1"], "b": ["SPI1"]})
    assert table == {"a": frozenset({"AP1", "SP1"}), "b": frozenset({"SPI1"})}
    with pytest.raises(InputError, match="unknown cell type"):
        resolve_cell_types(["hepatocyte", "neuron"])
    with pytest.raises(InputError, match="unknown factors"):
        resolve_cell_types({"a": ["AP1"], "b": ["FOXA9"]})
    with pytest.raises(InputError, match="at least 2"):
        resolve_cell_types(["hepatocyte"])


def test_bad_inputs_raise_before_work(world_dir, tmp_path):
    folder, world = world_dir
    with pytest.raises(InputError, match="does not exist"):
        simulate_celltypes(world_dir=tmp_path / "none", out=tmp_path / "o")
    with pytest.raises(InputError, match="proportions name"):
        simulate_celltypes(
            world_dir=folder, out=tmp_path / "o", world=world, proportions={"hepatocyte": 1}
        )
    (tmp_path / "exists").mkdir()
    with pytest.raises(InputError, match="already exists"):
        simulate_celltypes(world_dir=folder, out=tmp_path / "exists", world=world)
    with pytest.raises(InputError, match="--fragments-per-cell"):
        simulate_celltypes(world_dir=folder, out=tmp_path / "o", world=world, fragments_per_cell=1)
    assert not (tmp_path / "o").exists()
