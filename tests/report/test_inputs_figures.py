"""Input readers and figures on small hand-made files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.io.bigwig import write_bigwig
from varinterp.report import figures
from varinterp.report.inputs import read_abc, read_effects, read_elements, read_tracks_table

PNG = b"\x89PNG\r\n\x1a\n"


def test_tracks_table_and_figure(tmp_path) -> None:
    (tmp_path / "bw").mkdir()
    plus = np.zeros(5000)
    plus[2500:2510] = 7.0
    write_bigwig(tmp_path / "bw/a.pl.bw", chrom_sizes={"22": 5000}, tracks=[("22", 0, plus)])
    write_bigwig(tmp_path / "bw/a.mn.bw", chrom_sizes={"22": 5000}, tracks=[("22", 0, -plus)])
    table = tmp_path / "tracks.tsv"
    table.write_text(
        "cell_type\tplus_bigwig\tminus_bigwig\tcolor\n"
        "A\tbw/a.pl.bw\tbw/a.mn.bw\t#ff0000\nB\tbw/a.pl.bw\t\t\n"
    )
    specs = read_tracks_table(table)
    assert [s.cell_type for s in specs] == ["A", "B"]
    assert specs[0].plus == tmp_path / "bw/a.pl.bw" and specs[1].minus is None
    assert specs[0].color == "#ff0000" and specs[1].color is None
    # "chr22" is found in a file that says "22"
    png = figures.tracks_figure(specs, chrom="chr22", pos0=2505, flank=200, label="x")
    assert png.startswith(PNG)
    bad = tmp_path / "bad.tsv"
    bad.write_text("cell\tplus\nA\tx\n")
    with pytest.raises(InputError, match=r"lacks column\(s\) cell_type .*docs/tracks.md"):
        read_tracks_table(bad)


def test_cell_type_colours() -> None:
    c = figures.cell_type_colours(["b", "a"], ["a", "c"])
    assert list(c) == ["b", "a", "c"] and len(set(c.values())) == 3


def test_abc_tsv_and_bedpe(tmp_path) -> None:
    tsv = tmp_path / "Kupffer.abc.tsv"
    pd.DataFrame(
        {"chr": ["chr22"], "start": [100], "end": [600], "name": ["x"], "class": ["intergenic"],
         "TargetGene": ["PDGFB"], "TargetGeneTSS": [5000], "isSelfPromoter": [False],
         "ABC.Score": [0.05], "CellType": ["Kupffer"]}
    ).to_csv(tsv, sep="\t", index=False)  # fmt: skip
    a = read_abc(tmp_path)
    assert a.iloc[0][["gene", "tss", "cell_type"]].tolist() == ["PDGFB", 5000, "Kupffer"]
    tsv.unlink()
    (tmp_path / "Kupffer.abc.bedpe").write_text(
        "chr22\t100\t600\tchr22\t5000\t5001\tPDGFB|chr22:100-600\t0.05\t.\t.\n"
    )
    b = read_abc(tmp_path)
    assert b.iloc[0][["start", "end", "gene", "tss", "cell_type"]].tolist() == [
        100, 600, "PDGFB", 5000, "Kupffer"
    ]  # fmt: skip
    png = figures.abc_figure(b, chrom="chr22", lo=0, hi=6000)
    assert png.startswith(PNG)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no"):
        read_abc(tmp_path / "empty")


def test_elements_and_effects(tmp_path) -> None:
    el = tmp_path / "elements.tsv"
    pd.DataFrame(
        {"chrom": ["chr1"] * 3, "start": [0, 0, 50], "end": [10, 10, 60], "name": ["r1"] * 3,
         "cell_type": ["A", "B", "A"], "specific": [True, False, True]}
    ).to_csv(el, sep="\t", index=False)  # fmt: skip
    t = read_elements(tmp_path)  # the folder of elements call
    assert t.values.tolist() == [["chr1", 0, 10, "A"], ["chr1", 50, 60, "A"]]
    eff = tmp_path / "effects.tsv"
    pd.DataFrame(
        {"chrom": ["chr1", "chr1"], "pos": [5, 5], "ref": ["A", "A"], "alt": ["G", "G"],
         "scorer": ["m1", "m2"], "log2fc": [0.2, -0.9], "profile_l2": [1.0, 2.0]}
    ).to_csv(eff, sep="\t", index=False)  # fmt: skip
    e = read_effects(eff)
    assert len(e) == 1 and e["log2fc"].iloc[0] == -0.9  # the larger |log2fc| of the scorers
    eff.write_text("chrom\tpos\n1\t2\n")
    with pytest.raises(InputError, match="lacks"):
        read_effects(eff)


def test_gene_labels_are_packed_into_rows_without_overlap():
    from varinterp.report.figures import _GENE_ROWS, _gene_rows

    span = 170_000
    starts = np.arange(0, 150_000, 2_500)  # 60 genes, 2.5 kb apart: too dense for one row
    genes = pd.DataFrame(
        {"start": starts, "end": starts + 600, "name": [f"prom{i:04d}" for i in starts]}
    )
    rows = _gene_rows(genes, span)
    assert {r for r, _ in rows} <= set(range(_GENE_ROWS))
    labelled = [(g, r) for g, (r, ok) in zip(genes.itertuples(), rows, strict=True) if ok]
    assert len(labelled) < len(genes)  # some labels had to go
    half = (8 * 0.008 + 0.015) * span / 2  # 8-character names
    for row in range(_GENE_ROWS):
        mids = [(g.start + g.end) / 2 for g, r in labelled if r == row]
        assert np.all(np.diff(mids) > 2 * half)  # neighbouring labels in a row do not touch
    # two far-apart genes share the first row, both labelled
    sparse = genes.iloc[[0, 40]].reset_index(drop=True)
    assert _gene_rows(sparse, span) == [(0, True), (0, True)]
