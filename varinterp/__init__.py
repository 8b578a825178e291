"""varinterp: from genetic variants to mechanistic hypotheses.

Personal diploid genomes from VCFs, sequence-to-function models, variant effect scores,
deconvolution of bulk tracks, ABC enhancer-gene links, fine-mapping and locus reports.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("varinterp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
