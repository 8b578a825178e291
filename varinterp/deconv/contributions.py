"""How the bulk responds to each cell type's accessibility: contributions and exponent.

The scale function splits a window's counts in proportion to the cell types'
depth-normalised accessibility. That assumes every cell type gives the bulk the same
signal per unit of accessibility, which a mixture with unequal cell-type proportions
breaks: a type that makes up a tenth of the tissue gets a third of a window it shares
equally with two others. The bulk says how much each type gives where only that type
is open: over bins of the genome whose accessibility comes mostly (`min_share`) from
one cell type, the bulk is mostly that type's signal. Over each type's `n_bins` most
accessible such bins, the bulk summed equals the contributions times every type's
accessibility summed over the same bins; these K equations (one per type, dominated by
their own type, so well conditioned) are solved for the K contributions by
non-negative least squares. Sums, not per-bin ratios, so a few noisy bins do not
dominate; the other types' share of each bin (up to ``1 - min_share``) is accounted for
rather than credited to the bin's main type.

Initiation is not linear in accessibility: across bins, the bulk grows faster than the
accessibility (strong promoters are open and initiate far more than weak elements).
With an exponent e the response is ``bulk ~ sum_k c_k load_k^e`` (contributions solved
as above on ``load^e``), and e is fitted by Poisson maximum likelihood over the most
accessible bins of the genome. The bins are chosen by accessibility only: choosing them
by the bulk (say, its peaks) selects on the outcome and biases e towards 0.

`response_from_bins` works on binned arrays; `estimate_response` bins the bigWigs of a
run (the bulk strands and one accessibility track per cell type) itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar, nnls

from varinterp.errors import InputError

__all__ = ["BulkResponse", "bin_signals", "estimate_response", "response_from_bins"]


@dataclass(frozen=True)
class BulkResponse:
    """How the bulk follows the cell types' accessibility: ``bulk ~ sum_k c_k load_k^e``.

    `contributions` ``(K,) float64`` (c, mean 1) and `exponent` (e; 1 = linear).
    """

    contributions: np.ndarray
    exponent: float = 1.0


def response_from_bins(
    load: np.ndarray,
    bulk: np.ndarray,
    *,
    exponent: float | None = None,
    min_share: float = 0.8,
    n_bins: int = 200,
    min_bins: int = 20,
    n_fit: int = 5000,
    bounds: tuple[float, float] = (0.25, 3.0),
    cell_types: Sequence[str] | None = None,
) -> BulkResponse:
    """The bulk's response to accessibility from binned signals.

    `load` ``(m, K)``: depth-normalised accessibility of each bin (any non-negative
    unit, the same for every cell type); `bulk` ``(m,)``: the bulk's counts in the same
    bins. Contributions at a given exponent: module docstring. `exponent` None fits it
    by Poisson maximum likelihood of ``bulk ~ a sum_k c_k(e) load_k^e`` over the `n_fit`
    most accessible bins (chosen by accessibility, never by the bulk, which would bias
    the fit), e within `bounds`; a number fixes it (1 = linear). A cell type with fewer
    than `min_bins` bins of `min_share` or more is an `InputError` (its contribution
    cannot be read from the bulk).
    """
    load = np.asarray(load, np.float64)
    bulk = np.abs(np.asarray(bulk, np.float64))
    if load.ndim != 2 or bulk.shape != load.shape[:1]:
        raise ValueError(f"load must be (m, K) and bulk (m,), got {load.shape} and {bulk.shape}")
    names = list(cell_types) if cell_types is not None else [str(k) for k in range(load.shape[1])]
    groups = _specific_bins(load, min_share=min_share, n_bins=n_bins, min_bins=min_bins,
                            names=names)  # fmt: skip
    if exponent is None:
        fit = np.argsort(-load.sum(axis=1), kind="stable")[:n_fit]
        fit = fit[load[fit].sum(axis=1) > 0]

        def nll(e: float) -> float:
            c = _contributions_at(load, bulk, groups, e)
            mu = (c[None, :] * _power(load[fit], e)).sum(axis=1)
            a = bulk[fit].sum() / max(mu.sum(), 1e-300)
            mu = np.maximum(a * mu, 1e-12)
            return float(-(bulk[fit] * np.log(mu) - mu).sum())

        exponent = float(minimize_scalar(nll, bounds=bounds, method="bounded").x)
    c = _contributions_at(load, bulk, groups, float(exponent))
    if not np.all(c > 0):
        zero = [names[k] for k in np.flatnonzero(~(c > 0))]
        msg = f"the bulk has no signal where only {', '.join(zero)} is accessible"
        raise InputError(
            msg + "; is that cell type in the sample? drop it or use --contributions none"
        )
    return BulkResponse(contributions=c / c.mean(), exponent=float(exponent))


def _specific_bins(
    load: np.ndarray, *, min_share: float, n_bins: int, min_bins: int, names: list[str]
) -> list[np.ndarray]:
    """Each cell type's `n_bins` most accessible bins among those it holds `min_share`
    of."""
    total = load.sum(axis=1)
    share = np.divide(load, total[:, None], out=np.zeros_like(load), where=total[:, None] > 0)
    groups = []
    for k in range(load.shape[1]):
        specific = np.flatnonzero((share[:, k] >= min_share) & (load[:, k] > 0))
        if specific.size < min_bins:
            msg = (
                f"only {specific.size} bins are at least {min_share:.0%} {names[k]}'s "
                f"accessibility (need {min_bins}); its contribution to the bulk cannot be "
                "estimated: give more of the genome (more or no --chrom) or build without "
                "contributions (--contributions none)"
            )
            raise InputError(msg)
        groups.append(specific[np.argsort(-load[specific, k], kind="stable")[:n_bins]])
    return groups


def _power(load: np.ndarray, exponent: float) -> np.ndarray:
    return load if exponent == 1.0 else np.power(load, exponent)


def _contributions_at(
    load: np.ndarray, bulk: np.ndarray, groups: list[np.ndarray], exponent: float
) -> np.ndarray:
    """Non-negative solution of ``sum_{i in group k} bulk_i = sum_j c_j sum_{i in group k}
    load_ij^e`` (row k: every type's response over k's bins)."""
    sums = np.stack([_power(load[g], exponent).sum(axis=0) for g in groups])
    c, _ = nnls(sums, np.array([bulk[g].sum() for g in groups]))
    return c


def bin_signals(
    *,
    bulk_pl: str | os.PathLike,
    bulk_mn: str | os.PathLike | None,
    accessibility: Sequence[str | os.PathLike],
    norm: np.ndarray,
    chroms: Sequence[str] | None = None,
    bin_size: int = 1000,
    chunk: int = 10_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Binned signals of a run's bigWigs over `chroms` (default: the bulk's contigs).

    Returns ``(load (m, K) float64, bulk (m,) float64)``: each bin's mean |accessibility|
    times `norm` ``(K,)`` (as `accessibility_load`), and its |bulk| summed over strands.
    A contig is read in `chunk`-bp pieces; its last partial bin is dropped.
    """
    from varinterp.io.bigwig import BigWig

    bulks = [BigWig(bulk_pl, absolute=True)]
    if bulk_mn is not None:
        bulks.append(BigWig(bulk_mn, absolute=True))
    accs = [BigWig(a, absolute=True) for a in accessibility]
    norm = np.asarray(norm, np.float64)
    step = max(bin_size, chunk // bin_size * bin_size)
    try:
        names = list(chroms) if chroms is not None else list(bulks[0].lengths)
        loads, totals = [], []
        for chrom in names:
            length = bulks[0].length(chrom) // bin_size * bin_size
            for start in range(0, length, step):
                end = min(start + step, length)
                n = (end - start) // bin_size
                b = sum(f.values(chrom, start, end).reshape(n, bin_size).sum(1, dtype=np.float64)
                        for f in bulks)  # fmt: skip
                a = np.stack(
                    [f.values(chrom, start, end).reshape(n, bin_size).mean(1, dtype=np.float64)
                     for f in accs], axis=1,
                )  # fmt: skip
                totals.append(b)
                loads.append(a * norm[None, :])
    finally:
        for f in (*bulks, *accs):
            f.close()
    if not totals:
        return np.zeros((0, len(accs))), np.zeros(0)
    return np.concatenate(loads), np.concatenate(totals)


def estimate_response(
    *,
    bulk_pl: str | os.PathLike,
    bulk_mn: str | os.PathLike | None,
    accessibility: Mapping[str, str | os.PathLike],
    norm: np.ndarray,
    chroms: Sequence[str] | None = None,
    bin_size: int = 1000,
    exponent: float | None = None,
) -> BulkResponse:
    """The bulk's response to each cell type's accessibility from a run's bigWigs, in
    the order of `accessibility` (`bin_signals`, then `response_from_bins`)."""
    load, bulk = bin_signals(
        bulk_pl=bulk_pl,
        bulk_mn=bulk_mn,
        accessibility=list(accessibility.values()),
        norm=norm,
        chroms=chroms,
        bin_size=bin_size,
    )
    return response_from_bins(load, bulk, exponent=exponent, cell_types=list(accessibility))
