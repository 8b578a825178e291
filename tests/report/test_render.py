"""Open the report in headless Chromium: it renders (non-blank screenshot) and the DOM has
the key elements. Skipped when no Chromium is installed (Debian: apt-get install chromium)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from varinterp.report.locus import locus_report

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]  # fmt: skip


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_in_chromium(sim_locus, tmp_path) -> None:
    ev, g = sim_locus.evidence, sim_locus.gwas
    res = locus_report(
        finemap_dir=sim_locus.finemap, out=tmp_path / "report.html", ld_matrix=g / "ld.npy",
        ld_variants=g / "ld_variants.tsv", genes=ev["genes"], elements=ev["elements"],
        abc=ev["abc_dir"], tracks=ev["tracks"], top=1,
    )  # fmt: skip
    url = res.html.resolve().as_uri()
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.is_file(), run.stderr[-2000:]
    from matplotlib.image import imread

    img = imread(shot)[..., :3]  # (H, W, 3) float in [0, 1]
    assert img.shape[:2] == (2000, 1280)
    non_white = (img < 0.9).any(axis=2)
    assert non_white.mean() > 0.02  # text and figures drawn, not a blank page
    assert img.std() > 0.05
    # figures are decoded: the locus plot's purple lead marker (#7b2cbf) appears
    purple = np.abs(img - np.array([0x7B, 0x2C, 0xBF]) / 255).max(axis=2) < 0.08
    assert purple.sum() > 20
    dom = _chromium(tmp_path, "--dump-dom", url).stdout
    for ident in ("report-title", "locus-plot", "candidate-table", "tracks-1", "abc-arcs"):
        assert f'id="{ident}"' in dom
    assert sim_locus.truth["causal"]["variant_id"] in dom
