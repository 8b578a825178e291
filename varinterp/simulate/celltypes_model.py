"""Cell types of the simulated world: which factors each expresses, and what follows.

A cell type is a set of expressed transcription factors (`CELL_TYPES`, the TF x cell-type
table). From it, for the *reference* sequence (no cohort variants):

* **Open elements.** Promoters are open in every cell type. An enhancer is open only
  where the lead factor of its program (`ENHANCER_PROGRAMS`: ``AP1`` for ``shared``,
  ``HNF4A`` for ``hepatocyte``, ``SPI1`` for ``myeloid``) is expressed: the lead factor
  acts as the pioneer that opens it. A closed element has no initiation and only
  background accessibility.
* **Initiation.** The ground-truth grammar (`procap_grammar.initiation`) with the
  activator table cut down to the expressed factors: a motif of a factor the cell type
  does not express adds nothing. Each (element, cell type) pair is further multiplied by
  a log-normal expression factor (median 1, sd `expression_sd`), so shared elements
  differ in level between cell types.
* **Accessibility.** A background of 1 per base plus, for each open element, a Gaussian
  bump centred on the element (sd ``max(75, length / 4)`` bp, cut at 3 sd) of height
  ``peak_height * sqrt(activity / reference activity)``, where activity is the element's
  expected initiation in that cell type (with a floor of 10% of the reference activity
  for open elements that barely initiate).

All arrays are per element model (`procap_model.element_models`, the same windows as
`simulate procap`) or per contig; see each function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from varinterp.errors import InputError
from varinterp.simulate.elements import ENHANCER_PROGRAMS, Element
from varinterp.simulate.procap_grammar import DEFAULT_GRAMMAR, Grammar, initiation
from varinterp.simulate.procap_model import ElementModel, element_models, reference_window
from varinterp.simulate.world import World

__all__ = [
    "CELL_TYPES",
    "DEFAULT_CELLS",
    "DEFAULT_PROPORTIONS",
    "CellTypeModel",
    "accessibility_density",
    "cell_type_grammar",
    "element_is_open",
    "model_cell_types",
    "resolve_cell_types",
]

_COMMON = ("SP1", "ETS", "NRF1", "AP1", "NFKB")

#: cell type -> expressed transcription factors (the TF x cell-type table)
CELL_TYPES: dict[str, frozenset[str]] = {
    "hepatocyte": frozenset((*_COMMON, "CEBP", "HNF4A")),
    "kupffer": frozenset((*_COMMON, "CEBP", "SPI1")),
    "endothelial": frozenset(_COMMON),
}
#: default mixture proportions and cells per type of the built-in cell types
DEFAULT_PROPORTIONS: dict[str, float] = {"hepatocyte": 0.6, "kupffer": 0.1, "endothelial": 0.3}
DEFAULT_CELLS: dict[str, int] = {"hepatocyte": 400, "kupffer": 150, "endothelial": 300}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


def resolve_cell_types(
    cell_types: Sequence[str] | Mapping[str, Iterable[str]] | None,
    grammar: Grammar = DEFAULT_GRAMMAR,
) -> dict[str, frozenset[str]]:
    """Names (built-in, `CELL_TYPES`) or ``{name: factors}`` -> ``{name: factors}``.

    Raises `InputError` for an unknown built-in name, a bad name, an unknown factor, or
    fewer than 2 cell types.
    """
    if cell_types is None:
        cell_types = list(CELL_TYPES)
    if isinstance(cell_types, Mapping):
        table = {str(k): frozenset(str(f).upper() for f in v) for k, v in cell_types.items()}
    else:
        table = {}
        for name in cell_types:
            if name not in CELL_TYPES:
                msg = (
                    f"unknown cell type {name!r}; built-in ones are {', '.join(CELL_TYPES)} "
                    "(or pass a name -> factors table)"
                )
                raise InputError(msg)
            table[name] = CELL_TYPES[name]
    if len(table) < 2:
        raise InputError(f"need at least 2 cell types to mix, got {len(table)}")
    known = set(grammar.activator_log2)
    for name, factors in table.items():
        if not _NAME.match(name):
            msg = f"cell type name {name!r} must be a letter then letters, digits, _ or -"
            raise InputError(msg)
        unknown = sorted(factors - known)
        if unknown:
            msg = f"cell type {name}: unknown factors {unknown}; known are {sorted(known)}"
            raise InputError(msg)
    return table


def cell_type_grammar(factors: frozenset[str], grammar: Grammar = DEFAULT_GRAMMAR) -> Grammar:
    """`grammar` with only the activators of the expressed `factors`."""
    log2 = {m: c for m, c in grammar.activator_log2.items() if m in factors}
    return replace(grammar, activator_log2=log2)


def element_is_open(element: Element, factors: frozenset[str]) -> bool:
    """Promoters always; enhancers where their program's lead factor is expressed."""
    if element.kind != "enhancer":
        return True
    lead = ENHANCER_PROGRAMS[element.program][0] if element.program in ENHANCER_PROGRAMS else None
    return lead is None or lead in factors


