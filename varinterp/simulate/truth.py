"""The truth table: one row per cohort variant, saying what (if anything) it does.

Columns (TSV header, in this order):

``variant_id``      ``chrom:pos:ref:alt`` (as the VCF ID column)
``chrom``, ``pos``  1-based position, as in the VCF
``ref``, ``alt``    plus-strand alleles; ``ref`` equals the FASTA base
``alt_count``       alt alleles among the ``2 * n_samples`` haplotypes
``alt_freq``        ``alt_count / (2 * n_samples)``
``class``           ``motif_break``, ``motif_gain``, ``motif_neutral``, the designed
                    indels' ``indel_break``, ``indel_gain``, ``indel_shift``
                    (`varinterp.simulate.indels`), ``element`` (inside an element,
                    outside its motif sites) or ``background``
``causal``          ``true`` for the designed breaks, gains and shifts, else ``false``
``direction``       expected effect of the alt allele on the element: ``down``, ``up``
                    or ``none``
``element_id``      the element it falls in, or ``.``
``element_kind``    ``promoter`` / ``enhancer`` / ``.``
``program``         the element's program (``cpg_island``, ``myeloid`` ...) or ``.``
``site_id``         the motif site (as in ``motifs.bed``), or ``.``
``motif``           motif name, or ``.``
``motif_strand``    strand the motif reads on, or ``.``
``motif_offset``    0-based position of the SNP (an indel: its first deleted base)
                    within the motif read in its own orientation, or -1
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from varinterp.simulate.cohort import Cohort
from varinterp.simulate.elements import Element
from varinterp.simulate.variants import PlantedVariant

__all__ = ["TRUTH_COLUMNS", "make_truth"]

TRUTH_COLUMNS = (
    "variant_id",
    "chrom",
    "pos",
    "ref",
    "alt",
    "alt_count",
    "alt_freq",
    "class",
    "causal",
    "direction",
    "element_id",
    "element_kind",
    "program",
    "site_id",
    "motif",
    "motif_strand",
    "motif_offset",
)


def _element_of(cohort: Cohort, elements: tuple[Element, ...]) -> np.ndarray:
    """``(n_variants,) int64``: index of the element holding each variant, or -1."""
    out = np.full(cohort.n_variants, -1, dtype=np.int64)
    for chrom in np.unique(cohort.chrom):
        rows = np.flatnonzero(cohort.chrom == chrom)
        mine = [(i, e) for i, e in enumerate(elements) if e.chrom == chrom]
        if not mine:
            continue
        starts = np.array([e.start for _, e in mine])
        ends = np.array([e.end for _, e in mine])
        pos = cohort.pos[rows]
        j = np.searchsorted(starts, pos, side="right") - 1
        ok = (j >= 0) & (pos < ends[np.maximum(j, 0)])
        index = np.array([i for i, _ in mine])
        out[rows[ok]] = index[j[ok]]
    return out


def make_truth(
    *, cohort: Cohort, elements: tuple[Element, ...], planted: tuple[PlantedVariant, ...]
) -> pd.DataFrame:
    """Build the truth table (columns `TRUTH_COLUMNS`, one row per variant, VCF order).

    `planted` may hold `varinterp.simulate.indels.PlantedIndel` records too (same fields).
    """
    n_hap = 2 * cohort.n_samples
    counts = cohort.alt_counts()
    in_element = _element_of(cohort, elements)
    designed = {(v.chrom, v.pos): v for v in planted}
    rows = []
    for i in range(cohort.n_variants):
        chrom, pos = str(cohort.chrom[i]), int(cohort.pos[i])
        el = elements[in_element[i]] if in_element[i] >= 0 else None
        v = designed.get((chrom, pos))
        rows.append(
            {
                "variant_id": str(cohort.ids[i]),
                "chrom": chrom,
                "pos": pos + 1,
                "ref": str(cohort.ref[i]),
                "alt": str(cohort.alt[i]),
                "alt_count": int(counts[i]),
                "alt_freq": round(float(counts[i]) / n_hap, 6),
                "class": v.effect if v else ("element" if el else "background"),
                "causal": "true" if v is not None and v.causal else "false",
                "direction": v.direction if v else "none",
                "element_id": el.element_id if el else ".",
                "element_kind": el.kind if el else ".",
                "program": el.program if el else ".",
                "site_id": v.site_id if v else ".",
                "motif": v.motif if v else ".",
                "motif_strand": v.strand if v else ".",
                "motif_offset": v.offset if v else -1,
            }
        )
    return pd.DataFrame(rows, columns=list(TRUTH_COLUMNS))
