"""Genome-wide fine-mapping in one call: lead variants -> loci -> every locus fine-mapped.

1. **Leads** (`find_loci`): variants with ``p < p_threshold`` (5e-8), taken in order of
   increasing p; each one farther than `window` bp from every lead taken so far becomes
   a lead (distance clumping: the leads are independent by distance, not by LD).
2. **Loci**: each lead +- `window` (500 kb), clipped at position 1; loci that overlap on a
   chromosome are merged (the merged locus keeps its strongest lead and lists all).
3. **Fine-mapping** (`finemap_genome_wide`): each locus is read, aligned to the panel, its
   LD matrix computed and checked once (`varinterp.finemap.locus.prepare_locus`, the LD
   check included), then fitted with SuSiE-RSS and with ABF from the same z and R
   (`varinterp.finemap.run.fit_locus`), into
   ``loci/<locus_id>/susie/`` and ``loci/<locus_id>/abf/``, in parallel over `threads`
   worker processes (one BLAS thread each).
4. **Summary**: ``summary.tsv`` (one row per locus) and ``loci.tsv`` (the loci).

Resuming: every per-locus folder is written atomically, so after a kill (even kill -9)
the same call skips the loci already done and does the rest. The parameters are kept in
``genome_wide.json``; a call with other parameters on the same folder is refused
(pass `overwrite` to start again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from varinterp.errors import InputError
from varinterp.finemap.sumstats import read_sumstats
from varinterp.io.atomic import atomic_write_text
from varinterp.progress import ProgressCallback, report

__all__ = [
    "SUMMARY_COLUMNS",
    "GenomeWideResult",
    "find_loci",
    "finemap_genome_wide",
]

SUMMARY_COLUMNS = [
    "locus_id",
    "chrom",
    "start",
    "end",
    "lead_variant",
    "lead_pos",
    "lead_p",
    "n_leads",
    "status",
    "n_variants",
    "n_dropped",
    "n_cs95",
    "n_cs99",
    "top_variants",
    "top_pips",
    "abf_top_variant",
    "abf_top_pip",
    "ld_s",
    "n_ld_outliers",
    "seconds",
]

_METHODS = ("susie", "abf")


@dataclass(frozen=True)
class GenomeWideResult:
    """What `finemap_genome_wide` wrote: the folder, the loci and the summary table."""

    out: Path
    loci: pd.DataFrame
    summary: pd.DataFrame
    n_resumed: int


def find_loci(
    ss: pd.DataFrame, *, p_threshold: float = 5e-8, window: int = 500_000
) -> pd.DataFrame:
    """Loci around independent lead variants of a `read_sumstats` table (module docstring).

    Returns one row per locus, ordered by chromosome (as first seen) and start:
    ``locus_id`` (``<chrom>_<start>_<end>``), ``chrom``, ``start``, ``end`` (1-based,
    inclusive), ``lead_variant``, ``lead_pos``, ``lead_p`` (the strongest lead),
    ``n_leads`` and ``leads`` (comma-separated ids).
    """
    if window < 1:
        raise InputError(f"the locus window must be at least 1 bp, got {window}")
    if not 0 < p_threshold < 1:
        raise InputError(f"the p-value threshold must be in (0, 1), got {p_threshold}")
    sig = ss.loc[ss["p"] < p_threshold].sort_values("p", kind="stable")
    leads: dict[str, list[tuple[int, float, str]]] = {}
    for chrom, pos, p, vid in zip(
        sig["chrom"], sig["pos"], sig["p"], sig["variant_id"], strict=True
    ):
        taken = leads.setdefault(str(chrom), [])
        if all(abs(int(pos) - q) > window for q, _, _ in taken):
            taken.append((int(pos), float(p), str(vid)))
    order = list(dict.fromkeys(ss["chrom"].astype(str)))
    rows = []
    for chrom in order:
        spans = sorted(
            (max(1, pos - window), pos + window, pos, p, vid)
            for pos, p, vid in leads.get(chrom, [])
        )
        merged: list[list] = []
        for start, end, pos, p, vid in spans:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2].append((p, pos, vid))
            else:
                merged.append([start, end, [(p, pos, vid)]])
        for start, end, members in merged:
            best = min(members)
            rows.append(
                {
                    "locus_id": f"{chrom}_{start}_{end}",
                    "chrom": chrom,
                    "start": start,
                    "end": end,
                    "lead_variant": best[2],
                    "lead_pos": best[1],
                    "lead_p": best[0],
                    "n_leads": len(members),
                    "leads": ",".join(v for _, _, v in sorted(members)),
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "locus_id", "chrom", "start", "end", "lead_variant", "lead_pos", "lead_p",
            "n_leads", "leads",
        ],
    )  # fmt: skip


_PREPARE_OPTIONS = (
    "plink", "ld_matrix", "ld_variants", "n", "prior_weight_column", "unmatched", "ambiguous",
    "ld_fix", "ld_check", "drop_ld_outliers",
)  # fmt: skip


def _one_locus(task: dict) -> dict:
    """Fine-map one locus with every method (runs in a worker process).

    The locus is read, aligned, its LD computed and checked once (`prepare_locus`); each
    method not written yet is then fitted from the same z and R and written atomically.
    """
    import time

    from threadpoolctl import threadpool_limits

    from varinterp.finemap.locus import prepare_locus
    from varinterp.finemap.run import fit_locus, write_locus

    t0 = time.perf_counter()
    locus = task["locus"]
    region = f"{locus['chrom']}:{locus['start']}-{locus['end']}"
    base = Path(task["out"]) / "loci" / locus["locus_id"]
    todo = [m for m in _METHODS if not (base / m / "run.json").is_file()]
    options = task["options"]
    prep = {k: v for k, v in options.items() if k in _PREPARE_OPTIONS}
    fit = {k: v for k, v in options.items() if k not in _PREPARE_OPTIONS}
    fit["prior_weights"] = options.get("prior_weight_column") is not None
    results: dict[str, str] = {}
    plot_cache: dict = {}
    with threadpool_limits(limits=1):
        try:
            panel = _panel(prep)
            prepared = prepare_locus(sumstats=task["sumstats"], region=region, panel=panel, **prep)
        except InputError as exc:
            prepared = None
            results = {m: str(exc) for m in todo}
        for method in todo if prepared is not None else ():
            try:
                res = fit_locus(prepared, out=base / method, method=method, **fit)
                write_locus(res, prepared, overwrite=True, plot_cache=plot_cache)
            except InputError as exc:
                results[method] = str(exc)
    return {"locus_id": locus["locus_id"], "errors": results, "seconds": time.perf_counter() - t0}


_PANELS: dict = {}


def _panel(prep: dict):
    """The LD panel of `prep`, opened once per process (its variants table is read once)."""
    from varinterp.finemap.ld import open_ld

    key = (prep.get("plink"), prep.get("ld_matrix"), prep.get("ld_variants"))
    if key not in _PANELS:
        _PANELS.clear()
        _PANELS[key] = open_ld(plink=key[0], matrix=key[1], variants=key[2])
    return _PANELS[key]


def _summary_row(out: Path, locus: dict, seconds: float | None) -> dict:
    row = {k: locus[k] for k in ("locus_id", "chrom", "start", "end", "lead_variant", "lead_pos",
                                 "lead_p", "n_leads")}  # fmt: skip
    base = out / "loci" / locus["locus_id"]
    susie, abf = base / "susie", base / "abf"
    if not (susie / "run.json").is_file():
        err = (base / "error.txt").read_text().strip() if (base / "error.txt").is_file() else ""
        return {**row, "status": f"failed: {err}" if err else "not done", "seconds": seconds}
    info = json.loads((susie / "run.json").read_text())
    var = pd.read_csv(susie / "variants.tsv", sep="\t").sort_values("pip", ascending=False)
    top = var.head(3)
    row.update(
        status="ok",
        n_variants=info["n_finemapped"],
        n_dropped=info["n_dropped"],
        n_cs95=info["n_cs95"],
        n_cs99=info["n_cs99"],
        top_variants=",".join(top["variant_id"].astype(str)),
        top_pips=",".join(f"{v:.3g}" for v in top["pip"]),
        ld_s=info.get("ld_s"),
        n_ld_outliers=info.get("n_ld_outliers"),
        seconds=seconds,
    )
    if (abf / "variants.tsv").is_file():
        a = pd.read_csv(abf / "variants.tsv", sep="\t")
        best = a.loc[a["pip"].idxmax()]
        row.update(abf_top_variant=best["variant_id"], abf_top_pip=float(best["pip"]))
    return row


def finemap_genome_wide(
    *,
    sumstats: str | Path,
    out: str | Path,
    plink: str | Path | None = None,
    ld_matrix: str | Path | None = None,
    ld_variants: str | Path | None = None,
    p_threshold: float = 5e-8,
    window: int = 500_000,
    threads: int = 1,
    columns: dict[str, str] | None = None,
    prior_weight_column: str | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
    on_locus: Callable[[dict], None] | None = None,
    **options,
) -> GenomeWideResult:
    """Find loci in `sumstats`, fine-map each, write ``summary.tsv`` (module docstring).

    `options` go to every `varinterp.finemap.run.finemap` call (``n``, ``L``,
    ``min_abs_corr``, ``estimate_residual_variance``, ``abf_prior_sd``, ``unmatched``,
    ``ambiguous``, ``ld_fix``, ``max_iter``, ``ld_check``, ``drop_ld_outliers``).
    `on_locus(row)` is called with each locus's summary row as it finishes.
    """
    import shutil

    out = Path(out)
    if plink is None and ld_matrix is None:
        raise InputError("genome-wide fine-mapping needs LD: pass --plink PREFIX (or --ld-matrix)")
    if threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    params = {
        "sumstats": str(Path(sumstats).resolve()),
        "plink": None if plink is None else str(Path(plink).resolve()),
        "ld_matrix": None if ld_matrix is None else str(Path(ld_matrix).resolve()),
        "p_threshold": p_threshold,
        "window": window,
        "columns": columns,
        "prior_weight_column": prior_weight_column,
        "options": {k: v for k, v in sorted(options.items())},
    }
    manifest = out / "genome_wide.json"
    if out.exists() and overwrite:
        shutil.rmtree(out)
    if out.exists():
        if not manifest.is_file():
            raise InputError(
                f"output {out} exists and is not a genome-wide run; choose another --out"
            )
        if json.loads(manifest.read_text()) != json.loads(json.dumps(params)):
            raise InputError(
                f"output {out} holds a genome-wide run with other parameters; pass --overwrite "
                "to start again, or use another --out"
            )
    ss = read_sumstats(sumstats, columns=columns, prior_weight_column=prior_weight_column)
    loci = find_loci(ss, p_threshold=p_threshold, window=window)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(manifest, json.dumps(params, indent=2) + "\n")
    atomic_write_text(out / "loci.tsv", loci.to_csv(sep="\t", index=False))
    common = {
        "plink": plink,
        "ld_matrix": ld_matrix,
        "ld_variants": ld_variants,
        "prior_weight_column": prior_weight_column,
        **options,
    }
    records = loci.to_dict("records")
    done = {
        r["locus_id"]
        for r in records
        if all((out / "loci" / r["locus_id"] / m / "run.json").is_file() for m in _METHODS)
    }
    todo = [r for r in records if r["locus_id"] not in done]
    seconds: dict[str, float | None] = {}
    total = len(records)
    report(on_progress, len(done), total)
    tasks = [
        {"locus": r, "out": str(out), "sumstats": _locus_rows(ss, r), "options": common}
        for r in todo
    ]
    by_id = {r["locus_id"]: r for r in records}

    def finished(res: dict) -> None:
        seconds[res["locus_id"]] = res["seconds"]
        err = res["errors"].get("susie")
        if err:
            atomic_write_text(out / "loci" / res["locus_id"] / "error.txt", err + "\n")
        report(on_progress, len(done) + len(seconds), total)
        if on_locus is not None:
            on_locus(_summary_row(out, by_id[res["locus_id"]], res["seconds"]))

    _PANELS.clear()  # a panel rewritten since the last call is read again
    try:
        if threads == 1 or len(tasks) <= 1:
            for task in tasks:
                finished(_one_locus(task))
        else:
            with ProcessPoolExecutor(max_workers=min(threads, len(tasks))) as pool:
                futures = [pool.submit(_one_locus, t) for t in tasks]
                for fut in as_completed(futures):
                    finished(fut.result())
    finally:
        _PANELS.clear()
    rows = [_summary_row(out, r, seconds.get(r["locus_id"])) for r in records]
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    atomic_write_text(
        out / "summary.tsv", summary.to_csv(sep="\t", index=False, float_format="%.6g")
    )
    return GenomeWideResult(out=out, loci=loci, summary=summary, n_resumed=len(done))


def _locus_rows(ss: pd.DataFrame, locus: dict) -> pd.DataFrame:
    """The rows of `ss` inside `locus` (sent to the worker instead of the whole table)."""
    keep = (
        (ss["chrom"].astype(str) == locus["chrom"])
        & (ss["pos"] >= locus["start"])
        & (ss["pos"] <= locus["end"])
    )
    return ss.loc[keep].reset_index(drop=True)
