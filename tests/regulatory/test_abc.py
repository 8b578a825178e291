"""ABC model: hand-computed toy cases, Hi-C readers, and the `link abc` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from varinterp.errors import InputError
from varinterp.regulatory.abc import (
    AbcParams,
    add_hic,
    filter_links,
    make_pairs,
    prune_links,
    score_pairs,
    threshold_from_table,
)
from varinterp.regulatory.abc_activity import assign_classes, quantile_normalise
from varinterp.regulatory.abc_contact import load_cool_contacts, open_contacts


def _pl(d, gamma=1.024238616787792, scale=5.9594510043736655):
    return np.exp(scale - gamma * np.log(max(d, 5000) + 1))


@pytest.fixture
def toy():
    elements = pd.DataFrame(
        {
            "chrom": "chr1",
            "start": [9_800, 30_000, 60_000, 6_000_000],
            "end": [10_300, 30_500, 60_500, 6_000_500],
        }
    )
    genes = pd.DataFrame(
        {"chrom": ["chr1"], "start": [10_000], "end": [20_000], "name": ["G"], "tss": [10_000]}
    )
    elements["class"] = assign_classes(elements, genes)
    elements["name"] = [f"e{i}" for i in range(4)]
    return elements, genes


def test_classes_pairs_and_powerlaw_scores_by_hand(toy):
    elements, genes = toy
    assert list(elements["class"]) == ["promoter", "intergenic", "intergenic", "intergenic"]
    act = np.array([4.0, 2.0, 1.0, 9.0])
    pred = score_pairs(make_pairs(elements, genes, act, AbcParams()))
    assert list(pred["name"]) == ["e0", "e1", "e2"]  # e3 is beyond 5 Mb
    d = np.array([50.0, 20_250.0, 50_250.0])
    assert np.allclose(pred["distance"], d)
    num = act[:3] * np.array([_pl(x) for x in d])
    assert np.allclose(pred["powerlaw.Score.Numerator"], num)
    assert np.allclose(pred["powerlaw.Score"], [1.0, *(num[1:] / num.sum())])
    assert list(pred["isSelfPromoter"]) == [True, False, False]
    kept = filter_links(pred, threshold=0.05)  # e1 scores 0.104, e2 0.021
    assert list(kept["name"]) == ["e0", "e1"]


def test_window_is_strict(toy):
    elements, genes = toy
    params = AbcParams(window=50_250)
    pred = make_pairs(elements, genes, np.ones(4), params)
    assert "e2" not in set(pred["name"])  # distance == window is excluded, as in ABC


def test_quantile_normalisation_by_hand():
    ref = pd.DataFrame(
        {
            "enh_class": ["promoter"] * 2 + ["nonpromoter"] * 2,
            "rank": [4.0, 0.0, 4.0, 0.0],
            "DHS.RPM": [0.0, 40.0, 0.0, 8.0],
        }
    )
    values = np.array([1.0, 5.0, 3.0, 2.0, 7.0])
    classes = np.array(["genic", "genic", "promoter", "intergenic", "promoter"])
    got = quantile_normalise(values, classes, ref, kind="ATAC")  # ATAC falls back to DHS
    # non-promoters [1, 5, 2]: quantiles 1/3, 1, 2/3 -> rank (1 - q) * 3 -> value 8 - 2 * rank
    assert np.allclose(got[[0, 1, 3]], [8 - 2 * 2.0, 8.0, 8 - 2 * 1.0])
    # promoters [3, 7]: quantiles 1/2, 1 -> ranks 1, 0 -> 40 - 10 * rank
    assert np.allclose(got[[2, 4]], [30.0, 40.0])


def test_threshold_table_and_pruning(toy):
    assert threshold_from_table("DHS", has_h3k27ac=True, contact="intact_hic") == 0.027
    assert threshold_from_table("atac", has_h3k27ac=False, contact="powerlaw") == 0.013
    with pytest.raises(InputError):
        threshold_from_table("DHS", has_h3k27ac=True, contact="micro-c")
    elements, genes = toy
    pred = score_pairs(make_pairs(elements, genes, np.ones(4), AbcParams()))
    pruned = prune_links(pred, initiation_cpm=np.array([50.0, 19.9, 20.0, 0.0]), min_cpm=20)
    assert list(pruned["name"]) == ["e0", "e2"]


def _dense_reference(pixels, n, window_bins):
    """ABC's .hic treatment on a dense symmetric matrix, computed the plain way."""
    m = np.zeros((n, n))
    for i, j, v in pixels:
        m[i, j] = m[j, i] = v
    m = m / m.sum(axis=1)[m.sum(axis=1) > 0].mean()
    out = m.copy()
    for b in range(n):
        if m[b, b] != 0:
            left = m[b - 1, b] if b > 0 else 0.0
            right = m[b, b + 1] if b + 1 < n else 0.0
            out[b, b] = max(left, right)
    return out


