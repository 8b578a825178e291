from __future__ import annotations

import itertools

import numpy as np

from varinterp.simulate.motifs import MOTIFS, site_matches


def _gc(world, chrom, start, end):
    return float(np.isin(world.reference.sequences[chrom][start:end], (1, 2)).mean())


def test_elements_are_sorted_disjoint_and_inside(world):
    lengths = world.reference.lengths
    ids = [e.element_id for e in world.elements]
    assert len(set(ids)) == len(ids)
    by_chrom = {}
    for e in world.elements:
        assert 0 <= e.start < e.end <= lengths[e.chrom]
        by_chrom.setdefault(e.chrom, []).append((e.start, e.end))
    for spans in by_chrom.values():
        assert spans == sorted(spans)
        assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))
    kinds = {e.kind for e in world.elements}
    assert kinds == {"promoter", "enhancer"}


def test_every_site_matches_exactly_when_intact(world):
    n_broken = 0
    for site in world.sites:
        codes = world.reference.sequences[site.chrom][site.start : site.end]
        assert site.end - site.start == MOTIFS[site.motif].length
        assert site_matches(codes, site.motif, site.strand) == site.intact
        n_broken += not site.intact
    assert n_broken == sum(v.effect == "motif_gain" for v in world.planted) > 0


def test_sites_lie_inside_their_element(world):
    for e in world.elements:
        for site in e.sites:
            assert site.element_id == e.element_id
            assert e.start <= site.start < site.end <= e.end


def test_tss_sit_on_the_inr_a(world):
    n = 0
    for e in world.elements:
        inr = [s for s in e.sites if s.motif == "Inr"]
        for tss in e.tss:
            base = world.reference.sequences[tss.chrom][tss.pos]
            hit = [s for s in inr if s.start <= tss.pos < s.end and s.strand == tss.strand]
            assert len(hit) == 1
            if hit[0].intact:
                # the +1 base is an A read on the TSS strand
                assert base == (0 if tss.strand == "+" else 3)
            n += 1
    assert n > len(world.elements)


def test_promoter_grammar(world):
    promoters = [e for e in world.elements if e.kind == "promoter"]
    n_divergent = 0
    for p in promoters:
        sense = [t for t in p.tss if t.role == "sense"]
        assert len(sense) == 1 and sense[0].strand == p.strand
        anti = [t for t in p.tss if t.role == "antisense"]
        for t in anti:
            assert t.strand != p.strand
            gap = sense[0].pos - t.pos if p.strand == "+" else t.pos - sense[0].pos
            assert 95 <= gap <= 125  # divergent partner upstream, ~110 bp apart
            n_divergent += 1
        for s in p.sites:
            if s.motif == "TATA" and s.strand == p.strand:
                # TATA box 31..24 bp upstream of the sense TSS
                up = sense[0].pos - s.start if p.strand == "+" else s.end - 1 - sense[0].pos
                assert up == 31
    assert n_divergent >= len(promoters) // 3
    cgi = [p for p in promoters if p.program == "cpg_island"]
    assert cgi and np.mean([_gc(world, p.chrom, p.start, p.end) for p in cgi]) > 0.55
    assert any(s.motif == "SP1" for p in cgi for s in p.sites)


def test_enhancer_programs_carry_their_lead_motif(world):
    lead = {"hepatocyte": "HNF4A", "myeloid": "SPI1", "shared": "AP1"}
    enhancers = [e for e in world.elements if e.kind == "enhancer"]
    assert {e.program for e in enhancers} == set(lead)
    n_with = sum(any(s.motif == lead[e.program] for s in e.sites) for e in enhancers)
    assert n_with >= 0.9 * len(enhancers)
    assert all(e.strand == "." for e in enhancers)
