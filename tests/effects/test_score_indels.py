"""Scoring insertions and deletions: toy models with hand-set weights, a naive loop, and
a person's own indels in the context.

The naive oracle builds each window as a string (variant-scorer's recipe: the
``L // 2`` bases before the variant, the allele, then the bases after REF, cut to L) and
aligns the profiles by slicing (the ref profile loses the deleted bases, the alt profile
the inserted ones, each loses the flank bases only it holds).
"""

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
from varinterp.effects.frame import score_frame
from varinterp.effects.score import score_variants
from varinterp.errors import InputError
from varinterp.genome.build import build_store
from varinterp.genome.encoding import one_hot
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
from varinterp.training.inference import load_model
from varinterp.training.modeldir import save_model_dir

L, M = 200, 100  # input and output length of the small CLIPNET below


def test_toy_insertion_and_deletion_by_hand(tmp_path):
    # all-A contig with one G at 0-based 151 (for the deletion AG>A at 150)
    seq = ["A"] * 300
    seq[151] = "G"
    seq = "".join(seq)
    fasta = write_fasta(tmp_path / "ref.fa", {"c1": seq})
    model = save_toy_dir(tmp_path / "toy")
    variants = pd.DataFrame(
        {"chrom": ["c1", "c1", "c1"], "pos": [101, 151, 201], "ref": ["A", "AG", "A"],
         "alt": ["AG", "A", "G"]}
    )  # fmt: skip
    t = score_frame(model, variants, fasta=fasta, pseudocount=0.0, device="cpu")
    assert t["ilen"].tolist() == [1, -1, 0]
    # the G sits in the 6-bp core in the alt window (insertion) or the ref window (deletion)
    np.testing.assert_allclose(t["log2fc"], [1.0, -1.0, 1.0], atol=1e-6)
    # insertion: on aligned positions the inserted G is gone and both profiles are flat
    assert t.loc[0, "profile_jsd"] == pytest.approx(0.0, abs=1e-6)
    flat_ref = 1.0 / 40  # 40 ones, quantity 1
    flat_alt = 2.0 / 42  # 38 ones and a 3 on the plus strand, quantity 2
    assert t.loc[0, "profile_l2"] == pytest.approx(np.sqrt(38 * (flat_alt - flat_ref) ** 2))
    assert t.loc[0, "tss_shift"] == 0
    # deletion: the G (ref only) is left out, the alt window's extra flank base too
    assert t.loc[1, "profile_jsd"] == pytest.approx(0.0, abs=1e-6)
    # an SNV scores as before: the G shows in the profile
    assert t.loc[2, "profile_jsd"] > 0.01 and t.loc[2, "tss_shift"] == 10


@pytest.fixture
def world(tmp_path):
    seqs = {"chr1": random_seq(1500, 5)}
    fasta = write_fasta(tmp_path / "ref.fa", seqs)
    cfg = ClipnetConfig.small(input_length=L, output_length=M)
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
    model = save_model_dir(tmp_path / "model", config=cfg, folds=folds, metadata={})
    return {"seqs": seqs, "fasta": fasta, "model": model, "tmp": tmp_path}


def _predict(models, window: str):
    x = torch.from_numpy(one_hot(window)[None]).float() * 2
    ps, qs = [], []
    with torch.no_grad():
        for m in models:
            for xx, flip in ((x, False), (x.flip(1, 2), True)):
                p, q = m(xx)
                p = p.reshape(2, -1)
                ps.append(p.flip(0, 1) if flip else p)
                qs.append(float(q))
    return torch.stack(ps).mean(0).numpy().astype(np.float64), float(np.mean(qs))


def _naive(left: str, right: str, ref: str, alt: str, models):
    """Score one variant from its flanks by hand (`right` long enough for any deletion)."""
    ref_w = (left + ref + right)[:L]
    alt_w = (left + alt + right)[:L]
    (pr, qr), (pa, qa) = _predict(models, ref_w), _predict(models, alt_w)
    tr, ta = pr / pr.sum() * qr, pa / pa.sum() * qa
    f = M // 2  # the variant's offset in the output window
    r, a = len(ref), len(alt)
    if r > a:  # variant-scorer's slices
        pr_al = np.concatenate([pr[:, : f + a], pr[:, f + r :]], axis=1)
        pa_al = pa[:, : M - (r - a)]
        tr_al = np.concatenate([tr[:, : f + a], tr[:, f + r :]], axis=1)
        ta_al = ta[:, : M - (r - a)]
    elif a > r:
        pa_al = np.concatenate([pa[:, : f + r], pa[:, f + a :]], axis=1)
        pr_al = pr[:, : M - (a - r)]
        ta_al = np.concatenate([ta[:, : f + r], ta[:, f + a :]], axis=1)
        tr_al = tr[:, : M - (a - r)]
    else:
        pr_al, pa_al, tr_al, ta_al = pr, pa, tr, ta
    return {
        "quantity_ref": qr,
        "quantity_alt": qa,
        "log2fc": np.log2((qa + 1e-3) / (qr + 1e-3)),
        "profile_l2": np.linalg.norm(ta_al - tr_al),
        "profile_jsd": jensenshannon(pr_al.ravel(), pa_al.ravel(), base=2),
        "directionality_delta": (np.log1p(ta[0].sum()) - np.log1p(ta[1].sum()))
        - (np.log1p(tr[0].sum()) - np.log1p(tr[1].sum())),
    }


