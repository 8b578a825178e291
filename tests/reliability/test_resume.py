"""kill -9, then the same command again: it finishes the work, byte-identical to a run
that was never interrupted, and nothing of the killed run is left behind.

The killed run is a real process: `_pause` freezes it at a known point (after the N-th
call of a function: a finished chunk, an epoch's checkpoint, a half-built folder), the
test sends SIGKILL, and the rerun (in this process) must pick up from there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability._runner import run_cli, tree

REPO = Path(__file__).resolve().parents[2]


def _killed(tmp: Path, target: str, after: int, args: list[str]) -> None:
    """Run ``varinterp ARGS`` in a subprocess, freeze it after the `after`-th call of
    `target` returned, and kill it with SIGKILL."""
    marker = tmp / "paused"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "tests.reliability._pause", target, str(after), str(marker)]
    proc = subprocess.Popen(
        [*cmd, "--", *map(str, args)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"the run ended (exit {proc.returncode}) before the kill point:\n{err}")
            if time.monotonic() > deadline:
                pytest.fail(f"the run did not reach {target} call {after}")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


#: Wall-clock fields of the training logs and provenance's date: the only bytes a resumed
#: run may change. (Both runs write to the same path, so paths inside files agree.)
_TIMING = {"seconds", "samples_per_s", "elapsed_s", "wall_s", "date"}


def _untimed(data: bytes, name: str) -> bytes:
    """JSON / JSON-lines files without their wall-clock fields; other files as they are."""
    if not name.endswith((".json", ".jsonl")):
        return data

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in _TIMING}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        return obj

    if name.endswith("provenance.json"):  # sizes of timed JSON logs and checkpoints vary
        record = json.loads(data)
        record["outputs"] = {
            k: v
            for k, v in record.get("outputs", {}).items()
            if not k.endswith((".json", ".jsonl", ".pt"))
        }
        data = json.dumps(record).encode()
    lines = data.decode().splitlines() if name.endswith(".jsonl") else [data.decode()]
    return "\n".join(json.dumps(strip(json.loads(x)), sort_keys=True) for x in lines).encode()


def _files(folder: Path) -> dict[str, bytes]:
    """Every result file under `folder` by relative path (timing fields of JSON logs
    dropped; the last-epoch checkpoints, which pickle those logs, left out)."""
    return {
        str(p.relative_to(folder)): _untimed(p.read_bytes(), p.name)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".pt"
    }


def _uninterrupted(tmp: Path, run: Callable[[Path], None]) -> Path:
    """Run `run` in ``tmp/run`` (where the killed run goes next) and move its results to
    ``tmp/whole``, so both runs write the same paths into their files."""
    place = tmp / "run"
    place.mkdir()
    run(place)
    whole = tmp / "whole"
    place.rename(whole)
    from varinterp.io import atomic

    atomic._CLEANED.clear()  # the rerun is a new process in real use: it cleans again
    return whole


def _ok(args: list[str]) -> None:
    result = run_cli([str(a) for a in args])
    assert result.exit_code == 0, result.stderr


def test_score_resumes_after_kill(inputs, tmp_path):
    def args(out: Path) -> list:
        return ["score", "--variants", inputs["score_vcf"], "--model", inputs["clipnet"],
                "--fasta", inputs["fasta"], "--out", out, "--device", "cpu", "--no-rc",
                "--chunk-size", "8", "-q"]  # fmt: skip

    whole = _uninterrupted(tmp_path, lambda d: _ok(args(d / "effects.tsv")))
    out = tmp_path / "run" / "effects.tsv"
    out.parent.mkdir()
    _killed(tmp_path, "varinterp.effects._work:WorkDir.write_part", 2, args(out))
    parts = out.parent / ".effects.tsv.parts"
    finished = sorted(p.name for p in parts.glob("part_*.tsv"))
    assert finished == ["part_000000.tsv", "part_000001.tsv"]
    assert not out.exists()
    _ok(args(out))
    assert out.read_bytes() == (whole / "effects.tsv").read_bytes()
    assert tree(out.parent) == tree(whole)  # the work folder is gone
    assert _files(out.parent) == _files(whole)


def test_train_clipnet_resumes_after_kill(inputs, tmp_path):
    def args(out: Path) -> list:
        return ["train", "clipnet", "--config", inputs["run_toml"], "--out", out,
                "--folds", "1", "-q"]  # fmt: skip

    first = _uninterrupted(tmp_path, lambda d: _ok(args(d / "m")))
    out = tmp_path / "run" / "m"
    out.parent.mkdir()
    # frozen after the checkpoint of the first epoch is written
    _killed(tmp_path, "varinterp.training.engine:_save", 1, args(out))
    assert (out / ".train" / "fold_1.state.pt").is_file()
    assert not (out / "config.json").exists()
    _ok(args(out))
    whole = _files(first / "m")
    assert _files(out) == whole
    assert (out / "fold_1.safetensors").read_bytes() == whole["fold_1.safetensors"]


def test_deconvolve_train_resumes_after_kill(inputs, tmp_path):
    def args(out: Path) -> list:
        return ["deconvolve", "train", "--data", inputs["data_h5"], "--out", out,
                "--filters", "4", "--gru-layers", "1", "--epochs", "2", "--batch-size", "8",
                "--patience", "2", "--max-retry", "0", "--device", "cpu", "-q"]  # fmt: skip

    whole = _uninterrupted(tmp_path, lambda d: _ok(args(d / "m")))
    out = tmp_path / "run" / "m"
    out.parent.mkdir()
    _killed(tmp_path, "varinterp.training.engine:_save", 1, args(out))
    assert (out / "checkpoint.pt").is_file()
    assert not (out / "model").exists()
    _ok(args(out))
    assert _files(out) == _files(whole / "m")


@pytest.mark.parametrize(
    ("command", "target", "product"),
    [
        ("genome build", "varinterp.genome.build:_write_reference", "c.vgs"),
        ("simulate world", "varinterp.simulate.writers:_write_fasta", "w"),
    ],
)
def test_folder_build_resumes_after_kill(command, target, product, inputs, tmp_path):
    """A killed folder-building command leaves only its ``.NAME.*.tmp`` folder, which the
    next run removes before it builds the same folder."""
    from tests.reliability._commands import VALID
    from tests.reliability._sweep import format_args

    def args(out: Path) -> list[str]:
        return [*command.split(), *format_args(VALID[command], inputs, out)]

    whole = _uninterrupted(tmp_path, lambda d: _ok(args(d)))
    out = tmp_path / "run"
    out.mkdir()
    _killed(tmp_path, target, 1, args(out))
    left = [p.name for p in out.iterdir()]
    assert len(left) == 1 and left[0].startswith(f".{product}.") and left[0].endswith(".tmp")
    _ok(args(out))
    assert tree(out) == tree(whole)
    assert _files(out) == _files(whole)
