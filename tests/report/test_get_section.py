"""The locus report's GET section: a gene's top GET enhancers beside its ABC links."""

from __future__ import annotations

import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.report.get_enhancers import get_enhancer_section, read_get_enhancers
from varinterp.report.inputs import read_abc
from varinterp.report.locus import locus_report


def test_section_lists_top_get_enhancers_with_their_abc_scores(sim_locus, tmp_path):
    ev = sim_locus.evidence
    abc = read_abc(ev["abc_dir"])
    fm = pd.read_csv(sim_locus.finemap / "variants.tsv", sep="\t")
    lo, hi = int(fm["pos"].min()) - 1, int(fm["pos"].max())
    inside = abc[~abc["self_promoter"] & (abc["start"] < hi) & (abc["end"] > lo)]
    link = inside.sort_values("score", ascending=False).iloc[0]
    rows = [
        {
            "gene": link["gene"],
            "cell_type": "ct",
            "chrom": link["chrom"],
            "start": int(link["start"]),
            "end": int(link["end"]),
            "distance": 1000,
            "jacobian": 2.0,
            "accessibility": 1.0,
            "score": 2.0,
            "score_norm": 1.0,
            "rank": 1,
        },
        {
            "gene": link["gene"],
            "cell_type": "ct",
            "chrom": link["chrom"],
            "start": 10,
            "end": 20,
            "distance": 5,
            "jacobian": 1.0,
            "accessibility": 1.0,
            "score": 1.0,
            "score_norm": 0.5,
            "rank": 2,
        },
    ]
    path = tmp_path / "get.tsv"
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    res = locus_report(
        finemap_dir=sim_locus.finemap,
        out=tmp_path / "r.html",
        abc=ev["abc_dir"],
        get_enhancers=path,
    )
    text = res.html.read_text()
    assert 'id="get-enhancer-table"' in text and str(link["gene"]) in text
    table = read_get_enhancers(path)
    sec = get_enhancer_section(
        table, chrom=str(link["chrom"]), lo=int(link["start"]), hi=int(link["end"]), abc=abc, top=1
    )
    html_text = "".join(sec.parts)
    assert f"{float(link['score']):.3g}"[:4] in html_text
    missing = get_enhancer_section(None, chrom="chr1", lo=0, hi=1)
    assert "not provided" in "".join(missing.parts)


def test_bad_table(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("gene\tscore\nA\t1\n")
    with pytest.raises(InputError, match="lacks"):
        read_get_enhancers(path)
