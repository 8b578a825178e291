"""JASPAR through the optional pyjaspar: selection by matrix ID; a clear error without it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from varinterp.errors import InputError
from varinterp.motifs.jaspar import jaspar_motifs


def test_without_pyjaspar_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyjaspar", None)
    with pytest.raises(InputError, match=r"varinterp\[jaspar\]"):
        jaspar_motifs(["MA0139"])


def test_human_ctcf_by_matrix_id():
    pytest.importorskip("pyjaspar")
    motifs = jaspar_motifs(["MA0139"])
    assert motifs.names == ("MA0139.2_CTCF",)
    np.testing.assert_allclose(motifs.matrices[0].sum(axis=0), 1.0)
