"""bpAI-TAC's metrics against scipy and naive loops."""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

from varinterp.models.bpaitac.metrics import (
    cv_quartile,
    per_ocr_pearson,
    per_task_pearson,
    profile_jsd,
    profile_pearson,
    summarize,
)


def test_pearsons_are_scipys():
    rng = np.random.default_rng(0)
    obs = rng.gamma(2.0, 10.0, size=(30, 6))
    pred = obs * rng.uniform(0.5, 1.5, size=obs.shape)
    pred[3] = 7.0  # a constant prediction: undefined
    r = per_ocr_pearson(pred, obs)
    for i in range(30):
        if i == 3:
            assert np.isnan(r[i])
        else:
            assert abs(r[i] - stats.pearsonr(pred[i], obs[i])[0]) < 1e-12
    rt = per_task_pearson(pred, obs, log=True)
    for t in range(6):
        assert abs(rt[t] - stats.pearsonr(np.log1p(pred[:, t]), np.log1p(obs[:, t]))[0]) < 1e-12


def test_cv_quartiles_and_profile_metrics():
    rng = np.random.default_rng(1)
    obs = rng.gamma(2.0, 10.0, size=(40, 5))
    cv, q = cv_quartile(obs)
    np.testing.assert_allclose(cv, obs.std(1) / obs.mean(1))
    assert np.bincount(q, minlength=4).tolist() == [10, 10, 10, 10]
    assert np.all(np.diff([cv[q == k].max() for k in range(4)]) > 0)
    pred = rng.dirichlet(np.ones(25), size=(40, 5))
    counts = rng.poisson(3.0, size=(40, 5, 25)).astype(float)
    counts[0, 0] = 0
    jsd = profile_jsd(pred, counts)
    assert np.isnan(jsd[0, 0])
    assert abs(jsd[1, 2] - jensenshannon(pred[1, 2], counts[1, 2], base=2)) < 1e-12
    r = profile_pearson(pred, counts)
    assert abs(r[4, 1] - stats.pearsonr(pred[4, 1], counts[4, 1])[0]) < 1e-12
    s = summarize(obs * 1.1, obs, pred, counts)
    assert abs(s["ocr_pearson_median"] - 1) < 1e-12
    assert {"ocr_pearson_cv_q1_median", "profile_jsd_median", "task_pearson_median"} <= set(s)
