"""CLIPNET data with ``indel_aware``: windows with the person's indels, targets re-aligned."""

from __future__ import annotations

import numpy as np

from tests.models.clipnet._world import make_world
from varinterp.datasets.samplesheet import read_sample_sheet
from varinterp.genome.store import GenomeStore
from varinterp.models.clipnet.data import ClipnetData


def _data(world, *, indel_aware: bool) -> ClipnetData:
    return ClipnetData.build(
        store=GenomeStore.open(world.store), libraries=read_sample_sheet(world.sheet),
        peaks=world.peaks, input_length=200, output_length=100, max_jitter=10,
        indel_aware=indel_aware,
    )  # fmt: skip


def test_without_indels_the_switch_changes_nothing(tmp_path):
    world = make_world(tmp_path / "w", n_contigs=2, contig_len=1000, peaks_per_contig=2)
    plain, aware = _data(world, indel_aware=False), _data(world, indel_aware=True)
    lib = np.array([0, 1, 2, 0, 2])
    peak = np.array([0, 1, 2, 3, 1])
    shift = np.array([0, -10, 5, 10, 3])
    rc = np.array([False, True, False, True, False])
    a = plain.batch(lib, peak, shift=shift, rc=rc)
    b = aware.batch(lib, peak, shift=shift, rc=rc)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_allclose(a.profile, b.profile)


def test_a_homozygous_deletion_shifts_window_and_target(tmp_path):
    # s1 (libA, libB) is homozygous for a 4-bp deletion 20 bp right of the first peak's
    # anchor on c0 (anchors at 333 and 666 with contig_len 1000, peaks_per_contig 2)
    probe = make_world(tmp_path / "probe", n_contigs=1, contig_len=1000, peaks_per_contig=2,
                       snvs_per_contig=1)  # fmt: skip
    seq = probe.reference["c0"]
    p = 353
    record = f"c0\t{p + 1}\tdel4\t{seq[p : p + 5]}\t{seq[p]}\t.\t.\t.\tGT\t1/1\t0/0\t0/0"
    world = make_world(tmp_path / "w", n_contigs=1, contig_len=1000, peaks_per_contig=2,
                       snvs_per_contig=0, extra_records=(record,))  # fmt: skip
    assert world.reference["c0"] == seq
    plain, aware = _data(world, indel_aware=False), _data(world, indel_aware=True)
    got = aware.batch(np.array([0, 2]), np.array([0, 0]))
    ref_batch = plain.batch(np.array([0, 2]), np.array([0, 0]))
    # libC (s2) carries nothing: identical
    np.testing.assert_array_equal(got.x[1], ref_batch.x[1])
    np.testing.assert_allclose(got.profile[1], ref_batch.profile[1])
    # libA (s1): the window centred on the anchor 333 over the person's sequence
    person = seq[: p + 1] + seq[p + 5 :]
    window = person[333 - 100 : 333 + 100]
    want_x = np.zeros((4, 200), dtype=np.uint8)
    for j, base in enumerate(window):
        want_x["ACGT".index(base), j] = 2
    np.testing.assert_array_equal(got.x[0], want_x)
    # target: reference positions 283..382 of the person's bases, i.e. skipping 354..357
    ref_pos = [q for q in range(283, 1000) if not p < q <= p + 4][:100]
    plus, minus = world.signal["libA"]
    scale = plain.scale[0]
    want = np.concatenate([plus["c0"][ref_pos], minus["c0"][ref_pos]]) * scale
    np.testing.assert_allclose(got.profile[0], want, rtol=1e-5)
