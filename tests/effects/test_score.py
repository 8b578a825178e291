"""`score_variants`: known toy effects, naive-loop oracle, composite, nulls, resume, contexts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.spatial.distance import jensenshannon

from tests.effects._scoring_toys import (
    bgzip_index,
    random_seq,
    save_toy_dir,
    write_fasta,
    write_vcf,
)
from varinterp.effects import score as score_mod
from varinterp.effects.predict import predict_windows
from varinterp.effects.score import score_variants
from varinterp.effects.scores import effect_scores, empirical_pvalues
from varinterp.effects.shuffle import shuffled_contexts, window_seeds
from varinterp.effects.windows import build_windows
from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training.modeldir import save_model_dir


def _alt_of(base: str, k: int = 0) -> str:
    return [b for b in "ACGT" if b != base][k]


@pytest.fixture
def world(tmp_path):
    """Two random contigs, a VCF of 7 SNVs (one tri-allelic, one edge, one <DEL>)."""
    seqs = {"chr1": random_seq(1200, 1), "chr2": random_seq(800, 2)}
    fasta = write_fasta(tmp_path / "ref.fa", seqs)
    positions = [("chr1", 30), ("chr1", 300), ("chr1", 301), ("chr1", 700), ("chr2", 400)]
    rows = []
    for i, (c, p) in enumerate(positions):
        ref = seqs[c][p - 1]
        alt = ",".join([_alt_of(ref, 0), _alt_of(ref, 2)]) if i == 3 else _alt_of(ref, i % 3)
        rows.append((c, p, f"rs{i}", ref, alt))
    rows.insert(3, ("chr1", 500, "sv1", seqs["chr1"][499], "<DEL>"))
    vcf = bgzip_index(write_vcf(tmp_path / "v.vcf", rows, contigs={"chr1": 1200, "chr2": 800}))
    cfg = ClipnetConfig.small(input_length=200, output_length=100)
    folds = {}
    for i in (1, 2):
        torch.manual_seed(i)
        m = Clipnet(cfg)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm1d):
                    mod.running_var.uniform_(0.5, 1.5)
                    mod.bias.uniform_(0.0, 0.5)
        folds[f"fold_{i}"] = m
    model = save_model_dir(
        tmp_path / "model", config=cfg, folds=folds,
        metadata={"folds": {"chr1": 1, "chr2": 0}, "n_folds": 4},
    )  # fmt: skip
    return {"seqs": seqs, "fasta": fasta, "vcf": vcf, "model": model, "tmp": tmp_path}


def test_toy_model_known_effects(tmp_path):
    # all-A contig; variants at 100 (A>G), 150 (A>C het), 200 (A>T)
    seq = "A" * 300
    fasta = write_fasta(tmp_path / "ref.fa", {"c1": seq})
    rows = [("c1", 101, "g", "A", "G"), ("c1", 151, "c", "A", "C"), ("c1", 201, "t", "A", "T")]
    vcf = bgzip_index(write_vcf(tmp_path / "v.vcf", rows, contigs={"c1": 300}))
    model = save_toy_dir(tmp_path / "toy")
    for het in (False, True):
        out = tmp_path / f"e{het}.tsv"
        score_variants(
            vcf=vcf, model=model, fasta=fasta, out=out, pseudocount=0.0, heterozygous=het,
            device="cpu",
        )  # fmt: skip
        t = pd.read_csv(out, sep="\t")
        np.testing.assert_allclose(t["quantity_ref"], 1.0)
        # hom A>G / A>C doubles the quantity (log2fc 1); a het one gives 0.5; A>T nothing
        want = [0.5, 0.5, 0.0] if het else [1.0, 1.0, 0.0]
        np.testing.assert_allclose(t["log2fc"], want, atol=1e-6)
    t = pd.read_csv(tmp_path / "eFalse.tsv", sep="\t")
    # A>G: plus profile 1 everywhere -> 3 at output position 10; q 1 -> 2 (20 positions)
    ref_track = np.full((2, 20), 1.0 / 40)
    alt_prof = np.ones((2, 20))
    alt_prof[0, 10] = 3.0
    alt_track = alt_prof / alt_prof.sum() * 2.0
    assert t.loc[0, "profile_l2"] == pytest.approx(np.sqrt(((alt_track - ref_track) ** 2).sum()))
    assert t.loc[0, "profile_jsd"] == pytest.approx(
        jensenshannon(np.ones(40), alt_prof.ravel(), base=2), abs=1e-6
    )
    assert t.loc[0, "directionality_ref"] == pytest.approx(0.0, abs=1e-7)
    want_dir = np.log1p(alt_track[0].sum()) - np.log1p(alt_track[1].sum())
    assert t.loc[0, "directionality_alt"] == pytest.approx(want_dir, rel=1e-5)
    assert t.loc[0, "tss_shift"] == 10 and t.loc[0, "tss_strand"] == 1
    # A>C lands on the minus strand; A>T changes nothing
    assert t.loc[1, "directionality_delta"] == pytest.approx(-want_dir, rel=1e-5)
    assert t.loc[2, "profile_l2"] == pytest.approx(0.0, abs=1e-7)
    assert (t["flags"] == ".").all()


def _naive(world, chrom, pos1, ref, alt, models, L=200):
    """One variant at a time, from the FASTA string, by hand."""
    seq = world["seqs"][chrom]
    s = pos1 - 1 - L // 2
    text = "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(s, s + L))
    ref_w = text[: L // 2] + ref + text[L // 2 + 1 :]
    alt_w = text[: L // 2] + alt + text[L // 2 + 1 :]
    outs = []
    for w in (ref_w, alt_w):
        x = torch.from_numpy(2 * one_hot(w)[None]).float()
        ps, qs = [], []
        with torch.no_grad():
            for m in models:
                for xx, flip in ((x, False), (x.flip(1, 2), True)):
                    p, q = m(xx)
                    p = p.reshape(2, -1)
                    ps.append(p.flip(0, 1) if flip else p)
                    qs.append(float(q))
        outs.append((torch.stack(ps).mean(0).numpy().astype(np.float64), np.mean(qs)))
    (pr, qr), (pa, qa) = outs
    tr, ta = pr / pr.sum() * qr, pa / pa.sum() * qa
    return {
        "quantity_ref": qr,
        "log2fc": np.log2((qa + 1e-3) / (qr + 1e-3)),
        "profile_l2": np.linalg.norm(ta - tr),
        "profile_jsd": jensenshannon(pr.ravel(), pa.ravel(), base=2),
        "directionality_delta": (np.log1p(ta[0].sum()) - np.log1p(ta[1].sum()))
        - (np.log1p(tr[0].sum()) - np.log1p(tr[1].sum())),
        "edge": s < 0 or s + L > len(seq),
    }


def test_vectorised_equals_naive_loop_and_composite(world):
    from varinterp.training.inference import load_ensemble

    out = world["tmp"] / "e.tsv"
    calls = []
    res = score_variants(
        vcf=world["vcf"], model=world["model"], fasta=world["fasta"], out=out,
        holdout_composite=True, chunk_size=3, batch_size=4, device="cpu",
        on_progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    # (records read, records in the index): after every batch and every chunk
    assert calls[-1] == (6, 6) and {t for _, t in calls} == {6}
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    t = pd.read_csv(out, sep="\t")
    assert len(t) == res.n_scored == 6
    assert res.counts.skipped_symbolic == 1 and res.counts.multiallelic_records == 1
    assert res.n_edge == 1 and t.loc[0, "flags"] == "edge"
    # chr1 is fold 1 -> fold_1 alone; chr2 is fold 0 -> the ensemble
    assert t["scorer"].tolist() == ["fold_1"] * 5 + ["ensemble"]
    ens = load_ensemble(world["model"])
    for row in t.itertuples():
        models = [ens.models["fold_1"]] if row.scorer == "fold_1" else list(ens.models.values())
        want = _naive(world, row.chrom, row.pos, row.ref, row.alt, models)
        for key in ("quantity_ref", "log2fc", "profile_l2", "profile_jsd", "directionality_delta"):
            assert getattr(row, key) == pytest.approx(want[key], rel=1e-4, abs=1e-6), key
        assert (row.flags == "edge") == want["edge"]


def test_null_pvalues_match_manual(world):
    out = world["tmp"] / "e.tsv"
    k = 4
    score_variants(
        vcf=world["vcf"], model=world["model"], fasta=world["fasta"], out=out,
        null_shuffles=k, seed=5, chunk_size=2, device="cpu",
    )  # fmt: skip
    t = pd.read_csv(out, sep="\t")
    from varinterp.training.inference import load_ensemble

    models = list(load_ensemble(world["model"]).models.values())
    from varinterp.io.fasta import Reference

    ref = Reference(world["fasta"])
    i = 2  # chr1:301
    row = t.iloc[i]
    codes = ref.codes(row.chrom, row.pos - 1 - 100, row.pos - 1 + 100)[None]
    shuf = shuffled_contexts(codes, n_shuffles=k, seeds=window_seeds(5, np.array([i])))[0]
    xr = 2 * one_hot(shuf)
    xa = xr.copy()
    xr[:, :, 100] = 2 * one_hot(row.ref)[:, 0]
    xa[:, :, 100] = 2 * one_hot(row.alt)[:, 0]
    pr, qr = predict_windows(models, xr)
    pa, qa = predict_windows(models, xa)
    null = effect_scores(pr, qr, pa, qa)
    want = empirical_pvalues(np.array([abs(row.log2fc)]), np.abs(null["log2fc"])[None])
    assert row.pval_abs_log2fc == pytest.approx(want[0])
    want = empirical_pvalues(np.array([row.profile_l2]), null["profile_l2"][None])
    assert row.pval_profile_l2 == pytest.approx(want[0])
    grid = np.arange(1, k + 2) / (k + 1)
    assert np.isin(np.round(t["pval_profile_l2"], 6), np.round(grid, 6)).all()


def test_resume_skips_finished_chunks(world, monkeypatch):
    out = world["tmp"] / "e.tsv"
    kw = {"vcf": world["vcf"], "model": world["model"], "fasta": world["fasta"], "out": out}
    kw |= {"chunk_size": 2, "device": "cpu"}
    with pytest.raises(KeyboardInterrupt):
        score_variants(**kw, _stop_after_chunks=2)
    work = out.parent / f".{out.name}.parts"
    assert sorted(p.name for p in work.glob("part_*.tsv")) == ["part_000000.tsv", "part_000001.tsv"]
    assert not out.exists()
    calls = []
    real = score_mod.score_frame

    def counting(ens, variants, **kw):
        calls.append(kw["first_index"])
        return real(ens, variants, **kw)

    monkeypatch.setattr(score_mod, "score_frame", counting)
    res = score_variants(**kw)
    assert calls == [4] and res.n_chunks == 3 and res.n_chunks_reused == 2
    assert not work.exists()
    fresh = world["tmp"] / "fresh.tsv"
    score_variants(**(kw | {"out": fresh}))
    pd.testing.assert_frame_equal(pd.read_csv(out, sep="\t"), pd.read_csv(fresh, sep="\t"))
    # other options -> the stale parts are not reused
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        score_variants(**(kw | {"out": world["tmp"] / "x.tsv"}), _stop_after_chunks=1)
    score_variants(**(kw | {"out": world["tmp"] / "x.tsv", "rc_average": False}))
    assert calls == [0, 0, 2, 4]


def test_annotated_vcf(world):
    import cyvcf2

    out = world["tmp"] / "e.tsv"
    vout = world["tmp"] / "a.vcf.gz"
    score_variants(
        vcf=world["vcf"], model=world["model"], fasta=world["fasta"], out=out, vcf_out=vout,
        device="cpu",
    )  # fmt: skip
    t = pd.read_csv(out, sep="\t")
    assert (world["tmp"] / "a.vcf.gz.tbi").is_file()
    recs = list(cyvcf2.VCF(str(vout)))
    assert len(recs) == 6  # every record copied, the <DEL> one too
    tri = next(r for r in recs if len(r.ALT) == 2)
    got = tri.INFO.get("VI_log2fc")
    want = t[t["pos"] == tri.POS]["log2fc"].to_numpy()
    np.testing.assert_allclose(np.asarray(got, dtype=float), want, rtol=1e-5)
    sv = next(r for r in recs if r.ALT == ["<DEL>"])
    assert sv.INFO.get("VI_log2fc") is None
    # the output is indexed: a region query works
    assert len(list(cyvcf2.VCF(str(vout))("chr2:1-800"))) == 1


def test_personal_context_keeps_other_alleles(tmp_path):
    from varinterp.genome.build import build_store
    from varinterp.genome.store import GenomeStore
    from varinterp.io.fasta import Reference

    seq = random_seq(400, 7)
    fasta = write_fasta(tmp_path / "ref.fa", {"chr1": seq})
    near = 201  # 1-based; 1 bp right of the scored variant at 200, inside the toy's core
    near_alt = "G" if seq[near - 1] in "AT" else "A"
    gc_change = 1 if near_alt == "G" else -1
    rows = [("chr1", near, "n1", seq[near - 1], near_alt, "0/1", "1/1")]
    cohort = bgzip_index(
        write_vcf(tmp_path / "c.vcf", rows, contigs={"chr1": 400}, samples=["s1", "s2"])
    )
    build_store(vcf=cohort, fasta=fasta, out=tmp_path / "c.vgs")
    store = GenomeStore.open(tmp_path / "c.vgs")
    ref = Reference(fasta)
    x_ref, _, _ = build_windows(ref, ["chr1"], np.array([199]), 40)
    x_per, _, _ = build_windows(ref, ["chr1"], np.array([199]), 40, store=store, sample="s1")
    col = 20 + (near - 1 - 199)
    diff = np.flatnonzero((x_ref != x_per).any(axis=1)[0])
    assert diff.tolist() == [col]
    alt = "ACGT".index(near_alt)
    assert x_per[0, alt, col] == 1 and x_per[0].sum(axis=0)[col] == 2
    # end to end with the toy model: scored in s2's context
    vcf = bgzip_index(
        write_vcf(tmp_path / "v.vcf", [("chr1", 200, "v", seq[199], _alt_of(seq[199]))],
                  contigs={"chr1": 400})
    )  # fmt: skip
    model = save_toy_dir(tmp_path / "toy")
    res = score_variants(
        vcf=vcf, model=model, fasta=fasta, out=tmp_path / "p.tsv", store=tmp_path / "c.vgs",
        sample="s2", device="cpu",
    )  # fmt: skip
    assert res.n_scored == 1
    score_variants(vcf=vcf, model=model, fasta=fasta, out=tmp_path / "r.tsv", device="cpu")
    personal = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    reference = pd.read_csv(tmp_path / "r.tsv", sep="\t")
    # s2 is homozygous for the neighbour: the toy quantity changes by 2 ** gc_change
    ratio = personal["quantity_ref"] / reference["quantity_ref"]
    np.testing.assert_allclose(ratio, 2.0**gc_change, rtol=1e-6)
    np.testing.assert_allclose(personal["log2fc"], reference["log2fc"], atol=1e-3)
    with pytest.raises(InputError, match="not in store"):
        score_variants(
            vcf=vcf, model=model, fasta=fasta, out=tmp_path / "q.tsv",
            store=tmp_path / "c.vgs", sample="nobody", device="cpu",
        )  # fmt: skip
