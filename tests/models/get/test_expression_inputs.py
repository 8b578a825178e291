"""Expression inputs: TPM and counts tables, a 10x matrix pseudobulked, TSS from BED and GTF."""

from __future__ import annotations

import gzip

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csc_matrix

from varinterp.errors import InputError
from varinterp.models.get.expression import pseudobulk_10x, read_expression, read_tss


def test_tables(tmp_path):
    p = tmp_path / "e.tsv"
    p.write_text("gene\tA\tB\ng1\t9\t0\ng2\t1\t4\n")
    tpm = read_expression(p)
    np.testing.assert_allclose(tpm.loc["g1", "A"], 1.0)
    counts = read_expression(p, units="counts")
    np.testing.assert_allclose(counts.loc["g2", "B"], np.log10(1e6 + 1))
    p.write_text("gene\tA\ng1\t-1\n")
    with pytest.raises(InputError, match="negative"):
        read_expression(p)


def test_10x_pseudobulk_against_dense_sums(tmp_path):
    rng = np.random.default_rng(0)
    dense = rng.poisson(1.0, (5, 6))  # genes x cells
    mat = csc_matrix(dense)
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        g = f.create_group("matrix")
        g["data"], g["indices"], g["indptr"] = mat.data, mat.indices, mat.indptr
        g["shape"] = np.array(dense.shape)
        g["barcodes"] = np.array([f"c{i}".encode() for i in range(6)])
        feats = g.create_group("features")
        feats["name"] = np.array([b"g1", b"g2", b"g3", b"g4", b"peak1"])
        feats["feature_type"] = np.array([b"Gene Expression"] * 4 + [b"Peaks"])
    barcodes = pd.DataFrame(
        {"barcode": ["c0", "c1", "c2", "c4"], "cell_type": ["A", "A", "B", "B"]}
    )
    out = pseudobulk_10x(path, barcodes)
    assert list(out.columns) == ["A", "B"] and list(out.index) == ["g1", "g2", "g3", "g4"]
    np.testing.assert_array_equal(out["A"], dense[:4, [0, 1]].sum(axis=1))
    np.testing.assert_array_equal(out["B"], dense[:4, [2, 4]].sum(axis=1))


def test_tss_from_bed_and_gtf(tmp_path):
    bed = tmp_path / "g.bed"
    bed.write_text("chr1\t100\t200\tA\t0\t+\nchr1\t300\t400\tB\t0\t-\n")
    t = read_tss(bed)
    assert t["tss"].tolist() == [100, 399]
    gtf = tmp_path / "g.gtf.gz"
    with gzip.open(gtf, "wt") as fh:
        fh.write('chr2\tsrc\tgene\t11\t50\t.\t-\t.\tgene_id "E1"; gene_name "X";\n')
        fh.write('chr2\tsrc\texon\t11\t20\t.\t-\t.\tgene_id "E1"; gene_name "X";\n')
    t = read_tss(gtf)
    assert t.to_dict("records") == [{"gene": "X", "chrom": "chr2", "tss": 49, "strand": "-"}]
