"""Interval helpers against a naive loop (property test)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from varinterp.regulatory._common import any_overlap, safe_name

intervals = st.lists(
    st.tuples(st.sampled_from(["chr1", "chr2"]), st.integers(0, 200), st.integers(1, 40)),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(queries=intervals, targets=intervals)
def test_any_overlap_matches_naive_loop(queries, targets):
    def arrays(rows):
        chrom = np.array([r[0] for r in rows], dtype=object)
        start = np.array([r[1] for r in rows], dtype=np.int64)
        return chrom, start, start + np.array([r[2] for r in rows], dtype=np.int64)

    qc, qs, qe = arrays(queries)
    tc, ts, te = arrays(targets)
    got = any_overlap(qc, qs, qe, tc, ts, te)
    want = [
        any(c == d and s < f and e > t for d, t, f in zip(tc, ts, te, strict=True))
        for c, s, e in zip(qc, qs, qe, strict=True)
    ]
    assert got.tolist() == want


def test_safe_name():
    assert safe_name("Kupffer cell/mac") == "Kupffer_cell_mac"
    assert safe_name("..") == "unnamed"
