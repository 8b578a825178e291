"""Chromosome folds of a CLIPNET-style ensemble.

Every contig belongs to one of ``n_folds`` folds (10 for CLIPNET). Fold 0 is never
trained on: it is the ensemble's test set. Model ``i`` (``i = 1 .. n_folds - 1``) tests on
fold ``i``, validates on fold ``(i mod (n_folds - 1)) + 1`` and trains on the remaining
folds (7 of them for 10 folds).

`HUMAN_FOLDS` is the published assignment of the human autosomes (GRCh38; the sex
chromosomes and other contigs are in no fold and are not used):

====  ================
fold  chromosomes
====  ================
0     9, 13, 20, 21
1     5, 7
2     11, 12
3     14, 15, 18
4     1
5     2, 22
6     4, 6
7     3, 16
8     10, 19
9     8, 17
====  ================

For other genomes (simulated worlds, other species) `balanced_folds` puts contigs into
folds greedily by length, or a run config gives its own table (``[data.folds]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from varinterp.errors import InputError
from varinterp.io.contigs import spellings

__all__ = [
    "HUMAN_FOLDS",
    "N_FOLDS",
    "FoldMap",
    "FoldSplit",
    "balanced_folds",
    "fold_split",
    "human_folds",
]

N_FOLDS = 10

_HUMAN_TABLE: dict[int, tuple[int, ...]] = {
    0: (9, 13, 20, 21),
    1: (5, 7),
    2: (11, 12),
    3: (14, 15, 18),
    4: (1,),
    5: (2, 22),
    6: (4, 6),
    7: (3, 16),
    8: (10, 19),
    9: (8, 17),
}

#: Published assignment, ``"chr1" -> 4`` etc. (``1`` spellings are matched too).
HUMAN_FOLDS: dict[str, int] = {
    f"chr{c}": fold for fold, chroms in _HUMAN_TABLE.items() for c in chroms
}


@dataclass(frozen=True)
class FoldSplit:
    """The folds one ensemble member uses (fold numbers, not contig names)."""

    model_fold: int
    train: tuple[int, ...]
    validation: int
    test: int


def fold_split(model_fold: int, n_folds: int = N_FOLDS) -> FoldSplit:
    """Folds of model `model_fold`: tests on it, validates on ``(i mod (n-1)) + 1``.

    Fold 0 is never in any split's training or validation folds.
    """
    if n_folds < 4:
        msg = f"need at least 4 folds (fold 0 held out, train, validation, test); got {n_folds}"
        raise InputError(msg)
    if not 1 <= model_fold <= n_folds - 1:
        msg = f"fold {model_fold} is not a model fold; choose from 1..{n_folds - 1}"
        raise InputError(msg)
    val = (model_fold % (n_folds - 1)) + 1
    train = tuple(f for f in range(1, n_folds) if f not in (model_fold, val))
    return FoldSplit(model_fold=model_fold, train=train, validation=val, test=model_fold)


class FoldMap:
    """Contig -> fold, matching ``chr1`` and ``1`` spellings; contigs in no fold map to None."""

    def __init__(self, table: Mapping[str, int], *, n_folds: int = N_FOLDS) -> None:
        self.n_folds = n_folds
        self.table: dict[str, int] = {}
        for name, fold in table.items():
            if not isinstance(fold, int) or isinstance(fold, bool) or not 0 <= fold < n_folds:
                msg = f"fold table: contig {name!r} has fold {fold!r}; folds are 0..{n_folds - 1}"
                raise InputError(msg)
            self.table[str(name)] = fold
        self._lookup: dict[str, int] = {}
        for name, fold in self.table.items():
            for s in spellings(name):
                self._lookup.setdefault(s, fold)

    def __call__(self, chrom: str) -> int | None:
        """The fold of `chrom`, or None when the table does not list it."""
        return self._lookup.get(chrom)

    def contigs(self, folds: Iterable[int]) -> list[str]:
        wanted = set(folds)
        return [c for c, f in self.table.items() if f in wanted]

    def to_dict(self) -> dict[str, int]:
        return dict(self.table)


def human_folds() -> FoldMap:
    """The published CLIPNET assignment of human autosomes (see the module docstring)."""
    return FoldMap(HUMAN_FOLDS)


def balanced_folds(lengths: Mapping[str, int], n_folds: int = N_FOLDS) -> FoldMap:
    """Assign contigs to `n_folds` folds, longest first, each to the currently lightest fold.

    Deterministic (ties broken by contig order). Needs at least `n_folds` contigs; a
    genome with fewer contigs needs an explicit fold table.
    """
    if len(lengths) < n_folds:
        msg = (
            f"automatic folds need at least {n_folds} contigs, the genome has {len(lengths)}; "
            "give a [data.folds] table mapping each contig to a fold 0..9"
        )
        raise InputError(msg)
    order = sorted(range(len(lengths)), key=lambda i: -list(lengths.values())[i])
    names = list(lengths)
    load = [0] * n_folds
    table: dict[str, int] = {}
    for i in order:
        fold = min(range(n_folds), key=lambda f: (load[f], f))
        table[names[i]] = fold
        load[fold] += int(lengths[names[i]])
    return FoldMap({n: table[n] for n in names}, n_folds=n_folds)
