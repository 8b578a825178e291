from __future__ import annotations

import re

import numpy as np

from varinterp.simulate.motifs import BASES, IUPAC, MOTIFS, decode, site_matches


def _site_with(world, variant, allele):
    site = next(s for s in world.sites if s.site_id == variant.site_id)
    codes = world.reference.sequences[site.chrom][site.start : site.end].copy()
    codes[variant.pos - site.start] = BASES.index(allele)
    return site, codes


def test_designed_snps_do_what_the_truth_says(world):
    assert {v.effect for v in world.planted} == {"motif_break", "motif_gain", "motif_neutral"}
    for v in world.planted:
        assert BASES[world.reference.sequences[v.chrom][v.pos]] == v.ref
        site, ref_codes = _site_with(world, v, v.ref)
        _, alt_codes = _site_with(world, v, v.alt)
        ref_hit = site_matches(ref_codes, site.motif, site.strand)
        alt_any = site_matches(alt_codes, site.motif, "+") or site_matches(
            alt_codes, site.motif, "-"
        )
        if v.effect == "motif_break":
            assert ref_hit and not alt_any
        elif v.effect == "motif_gain":
            assert not ref_hit and site_matches(alt_codes, site.motif, site.strand)
        else:
            assert ref_hit and site_matches(alt_codes, site.motif, site.strand)


def _naive_any_match(seq, pos, allele, motif):
    """Independent check: scan every window covering pos, both strands, by string."""
    length = MOTIFS[motif].length
    text = list(decode(seq[max(pos - length + 1, 0) : pos + length]))
    text[min(pos, length - 1)] = allele
    text = "".join(text)
    rc = text[::-1].translate(str.maketrans("ACGT", "TGCA"))
    pattern = "".join("[" + IUPAC[c] + "]" for c in MOTIFS[motif].consensus)
    return bool(re.search(f"(?=({pattern}))", text) or re.search(f"(?=({pattern}))", rc))


def test_breaks_leave_no_overlapping_match(world):
    n = 0
    for v in world.planted:
        seq = world.reference.sequences[v.chrom]
        if v.effect == "motif_break":
            assert _naive_any_match(seq, v.pos, v.ref, v.motif)
            assert not _naive_any_match(seq, v.pos, v.alt, v.motif)
            n += 1
        elif v.effect == "motif_gain":
            assert not _naive_any_match(seq, v.pos, v.ref, v.motif)
            assert _naive_any_match(seq, v.pos, v.alt, v.motif)
    assert n >= 30


def test_offset_is_in_motif_orientation(world):
    for v in world.planted:
        site = next(s for s in world.sites if s.site_id == v.site_id)
        expect = site.start + v.offset if site.strand == "+" else site.end - 1 - v.offset
        assert v.pos == expect


def test_one_designed_snp_per_element_and_count(world):
    assert len({v.element_id for v in world.planted}) == len(world.planted)
    assert len(world.planted) == world.params.motif_variant_count() == 50


def test_designed_snps_are_common_enough(world):
    truth = world.truth.set_index("variant_id")
    designed = truth[truth["class"].str.startswith("motif_")]
    maf = np.minimum(designed["alt_freq"], 1 - designed["alt_freq"])
    assert len(designed) == len(world.planted)
    assert (maf >= 0.05 - 1e-9).all()
