"""Simulated PRO-cap: per-library stranded bigWigs from each person's diploid sequence.

`simulate_procap` loads a world folder (``varinterp simulate world``), runs the
ground-truth grammar (`procap_grammar`) over both haplotypes of every individual
(`procap_model`), draws libraries and Poisson reads, calls peaks from the pooled reads,
computes exact SNP effects (`procap_effects`) and writes one folder:

``samples.tsv``          sample sheet: ``library sample plus minus replicate depth
                         total_reads`` (the columns `varinterp.datasets.samplesheet` reads,
                         plus three): bigWig paths relative to the sheet
``bigwig/<library>.plus.bw`` / ``.minus.bw``   read counts per base (minus strand
                         stored as negative values, as PRO-cap tracks usually are)
``peaks.bed``            BED6: each element whose reads over its initiation window,
                         pooled over libraries, average at least ``min_peak_reads`` per
                         library (name: element id; score: that average / 10, <= 1000)
``tss.tsv``              one row per TSS anchor with its expected rate (RPM)
``tss_rates.tsv``        expected RPM of each TSS anchor (rows) in each individual
``variant_effects.tsv``  exact effect of each SNP near an element (`procap_effects`)
``procap.json``          parameters, grammar coefficients, counts and file MD5s

Libraries: each individual gets one library, and a second (an isogenic replicate)
with probability ``replicate_fraction``. A library's depth is log-normal around
``reads_per_mb * genome Mb`` (sd ``depth_sd`` in natural log), kept within 0.4-4 times
the median. Its reads at each base and strand are Poisson with mean
``depth * expected_rpm / 1e6`` (expected RPM of the library's individual), independently.
Reads exist only near elements (no genomic background).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.procap_effects import variant_effects
from varinterp.simulate.procap_grammar import DEFAULT_GRAMMAR, Grammar
from varinterp.simulate.procap_model import ExpectedProcap, expected_procap
from varinterp.simulate.world import World, stream

__all__ = [
    "ProcapParams",
    "ProcapResult",
    "draw_reads",
    "make_libraries",
    "simulate_procap",
    "tss_table",
]


_BLOCK = 100_000


@dataclass(frozen=True)
class ProcapParams:
    """Library and peak-calling settings of a PRO-cap simulation."""

    seed: int = 0
    reads_per_mb: float = 350_000.0
    depth_sd: float = 0.5
    replicate_fraction: float = 0.3
    min_peak_reads: float = 100.0

    def validate(self) -> ProcapParams:
        if self.seed < 0:
            msg = f"--seed must be >= 0, got {self.seed}"
            raise InputError(msg)
        if not 1e3 <= self.reads_per_mb <= 1e8:
            msg = f"--reads-per-mb must be between 1000 and 1e8, got {self.reads_per_mb}"
            raise InputError(msg)
        if not 0 <= self.depth_sd <= 2:
            msg = f"--depth-sd must be between 0 and 2, got {self.depth_sd}"
            raise InputError(msg)
        if not 0 <= self.replicate_fraction <= 1:
            msg = f"--replicate-fraction must be between 0 and 1, got {self.replicate_fraction}"
            raise InputError(msg)
        if self.min_peak_reads < 0:
            msg = f"--min-peak-reads must be >= 0, got {self.min_peak_reads}"
            raise InputError(msg)
        return self


@dataclass(frozen=True)
class ProcapResult:
    """What `simulate_procap` wrote: the folder, its sample sheet and counts."""

    out_dir: Path
    sample_sheet: Path
    n_libraries: int
    n_samples: int
    n_tss: int
    n_peaks: int
    n_causal: int


def make_libraries(
    rng: np.random.Generator, samples: tuple[str, ...], params: ProcapParams, genome_size: int
) -> pd.DataFrame:
    """Libraries of `samples`: columns ``library``, ``sample``, ``sample_index``,
    ``replicate`` (1 or 2) and ``depth`` (expected total reads, int)."""
    n = len(samples)
    n_reps = 1 + (rng.random(n) < params.replicate_fraction)
    median = params.reads_per_mb * genome_size / 1e6
    rows = []
    for i, sample in enumerate(samples):
        for r in range(int(n_reps[i])):
            factor = float(np.clip(np.exp(rng.normal(0.0, params.depth_sd)), 0.4, 4.0))
            rows.append(
                {
                    "library": f"{sample}_r{r + 1}",
                    "sample": sample,
                    "sample_index": i,
                    "replicate": r + 1,
                    "depth": round(median * factor),
                }
            )
    return pd.DataFrame(rows)


def draw_reads(
    rng: np.random.Generator,
    expected_rpm: np.ndarray,
    sample_index: np.ndarray,
    depth: np.ndarray,
) -> np.ndarray:
    """Poisson reads of libraries from their individuals' expected RPM.

    `expected_rpm` ``(n_samples, 2, W)``; `sample_index`, `depth` ``(n_libraries,)``.
    Returns ``(n_libraries, 2, W) int32`` counts with mean
    ``depth * expected_rpm[sample_index] / 1e6``.
    """
    mean = np.asarray(depth, dtype=np.float64)[:, None, None] * expected_rpm[sample_index] / 1e6
    return rng.poisson(mean).astype(np.int32)


def tss_table(expected: ExpectedProcap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(``tss.tsv`` table, ``tss_rates.tsv`` table) of `expected` (rates in RPM)."""
    rows, matrix, ids = [], [], []
    for k, model in enumerate(expected.models):
        el = model.element
        rpm = expected.rates[k] * expected.scale
        for a, (t, planted) in enumerate(zip(model.tss, model.planted, strict=True)):
            tss_id = f"{el.element_id}:{t.pos}{t.strand}"
            ids.append(tss_id)
            matrix.append(rpm[:, a])
            rows.append(
                {
                    "tss_id": tss_id,
                    "element_id": el.element_id,
                    "element_kind": el.kind,
                    "chrom": t.chrom,
                    "pos": t.pos,
                    "strand": t.strand,
                    "role": t.role,
                    "planted": "true" if planted else "false",
                    "ref_rpm": expected.ref_rates[k][a] * expected.scale,
                    "mean_rpm": float(rpm[:, a].mean()),
                    "min_rpm": float(rpm[:, a].min()),
                    "max_rpm": float(rpm[:, a].max()),
                }
            )
    tss = pd.DataFrame(rows)
    rates = pd.DataFrame(np.array(matrix).reshape(len(ids), -1), columns=list(expected.samples))
    rates.insert(0, "tss_id", ids)
    return tss, rates


