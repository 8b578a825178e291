"""Cell types of a simulated world, their scATAC, and a bulk PRO-cap mixture with known truth.

`simulate_celltypes` loads a world folder, models each cell type's initiation and
accessibility on the reference sequence (`celltypes_model`), draws scATAC cells and
fragments (`celltypes_atac`), a full-depth PRO-cap library per cell type, and a bulk
mixture by binomial thinning, and writes one folder (see ``docs/simulation.md``):

``library/<ct>.pl.bw`` / ``.mn.bw``  full-depth PRO-cap of the cell type (Poisson reads
                                       of its expected RPM; minus negative)
``truth/<ct>.pl.bw`` / ``.mn.bw``    the cell type's thinned share of the bulk (ground
                                       truth of a deconvolution)
``bulk.pl.bw`` / ``bulk.mn.bw``        the bulk: exactly the sum of the truth tracks
``accessibility/<ct>.bw``              expected fragment midpoints per base of the type's
                                       pooled cells (sums to its expected fragments)
``fragments.tsv.gz`` (+ ``.tbi``)      scATAC fragments: chrom, start, end, barcode, count
``barcodes.tsv``                       barcode<TAB>cell_type, no header
``tracks.tsv``                         the track table (docs/tracks.md): per cell type its
                                       truth as plus/minus, its accessibility, proportion,
                                       cells, fragments and library files
``library.tsv``                        the track table of the full-depth libraries
``elements.tsv``                       per element: open / expected RPM in each type
``regions.bed``                        BED6 of elements with bulk reads (deconvolution regions)
``chrom.sizes``                        contig<TAB>length
``celltypes.json``                     parameters, TF x cell-type table, truth, MD5s

Thinning (as `varinterp.simulate.mixture`): cell type ``k``'s library counts ``N`` are
thinned base by base, ``Binomial(N, p_k)`` with ``p_k = proportion_k * depth / total_k``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.celltypes_model import (
    DEFAULT_CELLS,
    DEFAULT_PROPORTIONS,
    CellTypeModel,
    accessibility_density,
    model_cell_types,
    resolve_cell_types,
)
from varinterp.simulate.world import World, stream

__all__ = ["CelltypesResult", "simulate_celltypes", "thin_libraries"]


@dataclass(frozen=True)
class CelltypesResult:
    """What `simulate_celltypes` wrote (``tracks`` is ``tracks.tsv``)."""

    out_dir: Path
    tracks: Path
    cell_types: tuple[str, ...]
    proportions: dict[str, float]
    n_cells: dict[str, int]
    n_fragments: int
    n_regions: int
    bulk_reads: int


def _thin(counts: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    try:
        from varinterp.simulate.mixture import thin
    except ImportError:  # pragma: no cover - mixture is part of the package
        return rng.binomial(np.asarray(counts, np.int64), p).astype(np.int64)
    return thin(counts, p, rng)


def thin_libraries(
    reads: Sequence[np.ndarray], proportions: np.ndarray, depth: int, seed: int
) -> tuple[list[np.ndarray], np.ndarray]:
    """Binomial thinning of every cell type's library to its share of a `depth` bulk.

    `reads[i]` ``(K, 2, W_i) int64`` per element model. Returns the thinned reads (same
    shapes) and ``p`` ``(K,) float64``; raises `InputError` when a ``p_k`` exceeds 1.
    """
    k = reads[0].shape[0] if reads else len(proportions)
    totals = np.array([sum(int(r[j].sum()) for r in reads) for j in range(k)], dtype=np.float64)
    p = np.divide(proportions * depth, totals, out=np.zeros(k), where=totals > 0)
    if (p > 1).any():
        j = int(np.argmax(p))
        msg = (
            f"bulk depth {depth} needs {p[j]:.2f}x the reads of cell type {j + 1}'s library; "
            "lower --depth or raise --reads-per-mb"
        )
        raise InputError(msg)
    sizes = [r[0].size for r in reads]
    out = [np.zeros_like(r, dtype=np.int64) for r in reads]
    for j in range(k):
        flat = np.concatenate([r[j].ravel() for r in reads]) if reads else np.zeros(0, np.int64)
        thinned = _thin(flat, float(p[j]), stream(seed, f"celltypes.thin.{j}"))
        for i, piece in enumerate(np.split(thinned, np.cumsum(sizes)[:-1])):
            out[i][j] = piece.reshape(reads[i].shape[1:])
    return out, p


def _model_chunks(ctm: CellTypeModel, arrays: Sequence[np.ndarray], strand: int):
    """``(chrom, start, values)`` of one strand for `write_bigwig` (minus negative)."""
    sign = 1.0 if strand == 0 else -1.0
    last: dict[str, int] = {}
    for m, arr in zip(ctm.models, arrays, strict=True):
        chrom = m.element.chrom
        if m.pstart < last.get(chrom, 0):  # pragma: no cover - elements are >= 500 bp apart
            raise RuntimeError(f"initiation windows overlap at {chrom}:{m.pstart}")
        last[chrom] = m.pend
        yield chrom, m.pstart, sign * arr[strand].astype(np.float64)


def _resolve_mix(names, proportions, n_cells) -> tuple[np.ndarray, list[int]]:
    if proportions is None:
        if set(names) <= set(DEFAULT_PROPORTIONS):
            proportions = {c: DEFAULT_PROPORTIONS[c] for c in names}
        else:
            proportions = {c: 1.0 for c in names}
    if set(proportions) != set(names):
        msg = f"proportions name {sorted(proportions)} but the cell types are {sorted(names)}"
        raise InputError(msg)
    props = np.array([float(proportions[c]) for c in names])
    if not np.isfinite(props).all() or (props < 0).any() or props.sum() <= 0:
        raise InputError("proportions must be >= 0 with a positive sum, e.g. hepatocyte=0.6")
    props = props / props.sum()
    if n_cells is None:
        cells = [DEFAULT_CELLS.get(c, 300) for c in names]
    elif isinstance(n_cells, Mapping):
        missing = [c for c in names if c not in n_cells]
        if missing:
            raise InputError(f"cell counts are missing for {missing}; give one per cell type")
        cells = [int(n_cells[c]) for c in names]
    else:
        cells = [int(n_cells)] * len(names)
    if any(not 1 <= n <= 100_000 for n in cells):
        raise InputError(f"cells per type must be between 1 and 100000, got {cells}")
    return props, cells


def _write_tsv(table: pd.DataFrame, path: Path, **kw) -> None:
    table.to_csv(path, sep="\t", index=False, lineterminator="\n", float_format="%.6g", **kw)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _check_args(world_dir: Path, out: Path, overwrite: bool, **nums: float) -> None:
    if not world_dir.is_dir():
        msg = f"world folder {world_dir} does not exist; write one with 'varinterp simulate world'"
        raise InputError(msg)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder; choose another --out")
    limits = {
        "seed": (0, 2**32 - 1),
        "fragments_per_cell": (10, 1e6),
        "reads_per_mb": (1e3, 1e8),
        "expression_sd": (0, 2),
        "peak_height": (0, 1e4),
        "min_peak_reads": (0, 1e9),
    }
    for name, value in nums.items():
        lo, hi = limits[name]
        if not lo <= value <= hi:
            flag = "--" + name.replace("_", "-")
            raise InputError(f"{flag} must be between {lo:g} and {hi:g}, got {value}")


def simulate_celltypes(
    *,
    world_dir: str | Path,
    out: str | Path,
    seed: int = 0,
    cell_types: Sequence[str] | Mapping[str, Iterable[str]] | None = None,
    proportions: Mapping[str, float] | None = None,
    n_cells: int | Mapping[str, int] | None = None,
    fragments_per_cell: float = 1000.0,
    reads_per_mb: float = 350_000.0,
    depth: int | None = None,
    expression_sd: float = 0.4,
    peak_height: float = 40.0,
    min_peak_reads: float = 5.0,
    overwrite: bool = False,
    world: World | None = None,
    on_progress: ProgressCallback | None = None,
) -> CelltypesResult:
    """Simulate cell types of the world in `world_dir` and their bulk mixture into `out`.

    `cell_types`: built-in names (`celltypes_model.CELL_TYPES`; default all three) or a
    ``{name: expressed factors}`` table. `proportions` (normalised to sum 1; default
    hepatocyte 0.6, kupffer 0.1, endothelial 0.3, else equal), `n_cells` (int or per
    type; default 400/150/300, else 300). Each cell type's PRO-cap library has
    ``reads_per_mb x genome Mb`` expected reads; the bulk `depth` defaults to half of
    that. `world` may pass the already loaded world of `world_dir`. Raises `InputError`
    for bad inputs, all checked before any work.
    """
    from varinterp import __version__
    from varinterp.io.bigwig import write_bigwig
    from varinterp.simulate.celltypes_atac import sample_fragments, write_fragments
    from varinterp.simulate.store import load_world

    check_output(out)
    world_dir, out = Path(world_dir), Path(out)
    _check_args(
        world_dir,
        out,
        overwrite,
        seed=seed,
        fragments_per_cell=fragments_per_cell,
        reads_per_mb=reads_per_mb,
        expression_sd=expression_sd,
        peak_height=peak_height,
        min_peak_reads=min_peak_reads,
    )
    table = resolve_cell_types(cell_types)
    names = list(table)
    props, cells = _resolve_mix(names, proportions, n_cells)
    if world is None:
        world = load_world(world_dir)
    lib_depth = reads_per_mb * world.reference.size / 1e6
    depth = round(0.5 * lib_depth) if depth is None else int(depth)
    if depth <= 0:
        raise InputError(f"--depth must be positive, got {depth}")
    total_steps = 6
    report(on_progress, 0, total_steps)
    ctm = model_cell_types(
        world, table, rng=stream(seed, "celltypes.expression"), expression_sd=expression_sd
    )
    report(on_progress, 1, total_steps)
    rng = stream(seed, "celltypes.reads")
    factor = (lib_depth * ctm.rpm_scale / 1e6)[:, None, None]
    reads = [rng.poisson(prof * factor).astype(np.int64) for prof in ctm.profiles]
    truth, p = thin_libraries(reads, props, depth, seed)
    bulk = [t.sum(axis=0) for t in truth]
    report(on_progress, 2, total_steps)
    densities = accessibility_density(world, ctm, peak_height=peak_height)
    frags = sample_fragments(
        stream(seed, "celltypes.atac"),
        densities,
        names,
        cells,
        fragments_per_cell=fragments_per_cell,
    )
    report(on_progress, 3, total_steps)
    elements, regions = _element_tables(ctm, bulk, min_peak_reads)
    sizes = world.reference.lengths
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for sub in ("library", "truth", "accessibility"):
            (tmp / sub).mkdir()
        for j, ct in enumerate(names):
            for strand, tag in ((0, "pl"), (1, "mn")):
                for sub, arrays in (("library", reads), ("truth", truth)):
                    write_bigwig(
                        tmp / sub / f"{ct}.{tag}.bw",
                        chrom_sizes=sizes,
                        tracks=_model_chunks(ctm, [a[j] for a in arrays], strand),
                    )
            expected = cells[j] * fragments_per_cell
            mass = sum(float(v.sum()) for v in densities[j].values())
            write_bigwig(
                tmp / "accessibility" / f"{ct}.bw",
                chrom_sizes=sizes,
                tracks=(
                    (c, 0, np.float32(expected / mass) * v.astype(np.float32))
                    for c, v in densities[j].items()
                ),
            )
        for strand, tag in ((0, "pl"), (1, "mn")):
            write_bigwig(
                tmp / f"bulk.{tag}.bw",
                chrom_sizes=sizes,
                tracks=_model_chunks(ctm, bulk, strand),
            )
        report(on_progress, 4, total_steps)
        write_fragments(frags, tmp / "fragments.tsv.gz")
        _write_tsv(
            pd.DataFrame({"barcode": frags.barcodes, "cell_type": frags.cell_type}),
            tmp / "barcodes.tsv",
            header=False,
        )
        report(on_progress, 5, total_steps)
        n_frag = {c: 0 for c in names}
        counts = np.bincount(frags.cell, minlength=len(frags.barcodes))
        for ct, n in zip(frags.cell_type, counts, strict=True):
            n_frag[ct] += int(n)
        tracks = pd.DataFrame(
            {
                "cell_type": names,
                "plus": [f"truth/{c}.pl.bw" for c in names],
                "minus": [f"truth/{c}.mn.bw" for c in names],
                "accessibility": [f"accessibility/{c}.bw" for c in names],
                "proportion": props,
                "n_cells": cells,
                "n_fragments": [n_frag[c] for c in names],
                "library_plus": [f"library/{c}.pl.bw" for c in names],
                "library_minus": [f"library/{c}.mn.bw" for c in names],
                "thinning_p": p,
            }
        )
        _write_tsv(tracks, tmp / "tracks.tsv")
        library = pd.DataFrame(
            {
                "cell_type": names,
                "plus": [f"library/{c}.pl.bw" for c in names],
                "minus": [f"library/{c}.mn.bw" for c in names],
                "accessibility": [f"accessibility/{c}.bw" for c in names],
            }
        )
        _write_tsv(library, tmp / "library.tsv")
        _write_tsv(elements, tmp / "elements.tsv")
        (tmp / "regions.bed").write_text(regions, encoding="ascii")
        (tmp / "chrom.sizes").write_text(
            "".join(f"{c}\t{n}\n" for c, n in sizes.items()), encoding="ascii"
        )
        manifest = {
            "format": "varinterp-simulated-celltypes",
            "varinterp_version": __version__,
            "coordinates": "0-based half-open (BED, elements.tsv, fragments)",
            "params": {
                "seed": seed,
                "fragments_per_cell": fragments_per_cell,
                "reads_per_mb": reads_per_mb,
                "library_depth": lib_depth,
                "bulk_depth": depth,
                "expression_sd": expression_sd,
                "peak_height": peak_height,
                "min_peak_reads": min_peak_reads,
            },
            "world_params": asdict(world.params),
            "cell_types": names,
            "tf_table": {c: sorted(table[c]) for c in names},
            "proportions": dict(zip(names, props.tolist(), strict=True)),
            "n_cells": dict(zip(names, cells, strict=True)),
            "n_fragments": n_frag,
            "thinning_p": dict(zip(names, p.tolist(), strict=True)),
            "bulk_reads": int(sum(int(b.sum()) for b in bulk)),
            "active_cell_types": dict(
                zip(elements["element_id"], elements["active_cell_types"], strict=True)
            ),
            "specific_elements": elements.loc[
                elements["specific"] == "true", "element_id"
            ].tolist(),
            "files": {
                str(q.relative_to(tmp)): _md5(q) for q in sorted(tmp.rglob("*")) if q.is_file()
            },
        }
        (tmp / "celltypes.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    report(on_progress, 6, total_steps)
    return CelltypesResult(
        out_dir=out,
        tracks=out / "tracks.tsv",
        cell_types=tuple(names),
        proportions=manifest["proportions"],
        n_cells=manifest["n_cells"],
        n_fragments=int(frags.start.size),
        n_regions=regions.count("\n"),
        bulk_reads=manifest["bulk_reads"],
    )


def _element_tables(
    ctm: CellTypeModel, bulk: Sequence[np.ndarray], min_peak_reads: float
) -> tuple[pd.DataFrame, str]:
    """(``elements.tsv`` table, ``regions.bed`` text)."""
    names = ctm.cell_types
    rows, bed = [], []
    for i, m in enumerate(ctm.models):
        el = m.element
        active = [c for j, c in enumerate(names) if ctm.open[i, j] and ctm.activity[i, j] > 0]
        reads = int(bulk[i].sum())
        row = {
            "element_id": el.element_id,
            "chrom": el.chrom,
            "start": el.start,
            "end": el.end,
            "kind": el.kind,
            "program": el.program,
            "active_cell_types": ",".join(active),
            "specific": "true" if 0 < len(active) < len(names) else "false",
        }
        for j, c in enumerate(names):
            row[f"rpm_{c}"] = ctm.activity[i, j] * ctm.rpm_scale[j]
        row["bulk_reads"] = reads
        rows.append(row)
        if reads >= max(min_peak_reads, 1):
            strand = el.strand if el.strand in "+-" else "."
            bed.append(f"{el.chrom}\t{el.start}\t{el.end}\t{el.element_id}\t{min(reads, 1000)}\t")
            bed[-1] += f"{strand}\n"
    return pd.DataFrame(rows), "".join(bed)
