"""Bulk two-hot reads (many samples over the same windows) against the per-haplotype path.

`GenomeStore.windows` reads a call whose windows repeat across samples group by group
(each variant read once per group) and any other call window by window. Both must equal
the sum of the one-hot haplotypes that `haplotype_codes` returns, whose kernel builds each
haplotype base by base and is checked against ``bcftools consensus`` elsewhere. The cohort
mixes every genotype layout the store has: carrier lists (rare), non-carrier lists (ALT
near fixation), dense rows (common), with SNVs, MNPs, insertions, deletions, multi-allelic
sites, a reference N inside windows, and windows over both contig edges.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.genome._cohort import write_cohort
from varinterp.genome.build import build_store
from varinterp.genome.store import GROUPED_MIN_REQUESTS, GenomeStore

N_SAMPLES = 40
LENGTH = 600
WINDOW = 50
N_AT = 300


def _records(rng: np.random.Generator, seq: str) -> list[str]:
    lines = []
    for pos in np.sort(rng.choice(np.arange(1, LENGTH - 6), 120, replace=False)):
        ref = seq[pos]
        other = [b for b in "ACGT" if b != ref]
        kind = rng.choice(["snv", "snv", "mnp", "ins", "del", "multi"])
        if kind == "snv":
            ref_allele, alts = ref, [str(rng.choice(other))]
        elif kind == "mnp":
            ref_allele = seq[pos : pos + 2]
            alts = ["".join(rng.choice(list("ACGT"), 2))]
            if alts[0] == ref_allele:
                continue
        elif kind == "ins":
            ref_allele, alts = ref, [ref + "".join(rng.choice(list("ACGT"), 3))]
        elif kind == "del":
            ref_allele, alts = seq[pos : pos + 4], [ref]
        else:
            ref_allele, alts = ref, [str(a) for a in rng.choice(other, 2, replace=False)]
        freq = rng.choice([0.01, 0.03, 0.3, 0.97])  # lists, dense rows, non-carrier lists
        calls = []
        for _ in range(N_SAMPLES):
            haps = [
                str(rng.integers(1, len(alts) + 1)) if rng.random() < freq else "0"
                for _ in range(2)
            ]
            calls.append("|".join(haps))
        lines.append("\t".join(["chr1", str(pos + 1), ".", ref_allele, ",".join(alts), ".",
                                ".", ".", "GT", *calls]))  # fmt: skip
    return lines


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bulk")
    rng = np.random.default_rng(7)
    seq = "".join(rng.choice(list("ACGT"), LENGTH))
    seq = seq[:N_AT] + "N" + seq[N_AT + 1 :]
    samples = [f"s{i}" for i in range(N_SAMPLES)]
    fasta, vcf = write_cohort(
        tmp, _records(rng, seq), samples=samples, fasta_text=f">chr1\n{seq}\n"
    )
    out = tmp / "cohort.vgs"
    build_store(vcf=vcf, fasta=fasta, out=out, overwrite=True)
    store = GenomeStore.open(out)
    kinds = np.bincount(store._array("gt_kind"), minlength=3)
    assert (kinds > 0).all(), kinds  # every genotype layout is exercised
    return store


def _expected(store, samples, starts, *, rc, indels, anchor):
    codes = store.haplotype_codes(samples, "chr1", starts, WINDOW, indels=indels, anchor=anchor)
    two_hot = (codes[:, :, None, :] == np.arange(4)[None, None, :, None]).sum(1)
    two_hot = two_hot.astype(np.uint8)
    return two_hot[:, ::-1, ::-1] if rc else two_hot


@pytest.mark.parametrize("rc", [False, True])
@pytest.mark.parametrize("indels", [True, False])
@pytest.mark.parametrize("anchor", ["start", "end", "centre"])
@pytest.mark.parametrize("people", [np.arange(N_SAMPLES), np.arange(3, 14)])
def test_bulk_and_single_reads_equal_the_haplotypes(store, rc, indels, anchor, people):
    rng = np.random.default_rng(11)
    window_starts = np.r_[-20, 0, np.arange(7, LENGTH - 40, 9), LENGTH - 30]
    samples = np.repeat(people, window_starts.size)
    starts = np.tile(window_starts, people.size)
    # the same (sample, window) twice, and the requests shuffled
    samples = np.concatenate([samples, samples[:25]])
    starts = np.concatenate([starts, starts[:25]])
    assert samples.size >= GROUPED_MIN_REQUESTS  # the grouped path is the one under test
    order = rng.permutation(samples.size)
    samples, starts = samples[order], starts[order]
    expected = _expected(store, samples, starts, rc=rc, indels=indels, anchor=anchor)
    kw = dict(rc=rc, indels=indels, anchor=anchor)
    bulk = store.windows(samples, "chr1", starts, WINDOW, **kw)
    np.testing.assert_array_equal(bulk, expected)
    chunks = range(0, samples.size, 7)
    single = np.concatenate(
        [store.windows(samples[i : i + 7], "chr1", starts[i : i + 7], WINDOW, **kw) for i in chunks]
    )
    np.testing.assert_array_equal(single, expected)
    assert (bulk.sum(1) < 2).any()  # N positions and length changes are in the windows
