"""Where the shipped manifests live, and the public names of the split modules.

``data_manifests/`` at the top of the repository is the one copy of the manifests;
``varinterp/manifests/data`` is a symbolic link to it, which the package reads from a
checkout and which setuptools follows when it builds the wheel.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli import data as data_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.manifests import schema
from varinterp.manifests.schema import default_manifest_dir, load_manifests

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "data_manifests"
LINKS = {
    REPO / "varinterp" / "manifests" / "data": "../../data_manifests",
    REPO / "varinterp" / "manifests" / "zoo": "../../models",
}

# Every public name each module offered before it was split; they must stay importable.
OLD_NAMES = {
    "varinterp.manifests.schema": [
        "CHECKSUM_POLICIES",
        "FORMAT_VERSION",
        "MD5_SOURCE_KINDS",
        "UNPACK_KINDS",
        "Dataset",
        "FileEntry",
        "Md5Source",
        "SampleTable",
        "default_manifest_dir",
        "load_manifest",
        "load_manifests",
    ],
    "varinterp.manifests.api": [
        "DatasetSummary",
        "FetchReport",
        "FileOutcome",
        "VerifyReport",
        "fetch",
        "list_datasets",
        "path",
        "verify",
    ],
}
HOMES = {
    "Dataset": "varinterp.manifests.dataset",
    "FileEntry": "varinterp.manifests.dataset",
    "Md5Source": "varinterp.manifests.dataset",
    "SampleTable": "varinterp.manifests.dataset",
    "fetch": "varinterp.manifests.fetching",
    "verify": "varinterp.manifests.verifying",
    "list_datasets": "varinterp.manifests.catalogue",
    "path": "varinterp.manifests.catalogue",
    "FileOutcome": "varinterp.manifests.outcomes",
}


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_old_module_still_exports_every_public_name(module):
    mod = importlib.import_module(module)
    assert sorted(mod.__all__) == sorted(OLD_NAMES[module])
    for name in OLD_NAMES[module]:
        assert hasattr(mod, name), f"{module}.{name}"


def test_reexports_are_the_objects_of_their_new_homes():
    for name, home in HOMES.items():
        new = getattr(importlib.import_module(home), name)
        old = next(
            getattr(importlib.import_module(m), name) for m in OLD_NAMES if name in OLD_NAMES[m]
        )
        assert old is new, name
    package = importlib.import_module("varinterp.manifests")
    for name in package.__all__:
        assert getattr(package, name) is not None
    assert callable(package.fetch) and package.fetch.__module__ == "varinterp.manifests.fetching"


def test_shipped_manifests_are_package_data_found_without_settings():
    folder = default_manifest_dir()
    assert folder == Path(str(resources.files("varinterp.manifests") / "data")).resolve()
    assert folder == SHIPPED.resolve()
    assert len(load_manifests()) == len(list(SHIPPED.glob("*.toml"))) == 11
    assert load_manifests() == load_manifests(SHIPPED)


def test_environment_variable_overrides_the_shipped_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(tmp_path))
    assert default_manifest_dir() == tmp_path


def test_fallback_when_resources_are_not_a_plain_folder(monkeypatch):
    class NotAFolder:
        def joinpath(self, *parts):
            return self

    monkeypatch.setattr(schema.resources, "files", lambda package: NotAFolder())
    assert default_manifest_dir() == (Path(schema.__file__).resolve().parent / "data").resolve()


def test_data_list_uses_the_shipped_manifests_by_default():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(data_cli.app, name="data")
    result = CliRunner().invoke(root, ["data", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for ds in load_manifests(SHIPPED):
        assert ds in result.output


def test_data_manifests_is_the_one_copy_and_the_package_links_to_it():
    for link, target in LINKS.items():
        assert link.is_symlink(), f"{link} must be a symbolic link to {target}"
        assert link.readlink().as_posix() == target
    names = {p.name for p in SHIPPED.glob("*.toml")}
    assert len(names) == 11
    skip = {".git", ".venv", "build", "dist"}
    copies = []
    for dirpath, dirnames, files in os.walk(REPO):  # does not follow the links
        dirnames[:] = [d for d in dirnames if d not in skip]
        copies += [Path(dirpath) / f for f in files if f in names and Path(dirpath) != SHIPPED]
    assert copies == [], f"second copies of manifests: {copies}"


def _git_entry(git: str, repo: Path, rel: str) -> tuple[str, str] | None:
    """(mode, stored text) of path `rel` in the git index of `repo`, None when absent."""
    listing = subprocess.run(
        [git, "ls-files", "-s", "--", rel], cwd=repo, capture_output=True, text=True
    ).stdout.splitlines()
    entries = [line.split("\t", 1)[0].split() for line in listing if line.endswith(f"\t{rel}")]
    if not entries:
        return None
    mode, blob = entries[0][0], entries[0][1]
    text = subprocess.run(
        [git, "cat-file", "-p", blob], cwd=repo, capture_output=True, text=True
    ).stdout
    return mode, text


def test_git_stores_the_links_as_links(tmp_path):
    """In the checkout's index once committed; until then, in a scratch repository."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    scratch = tmp_path / "repo"
    scratch.mkdir()
    subprocess.run([git, "init", "-q", "."], cwd=scratch, check=True)
    for link in LINKS:
        rel = link.relative_to(REPO)
        (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
        (scratch / rel).symlink_to(link.readlink())
        subprocess.run([git, "add", "--", rel.as_posix()], cwd=scratch, check=True)
    for link, target in LINKS.items():
        rel = link.relative_to(REPO).as_posix()
        assert _git_entry(git, scratch, rel) == ("120000", target)
        if (REPO / ".git").exists() and (entry := _git_entry(git, REPO, rel)) is not None:
            assert entry == ("120000", target), f"{rel} is not stored as a symbolic link"


def _copy_for_build(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("varinterp", "data_manifests", "models"):
        shutil.copytree(REPO / name, dest / name, symlinks=True, ignore=ignore)
    return dest


def test_built_wheel_carries_the_manifests_and_the_zoo(tmp_path):
    pytest.importorskip("setuptools")
    src = _copy_for_build(tmp_path / "src")  # keep build/ and *.egg-info out of the checkout
    wheels = tmp_path / "wheels"
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    cmd += ["--no-index", "-q", "-w", str(wheels), "."]
    done = subprocess.run(cmd, cwd=src, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = wheels.glob("varinterp-*.whl")
    listing = set(zipfile.ZipFile(wheel).namelist())
    for toml in SHIPPED.glob("*.toml"):
        assert f"varinterp/manifests/data/{toml.name}" in listing, toml.name
    for entry in (REPO / "models").iterdir():
        for f in entry.iterdir() if entry.is_dir() else []:
            assert f"varinterp/manifests/zoo/{entry.name}/{f.name}" in listing, f

    # installed from the wheel (no checkout around), the package finds them at run time
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    probe = (
        "import varinterp; from varinterp.manifests.schema import default_manifest_dir, "
        "load_manifests; from varinterp.models.zoo import default_zoo_dir, list_zoo; "
        "print(varinterp.__file__); print(default_manifest_dir()); print(len(load_manifests())); "
        "print(default_zoo_dir()); print(' '.join(e.name for e in list_zoo()))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VARINTERP_")}
    env["PYTHONPATH"] = str(site)
    run = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr[-3000:]
    module, manifests, n, zoo, names = run.stdout.splitlines()
    assert Path(module).resolve().is_relative_to(site.resolve())
    assert Path(manifests) == (site / "varinterp" / "manifests" / "data").resolve()
    assert int(n) == len(list(SHIPPED.glob("*.toml")))
    assert Path(zoo) == (site / "varinterp" / "manifests" / "zoo").resolve()
    assert names.split() == sorted(p.name for p in (REPO / "models").iterdir() if p.is_dir())
