"""Where the shipped manifests live, and the public names of the split modules."""

from __future__ import annotations

import importlib
from importlib import resources
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from varinterp.cli import data as data_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.manifests import schema
from varinterp.manifests.schema import default_manifest_dir, load_manifests

SHIPPED = Path(__file__).resolve().parents[2] / "varinterp" / "manifests" / "data"

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
    assert folder == Path(str(resources.files("varinterp.manifests") / "data"))
    assert folder.resolve() == SHIPPED.resolve()
    assert len(load_manifests()) == len(list(SHIPPED.glob("*.toml"))) == 10
    assert load_manifests() == load_manifests(SHIPPED)


def test_environment_variable_overrides_the_shipped_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(tmp_path))
    assert default_manifest_dir() == tmp_path


def test_fallback_when_resources_are_not_a_plain_folder(monkeypatch):
    class NotAFolder:
        def joinpath(self, *parts):
            return self

    monkeypatch.setattr(schema.resources, "files", lambda package: NotAFolder())
    assert default_manifest_dir() == Path(schema.__file__).resolve().parent / "data"


def test_data_list_uses_the_shipped_manifests_by_default():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.add_typer(data_cli.app, name="data")
    result = CliRunner().invoke(root, ["data", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for ds in load_manifests(SHIPPED):
        assert ds in result.output
