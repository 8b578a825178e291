"""Build-and-write and read-back of a simulated world folder.

`simulate_world` is what ``varinterp simulate world`` calls. `load_world` rebuilds the
in-memory `World` of a folder from its ``world.json`` parameters (the build is
deterministic) and checks that the rebuilt reference matches the folder's FASTA.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import check_output
from varinterp.progress import ProgressCallback, report
from varinterp.simulate.world import World, WorldParams, make_world, params_from_dict
from varinterp.simulate.writers import WorldFiles, fasta_chunks, write_world

__all__ = ["load_world", "simulate_world"]


def simulate_world(
    *,
    out: str | Path,
    seed: int = 0,
    n_individuals: int = 60,
    genome_size: int = 1_500_000,
    n_chromosomes: int = 3,
    n_motif_variants: int | None = None,
    promoter_spacing: int = 25_000,
    enhancer_spacing: int = 12_000,
    causal_min_maf: float = 0.05,
    n_indel_qtls: int = 0,
    indel_density: float = 0.0,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> tuple[World, WorldFiles]:
    """Build a world and write it into the folder `out`; return the world and its files.

    `causal_min_maf` is the smallest minor-allele frequency of a designed motif SNP;
    raise it (with `n_motif_variants`) for a world with many causal QTLs that have
    carriers of both homozygous genotypes. `n_indel_qtls` designed indel QTLs and
    background indels at `indel_density` per bp (`varinterp.simulate.indels`; both off by
    default) put insertions and deletions into the cohort. Raises `InputError` for parameters out of
    range, or when `out` exists and not `overwrite` (checked before any work).
    """
    check_output(out)
    out = Path(out)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if out.exists() and not out.is_dir():
        msg = f"output {out} exists and is not a folder; choose another --out"
        raise InputError(msg)
    params = WorldParams(
        seed=seed,
        n_individuals=n_individuals,
        genome_size=genome_size,
        n_chromosomes=n_chromosomes,
        n_motif_variants=n_motif_variants,
        promoter_spacing=promoter_spacing,
        enhancer_spacing=enhancer_spacing,
        causal_min_maf=causal_min_maf,
        n_indel_qtls=n_indel_qtls,
        indel_density=indel_density,
    ).validate()

    def build_progress(done: int, total: int | None) -> None:
        report(on_progress, done, 9)

    world = make_world(params=params, on_progress=build_progress)

    def write_progress(done: int, total: int | None) -> None:
        report(on_progress, 5 + done, 9)

    files = write_world(world, out, overwrite=overwrite, on_progress=write_progress)
    return world, files


def load_world(folder: str | Path) -> World:
    """Rebuild the `World` written in `folder` (from ``world.json``) and verify its FASTA."""
    folder = Path(folder)
    manifest = folder / "world.json"
    if not manifest.is_file():
        msg = f"{manifest} not found; is {folder} a folder written by 'varinterp simulate world'?"
        raise InputError(msg)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        params = params_from_dict(data["params"])
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"{manifest} is not a valid world manifest ({exc}); rewrite the world"
        raise InputError(msg) from None
    world = make_world(params=params)
    expected = data.get("files", {}).get("reference.fa")
    fasta = folder / "reference.fa"
    if expected is not None and fasta.is_file() and _md5(fasta) != expected:
        msg = (
            f"{fasta} differs from the world that {manifest} describes (edited or "
            "truncated?); regenerate the world with 'varinterp simulate world'"
        )
        raise InputError(msg)
    if expected is not None:
        digest = hashlib.md5()
        for chunk in fasta_chunks(world):
            digest.update(chunk.encode("ascii"))
        got = digest.hexdigest()
        if got != expected:
            msg = (
                f"the world in {folder} was written by another varinterp version (reference "
                "differs); regenerate it with 'varinterp simulate world'"
            )
            raise InputError(msg)
    return world


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
