"""The locus report's per-cell-type effects section (a multi-task model's scores)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from varinterp.errors import InputError
from varinterp.report.celltype_effects import read_celltype_effects
from varinterp.report.locus import locus_report

TASKS = ("MF", "Mono", "B.Fo", "T4")


def _effects(sim_locus, path, *, swap_first=False):
    cands = pd.read_csv(sim_locus.finemap / "variants.tsv", sep="\t").sort_values(
        "pip", ascending=False
    )
    rows = []
    for k, v in enumerate(cands.head(4).itertuples()):
        ref, alt = (v.alt, v.ref) if swap_first and k == 0 else (v.ref, v.alt)
        for j, t in enumerate(TASKS):
            rows.append((v.chrom, v.pos, ref, alt, t, -0.5 * (k + 1) * (j == 0) + 0.01 * j))
    pd.DataFrame(rows, columns=["chrom", "pos", "ref", "alt", "task", "log2fc"]).to_csv(
        path, sep="\t", index=False
    )
    return cands


def test_section_shows_each_candidates_effect_per_cell_type(sim_locus, tmp_path):
    cands = _effects(sim_locus, tmp_path / "ct.tsv", swap_first=True)
    res = locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "r.html",
                       celltype_effects=tmp_path / "ct.tsv")  # fmt: skip
    text = res.html.read_text()
    assert 'id="celltype-effects"' in text and 'id="celltype-effects-heatmap"' in text
    table = text[text.index('id="celltype-effects-table"') :]
    top = res.candidates["variant_id"].iloc[0]
    assert top == cands["variant_id"].iloc[0]
    row = re.search(rf"<tr><td>{re.escape(top)}</td><td>(\w+)</td><td>([-0-9.]+)</td>", table)
    assert row is not None
    # the first candidate's table REF/ALT were swapped: its MF effect -0.5 reads as +0.5
    assert row.group(1) == "MF" and float(row.group(2)) == pytest.approx(0.5)
    assert res.provided.keys() == {"ld", "elements", "abc", "effects", "tracks", "genes", "cres"}


def test_unmatched_and_bad_tables(sim_locus, tmp_path):
    (tmp_path / "other.tsv").write_text(
        "chrom\tpos\tref\talt\ttask\tlog2fc\nchrZ\t5\tA\tC\tMF\t1\n"
    )
    res = locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "r.html",
                       celltype_effects=tmp_path / "other.tsv")  # fmt: skip
    assert "none of the top" in res.html.read_text()
    (tmp_path / "single.tsv").write_text("chrom\tpos\tref\talt\tlog2fc\nchr1\t5\tA\tC\t1\n")
    with pytest.raises(InputError, match="lacks task"):
        read_celltype_effects(tmp_path / "single.tsv")
