"""ClipnetData: windows, jitter, RPM tracks and reverse complement against naive oracles."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest

from tests.models.clipnet._world import make_world, rpm_scale, two_hot
from varinterp.datasets.folds import FoldMap
from varinterp.datasets.prefetch import prefetch
from varinterp.datasets.samplesheet import Library, read_sample_sheet
from varinterp.errors import InputError
from varinterp.genome.store import GenomeStore
from varinterp.models.clipnet.data import ClipnetData, flip_examples

L_IN, L_OUT = 240, 100


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # libA and libB are isogenic replicates of s1; the A/T het sits at c1's first peak.
    return make_world(tmp_path_factory.mktemp("world"), at_het=("c1", 666))


def _data(world, **kw) -> ClipnetData:
    store = GenomeStore.open(world.store, reference_only=kw.pop("reference_only", False))
    return ClipnetData.build(
        store=store,
        libraries=kw.pop("libraries", None) or read_sample_sheet(world.sheet),
        peaks=kw.pop("peaks", world.peaks),
        input_length=L_IN,
        output_length=L_OUT,
        **kw,
    )


def _expected_track(world, lib, chrom, out_start):
    plus, minus = world.signal[lib]
    s = rpm_scale(world, lib)
    seg = slice(out_start, out_start + L_OUT)
    return np.concatenate([plus[chrom][seg], minus[chrom][seg]]) * s


def test_windows_and_rpm_tracks_match_naive_oracle(world):
    data = _data(world)
    assert data.max_jitter == L_OUT // 2 - 1
    rng = np.random.default_rng(1)
    n = 40
    lib = rng.integers(0, data.n_libraries, n)
    peak = rng.integers(0, data.n_peaks, n)
    shift = rng.integers(-data.max_jitter, data.max_jitter + 1, n)
    b = data.batch(lib, peak, shift=shift)
    assert b.x.shape == (n, 4, L_IN) and b.x.dtype == np.uint8
    assert b.profile.shape == (n, 2 * L_OUT) and b.profile.dtype == np.float32
    assert b.quantity.shape == (n, 1)
    for i in range(n):
        name = data.libraries[lib[i]].name
        chrom, anchor = world.anchors[peak[i]]
        start = anchor - L_IN // 2 + shift[i]
        want_x = two_hot(world, world.library_sample[name], chrom, start, L_IN)
        np.testing.assert_array_equal(b.x[i], want_x)
        want_t = _expected_track(world, name, chrom, start + (L_IN - L_OUT) // 2)
        np.testing.assert_allclose(b.profile[i], want_t, rtol=1e-5)
        np.testing.assert_allclose(b.quantity[i, 0], want_t.sum(), rtol=1e-4)
        # the peak anchor lies in the central output window whatever the shift
        assert (L_IN - L_OUT) // 2 <= anchor - start < (L_IN + L_OUT) // 2


def test_minus_strand_is_positive_and_rpm_sums_to_a_million(world):
    data = _data(world)
    assert (data.tracks >= 0).all()
    # a window covering everything is impossible here; check the scale factor instead
    for i, lib in enumerate(data.libraries):
        assert data.scale[i] == pytest.approx(rpm_scale(world, lib.name), rel=1e-9)


def test_normalize_none_keeps_raw_values(world):
    data = _data(world, normalize="none")
    b = data.batch([0], [3])
    chrom, anchor = world.anchors[3]
    plus, minus = world.signal["libA"]
    s = anchor - L_IN // 2 + (L_IN - L_OUT) // 2
    np.testing.assert_allclose(b.profile[0, :L_OUT], plus[chrom][s : s + L_OUT])
    np.testing.assert_allclose(b.profile[0, L_OUT:], minus[chrom][s : s + L_OUT])


def test_reverse_complement_flips_both_axes_and_keeps_at_hets(world):
    data = _data(world)
    peak = world.anchors.index(("c1", 666))
    fwd = data.batch([0, 2], [peak, peak])
    rev = data.batch([0, 2], [peak, peak], rc=np.array([True, True]))
    np.testing.assert_array_equal(rev.x, fwd.x[:, ::-1, ::-1])
    # track: positions reversed and strands swapped
    t_f = fwd.profile.reshape(2, 2, L_OUT)
    t_r = rev.profile.reshape(2, 2, L_OUT)
    np.testing.assert_array_equal(t_r[:, 0], t_f[:, 1, ::-1])
    np.testing.assert_array_equal(t_r[:, 1], t_f[:, 0, ::-1])
    np.testing.assert_array_equal(rev.quantity, fwd.quantity)
    # the A/T het of s1 (library 0) at the window centre: [1, 0, 0, 1] both ways round
    centre = L_IN // 2
    assert fwd.x[0, :, centre].tolist() == [1, 0, 0, 1]
    assert rev.x[0, :, L_IN - 1 - centre].tolist() == [1, 0, 0, 1]  # not C/G [0, 1, 1, 0]
    assert fwd.x[1, :, centre].tolist() == [2, 0, 0, 0]  # libC is s2: hom-ref A
    # the store's own reverse complement agrees
    start = 666 - L_IN // 2
    store_rc = data.store.windows("s1", "c1", start, L_IN, rc=True)
    np.testing.assert_array_equal(rev.x[0], store_rc[0])


def test_flip_examples_is_an_involution():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, (3, 4, 7)).astype(np.uint8)
    t = rng.random((3, 2, 5)).astype(np.float32)
    x2, t2 = flip_examples(*flip_examples(x, t))
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(t2, t)


def test_reference_only_masks_variants(world):
    data = _data(world, reference_only=True)
    peak = world.anchors.index(("c1", 666))
    b = data.batch([0], [peak])
    assert b.x[0, :, L_IN // 2].tolist() == [2, 0, 0, 0]
    ref = world.reference["c1"][666 - L_IN // 2 : 666 + L_IN // 2]
    assert "".join("ACGT"[i] for i in b.x[0].argmax(0)) == ref


def test_training_epochs_are_seeded_and_jitter_stays_in_range(world):
    data = _data(world)
    ex = data.examples(np.arange(data.n_peaks), rc="both")
    assert len(ex) == 2 * data.n_libraries * data.n_peaks
    assert ex.rc.sum() == len(ex) // 2

    def epoch(seed):
        bs = list(data.iter_batches(ex, batch_size=7, rng=np.random.default_rng(seed), train=True))
        return [
            np.concatenate([getattr(b, k) for b in bs]) for k in ("library", "peak", "shift", "rc")
        ]

    a, b, c = epoch(3), epoch(3), epoch(4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[2], c[2])
    assert np.abs(a[2]).max() <= data.max_jitter and np.abs(a[2]).max() > 0
    # every example exactly once per epoch
    pairs = sorted(zip(a[0], a[1], a[3], strict=True))
    assert pairs == sorted(zip(ex.library, ex.peak, ex.rc, strict=True))


def test_evaluation_windows_sit_at_fixed_seeded_offsets(world):
    data = _data(world)
    peaks = np.arange(data.n_peaks)
    fixed = data.examples(peaks, rc="both", fixed_jitter=True)
    first = [b for b in data.iter_batches(fixed, batch_size=5)]
    again = [b for b in data.iter_batches(fixed, batch_size=5)]
    shift = np.concatenate([b.shift for b in first])
    np.testing.assert_array_equal(shift, np.concatenate([b.shift for b in again]))
    # one offset per peak, shared by every library and both orientations
    want = np.random.default_rng(47).integers(-data.max_jitter, data.max_jitter + 1, data.n_peaks)
    np.testing.assert_array_equal(shift, want[fixed.peak])
    assert np.abs(shift).max() > 0
    # a shifted window equals the centred window of a peak moved by the offset
    b = first[0]
    moved = data.batch(b.library, b.peak, shift=b.shift, rc=b.rc)
    np.testing.assert_array_equal(moved.x, b.x)
    np.testing.assert_array_equal(moved.profile, b.profile)
    # subsets keep their offsets; without fixed_jitter windows are centred
    sub = fixed.take(np.arange(3))
    np.testing.assert_array_equal(sub.shift, want[fixed.peak[:3]])
    plain = data.examples(peaks, rc="none")
    assert all(not b.shift.any() for b in data.iter_batches(plain, batch_size=5))


def test_random_rc_mode_flips_about_half(world):
    data = _data(world)
    ex = data.examples(np.arange(data.n_peaks), rc="random")
    rc = np.concatenate([b.rc for b in data.iter_batches(ex, batch_size=16,
                         rng=np.random.default_rng(0), train=True)])  # fmt: skip
    assert 0.2 < rc.mean() < 0.8
    assert not np.concatenate([b.rc for b in data.iter_batches(ex, batch_size=16)]).any()


def test_ranks_get_disjoint_equal_shards(world):
    data = _data(world)
    ex = data.examples(np.arange(data.n_peaks))
    shards = []
    for rank in range(2):
        bs = list(data.iter_batches(ex, batch_size=5, rng=np.random.default_rng(0), train=True,
                                    rank=rank, world_size=2))  # fmt: skip
        shards.append(
            {(int(a), int(p)) for b in bs for a, p in zip(b.library, b.peak, strict=True)}
        )
        assert len(bs) == data.n_batches(len(ex), 5, world_size=2)
    assert not shards[0] & shards[1]


def test_folds_select_peaks_by_contig(world):
    data = _data(world)
    fm = FoldMap({f"c{i}": i for i in range(10)})
    idx = data.peaks_in_folds(fm, [0, 3])
    assert sorted(set(data.peaks["chrom"].iloc[idx])) == ["c0", "c3"]


def test_prefetch_keeps_order_and_raises():
    assert list(prefetch(range(50), 3)) == list(range(50))

    def boom():
        yield 1
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        list(prefetch(boom(), 2))


# --------------------------------------------------------------- bad input (issue 3, item 11)
def test_sample_absent_from_store_is_a_clear_error(world):
    libs = [Library("libX", "NA99999", world.folder / "bw/libA.plus.bw",
                    world.folder / "bw/libA.minus.bw")]  # fmt: skip
    with pytest.raises(InputError, match=r"absent from genome store .*NA99999"):
        _data(world, libraries=libs)
    # a reference-only target does not need its samples in the store (the K562 case)
    data = _data(world, libraries=libs, reference_only=True)
    assert data.n_libraries == 1


def test_bigwig_missing_a_contig(world, tmp_path):
    path = tmp_path / "short.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("c0", 2000)])
    bw.addEntries(["c0"], [10], ends=[20], values=[1.0])
    bw.close()
    libs = [Library("libShort", "s1", path, path)]
    with pytest.raises(InputError, match=r"library libShort\) has no contig 'c1'"):
        _data(world, libraries=libs)


def test_peaks_near_contig_edges_are_dropped(world, tmp_path):
    bed = tmp_path / "edge.bed"
    bed.write_text("c0\t5\t15\nc0\t1000\t1010\nc2\t1990\t2000\n")
    data = _data(world, peaks=bed)
    assert data.n_peaks == 1 and data.n_dropped_edge == 2
    bed.write_text("c0\t5\t15\n")
    with pytest.raises(InputError, match="contig end"):
        _data(world, peaks=bed)


def test_peak_on_unknown_contig(world, tmp_path):
    bed = tmp_path / "x.bed"
    bed.write_text("chrZ\t500\t510\n")
    with pytest.raises(InputError, match="not in genome store"):
        _data(world, peaks=bed)


def test_nan_in_bigwig_reads_as_zero(world, tmp_path):
    path = tmp_path / "nan.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c, 2000) for c in world.reference])
    bw.addEntries(["c0", "c0"], [600, 700], ends=[700, 710], values=[float("nan"), 5.0])
    bw.close()
    libs = [Library("libNaN", "s1", path, path)]
    data = _data(world, libraries=libs, normalize="none")
    assert np.isfinite(data.tracks).all()
    b = data.batch([0], [0])  # c0 peak at 666: output window 616..716
    prof = b.profile[0, :L_OUT]
    np.testing.assert_array_equal(prof[: 700 - 616], 0.0)
    np.testing.assert_array_equal(prof[700 - 616 : 710 - 616], 5.0)


def test_empty_library_cannot_be_rpm_normalised(world, tmp_path):
    path = tmp_path / "empty.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([(c, 2000) for c in world.reference])
    for c in world.reference:
        bw.addEntries([c], [0], ends=[2000], values=[0.0])
    bw.close()
    with pytest.raises(InputError, match="no signal"):
        _data(world, libraries=[Library("libE", "s1", path, path)])


def test_bad_geometry(world):
    with pytest.raises(InputError, match="max_jitter"):
        _data(world, max_jitter=L_OUT // 2)


def test_track_cache_memmap(world, tmp_path):
    data = _data(world, cache=tmp_path / "tracks.npy")
    ref = _data(world)
    assert isinstance(data.tracks, np.memmap)
    np.testing.assert_array_equal(np.asarray(data.tracks), ref.tracks)


def test_other_world_seed_changes_data(tmp_path):
    w = make_world(tmp_path / "w2", n_contigs=10, seed=5, libraries=(("L", "s3"),))
    d = _data(w)
    assert d.n_libraries == 1 and d.library_sample.tolist() == [2]
