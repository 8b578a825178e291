"""A synthetic reference genome with human-like base composition.

Background sequence is drawn from a first-order (dinucleotide) Markov chain whose
stationary GC fraction and CpG observed/expected ratio are set exactly: the dinucleotide
table starts from independent bases, depletes CpG (to ~0.25 of expectation, as in the human
genome), enriches its deamination products TpG/CpA and the A/T homopolymer steps, and is
then balanced (Sinkhorn scaling) so that both margins equal the target base frequencies.
Chromosomes are split into isochore-like segments (mean 100 kb) whose GC fraction varies
around the genome-wide target.

Sequences are ``(length,) uint8`` arrays of codes A=0, C=1, G=2, T=3, 0-based.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from varinterp.simulate.motifs import decode

__all__ = [
    "Reference",
    "chromosome_sizes",
    "dinucleotide_chain",
    "make_reference",
    "sample_markov",
]


@dataclass(frozen=True, eq=False)
class Reference:
    """Chromosome name -> ``(length,) uint8`` codes (A=0, C=1, G=2, T=3), in genome order."""

    sequences: dict[str, np.ndarray]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.sequences)

    @property
    def lengths(self) -> dict[str, int]:
        return {name: int(seq.shape[0]) for name, seq in self.sequences.items()}

    @property
    def size(self) -> int:
        return sum(self.lengths.values())

    def fetch(self, chrom: str, start: int, end: int) -> str:
        """The plus-strand sequence of ``[start, end)`` (0-based, half-open) as a string."""
        return decode(self.sequences[chrom][start:end])

    def gc_fraction(self) -> float:
        """Fraction of G or C over the whole genome."""
        gc = sum(int(np.isin(s, (1, 2)).sum()) for s in self.sequences.values())
        return gc / self.size

    def cpg_observed_expected(self) -> float:
        """Genome-wide CpG observed/expected ratio: n(CG) * L / (n(C) * n(G))."""
        n_cg = n_c = n_g = length = 0
        for s in self.sequences.values():
            n_cg += int(((s[:-1] == 1) & (s[1:] == 2)).sum())
            n_c += int((s == 1).sum())
            n_g += int((s == 2).sum())
            length += s.shape[0]
        return n_cg * length / max(n_c * n_g, 1)


def dinucleotide_chain(gc: float, cpg_oe: float) -> np.ndarray:
    """Transition matrix ``(4, 4) float64`` (row: current base, column: next; A, C, G, T).

    Its stationary distribution has G+C = `gc` (A=T, C=G) and its CpG observed/expected
    ratio equals `cpg_oe` (both rounded to 3 decimals; results are cached).
    """
    return _chain(round(float(gc), 3), round(float(cpg_oe), 3)).copy()


@functools.lru_cache(maxsize=512)
def _chain(gc: float, cpg_oe: float, rounds: int = 12) -> np.ndarray:
    p = np.array([(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2])
    modifier = np.ones((4, 4))
    modifier[0, 0] = modifier[3, 3] = 1.15  # AA / TT steps (poly-A tracts)
    modifier[3, 2] = modifier[1, 0] = 1.2  # TpG / CpA: products of CpG deamination
    modifier[1, 2] = cpg_oe
    table = np.outer(p, p)
    for _ in range(rounds):
        table = np.outer(p, p) * modifier
        for _ in range(500):
            table *= (p / table.sum(axis=1))[:, None]
            table *= (p / table.sum(axis=0))[None, :]
            if np.abs(table.sum(axis=1) - p).max() < 1e-12:
                break
        achieved = table[1, 2] / (p[1] * p[2])
        modifier[1, 2] *= cpg_oe / achieved
    return table / table.sum(axis=1, keepdims=True)


def _chase(table: np.ndarray, first: int) -> np.ndarray:
    """Follow a chain given every step's next state for each previous state.

    `table` is ``(n, 4) uint8`` (``table[i, s]``: base i when base i-1 is s); returns the
    ``(n,) uint8`` path starting after state `first`. Chunks are walked in parallel from all
    four possible entry states, then stitched, so the Python loops run about 2 * sqrt(n)
    times instead of n.
    """
    n = table.shape[0]
    chunk = max(8, int(np.ceil(np.sqrt(n))))
    n_chunks = -(-n // chunk)
    padded = np.zeros((n_chunks * chunk, 4), dtype=np.uint8)
    padded[:n] = table
    blocks = padded.reshape(n_chunks, chunk, 4)
    paths = np.empty((n_chunks, 4, chunk), dtype=np.uint8)
    rows = np.arange(n_chunks)[:, None]
    state = np.tile(np.arange(4, dtype=np.intp), (n_chunks, 1))
    for j in range(chunk):
        paths[:, :, j] = blocks[rows, j, state]
        state = paths[:, :, j].astype(np.intp)
    out = np.empty((n_chunks, chunk), dtype=np.uint8)
    previous = first
    for c in range(n_chunks):
        out[c] = paths[c, previous]
        previous = int(out[c, -1])
    return out.reshape(-1)[:n]


def sample_markov(
    n: int, transition: np.ndarray, rng: np.random.Generator, *, previous: int | None = None
) -> np.ndarray:
    """Draw ``(n,) uint8`` codes from a first-order chain (``(4, 4)`` transition matrix).

    `previous` is the base just before the draw (None: start from the stationary law).
    """
    if n <= 0:
        return np.zeros(0, dtype=np.uint8)
    cum = np.cumsum(transition, axis=1)
    u = rng.random(n)
    if previous is None:
        evals, evecs = np.linalg.eig(transition.T)
        stat = np.real(evecs[:, np.argmin(np.abs(evals - 1))])
        stat = np.cumsum(stat / stat.sum())
        previous = int(min(np.searchsorted(stat, rng.random(), side="right"), 3))
    # next base for each previous base: how many cumulative cut points u passes
    table = (u[:, None, None] >= cum[None, :, :3]).sum(axis=2).astype(np.uint8)
    return _chase(table, int(previous))


def chromosome_sizes(genome_size: int, n_chromosomes: int) -> dict[str, int]:
    """Names ``chr1..chrN`` and lengths summing to `genome_size`, longest first."""
    weights = np.arange(2 * n_chromosomes, n_chromosomes, -1, dtype=float)
    sizes = np.floor(genome_size * weights / weights.sum() / 100).astype(int) * 100
    sizes[-1] = genome_size - sizes[:-1].sum()
    return {f"chr{i + 1}": int(s) for i, s in enumerate(sizes)}


def make_reference(
    *,
    rng: np.random.Generator,
    genome_size: int,
    n_chromosomes: int,
    gc: float = 0.41,
    cpg_oe: float = 0.25,
    isochore_sd: float = 0.025,
    isochore_length: int = 100_000,
) -> Reference:
    """Draw a background genome of `genome_size` bp split into `n_chromosomes` chromosomes.

    Each chromosome is a run of isochore-like segments (lengths exponential with mean
    `isochore_length`, GC drawn around `gc` with sd `isochore_sd`, clipped to 0.33-0.55),
    each drawn from `dinucleotide_chain` and joined without a break in the chain.
    """
    sequences: dict[str, np.ndarray] = {}
    for name, length in chromosome_sizes(genome_size, n_chromosomes).items():
        parts: list[np.ndarray] = []
        done = 0
        previous: int | None = None
        while done < length:
            seg = int(min(length - done, max(1_000, rng.exponential(isochore_length))))
            seg_gc = float(np.clip(rng.normal(gc, isochore_sd), 0.33, 0.55))
            part = sample_markov(seg, dinucleotide_chain(seg_gc, cpg_oe), rng, previous=previous)
            parts.append(part)
            previous = int(part[-1])
            done += seg
        sequences[name] = np.concatenate(parts)
    return Reference(sequences=sequences)
