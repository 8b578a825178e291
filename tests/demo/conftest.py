"""Fixtures of the demo-step tests: the simulated, fine-mapped locus of the report tests."""

from __future__ import annotations

from tests.report.conftest import Locus, sim_locus

__all__ = ["Locus", "sim_locus"]
