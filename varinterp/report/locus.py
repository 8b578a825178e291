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
from varinterp.io.atomic import atomic_dir, atomic_path, atomic_write_text, check_output
from varinterp.progress import ProgressCallback
from varinterp.report import figures
from varinterp.report.candidates import rank_candidates
from varinterp.report.celltype_effects import celltype_effects_section, read_celltype_effects
from varinterp.report.cre_evidence import cre_section, read_cre_evidence
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
    "rank", "role", "variant_id", "pip", "cs95", "p", "specific_in", "abc_top_gene",
    "abc_top_score", "log2fc", "score", "reason",
]  # fmt: skip
#: ABC links drawn besides every link of a candidate's element: the strongest others.
ABC_OTHER_LINKS = 15


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
    get_enhancers: str | os.PathLike | None = None,
    cres: str | os.PathLike | None = None,
    top: int = 3,
    track_flank: int = 1000,
    min_pip: float = 0.01,
    effect_scale: float = 1.0,
    title: str | None = None,
    genome_build: str = "hg38",
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> LocusReport:
    """Write the HTML report `out` and the candidate table (`candidates_out`, default
    ``<out stem>.candidates.tsv``) for the locus in `finemap_dir` (see docs/report.md).

    Every figure is also written as SVG and PDF into ``<out stem>_figures/`` beside the
    HTML; the region opens in the UCSC browser (`genome_build`, a UCSC database name)
    and in a running IGV from links in the summary. `celltype_effects` (a multi-task
    model's per-cell-type scores) adds a section of the top candidates' effects in every
    cell type.
    """
    check_output(out)
    if candidates_out is not None:
        check_output(candidates_out, option="--candidates")
    out = Path(out)
    cand_path = Path(candidates_out) if candidates_out else out.with_suffix(".candidates.tsv")
    fig_dir = out.with_name(out.stem + "_figures")
    for p in (out, cand_path, fig_dir):
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
    cre_table = read_cre_evidence(cres) if cres is not None else None
    r2, n_ld = (None, 0)
    if ld_matrix is not None or ld_plink is not None:
        ld = read_ld(plink=ld_plink, matrix=ld_matrix, variants=ld_variants)
        r2, n_ld = _r2_with_lead(variants, lead_idx, ld)
    tick()

    cands = rank_candidates(
        variants, elements=el_table, abc=abc_table, effects=eff_table, min_pip=min_pip,
        effect_scale=effect_scale,
    )  # fmt: skip
    ranked = cands[cands["role"] == "candidate"]
    tick()
    provided = {
        "ld": r2 is not None,
        "elements": el_table is not None,
        "abc": abc_table is not None,
        "effects": eff_table is not None,
        "tracks": specs is not None,
        "genes": gene_table is not None,
        "cres": cre_table is not None,
    }
    region_text = f"{chrom}:{lo + 1:,}-{hi:,}"
    colours = figures.cell_type_colours(
        [t.cell_type for t in specs or []],
        [] if abc_table is None else sorted(abc_table["cell_type"].astype(str).unique()),
    )
    colours.update({t.cell_type: t.color for t in specs or [] if t.color})
    title = title or f"Locus report: {region_text}"

    summary = Section("summary", "Summary")
    items = [
        f"region {region_text} ({len(variants):,} fine-mapped variants, method "
        f"{fm.info.get('method', '?')}, n = {_count(fm.info.get('n'))})",
        f"lead variant {lead} (p = {variants['p'].iloc[lead_idx]:.3g}, PIP = "
        f"{variants['pip'].iloc[lead_idx]:.3f})",
        *credible_set_summary(fm.credible_sets, fm.info),
    ]
    if len(ranked):
        items.append(f"top candidate {ranked['variant_id'].iloc[0]}: {ranked['reason'].iloc[0]}")
    n_context = len(cands) - len(ranked)
    items.append(
        f"{len(ranked)} candidate(s): the credible-set members and variants with PIP >= "
        f"{min_pip:g}"
        + (f"; {n_context} more shown for context only (not ranked)" if n_context else "")
    )
    items.append(
        "inputs: "
        + ", ".join(f"{k} {'provided' if v else 'not provided'}" for k, v in provided.items())
    )
    summary.bullets(items)
    summary.raw(browser_links(chrom, lo, hi, genome_build))

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
    with atomic_dir(fig_dir, overwrite=overwrite) as fig_dir_tmp:
        png = figures.locus_figure(variants, lead=lead, r2=r2, genes=gene_table, title=region_text,
                                   save_as=fig_dir_tmp / "locus")  # fmt: skip
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
            for i, row in ranked.head(top).iterrows():
                label = f"#{row['rank']} {row['variant_id']} (PIP {row['pip']:.3f})"
                png = figures.tracks_figure(
                    specs, chrom=chrom, pos0=int(row["pos"]) - 1, flank=track_flank, label=label,
                    elements=el_table, colours=colours, save_as=fig_dir_tmp / f"tracks-{i + 1}",
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
                (abc_table["chrom"].map(chrom_key) == chrom_key(chrom))
                & ~abc_table["self_promoter"]
            ]
            a = a[((a["end"] > lo) & (a["start"] < hi)) | ((a["tss"] >= lo) & (a["tss"] < hi))]
            n_region = len(a)
            # readable: every link of a candidate's element, and the strongest others
            pos0 = ranked["pos"].to_numpy() - 1
            held = np.array(
                [bool(((pos0 >= s) & (pos0 < e)).any()) for s, e in a[["start", "end"]].values],
                dtype=bool,
            )
            strongest = a["score"].where(~held).rank(ascending=False, method="first")
            a = a[held | (strongest <= ABC_OTHER_LINKS).to_numpy()]
            if a.empty:
                abc_sec.text("No ABC link has its element or target TSS in this region.")
            else:
                png = figures.abc_figure(
                    a, chrom=chrom, lo=lo, hi=hi, candidates=ranked, colours=colours,
                    save_as=fig_dir_tmp / "abc",
                )  # fmt: skip
                abc_sec.image(
                    figures.data_uri(png), "ABC arcs from elements to target genes", "abc-arcs"
                )
                abc_sec.text(
                    f"{len(a)} of the region's {n_region} links drawn: every link of an element "
                    f"holding a candidate ({int(held.sum())}, solid, labelled with its gene) and "
                    f"the {ABC_OTHER_LINKS} strongest others (faint). All links: --abc tables."
                )
        tick()

        sections = [
            summary,
            locus,
            table,
            track_sec,
            abc_sec,
            cre_section(cands, cre_table, top=top),
        ]
        if ct_effects is not None:
            sections.append(celltype_effects_section(ct_effects, cands, top=max(top, 5)))
        if get_enhancers is not None:  # GET's enhancers beside the ABC links
            from varinterp.report.get_enhancers import get_enhancer_section, read_get_enhancers

            sections.append(get_enhancer_section(read_get_enhancers(get_enhancers), chrom=chrom,
                                                 lo=lo, hi=hi, abc=abc_table))  # fmt: skip
        html_text = render_page(title=title, subtitle="varinterp locus report", sections=sections)
        with atomic_path(cand_path, suffix=".tsv") as tmp:
            cands.to_csv(tmp, sep="\t", index=False, na_rep="NA", float_format="%.6g")
    atomic_write_text(out, html_text)
    tick()
    return LocusReport(
        html=out, candidates_tsv=cand_path, candidates=cands, lead=lead, region=(chrom, lo, hi),
        provided=provided,
    )  # fmt: skip


