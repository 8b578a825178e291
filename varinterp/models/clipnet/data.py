"""CLIPNET training data: personal two-hot windows x per-library PRO-cap tracks.

A `ClipnetData` joins a genome store, a sample sheet (library -> store sample) and a
peak BED. One training example is a ``(library, peak)`` pair:

- **sequence** ``(4, input_length) uint8`` two-hot of the library's individual, built
  on the fly from the store (`GenomeStore.windows`, one call per batch);
- **profile** ``(2 * output_length,) float32``: the library's RPM over the central
  ``output_length`` bp, plus strand then minus strand (both non-negative, genomic order);
- **quantity** ``(1,) float32``: the profile's sum (RPM over both strands).

**Jitter.** Each peak has an anchor (its midpoint). The window is centred on the anchor
and shifted by ``d`` in ``[-max_jitter, max_jitter]`` (drawn per example and per epoch
for training; 0 for validation and testing). ``max_jitter`` is at most
``output_length // 2 - 1``, so the anchor always lies in the central ``output_length``
bp, as in the published windows.

**Reverse complement.** A reverse-complemented example flips the sequence on both axes
(``x[::-1, ::-1]``: correct for every two-hot code, an A/T het stays an A/T het) and
the track on both axes (positions reversed, plus and minus swapped).

**Indels.** By default windows carry the person's SNVs and MNPs only, so every base sits
at its reference position and the tracks (measured on the reference) line up. With
``indel_aware`` the person's indels are applied too: each haplotype is fitted to the
window centred on the (jittered) anchor (`GenomeStore.haplotype_codes`, ``anchor =
"centre"``), and the target is the track re-aligned to each haplotype
(`varinterp.genome.realign.realign_tracks`: deleted bases drop out, inserted bases read
0), averaged over the two haplotypes.

**Contig edges.** Peaks whose jittered windows could reach past a contig end are
dropped when the data are built (`ClipnetData.n_dropped_edge` counts them).

Tracks are read once for every peak over ``output_length + 2 * max_jitter`` bp
(`varinterp.datasets.tracks`) and kept in memory, or in a memory-mapped file when
``cache`` names one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from varinterp.datasets.folds import FoldMap
from varinterp.datasets.samplesheet import Library
from varinterp.datasets.tracks import read_peak_tracks
from varinterp.errors import InputError
from varinterp.genome.store import GenomeStore
from varinterp.io.intervals import read_bed
from varinterp.progress import ProgressCallback

__all__ = ["FIXED_JITTER_SEED", "RC_MODES", "Batch", "ClipnetData", "Examples", "flip_examples"]

RC_MODES = ("both", "random", "none")

#: Seed of the evaluation windows' offsets (`ClipnetData.fixed_shifts`).
FIXED_JITTER_SEED = 47


@dataclass
class Batch:
    """One batch: ``x (B, 4, input_length) uint8`` two-hot; ``profile (B, 2 * output_length)
    float32`` (plus then minus); ``quantity (B, 1) float32``; and where each came from."""

    x: np.ndarray
    profile: np.ndarray
    quantity: np.ndarray
    library: np.ndarray
    peak: np.ndarray
    shift: np.ndarray
    rc: np.ndarray


@dataclass
class Examples:
    """A list of examples: ``library``, ``peak`` ``(n,) int64`` and ``rc`` ``(n,) bool``.

    ``shift`` ``(n,) int64`` (optional): the fixed window offset of each example outside
    training (see `ClipnetData.fixed_shifts`); None means centred windows.
    """

    library: np.ndarray
    peak: np.ndarray
    rc: np.ndarray
    random_rc: bool = False
    shift: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.library.size)

    def take(self, idx: np.ndarray) -> Examples:
        shift = None if self.shift is None else self.shift[idx]
        return Examples(self.library[idx], self.peak[idx], self.rc[idx], self.random_rc, shift)


def flip_examples(x: np.ndarray, tracks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reverse complement ``x (n, 4, L)`` and stranded ``tracks (n, 2, M)``: both axes flipped.

    Returns contiguous copies of the same shapes and dtypes.
    """
    return (
        np.ascontiguousarray(x[:, ::-1, ::-1]),
        np.ascontiguousarray(tracks[:, ::-1, ::-1]),
    )


