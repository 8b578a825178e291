"""Motif matrices: reading and writing MEME motif files.

A `MotifSet` holds named **probability** matrices, each ``(4, width) float64``,
channel-first with channels A, C, G, T (the project's one convention), every column
summing to 1. MEME files are read from their ``letter-probability matrix`` blocks; a
file whose matrices are log-odds (MEME's ``log-odds matrix`` blocks, or rows with
negative values or rows that do not sum to 1) is refused: the scanner needs
probabilities and would silently mis-score log-odds.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_path

__all__ = ["MotifSet", "read_meme", "write_meme"]

_ROW_TOLERANCE = 0.02


@dataclass(frozen=True)
class MotifSet:
    """Named probability matrices ``(4, width) float64`` (A, C, G, T rows) and the
    background letter frequencies ``(4,) float64``."""

    names: tuple[str, ...]
    matrices: tuple[np.ndarray, ...]
    background: np.ndarray = field(default_factory=lambda: np.full(4, 0.25))
    source: str = ""

    def __post_init__(self) -> None:
        if len(self.names) != len(self.matrices):
            raise InputError("a motif set needs one matrix per name")
        if len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise InputError(f"motif {dup!r} appears twice in {self.source or 'the motif set'}")

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise InputError(
                f"motif {name!r} is not in {self.source or 'the motif set'} ({len(self)} motifs)"
            ) from None

    def matrix(self, name: str) -> np.ndarray:
        """The ``(4, width) float64`` probability matrix of motif `name`."""
        return self.matrices[self.index(name)]

    def subset(self, names: Iterable[str]) -> MotifSet:
        """The motifs named, in the order given (unknown names are an `InputError`)."""
        names = list(names)
        return MotifSet(
            tuple(names), tuple(self.matrix(n) for n in names), self.background, self.source
        )

    def as_dict(self) -> dict[str, np.ndarray]:
        """name -> ``(4, width) float64`` (the form memelite's scanners take)."""
        return dict(zip(self.names, self.matrices, strict=True))


def _check_matrix(name: str, rows: list[list[float]], where: str) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] != 4 or m.shape[0] == 0:
        raise InputError(f"{where}: motif {name} is not a width x 4 matrix (A C G T columns)")
    if (m < 0).any() or np.abs(m.sum(axis=1) - 1).max() > _ROW_TOLERANCE:
        raise InputError(
            f"{where}: motif {name} holds log-odds or counts, not probabilities (rows must be "
            "non-negative and sum to 1); convert it to a letter-probability matrix"
        )
    m = m / m.sum(axis=1, keepdims=True)
    return np.ascontiguousarray(m.T)


def read_meme(path: str | os.PathLike, *, exclude_prefixes: Sequence[str] = ()) -> MotifSet:
    """Read the letter-probability matrices of a MEME motif file.

    Motifs whose identifier starts with one of `exclude_prefixes` are skipped. The
    motif name is the MEME identifier (the first word after ``MOTIF``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"motif file {path} does not exist; check the path")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    where = str(path)
    if not any(line.startswith("MEME version") for line in lines[:50]):
        raise InputError(f"{where} is not a MEME motif file (no 'MEME version' line)")
    background = np.full(4, 0.25)
    names: list[str] = []
    mats: list[np.ndarray] = []
    i = 0
    current: str | None = None
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("ALPHABET") and "ACGT" not in line.replace(" ", ""):
            raise InputError(f"{where}: only the DNA alphabet ACGT is supported ({line})")
        if line.startswith("Background letter frequencies"):
            vals = re.findall(r"([ACGT])\s+([0-9.eE+-]+)", " ".join(lines[i + 1 : i + 3]))
            if len(vals) >= 4:
                freq = dict(vals)
                background = np.array([float(freq[b]) for b in "ACGT"])
                background = background / background.sum()
        elif line.startswith("MOTIF"):
            parts = line.split()
            if len(parts) < 2:
                raise InputError(f"{where}, line {i + 1}: MOTIF without a name")
            current = parts[1]
        elif line.startswith("log-odds matrix"):
            raise InputError(
                f"{where}, line {i + 1}: motif {current} is a log-odds matrix; varinterp "
                "scans letter-probability matrices (convert the file, e.g. with MEME's "
                "tools, or give the probability version)"
            )
        elif line.startswith("letter-probability matrix"):
            if current is None:
                raise InputError(f"{where}, line {i + 1}: matrix before any MOTIF line")
            m = re.search(r"w=\s*(\d+)", line)
            width = int(m.group(1)) if m else None
            rows: list[list[float]] = []
            j = i + 1
            while j < len(lines):
                text = lines[j].strip()
                if not text:
                    if rows and width is None:
                        break
                    j += 1
                    if width is not None and len(rows) >= width:
                        break
                    continue
                try:
                    row = [float(v) for v in text.split()]
                except ValueError:
                    break
                rows.append(row)
                j += 1
                if width is not None and len(rows) == width:
                    break
            if not exclude_prefixes or not current.startswith(tuple(exclude_prefixes)):
                names.append(current)
                mats.append(_check_matrix(current, rows, where))
            current = None
            i = j
            continue
        i += 1
    if not names:
        raise InputError(f"{where} holds no letter-probability matrix")
    return MotifSet(tuple(names), tuple(mats), background, source=where)


def write_meme(motifs: MotifSet, path: str | os.PathLike) -> Path:
    """Write `motifs` as a MEME (version 4) file of letter-probability matrices."""
    path = Path(path)
    bg = " ".join(f"{b} {f:.6g}" for b, f in zip("ACGT", motifs.background, strict=True))
    out = [
        "MEME version 4",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        bg,
        "",
    ]
    for name, m in zip(motifs.names, motifs.matrices, strict=True):
        out.append(f"MOTIF {name}")
        out.append(f"letter-probability matrix: alength= 4 w= {m.shape[1]}")
        out += [" ".join(f"{v:.6f}" for v in col) for col in m.T]
        out.append("")
    with atomic_path(path, suffix=".meme") as tmp:
        tmp.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