def _tracks(expected: ExpectedProcap, reads: list[np.ndarray], lib: int, strand: int):
    """``(chrom, start, values)`` chunks of one library and strand for `write_bigwig`:
    neighbouring element windows are pasted into blocks of up to `_BLOCK` bp (zeros in
    between), so that the writer makes few calls."""
    sign = 1.0 if strand == 0 else -1.0
    block: list[int] = []

    def flush():
        first, last = expected.models[block[0]], expected.models[block[-1]]
        values = np.zeros(last.pend - first.pstart, dtype=np.float64)
        for k in block:
            m = expected.models[k]
            values[m.pstart - first.pstart : m.pend - first.pstart] = reads[k][lib, strand]
        return first.element.chrom, first.pstart, sign * values

    for k, model in enumerate(expected.models):
        if block:
            first = expected.models[block[0]]
            same = first.element.chrom == model.element.chrom
            if not same or model.pend - first.pstart > _BLOCK:
                yield flush()
                block = []
        block.append(k)
    if block:
        yield flush()


def _check_windows(expected: ExpectedProcap) -> None:
    last: dict[str, int] = {}
    for model in expected.models:
        chrom = model.element.chrom
        if model.pstart < last.get(chrom, 0):  # pragma: no cover - elements are >= 500 bp apart
            msg = f"initiation windows overlap at {chrom}:{model.pstart}"
            raise RuntimeError(msg)
        last[chrom] = model.pend


