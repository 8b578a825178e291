"""Score functions against scipy and per-variant loops; reverse-complement covariance."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from varinterp.effects.scores import effect_scores, empirical_pvalues, jsd_distance
from varinterp.errors import InputError


def _profiles(seed: int, n: int = 6, L: int = 9):
    rng = np.random.default_rng(seed)
    pr = rng.gamma(0.5, size=(n, 2, L))
    pa = rng.gamma(0.5, size=(n, 2, L))
    pr[0] = 0  # an all-zero profile
    return pr, rng.gamma(2.0, size=n), pa, rng.gamma(2.0, size=n)


@given(st.integers(0, 10_000))
@settings(max_examples=25, deadline=None)
def test_scores_equal_a_per_variant_loop(seed):
    pr, qr, pa, qa = _profiles(seed)
    got = effect_scores(pr, qr, pa, qa, pseudocount=0.01)
    for i in range(len(qr)):
        tr = pr[i] / pr[i].sum() * qr[i] if pr[i].sum() > 0 else np.zeros_like(pr[i])
        ta = pa[i] / pa[i].sum() * qa[i]
        assert got["log2fc"][i] == pytest.approx(np.log2((qa[i] + 0.01) / (qr[i] + 0.01)))
        assert got["profile_l2"][i] == pytest.approx(np.sqrt(((ta - tr) ** 2).sum()))
        if pr[i].sum() > 0:
            want = jensenshannon(pr[i].ravel(), pa[i].ravel(), base=2)
            assert got["profile_jsd"][i] == pytest.approx(want, abs=1e-7)
        else:
            assert np.isnan(got["profile_jsd"][i])
        d_r = np.log1p(tr[0].sum()) - np.log1p(tr[1].sum())
        d_a = np.log1p(ta[0].sum()) - np.log1p(ta[1].sum())
        assert got["directionality_delta"][i] == pytest.approx(d_a - d_r)
        s = 0 if tr[0].sum() >= tr[1].sum() else 1
        assert got["tss_shift"][i] == int(np.argmax(ta[s])) - int(np.argmax(tr[s]))
        assert got["tss_strand"][i] == (1 if s == 0 else -1)


def test_reverse_complement_covariance():
    pr, qr, pa, qa = _profiles(3)
    pr[0] = 1.0 + np.arange(18).reshape(2, 9)  # no ties in the strand sums
    fw = effect_scores(pr, qr, pa, qa)
    rc = effect_scores(pr[:, ::-1, ::-1], qr, pa[:, ::-1, ::-1], qa)
    for key in ("log2fc", "profile_l2", "profile_jsd", "quantity_ref"):
        np.testing.assert_allclose(rc[key], fw[key], rtol=1e-10)
    np.testing.assert_allclose(rc["directionality_delta"], -fw["directionality_delta"])
    np.testing.assert_array_equal(rc["tss_strand"], -fw["tss_strand"])
    np.testing.assert_array_equal(rc["tss_shift"], -fw["tss_shift"])


def test_jsd_bounds_and_identity():
    p = np.array([[1.0, 0, 0], [1, 1, 1]])
    q = np.array([[0.0, 0, 2], [2, 2, 2]])
    np.testing.assert_allclose(jsd_distance(p, q), [1.0, 0.0], atol=1e-12)


def test_empirical_pvalues_loop():
    rng = np.random.default_rng(0)
    obs = rng.normal(size=20)
    null = rng.normal(size=(20, 7))
    null[3, 2] = np.nan
    got = empirical_pvalues(obs, null)
    for i in range(20):
        v = null[i][~np.isnan(null[i])]
        assert got[i] == pytest.approx((1 + (v >= obs[i]).sum()) / (1 + v.size))
    with pytest.raises(InputError, match=r"\(n, K\)"):
        empirical_pvalues(obs, null[:3])
