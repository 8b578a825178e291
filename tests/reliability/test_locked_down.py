"""Machines that are not a developer's laptop: a read-only installation without a
writable HOME (numba's cache), a full disk, files of other users."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability._runner import run_cli, tree

REPO = Path(__file__).resolve().parents[2]

_KERNELS = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import numba
import varinterp.genome._kernels  # kernels are defined (and their cache located) on import
from varinterp.genome.encoding import one_hot
assert varinterp.genome._kernels.__file__.startswith(sys.argv[1])
x = one_hot(np.array([0, 1, 2, 3, 4], dtype=np.uint8))
assert x.tolist() == [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0]]
print(numba.config.CACHE_DIR)
"""


def test_numba_cache_falls_back_to_a_private_temporary_folder(tmp_path):
    """No writable package folder, no writable HOME, no NUMBA_CACHE_DIR: the kernels are
    still defined and cached, in a folder of this user under the temporary directory."""
    package = tmp_path / "install"
    shutil.copytree(
        REPO / "varinterp", package / "varinterp", ignore=shutil.ignore_patterns("__pycache__")
    )
    (package / "varinterp" / "genome" / "__pycache__").write_text("not a folder")
    blocker = tmp_path / "blocker"
    blocker.write_text("HOME cannot be made under a file")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CACHE", "XDG_"))}
    env.update(HOME=str(blocker / "home"), XDG_CACHE_HOME=str(blocker / "cache"))
    env.update(TMPDIR=str(scratch), PYTHONDONTWRITEBYTECODE="1", NUMBA_NUM_THREADS="1")
    run = [sys.executable, "-c", _KERNELS, str(package)]
    done = subprocess.run(run, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    cache = Path(done.stdout.strip().splitlines()[-1])
    assert cache == scratch / f"varinterp-numba-{os.getuid()}"
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert list(cache.rglob("*.nbi")), "nothing was cached"


def test_numba_cache_is_left_alone_when_the_package_folder_is_writable(monkeypatch):
    import numba

    from varinterp.genome import _numba_cache

    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    _numba_cache.ensure_numba_cache(_numba_cache.__file__)
    assert numba.config.CACHE_DIR == ""


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs (root only, where mounting is allowed); skipped elsewhere."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small file system needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def _fill(disk: Path, leave: int) -> None:
    """Fill `disk` until `leave` bytes are free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * (free - leave))


def test_a_full_disk_is_refused_before_any_work(small_disk, inputs):
    _fill(small_disk, 64 << 10)
    before = tree(small_disk)
    result = run_cli(["simulate", "world", "--out", small_disk / "w", "-q"])
    assert result.exit_code == 2
    assert len(result.stderr_lines) == 1
    assert "--out" in result.stderr and "is full" in result.stderr
    assert tree(small_disk) == before


def test_a_disk_that_fills_while_writing_leaves_nothing(small_disk, inputs):
    """Room for the check (1 MiB free) but not for the 1.1 MB of weights: the copy fails
    half-way, the half-written folder goes, and the line names the output."""
    _fill(small_disk, (1 << 20) + (16 << 10))
    before = tree(small_disk)
    out = small_disk / "zoo-copy"
    result = run_cli(["models", "fetch", "clipnet-demo", "--out", out, "-q"])
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr_lines) == 1
    assert "No space left on device" in result.stderr and str(out) in result.stderr
    assert ".tmp" not in result.stderr
    assert tree(small_disk) == before


_NO_DAC = [
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
]


def test_permissions_are_reported_as_such(inputs, tmp_path):
    """Another user's unreadable weights and a read-only output folder: exit 2, and the
    line says permission denied (not "No such file"). As root the command runs without
    the capability to override file permissions."""
    model = tmp_path / "model"
    shutil.copytree(inputs["clipnet"], model)
    (model / "fold_1.safetensors").chmod(0o600)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root this needs setpriv to drop the permission override")
        os.chown(model / "fold_1.safetensors", 12345, -1)  # another user's file
        prefix = ["setpriv", *_NO_DAC]
    elif (model / "fold_1.safetensors").stat().st_uid == os.getuid():
        (model / "fold_1.safetensors").chmod(0)
    base = [
        "score", "--variants", inputs["score_vcf"], "--fasta", inputs["fasta"], "--device", "cpu",
    ]  # fmt: skip
    runs = [
        [*base, "--model", model, "--out", tmp_path / "e.tsv"],  # unreadable weights
        [*base, "--model", inputs["clipnet"], "--out", locked / "e.tsv"],  # read-only --out
    ]
    script = (
        "import json, sys\n"
        "from tests.reliability._runner import run_cli\n"
        "runs = json.loads(sys.argv[1])\n"
        "print(json.dumps([[r.exit_code, r.stderr_lines] for r in map(run_cli, runs)]))\n"
    )
    argv = json.dumps([[str(a) for a in run] for run in runs])
    done = subprocess.run(
        [*prefix, sys.executable, "-c", script, argv], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for (code, lines), what in zip(json.loads(done.stdout), ("weights", "--out"), strict=True):
        assert code == 2 and len(lines) == 1, (what, lines)
        assert "permission denied" in lines[0], (what, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked", "model"]
    assert list(locked.iterdir()) == []
