"""Promoters and enhancers planted into the synthetic reference, with their motif grammar.

An element is built in its own *sense* frame and then written onto the genome (reverse
complemented for a minus-strand promoter). All coordinates stored are genomic, 0-based,
half-open; a site's ``strand`` is the strand the motif reads on.

Promoters (window TSS-300 .. TSS+200 in the sense frame):

* ``Inr`` (YYANWYY) at every sense TSS, the A at +1;
* ``TATA`` (TATAWAWR) at -31..-24 (often in non-CpG-island promoters, rarely in CGI ones);
* divergent (bidirectional) promoters: an antisense TSS 95-125 bp upstream on the other
  strand with its own Inr (and sometimes a TATA box upstream of it);
* CpG-island promoters (about 70%) carry a GC-rich, CpG-rich background and GC boxes (SP1),
  ETS and NRF1 sites between -220 and -35; non-CGI promoters keep the genome background.

Enhancers (400-600 bp) follow a *program*: ``shared`` (AP-1, CEBP, NF-kB, ETS),
``hepatocyte`` (HNF4A-led) or ``myeloid`` (SPI1/PU.1-led, the Kupffer-like program), with
2-5 sites in the central 200 bp and, in most, a divergent pair of weak initiators
~110 bp apart flanking the core (eRNA initiation).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from varinterp.simulate.motifs import MOTIFS, reverse_complement, sample_instance
from varinterp.simulate.reference import Reference, dinucleotide_chain, sample_markov

__all__ = [
    "ENHANCER_PROGRAMS",
    "TSS",
    "Element",
    "MotifSite",
    "plant_elements",
]

#: program -> (defining motif, {motif: weight} for the other sites, share of enhancers)
ENHANCER_PROGRAMS: dict[str, tuple[str, dict[str, float], float]] = {
    "shared": ("AP1", {"AP1": 2.0, "CEBP": 1.0, "NFKB": 1.0, "ETS": 1.0}, 0.40),
    "hepatocyte": ("HNF4A", {"HNF4A": 2.0, "CEBP": 2.0, "AP1": 1.0}, 0.35),
    "myeloid": ("SPI1", {"SPI1": 2.0, "AP1": 2.0, "CEBP": 1.0, "NFKB": 1.0}, 0.25),
}

_PROMOTER_UP, _PROMOTER_DOWN = 300, 200


@dataclass(frozen=True)
class MotifSite:
    """One planted motif: genomic ``[start, end)`` (0-based), read on `strand`.

    ``intact`` is False for a site that the reference breaks on purpose (a designed SNP's
    alt allele restores it).
    """

    motif: str
    chrom: str
    start: int
    end: int
    strand: str
    element_id: str
    site_id: str = ""
    intact: bool = True


@dataclass(frozen=True)
class TSS:
    """A planted transcription start site: 0-based position of the +1 base, its strand."""

    chrom: str
    pos: int
    strand: str
    role: str  # "sense", "antisense" (divergent partner) or "enhancer"


@dataclass(frozen=True)
class Element:
    """A planted regulatory element (genomic 0-based half-open coordinates)."""

    element_id: str
    chrom: str
    start: int
    end: int
    kind: str  # "promoter" or "enhancer"
    strand: str  # "+" / "-" for promoters (sense TSS strand), "." for enhancers
    program: str  # promoters: "cpg_island" / "non_cpg"; enhancers: a key of ENHANCER_PROGRAMS
    strength: float  # latent activity (log-normal, median 1) for later track simulation
    tss: tuple[TSS, ...] = ()
    sites: tuple[MotifSite, ...] = field(default=())

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass
class _Draft:
    """An element under construction in its sense frame (local coordinates)."""

    seq: np.ndarray
    busy: np.ndarray
    sites: list[tuple[str, int, str]] = field(default_factory=list)  # (motif, start, strand)
    tss: list[tuple[int, str, str]] = field(default_factory=list)  # (pos, strand, role)

    def put(self, motif: str, start: int, strand: str, rng: np.random.Generator) -> bool:
        length = MOTIFS[motif].length
        if start < 0 or start + length > self.seq.shape[0]:
            return False
        if self.busy[max(start - 1, 0) : start + length + 1].any():
            return False
        inst = sample_instance(motif, rng)
        self.seq[start : start + length] = reverse_complement(inst) if strand == "-" else inst
        self.busy[start : start + length] = True
        self.sites.append((motif, start, strand))
        return True

    def put_somewhere(
        self, motif: str, lo: int, hi: int, rng: np.random.Generator, *, tries: int = 30
    ) -> bool:
        length = MOTIFS[motif].length
        for _ in range(tries):
            if hi - length <= lo:
                return False
            start = int(rng.integers(lo, hi - length))
            strand = "+" if rng.random() < 0.5 else "-"
            if self.put(motif, start, strand, rng):
                return True
        return False

    def put_inr(self, tss: int, strand: str, role: str, rng: np.random.Generator) -> bool:
        motif = MOTIFS["Inr"]
        off = motif.tss_offset or 0
        start = tss - off if strand == "+" else tss - (motif.length - 1 - off)
        if self.put("Inr", start, strand, rng):
            self.tss.append((tss, strand, role))
            return True
        return False


def _promoter(rng: np.random.Generator, background: np.ndarray) -> tuple[_Draft, str]:
    length = _PROMOTER_UP + _PROMOTER_DOWN
    cgi = rng.random() < 0.7
    if cgi:
        gc = float(np.clip(rng.normal(0.64, 0.04), 0.55, 0.75))
        seq = sample_markov(length, dinucleotide_chain(gc, 0.8), rng)
    else:
        seq = background.copy()
    draft = _Draft(seq=seq, busy=np.zeros(length, dtype=bool))
    t = _PROMOTER_UP
    draft.put_inr(t, "+", "sense", rng)
    if rng.random() < (0.15 if cgi else 0.5):
        draft.put("TATA", t - 31, "+", rng)
    if rng.random() < (0.75 if cgi else 0.35):
        anti = t - int(rng.integers(95, 126))
        draft.put_inr(anti, "-", "antisense", rng)
        if rng.random() < 0.15:
            draft.put("TATA", anti + 24, "-", rng)
    if cgi:
        for _ in range(int(rng.integers(1, 4))):
            draft.put_somewhere("SP1", t - 220, t - 35, rng)
        for name, prob in (("ETS", 0.45), ("NRF1", 0.3)):
            if rng.random() < prob:
                draft.put_somewhere(name, t - 220, t - 35, rng)
    elif rng.random() < 0.4:
        draft.put_somewhere("SP1", t - 220, t - 35, rng)
    return draft, "cpg_island" if cgi else "non_cpg"


def _enhancer(rng: np.random.Generator, background: np.ndarray) -> tuple[_Draft, str]:
    names = list(ENHANCER_PROGRAMS)
    shares = np.array([ENHANCER_PROGRAMS[n][2] for n in names])
    program = names[int(rng.choice(len(names), p=shares / shares.sum()))]
    lead, weights, _ = ENHANCER_PROGRAMS[program]
    length = background.shape[0]
    gc = float(np.clip(rng.normal(0.47, 0.03), 0.40, 0.56))
    draft = _Draft(
        seq=sample_markov(length, dinucleotide_chain(gc, 0.35), rng),
        busy=np.zeros(length, dtype=bool),
    )
    centre = length // 2
    if rng.random() < 0.6:
        gap = int(rng.integers(95, 126))
        draft.put_inr(centre + gap // 2, "+", "enhancer", rng)
        draft.put_inr(centre + gap // 2 - gap, "-", "enhancer", rng)
    motifs = [lead]
    others = list(weights)
    w = np.array([weights[m] for m in others])
    motifs += [
        others[i] for i in rng.choice(len(others), size=int(rng.integers(1, 5)), p=w / w.sum())
    ]
    for name in motifs:
        draft.put_somewhere(name, centre - 100, centre + 100, rng)
    return draft, program


def _place(rng: np.random.Generator, length: int, sizes: list[int]) -> list[int | None]:
    """Random non-overlapping starts (>= 500 bp apart, 2 kb from the ends) for `sizes`.

    A size that finds no room in 200 draws gets None.
    """
    starts: list[int | None] = []
    taken_starts: list[int] = []
    taken_ends: list[int] = []
    for size in sizes:
        start = None
        for _ in range(200):
            cand = int(rng.integers(2_000, max(2_001, length - 2_000 - size)))
            if cand + size > length - 2_000:
                continue
            i = bisect.bisect_left(taken_starts, cand)
            if i > 0 and taken_ends[i - 1] + 500 > cand:
                continue
            if i < len(taken_starts) and cand + size + 500 > taken_starts[i]:
                continue
            start = cand
            taken_starts.insert(i, cand)
            taken_ends.insert(i, cand + size)
            break
        starts.append(start)
    return starts


def _finish(
    draft: _Draft, chrom: str, start: int, strand: str, element_id: str
) -> tuple[np.ndarray, tuple[TSS, ...], tuple[MotifSite, ...]]:
    length = draft.seq.shape[0]
    flip = strand == "-"
    seq = reverse_complement(draft.seq) if flip else draft.seq
    placed = []
    for motif, a, s in draft.sites:
        b = a + MOTIFS[motif].length
        if flip:
            a, b, s = length - b, length - a, "+" if s == "-" else "-"
        placed.append((start + a, start + b, s, motif))
    sites = [
        MotifSite(motif, chrom, a, b, s, element_id, site_id=f"{element_id}.{i + 1}")
        for i, (a, b, s, motif) in enumerate(sorted(placed))
    ]
    tss = []
    for pos, s, role in draft.tss:
        if flip:
            pos, s = length - 1 - pos, "+" if s == "-" else "-"
        tss.append(TSS(chrom, start + pos, s, role))
    return (
        seq,
        tuple(sorted(tss, key=lambda t: t.pos)),
        tuple(sites),
    )


def plant_elements(
    *,
    rng: np.random.Generator,
    reference: Reference,
    promoter_spacing: int = 25_000,
    enhancer_spacing: int = 12_000,
) -> tuple[Reference, tuple[Element, ...]]:
    """Plant promoters (one per `promoter_spacing` bp) and enhancers into a copy of `reference`.

    Returns the new reference and the elements sorted by (chromosome, start), numbered
    ``prom0001..`` and ``enh0001..`` in that order.
    """
    sequences = {name: seq.copy() for name, seq in reference.sequences.items()}
    raw: list[tuple[str, int, str, str, str, float, _Draft]] = []
    for chrom, seq in sequences.items():
        n_prom = max(1, round(seq.shape[0] / promoter_spacing))
        n_enh = max(1, round(seq.shape[0] / enhancer_spacing))
        kinds = ["promoter"] * n_prom + ["enhancer"] * n_enh
        sizes = [
            _PROMOTER_UP + _PROMOTER_DOWN if k == "promoter" else int(rng.integers(400, 601))
            for k in kinds
        ]
        starts = _place(rng, seq.shape[0], sizes)
        for kind, size, start in zip(kinds, sizes, starts, strict=True):
            if start is None:
                continue
            background = seq[start : start + size]
            if kind == "promoter":
                strand = "+" if rng.random() < 0.5 else "-"
                if strand == "-":
                    background = reverse_complement(background)
                draft, program = _promoter(rng, background)
            else:
                strand = "."
                draft, program = _enhancer(rng, background)
            strength = float(np.exp(rng.normal(0.0, 0.5)))
            raw.append((chrom, start, kind, strand, program, strength, draft))
    order = {name: i for i, name in enumerate(sequences)}
    raw.sort(key=lambda r: (order[r[0]], r[1]))
    counters = {"promoter": 0, "enhancer": 0}
    elements = []
    for chrom, start, kind, strand, program, strength, draft in raw:
        counters[kind] += 1
        prefix = "prom" if kind == "promoter" else "enh"
        element_id = f"{prefix}{counters[kind]:04d}"
        seq, tss, sites = _finish(draft, chrom, start, strand, element_id)
        sequences[chrom][start : start + seq.shape[0]] = seq
        elements.append(
            Element(
                element_id=element_id,
                chrom=chrom,
                start=start,
                end=start + seq.shape[0],
                kind=kind,
                strand=strand,
                program=program,
                strength=strength,
                tss=tss,
                sites=sites,
            )
        )
    return Reference(sequences=sequences), tuple(elements)
