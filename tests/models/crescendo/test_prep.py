"""Preparing a multiome run: the paper's filters and normalisation against a direct numpy
computation, the splits, and every bad input as one clear `InputError`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tests.models.crescendo.conftest import simulate_tiny
from varinterp.errors import InputError
from varinterp.io.tenx import read_10x_h5, write_10x_h5
from varinterp.models.crescendo.data import PreparedData, peak_windows
from varinterp.models.crescendo.prep import PrepSettings, prepare_multiome


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return simulate_tiny(tmp_path_factory.mktemp("prepworld") / "w", seed=2)


def _prep(world, out, **kw):
    cell_types = kw.pop("cell_types", world.cell_types)
    fields = {"min_genes": 1, "n_pcs": 5, **kw.pop("settings", {})}
    return prepare_multiome(
        matrix=kw.pop("matrix", world.h5),
        fasta=kw.pop("fasta", world.fasta),
        tss=kw.pop("tss", world.tss_bed),
        out=out,
        cell_types=cell_types,
        settings=PrepSettings(**fields),
        **kw,
    )


def test_filters_and_normalisation_equal_numpy(world, tmp_path):
    m = read_10x_h5(world.h5)
    # make some genes rare and some cells poor, so that the filters have work
    counts = m.counts.toarray()
    n_genes = int((m.features["feature_type"] == "Gene Expression").sum())
    counts[0, 5:] = 0  # gene 0 in 5 of 160 cells (< 5%)
    counts[:n_genes, :3] = 0
    counts[1, :3] = 1  # cells 0-2 have one gene
    m.counts = sp.csc_matrix(counts)
    h5 = write_10x_h5(tmp_path / "m.h5", m)
    _prep(world, tmp_path / "p", matrix=h5, settings={"min_genes": 2})
    d = PreparedData.open(tmp_path / "p")
    rna = counts[:n_genes]
    m_cells = int(counts.shape[1] * 0.05)
    keep_gene = (rna > 0).sum(1) >= m_cells
    keep_cell = (rna[keep_gene] > 0).sum(0) >= 2
    assert d.n_cells == keep_cell.sum() == counts.shape[1] - 3
    assert "GENE0001" not in set(d.genes["gene"])
    names = m.features["name"].to_numpy()[:n_genes]
    g = [int(np.flatnonzero(names == x)[0]) for x in d.genes["gene"]]
    x = rna[keep_gene][:, keep_cell].astype(float)
    x = np.log1p(x / x.sum(0) * 1e4)
    sub = x[[list(np.flatnonzero(keep_gene)).index(i) for i in g]]
    z = ((sub.T - sub.mean(1)) / sub.std(1, ddof=1)).astype(np.float32)
    assert np.allclose(d.rna_z, z, atol=1e-5)
    assert np.allclose(d.log1p_mean, sub.mean(1))
    # peaks: binarised counts of the kept cells, sorted by position
    peaks = counts[n_genes:]
    ids = m.features["id"].to_numpy()[n_genes:]
    order = [
        int(np.flatnonzero(ids == f"{c}:{s}-{e}")[0])
        for c, s, e in d.peaks[["chrom", "start", "end"]].itertuples(index=False)
    ]
    assert np.array_equal(d.atac.toarray(), peaks[order][:, keep_cell] > 0)
    assert (np.diff(d.peaks["start"]) > 0).all()
    # PCA: coordinates = z-scores x loadings, loadings orthonormal
    assert np.allclose(d.pca_coords, d.rna_z @ d.pca_loadings, atol=1e-4)
    assert np.allclose(d.pca_loadings.T @ d.pca_loadings, np.eye(5), atol=1e-4)


def test_sequences_are_the_fasta_around_each_peak_centre(world, tmp_path):
    from varinterp.io.fasta import Reference

    _prep(world, tmp_path / "p")
    d = PreparedData.open(tmp_path / "p")
    ref = Reference(world.fasta)
    for i in (0, 7, d.n_peaks - 1):
        c, s, e = d.peaks.iloc[i]
        mid = (s + e) // 2
        assert np.array_equal(d.seq[i], ref.codes(c, mid - 750, mid + 750))
    x = peak_windows(d.seq[:2])
    assert x.shape == (2, 4, 1344) and np.allclose(x.sum(1), 1)
    rc = peak_windows(d.seq[:2], reverse=np.array([True, False]))
    assert np.array_equal(rc[0], x[0][::-1, ::-1]) and np.array_equal(rc[1], x[1])


def test_cell_splits_paper_and_code(world, tmp_path):
    _prep(world, tmp_path / "a", settings={"cell_split": "paper", "seed": 1})
    _prep(world, tmp_path / "b", settings={"cell_split": "code"})
    a, b = PreparedData.open(tmp_path / "a"), PreparedData.open(tmp_path / "b")
    assert a.train_cells.sum() == int(a.n_cells * 0.8)
    assert not np.array_equal(a.train_cells, np.arange(a.n_cells) < a.train_cells.sum())
    assert np.array_equal(b.train_cells, np.arange(b.n_cells) < int(b.n_cells * 0.9))
    # the held-out block: its peaks are not training peaks; a gene touching it is a test gene
    block = np.flatnonzero(~a.train_peaks)
    assert block.size and (np.diff(block) == 1).all()
    for g in range(a.n_genes):
        touches = np.isin(a.tokens_of(g), block).any()
        assert a.train_genes[g] == (not touches)


def test_downsampling_keeps_a_seeded_subset(world, tmp_path):
    r = _prep(world, tmp_path / "a", settings={"max_cells": 40})
    assert r.n_cells == 40 and r.dropped["cells_downsampled"] == 120
    doc = json.loads((tmp_path / "a" / "prep.json").read_text())
    assert doc["n_cells"] == 40 and set(doc["dropped_genes"]) == {"no_promoter", "no_candidate"}


def test_bad_inputs_are_one_line_input_errors(world, tmp_path):
    m = read_10x_h5(world.h5)
    rna_only = write_10x_h5(tmp_path / "rna.h5", m.of_type("Gene Expression"))
    with pytest.raises(InputError, match="no ATAC features"):
        _prep(world, tmp_path / "x1", matrix=rna_only)
    (tmp_path / "junk.h5").write_text("hello")
    with pytest.raises(InputError, match="not an HDF5"):
        _prep(world, tmp_path / "x2", matrix=tmp_path / "junk.h5")
    # barcodes absent from the cell-type table
    types = pd.read_csv(world.cell_types, sep="\t").iloc[10:]
    types.to_csv(tmp_path / "types.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="absent from the cell-type table"):
        _prep(world, tmp_path / "x3", cell_types=tmp_path / "types.tsv")
    r = _prep(
        world,
        tmp_path / "x3b",
        cell_types=tmp_path / "types.tsv",
        settings={"untyped_cells": "drop"},
    )
    assert r.dropped["cells_untyped"] == 10
    # a TSS table missing genes
    tss = pd.read_csv(world.tss_bed, sep="\t", header=None)
    tss.iloc[2:].to_csv(tmp_path / "short.bed", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match="have no TSS"):
        _prep(world, tmp_path / "x4", tss=tmp_path / "short.bed")
    # a TSS table on another build: contig names, or positions past the contig ends
    other = tss.copy()
    other[0] = "chr7"
    other.to_csv(tmp_path / "other.bed", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match="another genome build"):
        _prep(world, tmp_path / "x5", tss=tmp_path / "other.bed")
    far = tss.copy()
    far[1] += 10_000_000
    far[2] += 10_000_000
    far.to_csv(tmp_path / "far.bed", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match="past the end"):
        _prep(world, tmp_path / "x6", tss=tmp_path / "far.bed")
    # genes with no peak within the window: TSSs moved into an empty stretch
    empty = tss.copy()
    empty[1] = 5
    empty[2] = 6
    empty.to_csv(tmp_path / "empty.bed", sep="\t", header=False, index=False)
    with pytest.raises(InputError, match="no gene has a peak within 500 bp"):
        _prep(world, tmp_path / "x7", tss=tmp_path / "empty.bed")
    for name in ("x1", "x2", "x3", "x4", "x5", "x6", "x7"):
        assert not (tmp_path / name).exists()  # nothing half-written
    with pytest.raises(InputError, match="cell_split"):
        PrepSettings(cell_split="random")


def _donor_store(world, tmp_path, peaks) -> tuple[Path, list[tuple[str, int, str]]]:
    """A one-donor store over the world's genome with a homozygous and a heterozygous SNV
    at the centre of the first peaks; returns the store and the homozygous changes."""
    import subprocess

    from varinterp.genome.build import build_store
    from varinterp.io.fasta import Reference

    ref = Reference(world.fasta)
    records, hom = [], []
    for k, (c, s, e) in enumerate(peaks[:6]):
        pos0 = (s + e) // 2
        base = ref.base(c, pos0)
        alt = "A" if base != "A" else "C"
        gt = "1|1" if k % 2 == 0 else "0|1"
        records.append(f"{c}\t{pos0 + 1}\t.\t{base}\t{alt}\t.\tPASS\t.\tGT\t{gt}")
        if gt == "1|1":
            hom.append((c, pos0, alt))
    header = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c},length={n}>" for c, n in ref.lengths.items()),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tdonor",
    ]
    order = {c: i for i, c in enumerate(ref.names)}
    records.sort(key=lambda r: (order[r.split("\t")[0]], int(r.split("\t")[1])))
    vcf = tmp_path / "donor.vcf"
    vcf.write_text("\n".join(header + records) + "\n")
    subprocess.run(["bgzip", "-f", str(vcf)], check=True)
    store = tmp_path / "donor.vgs"
    build_store(vcf=f"{vcf}.gz", fasta=world.fasta, out=store)
    return store, hom


def test_a_genome_store_gives_the_reference_or_the_donors_sequence(world, tmp_path):
    import h5py

    _prep(world, tmp_path / "fa")
    with h5py.File(tmp_path / "fa" / "prep.h5") as f:
        chroms = [c.decode() if isinstance(c, bytes) else c for c in f["peaks/chrom"][:]]
        starts, ends = f["peaks/start"][:], f["peaks/end"][:]
        seq_fasta = f["peaks/seq"][:]
    peaks = list(zip(chroms, starts.tolist(), ends.tolist(), strict=True))
    store, hom = _donor_store(world, tmp_path, peaks)

    _prep(world, tmp_path / "ref", fasta=None, store=store)
    _prep(world, tmp_path / "donor", fasta=None, store=store, sample="donor")
    with h5py.File(tmp_path / "ref" / "prep.h5") as f:
        np.testing.assert_array_equal(f["peaks/seq"][:], seq_fasta)
    with h5py.File(tmp_path / "donor" / "prep.h5") as f:
        donor = f["peaks/seq"][:]
    changed = np.argwhere(donor != seq_fasta)
    window = seq_fasta.shape[1]
    expected = set()
    for c, pos0, alt in hom:  # homozygous SNVs applied; heterozygous ones are not
        for i, (pc, s, e) in enumerate(peaks):
            offset = pos0 - ((s + e) // 2 - window // 2)
            if pc == c and 0 <= offset < window:
                expected.add((i, offset))
                assert donor[i, offset] == "ACGT".index(alt)
    assert {tuple(x) for x in changed.tolist()} == expected
    assert expected


def test_store_and_fasta_are_one_or_the_other(world, tmp_path):
    with pytest.raises(InputError, match="one of the two"):
        _prep(world, tmp_path / "x", fasta=None)
    with pytest.raises(InputError, match="--sample needs --store"):
        _prep(world, tmp_path / "y", sample="donor")
