"""Reading summary statistics and LD, allele alignment, and their bad-input paths."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.finemap.align import align_to_panel
from varinterp.finemap.ld import MatrixLd, PlinkLd, check_ld, open_ld
from varinterp.finemap.sumstats import parse_region, read_sumstats


def _write(path, text):
    path.write_text(text)
    return path


def test_sumstats_aliases_beta_se_region_and_gzip(tmp_path):
    text = (
        "chromosome\tbase_pair_location\tother_allele\teffect_allele\tbeta\tstandard_error\n"
        "chr1\t100\ta\tg\t0.2\t0.1\nchr1\t200\tC\tT\t-0.3\t0.1\nchr2\t150\tA\tC\t0.1\t0.1\n"
    )
    f = tmp_path / "s.tsv.gz"
    with gzip.open(f, "wt") as fh:
        fh.write(text)
    ss = read_sumstats(f, region="1:1-150")
    assert ss["variant_id"].tolist() == ["chr1:100:A:G"]
    assert ss["z"].iloc[0] == pytest.approx(2.0)
    assert ss["pos0"].iloc[0] == 99
    assert ss["p"].iloc[0] == pytest.approx(0.0455002638963584)
    assert parse_region("chr1:46,000,001-49,000,001") == ("chr1", 46_000_000, 49_000_001)


def test_sumstats_missing_columns_message(tmp_path):
    f = _write(tmp_path / "s.tsv", "CHR\tBP\tA1\tbeta\n1\t10\tA\t0.1\n")
    with pytest.raises(InputError, match=r"lack column\(s\) ref, z \(or beta and se\)"):
        read_sumstats(f)
    f2 = _write(tmp_path / "s2.tsv", "CHR\tBP\tA1\tA2\tZ\n1\t10\tA\tG\t1.0\n1\t10\tA\tG\t2\n")
    with pytest.raises(InputError, match="more than once"):
        read_sumstats(f2)
    f3 = _write(tmp_path / "s3.tsv", "CHR\tBP\tA1\tA2\tZ\n1\t10\tA\tG\tNA\n")
    with pytest.raises(InputError, match="missing z"):
        read_sumstats(f3)
    f4 = _write(tmp_path / "s4.tsv", "CHR\tBP\tA1\tA2\tZ\n1\t10\tA\tG\tabc\n")
    with pytest.raises(InputError, match="non-numeric"):
        read_sumstats(f4)
    with pytest.raises(InputError, match="not in the summary"):
        read_sumstats(f4, columns={"z": "ZZ"})
    with pytest.raises(InputError, match="no summary statistics in region"):
        read_sumstats(f2.with_name("s.tsv"), columns={"ref": "beta", "z": "beta"}, region="2:1-5")


def _panel():
    return pd.DataFrame(
        {
            "chrom": ["1"] * 6,
            "pos": [10, 20, 30, 40, 50, 60],
            "ref": ["A", "C", "A", "A", "G", "A"],
            "alt": ["G", "T", "T", "G", "C", "C"],
            "variant_id": [f"v{i}" for i in range(6)],
        }
    )


def _ss(rows):
    df = pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "z"])
    df["variant_id"] = [f"s{i}" for i in range(len(df))]
    df["beta"] = df["z"] / 10
    return df


def test_alignment_flips_swapped_and_strand_flipped_alleles():
    ss = _ss(
        [
            ("chr1", 10, "A", "G", 2.0),  # same
            ("chr1", 20, "T", "C", 3.0),  # swapped: flip
            ("chr1", 40, "T", "C", 1.5),  # other strand, same order
            ("chr1", 40, "C", "T", 9.0),  # duplicate position, other strand swapped
            ("chr1", 70, "A", "G", 1.0),  # absent
            ("chr1", 10, "A", "C", 1.0),  # alleles do not match
        ]
    ).drop(index=3)
    al = align_to_panel(ss, _panel())
    assert al.panel_index.tolist() == [0, 1, 3]
    assert al.kept["z"].tolist() == [2.0, -3.0, 1.5]
    assert al.kept["beta"].tolist() == pytest.approx([0.2, -0.3, 0.15])
    assert al.kept["ld_flipped"].tolist() == [False, True, False]
    assert al.dropped["reason"].tolist() == ["absent_from_ld_panel", "allele_mismatch"]
    with pytest.raises(InputError, match=r"2 variant\(s\) could not be matched.*absent"):
        align_to_panel(ss, _panel(), unmatched="error")


def test_alignment_refuses_ambiguous_swaps():
    ss = _ss([("1", 30, "T", "A", 2.0), ("1", 30, "A", "T", 1.0)])
    with pytest.raises(InputError, match="strand-ambiguous"):
        align_to_panel(ss.iloc[:1], _panel())
    al = align_to_panel(ss, _panel(), ambiguous="drop")
    assert al.kept["z"].tolist() == [1.0]  # A/T as in the panel is fine
    assert al.dropped["reason"].tolist() == ["strand_ambiguous"]


def test_plink_ld_is_correlation_of_alt_dosage(tmp_path):
    from bed_reader import to_bed

    rng = np.random.default_rng(0)
    g = rng.integers(0, 3, size=(50, 5)).astype(np.float32)
    g[3, 2] = np.nan
    to_bed(tmp_path / "p.bed", g, properties={"allele_1": list("AAAAA"), "allele_2": list("GGGGG")})
    ld = PlinkLd(tmp_path / "p")
    assert ld.variants["alt"].tolist() == ["A"] * 5
    idx = np.array([4, 0, 2])
    R, poly = ld.matrix(idx)
    x = g[:, idx].astype(float)
    x[3, 2] = np.nanmean(x[:, 2])
    np.testing.assert_allclose(R, np.corrcoef(x, rowvar=False), atol=1e-12)
    assert poly.all()
    g[:, 1] = 1
    to_bed(tmp_path / "q.bed", g)
    _, poly = PlinkLd(tmp_path / "q").matrix(np.arange(5))
    assert poly.tolist() == [True, False, True, True, True]
    with pytest.raises(InputError, match="does not exist"):
        PlinkLd(tmp_path / "missing")


def test_matrix_ld_files_and_checks(tmp_path):
    vt = _write(tmp_path / "v.tsv", "chrom pos ref alt\n1 10 A G\n1 20 C T\n")
    R = np.array([[1.0, 0.5], [0.5, 1.0]])
    np.save(tmp_path / "r.npy", R)
    np.savetxt(tmp_path / "r.txt", R)
    for f in ("r.npy", "r.txt"):
        ld = open_ld(matrix=tmp_path / f, variants=vt)
        np.testing.assert_array_equal(ld.matrix(np.array([1, 0]))[0], R[::-1, ::-1])
    np.savetxt(tmp_path / "r3.txt", np.eye(3))
    with pytest.raises(InputError, match="3 x 3 but its variants table"):
        MatrixLd(tmp_path / "r3.txt", vt)
    with pytest.raises(InputError, match="exactly one LD source"):
        open_ld()
    with pytest.raises(InputError, match="lacks column"):
        MatrixLd(tmp_path / "r.npy", _write(tmp_path / "w.tsv", "chrom pos\n1 10\n1 20\n"))


def test_check_ld_refuses_or_regularises_non_psd():
    bad = np.array([[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]])
    lam = np.linalg.eigvalsh(bad)[0]
    assert lam < 0
    with pytest.raises(InputError, match="not positive semi-definite"):
        check_ld(bad)
    fixed, chk = check_ld(bad, fix="regularise")
    assert chk.min_eigenvalue == pytest.approx(lam)
    assert np.linalg.eigvalsh(fixed)[0] >= -1e-9
    np.testing.assert_allclose(np.diag(fixed), 1.0)
    # the smallest shrinkage: a bit less would leave a negative eigenvalue
    s = chk.shrinkage * 0.99
    assert np.linalg.eigvalsh((1 - s) * bad + s * np.eye(3))[0] < 0
    _ok, chk = check_ld(np.eye(3))
    assert chk.shrinkage == 0
    with pytest.raises(InputError, match="symmetric"):
        check_ld(np.array([[1.0, 0.2], [0.3, 1.0]]))
    with pytest.raises(InputError, match="diagonal"):
        check_ld(np.array([[2.0, 0.2], [0.2, 1.0]]))
    with pytest.raises(InputError, match="NaN"):
        check_ld(np.array([[1.0, np.nan], [np.nan, 1.0]]))
