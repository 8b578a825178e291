"""Simulated ATAC world (world part 6): cell types in lineages, OCRs, Tn5 insertions with
footprints and the real Tn5 preference, and SNPs with known per-cell-type effects.

`make_atac_world(AtacParams(...))` draws, in order (each from its own seeded stream):

1. a background genome (`varinterp.simulate.reference`);
2. each cell type's factor occupancies and sequencing depth (`atac_model.tf_activity`;
   depth log-normal, sd `depth_sd`);
3. OCRs every `ocr_spacing` bp (jitter +-15%), each of one program: a lineage's
   (2-3 sites of its factors, and with probability 0.5 an AP-1 or CTCF site) or shared
   (1-2 AP-1/CTCF sites), planted as consensus instances on a random strand within
   +-110 bp of the centre; `background` regions (closed: Tn5 background only) half-way
   between OCRs far enough from both;
4. each OCR's sites, read back from the sequence, its base level (log-normal around
   `base_count`) and its expected counts per cell type (`atac_model.expected_counts`);
5. per cell type, Tn5 insertions: Poisson at every base of the genome at
   `background_rate` x the Tn5 preference, plus in every OCR window (`window` bp)
   Poisson of the profile density scaled so its central `COUNTED` bp expect
   ``lambda[i, c]`` insertions (`atac_model.insertion_density`);
6. fragments: each cell type's insertions on a contig, sorted, paired in order (a
   fragment spans two consecutive insertions; an odd last one is dropped), each given a
   random barcode of the cell type (`barcodes_per_cell_type`), plus
   `ambient_fraction` more fragments of background insertions on barcodes in no cell
   type;
7. SNPs (`n_variants`, default one per three OCRs): three in four break a planted
   lineage-factor site (a base its consensus fixes changed to another), one in four are
   controls in an OCR core that change no site; the truth is the exact
   ``log2(lambda_alt / lambda_ref)`` of the central counts in every cell type, from
   rescanning the ALT sequence.

`write_atac_world` writes the folder (see ``docs/simulation.md``). The truth ignores the
background insertions (about ``COUNTED x background_rate`` per OCR and cell type).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.atac_model import (
    CELL_TYPES,
    COUNTED,
    LINEAGES,
    SHARED_TFS,
    TFS,
    Site,
    expected_counts,
    insertion_density,
    lineage_of,
    ocr_sites,
    tf_activity,
)
from varinterp.simulate.motifs import MOTIFS, allowed_mask, reverse_complement, sample_instance
from varinterp.simulate.reference import Reference, make_reference
from varinterp.simulate.tn5 import tn5_preference
from varinterp.simulate.world import stream

__all__ = ["AtacParams", "AtacWorld", "make_atac_world"]

_PROGRAMS = (*LINEAGES, "shared")


@dataclass(frozen=True)
class AtacParams:
    """Parameters of a simulated ATAC world (module docstring)."""

    seed: int = 0
    genome_size: int = 4_000_000
    n_chromosomes: int = 6
    ocr_spacing: int = 2_000
    window: int = 1_000
    base_count: float = 6.0
    depth_sd: float = 0.35
    background_rate: float = 0.02
    n_variants: int | None = None
    barcodes_per_cell_type: int = 20
    ambient_fraction: float = 0.01

    def validate(self) -> AtacParams:
        checks = [
            (10_000 <= self.genome_size <= 200_000_000, "genome_size must be 10 kb-200 Mb"),
            (1 <= self.n_chromosomes <= 50, "n_chromosomes must be 1-50"),
            (self.window >= 500 and self.window % 2 == 0, "window must be even and >= 500"),
            (self.ocr_spacing >= self.window + 200, "ocr_spacing must be >= window + 200"),
            (self.base_count > 0, "base_count must be > 0"),
            (self.depth_sd >= 0, "depth_sd must be >= 0"),
            (self.background_rate >= 0, "background_rate must be >= 0"),
            (self.n_variants is None or self.n_variants >= 0, "n_variants must be >= 0"),
            (self.barcodes_per_cell_type >= 1, "barcodes_per_cell_type must be >= 1"),
            (0 <= self.ambient_fraction < 1, "ambient_fraction must be in [0, 1)"),
        ]
        for ok, what in checks:
            if not ok:
                raise InputError(f"ATAC world: {what}")
        return self


@dataclass(eq=False)
class AtacWorld:
    """A simulated ATAC world.

    - ``reference``: the genome; ``cell_types`` / ``lineages``: ``(C,)`` names;
      ``activity`` ``(C, len(TFS)) float64`` occupancies; ``depth`` ``(C,) float64``;
    - ``ocrs``: one row per OCR (``ocr_id chrom centre start end program base``; start/end
      the counted window, 0-based half-open) and ``expected`` ``(n_ocr, C) float64``;
    - ``sites``: one row per site (``ocr_id tf chrom start end strand``);
    - ``background``: closed regions (``chrom start end``, 0-based);
    - ``variants``: ``chrom pos0 ref alt id ocr_id kind tf lineage`` and ``effects``
      ``(n_variants, C) float64`` (log2 fold change of the expected central counts);
    - ``insertions[c][chrom]``: ``(positions (m,) int64 sorted, counts (m,) int64)`` of
      the fragments' insertion sites;
    - ``fragments``: ``(contig (n,), start, end, barcode index)`` int64 arrays and
      ``barcodes`` / ``barcode_cell_type`` (``""`` for ambient barcodes).
    """

    params: AtacParams
    reference: Reference
    cell_types: tuple[str, ...]
    lineages: tuple[str, ...]
    activity: np.ndarray
    depth: np.ndarray
    ocrs: pd.DataFrame
    expected: np.ndarray
    sites: pd.DataFrame
    background: pd.DataFrame
    variants: pd.DataFrame
    effects: np.ndarray
    insertions: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    fragments: dict[str, np.ndarray] = field(default_factory=dict)
    barcodes: tuple[str, ...] = ()
    barcode_cell_type: tuple[str, ...] = ()


def _ocr_centres(rng, lengths: dict[str, int], spacing: int, window: int):
    rows = []
    jitter = int(0.15 * spacing)
    for chrom, length in lengths.items():
        first = window // 2 + jitter + 100
        for c in range(first, length - window // 2 - jitter - 100, spacing):
            rows.append((chrom, int(c + rng.integers(-jitter, jitter + 1))))
    return rows


def _plant(rng, seq: np.ndarray, centre: int, program: str) -> None:
    if program == "shared":
        tfs = list(rng.choice(SHARED_TFS, size=int(rng.integers(1, 3)), replace=True))
    else:
        own = LINEAGES[program][0]
        tfs = list(rng.choice(own, size=int(rng.integers(2, 4)), replace=True))
        if rng.random() < 0.5:
            tfs.append(str(rng.choice(SHARED_TFS)))
    taken: list[tuple[int, int]] = []
    for tf in tfs:
        length = MOTIFS[tf].length
        for _ in range(50):
            start = centre + int(rng.integers(-110, 110 - length))
            if all(start + length + 2 <= a or b + 2 <= start for a, b in taken):
                break
        else:
            continue
        site = sample_instance(tf, rng)
        if rng.random() < 0.5:
            site = reverse_complement(site)
        seq[start : start + length] = site
        taken.append((start, start + length))


def _sites_of(seq: np.ndarray, centre: int) -> list[Site]:
    return ocr_sites(seq, centre=centre)


def _break_site(rng, seq: np.ndarray, site: Site) -> tuple[int, int] | None:
    """A (position, alt code) that breaks `site` (a base its consensus fixes)."""
    mask = allowed_mask(site.tf)
    if site.strand == "-":
        mask = mask[::-1, ::-1]
    fixed = np.flatnonzero(mask.sum(axis=1) == 1)
    if fixed.size == 0:
        return None
    k = int(rng.choice(fixed))
    pos = site.start + k
    choices = [b for b in range(4) if not mask[k, b]]
    return pos, int(rng.choice(choices))


def _variant_effect(seq, centre, pos, alt, activity, base, depth):
    ref_sites = _sites_of(seq, centre)
    old = int(seq[pos])
    seq[pos] = alt
    alt_sites = _sites_of(seq, centre)
    seq[pos] = old
    lam_ref = expected_counts(ref_sites, activity, base=base, depth=depth)
    lam_alt = expected_counts(alt_sites, activity, base=base, depth=depth)
    return ref_sites, alt_sites, np.log2(lam_alt / lam_ref)


def _design_variants(rng, world_seq, ocrs, activity, depth, n_variants):
    rows, effects = [], []
    order = rng.permutation(len(ocrs))
    n_break = round(0.75 * n_variants)
    used: set[tuple[str, int]] = set()
    for i in order:
        if len(rows) >= n_variants:
            break
        o = ocrs.iloc[i]
        seq = world_seq[o.chrom]
        want_break = sum(r[6] == "break" for r in rows) < n_break
        sites = _sites_of(seq, int(o.centre))
        if want_break:
            lineage_sites = [s for s in sites if s.tf not in SHARED_TFS]
            if not lineage_sites:
                continue
            site = lineage_sites[int(rng.integers(len(lineage_sites)))]
            hit = _break_site(rng, seq, site)
            if hit is None:
                continue
            pos, alt = hit
            tf = site.tf
        else:
            lo, hi = int(o.centre) - 150, int(o.centre) + 150
            pos = int(rng.integers(lo, hi))
            if any(s.start - 2 <= pos < s.end + 2 for s in sites):
                continue
            alt = int((int(seq[pos]) + int(rng.integers(1, 4))) % 4)
            tf = "."
        if (o.chrom, pos) in used or int(seq[pos]) > 3:
            continue
        ref_sites, alt_sites, eff = _variant_effect(
            seq, int(o.centre), pos, alt, activity, float(o.base), depth
        )
        broken = len(alt_sites) < len(ref_sites)
        if want_break != broken or len(alt_sites) > len(ref_sites) - int(want_break):
            continue  # it made another site, or a control that touched one
        used.add((o.chrom, pos))
        kind = "break" if want_break else "control"
        lineage = "." if tf == "." else next(k for k, (tfs, _) in LINEAGES.items() if tf in tfs)
        rows.append(
            (o.chrom, pos, "ACGT"[int(seq[pos])], "ACGT"[alt], "", o.ocr_id, kind, tf, lineage)
        )
        effects.append(eff)
    cols = ["chrom", "pos0", "ref", "alt", "id", "ocr_id", "kind", "tf", "lineage"]
    table = pd.DataFrame(rows, columns=cols)
    names = list(world_seq)
    if len(table):
        key = np.lexsort((table["pos0"].to_numpy(), table["chrom"].map(names.index).to_numpy()))
        table = table.iloc[key].reset_index(drop=True)
        effects = [effects[k] for k in key]
        table["id"] = [f"atac_snp{i + 1}" for i in range(len(table))]
    eff = np.array(effects, dtype=np.float64).reshape(len(table), len(CELL_TYPES))
    return table, eff


def _insertions(rng, reference, ocrs, expected, activity, window, background_rate, tn5):
    """Per cell type and contig, sorted (positions, counts) of drawn insertions."""
    half = window // 2
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {c: {} for c in CELL_TYPES}
    by_chrom = {c: ocrs.index[ocrs["chrom"] == c].to_numpy() for c in reference.names}
    for chrom, seq in reference.sequences.items():
        pref = tn5[chrom]
        densities = []
        for i in by_chrom[chrom]:
            centre = int(ocrs.at[i, "centre"])
            lo = centre - half
            part = seq[lo : lo + window]
            sites = _sites_of(part, half)
            densities.append((lo, part, sites))
        for ci, ct in enumerate(CELL_TYPES):
            occupancy = dict(zip(TFS, activity[ci], strict=True))
            counts = rng.poisson(background_rate * pref).astype(np.int64)
            for i, (lo, part, sites) in zip(by_chrom[chrom], densities, strict=True):
                d = insertion_density(part, sites, occupancy, centre=half)
                c0 = half - COUNTED // 2
                scale = expected[i, ci] / d[c0 : c0 + COUNTED].sum()
                counts[lo : lo + window] += rng.poisson(scale * d)
            pos = np.flatnonzero(counts)
            out[ct][chrom] = (pos.astype(np.int64), counts[pos])
    return out


def _pair(positions: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sites = np.repeat(positions, counts)
    n = sites.size // 2
    return sites[0 : 2 * n : 2], sites[1 : 2 * n : 2] + 1


def _fragments(rng, world_insertions, reference, params):
    contigs = list(reference.names)
    barcodes: list[str] = []
    owner: list[str] = []
    letters = np.array(list("ACGT"))
    seen: set[str] = set()

    def new_barcode() -> str:
        while True:
            bc = "".join(letters[rng.integers(0, 4, 16)]) + "-1"
            if bc not in seen:
                seen.add(bc)
                return bc

    parts = []
    for ct in CELL_TYPES:
        first = len(barcodes)
        for _ in range(params.barcodes_per_cell_type):
            barcodes.append(new_barcode())
            owner.append(ct)
        for ci, chrom in enumerate(contigs):
            pos, cnt = world_insertions[ct][chrom]
            start, end = _pair(pos, cnt)
            bc = first + rng.integers(0, params.barcodes_per_cell_type, start.size)
            parts.append((np.full(start.size, ci), start, end, bc))
    n_frag = sum(p[1].size for p in parts)
    n_ambient = round(params.ambient_fraction * n_frag)
    if n_ambient:
        first = len(barcodes)
        n_bc = max(1, params.barcodes_per_cell_type // 2)
        for _ in range(n_bc):
            barcodes.append(new_barcode())
            owner.append("")
        lengths = np.array([reference.lengths[c] for c in contigs])
        contig = rng.choice(len(contigs), size=n_ambient, p=lengths / lengths.sum())
        start = (rng.random(n_ambient) * (lengths[contig] - 400)).astype(np.int64)
        end = start + rng.integers(40, 400, n_ambient)
        parts.append((contig, start, end, first + rng.integers(0, n_bc, n_ambient)))
    cols = [np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(4)]
    return dict(zip(("contig", "start", "end", "barcode"), cols, strict=True)), barcodes, owner


def _steps() -> Iterator[str]:
    yield from ("reference", "cell types", "OCRs", "insertions", "variants", "fragments")


def make_atac_world(
    params: AtacParams | None = None, *, on_progress: ProgressCallback | None = None
) -> AtacWorld:
    """Draw a simulated ATAC world (module docstring); same parameters, same world."""
    p = (params or AtacParams()).validate()
    steps = list(_steps())
    reference = make_reference(
        rng=stream(p.seed, "atac/reference"),
        genome_size=p.genome_size,
        n_chromosomes=p.n_chromosomes,
    )
    report(on_progress, 1, len(steps))
    rng = stream(p.seed, "atac/cell_types")
    activity = tf_activity(rng)
    depth = np.exp(rng.normal(0.0, p.depth_sd, len(CELL_TYPES)))
    report(on_progress, 2, len(steps))
    rng = stream(p.seed, "atac/ocrs")
    seqs = {k: v.copy() for k, v in reference.sequences.items()}
    centres = _ocr_centres(rng, reference.lengths, p.ocr_spacing, p.window)
    if not centres:
        raise InputError("ATAC world: the genome is too small for one OCR; raise genome_size")
    rows, site_rows, expected = [], [], []
    for k, (chrom, centre) in enumerate(centres):
        program = str(rng.choice(_PROGRAMS))
        _plant(rng, seqs[chrom], centre, program)
        base = float(p.base_count * np.exp(rng.normal(0.0, 0.3)))
        ocr_id = f"ocr{k + 1}"
        rows.append((ocr_id, chrom, centre, centre - COUNTED // 2, centre + COUNTED // 2,
                     program, base))  # fmt: skip
    reference = Reference(sequences=seqs)
    ocrs = pd.DataFrame(
        rows, columns=["ocr_id", "chrom", "centre", "start", "end", "program", "base"]
    )
    for o in ocrs.itertuples():
        sites = _sites_of(seqs[o.chrom], o.centre)
        expected.append(expected_counts(sites, activity, base=o.base, depth=depth))
        site_rows += [(o.ocr_id, s.tf, o.chrom, s.start, s.end, s.strand) for s in sites]
    sites_table = pd.DataFrame(
        site_rows, columns=["ocr_id", "tf", "chrom", "start", "end", "strand"]
    )
    expected_arr = np.array(expected, dtype=np.float64)
    bg = []
    for (c1, x1), (c2, x2) in itertools.pairwise(centres):
        mid = (x1 + x2) // 2
        if c1 == c2 and mid - x1 >= p.window and x2 - mid >= p.window:
            bg.append((c1, mid - p.window // 2, mid + p.window // 2))
    background = pd.DataFrame(bg, columns=["chrom", "start", "end"])
    report(on_progress, 3, len(steps))
    tn5 = {c: tn5_preference(s) for c, s in reference.sequences.items()}
    insertions = _insertions(
        stream(p.seed, "atac/insertions"), reference, ocrs, expected_arr, activity, p.window,
        p.background_rate, tn5,
    )  # fmt: skip
    report(on_progress, 4, len(steps))
    n_var = p.n_variants if p.n_variants is not None else len(ocrs) // 3
    variants, effects = _design_variants(
        stream(p.seed, "atac/variants"), seqs, ocrs, activity, depth, n_var
    )
    report(on_progress, 5, len(steps))
    frags, barcodes, owner = _fragments(stream(p.seed, "atac/fragments"), insertions, reference, p)
    report(on_progress, 6, len(steps))
    return AtacWorld(
        params=p,
        reference=reference,
        cell_types=CELL_TYPES,
        lineages=tuple(lineage_of(c) for c in CELL_TYPES),
        activity=activity,
        depth=depth,
        ocrs=ocrs,
        expected=expected_arr,
        sites=sites_table,
        background=background,
        variants=variants,
        effects=effects,
        insertions=_fragment_insertions(frags, reference, barcodes, owner),
        fragments=frags,
        barcodes=tuple(barcodes),
        barcode_cell_type=tuple(owner),
    )


def _fragment_insertions(frags, reference, barcodes, owner):
    """Per cell type and contig, the insertion sites of the fragments (both ends)."""
    owner_arr = np.asarray(owner, dtype=object)
    cell_type = owner_arr[frags["barcode"]]
    out: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for ct in CELL_TYPES:
        out[ct] = {}
        for ci, chrom in enumerate(reference.names):
            sel = (cell_type == ct) & (frags["contig"] == ci)
            sites = np.concatenate([frags["start"][sel], frags["end"][sel] - 1])
            pos, cnt = np.unique(sites, return_counts=True)
            out[ct][chrom] = (pos.astype(np.int64), cnt.astype(np.int64))
    del barcodes
    return out
