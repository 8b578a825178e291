"""Helpers for the regulatory tests: tiny bigWigs and a CLI root with the groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer

from varinterp.io.bigwig import write_bigwig

CHROM_SIZES = {"chr1": 200_000, "chr2": 50_000}


def bigwig(path: Path, signal: dict[str, np.ndarray]) -> Path:
    """Write base-resolution `signal` (chrom -> values from position 0) as a bigWig."""
    write_bigwig(
        path,
        chrom_sizes=CHROM_SIZES,
        tracks=[(c, 0, signal[c]) for c in CHROM_SIZES if c in signal],
    )
    return path


@pytest.fixture
def make_bigwig():
    """The `bigwig` writer, as a fixture (test modules do not import conftest)."""
    return bigwig


@pytest.fixture
def chrom_sizes():
    return dict(CHROM_SIZES)


@pytest.fixture
def cli():
    """A root typer app with the 'elements' and 'link' groups, as main.py registers them."""
    from varinterp.cli import elements, link
    from varinterp.cli._common import ErrorHandlingGroup

    root = typer.Typer(cls=ErrorHandlingGroup)

    @root.callback()
    def _root() -> None:
        """test root"""

    root.add_typer(elements.app, name="elements")
    root.add_typer(link.app, name="link")
    return root
