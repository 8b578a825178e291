"""Designed indel QTLs in the simulated world, against the simulator's truth and bcftools.

- off by default: a world without indels has only SNVs and its manifest is unchanged;
  turning indels on keeps the reference, elements and designed SNPs;
- every haplotype the simulator builds equals ``bcftools consensus -H 1/-H 2`` of the
  written VCF, and every kept base's reference position is the one of bcftools' chain;
- the expected PRO-cap of a haplotype with an indel equals the grammar run on bcftools'
  haplotype (anchors placed and the profile projected back through the chain);
- the designed indels change their element in the planted direction.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from varinterp.simulate import make_world, write_world
from varinterp.simulate.motifs import encode
from varinterp.simulate.procap_effects import variant_effects
from varinterp.simulate.procap_grammar import Anchor, initiation, reach
from varinterp.simulate.procap_indels import apply_alleles, element_signal, indel_rows
from varinterp.simulate.procap_model import element_models, expected_procap
from varinterp.simulate.world import WorldParams

needs_bcftools = pytest.mark.skipif(shutil.which("bcftools") is None, reason="needs bcftools")

_PARAMS = WorldParams(
    seed=5, n_individuals=24, genome_size=90_000, n_chromosomes=1, promoter_spacing=4_000,
    enhancer_spacing=5_000, n_motif_variants=6, causal_min_maf=0.2, n_indel_qtls=12,
    indel_density=1 / 800,
)  # fmt: skip


@pytest.fixture(scope="module")
def indel_world():
    return make_world(params=_PARAMS)


@pytest.fixture(scope="module")
def written_indels(tmp_path_factory, indel_world) -> Path:
    out = tmp_path_factory.mktemp("indels") / "world"
    write_world(indel_world, out)
    return out


def _vid(v) -> str:
    return f"{v.chrom}:{v.pos + 1}:{v.ref}:{v.alt}"


def _is_indel(cohort) -> np.ndarray:
    return np.char.str_len(cohort.ref.astype(str)) != np.char.str_len(cohort.alt.astype(str))


def test_off_by_default_and_independent_of_the_rest(indel_world, tmp_path):
    plain = make_world(
        params=WorldParams(**{**_PARAMS.__dict__, "n_indel_qtls": 0, "indel_density": 0.0})
    )
    assert plain.indels == ()
    assert not _is_indel(plain.cohort).any()
    for name, seq in plain.reference.sequences.items():
        assert np.array_equal(seq, indel_world.reference.sequences[name])
    assert plain.elements == indel_world.elements
    assert plain.planted == indel_world.planted
    # the designed SNPs stay in the cohort; SNPs inside an indel's span are gone
    ids = set(indel_world.cohort.ids)
    assert all(_vid(v) in ids for v in plain.planted)
    is_indel = _is_indel(indel_world.cohort)
    assert is_indel.sum() > len(indel_world.indels) >= 8
    ends = indel_world.cohort.pos + np.char.str_len(indel_world.cohort.ref.astype(str))
    assert np.all(indel_world.cohort.pos[1:] >= ends[:-1])  # no two variants overlap
    write_world(plain, tmp_path / "plain")
    params = json.loads((tmp_path / "plain" / "world.json").read_text())["params"]
    assert "n_indel_qtls" not in params and "indel_density" not in params


def _consensus(tmp: Path, folder: Path, sample: str, hap: int):
    """bcftools' haplotype (codes) and the reference position of each of its bases that
    lies in a chain block (-1 elsewhere)."""
    chain = tmp / f"{sample}_{hap}.chain"
    out = subprocess.run(
        ["bcftools", "consensus", "-f", str(folder / "reference.fa"), "-s", sample,
         "-H", str(hap), "-c", str(chain), str(folder / "cohort.vcf.gz")],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    seq = "".join(line.strip() for line in out.splitlines() if not line.startswith(">"))
    codes = encode(seq.upper())
    to_ref = np.full(codes.shape[0], -1, dtype=np.int64)
    lines = [line.split() for line in chain.read_text().splitlines() if line.strip()]
    r, a = int(lines[0][5]), int(lines[0][10])
    for fields in lines[1:]:
        size = int(fields[0])
        to_ref[a : a + size] = np.arange(r, r + size)
        if len(fields) == 3:
            r += size + int(fields[1])
            a += size + int(fields[2])
    return codes, to_ref


@needs_bcftools
def test_haplotypes_match_bcftools(indel_world, written_indels, tmp_path):
    cohort = indel_world.cohort
    chrom = indel_world.reference.names[0]
    ref = indel_world.reference.sequences[chrom]
    carriers = np.flatnonzero(cohort.haplotypes[_is_indel(cohort)].any(axis=(0, 2)))
    assert carriers.size >= 3
    for s in carriers[:3]:
        for hap in (1, 2):
            codes, to_ref = _consensus(tmp_path, written_indels, cohort.samples[s], hap)
            mine, coords, inserted = apply_alleles(
                ref, 0, cohort.pos, cohort.ref, cohort.alt, cohort.haplotypes[:, s, hap - 1] == 1
            )
            assert np.array_equal(mine, codes)
            aligned = to_ref >= 0
            assert np.array_equal(coords[aligned], to_ref[aligned])
            assert not inserted[aligned].any()


def _grammar_on(codes, to_ref, model):
    """The grammar on bcftools' haplotype around the model's anchors, its profile put
    back on the reference positions of ``[pstart, pend)`` through the chain."""
    margin, _ = reach()
    hap = [int(np.searchsorted(np.maximum.accumulate(to_ref), t.pos)) for t in model.tss]
    first, last = min(hap) - margin, max(hap) + margin + 1
    anchors = [Anchor(h - first, a.strand, a.base) for h, a in zip(hap, model.anchors, strict=True)]
    rates, prof = initiation(codes[None, first:last], anchors)
    out = np.zeros((2, model.pend - model.pstart))
    pos = to_ref[first:last]
    ok = (pos >= model.pstart) & (pos < model.pend)
    out[:, pos[ok] - model.pstart] = prof[0][:, ok]
    return rates[0], out


@needs_bcftools
def test_expected_signal_on_haplotype_coordinates(indel_world, written_indels, tmp_path):
    cohort = indel_world.cohort
    by_element = {m.element.element_id: m for m in element_models(indel_world)}
    checked = 0
    for indel in indel_world.indels:
        model = by_element[indel.element_id]
        rows = indel_rows(indel_world, model)
        v = int(np.flatnonzero(cohort.ids == _vid(indel))[0])
        carriers = np.argwhere(cohort.haplotypes[v] == 1)
        if carriers.size == 0:
            continue
        s, h = (int(x) for x in carriers[0])
        codes, to_ref = _consensus(tmp_path, written_indels, cohort.samples[s], h + 1)
        alleles = cohort.haplotypes[rows, s, h][None]
        rates, prof = element_signal(indel_world, model, rows, alleles)
        want_rates, want_prof = _grammar_on(codes, to_ref, model)
        np.testing.assert_allclose(rates[0], want_rates, rtol=1e-12)
        np.testing.assert_allclose(prof[0], want_prof, rtol=1e-12, atol=1e-15)
        checked += 1
        if checked == 4:
            break
    assert checked == 4


def test_without_indels_matches_the_fixed_window(indel_world):
    """All-reference alleles through the haplotype path give the fixed-window result."""
    n_checked = 0
    for model in element_models(indel_world):
        rows = indel_rows(indel_world, model)
        if rows is None:
            continue
        rates, prof = element_signal(indel_world, model, rows, np.zeros((1, rows.size), np.int8))
        seq = indel_world.reference.sequences[model.element.chrom][model.start : model.end]
        want_r, want_p = initiation(seq[None], model.anchors)
        np.testing.assert_array_equal(rates[0], want_r[0])
        np.testing.assert_array_equal(prof[0], want_p[0][:, model.profile_slice])
        n_checked += 1
    assert n_checked >= 5


def test_designed_indels_act_as_planted(indel_world):
    expected = expected_procap(indel_world)
    effects = variant_effects(indel_world, expected)
    acted = 0
    for indel in indel_world.indels:
        vid = _vid(indel)
        row = effects[(effects["variant_id"] == vid) & (effects["element_id"] == indel.element_id)]
        assert len(row) == 1
        fc = float(row["log2fc_total"].iloc[0])
        if abs(fc) >= 0.05:
            acted += 1
            assert np.sign(fc) == (1 if indel.direction == "up" else -1), (indel, fc)
    assert acted >= 0.75 * len(indel_world.indels)
    truth = indel_world.truth.set_index("variant_id")
    for indel in indel_world.indels:
        row = truth.loc[_vid(indel)]
        assert row["class"] == indel.effect and row["causal"] == "true"
    # the expected track of a hom-alt carrier of a deletion reads 0 at the deleted bases
    cohort = indel_world.cohort
    models = {m.element.element_id: k for k, m in enumerate(expected.models)}
    for indel in indel_world.indels:
        if indel.effect != "indel_break":
            continue
        v = int(np.flatnonzero(cohort.ids == _vid(indel))[0])
        hom = np.flatnonzero(cohort.haplotypes[v].sum(axis=1) == 2)
        k = models[indel.element_id]
        m = expected.models[k]
        lo, hi = indel.pos + 1 - m.pstart, indel.pos + len(indel.ref) - m.pstart
        if hom.size and 0 <= lo and hi <= m.pend - m.pstart:
            assert np.all(expected.profiles[k][hom][:, :, lo:hi] == 0)