def _indels(seq: str, rng) -> list[tuple[int, str, str]]:
    out = []
    for pos0 in rng.choice(np.arange(150, 1300), size=10, replace=False):
        pos0 = int(pos0)
        k = int(rng.integers(1, 12))
        if rng.random() < 0.5:
            ins = "".join(rng.choice(list("ACGT"), size=k))
            out.append((pos0, seq[pos0], seq[pos0] + ins))
        else:
            out.append((pos0, seq[pos0 : pos0 + k + 1], seq[pos0]))
    out.append((700, seq[700:703], "GT"))  # a complex replacement, shorter
    out.append((800, seq[800:802], "TTA" if seq[800] != "T" else "GTA"))  # longer, unpadded
    return sorted(out)


def test_indels_match_the_naive_loop(world):
    seq = world["seqs"]["chr1"]
    rng = np.random.default_rng(3)
    rows = _indels(seq, rng)
    variants = pd.DataFrame(
        {"chrom": "chr1", "pos0": [p for p, _, _ in rows], "ref": [r for _, r, _ in rows],
         "alt": [a for _, _, a in rows]}
    )  # fmt: skip
    ens = load_model(world["model"], device="cpu")
    t = score_frame(ens, variants, fasta=world["fasta"], bf16=False)
    assert t["ilen"].tolist() == [len(a) - len(r) for _, r, a in rows]
    models = list(ens.models.values())
    for i, (pos0, ref, alt) in enumerate(rows):
        left = seq[pos0 - L // 2 : pos0]
        right = seq[pos0 + len(ref) : pos0 + len(ref) + L]
        want = _naive(left, right, ref, alt, models)
        for key, value in want.items():
            assert t.loc[i, key] == pytest.approx(value, rel=2e-4, abs=2e-6), (i, key)


def test_personal_context_applies_the_persons_other_indels(world, tmp_path):
    seq = world["seqs"]["chr1"]
    # the person is homozygous for a 5-bp deletion 40 bp before the scored insertion
    vcf = bgzip_index(write_vcf(
        tmp_path / "c.vcf",
        [("chr1", 561, "d1", seq[560:566], seq[560], "1|1")],
        contigs={"chr1": len(seq)}, samples=["P1"],
    ))  # fmt: skip
    build_store(vcf=vcf, fasta=world["fasta"], out=tmp_path / "p.vgs")
    ens = load_model(world["model"], device="cpu")
    variants = pd.DataFrame({"chrom": ["chr1"], "pos0": [600], "ref": [seq[600]],
                             "alt": [seq[600] + "GGG"]})  # fmt: skip
    personal = score_frame(ens, variants, fasta=world["fasta"], store=tmp_path / "p.vgs",
                           sample="P1", bf16=False)  # fmt: skip
    reference = score_frame(ens, variants, fasta=world["fasta"], bf16=False)
    person = seq[:561] + seq[566:]  # the person's haplotype (coordinates shift by 5 at 561)
    p = 600 - 5
    models = list(ens.models.values())
    want = _naive(person[p - L // 2 : p], person[p + 1 : p + 1 + L], seq[600], seq[600] + "GGG",
                  models)  # fmt: skip
    for key, value in want.items():
        assert personal.loc[0, key] == pytest.approx(value, rel=2e-4, abs=2e-6), key
    assert personal.loc[0, "quantity_ref"] != pytest.approx(reference.loc[0, "quantity_ref"])


def test_score_variants_writes_ilen_only_with_indels(world, tmp_path):
    seq = world["seqs"]["chr1"]
    rows = [("chr1", 301, "s", seq[300], "A" if seq[300] != "A" else "C"),
            ("chr1", 401, "i", seq[400], seq[400] + "TT"),
            ("chr1", 501, "long", seq[500], seq[500] + "A" * 60)]  # fmt: skip
    vcf = bgzip_index(write_vcf(tmp_path / "v.vcf", rows, contigs={"chr1": len(seq)}))
    out = tmp_path / "e.tsv"
    result = score_variants(vcf=vcf, model=world["model"], fasta=world["fasta"], out=out,
                            device="cpu", chunk_size=1)  # fmt: skip
    table = pd.read_csv(out, sep="\t")
    assert table["id"].tolist() == ["s", "i"] and table["ilen"].tolist() == [0, 2]
    assert result.counts.skipped_indel == 1  # longer than 50 bp
    snv_only = tmp_path / "snv.tsv"
    score_variants(vcf=vcf, model=world["model"], fasta=world["fasta"], out=snv_only,
                   device="cpu", max_indel_length=0)  # fmt: skip
    assert "ilen" not in pd.read_csv(snv_only, sep="\t").columns
    with pytest.raises(InputError, match="max_indel_length"):
        score_frame(world["model"], pd.DataFrame({"chrom": ["chr1"], "pos": [501],
                    "ref": [seq[500]], "alt": [seq[500] + "A" * 60]}),
                    fasta=world["fasta"], device="cpu")  # fmt: skip