@dataclass(frozen=True, eq=False)
class CellTypeModel:
    """Expected initiation of the reference in each cell type.

    ``models``: the element windows; ``open`` ``(n_models, K) bool``; ``activity``
    ``(n_models, K) float64`` expected rate of each element (grammar units, summed over
    anchors, times the expression factor); ``profiles[k]`` ``(K, 2, pend - pstart)
    float64`` (axis 1: plus, minus) of model ``k``; ``rpm_scale`` ``(K,)`` turns a cell
    type's rates into reads per million.
    """

    cell_types: tuple[str, ...]
    models: tuple[ElementModel, ...]
    open: np.ndarray
    activity: np.ndarray
    expression: np.ndarray
    profiles: tuple[np.ndarray, ...]
    rpm_scale: np.ndarray


def model_cell_types(
    world: World,
    table: Mapping[str, frozenset[str]],
    *,
    rng: np.random.Generator,
    expression_sd: float = 0.4,
    grammar: Grammar = DEFAULT_GRAMMAR,
) -> CellTypeModel:
    """Run the cell-type grammars over the reference at every element (module docstring)."""
    names = tuple(table)
    models = tuple(element_models(world, grammar=grammar))
    n, k = len(models), len(names)
    grammars = [cell_type_grammar(table[c], grammar) for c in names]
    expression = np.exp(rng.normal(0.0, expression_sd, size=(n, k)))
    is_open = np.array(
        [[element_is_open(m.element, table[c]) for c in names] for m in models], dtype=bool
    ).reshape(n, k)
    activity = np.zeros((n, k), dtype=np.float64)
    profiles = []
    for i, m in enumerate(models):
        seq = reference_window(world, m.element.chrom, m.start, m.end)[None]
        prof = np.zeros((k, 2, m.pend - m.pstart), dtype=np.float64)
        for j, g in enumerate(grammars):
            if not is_open[i, j]:
                continue
            rates, p = initiation(seq, m.anchors, grammar=g)
            activity[i, j] = float(rates.sum()) * expression[i, j]
            prof[j] = p[0][:, m.profile_slice] * expression[i, j]
        profiles.append(prof)
    totals = activity.sum(axis=0)
    rpm_scale = np.divide(1e6, totals, out=np.zeros(k), where=totals > 0)
    return CellTypeModel(
        cell_types=names,
        models=models,
        open=is_open,
        activity=activity,
        expression=expression,
        profiles=tuple(profiles),
        rpm_scale=rpm_scale,
    )


def accessibility_density(
    world: World, ctm: CellTypeModel, *, peak_height: float = 40.0
) -> list[dict[str, np.ndarray]]:
    """Relative accessibility per cell type and contig (module docstring).

    Returns one ``{contig: (length,) float64}`` per cell type (in ``ctm.cell_types``
    order); values are background 1 plus the open elements' bumps.
    """
    act = ctm.activity[ctm.open]
    ref_activity = float(np.median(act)) if act.size else 1.0
    ref_activity = ref_activity if ref_activity > 0 else 1.0
    out = []
    for j in range(len(ctm.cell_types)):
        tracks = {c: np.ones(n, dtype=np.float64) for c, n in world.reference.lengths.items()}
        for i, m in enumerate(ctm.models):
            if not ctm.open[i, j]:
                continue
            el = m.element
            rel = max(ctm.activity[i, j] / ref_activity, 0.1)
            height = peak_height * np.sqrt(rel)
            sd = max(75.0, el.length / 4)
            centre = (el.start + el.end) / 2
            lo = max(int(centre - 3 * sd), 0)
            hi = min(int(centre + 3 * sd) + 1, tracks[el.chrom].shape[0])
            x = np.arange(lo, hi, dtype=np.float64) + 0.5
            tracks[el.chrom][lo:hi] += height * np.exp(-0.5 * ((x - centre) / sd) ** 2)
        out.append(tracks)
    return out
