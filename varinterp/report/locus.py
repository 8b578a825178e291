"""`locus_report`: one locus, every piece of evidence given, one offline HTML page + a TSV.

Only the fine-mapping folder is required; each other input adds its section, and a
section whose input was not given says so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path, atomic_write_text
from varinterp.progress import ProgressCallback
from varinterp.report import figures
from varinterp.report.candidates import rank_candidates
from varinterp.report.celltype_effects import celltype_effects_section, read_celltype_effects
from varinterp.report.html import Section, render_page, table_html
from varinterp.report.inputs import (
    chrom_key,
    read_abc,
    read_effects,
    read_elements,
    read_finemap,
    read_genes_bed,
    read_ld,
    read_tracks_table,
)

__all__ = ["LocusReport", "locus_report", "parse_region"]

_TABLE_COLUMNS = [
    "rank", "variant_id", "pip", "cs95", "p", "specific_in", "abc_top_gene", "abc_top_score",
    "log2fc", "score", "reason",
]  # fmt: skip


@dataclass(frozen=True)
class LocusReport:
    """What `locus_report` wrote and found."""

    html: Path
    candidates_tsv: Path
    candidates: pd.DataFrame
    lead: str
    region: tuple[str, int, int]  # chrom, 0-based start, end
    provided: dict[str, bool]


def parse_region(text: str) -> tuple[str, int, int]:
    """``CHROM:START-END`` (1-based inclusive, commas allowed) -> (chrom, start0, end)."""
    m = re.fullmatch(r"\s*([^:\s]+):([\d,]+)-([\d,]+)\s*", text)
    if not m:
        raise InputError(
            f"region {text!r} is not CHROM:START-END (1-based inclusive, e.g. "
            "chr22:39100000-39400000)"
        )
    start, end = int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
    if start < 1 or end < start:
        raise InputError(f"region {text!r}: need 1 <= START <= END")
    return m.group(1), start - 1, end


def _r2_with_lead(variants: pd.DataFrame, lead_idx: int, ld) -> tuple[np.ndarray | None, int]:
    """r² of every variant with the lead ``(n,)`` (0 where not in the panel), and the
    number found in the panel; None when the lead itself is not in the panel."""

    def key(c, p, a, b):
        return chrom_key(c), int(p), frozenset((str(a).upper(), str(b).upper()))

    cols = ["chrom", "pos", "ref", "alt"]
    panel = {key(*r): i for i, r in enumerate(ld.variants[cols].itertuples(index=False))}
    rows = np.array([panel.get(key(*r), -1) for r in variants[cols].itertuples(index=False)])
    if rows[lead_idx] < 0:
        return None, 0
    ok = np.flatnonzero(rows >= 0)
    R, _ = ld.matrix(rows[ok])
    lead_at = int(np.flatnonzero(ok == lead_idx)[0])
    r2 = np.zeros(len(variants))
    r2[ok] = np.nan_to_num(np.asarray(R[lead_at], dtype=np.float64)) ** 2
    return r2, int(ok.size)


def locus_report(
    *,
    finemap_dir: str | os.PathLike,
    out: str | os.PathLike,
    candidates_out: str | os.PathLike | None = None,
    region: str | None = None,
    lead: str | None = None,
    flank: int = 250_000,
    tracks: str | os.PathLike | None = None,
    elements: str | os.PathLike | None = None,
    abc: str | os.PathLike | None = None,
    effects: str | os.PathLike | None = None,
    celltype_effects: str | os.PathLike | None = None,
    ld_matrix: str | os.PathLike | None = None,
    ld_variants: str | os.PathLike | None = None,
    ld_plink: str | os.PathLike | None = None,
    genes: str | os.PathLike | None = None,
    top: int = 3,
    track_flank: int = 1000,
    min_pip: float = 0.01,
    effect_scale: float = 1.0,
    title: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> LocusReport:
    """Write the HTML report `out` and the candidate table (`candidates_out`, default
    ``<out stem>.candidates.tsv``) for the locus in `finemap_dir` (see docs/report.md).

    `celltype_effects` (a multi-task model's per-cell-type scores) adds a section of
    the top candidates' effects in every cell type."""
    out = Path(out)
    cand_path = Path(candidates_out) if candidates_out else out.with_suffix(".candidates.tsv")
    for p in (out, cand_path):
        if p.exists() and not overwrite:
            raise InputError(f"output {p} already exists; remove it or pass --overwrite")
    if (ld_matrix is None) != (ld_variants is None):
        raise InputError("give both --ld-matrix and --ld-variants, or neither")
    if ld_plink is not None and ld_matrix is not None:
        raise InputError("give one LD source: --ld-plink or --ld-matrix/--ld-variants")
    steps, done = 6, 0

    def tick():
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done, steps)

    fm = read_finemap(finemap_dir)
    variants = fm.variants.sort_values("pos", kind="stable").reset_index(drop=True)
    if lead is not None and lead not in set(variants["variant_id"]):
        raise InputError(f"lead variant {lead!r} is not in {fm.folder / 'variants.tsv'}")
    if region is not None:
        chrom, lo, hi = parse_region(region)
    elif lead is not None:
        row = variants[variants["variant_id"] == lead].iloc[0]
        chrom, lo, hi = (
            str(row["chrom"]),
            max(int(row["pos"]) - 1 - flank, 0),
            int(row["pos"]) + flank,
        )
    else:
        chrom = str(variants["chrom"].iloc[0])
        lo, hi = int(variants["pos"].min()) - 1, int(variants["pos"].max())
    keep = (
        (variants["chrom"].map(chrom_key) == chrom_key(chrom))
        & (variants["pos"] > lo)
        & (variants["pos"] <= hi)
    )
    variants = variants[keep.to_numpy()].reset_index(drop=True)
    if variants.empty:
        raise InputError(f"no fine-mapped variant lies in {chrom}:{lo + 1}-{hi}; check --region")
    chrom = str(variants["chrom"].iloc[0])
    if lead is None:
        order = np.lexsort((-variants["pip"].to_numpy(), variants["p"].to_numpy()))
        lead = str(variants["variant_id"].iloc[order[0]])
    lead_idx = int(np.flatnonzero(variants["variant_id"] == lead)[0])

    el_table = read_elements(elements) if elements is not None else None
    abc_table = read_abc(abc) if abc is not None else None
    eff_table = read_effects(effects) if effects is not None else None
    ct_effects = read_celltype_effects(celltype_effects) if celltype_effects is not None else None
    specs = read_tracks_table(tracks) if tracks is not None else None
    gene_table = read_genes_bed(genes) if genes is not None else None
    r2, n_ld = (None, 0)
    if ld_matrix is not None or ld_plink is not None:
        ld = read_ld(plink=ld_plink, matrix=ld_matrix, variants=ld_variants)
        r2, n_ld = _r2_with_lead(variants, lead_idx, ld)
    tick()

    cands = rank_candidates(
        variants, elements=el_table, abc=abc_table, effects=eff_table, min_pip=min_pip,
        effect_scale=effect_scale,
    )  # fmt: skip
    tick()
    provided = {
        "ld": r2 is not None,
        "elements": el_table is not None,
        "abc": abc_table is not None,
        "effects": eff_table is not None,
        "tracks": specs is not None,
        "genes": gene_table is not None,
    }
    region_text = f"{chrom}:{lo + 1:,}-{hi:,}"
    colours = figures.cell_type_colours(
        [t.cell_type for t in specs or []],
        [] if abc_table is None else sorted(abc_table["cell_type"].astype(str).unique()),
    )
    colours.update({t.cell_type: t.color for t in specs or [] if t.color})
    title = title or f"Locus report: {region_text}"

    summary = Section("summary", "Summary")
    cs = fm.credible_sets
    cs95 = cs[cs["coverage"] == 0.95] if "coverage" in cs.columns else pd.DataFrame()
    items = [
        f"region {region_text} ({len(variants):,} fine-mapped variants, method "
        f"{fm.info.get('method', '?')}, n = {_count(fm.info.get('n'))})",
        f"lead variant {lead} (p = {variants['p'].iloc[lead_idx]:.3g}, PIP = "
        f"{variants['pip'].iloc[lead_idx]:.3f})",
        f"{len(cs95)} credible set(s) at 95%"
        + "".join(
            f"; set {int(r.cs_id)}: {int(r.cs_size)} variant(s), lead {r.lead_variant}"
            for r in cs95.itertuples()
        ),
    ]
    if len(cands):
        items.append(f"top candidate {cands['variant_id'].iloc[0]}: {cands['reason'].iloc[0]}")
    items.append(
        "inputs: "
        + ", ".join(f"{k} {'provided' if v else 'not provided'}" for k, v in provided.items())
    )
    summary.bullets(items)

    locus = Section("locus", "Locus plot")
    if r2 is None:
        locus.missing(
            "LD not provided (or the lead variant is not in the LD panel): points are not "
            "coloured by r² with the lead variant."
        )
    else:
        locus.text(
            f"Colour: r² with the lead variant ({n_ld:,} of {len(variants):,} variants in "
            "the LD panel; others drawn as r² 0)."
        )
    png = figures.locus_figure(variants, lead=lead, r2=r2, genes=gene_table, title=region_text)
    locus.image(figures.data_uri(png), "locus plot: -log10 p, PIP, genes", "locus-plot")
    tick()

    table = Section("candidates", "Candidate variants")
    table.text(
        "score = PIP x (1 + in a cell-type-specific element + ABC-linked + min(|log2FC| / "
        f"{effect_scale:g}, 1)); evidence not provided counts 0. Full table: {cand_path.name}."
    )
    table.raw(table_html(cands.head(25), table_id="candidate-table", columns=_TABLE_COLUMNS))
    for what, key in (("cell-type-specific elements", "elements"), ("ABC links", "abc"),
                      ("variant effect scores", "effects")):  # fmt: skip
        if not provided[key]:
            table.missing(f"{what}: not provided")

    track_sec = Section("tracks", "Cell-type tracks around the top candidates")
    if specs is None:
        track_sec.missing("per-cell-type tracks: not provided (give --tracks).")
    else:
        for i, row in cands.head(top).iterrows():
            label = f"#{row['rank']} {row['variant_id']} (PIP {row['pip']:.3f})"
            png = figures.tracks_figure(
                specs, chrom=chrom, pos0=int(row["pos"]) - 1, flank=track_flank, label=label,
                elements=el_table, colours=colours,
            )  # fmt: skip
            track_sec.image(
                figures.data_uri(png), f"tracks around {row['variant_id']}", f"tracks-{i + 1}"
            )
    tick()

    abc_sec = Section("abc", "ABC links to target genes")
    if abc_table is None:
        abc_sec.missing("ABC links: not provided (give --abc).")
    else:
        a = abc_table[
            (abc_table["chrom"].map(chrom_key) == chrom_key(chrom)) & ~abc_table["self_promoter"]
        ]
        a = a[((a["end"] > lo) & (a["start"] < hi)) | ((a["tss"] >= lo) & (a["tss"] < hi))]
        if len(a) > 60:  # keep the figure readable: the strongest links + the candidates'
            pos0 = cands.head(top)["pos"].to_numpy() - 1
            held = np.array(
                [bool(((pos0 >= s) & (pos0 < e)).any()) for s, e in a[["start", "end"]].values]
            )
            a = a[held | (a["score"].rank(ascending=False, method="first") <= 60).to_numpy()]
        if a.empty:
            abc_sec.text("No ABC link has its element or target TSS in this region.")
        else:
            png = figures.abc_figure(
                a, chrom=chrom, lo=lo, hi=hi, candidates=cands.head(top), colours=colours
            )
            abc_sec.image(
                figures.data_uri(png), "ABC arcs from elements to target genes", "abc-arcs"
            )
            abc_sec.text(
                f"{len(a)} links drawn (the 60 strongest in the region and every link of an "
                f"element holding a top-{top} candidate, solid)."
            )
    tick()

    sections = [summary, locus, table, track_sec, abc_sec]
    if ct_effects is not None:
        sections.append(celltype_effects_section(ct_effects, cands, top=max(top, 5)))
    html_text = render_page(title=title, subtitle="varinterp locus report", sections=sections)
    with atomic_path(cand_path, suffix=".tsv") as tmp:
        cands.to_csv(tmp, sep="\t", index=False, na_rep="NA", float_format="%.6g")
    atomic_write_text(out, html_text)
    tick()
    return LocusReport(
        html=out, candidates_tsv=cand_path, candidates=cands, lead=lead, region=(chrom, lo, hi),
        provided=provided,
    )  # fmt: skip


def _count(value) -> str:
    """A sample size as a whole number with separators ('?' when unknown)."""
    try:
        return f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return "?"
