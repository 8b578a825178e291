"""10x feature-barcode matrices (h5 and MatrixMarket), TSS tables and the h5ad writer."""

from __future__ import annotations

import gzip

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from varinterp.errors import InputError
from varinterp.io.h5ad import export_h5ad, write_h5ad
from varinterp.io.tenx import (
    FeatureMatrix,
    parse_intervals,
    peak_table,
    read_10x_h5,
    read_10x_mtx,
    read_multiome,
    write_10x_h5,
)
from varinterp.io.tss import read_tss


def _matrix(rng: np.random.Generator, n_genes=4, n_peaks=3, n_cells=5) -> FeatureMatrix:
    counts = sp.random(n_genes + n_peaks, n_cells, density=0.5, random_state=1, format="csc")
    counts.data = rng.integers(1, 9, counts.nnz).astype(np.float64)
    feats = pd.DataFrame(
        {
            "id": [f"ENSG{i}" for i in range(n_genes)]
            + [f"chr1:{100 * i}-{100 * i + 50}" for i in range(n_peaks)],
            "name": [f"G{i}" for i in range(n_genes)]
            + [f"chr1:{100 * i}-{100 * i + 50}" for i in range(n_peaks)],
            "feature_type": ["Gene Expression"] * n_genes + ["Peaks"] * n_peaks,
            "interval": [f"chr1:{i}-{i + 1}" for i in range(n_genes)]
            + [f"chr1:{100 * i}-{100 * i + 50}" for i in range(n_peaks)],
        }
    )
    return FeatureMatrix(
        sp.csc_matrix(counts.astype(np.int32)),
        np.array([f"AAAC{i}-1" for i in range(n_cells)]),
        feats,
    )


def test_h5_round_trip_keeps_counts_features_and_barcodes(tmp_path):
    m = _matrix(np.random.default_rng(0))
    path = write_10x_h5(tmp_path / "m.h5", m)
    back = read_10x_h5(path)
    assert (back.counts != m.counts).nnz == 0
    assert back.barcodes.tolist() == m.barcodes.tolist()
    pd.testing.assert_frame_equal(back.features, m.features)
    with h5py.File(path) as f:  # the layout Cell Ranger writes, read without our code
        g = f["matrix"]
        dense = np.zeros(tuple(g["shape"][()]), dtype=np.int64)
        indptr, indices, data = g["indptr"][()], g["indices"][()], g["data"][()]
        for col in range(dense.shape[1]):
            for k in range(indptr[col], indptr[col + 1]):
                dense[indices[k], col] = data[k]
    assert np.array_equal(dense, m.counts.toarray())
    assert back.feature_types() == {"Gene Expression": 4, "Peaks": 3}
    assert peak_table(back)[["chrom", "start", "end"]].values.tolist() == [
        ["chr1", 0, 50],
        ["chr1", 100, 150],
        ["chr1", 200, 250],
    ]


def test_matrix_market_folders_and_the_pair_join(tmp_path):
    m = _matrix(np.random.default_rng(1))
    rna, atac = m.of_type("Gene Expression"), m.of_type("Peaks")
    (tmp_path / "rna").mkdir()
    (tmp_path / "atac").mkdir()
    scipy.io.mmwrite(str(tmp_path / "rna" / "matrix.mtx"), rna.counts)
    with gzip.open(tmp_path / "rna" / "features.tsv.gz", "wt") as fh:
        for r in rna.features.itertuples():
            fh.write(f"{r.id}\t{r.name}\tGene Expression\n")
    (tmp_path / "rna" / "barcodes.tsv").write_text("\n".join(m.barcodes) + "\n")
    # the ATAC folder lists its cells in another order, and one more
    order = [4, 2, 0, 1, 3]
    extra = sp.csc_matrix(np.ones((atac.n_features, 1), dtype=np.int32))
    scipy.io.mmwrite(
        str(tmp_path / "atac" / "matrix.mtx"), sp.hstack([atac.counts[:, order], extra])
    )
    (tmp_path / "atac" / "peaks.bed").write_text(
        "".join(f"chr1\t{100 * i}\t{100 * i + 50}\n" for i in range(3))
    )
    (tmp_path / "atac" / "barcodes.tsv").write_text(
        "\n".join([*m.barcodes[order], "TTTT-1"]) + "\n"
    )
    both = read_multiome(tmp_path / "rna", atac=tmp_path / "atac")
    assert both.barcodes.tolist() == m.barcodes.tolist()
    assert np.array_equal(both.counts.toarray(), m.counts.toarray())
    assert read_10x_mtx(tmp_path / "atac").feature_types() == {"Peaks": 3}
    (tmp_path / "atac" / "barcodes.tsv").write_text("\n".join(["X-1"] * 6) + "\n")
    with pytest.raises(InputError, match="not in"):
        read_multiome(tmp_path / "rna", atac=tmp_path / "atac")


