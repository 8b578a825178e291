"""cREscENDO on CUDA (skipped without a GPU): train, attribute and score on the device,
and agree with the CPU where the arithmetic is the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.gpu


def test_train_activity_and_score_on_cuda(tiny_run, tmp_path):
    import varinterp as vi
    from tests.models.crescendo.conftest import tiny_settings
    from varinterp.models.crescendo.activity import cre_activity
    from varinterp.models.crescendo.train import train_crescendo

    res = train_crescendo(
        tiny_run.prep, out=tmp_path / "t", settings=tiny_settings(), device="cuda"
    )
    gpu = cre_activity(res.model_dir, out=tmp_path / "a", device="cuda")
    cre_activity(res.model_dir, out=tmp_path / "b", device="cpu")
    assert gpu.max_delta < 1e-5
    a = pd.read_csv(tmp_path / "a" / "pairs.tsv", sep="\t")["max_activity"]
    b = pd.read_csv(tmp_path / "b" / "pairs.tsv", sep="\t")["max_activity"]
    assert np.allclose(a, b, rtol=1e-3, atol=1e-6)
    v = pd.read_csv(tiny_run.world / "truth" / "variants.tsv", sep="\t").head(3)
    t = vi.score_frame(res.model_dir, v, fasta=tiny_run.world / "genome.fa", device="cuda")
    assert len(t) and np.isfinite(t["accessibility_ref"]).all()
