"""`varinterp bench mpra`: constructs by hand, statistics against naive answers, end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import pearsonr
from typer.testing import CliRunner

from varinterp.errors import InputError
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

CFG = ClipnetConfig.small(input_length=200, output_length=50, n_dilations=3)


def _seq(n: int, seed: int) -> str:
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


# ---------------------------------------------------------------- constructs
def _backbone(tmp_path, seq, start, end=None):
    from varinterp.effects.mpra_constructs import read_backbone

    fa = tmp_path / f"bb_{start}_{end}_{len(seq)}.fa"
    fa.write_text(f">pMPRA\n{seq}\n")
    return read_backbone(fa, insert_start=start, insert_end=end)


def _window(codes):
    from varinterp.genome.encoding import sequence_from_codes

    return sequence_from_codes(codes)


def test_construct_centred_on_variant_by_hand(tmp_path):
    from varinterp.effects.mpra_constructs import construct_codes
    from varinterp.genome.encoding import codes_from_sequence

    bb_seq = _seq(60, 1)
    oligo = "CCCCCGTTTT"  # variant at offset 5 (G)
    bb = _backbone(tmp_path, bb_seq.lower(), 25)  # lower case backbone counts as bases
    construct = bb_seq[:25] + oligo + bb_seq[25:]
    got = _window(construct_codes(codes_from_sequence(oligo), bb, length=20, variant_offset=5))
    assert got == construct[20:40]
    assert got[10] == "G" and got[5:15] == oligo  # centred: variant at length // 2
    # fixed placement: 3 backbone bases before the oligo
    got = _window(
        construct_codes(codes_from_sequence(oligo), bb, length=20, variant_offset=5, upstream=3)
    )
    assert got == bb_seq[22:25] + oligo + bb_seq[25:32]
    # replacing a stuffer [25, 40)
    bb2 = _backbone(tmp_path, bb_seq, 25, 40)
    got = _window(construct_codes(codes_from_sequence(oligo), bb2, length=20, variant_offset=5))
    assert got == (bb_seq[:25] + oligo + bb_seq[40:])[20:40]


def test_construct_wraps_around_the_circular_plasmid(tmp_path):
    from varinterp.effects.mpra_constructs import construct_codes
    from varinterp.genome.encoding import codes_from_sequence

    bb_seq = _seq(30, 2)
    oligo = "AAAAACAAAA"
    bb = _backbone(tmp_path, bb_seq, 2)
    construct = bb_seq[:2] + oligo + bb_seq[2:]  # 40 bp
    got = _window(construct_codes(codes_from_sequence(oligo), bb, length=20, variant_offset=5))
    # start = 2 + 5 - 10 = -3: the last 3 bases of the construct come first
    assert got == construct[-3:] + construct[:17]
    with pytest.raises(InputError, match="shorter than the model input"):
        construct_codes(codes_from_sequence(oligo), bb, length=41, variant_offset=5)
    with pytest.raises(InputError, match="insertion site"):
        _backbone(tmp_path, bb_seq, 31)


def test_construct_two_hot_ref_and_alt(tmp_path):
    from varinterp.effects.mpra_constructs import construct_two_hot

    bb_seq = _seq(80, 3)
    bb = _backbone(tmp_path, bb_seq, 40)
    oligos = ["ACGTACGTAC", "TTTTGTTTTTTT"]
    x_ref, x_alt = construct_two_hot(
        oligos, ["C", "G"], ["T", "A"], np.array([5, 4]), bb, length=30
    )
    assert x_ref.shape == (2, 4, 30) and x_ref.dtype == np.uint8
    assert set(np.unique(x_ref)) == {0, 2} and (x_ref.sum(1) == 2).all()
    diff = np.flatnonzero((x_ref != x_alt).any(axis=(0, 1)))
    assert diff.tolist() == [15]  # centred on the variant
    assert x_ref[0, 1, 15] == 2 and x_alt[0, 3, 15] == 2  # C -> T
    assert x_ref[1, 2, 15] == 2 and x_alt[1, 0, 15] == 2  # G -> A
    expect = (bb_seq[:40] + oligos[1] + bb_seq[40:])[40 + 4 - 15 :][:30]
    assert "".join("ACGT"[i] for i in x_ref[1].argmax(0)) == expect


# ------------------------------------------------------------------- table
def test_oligo_table_statuses_and_errors(tmp_path):
    from varinterp.effects.mpra_table import read_oligo_table

    p = tmp_path / "o.tsv"
    p.write_text(
        "id\tchrom\tpos\tref\talt\toligo\tactive\temvar\tlog2fc\n"
        "v1\tchr9\t101\tC\tT\tAAAAACAAAA\t1\t0\t0.5\n"
        "v2\tchr9\t201\tG\tA\tAAAAACAAAA\ttrue\t\t\n"
        "v3\tchr1\t301\tA\tAT\tAAAAACAAAA\t0\t0\t\n"
    )
    t = read_oligo_table(p)
    assert t["status"].tolist() == ["ok", "ref_mismatch", "not_snv"]
    assert t["pos0"].tolist() == [100, 200, 300] and t["offset"].tolist() == [5, 5, 5]
    assert t["active"].tolist() == [1.0, 1.0, 0.0]
    assert t["emvar"].iloc[0] == 0 and np.isnan(t["emvar"].iloc[1])
    with pytest.raises(InputError, match="line 3: the oligo has 'C'"):
        read_oligo_table(p, strict=True)
    p.write_text("id\tchrom\tpos\tref\talt\n")
    with pytest.raises(InputError, match="lacks column"):
        read_oligo_table(p)
    p.write_text("id\tchrom\tpos\tref\talt\toligo\toffset\nv\tchr1\t5\tA\tC\tCCA\t7\n")
    with pytest.raises(InputError, match="outside"):
        read_oligo_table(p)
    p.write_text(
        "id\tchrom\tpos\tref\talt\toligo\toffset\n"
        "v\tchr1\t5\tA\tC\tCCAC\t2\nw\tchr1\t6\tA\tC\tCCAC\t\n"
    )
    t = read_oligo_table(p)
    assert t["offset"].tolist() == [2, 2] and t["status"].tolist() == ["ok", "ok"]
    p.write_text("id\tchrom\tpos\tref\talt\toligo\toffset\nv\tchr1\t5\tA\tC\tCCA\t1.5\n")
    with pytest.raises(InputError, match="not an integer"):
        read_oligo_table(p)


# -------------------------------------------------------------- statistics
def _naive_ap(y, s):
    """Average precision as sum over distinct thresholds of (R_k - R_{k-1}) * P_k."""
    y, s = np.asarray(y), np.asarray(s)
    total = 0.0
    prev_recall = 0.0
    for t in sorted(set(s.tolist()), reverse=True):
        sel = s >= t
        tp = (y[sel] == 1).sum()
        recall = tp / (y == 1).sum()
        total += (recall - prev_recall) * tp / sel.sum()
        prev_recall = recall
    return total


def test_auprc_and_bootstrap_against_naive_loop():
    from varinterp.effects.mpra_stats import auprc, bootstrap_auprc, compare_to_baseline

    rng = np.random.default_rng(5)
    y = (rng.random(60) < 0.35).astype(int)
    s = np.column_stack([y + rng.normal(0, 0.8, 60), np.round(rng.random(60), 1)])
    assert auprc(y, s[:, 0]) == pytest.approx(_naive_ap(y, s[:, 0]))
    assert auprc(y, s[:, 1]) == pytest.approx(_naive_ap(y, s[:, 1]))  # ties
    boot = bootstrap_auprc(y, s, n_boot=40, seed=9)
    naive = np.full((40, 2), np.nan)
    r = np.random.default_rng(9)
    for b in range(40):
        idx = r.integers(0, 60, size=60)
        for m in range(2):
            naive[b, m] = _naive_ap(y[idx], s[idx, m])
    np.testing.assert_allclose(boot, naive, rtol=1e-12)
    rows = compare_to_baseline(boot, ["good", "noise"], "good")
    d = naive[:, 1] - naive[:, 0]
    assert rows[1]["delta_vs_baseline"] == pytest.approx(d.mean())
    assert rows[1]["p_delta_gt_0"] == pytest.approx((d > 0).mean())
    assert rows[1]["delta_ci_low"] == pytest.approx(np.quantile(d, 0.025))
    assert rows[0]["delta_vs_baseline"] == 0 and rows[0]["p_delta_gt_0"] == 0
    # one class only -> NaN
    assert np.isnan(auprc(np.ones(5), np.arange(5.0)))


def test_effect_agreement_against_scipy():
    from varinterp.effects.mpra_stats import effect_agreement

    pred = np.array([1.0, -2.0, 0.5, 0.0, 3.0, np.nan, -1.0])
    obs = np.array([0.8, 1.0, 0.4, 1.0, 2.0, 1.0, -0.1])
    a = effect_agreement(pred, obs)
    keep = np.isfinite(pred)
    assert a.n == 6 and a.pearson == pytest.approx(pearsonr(pred[keep], obs[keep]).statistic)
    # signed pairs: (1,.8) (-2,1) (.5,.4) (3,2) (-1,-.1): one mismatch of five
    assert a.n_signed == 5 and a.sign_mismatch == pytest.approx(0.2)


# ------------------------------------------------------------- end to end
def _models(seed):
    out = {}
    for k in (1, 2):
        torch.manual_seed(seed + k)
        m = Clipnet(CFG)
        m.init_quantity_scale(10.0, 4.0)
        out[f"fold_{k}"] = m.eval()
    return out


@pytest.fixture(scope="module")
def mpra_world(tmp_path_factory):
    from varinterp.training.modeldir import save_model_dir

    folder = tmp_path_factory.mktemp("mpra")
    rng = np.random.default_rng(7)
    bb_seq = _seq(400, 8)
    (folder / "bb.fa").write_text(f">bb\n{bb_seq}\n")
    rows = []
    for i in range(40):
        oligo = list(_seq(30, 100 + i))
        ref = oligo[15]
        alt = {"A": "G", "C": "T", "G": "A", "T": "C"}[ref]
        chrom = ["chr9", "chr1", "chr2"][i % 3]
        emvar = int(rng.random() < 0.4)
        obs = rng.normal(0, 1) + (2 if emvar else 0) * rng.choice([-1, 1])
        rows.append(
            {
                "id": f"v{i}",
                "chrom": chrom,
                "pos": 1000 + i,
                "ref": ref,
                "alt": alt,
                "oligo": "".join(oligo),
                "active": int(i % 5 != 0),
                "emvar": emvar,
                "log2fc": round(obs, 3),
                "other_model": round(rng.normal(0, 1), 3),
            }
        )
    rows.append(dict(rows[0], id="indel", alt="AT"))
    pd.DataFrame(rows).to_csv(folder / "oligos.tsv", sep="\t", index=False)
    meta = {"folds": {"chr9": 0, "chr1": 1, "chr2": 2}, "n_folds": 10}
    modules = {"personal": _models(1), "reference": _models(5)}
    for label, mods in modules.items():
        save_model_dir(folder / label, config=CFG, folds=mods, metadata=meta)
    return {"folder": folder, "bb": bb_seq, "rows": rows, "modules": modules}


def _expected_q(world, label, row, allele):
    oligo = list(row["oligo"])
    oligo[15] = allele
    construct = world["bb"][:200] + "".join(oligo) + world["bb"][200:]
    start = 200 + 15 - CFG.input_length // 2
    window = construct[start : start + CFG.input_length]
    x = np.zeros((1, 4, CFG.input_length), dtype=np.float32)
    for j, b in enumerate(window):
        x[0, "ACGT".index(b), j] = 2
    mods = world["modules"][label]
    use = [mods["fold_1"]] if row["chrom"] == "chr1" else [mods["fold_2"]]
    if row["chrom"] == "chr9":
        use = list(mods.values())
    xt = torch.from_numpy(x)
    with torch.no_grad():
        q = np.mean([m(xt)[1].item() for m in use])
        q_rc = np.mean([m(xt.flip(1, 2))[1].item() for m in use])
    return 0.5 * (q + q_rc)


def test_mpra_end_to_end(mpra_world, tmp_path):
    from sklearn.metrics import average_precision_score

    from varinterp.effects.mpra import mpra_benchmark

    f = mpra_world["folder"]
    res = mpra_benchmark(
        oligos=f / "oligos.tsv",
        backbone=f / "bb.fa",
        insert_start=200,
        out=tmp_path / "m",
        models={"personal": f / "personal", "reference": f / "reference"},
        score_columns={"other": "other_model"},
        n_boot=50,
        seed=3,
        device="cpu",
        write_constructs=True,
        chunk_size=16,
    )
    t = res.table.set_index("id")
    assert t.loc["indel", "status"] == "not_snv" and np.isnan(t.loc["indel", "q_ref_personal"])
    for row in mpra_world["rows"][:7]:
        for label in ("personal", "reference"):
            qr = _expected_q(mpra_world, label, row, row["ref"])
            qa = _expected_q(mpra_world, label, row, row["alt"])
            assert t.loc[row["id"], f"q_ref_{label}"] == pytest.approx(qr, rel=1e-4)
            assert t.loc[row["id"], f"q_alt_{label}"] == pytest.approx(qa, rel=1e-4)
            want = np.log2((qr + 1e-3) / (qa + 1e-3))
            assert t.loc[row["id"], f"pred_log2fc_{label}"] == pytest.approx(want, abs=1e-4)
    assert (
        t.loc["v1", "scorer_personal"] == "fold_1" and t.loc["v0", "scorer_personal"] == "ensemble"
    )
    s = res.summary.set_index("model")
    ok = res.table[(res.table["status"] == "ok") & (res.table["active"] == 1)]
    for label in ("personal", "reference", "other"):
        want = average_precision_score(ok["emvar"], ok[f"pred_log2fc_{label}"] ** 2)
        assert s.loc[label, "auprc"] == pytest.approx(want)
        allr = res.table[res.table["status"] == "ok"]
        r = pearsonr(allr[f"pred_log2fc_{label}"], allr["log2fc"]).statistic
        assert s.loc[label, "pearson_all"] == pytest.approx(r)
    assert s.loc["random", "auprc"] == pytest.approx(ok["emvar"].mean())
    assert s.loc["personal", "n_eval"] == len(ok) == 32
    assert s.loc["personal", "delta_vs_baseline"] == 0
    boot = pd.read_csv(res.out / "bootstrap_auprc.tsv", sep="\t")
    d = boot["reference"] - boot["personal"]
    assert s.loc["reference", "p_delta_gt_0"] == pytest.approx((d > 0).mean())
    for name in ("pr_curves.png", "scatter.png", "auprc_delta.png", "summary.tsv"):
        assert (res.out / name).stat().st_size > 100
    fa = (res.out / "constructs.fa").read_text().splitlines()
    assert fa[0] == ">v0|ref" and len(fa[1]) == CFG.input_length
    assert res.warnings and "TATA" in res.warnings[0]  # a random backbone has no TATA box


def test_mpra_chroms_and_flip(mpra_world, tmp_path):
    from varinterp.effects.mpra import mpra_benchmark

    f = mpra_world["folder"]
    kw = dict(
        oligos=f / "oligos.tsv",
        backbone=f / "bb.fa",
        insert_start=200,
        score_columns={"other": "other_model"},
        n_boot=0,
        device="cpu",
    )
    res = mpra_benchmark(out=tmp_path / "a", chroms=["9"], **kw)
    assert set(res.table["chrom"]) == {"chr9"}
    flipped = mpra_benchmark(out=tmp_path / "b", flip_observed=True, **kw)
    plain = mpra_benchmark(out=tmp_path / "c", **kw)
    a = flipped.summary.set_index("model").loc["other"]
    b = plain.summary.set_index("model").loc["other"]
    assert a["pearson_all"] == pytest.approx(-b["pearson_all"])
    assert a["sign_mismatch_all"] == pytest.approx(1 - b["sign_mismatch_all"])
    with pytest.raises(InputError, match="no oligo table rows"):
        mpra_benchmark(out=tmp_path / "d", chroms=["chrX"], **kw)
    with pytest.raises(InputError, match="baseline"):
        mpra_benchmark(out=tmp_path / "e", baseline="nope", **kw)
    with pytest.raises(InputError, match="no column"):
        mpra_benchmark(out=tmp_path / "f", **{**kw, "score_columns": {"x": "missing"}})


def _cli():
    import typer

    from varinterp.cli._common import ErrorHandlingGroup
    from varinterp.cli.bench import app

    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(app, name="bench")
    return root


def test_cli_mpra(mpra_world, tmp_path):
    f = mpra_world["folder"]
    runner = CliRunner()
    base = [
        "bench",
        "mpra",
        "--oligos",
        str(f / "oligos.tsv"),
        "--backbone",
        str(f / "bb.fa"),
        "--insert-at",
        "200",
        "--device",
        "cpu",
        "--bootstraps",
        "20",
    ]
    res = runner.invoke(
        _cli(),
        [
            *base,
            "-m",
            f"personal={f / 'personal'}",
            "--score-column",
            "other=other_model",
            "--chroms",
            "chr9,chr1",
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "personal: auPRC" in res.output and "warning" in res.output
    assert set(pd.read_csv(tmp_path / "o" / "mpra_effects.tsv", sep="\t")["chrom"]) == {
        "chr9",
        "chr1",
    }
    res = runner.invoke(_cli(), [*base, "-o", str(tmp_path / "p")])
    assert res.exit_code == 2 and "nothing to benchmark" in res.output
    res = runner.invoke(_cli(), [*base, "--score-column", "bad label=x", "-o", str(tmp_path / "q")])
    assert res.exit_code == 2 and "LABEL=VALUE" in res.output
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tchrom\n")
    res = runner.invoke(
        _cli(),
        [
            "bench",
            "mpra",
            "--oligos",
            str(bad),
            "--backbone",
            str(f / "bb.fa"),
            "--insert-at",
            "1",
            "--score-column",
            "o=other",
            "-o",
            str(tmp_path / "r"),
        ],
    )
    assert res.exit_code == 2 and "lacks column" in res.output and "Traceback" not in res.output


def test_alt_oligo_column_and_backbone_checks(tmp_path):
    from varinterp.effects.mpra import mpra_benchmark
    from varinterp.effects.mpra_constructs import construct_two_hot
    from varinterp.effects.mpra_table import read_oligo_table

    p = tmp_path / "o.tsv"
    p.write_text(
        "id\tchrom\tpos\tref\talt\toligo\toligo_alt\n"
        "v1\tchr9\t101\tC\tT\tAAAAACAAAA\tGAAAATAAAA\n"  # alt oligo differs elsewhere too
        "v2\tchr9\t201\tC\tT\tAAAAACAAAA\t\n"
        "v3\tchr9\t301\tC\tT\tAAAAACAAAA\tAAAAAGAAAA\n"  # no T at the offset
    )
    t = read_oligo_table(p)
    assert t["status"].tolist() == ["ok", "ok", "alt_mismatch"]
    bb = _backbone(tmp_path, _seq(50, 4), 20)
    x_ref, x_alt = construct_two_hot(
        t["oligo"].tolist()[:2], ["C", "C"], ["T", "T"], np.array([5, 5]), bb, length=20,
        alt_oligos=t["oligo_alt"].tolist()[:2],
    )  # fmt: skip
    # v1: the given alt oligo (G at oligo base 0 = window index 5); v2: substituted
    assert x_alt[0, 2, 5] == 2 and x_alt[0, 3, 10] == 2 and x_ref[0, 0, 5] == 2
    assert np.flatnonzero((x_ref[1] != x_alt[1]).any(0)).tolist() == [10]
    # a backbone with a TATA box and the EGFP start after the insertion site: no warnings
    seq = _seq(300, 6)
    good = seq[:150] + "GGTATATAAGCAGAGCTCGTTTAGTGAACCGTCAGATCGCCACCATGGTGAGCAAGGGCGAG" + seq[150:]
    (tmp_path / "good.fa").write_text(f">pMPRAv3\n{good}\n")
    kw = dict(oligos=p, insert_start=150, n_boot=0, score_columns={"x": "id"}, device="cpu")
    res = mpra_benchmark(backbone=tmp_path / "good.fa", out=tmp_path / "g", **kw)
    assert not [w for w in res.warnings if "TATA" in w or "EGFP" in w]
    (tmp_path / "bad.fa").write_text(f">x\n{seq}\n")
    res = mpra_benchmark(backbone=tmp_path / "bad.fa", out=tmp_path / "b", **kw)
    assert any("TATA" in w for w in res.warnings) and any("EGFP" in w for w in res.warnings)


def test_composite_needs_the_fold_model(mpra_world, tmp_path):
    from varinterp.effects.mpra import mpra_benchmark
    from varinterp.training.modeldir import save_model_dir

    f = mpra_world["folder"]
    one = {"fold_1": mpra_world["modules"]["personal"]["fold_1"]}
    meta = {"folds": {"chr9": 0, "chr1": 1, "chr2": 2}, "n_folds": 10}
    save_model_dir(tmp_path / "one", config=CFG, folds=one, metadata=meta)
    kw = dict(oligos=f / "oligos.tsv", backbone=f / "bb.fa", insert_start=200, n_boot=0,
              models={"one": tmp_path / "one"}, device="cpu")  # fmt: skip
    with pytest.raises(InputError, match="no fold_2 model"):
        mpra_benchmark(out=tmp_path / "a", **kw)
    res = mpra_benchmark(out=tmp_path / "b", chroms=["chr1", "chr9"], **kw)
    assert set(res.table["scorer_one"]) == {"fold_1", "ensemble", ""}  # "" = not scored
    assert not (tmp_path / "a").exists()
