"""The locus report reads like a geneticist's figure: candidates are the credible-set
members and variants above --min-pip (context rows are marked and never ranked), the
credible-set summary says why a set was dropped, the ABC panel draws the candidates'
links and a few strongest others with labels that do not overlap, every figure also
comes as SVG and PDF, and the region opens in UCSC / IGV."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from varinterp.report import figures
from varinterp.report.candidates import rank_candidates
from varinterp.report.locus import (
    ABC_OTHER_LINKS,
    browser_links,
    credible_set_summary,
    locus_report,
)


def _variants(pips, cs95):
    n = len(pips)
    return pd.DataFrame(
        {
            "variant_id": [f"v{i}" for i in range(n)],
            "chrom": "chr1",
            "pos": np.arange(1, n + 1) * 100,
            "ref": "A",
            "alt": "G",
            "z": 1.0,
            "p": np.linspace(1e-8, 1e-2, n),
            "pip": pips,
            "cs95": cs95,
            "cs99": cs95,
        }
    )


def test_context_rows_are_marked_and_never_ranked():
    v = _variants([0.001, 0.6, 0.002, 0.3, 0.004, 0.0005], [0, 1, 0, 1, 0, 0])
    t = rank_candidates(v, min_pip=0.01, min_candidates=5)
    cand = t[t["role"] == "candidate"]
    ctx = t[t["role"] == "context"]
    assert sorted(cand["variant_id"]) == ["v1", "v3"]  # in a credible set or PIP >= 0.01
    assert cand["rank"].tolist() == [1, 2]
    assert len(ctx) == 3 and ctx["rank"].isna().all()
    assert t.index[t["role"] == "context"].min() > t.index[t["role"] == "candidate"].max()
    assert ctx["reason"].str.startswith("context only").all()


def test_the_summary_says_when_and_why_a_set_was_dropped():
    cs = pd.DataFrame(
        {
            "coverage": [0.95, 0.95, 0.99],
            "cs_id": [1, 2, 1],
            "cs_size": [2, 3, 5],
            "lead_variant": ["a", "b", "a"],
        }
    )
    dropped = [{"effect": 2, "size": 40, "min_abs_r": 0.12}]
    info = {"min_abs_corr": 0.5, "cs_dropped_for_purity": {"0.95": [], "0.99": dropped}}
    at95, at99 = credible_set_summary(cs, info)
    assert at95.startswith("2 credible set(s) at 95%; set 1: 2 variant(s), lead a")
    assert at99.startswith("1 credible set(s) at 99%")
    assert "1 more dropped for purity: its 40 variant(s) are not in LD" in at99
    assert "smallest |r| 0.12 < 0.5" in at99


def test_browser_links():
    html = browser_links("chr22", 99, 2000, "hg19")
    assert "https://genome.ucsc.edu/cgi-bin/hgTracks?db=hg19&amp;position=chr22:100-2000" in html
    assert 'href="http://localhost:60151/goto?locus=chr22:100-2000"' in html


def _width(label: str, span: float) -> float:
    return (len(label) * 0.008 + 0.01) * span


def test_label_rows_never_overlap():
    rng = np.random.default_rng(0)
    pos = rng.uniform(0, 1e6, 40)
    names = [f"GENE{i}" for i in range(40)]
    rows = figures.label_rows(pos, names, 1e6, max_rows=4)
    placed = [(p, n, r) for p, n, r in zip(pos, names, rows, strict=True) if r is not None]
    assert len(placed) >= 10
    for i, (p1, n1, r1) in enumerate(placed):  # a naive pairwise check
        for p2, n2, r2 in placed[i + 1 :]:
            if r1 == r2:
                assert abs(p1 - p2) >= (_width(n1, 1e6) + _width(n2, 1e6)) / 2


def test_figures_beside_the_html_and_a_readable_abc_panel(sim_locus, tmp_path):
    ev = sim_locus.evidence
    res = locus_report(
        finemap_dir=sim_locus.finemap, out=tmp_path / "r.html", tracks=ev["tracks"],
        elements=ev["elements"], abc=ev["abc_dir"], genes=ev["genes"], top=2,
    )  # fmt: skip
    fig_dir = tmp_path / "r_figures"
    names = sorted(p.name for p in fig_dir.iterdir())
    assert {"locus.svg", "locus.pdf", "abc.svg", "abc.pdf", "tracks-1.svg"} <= set(names)
    assert (fig_dir / "locus.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in (fig_dir / "abc.svg").read_bytes()[:2000]
    html = res.html.read_text()
    assert "genome.ucsc.edu/cgi-bin/hgTracks?db=hg38" in html
    m = re.search(r"(\d+) of the region(?:'|&#x27;)s (\d+) links drawn: every link of an "
                  r"element holding a candidate \((\d+),", html)  # fmt: skip
    assert m, html[-1500:]
    drawn, in_region, held = (int(g) for g in m.groups())
    assert drawn <= held + ABC_OTHER_LINKS <= in_region + ABC_OTHER_LINKS
    # a second run into the same place needs --overwrite and gives the same figure bytes
    svg = (fig_dir / "abc.svg").read_bytes()
    locus_report(
        finemap_dir=sim_locus.finemap, out=tmp_path / "r.html", tracks=ev["tracks"],
        elements=ev["elements"], abc=ev["abc_dir"], genes=ev["genes"], top=2, overwrite=True,
    )  # fmt: skip
    assert (fig_dir / "abc.svg").read_bytes() == svg
