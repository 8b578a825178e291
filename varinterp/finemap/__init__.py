"""Statistical fine-mapping of GWAS loci from summary statistics and LD.

Modules: `sumstats` (reading summary statistics), `ld` (LD from PLINK genotypes or a
matrix file; PSD checks), `align` (matching alleles to the LD panel), `susie` (SuSiE-RSS
by IBSS, numpy), `abf` (Wakefield approximate Bayes factors), `credsets` (credible sets and
purity), `diagnostics` (the LD check), `locus` (a locus read, aligned, its LD computed
and checked once), `run` (the `varinterp finemap` command as a function: fit and write a
prepared locus), `genomewide` (every locus of a GWAS), `simulate` (loci with known causal
variants for tests and benchmarks).
"""

from __future__ import annotations

import sys
import types
from typing import Any

__all__: list[str] = []


class _FinemapPackage(types.ModuleType):
    """The package is also the function: ``varinterp.finemap(...)`` is
    `varinterp.finemap.run.finemap` (``vi.finemap`` reaches this package once any code
    has imported it, as Python binds a subpackage to its parent's attribute)."""

    def __call__(self, **kwargs: Any) -> Any:
        from varinterp.finemap.run import finemap

        return finemap(**kwargs)


sys.modules[__name__].__class__ = _FinemapPackage
