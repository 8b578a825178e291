"""A simulated deconvolution benchmark in one folder: a bulk mixture and/or an scATAC reference.

`simulate_mixture_folder` is what ``varinterp simulate mixture`` calls. It writes, into
one folder and atomically, ``bulk/`` (`varinterp.simulate.mixture.simulate_mixture`:
per-cell-type tracks thinned to a bulk of a given depth) and/or ``reference/``
(`varinterp.simulate.mixture.simulate_reference`: cells, then fragments per cell,
sampled from an scATAC fragments file), with one seed for both.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.io.chrom_sizes import resolve_chrom_sizes
from varinterp.progress import ProgressCallback
from varinterp.simulate.mixture import (
    MixtureResult,
    ReferenceResult,
    simulate_mixture,
    simulate_reference,
)

__all__ = ["MixtureFolder", "simulate_mixture_folder"]

Track = tuple[str | os.PathLike, str | os.PathLike | None]


@dataclass
class MixtureFolder:
    """What `simulate_mixture_folder` wrote: the folder, and the result of each part made
    (``None`` for a part not asked for). Paths in the results are under `out`."""

    out: Path
    mixture: MixtureResult | None
    reference: ReferenceResult | None


def simulate_mixture_folder(
    *,
    out: str | os.PathLike,
    tracks: Mapping[str, Track] | None = None,
    proportions: Mapping[str, float] | None = None,
    depth: int | None = None,
    fragments: str | os.PathLike | None = None,
    barcodes: str | os.PathLike | None = None,
    quality: str = "good",
    cells_per_type: int | Mapping[str, int] | None = None,
    chrom_sizes: str | os.PathLike | Mapping[str, int] | None = None,
    seed: int = 0,
    strict: bool = False,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> MixtureFolder:
    """Write ``out/bulk/`` (with `tracks` and `depth`) and/or ``out/reference/`` (with
    `fragments` and `barcodes`).

    `tracks`: cell type -> (plus bigWig, minus bigWig or None for unstranded) raw counts.
    `proportions` default to equal. The reference's contig lengths come from
    `chrom_sizes` (file or mapping), else from the first track's bigWig. Inputs are
    checked before anything is written; on an error `out` is left as it was.
    """
    check_output(out)
    tracks = dict(tracks or {})
    if not tracks and fragments is None:
        raise InputError("give --track (bulk mixture) and/or --fragments (scATAC reference)")
    if tracks and depth is None:
        raise InputError("--depth is needed with --track (e.g. --depth 31000000)")
    if fragments is not None and barcodes is None:
        raise InputError("--fragments needs --barcodes (barcode<TAB>cell_type)")
    sizes: dict[str, int] | None = None
    if chrom_sizes is not None:  # read when given, used or not: a broken file is an error
        sizes = resolve_chrom_sizes(chrom_sizes, None)
    if fragments is not None and sizes is None:
        if not tracks:
            raise InputError("give --chrom-sizes for the reference (or --track bigWigs)")
        sizes = resolve_chrom_sizes(None, next(iter(tracks.values()))[0])
    mixture = reference = None
    with atomic_dir(out, overwrite=overwrite) as tmp:
        if tracks:
            mixture = simulate_mixture(
                tracks=tracks,
                proportions=proportions or dict.fromkeys(tracks, 1.0),
                depth=int(depth),
                out=tmp / "bulk",
                seed=seed,
                on_progress=on_progress,
            )
        if fragments is not None:
            reference = simulate_reference(
                fragments=fragments,
                barcodes=barcodes,
                chrom_sizes=sizes,
                out=tmp / "reference",
                quality=quality,
                cells_per_type=cells_per_type,
                seed=seed,
                strict=strict,
                on_progress=on_progress,
            )
    out = Path(out)
    if mixture is not None:
        mixture = _moved_into(mixture, out / "bulk")
    if reference is not None:
        reference = _moved_into(reference, out / "reference")
    return MixtureFolder(out=out, mixture=mixture, reference=reference)


def _moved_into(result, folder: Path):
    """`result` with every path under its temporary folder rewritten to be under `folder`."""
    import dataclasses

    old = Path(result.out)

    def move(value):
        if isinstance(value, Path):
            return folder / value.relative_to(old) if value.is_relative_to(old) else value
        if isinstance(value, list):
            return [move(v) for v in value]
        if isinstance(value, dict):
            return {k: move(v) for k, v in value.items()}
        return value

    return dataclasses.replace(
        result, **{f.name: move(getattr(result, f.name)) for f in dataclasses.fields(result)}
    )
