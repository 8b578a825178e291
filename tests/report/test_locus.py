"""The locus report on a simulated, fine-mapped locus: contents, optional inputs, CLI."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli._common import ErrorHandlingGroup
from varinterp.cli.report import app
from varinterp.errors import InputError
from varinterp.report.candidates import CANDIDATE_COLUMNS
from varinterp.report.html import Section, render_page, table_html
from varinterp.report.locus import locus_report, parse_region


def _full(sim_locus, out, **kw):
    ev = sim_locus.evidence
    g = sim_locus.gwas
    return locus_report(
        finemap_dir=sim_locus.finemap, out=out, ld_matrix=g / "ld.npy",
        ld_variants=g / "ld_variants.tsv", genes=ev["genes"], elements=ev["elements"],
        abc=ev["abc_dir"], tracks=ev["tracks"], **kw,
    )  # fmt: skip


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


def test_full_report(sim_locus, tmp_path) -> None:
    res = _full(sim_locus, tmp_path / "r.html", top=2)
    text = res.html.read_text()
    # track panels for the top ranked candidates only (context rows are never ranked)
    n_panels = min(2, int((res.candidates["role"] == "candidate").sum()))
    panels = [f"tracks-{k}" for k in range(1, n_panels + 1)]
    for ident in ("report-title", "locus-plot", "candidate-table", *panels, "abc-arcs"):
        assert f'id="{ident}"' in text
    assert f'id="tracks-{n_panels + 1}"' not in text
    pngs = _images(text)
    assert len(pngs) == 2 + n_panels and all(p[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "not provided" in text  # effects were not given
    assert not re.search(r'src="(https?:)?//', text)  # nothing external is loaded
    links = re.findall(r'href="((?:https?:)?//[^"]+)"', text)  # only the genome browsers
    assert links and all(
        u.startswith(("https://genome.ucsc.edu/", "http://localhost:60151/")) for u in links
    )
    assert "<script" not in text
    cands = pd.read_csv(res.candidates_tsv, sep="\t")
    assert list(cands.columns) == CANDIDATE_COLUMNS
    causal = sim_locus.truth["causal"]["variant_id"]
    top = cands.iloc[0]
    assert top["variant_id"] == causal
    assert top["specific_in"] == "Kupffer-like"  # the planted myeloid program
    assert top["abc_top_gene"] != "."
    assert res.provided == {"ld": True, "elements": True, "abc": True, "effects": False,
                            "tracks": True, "genes": True, "cres": False}  # fmt: skip


def test_minimal_report_says_not_provided(sim_locus, tmp_path) -> None:
    res = locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "m.html")
    text = res.html.read_text()
    for what in ("LD not provided", "per-cell-type tracks: not provided",
                 "ABC links: not provided", "cell-type-specific elements: not provided",
                 "variant effect scores: not provided"):  # fmt: skip
        assert what in text
    assert len(_images(text)) == 1  # the locus plot only
    assert res.candidates_tsv == tmp_path / "m.candidates.tsv"
    # without evidence the ranking is by PIP
    c = res.candidates
    assert (c["pip"].diff().dropna() <= 0).all()


def test_region_lead_and_effects(sim_locus, tmp_path) -> None:
    v = pd.read_csv(sim_locus.finemap / "variants.tsv", sep="\t")
    causal = sim_locus.truth["causal"]
    eff = tmp_path / "effects.tsv"
    pd.DataFrame(
        {"chrom": [causal["chrom"]], "pos": [causal["pos"]], "ref": [causal["alt"]],
         "alt": [causal["ref"]], "log2fc": [1.5], "profile_l2": [2.0], "scorer": ["m"]}
    ).to_csv(eff, sep="\t", index=False)  # fmt: skip
    other = v.sort_values("p").iloc[3]
    res = locus_report(
        finemap_dir=sim_locus.finemap, out=tmp_path / "l.html", lead=other["variant_id"],
        flank=5000, effects=eff,
    )  # fmt: skip
    assert res.lead == other["variant_id"]
    lo, hi = res.region[1], res.region[2]
    assert hi - lo == 10_001 or lo == 0
    c = res.candidates.set_index("variant_id")
    if causal["variant_id"] in c.index:
        assert c.loc[causal["variant_id"], "log2fc"] == pytest.approx(-1.5)
    res2 = locus_report(
        finemap_dir=sim_locus.finemap, out=tmp_path / "g.html",
        region=f"{causal['chrom']}:{causal['pos'] - 100}-{causal['pos'] + 100}", effects=eff,
    )  # fmt: skip
    c2 = res2.candidates.set_index("variant_id")
    assert c2.loc[causal["variant_id"], "log2fc"] == pytest.approx(-1.5)  # alleles swapped
    assert (res2.candidates["pos"].between(causal["pos"] - 100, causal["pos"] + 100)).all()


def test_bad_inputs(sim_locus, tmp_path) -> None:
    with pytest.raises(InputError, match=r"no variants\.tsv"):
        locus_report(finemap_dir=tmp_path, out=tmp_path / "x.html")
    with pytest.raises(InputError, match="not in"):
        locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "x.html", lead="chr9:1:A:C")
    with pytest.raises(InputError, match="no fine-mapped variant"):
        locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "x.html", region="chr3:1-10")
    with pytest.raises(InputError, match="both --ld-matrix"):
        locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "x.html",
                     ld_matrix=sim_locus.gwas / "ld.npy")  # fmt: skip
    (tmp_path / "exists.html").write_text("x")
    with pytest.raises(InputError, match="already exists"):
        locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "exists.html")
    bad = tmp_path / "tracks.tsv"
    bad.write_text("cell_type\tplus_bigwig\nA\tnope.bw\n")
    with pytest.raises(InputError, match="does not exist"):
        locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "y.html", tracks=bad)


def test_r2_from_plink_panel(sim_locus, tmp_path) -> None:
    from bed_reader import to_bed

    from varinterp.finemap.ld import open_ld
    from varinterp.report.locus import _r2_with_lead

    v = pd.read_csv(sim_locus.finemap / "variants.tsv", sep="\t").head(40)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, 300)
    G = np.column_stack(
        [np.where(rng.random(300) < 0.2, rng.integers(0, 3, 300), base) for _ in range(30)]
    ).astype(np.float32)  # (samples, 30): the first 30 variants, correlated
    swap = np.arange(30) % 2 == 1  # alleles swapped in the panel: r² unchanged
    to_bed(
        tmp_path / "p.bed", G,
        properties={
            "chromosome": v["chrom"].str.replace("chr", "").to_numpy()[:30],
            "sid": v["variant_id"].to_numpy()[:30],
            "bp_position": v["pos"].to_numpy()[:30],
            "allele_1": np.where(swap, v["ref"][:30], v["alt"][:30]),
            "allele_2": np.where(swap, v["alt"][:30], v["ref"][:30]),
        },
    )  # fmt: skip
    ld = open_ld(plink=tmp_path / "p")
    r2, n = _r2_with_lead(v, 3, ld)
    assert n == 30
    expected = np.corrcoef(G.T)[3] ** 2
    assert np.allclose(r2[:30], expected, atol=1e-6)
    assert (r2[30:] == 0).all()
    assert _r2_with_lead(v, 35, ld) == (None, 0)  # lead not in the panel
    res = locus_report(finemap_dir=sim_locus.finemap, out=tmp_path / "p.html",
                       ld_plink=tmp_path / "p")  # fmt: skip
    assert res.provided["ld"] == (res.lead in set(v["variant_id"][:30]))


def test_parse_region() -> None:
    assert parse_region("chr22:39,266,445-39,266,945") == ("chr22", 39266444, 39266945)
    for bad in ("chr22", "chr22:10-5", "chr22:0-5"):
        with pytest.raises(InputError):
            parse_region(bad)


def test_html_escapes_text() -> None:
    sec = Section("s", "<b>x</b>").text("a < b & <script>alert(1)</script>")
    page = render_page(title='"><img src=x onerror=1>', subtitle="t", sections=[sec])
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "&lt;b&gt;x&lt;/b&gt;" in page
    t = table_html(pd.DataFrame({"a": ["<i>"], "b": [0.5]}), table_id="t")
    assert "&lt;i&gt;" in t and "<td>0.500</td>" in t


def _root() -> typer.Typer:
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(app, name="report")
    return root


def test_cli(sim_locus, tmp_path) -> None:
    ev = sim_locus.evidence
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(
        _root(),
        ["report", "locus", "--finemap", str(sim_locus.finemap), "--out", str(out),
         "--abc", str(ev["abc_dir"]), "--elements", str(ev["elements"]),
         "--candidates", str(tmp_path / "c.tsv")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert out.is_file() and (tmp_path / "c.tsv").is_file()
    assert "candidates" in res.output
    bad = CliRunner().invoke(
        _root(), ["report", "locus", "--finemap", str(tmp_path), "--out", str(tmp_path / "z.html")]
    )
    assert bad.exit_code == 2
    bad = CliRunner().invoke(
        _root(),
        ["report", "locus", "--finemap", str(sim_locus.finemap), "--out", str(out)],
    )
    assert bad.exit_code == 2 and "already exists" in bad.output
    bad = CliRunner().invoke(
        _root(),
        ["report", "locus", "--finemap", str(sim_locus.finemap), "--out",
         str(tmp_path / "q.html"), "--region", "chr1-5"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "CHROM:START-END" in bad.output
