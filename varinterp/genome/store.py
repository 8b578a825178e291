"""The personal-genome store: the reference once, genotypes compactly, windows on demand.

A store is a folder (by convention ``*.vgs``) written by `build_store`; its format is in
``docs/genome_store.md``. `GenomeStore.open` memory-maps it, and `windows` /
`haplotypes` build any individual's sequence for any interval with a numba kernel,
without ever writing a personal FASTA.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.genome import _kernels
from varinterp.genome.encoding import BASES
from varinterp.io.contigs import ContigMap
from varinterp.io.readers import load_npy, read_json

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "GenomeStore", "StoreContig"]

FORMAT_NAME = "varinterp-genome-store"
FORMAT_VERSION = 1

SampleSpec = str | int | Sequence[str] | Sequence[int] | np.ndarray
ChromSpec = str | Sequence[str] | np.ndarray


@dataclass(frozen=True)
class StoreContig:
    """A stored contig: its slice of the reference and of the variant arrays."""

    name: str
    length: int
    ref_offset: int
    var_start: int
    var_end: int


class GenomeStore:
    """An opened store. Build one with `varinterp.genome.build.build_store`.

    ``reference_only=True`` ignores the genotypes: every window is the reference (the
    ablation of training without personal genomes).
    """

    def __init__(self, path: Path, meta: dict, *, reference_only: bool = False) -> None:
        self.path = path
        self.meta = meta
        self.reference_only = reference_only
        self.samples: list[str] = list(meta["samples"])
        self.contigs: list[StoreContig] = [StoreContig(**c) for c in meta["contigs"]]
        self._contig_index = {c.name: i for i, c in enumerate(self.contigs)}
        self._names = ContigMap(self._contig_index, source="", target=f"genome store {path}")
        self._sample_index = {s: i for i, s in enumerate(self.samples)}
        self.reference = self._array("reference")
        self.positions = self._array("positions")
        self.alleles = self._array("alleles")
        self.genotypes = self._array("genotypes")
        self._phased = None
        self._ref_offset = np.array([c.ref_offset for c in self.contigs], dtype=np.int64)
        self._ref_length = np.array([c.length for c in self.contigs], dtype=np.int64)
        self._var_lo = np.array([c.var_start for c in self.contigs], dtype=np.int64)
        self._var_hi = np.array([c.var_end for c in self.contigs], dtype=np.int64)

    def _array(self, name: str) -> np.ndarray:
        """A memory-mapped array of the store, as ``<name>.npy`` holds it."""
        return load_npy(self.path / f"{name}.npy", "genome store array", mmap_mode="r")

    @classmethod
    def open(cls, path: str | os.PathLike, *, reference_only: bool = False) -> GenomeStore:
        """Open (memory-map) a store folder; a folder that is not one is an `InputError`."""
        path = Path(path)
        meta_path = path / "meta.json"
        if not meta_path.is_file():
            msg = f"{path} is not a genome store (no meta.json); run varinterp genome build"
            raise InputError(msg)
        meta = read_json(meta_path, "genome store file")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            shown = meta.get("format") if isinstance(meta, dict) else None
            msg = f"{path} is not a varinterp genome store (format {shown!r})"
            raise InputError(msg)
        if meta.get("version", 0) > FORMAT_VERSION:
            msg = (
                f"store {path} has format version {meta['version']}, newer than this varinterp "
                f"reads ({FORMAT_VERSION}); upgrade varinterp"
            )
            raise InputError(msg)
        try:
            return cls(path, meta, reference_only=reference_only)
        except InputError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"genome store {meta_path} is incomplete or damaged ({exc!r}); rebuild the store"
            raise InputError(msg) from None

    # ----------------------------------------------------------------- lookups
    @property
    def n_variants(self) -> int:
        return int(self.positions.shape[0])

    @property
    def assembly(self) -> str | None:
        """The assembly (GRCh38, GRCh37, T2T-CHM13, mm10, mm39) whose chromosome lengths
        the store's contigs have, or None (`varinterp.genome.assembly.guess_assembly`)."""
        from varinterp.genome.assembly import guess_assembly

        return guess_assembly(self.contig_lengths)

    @property
    def contig_lengths(self) -> dict[str, int]:
        return {c.name: c.length for c in self.contigs}

    def contig_name(self, chrom: str) -> str:
        """The store's spelling of `chrom` (``chr1`` vs ``1``); `InputError` if absent."""
        return self._names(chrom)

    def sample_indices(self, samples: SampleSpec) -> np.ndarray:
        """Sample names or indices -> ``(n,) int64`` indices; unknown names are an `InputError`."""
        arr = np.atleast_1d(np.asarray(samples))
        if arr.dtype.kind in "iu":
            if arr.size and (arr.min() < 0 or arr.max() >= len(self.samples)):
                msg = f"sample index out of range 0..{len(self.samples) - 1}"
                raise InputError(msg)
            return arr.astype(np.int64)
        missing = sorted({str(s) for s in arr} - self._sample_index.keys())
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            msg = (
                f"{len(missing)} sample(s) not in store {self.path.name}: {shown}; "
                "see its samples with varinterp genome info"
            )
            raise InputError(msg)
        return np.array([self._sample_index[str(s)] for s in arr], dtype=np.int64)

    def contig_indices(self, chroms: ChromSpec) -> np.ndarray:
        arr = np.atleast_1d(np.asarray(chroms, dtype=object))
        cache: dict[str, int] = {}
        out = np.empty(arr.size, dtype=np.int64)
        for i, c in enumerate(arr):
            if c not in cache:
                cache[c] = self._contig_index[self._names(str(c))]
            out[i] = cache[c]
        return out

    def variants(self, chrom: str | None = None, start: int = 0, end: int | None = None):
        """Stored SNVs as a table: chrom, pos0 (0-based), ref, alt, id, alt_count, index."""
        rows = []
        for c in self.contigs if chrom is None else [self.contigs[self.contig_indices(chrom)[0]]]:
            lo, hi = c.var_start, c.var_end
            pos = np.asarray(self.positions[lo:hi])
            sel = (pos >= start) & (pos < (c.length if end is None else end))
            idx = np.arange(lo, hi)[sel]
            rows.append(
                pd.DataFrame(
                    {
                        "chrom": c.name,
                        "pos0": pos[sel],
                        "ref": [BASES[a] for a in self.alleles[idx, 0]],
                        "alt": [BASES[a] for a in self.alleles[idx, 1]],
                        "index": idx,
                    }
                )
            )
        table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
        ids = self.variant_ids()
        table.insert(4, "id", [ids[i] for i in table["index"]] if len(table) else [])
        return table

    def variant_ids(self) -> list[str]:
        """The VCF ID of every stored SNV, in store order."""
        return (self.path / "variant_ids.txt").read_text().splitlines()

    def dosages(self, variant_index: int, samples: SampleSpec | None = None) -> np.ndarray:
        """ALT allele count of one variant per sample -> ``(n_samples,) int8`` (0, 1, 2)."""
        idx = np.arange(len(self.samples)) if samples is None else self.sample_indices(samples)
        bits = np.unpackbits(np.asarray(self.genotypes[variant_index]), axis=-1, bitorder="little")[
            :, : len(self.samples)
        ]
        return bits[:, idx].sum(axis=0).astype(np.int8)

    def is_phased(self, samples: SampleSpec | None = None) -> bool:
        """True when every stored call of these samples is phased (or homozygous)."""
        if self._phased is None:
            self._phased = self._array("phased")
        idx = np.arange(len(self.samples)) if samples is None else self.sample_indices(samples)
        if self.n_variants == 0:
            return True
        bits = np.unpackbits(np.asarray(self._phased), axis=-1, bitorder="little")
        return bool(bits[:, idx].all())

    # ----------------------------------------------------------------- windows
    def _requests(self, samples, chroms, starts):
        starts = np.atleast_1d(np.asarray(starts, dtype=np.int64))
        sample_idx = self.sample_indices(samples) if len(self.samples) else None
        contig_idx = self.contig_indices(chroms)
        n = max(starts.size, contig_idx.size, 1 if sample_idx is None else sample_idx.size)
        if sample_idx is None:
            sample_idx = np.zeros(1, dtype=np.int64)
        try:
            sample_idx, contig_idx, starts = (
                np.ascontiguousarray(np.broadcast_to(a, (n,)))
                for a in (sample_idx, contig_idx, starts)
            )
        except ValueError:
            msg = "samples, chroms and starts must have the same length (or length 1)"
            raise InputError(msg) from None
        return sample_idx, contig_idx, starts

    def _check_overlaps(self, contig_idx: np.ndarray, starts: np.ndarray, length: int) -> None:
        """`InputError` for a window entirely outside its contig (a build mismatch)."""
        lengths = self._ref_length[contig_idx]
        outside = (starts >= lengths) | (starts + length <= 0)
        if outside.any():
            from varinterp.genome.assembly import past_contig_end

            i = int(np.flatnonzero(outside)[0])
            contig = self.contigs[int(contig_idx[i])]
            end = int(starts[i]) + length
            raise InputError(past_contig_end(contig.name, end, contig.length, self.contig_lengths))

    def _kernel_args(self, *, reference_only: bool | None):
        use_variants = not (self.reference_only if reference_only is None else reference_only)
        use_variants = use_variants and self.n_variants > 0 and len(self.samples) > 0
        return (
            self.reference,
            self._ref_offset,
            self._ref_length,
            self._var_lo,
            self._var_hi,
            self.positions,
            self.alleles,
            self.genotypes,
        ), use_variants

    def windows(
        self,
        samples: SampleSpec,
        chroms: ChromSpec,
        starts,
        length: int,
        *,
        rc: bool = False,
        reference_only: bool | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Two-hot windows -> ``(n, 4, length) uint8``, channels A,C,G,T, values 0..2.

        Window i is ``chroms[i][starts[i]:starts[i] + length]`` (0-based) of sample
        ``samples[i]`` (name or index); scalars broadcast. Positions past a contig edge
        are N (all zeros); a window entirely outside its contig is an `InputError` naming
        the contig's length (the coordinates are likely on another genome build).
        ``rc`` returns the reverse complement (both axes flipped).
        ``reference_only`` overrides the store's mode for this call. `out`, when given,
        must be a C-contiguous ``(n, 4, length) uint8`` array; it is overwritten.
        """
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        self._check_overlaps(contig_idx, start_arr, length)
        n = start_arr.size
        if out is None:
            out = np.empty((n, 4, length), dtype=np.uint8)  # the kernel writes every element
        elif out.shape != (n, 4, length) or out.dtype != np.uint8 or not out.flags.c_contiguous:
            msg = f"out must be C-contiguous ({n}, 4, {length}) uint8, got {out.shape} {out.dtype}"
            raise ValueError(msg)
        args, use_variants = self._kernel_args(reference_only=reference_only)
        _kernels.fill_two_hot(
            *args, sample_idx, contig_idx, start_arr, use_variants, rc, out
        )  # fmt: skip
        return out

    def haplotypes(
        self,
        samples: SampleSpec,
        chroms: ChromSpec,
        starts,
        length: int,
        *,
        rc: bool = False,
        reference_only: bool | None = None,
        allow_unphased: bool = False,
    ) -> np.ndarray:
        """One-hot haplotype windows -> ``(n, 2, 4, length) uint8`` (haplotype, A,C,G,T, position).

        Haplotype 0 is the first allele written in GT. Unphased genotypes make the split
        arbitrary, so they are an `InputError` unless ``allow_unphased``.
        """
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        self._check_overlaps(contig_idx, start_arr, length)
        if not allow_unphased and len(self.samples) and not self.is_phased(np.unique(sample_idx)):
            msg = (
                f"store {self.path.name} holds unphased genotypes for these samples; use "
                "two-hot windows, or pass allow_unphased to take GT order as the phase"
            )
            raise InputError(msg)
        out = np.empty((start_arr.size, 2, 4, length), dtype=np.uint8)
        args, use_variants = self._kernel_args(reference_only=reference_only)
        _kernels.fill_haplotypes(
            *args, sample_idx, contig_idx, start_arr, use_variants, rc, out
        )  # fmt: skip
        return out

    def haplotype_codes(
        self, samples: SampleSpec, chroms: ChromSpec, starts, length: int
    ) -> np.ndarray:
        """Base codes of both haplotypes -> ``(n, 2, length) uint8`` (A=0, C=1, G=2, T=3, N=4)."""
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        out = np.empty((start_arr.size, 2, length), dtype=np.uint8)
        args, use_variants = self._kernel_args(reference_only=None)
        _kernels.fill_haplotype_codes(
            *args, sample_idx, contig_idx, start_arr, use_variants, out
        )  # fmt: skip
        return out