def credible_set_summary(credible_sets: pd.DataFrame, info: dict) -> list[str]:
    """Lines on the credible sets at 95% and 99%, saying which were dropped and why.

    A 99% set holds more variants than the 95% set of the same effect; when they are not
    in LD with each other (purity: the smallest |r| below the fine-mapping's
    ``min_abs_corr``) the set says nothing about one signal and is dropped, so the counts
    at 95% and 99% can differ.
    """
    cs = credible_sets
    lines = []
    dropped = info.get("cs_dropped_for_purity") or {}
    limit = info.get("min_abs_corr")
    for cov in (0.95, 0.99):
        sets = cs[cs["coverage"] == cov] if "coverage" in cs.columns else pd.DataFrame()
        text = f"{len(sets)} credible set(s) at {cov:.0%}" + "".join(
            f"; set {int(r.cs_id)}: {int(r.cs_size)} variant(s), lead {r.lead_variant}"
            for r in sets.itertuples()
        )
        gone = dropped.get(str(cov), [])
        if gone:
            worst = ", ".join(f"{d['min_abs_r']:.2f}" for d in gone)
            sizes = ", ".join(str(d["size"]) for d in gone)
            text += (
                f"; {len(gone)} more dropped for purity: its {sizes} variant(s) are not in LD "
                f"with each other (smallest |r| {worst} < {limit:g}), so the set does not point "
                "at one signal"
            )
        lines.append(text)
    return lines


def browser_links(chrom: str, lo: int, hi: int, genome_build: str) -> str:
    """HTML links opening the region (0-based `lo`, end `hi`) in UCSC and in IGV."""
    from html import escape

    region = f"{chrom}:{lo + 1}-{hi}"
    ucsc = (
        f"https://genome.ucsc.edu/cgi-bin/hgTracks?db={escape(genome_build)}&amp;"
        f"position={escape(region)}"
    )
    igv = f"http://localhost:60151/goto?locus={escape(region)}"
    return (
        f'<p class="links">Open {escape(region)} in <a href="{ucsc}" target="_blank" '
        f'rel="noopener">UCSC ({escape(genome_build)})</a> or in <a href="{igv}">IGV</a> '
        "(running, batch port 60151).</p>"
    )


def _count(value) -> str:
    """A sample size as a whole number with separators ('?' when unknown)."""
    try:
        return f"{round(float(value)):,}"
    except (TypeError, ValueError):
        return "?"
