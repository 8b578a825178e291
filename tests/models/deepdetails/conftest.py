"""The DeepDETAILS family's tests share the deconvolution tests' tiny bigWigs and windows."""

from __future__ import annotations

from tests.deconv.conftest import synthetic_data, synthetic_tracks

__all__ = ["synthetic_data", "synthetic_tracks"]