class ClipnetData:
    """Windows x libraries x tracks for CLIPNET; build with `ClipnetData.build`."""

    def __init__(
        self,
        *,
        store: GenomeStore,
        libraries: Sequence[Library],
        peaks: pd.DataFrame,
        tracks: np.ndarray,
        scale: np.ndarray,
        input_length: int,
        output_length: int,
        max_jitter: int,
        n_dropped_edge: int = 0,
        indel_aware: bool = False,
    ) -> None:
        self.store = store
        self.libraries = list(libraries)
        self.peaks = peaks.reset_index(drop=True)
        self.tracks = tracks
        self.scale = scale
        self.input_length = input_length
        self.output_length = output_length
        self.max_jitter = max_jitter
        self.n_dropped_edge = n_dropped_edge
        self.indel_aware = indel_aware
        self.library_sample = (
            store.sample_indices([lib.sample for lib in self.libraries])
            if store.samples and not store.reference_only
            else np.zeros(len(self.libraries), dtype=np.int64)
        )
        self.peak_chrom = self.peaks["chrom"].to_numpy(dtype=object)
        self.anchor = self.peaks["anchor"].to_numpy(dtype=np.int64)
        self.output_start = (input_length - output_length) // 2

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        *,
        store: GenomeStore,
        libraries: Sequence[Library],
        peaks: str | os.PathLike | pd.DataFrame,
        input_length: int = 1000,
        output_length: int = 500,
        max_jitter: int | None = None,
        normalize: str = "rpm",
        cache: str | os.PathLike | None = None,
        indel_aware: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> ClipnetData:
        """Check the inputs, read the tracks once and return the data set.

        `peaks` is a BED path or a regions table (chrom, start, end). `max_jitter`
        defaults to ``output_length // 2 - 1``. Samples of the sheet that the store
        lacks (unless the store was opened ``reference_only``: then every library uses
        the reference and its sample names are not checked), contigs the store or a
        bigWig lacks, and an empty set of usable peaks are `InputError`.
        """
        if max_jitter is None:
            max_jitter = output_length // 2 - 1
        _check_geometry(input_length, output_length, max_jitter)
        if not libraries:
            msg = "no libraries to train on; the sample sheet (after subsampling) is empty"
            raise InputError(msg)
        if store.samples and not store.reference_only:
            missing = sorted({lib.sample for lib in libraries} - set(store.samples))
            if missing:
                shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
                msg = (
                    f"sample sheet names {len(missing)} sample(s) absent from genome store "
                    f"{store.path.name}: {shown}; fix the sheet's sample column or rebuild "
                    "the store with those samples"
                )
                raise InputError(msg)
        table = read_bed(peaks) if not isinstance(peaks, pd.DataFrame) else peaks.copy()
        source = str(peaks) if not isinstance(peaks, pd.DataFrame) else "peaks"
        table = table[["chrom", "start", "end"]].copy()
        table["chrom"] = [_store_name(store, c, source) for c in table["chrom"]]
        table["anchor"] = (table["start"].to_numpy() + table["end"].to_numpy()) // 2
        lengths = table["chrom"].map(store.contig_lengths).to_numpy(dtype=np.int64)
        lo = table["anchor"].to_numpy() - input_length // 2 - max_jitter
        hi = lo + input_length + 2 * max_jitter
        keep = (lo >= 0) & (hi <= lengths)
        n_dropped = int((~keep).sum())
        table = table[keep].reset_index(drop=True)
        if table.empty:
            msg = (
                f"every peak in {source} lies within {input_length // 2 + max_jitter} bp of a "
                "contig end, so no window fits; use a longer genome or fewer jitter bp"
            )
            raise InputError(msg)
        out_start = (input_length - output_length) // 2
        span = output_length + 2 * max_jitter
        track_starts = table["anchor"].to_numpy() - input_length // 2 - max_jitter + out_start
        shape = (len(libraries), len(table), 2, span)
        buffer = None
        if cache is not None:
            buffer = np.lib.format.open_memmap(
                Path(cache), mode="w+", dtype=np.float32, shape=shape
            )
        tracks, scale = read_peak_tracks(
            libraries,
            chroms=table["chrom"].tolist(),
            starts=track_starts,
            span=span,
            normalize=normalize,
            out=buffer,
            on_progress=on_progress,
        )
        return cls(
            store=store,
            libraries=libraries,
            peaks=table,
            tracks=tracks,
            scale=scale,
            input_length=input_length,
            output_length=output_length,
            max_jitter=max_jitter,
            n_dropped_edge=n_dropped,
            indel_aware=indel_aware,
        )

    # --------------------------------------------------------------- examples
    @property
    def n_libraries(self) -> int:
        return len(self.libraries)

    @property
    def n_peaks(self) -> int:
        return len(self.peaks)

    def peaks_in_folds(self, fold_map: FoldMap, folds: Sequence[int]) -> np.ndarray:
        """Indices ``(k,) int64`` of the peaks on contigs of `folds`."""
        wanted = set(folds)
        fold_of = np.array([fold_map(c) for c in self.peaks["chrom"]], dtype=object)
        return np.flatnonzero([f in wanted for f in fold_of]).astype(np.int64)

    def fixed_shifts(self, seed: int = FIXED_JITTER_SEED) -> np.ndarray:
        """One seeded window offset per peak, ``(n_peaks,) int64`` in ``[-max_jitter,
        max_jitter]``: the evaluation windows.

        Training draws a fresh offset per example and epoch, so the peak lands anywhere in
        the central `output_length` bp; validation and test windows are jittered the same
        way, once and reproducibly (the published windows bake a random offset into every
        window too). Evaluating on centred windows instead would reward predicting the
        training windows' mean shape, which then sits on every peak.
        """
        rng = np.random.default_rng(seed)
        return rng.integers(-self.max_jitter, self.max_jitter + 1, self.n_peaks).astype(np.int64)

    def examples(
        self, peaks: np.ndarray, *, rc: str = "none", fixed_jitter: bool = False
    ) -> Examples:
        """Every (library, peak) pair of `peaks`; ``rc="both"`` adds each pair reverse
        complemented, ``"random"`` marks half of them (by coin) at batch time, ``"none"``
        none. Library-major order. With `fixed_jitter`, each example outside training is
        shifted by its peak's `fixed_shifts` offset (otherwise centred)."""
        if rc not in RC_MODES:
            msg = f"rc mode {rc!r}; choose one of {', '.join(RC_MODES)}"
            raise InputError(msg)
        peaks = np.asarray(peaks, dtype=np.int64)
        lib = np.repeat(np.arange(self.n_libraries, dtype=np.int64), peaks.size)
        pk = np.tile(peaks, self.n_libraries)
        flags = np.zeros(lib.size, dtype=bool)
        if rc == "both":
            lib, pk, flags = np.tile(lib, 2), np.tile(pk, 2), np.repeat([False, True], lib.size)
        shift = self.fixed_shifts()[pk] if fixed_jitter else None
        return Examples(lib, pk, flags, random_rc=rc == "random", shift=shift)

    # ---------------------------------------------------------------- batches
    def batch(
        self,
        library: np.ndarray,
        peak: np.ndarray,
        *,
        shift: np.ndarray | None = None,
        rc: np.ndarray | None = None,
    ) -> Batch:
        """Build one batch (see `Batch`); `shift` ``(B,) int`` in ``[-max_jitter,
        max_jitter]`` (default 0) and `rc` ``(B,) bool`` (default False)."""
        library = np.asarray(library, dtype=np.int64)
        peak = np.asarray(peak, dtype=np.int64)
        n = library.size
        shift = np.zeros(n, dtype=np.int64) if shift is None else np.asarray(shift, np.int64)
        rc = np.zeros(n, dtype=bool) if rc is None else np.asarray(rc, dtype=bool)
        if np.abs(shift).max(initial=0) > self.max_jitter:
            msg = f"shift beyond max_jitter={self.max_jitter}"
            raise ValueError(msg)
        starts = self.anchor[peak] - self.input_length // 2 + shift
        sample = self.library_sample[library]
        chrom = self.peak_chrom[peak]
        if self.indel_aware:
            x, t = self._indel_aware(sample, chrom, starts, library, peak, shift)
            x[rc] = x[rc][:, ::-1, ::-1]
        elif rc.any():  # the store's kernel writes reverse complements directly
            x = np.empty((n, 4, self.input_length), dtype=np.uint8)
            for flag in (False, True):
                sel = rc == flag
                if sel.any():
                    x[sel] = self.store.windows(
                        sample[sel], chrom[sel], starts[sel], self.input_length, rc=flag,
                        indels=False,
                    )  # fmt: skip
        else:
            x = self.store.windows(sample, chrom, starts, self.input_length, indels=False)
        if not self.indel_aware:
            t = self.target_windows(self.tracks[library, peak], shift)
        if rc.any():
            t[rc] = t[rc][:, ::-1, ::-1]
        profile = np.ascontiguousarray(t.reshape(n, -1), dtype=np.float32)
        quantity = profile.sum(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
        return Batch(x, profile, quantity, library, peak, shift, rc)

    def _indel_aware(self, sample, chrom, starts, library, peak, shift):
        """Two-hot windows with indels and their re-aligned targets ``(n, 2, output_length)``."""
        from varinterp.genome.encoding import two_hot
        from varinterp.genome.realign import realign_tracks

        codes, coords = self.store.haplotype_codes(
            sample, chrom, starts, self.input_length, anchor="centre", return_coordinates=True
        )
        out = slice(self.output_start, self.output_start + self.output_length)
        track_start = self.anchor[peak] - self.input_length // 2 - self.max_jitter
        track_start = track_start + self.output_start
        rows = self.tracks[library, peak]
        per_hap = realign_tracks(rows, coords[:, :, out], track_start)  # (n, 2, 2, M)
        del shift  # the coordinates already hold each example's shift
        return two_hot(codes), per_hap.mean(axis=1).astype(rows.dtype)

    def target_windows(self, rows: np.ndarray, shift: np.ndarray) -> np.ndarray:
        """Cut the target window out of cached tracks: ``rows`` ``(..., 2, span)`` (entries
        of `tracks`) and ``shift`` ``(...) int`` (one per row, in ``[-max_jitter,
        max_jitter]``) -> ``(..., 2, output_length)``, a copy of the same dtype."""
        shift = np.asarray(shift, dtype=np.int64)
        cols = (self.max_jitter + shift)[..., None, None] + np.arange(self.output_length)
        cols = np.broadcast_to(cols, (*rows.shape[:-1], self.output_length))
        return np.take_along_axis(rows, cols, axis=-1)

    def iter_batches(
        self,
        examples: Examples,
        *,
        batch_size: int,
        rng: np.random.Generator | None = None,
        train: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> Iterator[Batch]:
        """Yield `Batch` objects for `examples`.

        With `train` the order is shuffled, each example gets a fresh jitter in
        ``[-max_jitter, max_jitter]`` and, for examples not already flagged, a random
        reverse-complement coin when the examples came from ``rc="random"`` (all draws
        from `rng`, so a seed fixes the epoch). Without `train`: file order, each
        example at its fixed `Examples.shift` (centred when None). With
        ``world_size > 1`` rank `rank` takes every ``world_size``-th batch; in training
        all ranks get the same number of batches (the remainder is dropped), otherwise
        every batch goes to some rank.
        """
        n = len(examples)
        if train:
            if rng is None:
                msg = "training batches need an rng"
                raise ValueError(msg)
            order = rng.permutation(n)
            shifts = rng.integers(-self.max_jitter, self.max_jitter + 1, n)
            coins = rng.random(n) < 0.5
        else:
            order = np.arange(n)
            shifts = np.zeros(n, dtype=np.int64) if examples.shift is None else examples.shift
            coins = np.zeros(n, dtype=bool)
        n_batches = (n + batch_size - 1) // batch_size
        if world_size > 1 and train:  # equal step counts keep DDP ranks in lock step
            n_batches = (n_batches // world_size) * world_size
        random_rc = train and examples.random_rc
        for b in range(rank, n_batches, world_size):
            idx = order[b * batch_size : (b + 1) * batch_size]
            rc = examples.rc[idx] | (coins[idx] if random_rc else False)
            yield self.batch(examples.library[idx], examples.peak[idx], shift=shifts[idx], rc=rc)

    def n_batches(self, n_examples: int, batch_size: int, world_size: int = 1) -> int:
        """Training batches per rank that `iter_batches` yields for `n_examples` examples."""
        n = (n_examples + batch_size - 1) // batch_size
        return (n // world_size) if world_size > 1 else n


def _store_name(store: GenomeStore, chrom: str, source: str) -> str:
    try:
        return store.contig_name(chrom)
    except InputError:
        msg = (
            f"peak contig {chrom!r} in {source} is not in genome store {store.path.name} "
            f"(contigs like {store.contigs[0].name!r}); use peaks on the store's genome"
        )
        raise InputError(msg) from None


def _check_geometry(input_length: int, output_length: int, max_jitter: int) -> None:
    if output_length > input_length or (input_length - output_length) % 2:
        msg = (
            f"output_length={output_length} must be at most input_length={input_length} "
            "and differ from it by an even number"
        )
        raise InputError(msg)
    if not 0 <= max_jitter <= output_length // 2 - 1:
        msg = (
            f"max_jitter={max_jitter} must be in 0..{output_length // 2 - 1} so the peak "
            f"stays inside the central {output_length} bp"
        )
        raise InputError(msg)
