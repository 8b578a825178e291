"""The reader wrappers (`varinterp.io.readers`) and the output side of `varinterp.io.atomic`:
checked output locations, usual file modes, leftovers of killed writers."""

from __future__ import annotations

import gzip
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from varinterp.errors import InputError
from varinterp.io import atomic
from varinterp.io.atomic import (
    atomic_dir,
    atomic_path,
    check_output,
    remove_stale_temporaries,
)
from varinterp.io.readers import (
    load_checkpoint,
    load_npy,
    open_bigwig,
    open_hdf5,
    read_csv,
    read_json,
    read_text,
    require_readable,
    silenced_stderr,
)


# --------------------------------------------------------------------- readers
def test_silenced_stderr_hides_what_c_code_writes_and_restores_it(capfd):
    os.write(2, b"before\n")
    with silenced_stderr():
        os.write(2, b"[E::hts_open] from C\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before\nafter\n"


def test_garbage_bigwig_is_one_input_error_and_nothing_on_stderr(tmp_path, capfd):
    bad = tmp_path / "x.bw"
    bad.write_bytes(b"\x00" * 64 + b"not a bigwig")
    with pytest.raises(InputError, match=r"x\.bw is not a readable bigWig.*bigWigInfo"):
        open_bigwig(bad, "bulk bigWig")
    assert capfd.readouterr().err == ""


def test_bigwig_cut_short_is_an_input_error_though_libbigwig_opens_it(tmp_path):
    import pyBigWig

    from varinterp.io.bigwig import write_bigwig

    whole = tmp_path / "whole.bw"
    signal = np.arange(20_000, dtype=float) % 7
    write_bigwig(whole, chrom_sizes={"chr1": 20_000}, tracks=[("chr1", 0, signal)])
    open_bigwig(whole).close()
    data = whole.read_bytes()
    tail_cut = tmp_path / "tail.bw"
    tail_cut.write_bytes(data[:-8])
    handle = pyBigWig.open(str(tail_cut))  # libBigWig does not notice the missing tail
    assert handle is not None and handle.isBigWig()
    handle.close()
    half = tmp_path / "half.bw"
    half.write_bytes(data[: len(data) // 2])
    for cut in (tail_cut, half):
        with pytest.raises(InputError, match=rf"{cut.name} is not a readable bigWig"):
            open_bigwig(cut)


def test_non_hdf5_file_names_h5ls(tmp_path):
    bad = tmp_path / "d.h5"
    bad.write_text("plain text")
    with pytest.raises(InputError, match=r"d\.h5 is not a readable HDF5 file.*h5ls"):
        open_hdf5(bad, "deconvolution data")


def test_text_readers_name_the_file_and_what_is_wrong(tmp_path):
    binary = tmp_path / "t.tsv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match=r"sample sheet .*t\.tsv is not a text file"):
        read_text(binary, "sample sheet")
    with pytest.raises(InputError, match="is not a text file"):
        read_csv(binary, "sample sheet", sep="\t")
    empty = tmp_path / "e.tsv"
    empty.write_text("")
    with pytest.raises(InputError, match=r"e\.tsv is empty"):
        read_csv(empty, "summary statistics", sep="\t")
    whole = gzip.compress(b"a\tb\n" + b"1\t2\n" * 5000)
    cut = tmp_path / "s.tsv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match=r"s\.tsv\.gz is truncated or not valid gzip"):
        read_csv(cut, "summary statistics", sep="\t")
    bad_json = tmp_path / "m.json"
    bad_json.write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON"):
        read_json(bad_json, "record")
    with pytest.raises(InputError, match="is a folder"):
        read_text(tmp_path, "sample sheet")


def test_npy_arrays_are_numeric_and_whole(tmp_path):
    good = tmp_path / "g.npy"
    np.save(good, np.arange(6, dtype=np.int64))
    assert load_npy(good, "array", mmap_mode="r").tolist() == list(range(6))
    objects = tmp_path / "o.npy"
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    cut = tmp_path / "c.npy"
    cut.write_bytes(good.read_bytes()[:-8])
    garbage = tmp_path / "x.npy"
    garbage.write_bytes(b"\x80\x04garbage")
    for bad, why in ((objects, "Python objects"), (cut, "truncated"), (garbage, "not a .npy")):
        for mmap in (None, "r"):
            with pytest.raises(InputError, match=why) as err:
                load_npy(bad, "genome store array", mmap_mode=mmap)
            assert bad.name in str(err.value) and "pickle" not in str(err.value)


def test_checkpoints_load_without_code_and_never_pass_on_torchs_advice(tmp_path):
    good = tmp_path / "ok.pt"
    torch.save({"epoch": 3, "w": torch.ones(2)}, good)
    assert load_checkpoint(good, "checkpoint", fix="delete it")["epoch"] == 3

    foreign = tmp_path / "code.pt"
    torch.save({"x": Path("a")}, foreign)  # loading it needs a class outside the allow-list
    garbage = tmp_path / "g.pt"
    garbage.write_bytes(b"\x80\x02garbage")
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:40])
    for bad in (foreign, garbage, cut):
        with pytest.raises(InputError) as err:
            load_checkpoint(bad, "training checkpoint", fix="delete it to start again")
        text = str(err.value)
        assert bad.name in text and text.endswith("delete it to start again")
        assert "weights_only" not in text and "\n" not in text
    with pytest.raises(pickle.UnpicklingError):  # what torch itself says, for contrast
        torch.load(foreign, weights_only=True)


def test_unreadable_file_is_reported_as_a_permission_problem(tmp_path, monkeypatch):
    path = tmp_path / "fold_1.safetensors"
    path.write_bytes(b"x")
    assert require_readable(path, "weights") == path
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode)
    )
    with pytest.raises(InputError, match=r"cannot be read \(permission denied\).*ls -l"):
        require_readable(path, "weights")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_weights_say_permission_denied(tmp_path):
    from tests.effects._scoring_toys import save_toy_dir
    from varinterp.training.modeldir import load_member, read_model_dir

    model = save_toy_dir(tmp_path / "m")
    (model / "fold_1.safetensors").chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        load_member(read_model_dir(model), "fold_1")


