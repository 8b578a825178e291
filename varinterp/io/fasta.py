"""Reference FASTA reading with pyfaidx.

Sequences come back as base codes (see `varinterp.bases`): ``(L,) uint8``,
A=0, C=1, G=2, T=3, N=4, with positions outside a contig padded with N. Coordinates are
0-based half-open.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyfaidx

from varinterp.bases import CODE_N, codes_from_sequence
from varinterp.errors import InputError
from varinterp.io.contigs import ContigMap

__all__ = ["Reference"]


class Reference:
    """A reference genome FASTA (indexed with a ``.fai``; built when missing).

    Contig names from other inputs are mapped onto this FASTA's names with
    `contig_map(source)` (``chr1`` vs ``1``, ``chrM`` vs ``MT``).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            msg = f"reference FASTA {self.path} does not exist; check the path"
            raise InputError(msg)
        try:
            self._fasta = pyfaidx.Fasta(
                str(self.path), as_raw=True, sequence_always_upper=False, rebuild=False
            )
        except (pyfaidx.FastaIndexingError, pyfaidx.UnsupportedCompressionFormat) as exc:
            msg = f"cannot index reference FASTA {self.path}: {exc}".splitlines()[0]
            raise InputError(msg) from None
        except UnicodeDecodeError:
            msg = (
                f"reference FASTA {self.path} is not a text FASTA (binary, or compressed "
                "other than with bgzip); check the file"
            )
            raise InputError(msg) from None
        except ValueError as exc:
            index = Path(f"{self.path}.fai")
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if index.is_file():
                msg = (
                    f"reference FASTA {self.path} or its index {index.name} is malformed "
                    f"({first}); delete {index} (it is rebuilt) and check the FASTA"
                )
            else:
                msg = f"reference FASTA {self.path} is malformed: {first}"
            raise InputError(msg) from None
        if not self._fasta.keys():
            msg = f"reference FASTA {self.path} has no sequences"
            raise InputError(msg)
        self.lengths: dict[str, int] = {name: len(rec) for name, rec in self._fasta.records.items()}

    @property
    def names(self) -> list[str]:
        """Contig names in FASTA order."""
        return list(self.lengths)

    def contig_map(self, source: str) -> ContigMap:
        """A mapper from another input's contig names onto this FASTA's names."""
        return ContigMap(self.lengths, source=source, target=f"reference {self.path}")

    def sequence(self, chrom: str, start: int = 0, end: int | None = None) -> str:
        """The raw letters of ``chrom[start:end]`` (case kept), clipped to the contig."""
        length = self.lengths[chrom]
        end = length if end is None else min(end, length)
        start = max(start, 0)
        if end <= start:
            return ""
        return str(self._fasta[chrom][start:end])

    def codes(self, chrom: str, start: int = 0, end: int | None = None) -> np.ndarray:
        """Base codes of ``chrom[start:end]`` -> ``(end - start,) uint8``.

        Positions before 0 or past the contig end are N. Non-ACGTN IUPAC letters are N;
        any other character is an `InputError` naming the contig and offset.
        """
        length = self.lengths[chrom]
        end = length if end is None else end
        out = np.full(max(end - start, 0), CODE_N, dtype=np.uint8)
        lo, hi = max(start, 0), min(end, length)
        if hi > lo:
            out[lo - start : hi - start] = codes_from_sequence(
                self.sequence(chrom, lo, hi), where=f"{self.path.name} {chrom}:{lo}-{hi}"
            )
        return out

    def base(self, chrom: str, pos0: int) -> str:
        """The upper-case letter at a 0-based position."""
        return self.sequence(chrom, pos0, pos0 + 1).upper()

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> Reference:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