def test_cool_reader_matches_dense_reference(tmp_path):
    cooler = pytest.importorskip("cooler")
    res = 1000
    n = 20
    bins = pd.DataFrame(
        {"chrom": "chr1", "start": np.arange(n) * res, "end": np.arange(n) * res + res}
    )
    rng = np.random.default_rng(0)
    pix = [(i, j, float(rng.integers(1, 50))) for i in range(n) for j in range(i, min(n, i + 6))]
    pixels = pd.DataFrame(pix, columns=["bin1_id", "bin2_id", "count"])
    uri = str(tmp_path / "toy.cool")
    cooler.create_cooler(uri, bins, pixels)
    table = load_cool_contacts(uri, "chr1", resolution=res, window=100_000, balance=False)
    dense = _dense_reference(pix, n, 100)
    pos_a = np.array([500, 2500, 2500, 7100, 15_000])
    pos_b = np.array([500, 2600, 5400, 3000, 19_999])
    got = table.lookup(pos_a, pos_b)
    want = dense[pos_a // res, pos_b // res]
    want[dense[pos_a // res, pos_b // res] == 0] = np.nan
    assert np.allclose(got, want, equal_nan=True)
    with pytest.raises(InputError, match="resolution"):
        load_cool_contacts(uri, "chr1", resolution=5000, window=100_000)


def test_hic_qc_falls_back_to_powerlaw(toy, tmp_path):
    elements, genes = toy
    pred = make_pairs(elements, genes, np.ones(4), AbcParams())
    # contacts for the distal pairs only; the self-promoter has none -> gene fails QC
    path = tmp_path / "c.bedpe"
    path.write_text("chr1\t10000\t15000\tchr1\t30000\t35000\t0.5\n")
    contacts = open_contacts(str(path), resolution=5000, window=5_000_000)
    out = add_hic(pred, {"chr1": contacts.table("chr1")}, AbcParams())
    expect = [_pl(max(d, 5000)) for d in out["distance"]]
    assert np.allclose(out["hic_contact"], expect)
    (tmp_path / "x.hic").write_bytes(b"HIC")
    with pytest.raises(InputError, match="hic2cool"):
        open_contacts(str(tmp_path / "x.hic"), resolution=5000, window=1)


@pytest.fixture
def abc_world(tmp_path, make_bigwig, chrom_sizes):
    """Two cell types over a 200 kb chr1 with 3 genes and 12 candidate elements."""
    starts = np.arange(12) * 15_000 + 2_000
    pd.DataFrame({"c": "chr1", "s": starts, "e": starts + 500}).to_csv(
        tmp_path / "elements.bed", sep="\t", header=False, index=False
    )
    pd.DataFrame(
        {
            "c": "chr1",
            "s": [2_100, 60_000, 150_000],
            "e": [9_000, 92_250, 170_000],
            "n": ["GA", "GB", "GC"],
            "score": 0,
            "strand": ["+", "-", "+"],
        }
    ).to_csv(tmp_path / "genes.bed", sep="\t", header=False, index=False)
    rng = np.random.default_rng(5)
    rows = []
    for ct in ("hep", "mac"):
        acc = np.zeros(chrom_sizes["chr1"])
        h3 = np.zeros(chrom_sizes["chr1"])
        ini = np.zeros(chrom_sizes["chr1"])
        for s in starts:
            acc[s : s + 500] = rng.uniform(0.1, 2.0)
            h3[s : s + 500] = rng.uniform(0.1, 2.0)
        ini[starts[0] : starts[0] + 500] = 1.0  # only the first element initiates
        ini[190_000:190_500] = 1.0
        make_bigwig(tmp_path / f"{ct}.acc.bw", {"chr1": acc})
        make_bigwig(tmp_path / f"{ct}.h3.bw", {"chr1": h3})
        make_bigwig(tmp_path / f"{ct}.ini.bw", {"chr1": ini})
        rows.append((ct, f"{ct}.acc.bw", f"{ct}.h3.bw", f"{ct}.ini.bw"))
    pd.DataFrame(rows, columns=["cell_type", "accessibility", "h3k27ac", "initiation"]).to_csv(
        tmp_path / "samples.tsv", sep="\t", index=False
    )
    return tmp_path


def test_cli_link_abc_writes_tsv_and_bedpe(abc_world, cli):
    d = abc_world
    args = ["link", "abc", "--elements", str(d / "elements.bed"), "--genes", str(d / "genes.bed"),
            "--samples", str(d / "samples.tsv")]  # fmt: skip
    run = CliRunner().invoke(cli, [*args, "--out", str(d / "out"), "--all-putative",
                                   "--min-initiation-cpm", "0"])  # fmt: skip
    assert run.exit_code == 0, run.output
    tsv = pd.read_csv(d / "out" / "hep.abc.tsv", sep="\t")
    allp = pd.read_csv(d / "out" / "hep.all_putative.tsv.gz", sep="\t")
    # independent recomputation of activity and the power-law score from the bigWigs
    import pyBigWig

    def rpm(path, s):
        bw = pyBigWig.open(str(path))
        val = bw.stats("chr1", s, s + 500, type="sum", exact=True)[0]
        tot = sum(
            bw.stats(c, 0, n, type="sum", exact=True)[0] or 0.0 for c, n in bw.chroms().items()
        )
        bw.close()
        return 1e6 * val / tot

    allp["A"] = [np.sqrt(rpm(d / "hep.acc.bw", s) * rpm(d / "hep.h3.bw", s)) for s in allp["start"]]
    assert np.allclose(allp["activity_base"], allp["A"], rtol=1e-6)
    for gene, grp in allp.groupby("TargetGene"):
        num = grp["A"] * [_pl(x) for x in grp["distance"]]
        score = np.where(grp["isSelfPromoter"], 1.0, num / num.sum())
        assert np.allclose(grp["ABC.Score"], score, rtol=1e-6), gene
    expect = allp[
        (allp["ABC.Score"] > 0.02) & ((allp["class"] != "promoter") | allp["isSelfPromoter"])
    ]
    assert len(tsv) == len(expect)
    bedpe = pd.read_csv(d / "out" / "hep.abc.bedpe", sep="\t", header=None)
    assert len(bedpe) == len(tsv) and (bedpe[4] == tsv["TargetGeneTSS"]).all()
    assert bedpe[6].iloc[0].startswith(tsv["TargetGene"].iloc[0] + "|chr1:")

    pruned = CliRunner().invoke(cli, [*args, "--out", str(d / "pruned")])
    assert pruned.exit_code == 0, pruned.output
    kept = pd.read_csv(d / "pruned" / "hep.abc.tsv", sep="\t")
    assert set(kept["start"]) == {2_000}  # only the initiating element survives 20 CPM


def test_cli_link_abc_bad_inputs(abc_world, cli):
    d = abc_world
    runner = CliRunner()
    base = [
        "link",
        "abc",
        "--elements",
        str(d / "elements.bed"),
        "--samples",
        str(d / "samples.tsv"),
    ]
    pd.DataFrame({"c": ["chr1"], "s": [1], "e": [5]}).to_csv(
        d / "g3.bed", sep="\t", header=False, index=False
    )
    r = runner.invoke(cli, [*base, "--genes", str(d / "g3.bed"), "--out", str(d / "o1")])
    assert r.exit_code == 2 and "needs 6 columns" in r.output

    (d / "x.hic").write_bytes(b"HIC")
    r = runner.invoke(
        cli,
        [*base, "--genes", str(d / "genes.bed"), "--hic", str(d / "x.hic"), "--out", str(d / "o2")],
    )
    assert r.exit_code == 2 and "hic2cool" in r.output and not (d / "o2").exists()

    pd.DataFrame({"cell_type": ["a"], "accessibility": ["counts.bedgraph"]}).to_csv(
        d / "s2.tsv", sep="\t", index=False
    )
    pd.read_csv(d / "elements.bed", sep="\t", header=None).assign(n=3).to_csv(
        d / "counts.bedgraph", sep="\t", header=False, index=False
    )
    r = runner.invoke(
        cli,
        ["link", "abc", "--elements", str(d / "elements.bed"), "--genes", str(d / "genes.bed"),
         "--samples", str(d / "s2.tsv"), "--out", str(d / "o3")],
    )  # fmt: skip
    assert r.exit_code == 2 and "accessibility_depth" in r.output
    assert "Traceback" not in r.output


def test_cli_link_abc_reproduces_fixture_powerlaw_scores(shared_fixtures, tmp_path, cli):
    """The whole command on ABC's K562 chr22 inputs (counts, qnorm, power law): every
    reference pair above the threshold is linked, with the reference's powerlaw.Score."""
    root = shared_fixtures / "abc_k562_chr22"
    if not root.is_dir():
        pytest.skip("ABC fixture not found")
    genes = pd.read_csv(root / "GeneList.txt", sep="\t")
    genes[["chr", "start", "end", "name", "score", "strand"]].to_csv(
        tmp_path / "genes.bed", sep="\t", header=False, index=False
    )
    dhs = root / "Enhancers.DHS.ENCFF860XAE.chr22.sorted.se.bam.CountReads.bedgraph"
    h3 = root / "Enhancers.H3K27ac.ENCFF790GFL.chr22.sorted.se.bam.CountReads.bedgraph"
    pd.DataFrame(
        {"cell_type": ["K562"], "accessibility": [str(dhs)], "h3k27ac": [str(h3)],
         "accessibility_total": [379428], "h3k27ac_total": [113284]}
    ).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)  # fmt: skip
    run = CliRunner().invoke(
        cli,
        ["link", "abc", "--elements", str(root / "EnhancerList.bed"), "--genes",
         str(tmp_path / "genes.bed"), "--samples", str(tmp_path / "samples.tsv"),
         "--accessibility-kind", "DHS", "--qnorm", str(root / "EnhancersQNormRef.K562.txt"),
         "--out", str(tmp_path / "out"), "--quiet"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    ours = pd.read_csv(tmp_path / "out" / "K562.abc.tsv", sep="\t")
    assert (ours["ABC.Score"] == ours["powerlaw.Score"]).all()  # no Hi-C given
    ref = pd.read_csv(
        root / "EnhancerPredictionsAllPutative.ForVariantOverlap.shrunk150bp.tsv.gz", sep="\t"
    )
    # reference pairs clearly above 0.02 (not within rounding of it) must all be linked
    sure = ref[
        (ref["powerlaw.Score"] > 0.02 + 1e-5)
        & ((ref["class"] != "promoter") | ref["isSelfPromoter"])
    ]
    m = sure.merge(ours, on=["name", "TargetGene"], suffixes=("_ref", ""), how="left")
    assert len(m) > 500 and m["powerlaw.Score"].notna().all()
    for col in ("activity_base", "powerlaw.Score"):
        ok = np.abs(m[col] - m[f"{col}_ref"]) <= 1e-4 * m[f"{col}_ref"] + 5e-7
        assert ok.all(), col


def test_cli_link_abc_with_bedpe_hic(abc_world, cli):
    d = abc_world
    rows = []
    for i in range(0, 40):  # 5 kb bins over the first 200 kb, contact decaying with distance
        for j in range(i, min(40, i + 30)):
            rows.append(("chr1", i * 5000, i * 5000 + 5000, "chr1", j * 5000, j * 5000 + 5000,
                         1.0 / (1 + j - i)))  # fmt: skip
    pd.DataFrame(rows).to_csv(d / "hic.bedpe", sep="\t", header=False, index=False)
    run = CliRunner().invoke(
        cli,
        ["link", "abc", "--elements", str(d / "elements.bed"), "--genes", str(d / "genes.bed"),
         "--samples", str(d / "samples.tsv"), "--hic", str(d / "hic.bedpe"), "--all-putative",
         "--threshold-from-table", "--out", str(d / "hic")],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    assert "threshold 0.025" in run.output  # ATAC + H3K27ac + intact Hi-C
    allp = pd.read_csv(d / "hic" / "mac.all_putative.tsv.gz", sep="\t")
    bins = np.abs(np.floor((allp["start"] + 250) / 5000) - np.floor(allp["TargetGeneTSS"] / 5000))
    assert np.allclose(allp["hic_contact"], np.where(bins < 30, 1.0 / (1 + bins), 0.0))
    assert (bins >= 30).any()  # pairs without a stored contact get 0 (then the pseudocount)
    adj = allp["hic_contact"] * allp["powerlaw_contact_reference"] / allp["powerlaw_contact"]
    adj += np.minimum(allp["powerlaw_contact"], _pl(5000))
    assert np.allclose(allp["hic_contact_pl_scaled_adj"], adj)
    for _, grp in allp.groupby("TargetGene"):
        num = grp["activity_base"] * adj[grp.index]
        score = np.where(grp["isSelfPromoter"], 1.0, num / num.sum())
        assert np.allclose(grp["ABC.Score"], score)


def test_gene_columns_match_the_fixture(shared_fixtures, tmp_path):
    """TargetGenePromoterActivityQuantile, TargetGeneIsExpressed (cutoff 0.3, the run's
    parameter) and normalized_dhs against ABC's own K562 chr22 tables, from the counts."""
    from varinterp.regulatory.abc_run import link_abc

    root = shared_fixtures / "abc_k562_chr22"
    if not root.is_dir():
        pytest.skip("ABC fixture not found")
    genes = pd.read_csv(root / "GeneList.txt", sep="\t")
    genes[["chr", "start", "end", "name", "score", "strand"]].to_csv(
        tmp_path / "genes.bed", sep="\t", header=False, index=False
    )
    dhs, h3 = "DHS.ENCFF860XAE.chr22.sorted.se.bam", "H3K27ac.ENCFF790GFL.chr22.sorted.se.bam"
    pd.DataFrame(
        {"cell_type": ["K562"],
         "accessibility": [str(root / f"Enhancers.{dhs}.CountReads.bedgraph")],
         "h3k27ac": [str(root / f"Enhancers.{h3}.CountReads.bedgraph")],
         "accessibility_tss": [str(root / f"Genes.TSS1kb.{dhs}.CountReads.bedgraph")],
         "h3k27ac_tss": [str(root / f"Genes.TSS1kb.{h3}.CountReads.bedgraph")],
         "accessibility_total": [379428], "h3k27ac_total": [113284]}
    ).to_csv(tmp_path / "samples.tsv", sep="\t", index=False)  # fmt: skip
    link_abc(
        elements=root / "EnhancerList.bed", genes=tmp_path / "genes.bed",
        samples=tmp_path / "samples.tsv", accessibility_kind="DHS",
        qnorm=root / "EnhancersQNormRef.K562.txt", promoter_activity_quantile_cutoff=0.3,
        out=tmp_path / "out",
    )  # fmt: skip
    ours = pd.read_csv(tmp_path / "out" / "K562.abc.tsv", sep="\t")
    # per gene, against GeneList.txt
    per_gene = ours.drop_duplicates("TargetGene").set_index("TargetGene")
    ref_gene = genes.set_index("name")["PromoterActivityQuantile"]
    common = ref_gene.index.intersection(per_gene.index)
    assert len(common) > 400
    got = per_gene.loc[common, "TargetGenePromoterActivityQuantile"].to_numpy()
    assert (np.abs(got - ref_gene.loc[common].to_numpy()) <= 5e-7 + 1e-6).all()
    # per pair, against the reference's putative table
    ref = pd.read_csv(
        root / "EnhancerPredictionsAllPutative.ForVariantOverlap.shrunk150bp.tsv.gz", sep="\t"
    )
    m = ref.merge(ours, on=["name", "TargetGene"], suffixes=("_ref", ""))
    assert len(m) > 500
    assert (m["TargetGeneIsExpressed"] == m["TargetGeneIsExpressed_ref"]).all()
    for col in ("TargetGenePromoterActivityQuantile", "normalized_dhs"):
        ok = np.abs(m[col] - m[f"{col}_ref"]) <= 1e-4 * np.abs(m[f"{col}_ref"]) + 5e-7
        assert ok.all(), col
    assert m["TargetGeneExpression"].isna().all()  # the run had no expression data


def test_expression_table_and_expressed_only(abc_world, tmp_path):
    """An expression table decides TargetGeneIsExpressed; --expressed-only keeps those genes."""
    from varinterp.regulatory.abc_run import link_abc

    d = abc_world
    samples = pd.read_csv(d / "samples.tsv", sep="\t")
    genes = pd.read_csv(d / "genes.bed", sep="\t", header=None)[3].astype(str).tolist()
    expr = pd.DataFrame({"gene": genes, "expression": [5.0] + [0.0] * (len(genes) - 1)})
    expr.to_csv(d / "expr.tsv", sep="\t", index=False)
    samples.assign(expression=str(d / "expr.tsv")).to_csv(d / "s_expr.tsv", sep="\t", index=False)
    kw = {"elements": d / "elements.bed", "genes": d / "genes.bed", "samples": d / "s_expr.tsv"}
    every = link_abc(**kw, out=tmp_path / "all")
    only = link_abc(**kw, out=tmp_path / "expressed", expressed_only=True)
    for ct in every.n_links:
        table = pd.read_csv(tmp_path / "all" / f"{ct}.abc.tsv", sep="\t")
        assert set(table.loc[table["TargetGeneIsExpressed"], "TargetGene"]) <= {genes[0]}
        kept = pd.read_csv(tmp_path / "expressed" / f"{ct}.abc.tsv", sep="\t")
        assert set(kept["TargetGene"]) <= {genes[0]}
        assert only.n_links[ct] == int(table["TargetGeneIsExpressed"].sum())
        assert only.n_expressed[ct] == 1
