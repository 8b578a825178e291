"""`varinterp link abc`: ABC links per cell type from files, written as TSV and BEDPE.

Tracks come as the one track table (`varinterp.io.tracks`, ``docs/tracks.md``), one row
per cell type; the columns ABC reads:

=====================  ======================================================================
column                 meaning
=====================  ======================================================================
cell_type              name of the cell type (file names use it)
accessibility          ATAC/DHS signal: a bigWig, or a bedGraph of counts per element
h3k27ac                optional H3K27ac signal (bigWig or count bedGraph)
accessibility_depth    optional depth for RPM (required for count bedGraphs)
h3k27ac_depth          optional depth for RPM (required for count bedGraphs)
plus                   optional initiation (PRO-cap) bigWig, plus strand or unstranded
minus                  optional minus-strand initiation bigWig
accessibility_tss      optional count bedGraph over the genes' TSS +- 500 bp (for count
                       files; a bigWig is summed there directly)
h3k27ac_tss            the same for H3K27ac
expression             optional TSV (gene, expression) of this cell type's genes
=====================  ======================================================================

Gene columns (`varinterp.regulatory.abc_genes`): ``TargetGeneExpression``,
``TargetGenePromoterActivityQuantile`` and ``TargetGeneIsExpressed`` as the ABC pipeline
computes them, and ``normalized_dhs`` / ``normalized_atac`` (the element's accessibility
after quantile normalisation; RPM without ``--qnorm``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.bigwig import BigWig
from varinterp.io.intervals import read_bed, require_within_contigs
from varinterp.io.tracks import read_track_table
from varinterp.progress import ProgressCallback, report
from varinterp.regulatory._common import safe_name, write_tsv
from varinterp.regulatory.abc import (
    AbcParams,
    add_hic,
    filter_links,
    make_pairs,
    prune_links,
    score_pairs,
    threshold_from_table,
)
from varinterp.regulatory.abc_activity import (
    activity,
    assign_classes,
    quantile_normalise,
    read_qnorm_reference,
    rpm,
)
from varinterp.regulatory.abc_contact import open_contacts
from varinterp.regulatory.signal import is_bigwig, read_region_counts, region_sums, track_total

__all__ = ["AbcResult", "link_abc", "read_genes"]

_OUT_COLUMNS = [
    "chr", "start", "end", "name", "class", "activity_base", "normalized_dhs", "normalized_atac",
    "TargetGene", "TargetGeneTSS", "TargetGeneExpression", "TargetGenePromoterActivityQuantile",
    "TargetGeneIsExpressed", "distance", "isSelfPromoter", "powerlaw_contact",
    "powerlaw_contact_reference",
    "hic_contact", "hic_contact_pl_scaled", "hic_pseudocount", "hic_contact_pl_scaled_adj",
    "ABC.Score.Numerator", "ABC.Score", "powerlaw.Score.Numerator", "powerlaw.Score",
    "element_initiation_cpm", "CellType",
]  # fmt: skip


@dataclass
class AbcResult:
    """What `link_abc` wrote: links kept per cell type, the threshold, the output folder."""

    out: Path
    threshold: float
    n_pairs: int
    n_links: dict[str, int] = field(default_factory=dict)
    n_pruned: dict[str, int] = field(default_factory=dict)
    n_expressed: dict[str, int] = field(default_factory=dict)


def read_genes(path: str | os.PathLike) -> pd.DataFrame:
    """Genes from a BED6 (name and strand needed) -> chrom, start, end, name, strand, tss.

    The TSS is ``start`` on ``+`` and ``end`` on ``-`` (ABC's convention).
    """
    genes = read_bed(path)
    if "strand" not in genes.columns:
        msg = f"gene BED {path} needs 6 columns (chrom start end name score strand) for the TSS"
        raise InputError(msg)
    bad = ~genes["strand"].isin(["+", "-"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        msg = f"gene BED {path}, line {row + 1}: strand {genes['strand'].iloc[row]!r} is not + or -"
        raise InputError(msg)
    if genes["name"].duplicated().any():
        dup = genes.loc[genes["name"].duplicated(), "name"].iloc[0]
        msg = f"gene BED {path}: gene name {dup!r} appears twice; gene names must be unique"
        raise InputError(msg)
    genes = genes.copy()
    genes["tss"] = np.where(genes["strand"] == "+", genes["start"], genes["end"])
    return genes


def _read_elements(path: str | os.PathLike, genes: pd.DataFrame, tss_slop: int) -> pd.DataFrame:
    elements = read_bed(path)[["chrom", "start", "end"]].copy()
    elements["class"] = assign_classes(elements, genes, tss_slop=tss_slop)
    elements["name"] = [
        f"{c}|{ch}:{s}-{e}"
        for c, ch, s, e in zip(
            elements["class"], elements["chrom"], elements["start"], elements["end"], strict=True
        )
    ]
    return elements.reset_index(drop=True)


def _check_on_contigs(
    elements: pd.DataFrame, path: str | os.PathLike, samples: pd.DataFrame, table: Path
) -> None:
    """Elements past the end of their contig (per the first bigWig of the sample table)
    are an `InputError`: a genome-build mismatch."""
    for value in samples["accessibility"]:
        track = Path(value)
        if is_bigwig(track):
            with BigWig(track, what="accessibility bigWig") as bw:
                require_within_contigs(
                    elements, bw.lengths, source=f"element BED {path}",
                    against=f"bigWig {track.name}", known_contigs=True,
                )  # fmt: skip
            return


def _signal(row: pd.Series, column: str, table: Path, elements: pd.DataFrame) -> np.ndarray:
    path = Path(row[column])
    depth = float(row[f"{column}_depth"])
    if is_bigwig(path):
        values = region_sums(path, elements).sum(axis=1)
        total = depth if np.isfinite(depth) else track_total(path)
    else:
        values = read_region_counts(path, elements)
        if not np.isfinite(depth):
            msg = (
                f"track table {table}, cell type {row['cell_type']}: {column} {path} is a count "
                f"file, so give its depth in a {column}_depth column (mapped reads)"
            )
            raise InputError(msg)
        total = depth
    return rpm(values, total)


def _initiation_cpm(row: pd.Series, table: Path, elements: pd.DataFrame) -> np.ndarray:
    del table
    paths = [Path(row["plus"])] + ([Path(row["minus"])] if row["minus"] else [])
    signal = sum(region_sums(p, elements).sum(axis=1) for p in paths)
    total = sum(track_total(p) for p in paths)
    return rpm(signal, total)


def _gene_columns(
    row: pd.Series,
    table: Path,
    genes: pd.DataFrame,
    *,
    has_h3: bool,
    expression_cutoff: float,
    activity_quantile_cutoff: float,
) -> pd.DataFrame:
    """Per gene (indexed by name): expression, promoter activity quantile, is expressed."""
    from varinterp.regulatory.abc_genes import (
        is_expressed,
        promoter_activity_quantile,
        promoter_regions,
        read_expression,
        rpkm_quantile,
    )

    regions = promoter_regions(genes)
    lengths = (regions["end"] - regions["start"]).to_numpy()
    quantiles = {}
    for mark in ("accessibility", "h3k27ac") if has_h3 else ("accessibility",):
        path = Path(row[mark])
        tss_file = row[f"{mark}_tss"]
        if tss_file:
            counts = read_region_counts(Path(tss_file), regions)
        elif is_bigwig(path):
            counts = region_sums(path, regions).sum(axis=1)
        else:
            quantiles = None
            break
        depth = float(row[f"{mark}_depth"])
        total = depth if np.isfinite(depth) else track_total(path)
        quantiles[mark] = rpkm_quantile(counts, lengths, total)
    paq = (
        promoter_activity_quantile(quantiles["accessibility"], quantiles.get("h3k27ac"))
        if quantiles
        else np.full(len(genes), np.nan)
    )
    expr = (
        read_expression(Path(row["expression"]), genes["name"])
        if row["expression"]
        else np.full(len(genes), np.nan)
    )
    return pd.DataFrame(
        {
            "TargetGeneExpression": expr,
            "TargetGenePromoterActivityQuantile": paq,
            "TargetGeneIsExpressed": is_expressed(
                expr,
                paq,
                expression_cutoff=expression_cutoff,
                activity_quantile_cutoff=activity_quantile_cutoff,
            ),
        },
        index=genes["name"].astype(str).to_numpy(),
    )


def link_abc(
    *,
    elements: str | os.PathLike,
    genes: str | os.PathLike,
    samples: str | os.PathLike,
    out: str | os.PathLike,
    accessibility_kind: str = "ATAC",
    qnorm: str | os.PathLike | None = None,
    hic: str | None = None,
    hic_kind: str = "intact_hic",
    threshold: float | None = 0.02,
    min_initiation_cpm: float = 20.0,
    params: AbcParams | None = None,
    all_putative: bool = False,
    expression_cutoff: float = 1.0,
    promoter_activity_quantile_cutoff: float = 0.4,
    expressed_only: bool = False,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AbcResult:
    """Predict ABC links for every cell type of `samples` and write them under `out`.

    Writes ``<cell_type>.abc.tsv`` (ABC-style columns, links above the threshold; promoter
    elements only as self-promoters; pruned when an initiation track is given),
    ``<cell_type>.abc.bedpe`` (element, TSS, ``gene|element`` name, ABC.Score) and, with
    `all_putative`, ``<cell_type>.all_putative.tsv.gz`` (every pair, unfiltered).
    `threshold` None takes ABC's recommended value for the input kind. Every pair
    carries the gene columns (module docstring); `expressed_only` keeps links of
    expressed genes only (``TargetGeneIsExpressed``; the ABC pipeline's predictions).
    """
    check_output(out)
    params = params or AbcParams()
    kind = accessibility_kind.upper()
    if kind not in ("ATAC", "DHS"):
        msg = f"accessibility kind {accessibility_kind!r} must be ATAC or DHS"
        raise InputError(msg)
    table_path = Path(samples)
    sample_table = read_track_table(table_path, require=("cell_type", "accessibility"))
    if sample_table["cell_type"].duplicated().any():
        msg = f"track table {table_path}: each cell_type must appear once for ABC"
        raise InputError(msg)
    gene_table = read_genes(genes)
    element_table = _read_elements(elements, gene_table, params.tss_slop)
    _check_on_contigs(element_table, elements, sample_table, table_path)
    reference = read_qnorm_reference(qnorm) if qnorm is not None else None
    has_h3 = "h3k27ac" in sample_table.columns and bool((sample_table["h3k27ac"] != "").all())
    if threshold is None:
        contact_kind = "powerlaw" if hic is None else hic_kind
        threshold = threshold_from_table(kind, has_h3k27ac=has_h3, contact=contact_kind)

    classes = element_table["class"].to_numpy()
    activities: dict[str, np.ndarray] = {}
    normalized: dict[str, np.ndarray] = {}
    gene_info: dict[str, pd.DataFrame] = {}
    initiation: dict[str, np.ndarray] = {}
    n_steps = len(sample_table) + 1
    for k, (_, row) in enumerate(sample_table.iterrows()):
        report(on_progress, k, n_steps)
        acc = _signal(row, "accessibility", table_path, element_table)
        h3 = _signal(row, "h3k27ac", table_path, element_table) if has_h3 else None
        if reference is not None:
            acc = quantile_normalise(acc, classes, reference, kind=kind)
            if h3 is not None:
                h3 = quantile_normalise(h3, classes, reference, kind="H3K27ac")
        activities[row["cell_type"]] = activity(acc, h3)
        normalized[row["cell_type"]] = acc
        gene_info[row["cell_type"]] = _gene_columns(
            row, table_path, gene_table, has_h3=has_h3, expression_cutoff=expression_cutoff,
            activity_quantile_cutoff=promoter_activity_quantile_cutoff,
        )  # fmt: skip
        if row["plus"]:
            initiation[row["cell_type"]] = _initiation_cpm(row, table_path, element_table)
    contacts = (
        open_contacts(str(hic), resolution=params.hic_resolution, window=params.window)
        if hic is not None
        else None
    )

    result = AbcResult(out=Path(out), threshold=float(threshold), n_pairs=0)
    links: dict[str, list[pd.DataFrame]] = {ct: [] for ct in activities}
    n_before = dict.fromkeys(activities, 0)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        putative = (
            {ct: tmp / f"{safe_name(ct)}.all_putative.tsv.gz" for ct in activities}
            if all_putative
            else {}
        )
        # one chromosome at a time keeps memory to one chromosome's pairs
        for chrom in pd.unique(gene_table["chrom"]):
            base = make_pairs(
                element_table,
                gene_table.loc[gene_table["chrom"] == chrom],
                np.zeros(len(element_table)),
                params,
            )
            if base.empty:
                continue
            if contacts is not None:
                base = add_hic(base, {chrom: contacts.table(chrom)}, params)
            result.n_pairs += len(base)
            for ct, act in activities.items():
                pred = base.copy()
                pred["activity_base"] = act[pred["_element"].to_numpy()]
                pred[f"normalized_{kind.lower()}"] = normalized[ct][pred["_element"].to_numpy()]
                info = gene_info[ct].loc[pred["TargetGene"].astype(str).to_numpy()]
                for col in info.columns:
                    pred[col] = info[col].to_numpy()
                pred = score_pairs(pred)
                pred["CellType"] = ct
                kept = filter_links(pred, threshold=threshold)
                if expressed_only:
                    kept = kept[kept["TargetGeneIsExpressed"].to_numpy(bool)]
                n_before[ct] += len(kept)
                if ct in initiation:
                    kept = prune_links(
                        kept, initiation_cpm=initiation[ct], min_cpm=min_initiation_cpm
                    )
                links[ct].append(kept)
                if ct in putative:
                    _append_tsv(pred[[c for c in _OUT_COLUMNS if c in pred.columns]], putative[ct])
        if result.n_pairs == 0:
            msg = "no element lies within the window of any gene; check contig names and --window"
            raise InputError(msg)
        for ct, parts in links.items():
            table = pd.concat(parts, ignore_index=True)
            name = safe_name(ct)
            columns = [c for c in _OUT_COLUMNS if c in table.columns]
            write_tsv(table[columns], tmp / f"{name}.abc.tsv", float_format="%.8g")
            _write_bedpe(table, tmp / f"{name}.abc.bedpe")
            result.n_links[ct] = len(table)
            result.n_pruned[ct] = n_before[ct] - len(table)
            result.n_expressed[ct] = int(gene_info[ct]["TargetGeneIsExpressed"].sum())
        report(on_progress, n_steps, n_steps)
    return result


def _append_tsv(table: pd.DataFrame, path: Path) -> None:
    first = not path.exists()
    table.to_csv(
        path,
        sep="\t",
        index=False,
        header=first,
        mode="w" if first else "a",
        float_format="%.8g",
        compression={"method": "gzip", "compresslevel": 1},
    )


def _write_bedpe(links: pd.DataFrame, path: Path) -> None:
    tss = links["TargetGeneTSS"].to_numpy(np.int64)
    bedpe = pd.DataFrame(
        {
            "chr1": links["chr"],
            "x1": links["start"],
            "x2": links["end"],
            "chr2": links["chr"],
            "y1": tss,
            "y2": tss + 1,
            "name": links["TargetGene"].astype(str)
            + "|"
            + links["chr"].astype(str)
            + ":"
            + links["start"].astype(str)
            + "-"
            + links["end"].astype(str),
            "score": links["ABC.Score"],
            "strand1": ".",
            "strand2": ".",
        }
    )
    write_tsv(bedpe, path, header=False, float_format="%.8g")