def test_bad_files_are_named(tmp_path):
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(InputError, match="not an HDF5"):
        read_10x_h5(tmp_path / "x.h5")
    with h5py.File(tmp_path / "y.h5", "w") as f:
        f.create_group("X")
    with pytest.raises(InputError, match="no /matrix group"):
        read_10x_h5(tmp_path / "y.h5")
    m = _matrix(np.random.default_rng(2)).of_type("Gene Expression")
    with pytest.raises(InputError, match="no ATAC features"):
        peak_table(m)
    with pytest.raises(InputError, match="not chrom:start-end"):
        parse_intervals(["chr1:5-2"])
    assert parse_intervals(["chr2-10-20"]).values.tolist() == [["chr2", 10, 20]]


def test_tss_from_gtf_and_bed(tmp_path):
    gtf = tmp_path / "a.gtf"
    gtf.write_text(
        'chr1\tx\tgene\t101\t200\t.\t+\t.\tgene_id "E1"; gene_name "A";\n'
        'chr1\tx\tgene\t301\t400\t.\t-\t.\tgene_id "E2"; gene_name "B";\n'
        'chr1\tx\ttranscript\t101\t150\t.\t+\t.\tgene_id "E1"; gene_name "A";\n'
    )
    t = read_tss(gtf)
    assert t[["gene", "chrom", "tss", "strand"]].values.tolist() == [
        ["A", "chr1", 100, "+"],
        ["B", "chr1", 399, "-"],
    ]
    bed = tmp_path / "t.bed"
    bed.write_text("chr1\t1000\t2000\tA\t0\t+\nchr1\t5000\t6000\tB\t0\t-\nchr1\t10\t20\tA\t0\t+\n")
    assert read_tss(bed)["tss"].tolist() == [1000, 5999]
    assert read_tss(bed, position="center")["tss"].tolist() == [1500, 5500]
    with pytest.raises(InputError, match="position"):
        read_tss(bed, position="middle")


def test_h5ad_follows_the_anndata_layout(tmp_path):
    X = sp.csr_matrix(np.array([[0, 1, 2], [3, 0, 0]], dtype=np.float32))
    path = write_h5ad(
        tmp_path / "a.h5ad",
        X=X,
        obs_names=["c1", "c2"],
        var_names=["g", "h", "p"],
        obs={"cell_type": pd.Categorical(["T", "B"])},
        var={"n": np.array([1, 2, 3])},
    )
    with h5py.File(path) as f:
        assert f.attrs["encoding-type"] == "anndata"
        assert f["X"].attrs["encoding-type"] == "csr_matrix"
        assert tuple(f["X"].attrs["shape"]) == (2, 3)
        x = sp.csr_matrix((f["X/data"][()], f["X/indices"][()], f["X/indptr"][()]), shape=(2, 3))
        assert np.array_equal(x.toarray(), X.toarray())
        assert [v.decode() for v in f["obs/_index"][()]] == ["c1", "c2"]
        cat = f["obs/cell_type"]
        assert cat.attrs["encoding-type"] == "categorical"
        cats = [v.decode() for v in cat["categories"][()]]
        assert [cats[i] for i in cat["codes"][()]] == ["T", "B"]
        assert list(f["var"].attrs["column-order"]) == ["n"]
    m = _matrix(np.random.default_rng(3))
    h5 = write_10x_h5(tmp_path / "m.h5", m)
    out = export_h5ad(matrix=h5, out=tmp_path / "m.h5ad")
    with h5py.File(out) as f:
        assert tuple(f["X"].attrs["shape"]) == (m.n_barcodes, m.n_features)
    with pytest.raises(InputError, match="already exists"):
        export_h5ad(matrix=h5, out=out)