# --------------------------------------------------------------------- outputs
def test_check_output_refuses_locations_before_any_work(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert check_output(tmp_path / "new" / "deeper" / "out.tsv") == tmp_path / "new/deeper/out.tsv"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(InputError, match=r"--out .*: .*file is a file, not a folder"):
        check_output(blocker / "out.tsv")
    with pytest.raises(InputError, match="--vcf-out"):
        check_output(blocker / "sub" / "x.vcf.gz", option="--vcf-out")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode)
    )
    with pytest.raises(InputError, match=r"cannot write in .*permission denied or read-only"):
        check_output(tmp_path / "out.tsv")


def test_check_output_refuses_a_full_disk(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    with pytest.raises(InputError, match=r"--out .*the disk of .* is full \(4,096 bytes free\)"):
        check_output(tmp_path / "out.tsv")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(0, 0, 0))  # size unknown (FUSE)
    assert check_output(tmp_path / "out.tsv")


def test_safetensors_results_get_the_usual_mode(tmp_path):
    from safetensors.torch import save_file

    from tests.effects._scoring_toys import save_toy_dir

    mask = os.umask(0o022)
    try:
        model = save_toy_dir(tmp_path / "m")
        with atomic_path(tmp_path / "w.safetensors", suffix=".safetensors") as tmp:
            save_file({"x": torch.ones(2)}, str(tmp))
    finally:
        os.umask(mask)
    for path in (model / "fold_1.safetensors", model / "config.json", tmp_path / "w.safetensors"):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert model.stat().st_mode & 0o777 == 0o755


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def test_leftovers_of_killed_writers_are_removed_by_the_next_write(tmp_path):
    host = atomic._host()
    dead = tmp_path / f".store.vgs.{host}-{_dead_pid()}.abcdefgh.tmp"
    (dead / "sub").mkdir(parents=True)
    (dead / "sub" / "genotypes.npy").write_bytes(b"half")
    dead_file = tmp_path / f".effects.tsv.{host}-{_dead_pid()}.k2j4h5g6.tmp.tsv"
    dead_file.write_text("half")
    alive = tmp_path / f".store.vgs.{host}-1.zzzzzzzz.tmp"  # pid 1 runs: another writer
    alive.mkdir()
    other_host = tmp_path / f".store.vgs.elsewhere-{_dead_pid()}.yyyyyyyy.tmp"
    other_host.mkdir()
    unrelated = tmp_path / ".store.vgs.old"
    unrelated.mkdir()
    with atomic_dir(tmp_path / "store.vgs") as tmp:
        (tmp / "meta.json").write_text("{}")
    with atomic_path(tmp_path / "effects.tsv") as tmp:
        tmp.write_text("whole\n")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["store.vgs", "effects.tsv", alive.name, other_host.name, unrelated.name])
    assert remove_stale_temporaries(tmp_path) == []


def test_temporary_names_carry_the_host_and_process(tmp_path):
    seen = []
    with atomic_dir(tmp_path / "out") as tmp:
        seen.append(tmp.name)
    with atomic_path(tmp_path / "x.tsv") as tmp:
        seen.append(tmp.name)
    tag = f"{atomic._host()}-{os.getpid()}"
    assert seen[0].startswith(f".out.{tag}.") and seen[0].endswith(".tmp")
    assert seen[1].startswith(f".x.tsv.{tag}.") and seen[1].endswith(".tmp.tsv")