def _write_tsv(table: pd.DataFrame, path: Path) -> None:
    table.to_csv(path, sep="\t", index=False, lineterminator="\n", float_format="%.6g")


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def simulate_procap(
    *,
    world_dir: str | Path,
    out: str | Path,
    seed: int = 0,
    reads_per_mb: float = 350_000.0,
    depth_sd: float = 0.5,
    replicate_fraction: float = 0.3,
    min_peak_reads: float = 100.0,
    grammar: Grammar = DEFAULT_GRAMMAR,
    overwrite: bool = False,
    world: World | None = None,
    on_progress: ProgressCallback | None = None,
) -> ProcapResult:
    """Simulate PRO-cap libraries of the world in `world_dir` into the folder `out`.

    `world` may pass the already loaded world of `world_dir` (skips rebuilding it).
    Raises `InputError` for a missing world folder, bad parameters, or an existing
    `out` without `overwrite` (all checked before any work).
    """
    from varinterp import __version__
    from varinterp.io.bigwig import write_bigwig
    from varinterp.simulate.store import load_world

    check_output(out)
    params = ProcapParams(
        seed=seed,
        reads_per_mb=reads_per_mb,
        depth_sd=depth_sd,
        replicate_fraction=replicate_fraction,
        min_peak_reads=min_peak_reads,
    ).validate()
    world_dir, out = Path(world_dir), Path(out)
    if not world_dir.is_dir():
        msg = f"world folder {world_dir} does not exist; write one with 'varinterp simulate world'"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"output {out} exists and is not a folder; choose another --out"
        raise InputError(msg)
    if world is None:
        world = load_world(world_dir)
    total_steps = 5
    report(on_progress, 0, total_steps)
    expected = expected_procap(world, grammar=grammar)
    _check_windows(expected)
    report(on_progress, 1, total_steps)
    libs = make_libraries(
        stream(params.seed, "procap.libraries"),
        expected.samples,
        params,
        world.reference.size,
    )
    rng = stream(params.seed, "procap.reads")
    sample_index = libs["sample_index"].to_numpy()
    depth = libs["depth"].to_numpy()
    reads = [
        draw_reads(rng, prof * expected.scale, sample_index, depth) for prof in expected.profiles
    ]
    totals = np.zeros(len(libs), dtype=np.int64)
    for r in reads:
        totals += r.sum(axis=(1, 2), dtype=np.int64)
    report(on_progress, 2, total_steps)
    effects = variant_effects(world, expected)
    tss, rates = tss_table(expected)
    n_causal = int(effects.loc[effects["causal"].astype(bool), "variant_id"].nunique())
    report(on_progress, 3, total_steps)
    peaks = []
    for model, counts in zip(expected.models, reads, strict=True):
        per_library = float(counts.sum()) / max(len(libs), 1)
        if per_library >= params.min_peak_reads and counts.sum() > 0:
            el = model.element
            score = min(1000, round(per_library / 10))
            peaks.append(f"{el.chrom}\t{model.pstart}\t{model.pend}\t{el.element_id}\t{score}\t.")
    sheet = pd.DataFrame(
        {
            "library": libs["library"],
            "sample": libs["sample"],
            "plus": [f"bigwig/{lib}.plus.bw" for lib in libs["library"]],
            "minus": [f"bigwig/{lib}.minus.bw" for lib in libs["library"]],
            "replicate": libs["replicate"],
            "depth": libs["depth"],
            "total_reads": np.asarray(totals, dtype=np.int64),
        }
    )
    sizes = world.reference.lengths
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "bigwig").mkdir()
        for li, lib in enumerate(libs["library"]):
            for strand, name in ((0, "plus"), (1, "minus")):
                write_bigwig(
                    tmp / "bigwig" / f"{lib}.{name}.bw",
                    chrom_sizes=sizes,
                    tracks=_tracks(expected, reads, li, strand),
                )
        report(on_progress, 4, total_steps)
        _write_tsv(sheet, tmp / "samples.tsv")
        (tmp / "peaks.bed").write_text("".join(p + "\n" for p in peaks), encoding="ascii")
        _write_tsv(tss, tmp / "tss.tsv")
        _write_tsv(rates, tmp / "tss_rates.tsv")
        _write_tsv(
            effects.assign(causal=np.where(effects["causal"], "true", "false")),
            tmp / "variant_effects.tsv",
        )
        world_manifest = world_dir / "world.json"
        manifest = {
            "format": "varinterp-simulated-procap",
            "varinterp_version": __version__,
            "coordinates": "BED and tss.tsv positions 0-based; variant_effects.tsv pos 1-based",
            "params": asdict(params),
            "world_params": asdict(world.params),
            "world_manifest_md5": _md5(world_manifest) if world_manifest.is_file() else None,
            "grammar": grammar.as_dict(),
            "rpm_scale": expected.scale,
            "counts": {
                "samples": len(expected.samples),
                "libraries": len(libs),
                "elements": len(expected.models),
                "tss": len(tss),
                "peaks": len(peaks),
                "variants_scored": len(effects),
                "causal_variants": n_causal,
            },
            "files": {
                str(p.relative_to(tmp)): _md5(p) for p in sorted(tmp.rglob("*")) if p.is_file()
            },
        }
        (tmp / "procap.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    report(on_progress, 5, total_steps)
    return ProcapResult(
        out_dir=out,
        sample_sheet=out / "samples.tsv",
        n_libraries=len(libs),
        n_samples=len(expected.samples),
        n_tss=len(tss),
        n_peaks=len(peaks),
        n_causal=n_causal,
    )
