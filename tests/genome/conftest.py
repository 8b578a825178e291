"""Fixtures for store tests."""

from __future__ import annotations

import pytest

from tests.genome._cohort import write_cohort


@pytest.fixture
def cohort(tmp_path):
    records = [
        "chr1\t2\trs1\tC\tT\t.\t.\t.\tGT\t0|1\t1|1",
        "chr1\t4\trs2\tT\tG,A\t.\t.\t.\tGT\t1|2\t./.",
        "chr1\t5\trs3\tA\tAT\t.\t.\t.\tGT\t0|1\t1|1",
        "chr1\t40\trs4\tC\tG\t.\t.\t.\tGT\t1|0\t0|0",
        "chr2\t1\trs5\tG\tC\t.\t.\t.\tGT\t0|1\t1|0",
    ]
    return write_cohort(tmp_path, records)
