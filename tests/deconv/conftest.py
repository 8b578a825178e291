"""Shared helpers for the deconvolution tests: one torch thread, tiny synthetic bigWigs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyBigWig
import pytest

from varinterp.models.deepdetails.network import DeepDetailsConfig

# A short layer stack so tests run in seconds: 256 -> 236 -> 234 -> 192 -> 184.
TINY = {
    "input_length": 256,
    "filters": 8,
    "n_dilated": 3,
    "gru_layers": 1,
    "profile_shrinkage": 4,
    "head_layers": 1,
}
TINY_TARGET = 184
CELL_TYPES = ("A", "B", "C")
CHROM_SIZES = {"chrT": 6000, "chrU": 3000}


def tiny_config(**kw) -> DeepDetailsConfig:
    return DeepDetailsConfig(**{"n_cell_types": 3, **TINY, **kw})


def _write(path: Path, tracks: dict[str, np.ndarray]) -> Path:
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader(list(CHROM_SIZES.items()))
    for chrom, vals in tracks.items():
        nz = np.flatnonzero(vals)
        if nz.size:
            bw.addEntries(
                [chrom] * nz.size,
                nz.tolist(),
                ends=(nz + 1).tolist(),
                values=vals[nz].astype(float).tolist(),
            )
    bw.close()
    return path


@pytest.fixture(scope="session")
def synthetic_tracks(tmp_path_factory) -> dict:
    """Three cell types with sparse stranded signal; bulk = their sum (minus negative)."""
    root = tmp_path_factory.mktemp("dd_tracks")
    rng = np.random.default_rng(7)
    truth = {}
    acc = {}
    for k, ct in enumerate(CELL_TYPES):
        pl, mn, ac = {}, {}, {}
        for chrom, size in CHROM_SIZES.items():
            a = np.zeros(size)
            b = np.zeros(size)
            access = np.zeros(size)
            for centre in range(400 + 300 * k, size - 400, 900):
                a[centre : centre + 20] = rng.poisson(3 + 2 * k, 20)
                b[centre - 30 : centre - 10] = rng.poisson(2 + k, 20)
                access[centre - 150 : centre + 150] = 1 + k
            pl[chrom], mn[chrom], ac[chrom] = a, b, access
        truth[ct] = (pl, mn)
        acc[ct] = ac
    files = {"acc": {}, "truth": {}}
    for ct in CELL_TYPES:
        files["acc"][ct] = _write(root / f"acc.{ct}.bw", acc[ct])
        pl, mn = truth[ct]
        files["truth"][ct] = (
            _write(root / f"{ct}.pl.bw", pl),
            _write(root / f"{ct}.mn.bw", {c: -v for c, v in mn.items()}),
        )
    bulk_pl = {c: sum(truth[ct][0][c] for ct in CELL_TYPES) for c in CHROM_SIZES}
    bulk_mn = {c: -sum(truth[ct][1][c] for ct in CELL_TYPES) for c in CHROM_SIZES}
    files["bulk_pl"] = _write(root / "bulk.pl.bw", bulk_pl)
    files["bulk_mn"] = _write(root / "bulk.mn.bw", bulk_mn)
    files["arrays"] = {"truth": truth, "acc": acc, "bulk_pl": bulk_pl, "bulk_mn": bulk_mn}
    return files


@pytest.fixture(scope="session")
def synthetic_data(synthetic_tracks):
    from varinterp.deconv.prep import build_windows, call_bulk_peaks

    f = synthetic_tracks
    peaks = call_bulk_peaks(f["bulk_pl"], f["bulk_mn"], n_peaks=12, bin_size=TINY_TARGET, flank=128)
    return build_windows(
        regions=peaks,
        bulk_pl=f["bulk_pl"],
        bulk_mn=f["bulk_mn"],
        accessibility=f["acc"],
        truth=f["truth"],
        input_length=TINY["input_length"],
        target_length=TINY_TARGET,
    )
