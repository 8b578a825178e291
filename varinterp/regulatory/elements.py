"""Cell-type-specific elements: each cell type against the others, by counts or by Welch.

Two tests (``test``; ``auto`` picks counts when some cell type has a single track, Welch
otherwise):

* **counts** (`varinterp.regulatory.specificity.count_tests`): for one track per cell
  type, the usual case with deconvolved tracks. A beta-binomial test of the cell type's
  share of each region's reads against its library-size share, with the extra-Poisson
  dispersion estimated across regions; p-values are calibrated without replicates.
* **welch** (below): for real replicates or pseudo-replicates.

Welch: for every region and cell type c, the depth-normalised signal (CPM: 1e6 x |signal| in
the region / |signal| of the whole track) of c's samples is compared with that of every
other cell type's samples by Welch's t-test (`scipy.stats.ttest_ind`, unequal variances;
one-sided "c is higher" by default). Samples are a cell type's replicate tracks, and,
with ``bins > 1``, the equal parts of each region (needed when a cell type has one track).
P-values are corrected per cell type over the testable regions with Benjamini-Hochberg
(`statsmodels.stats.multitest.multipletests`); regions where the test is undefined (no
variance in either group, e.g. no signal at all) get p = q = 1 and do not count. A region
is specific to c when ``q < fdr`` and
``log2((mean_c + pseudocount) / (mean_rest + pseudocount)) > log2fc``, with the means
taken over the region's CPM per track.

Tracks come as the one track table (`varinterp.io.tracks`, ``docs/tracks.md``):
``cell_type``, ``plus`` (bigWig; plus strand or unstranded), optional ``minus``
(minus-strand bigWig, negative values allowed), optional ``depth`` (overrides the
track's total |signal| for CPM), optional ``reads`` (the library's read count, for the
count test of tracks not in read counts, e.g. RPM: region counts are then
``CPM x reads / 1e6``; without it they are ``CPM x depth / 1e6``, the signal itself); one
row per library, replicates share a cell type.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.bigwig import BigWig
from varinterp.io.intervals import read_bed, require_within_contigs
from varinterp.io.tracks import read_track_table
from varinterp.progress import ProgressCallback, report
from varinterp.regulatory._common import safe_name, write_tsv
from varinterp.regulatory.signal import region_sums, track_total

__all__ = ["TESTS", "ElementsResult", "call_elements", "specific_tests"]

_ALTERNATIVES = ("greater", "two-sided")

#: The tests `call_elements` can run (``auto``: counts with one track per cell type).
TESTS = ("auto", "counts", "welch")


@dataclass
class ElementsResult:
    """What `call_elements` wrote: regions tested, specific regions per cell type."""

    out: Path
    n_regions: int
    n_specific: dict[str, int] = field(default_factory=dict)
    test: str = "welch"


def specific_tests(
    cpm: np.ndarray,
    cell_types: list[str],
    *,
    fdr: float = 0.05,
    log2fc: float = 2.0,
    pseudocount: float = 0.01,
    alternative: str = "greater",
) -> pd.DataFrame:
    """Test every region x cell type; `cpm` is ``(n_regions, n_tracks, n_bins)`` CPM.

    `cell_types` names the cell type of each track (axis 1). Returns one row per region
    and cell type (region-major) with columns ``region`` (row index), ``cell_type``,
    ``mean_cpm``, ``mean_cpm_rest`` (means over tracks of the region's CPM, bins summed),
    ``log2fc``, ``t``, ``pvalue``, ``qvalue`` and ``specific``. Regions where the test is
    undefined (both groups constant, e.g. no signal anywhere) get ``t`` NaN, p = q = 1, and
    are left out of the BH correction.
    """
    if alternative not in _ALTERNATIVES:
        msg = f"alternative {alternative!r} must be one of {', '.join(_ALTERNATIVES)}"
        raise InputError(msg)
    labels = np.asarray(cell_types)
    names = list(dict.fromkeys(cell_types))
    if len(names) < 2:
        msg = "need at least two cell types to test one against the others"
        raise InputError(msg)
    n_regions, _, n_bins = cpm.shape
    region_cpm = cpm.sum(axis=2)
    frames = []
    for name in names:
        own = labels == name
        if own.sum() * n_bins < 2:
            msg = (
                f"cell type {name!r} has one track and one bin per region, too few samples for "
                "a t-test: give replicate tracks or split regions with --bins 2 or more"
            )
            raise InputError(msg)
        a = cpm[:, own, :].reshape(n_regions, -1)
        b = cpm[:, ~own, :].reshape(n_regions, -1)
        with np.errstate(invalid="ignore", divide="ignore"):
            res = stats.ttest_ind(a, b, axis=1, equal_var=False, alternative=alternative)
        t = np.asarray(res.statistic, dtype=np.float64)
        p = np.asarray(res.pvalue, dtype=np.float64)
        tested = np.isfinite(t)
        p = np.where(tested, p, 1.0)
        q = np.ones(n_regions)
        if tested.any():
            q[tested] = multipletests(p[tested], method="fdr_bh")[1]
        mean_own = region_cpm[:, own].mean(axis=1)
        mean_rest = region_cpm[:, ~own].mean(axis=1)
        lfc = np.log2((mean_own + pseudocount) / (mean_rest + pseudocount))
        frames.append(
            pd.DataFrame(
                {
                    "region": np.arange(n_regions),
                    "cell_type": name,
                    "mean_cpm": mean_own,
                    "mean_cpm_rest": mean_rest,
                    "log2fc": lfc,
                    "t": t,
                    "pvalue": p,
                    "qvalue": q,
                    "specific": (q < fdr) & (lfc > log2fc),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["region", "cell_type"], kind="stable").reset_index(drop=True)


def call_elements(
    *,
    tracks: str | os.PathLike,
    regions: str | os.PathLike,
    out: str | os.PathLike,
    fdr: float = 0.05,
    log2fc: float = 2.0,
    bins: int = 1,
    pseudocount: float = 0.01,
    alternative: str = "greater",
    test: str = "auto",
    dispersion: float | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ElementsResult:
    """Call cell-type-specific regions and write ``elements.tsv`` and BEDs under `out`.

    `test` is ``counts``, ``welch`` or ``auto`` (counts when a cell type has one track,
    else Welch); `bins` and `alternative` are Welch's, `dispersion` the count test's
    (None: estimated per cell type; 0: Poisson). ``elements.tsv``: chrom, start, end,
    name, ``test``, then the columns of `specific_tests` or of
    `varinterp.regulatory.specificity.count_tests` (without ``region``), one row per
    region and cell type. ``<cell_type>.specific.bed``: the specific regions of each
    cell type (BED6; score = min(1000, round(-10 log10 q))).
    """
    check_output(out)
    if bins < 1:
        msg = f"--bins must be at least 1 (got {bins})"
        raise InputError(msg)
    if test not in TESTS:
        msg = f"--test {test!r} must be one of {', '.join(TESTS)}"
        raise InputError(msg)
    if dispersion is not None and not 0 <= dispersion < 1:
        msg = f"--dispersion must be in [0, 1) (got {dispersion})"
        raise InputError(msg)
    table_path = Path(tracks)
    table = read_track_table(table_path, require=("cell_type", "plus"))
    if test == "auto":
        test = "counts" if table["cell_type"].value_counts().min() < 2 else "welch"
    if test == "counts":
        bins = 1
    region_table = read_bed(regions)
    first_track = Path(table["plus"].iloc[0])
    with BigWig(first_track, what="track") as bw:
        require_within_contigs(
            region_table, bw.lengths, source=f"region BED {regions}",
            against=f"bigWig {first_track.name}", known_contigs=True,
        )  # fmt: skip
    if "name" not in region_table.columns:
        region_table["name"] = [
            f"{c}:{s}-{e}"
            for c, s, e in zip(
                region_table["chrom"], region_table["start"], region_table["end"], strict=True
            )
        ]
    n = len(region_table)
    n_tracks = len(table)
    cpm = np.zeros((n, n_tracks, bins), dtype=np.float64)
    library = np.zeros(n_tracks, dtype=np.float64)
    done = 0
    total_work = n * n_tracks

    def tick() -> None:
        nonlocal done
        done += 1
        if done % 1000 == 0:
            report(on_progress, done, total_work)

    for k, (_, row) in enumerate(table.iterrows()):
        paths = [Path(row["plus"])] + ([Path(row["minus"])] if row["minus"] else [])
        signal = sum(region_sums(p, region_table, bins=bins, tick=tick) for p in paths)
        depth = row["depth"] if np.isfinite(row["depth"]) else sum(track_total(p) for p in paths)
        if not depth > 0:
            msg = (
                f"track table {table_path}, row {k + 1}: the track's depth is {depth}; it is empty"
            )
            raise InputError(msg)
        cpm[:, k, :] = 1e6 * signal / depth
        library[k] = _reads(row, depth, table_path, k)
    report(on_progress, total_work, total_work)

    if test == "counts":
        from varinterp.regulatory.specificity import count_tests

        tests = count_tests(
            cpm[:, :, 0] * library / 1e6,
            library,
            table["cell_type"].tolist(),
            fdr=fdr,
            log2fc=log2fc,
            pseudocount=pseudocount,
            dispersion=dispersion,
        )
    else:
        tests = specific_tests(
            cpm,
            table["cell_type"].tolist(),
            fdr=fdr,
            log2fc=log2fc,
            pseudocount=pseudocount,
            alternative=alternative,
        )
    regions_part = region_table[["chrom", "start", "end", "name"]].iloc[tests["region"]]
    full = pd.concat(
        [regions_part.reset_index(drop=True), tests.drop(columns="region").assign(test=test)],
        axis=1,
    )
    full = full[[*regions_part.columns, "test", *tests.columns.drop("region")]]
    result = ElementsResult(out=Path(out), n_regions=n, test=test)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        write_tsv(full, tmp / "elements.tsv")
        for name, grp in full.groupby("cell_type", sort=False):
            hits = grp.loc[grp["specific"]]
            score = np.minimum(
                1000, np.round(-10 * np.log10(np.maximum(hits["qvalue"], 1e-100)))
            ).astype(int)
            bed = pd.DataFrame(
                {
                    "chrom": hits["chrom"],
                    "start": hits["start"],
                    "end": hits["end"],
                    "name": hits["name"],
                    "score": score,
                    "strand": ".",
                }
            )
            write_tsv(bed, tmp / f"{safe_name(name)}.specific.bed", header=False)
            result.n_specific[str(name)] = len(hits)
    return result


def _reads(row, depth: float, table_path: Path, k: int) -> float:
    """The library size of a track-table row for the count test: ``reads`` or `depth`."""
    value = row.get("reads", "")
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)):
        return depth
    try:
        reads = float(value)
    except ValueError:
        reads = float("nan")
    if not reads > 0:
        msg = (
            f"track table {table_path}, row {k + 1}: reads must be a positive number, got {value!r}"
        )
        raise InputError(msg)
    return reads
