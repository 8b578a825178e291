"""The demo's locus-report step: simulate a PSC-like GWAS locus, fine-map it, report it.

`locus_report_step(ctx)` uses the demo context (`varinterp.demo.context.DemoContext`):
``ctx.objects['world']`` (required), and when earlier steps made them,
``ctx.files['celltype_tracks']`` (TSV ``cell_type plus_bigwig minus_bigwig``),
``ctx.files['abc_dir']`` (``link abc`` output), ``ctx.files['effects']`` (``score``
output), ``ctx.files['specific_elements']`` (``elements call``'s ``elements.tsv``) and
``ctx.files['bpaitac_model']`` (the bpAI-TAC step's model: the fine-mapped variants'
per-cell-type effects go into the report, `varinterp.demo.bpaitac.celltype_effects_for`).
Missing cell-type elements and ABC links are computed from the cell-type tracks when
those are given (``elements call``'s count test, ``link abc`` with the power law);
without tracks, tracks, elements and links are built from the world's planted
enhancer programs (`varinterp.demo.evidence`). The summary says which. Writes
``gwas/`` (sumstats, LD, truth), ``gwas_finemap/``, ``gwas_evidence*/``, ``report.html``
and ``report.candidates.tsv`` under ``ctx.out``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from varinterp.demo.bpaitac import celltype_effects_for, effects_line
from varinterp.demo.context import DemoContext
from varinterp.demo.evidence import evidence_from_tracks, planted_evidence

__all__ = ["locus_report_step"]


def locus_report_step(ctx: DemoContext) -> list[str]:
    """Simulate, fine-map and report the PSC-like locus into ``ctx.out / 'report.html'``."""
    from varinterp.finemap.run import finemap
    from varinterp.report.locus import locus_report
    from varinterp.simulate.gwas import simulate_gwas, write_gwas

    world = ctx.objects["world"]
    gwas_dir = ctx.out / "gwas"
    locus = simulate_gwas(world=world, seed=ctx.seed, n_individuals=10_000)
    write_gwas(locus, gwas_dir, overwrite=True)
    fm = finemap(
        sumstats=gwas_dir / "sumstats.tsv", ld_matrix=gwas_dir / "ld.npy",
        ld_variants=gwas_dir / "ld_variants.tsv", out=ctx.out / "gwas_finemap", L=5,
        overwrite=True,
    )  # fmt: skip
    planted = planted_evidence(world, chrom=locus.chrom, out=ctx.out / "gwas_evidence")
    ct_effects = celltype_effects_for(ctx, fm.variants, ctx.out / "gwas_celltype_effects.tsv")
    files = ctx.files
    tracks, elements, abc = (
        files.get(k) for k in ("celltype_tracks", "specific_elements", "abc_dir")
    )
    sources = []
    if tracks is not None and (elements is None or abc is None):
        derived = evidence_from_tracks(
            tracks,
            world=world,
            chrom=locus.chrom,
            out=ctx.out / "gwas_evidence_tracks",
            accessibility=_accessibility(files.get("celltypes")),
        )
        if elements is None:
            elements = derived["elements"]
            sources.append("cell-type elements (elements call)")
        if abc is None:
            abc = derived["abc_dir"]
            sources.append("ABC links (link abc)")
        origin = "from the given cell-type tracks"
    else:
        origin = "from the planted programs"
    if tracks is None:
        tracks = planted["tracks"]
        sources.append("cell-type tracks")
    if elements is None:
        elements = planted["elements"]
        sources.append("cell-type elements")
    if abc is None:
        abc = planted["abc_dir"]
        sources.append("ABC links")
    truth = locus.truth
    report = locus_report(
        finemap_dir=fm.out, out=ctx.out / "report.html",
        candidates_out=ctx.out / "report.candidates.tsv",
        ld_matrix=gwas_dir / "ld.npy", ld_variants=gwas_dir / "ld_variants.tsv",
        genes=planted["genes"], elements=elements, abc=abc,
        tracks=tracks, effects=files.get("effects"), celltype_effects=ct_effects,
        title=f"Simulated PSC-like locus {truth['region_1based']}", overwrite=True,
    )  # fmt: skip
    ctx.files.update(report=report.html, candidates=report.candidates_tsv)
    cands = report.candidates
    causal = truth["causal"]["variant_id"]
    hit = cands[cands["variant_id"] == causal]
    rank = hit["rank"].iloc[0] if len(hit) else None
    rank = None if rank is None or rank is pd.NA else int(rank)  # context rows have no rank
    pip = float(fm.variants.loc[fm.variants["variant_id"] == causal, "pip"].iloc[0])
    gene = (truth["target_gene"] or {}).get("gene")
    top_gene = cands["abc_top_gene"].iloc[0] if len(cands) else "."
    lines = [
        f"GWAS of {truth['n']:,} resampled individuals over {truth['n_snps']} SNPs in "
        f"{truth['region_1based']}; causal {causal} in {truth['element']['program']} enhancer "
        f"{truth['element']['element_id']} (lead {truth['lead']['variant_id']}, r² with causal "
        f"{truth['lead']['r2_with_causal']:.2f})",
        f"SuSiE: causal PIP {pip:.3f}, candidate rank {rank}; top candidate's ABC gene "
        f"{top_gene} (true target {gene})",
        f"report.html + report.candidates.tsv ({int((cands['role'] == 'candidate').sum())} "
        f"candidates, {int((cands['role'] == 'context').sum())} more for context)"
        + (f"; {', '.join(sources)} {origin}" if sources else ""),
    ]
    if truth["element"] is not None and Path(elements).name == "elements.tsv":
        lines.append(causal_element_line(elements, truth["element"]))
    if ct_effects is not None:
        lines.append(effects_line(ct_effects, causal))
    return lines


def causal_element_line(elements_tsv, element: dict) -> str:
    """Whether ``elements call`` found the causal enhancer specific, and where it should be.

    `element` is the GWAS truth's element (``element_id``, ``program``); the expected
    cell types are those expressing the program's lead factor.
    """
    import pandas as pd

    from varinterp.simulate.celltypes_model import CELL_TYPES
    from varinterp.simulate.elements import ENHANCER_PROGRAMS

    table = pd.read_csv(elements_tsv, sep="\t")
    rows = table[table["name"] == element["element_id"]]
    lead = ENHANCER_PROGRAMS.get(element["program"], ("",))[0]
    expected = sorted(ct for ct, tfs in CELL_TYPES.items() if lead in tfs)
    called = rows[rows["specific"].astype(str).str.lower() == "true"]
    found = ", ".join(
        f"{r.cell_type} (log2FC {r.log2fc:.2f}, q {r.qvalue:.2g})" for r in called.itertuples()
    )
    test = str(rows["test"].iloc[0]) if "test" in rows.columns and len(rows) else "?"
    return (
        f"causal enhancer {element['element_id']} ({element['program']} program, open in "
        f"{', '.join(expected) or 'no built-in cell type'}): elements call ({test} test) "
        f"finds it specific in {found or 'no cell type'}"
    )


def _accessibility(folder) -> dict[str, Path] | None:
    """Per-cell-type accessibility bigWigs of a ``simulate celltypes`` folder, if any."""
    if folder is None or not (Path(folder) / "tracks.tsv").is_file():
        return None
    from varinterp.io.tracks import read_track_table

    table = read_track_table(Path(folder) / "tracks.tsv", require=("cell_type",))
    if not table["accessibility"].astype(bool).all():
        return None
    return {
        ct: Path(acc) for ct, acc in zip(table["cell_type"], table["accessibility"], strict=True)
    }
