"""The sample sheet of a PRO-cap cohort: one row per library.

It is the track table (`varinterp.io.tracks`, ``docs/tracks.md``) with ``library``,
``sample``, ``plus`` and ``minus`` filled in on every row (extra columns are ignored)::

    library   sample    plus                    minus
    lib01     NA18486   bw/lib01.plus.bw        bw/lib01.minus.bw
    lib02     NA18486   bw/lib02.plus.bw        bw/lib02.minus.bw

- ``library``: a unique name of the PRO-cap library;
- ``sample``: the individual's sample name in the genome store (the VCF sample);
  several libraries may name one sample (isogenic replicates);
- ``plus`` / ``minus``: the library's stranded bigWigs, relative to the sheet's folder
  (or absolute). Minus-strand values may be stored negative; their absolute values are
  used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from varinterp.errors import InputError
from varinterp.io.tables import read_table

__all__ = ["SHEET_COLUMNS", "Library", "read_sample_sheet", "subsample_individuals"]

SHEET_COLUMNS = ("library", "sample", "plus", "minus")


@dataclass(frozen=True)
class Library:
    """One PRO-cap library: its name, the individual it comes from, its bigWigs."""

    name: str
    sample: str
    plus: Path
    minus: Path


def read_sample_sheet(path: str | os.PathLike, *, check_files: bool = True) -> list[Library]:
    """Read a sample sheet (see the module docstring) -> libraries in file order.

    Missing columns, empty cells, duplicate library names and (with `check_files`)
    bigWigs that do not exist are an `InputError` naming the sheet and row.
    """
    path = Path(path)
    table = read_table(path, required=(), what="sample sheet")
    table = table.rename(columns={"plus_bigwig": "plus", "minus_bigwig": "minus"})
    missing = [c for c in SHEET_COLUMNS if c not in table.columns]
    if missing:
        msg = (
            f"sample sheet {path} lacks column(s) {', '.join(missing)} (has "
            f"{', '.join(table.columns)}); it needs {', '.join(SHEET_COLUMNS)} (docs/tracks.md)"
        )
        raise InputError(msg)
    libraries: list[Library] = []
    seen: set[str] = set()
    for i, row in enumerate(table.itertuples(index=False), start=2):
        values = {c: str(getattr(row, c)).strip() for c in SHEET_COLUMNS}
        empty = [c for c, v in values.items() if not v]
        if empty:
            msg = f"sample sheet {path}, line {i}: empty {', '.join(empty)}"
            raise InputError(msg)
        if values["library"] in seen:
            msg = f"sample sheet {path}, line {i}: library {values['library']!r} appears twice"
            raise InputError(msg)
        seen.add(values["library"])
        bws = {}
        for strand in ("plus", "minus"):
            p = Path(values[strand])
            p = p if p.is_absolute() else path.parent / p
            if check_files and not p.is_file():
                msg = (
                    f"sample sheet {path}, line {i}: {strand} bigWig {p} of library "
                    f"{values['library']} does not exist"
                )
                raise InputError(msg)
            bws[strand] = p
        libraries.append(Library(values["library"], values["sample"], bws["plus"], bws["minus"]))
    return libraries


def subsample_individuals(
    libraries: list[Library], n: int, *, replicate: int = 0, seed: int = 0
) -> list[Library]:
    """Keep every library of `n` individuals drawn without replacement (ablation runs).

    The draw depends only on (`seed`, `replicate`) and the set of sample names, so
    replicate ``k`` of a given size is the same draw on every machine.
    """
    individuals = sorted({lib.sample for lib in libraries})
    if not 1 <= n <= len(individuals):
        msg = (
            f"--subsample-individuals {n}: the sample sheet has {len(individuals)} "
            f"individual(s); choose 1..{len(individuals)}"
        )
        raise InputError(msg)
    if replicate < 0:
        msg = f"--replicate {replicate} must be >= 0"
        raise InputError(msg)
    rng = np.random.default_rng([seed, replicate, n])
    chosen = {individuals[i] for i in rng.choice(len(individuals), size=n, replace=False)}
    return [lib for lib in libraries if lib.sample in chosen]
