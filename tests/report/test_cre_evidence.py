"""Per-cell-type cREscENDO evidence in the locus report."""

from __future__ import annotations

import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.report.cre_evidence import cre_candidates, cre_section, read_cre_evidence
from varinterp.report.locus import locus_report


def _evidence(tmp_path, chrom: str, pos0: int):
    peak = f"{chrom}:{pos0 - 100}-{pos0 + 100}"
    rows = []
    for ct, act, spec in (("hep", 0.4, True), ("kup", 0.01, False)):
        rows.append(("G1", peak, ct, "active", act, 0.0, 1e-9, 1e-8, spec))
        rows.append(("G2", peak, ct, "none", 0.0, 0.0, 1.0, 1.0, False))
        rows.append(("G3", "chrX:1-50", ct, "cre", 0.2, 0.0, 1e-9, 1e-8, True))
    t = pd.DataFrame(
        rows,
        columns=[
            "gene",
            "peak",
            "cell_type",
            "label",
            "mean_activity",
            "mean_activity_rest",
            "pvalue",
            "qvalue",
            "specific",
        ],
    )
    (tmp_path / "act").mkdir()
    t.to_csv(tmp_path / "act" / "celltypes.tsv", sep="\t", index=False)
    return tmp_path / "act"


def test_candidates_in_cre_peaks(tmp_path):
    ev = read_cre_evidence(_evidence(tmp_path, "chr1", 1000))
    cands = pd.DataFrame({"variant_id": ["a", "b"], "chrom": ["1", "chr1"], "pos": [1001, 5000]})
    found = cre_candidates(cands, ev)
    assert found.values.tolist() == [["a", "G1", "chr1:900-1100", "active", "hep", 0.4, 0.01]]
    assert "cre-table" in "".join(cre_section(cands, ev, top=2).parts)
    assert "not provided" in "".join(cre_section(cands, None, top=2).parts)
    with pytest.raises(InputError, match="does not exist"):
        read_cre_evidence(tmp_path / "nothing")


def test_locus_report_gains_the_section(sim_locus, tmp_path):
    fm = pd.read_csv(sim_locus.finemap / "variants.tsv", sep="\t")
    top = fm.sort_values("pip", ascending=False).iloc[0]
    cres = _evidence(tmp_path, str(top["chrom"]), int(top["pos"]) - 1)
    rep = locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "r.html", cres=cres)
    html = (tmp_path / "r.html").read_text()
    assert rep.provided["cres"] is True
    assert "Single-cell cRE evidence" in html and top["variant_id"] in html
    assert "G1" in html
