"""Set-up that survives 2027 and clusters: the licence is an SPDX string, and the system
tools are installed only when missing, with apt-get only as root (else a conda hint)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "install-missing.sh"


def test_project_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    build = project["build-system"]["requires"]
    assert any(r.startswith("setuptools>=") and int(r.split(">=")[1]) >= 77 for r in build)


def test_make_test_installs_the_susier_oracle():
    text = (ROOT / "Makefile").read_text()
    assert "R=susieR:r-cran-susier" in text
    assert "test: $(STAMP) test-deps" in text


def _stub_apt(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "apt.log"
    apt = tmp_path / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    apt.chmod(0o755)
    return apt, log


def _run(tmp_path, *pairs, path: str, user: list[str] | None = None):
    apt, log = _stub_apt(tmp_path)
    env = {"PATH": path, "APT_GET": str(apt), "HOME": str(tmp_path)}
    cmd = [*(user or []), "/bin/sh", str(SCRIPT), *pairs]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False), log


def test_tools_on_path_are_used_as_they_are(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bedtools", "bcftools", "tabix"):
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    res, log = _run(
        tmp_path, "bedtools:bedtools", "bcftools:bcftools", "tabix:tabix",
        path=f"{bin_dir}:/usr/bin:/bin",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert not log.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the apt branch runs as root")
def test_a_missing_tool_is_installed_alone_as_root(tmp_path):
    res, log = _run(
        tmp_path, "sh:dash", "no-such-tool-xyz:pkg-xyz", path="/usr/bin:/bin"
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "installing Debian packages: pkg-xyz" in res.stdout
    calls = log.read_text().splitlines()
    assert calls[0] == "update -qq"
    assert calls[1].endswith("install -y -qq --no-install-recommends pkg-xyz")


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to nobody"
)
def test_without_root_it_says_how_to_get_them_and_goes_on(tmp_path):
    tmp_path.chmod(0o777)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    res, log = _run(tmp_path, "no-such-tool-xyz:pkg-xyz", path="/usr/bin:/bin", user=nobody)
    assert res.returncode == 0, res.stderr
    assert "not installing (no root): pkg-xyz" in res.stdout
    assert "conda install" in res.stdout
    assert not log.exists()
