"""The simulated ATAC world (part 6): determinism, the vendored Tn5 preference, and that
the planted truth (effects, footprints, Tn5 bias, counts) is what the data show."""

from __future__ import annotations

import hashlib
import json
import math
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from varinterp.simulate.atac import AtacParams, make_atac_world
from varinterp.simulate.atac_model import COUNTED, FLANK, TF_EFFECT, TFS, motif_hits
from varinterp.simulate.atac_writers import simulate_atac, write_atac_world
from varinterp.simulate.tn5 import TN5_OFFSET, read_tn5_matrices, tn5_matrices, tn5_preference


@pytest.fixture(scope="session")
def atac_world():
    return make_atac_world(AtacParams(seed=5, genome_size=250_000, n_chromosomes=3))


def test_same_seed_same_bytes(tmp_path):
    _, a = simulate_atac(out=tmp_path / "a", seed=2, genome_size=60_000, n_chromosomes=2)
    _, b = simulate_atac(out=tmp_path / "b", seed=2, genome_size=60_000, n_chromosomes=2)
    md5_a = json.loads(a.manifest.read_text())["md5"]
    assert md5_a == json.loads(b.manifest.read_text())["md5"]
    assert {"fragments.tsv.gz", "variants.vcf.gz", "variant_effects.tsv"} <= set(md5_a)
    assert hashlib.md5(a.fasta.read_bytes()).hexdigest() == md5_a["reference.fa"]


def test_vendored_tn5_matrices_and_their_readme():
    data = resources.files("varinterp.simulate").joinpath("data")
    raw = data.joinpath("ATAC.ref.motifs.txt").read_bytes()
    readme = data.joinpath("README.md").read_text()
    assert hashlib.md5(raw).hexdigest() in readme and "MIT" in readme and "chrombpnet" in readme
    assert "Kundaje Lab" in data.joinpath("LICENSE.chrombpnet").read_text()
    mats = read_tn5_matrices()
    assert len(mats) == 6 and all(m.shape == (20, 4) for m in mats.values())
    plus, minus = tn5_matrices()
    comp = [3, 2, 1, 0]
    for m in (plus, minus):  # symmetric (reverse complement) about the insertion row
        for k in range(1, 20):
            np.testing.assert_allclose(m[k], m[2 * TN5_OFFSET - k][comp], atol=0.08)


def test_preference_is_the_naive_likelihood_ratio():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 60).astype(np.uint8)
    codes[7] = 4  # an N
    plus, minus = tn5_matrices()
    want = []
    for i in range(60):
        s = []
        for m in (plus, minus):
            total = 0.0
            for k in range(20):
                j = i - TN5_OFFSET + k
                if 0 <= j < 60 and codes[j] < 4:
                    total += math.log(m[k, codes[j]] / 0.25)
            s.append(math.exp(total))
        want.append(0.5 * sum(s))
    np.testing.assert_allclose(tn5_preference(codes), want, rtol=1e-12)


def test_variant_truth_is_the_planted_formula(atac_world):
    w = atac_world
    occ = pd.DataFrame(w.activity, index=list(w.cell_types),
                       columns=[f"occ:{t}" for t in TFS])  # fmt: skip
    assert (w.variants["kind"] == "break").sum() > 10 and (w.variants["kind"] == "control").any()
    for v, eff in zip(w.variants.itertuples(), w.effects, strict=True):
        if v.kind == "control":
            np.testing.assert_array_equal(eff, 0.0)
            continue
        want = -TF_EFFECT[v.tf] * occ[f"occ:{v.tf}"].to_numpy() / math.log(2)
        seq = w.reference.sequences[v.chrom]
        centre = int(w.ocrs.set_index("ocr_id").at[v.ocr_id, "centre"])
        alt = seq[centre - 150 : centre + 150].copy()
        alt[v.pos0 - centre + 150] = "ACGT".index(v.alt)
        lost = len(motif_hits(seq[centre - 150 : centre + 150], v.tf)) - len(motif_hits(alt, v.tf))
        np.testing.assert_allclose(eff, lost * want, rtol=1e-9, atol=1e-12)


def test_insertions_show_footprints_tn5_bias_and_the_expected_counts(atac_world):
    w = atac_world
    tfs = TFS
    core = flank = 0.0
    for s in w.sites.itertuples():
        j = tfs.index(s.tf)
        for ci, ct in enumerate(w.cell_types):
            if w.activity[ci, j] < 0.5:
                continue
            pos, cnt = w.insertions[ct][s.chrom]
            dense = np.zeros(s.end - s.start + 2 * (FLANK + 1))
            lo = s.start - FLANK - 1
            sel = (pos >= lo) & (pos < lo + dense.size)
            dense[pos[sel] - lo] = cnt[sel]
            core += dense[FLANK + 1 : FLANK + 1 + s.end - s.start].mean()
            flank += np.r_[dense[:FLANK], dense[-FLANK:]].mean()
    assert core < 0.6 * flank  # a dip over bound sites, raised flanks
    # the Tn5 preference shapes insertions in closed regions
    pref, ins = [], []
    for b in w.background.itertuples():
        seq = w.reference.sequences[b.chrom][b.start : b.end]
        p = tn5_preference(seq)
        counts = np.zeros(b.end - b.start)
        for ct in w.cell_types:
            pos, cnt = w.insertions[ct][b.chrom]
            sel = (pos >= b.start) & (pos < b.end)
            counts[pos[sel] - b.start] += cnt[sel]
        pref.append(p)
        ins.append(counts)
    rho = stats.spearmanr(np.concatenate(pref), np.concatenate(ins))[0]
    assert rho > 0.15
    # centre counts follow the expected counts
    obs = np.zeros_like(w.expected)
    for i, o in enumerate(w.ocrs.itertuples()):
        for ci, ct in enumerate(w.cell_types):
            pos, cnt = w.insertions[ct][o.chrom]
            sel = (pos >= o.centre - COUNTED // 2) & (pos < o.centre + COUNTED // 2)
            obs[i, ci] = cnt[sel].sum()
    r = np.corrcoef(np.log1p(obs).ravel(), np.log1p(w.expected).ravel())[0, 1]
    assert r > 0.8


def test_written_tables(tmp_path, atac_world):
    files = write_atac_world(atac_world, tmp_path / "w")
    eff = pd.read_csv(files.variant_effects, sep="\t")
    assert len(eff) == len(atac_world.variants) * 11
    brk = eff[eff["kind"] == "break"]
    assert brk.loc[brk["tf_active"], "log2fc"].mean() < brk.loc[~brk["tf_active"], "log2fc"].mean()
    bc = pd.read_csv(files.barcodes, sep="\t", header=None)
    assert set(bc[1]) == set(atac_world.cell_types)
    assert pd.read_csv(files.ocrs_bed, sep="\t", header=None).shape[0] == len(atac_world.ocrs)
