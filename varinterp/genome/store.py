"""The personal-genome store: the reference once, genotypes compactly, windows on demand.

A store is a folder (by convention ``*.vgs``) written by `build_store`; its format is in
``docs/genome_store.md``. `GenomeStore.open` memory-maps it, and `windows` /
`haplotypes` / `haplotype_codes` build any individual's sequence for any interval, indels
included, with a numba kernel (`varinterp.genome._kernels`), without ever writing a
personal FASTA.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.errors import InputError
from varinterp.genome import _kernels, _layout
from varinterp.genome._threads import run_sliced
from varinterp.genome.encoding import sequence_from_codes
from varinterp.io.contigs import ContigMap
from varinterp.io.readers import load_npy, read_json

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "GROUPED_MIN_REQUESTS", "GenomeStore", "StoreContig"]

#: Requests from which a `GenomeStore.windows` call groups repeated windows (bulk reads).
GROUPED_MIN_REQUESTS = 512

FORMAT_NAME = "varinterp-genome-store"
FORMAT_VERSION = 2

_CONTIG_KEYS = ("name", "length", "ref_offset", "var_start", "var_end")

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
    ablation of training without personal genomes). A store of the previous format
    (version 1: SNVs, dense genotype bits) opens as it is; `varinterp genome upgrade`
    rewrites it in the current one.
    """

    def __init__(self, path: Path, meta: dict, *, reference_only: bool = False) -> None:
        self.path = path
        self.meta = meta
        self.version = int(meta.get("version", 1))
        self.reference_only = reference_only
        self.samples: list[str] = list(meta["samples"])
        self.contigs: list[StoreContig] = [
            StoreContig(**{k: c[k] for k in _CONTIG_KEYS}) for c in meta["contigs"]
        ]
        self._contig_index = {c.name: i for i, c in enumerate(self.contigs)}
        self._names = ContigMap(self._contig_index, source="", target=f"genome store {path}")
        self._sample_index = {s: i for i, s in enumerate(self.samples)}
        self.reference = self._array("reference")
        arrays = _layout.load_v1(path, meta) if self.version == 1 else _layout.load(path, meta)
        self.positions = arrays["positions"]
        self.ref_len = arrays["ref_len"]
        self.alt_offsets = arrays["alt_offsets"]
        self.alt_bases = arrays["alt_bases"]
        self._gt = arrays
        self._ref_offset = np.array([c.ref_offset for c in self.contigs], dtype=np.int64)
        self._ref_length = np.array([c.length for c in self.contigs], dtype=np.int64)
        self._var_lo = np.array([c.var_start for c in self.contigs], dtype=np.int64)
        self._var_hi = np.array([c.var_end for c in self.contigs], dtype=np.int64)
        self._max_span = np.array([c.get("max_span", 1) for c in meta["contigs"]], dtype=np.int64)
        self._tuple = (
            self.reference, self._ref_offset, self._ref_length, self._var_lo, self._var_hi,
            self._max_span, self.positions, self.ref_len, self.alt_offsets, self.alt_bases,
            arrays["gt_kind"], arrays["gt_offsets"], arrays["gt_haps"], arrays["dense_row"],
            arrays["gt_dense"],
        )  # fmt: skip

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

    def alleles_of(self, indices) -> tuple[list[str], list[str]]:
        """REF and ALT strings of the variants at store `indices` (upper case, as in the VCF)."""
        idx = np.atleast_1d(np.asarray(indices, dtype=np.int64))
        refs, alts = [], []
        contig_of = np.searchsorted(self._var_lo, idx, side="right") - 1
        for v, k in zip(idx, contig_of, strict=True):
            p = int(self.positions[v])
            off = int(self._ref_offset[k])
            span = self.reference[off + p : off + p + int(self.ref_len[v])]
            refs.append(sequence_from_codes(span))
            alts.append(
                sequence_from_codes(self.alt_bases[self.alt_offsets[v] : self.alt_offsets[v + 1]])
            )
        return refs, alts

    def variants(self, chrom: str | None = None, start: int = 0, end: int | None = None):
        """Stored variants as a table: chrom, pos0 (0-based), ref, alt, id, ilen, index.

        ``ilen`` is ``len(alt) - len(ref)`` (0 for SNVs and MNPs).
        """
        rows = []
        for c in self.contigs if chrom is None else [self.contigs[self.contig_indices(chrom)[0]]]:
            lo, hi = c.var_start, c.var_end
            pos = np.asarray(self.positions[lo:hi])
            sel = (pos >= start) & (pos < (c.length if end is None else end))
            idx = np.arange(lo, hi)[sel]
            refs, alts = self.alleles_of(idx)
            rows.append(
                pd.DataFrame(
                    {"chrom": c.name, "pos0": pos[sel], "ref": refs, "alt": alts, "index": idx}
                )
            )
        table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
        ids = self.variant_ids()
        table.insert(4, "id", [ids[i] for i in table["index"]] if len(table) else [])
        if len(table):
            table.insert(5, "ilen", table["alt"].str.len() - table["ref"].str.len())
        return table

    def variant_ids(self) -> list[str]:
        """The VCF ID of every stored variant, in store order."""
        return (self.path / "variant_ids.txt").read_text().splitlines()

    def carriers(self, variant_index: int) -> np.ndarray:
        """Which haplotypes carry a variant's ALT -> ``(2, n_samples) bool`` (haplotype, sample).

        After the build's overlap resolution: a call dropped because it overlaps an
        earlier variant on the same haplotype reads as REF here.
        """
        return _layout.carriers(self._gt, int(variant_index), len(self.samples))

    def dosages(self, variant_index: int, samples: SampleSpec | None = None) -> np.ndarray:
        """ALT allele count of one variant per sample -> ``(n_samples,) int8`` (0, 1, 2)."""
        idx = np.arange(len(self.samples)) if samples is None else self.sample_indices(samples)
        return self.carriers(variant_index)[:, idx].sum(axis=0).astype(np.int8)

    def is_phased(self, samples: SampleSpec | None = None) -> bool:
        """True when every stored call of these samples is phased (or homozygous)."""
        idx = np.arange(len(self.samples)) if samples is None else self.sample_indices(samples)
        if self.n_variants == 0:
            return True
        return not _layout.unphased_samples(self.path, self.meta, self._gt)[idx].any()

    # ----------------------------------------------------------------- windows
    def _requests(self, samples, chroms, starts):
        starts = np.ascontiguousarray(np.atleast_1d(starts), dtype=np.int64)
        sample_idx = self.sample_indices(samples) if len(self.samples) else np.zeros(1, np.int64)
        contig_idx = self.contig_indices(chroms)
        n = max(starts.size, contig_idx.size, sample_idx.size)
        parts = []
        for a in (sample_idx, contig_idx, starts):
            if a.size == n:
                parts.append(np.ascontiguousarray(a))
            elif a.size == 1:
                parts.append(np.full(n, a[0], dtype=np.int64))
            else:
                msg = "samples, chroms and starts must have the same length (or length 1)"
                raise InputError(msg)
        return tuple(parts)

    def _check_overlaps(self, contig_idx: np.ndarray, starts: np.ndarray, length: int) -> None:
        """`InputError` for a window that ends before its contig starts or starts a whole
        window length past its end (a build mismatch); nearer ones are N-padded, as
        windows anchored at a contig edge need."""
        lengths = self._ref_length[contig_idx]
        outside = (starts >= lengths + length) | (starts + length < 0)
        if outside.any():
            from varinterp.genome.assembly import past_contig_end

            i = int(np.flatnonzero(outside)[0])
            contig = self.contigs[int(contig_idx[i])]
            end = int(starts[i]) + length
            raise InputError(past_contig_end(contig.name, end, contig.length, self.contig_lengths))

    def _use_variants(self, reference_only: bool | None) -> bool:
        use = not (self.reference_only if reference_only is None else reference_only)
        return use and self.n_variants > 0 and len(self.samples) > 0

    def windows(
        self,
        samples: SampleSpec,
        chroms: ChromSpec,
        starts,
        length: int,
        *,
        rc: bool = False,
        reference_only: bool | None = None,
        indels: bool = True,
        anchor: str = "start",
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Two-hot windows -> ``(n, 4, length) uint8``, channels A,C,G,T, values 0..2.

        Window i is ``chroms[i][starts[i]:starts[i] + length]`` (0-based, reference
        coordinates) of sample ``samples[i]`` (name or index); scalars broadcast. It is
        the sum of the two haplotypes of `haplotype_codes` (indels applied and each
        haplotype fitted to `length` as `anchor` says; ``indels=False`` applies SNVs and
        MNPs only). Positions past a contig edge are N (all zeros); a window entirely
        outside its contig is an `InputError` naming the contig's length (the coordinates
        are likely on another genome build). ``rc`` returns the reverse complement (both
        axes flipped). ``reference_only`` overrides the store's mode for this call. `out`,
        when given, must be a C-contiguous ``(n, 4, length) uint8`` array; it is
        overwritten.
        """
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        self._check_overlaps(contig_idx, start_arr, length)
        n = start_arr.size
        if out is None:
            out = np.empty((n, 4, length), dtype=np.uint8)  # the kernel writes every element
        elif out.shape != (n, 4, length) or out.dtype != np.uint8 or not out.flags.c_contiguous:
            msg = f"out must be C-contiguous ({n}, 4, {length}) uint8, got {out.shape} {out.dtype}"
            raise ValueError(msg)
        mode = _mode(anchor)
        use = self._use_variants(reference_only)
        S = self._tuple
        grouped = None
        if n >= GROUPED_MIN_REQUESTS:
            grouped = _templates(S, contig_idx, start_arr, length, rc)

        def work(lo: int, hi: int) -> None:
            if grouped is None:
                _kernels.fill_two_hot(
                    S, sample_idx, contig_idx, start_arr, length, mode, use, indels, rc, lo, hi,
                    out,
                )  # fmt: skip
            else:
                _kernels.fill_two_hot_grouped(
                    S, sample_idx, contig_idx, start_arr, length, mode, use, indels, rc,
                    *grouped, lo, hi, out,
                )  # fmt: skip

        run_sliced(work, n, 4 * length)
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
        indels: bool = True,
        anchor: str = "start",
    ) -> np.ndarray:
        """One-hot haplotype windows -> ``(n, 2, 4, length) uint8`` (haplotype, A,C,G,T, position).

        Haplotype 0 is the first allele written in GT. Unphased genotypes make the split
        arbitrary, so they are an `InputError` unless ``allow_unphased``. `indels` and
        `anchor` as in `haplotype_codes`.
        """
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        self._check_overlaps(contig_idx, start_arr, length)
        self._check_phased(sample_idx, allow_unphased)
        out = np.empty((start_arr.size, 2, 4, length), dtype=np.uint8)
        mode = _mode(anchor)
        use = self._use_variants(reference_only)
        S = self._tuple

        def work(lo: int, hi: int) -> None:
            _kernels.fill_haplotypes(
                S, sample_idx, contig_idx, start_arr, length, mode, use, indels, rc, lo, hi, out
            )

        run_sliced(work, start_arr.size, 8 * length)
        return out

    def haplotype_codes(
        self,
        samples: SampleSpec,
        chroms: ChromSpec,
        starts,
        length: int,
        *,
        indels: bool = True,
        anchor: str = "start",
        reference_only: bool | None = None,
        return_coordinates: bool = False,
    ):
        """Base codes of both haplotypes -> ``(n, 2, length) uint8`` (A=0, C=1, G=2, T=3, N=4).

        Each haplotype is the person's sequence with their variants applied (indels too,
        unless ``indels=False``), fitted to `length` bases over the reference window
        ``[start, start + length)``: `anchor` ``"start"`` keeps the haplotype base at
        `start` first and fills or cuts at the end (as GenVarLoader does), ``"end"``
        keeps the base before ``start + length`` last, ``"centre"`` keeps the base at
        ``start + length // 2`` at offset ``length // 2`` (see `varinterp.genome._kernels`
        for what "at" means next to insertions and deletions).

        With `return_coordinates` also returns ``(n, 2, length) int64``: each base's
        reference position, -1 for inserted bases (`varinterp.genome.realign`).
        """
        sample_idx, contig_idx, start_arr = self._requests(samples, chroms, starts)
        self._check_overlaps(contig_idx, start_arr, length)
        n = start_arr.size
        out = np.empty((n, 2, length), dtype=np.uint8)
        pos = np.empty((n, 2, length) if return_coordinates else (1, 2, 1), dtype=np.int64)
        mode = _mode(anchor)
        use = self._use_variants(reference_only)
        S = self._tuple

        def work(lo: int, hi: int) -> None:
            _kernels.fill_codes(
                S, sample_idx, contig_idx, start_arr, length, mode, use, indels, lo, hi,
                out, pos, return_coordinates,
            )  # fmt: skip

        run_sliced(work, n, (18 if return_coordinates else 2) * length)
        return (out, pos) if return_coordinates else out

    def allele_contexts(
        self, sample: SampleSpec, chroms: ChromSpec, pos0, ref_len, length: int, extra: int = 0
    ) -> np.ndarray:
        """A person's two haplotypes around variants, REF spans in place, for scoring.

        -> ``(n, 2, length + extra) uint8`` codes: ``[:, h, :length // 2]`` are the bases
        of haplotype h before ``pos0`` (the person's other variants, indels included,
        applied), ``[:, h, length // 2 : length // 2 + ref_len]`` the REF allele, and the
        rest the bases from ``pos0 + ref_len`` on. Whatever the person carries inside the
        REF span is left out, so the variant's own allele can be put there
        (`varinterp.effects.windows.allele_codes`).
        """
        pos = np.atleast_1d(np.asarray(pos0, dtype=np.int64))
        sample_idx, contig_idx, pos = self._requests(sample, chroms, pos)
        rlen = np.ascontiguousarray(np.broadcast_to(np.asarray(ref_len, np.int64), pos.shape))
        width = length + extra
        out = np.empty((pos.size, 2, width), dtype=np.uint8)
        if not self._use_variants(None):
            sample_idx = np.zeros_like(sample_idx)
        S = self._tuple if self._use_variants(None) else self._reference_tuple()

        def work(lo: int, hi: int) -> None:
            _kernels.fill_allele_context(
                S, sample_idx, contig_idx, pos, rlen, length // 2, width, lo, hi, out
            )

        run_sliced(work, pos.size, 2 * width)
        return out

    def _reference_tuple(self) -> tuple:
        """The store tuple with no variants (reference-only contexts)."""
        empty = np.zeros(len(self.contigs), dtype=np.int64)
        return (*self._tuple[:3], empty, empty, *self._tuple[5:])

    def _check_phased(self, sample_idx: np.ndarray, allow_unphased: bool) -> None:
        if not allow_unphased and len(self.samples) and not self.is_phased(np.unique(sample_idx)):
            msg = (
                f"store {self.path.name} holds unphased genotypes for these samples; use "
                "two-hot windows, or pass allow_unphased to take GT order as the phase"
            )
            raise InputError(msg)


def _templates(S, contig_idx, starts, length, rc):
    """Reference windows shared by several requests (bulk reads: many samples, the same
    windows) -> ``(template_of (n,) int64, templates (k, 4, length) uint8, order (n,)
    int64)`` (`order` groups the requests of each template), or None when the windows
    hardly repeat."""
    keys = contig_idx * (1 << 40) + (starts + (1 << 39))
    uniq, template_of = np.unique(keys, return_inverse=True)
    if uniq.size * 4 > keys.size:
        return None
    first = np.zeros(uniq.size, dtype=np.int64)
    first[template_of[::-1]] = np.arange(keys.size)[::-1]
    templates = np.empty((uniq.size, 4, length), dtype=np.uint8)
    zeros = np.zeros(uniq.size, dtype=np.int64)
    no_variants = no_indels = False
    _kernels.fill_two_hot(
        S, zeros, contig_idx[first], starts[first], length, _kernels.MODE_START, no_variants,
        no_indels, rc, 0, uniq.size, templates,
    )  # fmt: skip
    template_of = template_of.astype(np.int64)
    return template_of, templates, np.argsort(template_of, kind="stable")


_MODES = {
    "start": _kernels.MODE_START,
    "left": _kernels.MODE_START,
    "end": _kernels.MODE_END,
    "right": _kernels.MODE_END,
    "centre": _kernels.MODE_CENTRE,
    "center": _kernels.MODE_CENTRE,
}


def _mode(anchor: str) -> int:
    try:
        return _MODES[anchor]
    except KeyError:
        msg = f"anchor {anchor!r}; choose start, end or centre"
        raise InputError(msg) from None
