"""The model zoo: every entry well formed, and a published model fetched end to end.

The end-to-end tests serve a small CLIPNET Keras file written by TensorFlow (the
``clipnet_keras_small`` fixture of the CLIPNET tests) from a local HTTP server on
127.0.0.1, described by a manifest in a temporary ``$VARINTERP_MANIFESTS`` folder with a
Zenodo-style record that publishes its md5.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import typer
from typer.testing import CliRunner

from tests.manifests.conftest import LocalServer
from varinterp.cli import models as models_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.errors import InputError
from varinterp.manifests import ChecksumMismatch, load_manifests
from varinterp.models.clipnet.keras import import_clipnet_keras
from varinterp.models.zoo import (
    IMPORTERS,
    default_zoo_dir,
    fetch_zoo_model,
    list_zoo,
    read_zoo_entry,
)
from varinterp.training.modeldir import load_model_dir, read_model_dir

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "models"
MANIFESTS = REPO / "data_manifests"
ENTRIES = sorted(p for p in ZOO.iterdir() if p.is_dir() and not p.name.startswith("."))


def _keras_fixture() -> Path:
    for folder in ("tests/models/clipnet/data", "tests/nets/data"):
        path = REPO / folder / "clipnet_keras_small"
        if (path / "fold_1.h5").is_file():
            return path
    pytest.fail("the clipnet_keras_small fixture is missing")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VARINTERP_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("VARINTERP_MANIFESTS", raising=False)
    monkeypatch.delenv("VARINTERP_ZOO", raising=False)


@pytest.fixture
def server():
    srv = LocalServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join(timeout=5)


# --- the repository's zoo ------------------------------------------------------------


@pytest.mark.parametrize("folder", ENTRIES, ids=[p.name for p in ENTRIES])
def test_every_zoo_entry_is_well_formed(folder):
    card = folder / "README.md"
    assert card.is_file(), f"{folder.name} has no README.md model card"
    assert card.read_text(encoding="utf-8").startswith("# ")
    entry = read_zoo_entry(folder)
    if entry.shipped:
        model = read_model_dir(folder)
        for member in model.members:
            assert (folder / f"{member}.safetensors").is_file(), member
        assert not (folder / "zoo.toml").exists()
        return
    datasets = load_manifests(MANIFESTS)
    assert entry.dataset in datasets, f"{folder.name}: no manifest dataset {entry.dataset}"
    names = {f.name for f in datasets[entry.dataset].files}
    assert set(entry.files) <= names, sorted(set(entry.files) - names)
    assert entry.importer in IMPORTERS


def test_the_published_entries_point_at_the_published_clipnet_weights():
    entries = {e.name: e for e in list_zoo(ZOO, manifest_dir=MANIFESTS)}
    assert {"clipnet-lcl", "clipnet-k562"} <= set(entries)
    weights = load_manifests(MANIFESTS)["clipnet-weights"]
    for name, prefix, record in (
        ("clipnet-lcl", "lcl", 10408623),
        ("clipnet-k562", "k562", 11196189),
    ):
        entry = entries[name]
        assert not entry.shipped and entry.importer == "clipnet-keras"
        assert entry.files == tuple(f"{prefix}/fold_{i}.h5" for i in range(1, 10))
        assert entry.n_cached == 0
        for f in entry.files:
            assert f"zenodo.org/records/{record}/" in weights.file(f).urls[0]
        card = (entry.path / "README.md").read_text(encoding="utf-8")
        for section in ("## Source", "## Training data", "## Folds", "## Licence", "## Citation"):
            assert section in card, (name, section)
        assert str(record) in card


def test_the_installed_zoo_is_the_repository_models_folder(monkeypatch, tmp_path):
    assert default_zoo_dir() == ZOO.resolve()
    assert [e.name for e in list_zoo()] == [p.name for p in ENTRIES]
    monkeypatch.setenv("VARINTERP_ZOO", str(tmp_path))
    assert default_zoo_dir() == tmp_path


# --- a toy published model, served locally --------------------------------------------

_CARD = """# Toy CLIPNET (two folds of the test fixture)

Served by the test server.

## Licence

CC0, for tests.

```bash
# a comment inside a code block stays as it is
```
"""


def _publish(server: LocalServer, tmp_path: Path, *, corrupt: bool = False) -> tuple[Path, Path]:
    """Serve two fold files and their Zenodo record; write the manifest and the zoo."""
    data = (_keras_fixture() / "fold_1.h5").read_bytes()
    files = []
    for fold in (1, 2):
        server.files[f"fold_{fold}.h5"] = data
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        files.append({"key": f"fold_{fold}.h5", "checksum": f"md5:{md5}", "size": len(data)})
    if corrupt:
        server.files["fold_2.h5"] = data[:-1] + bytes([data[-1] ^ 1])
    server.raw["record"] = json.dumps({"files": files}).encode()
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "toy_weights.toml").write_text(
        f"""
format = 1
name = "toy-weights"
title = "Toy CLIPNET weights"
description = "Served by the test server."
licence = "CC0"
homepage = "{server.url}/"
feeds = ["the model zoo test"]

[[files]]
name = "lcl/fold_{{fold}}.h5"
urls = ["{server.url}/files/fold_{{fold}}.h5"]
size = "unknown"
md5 = ""
checksum = "published"
md5_source = {{ kind = "zenodo", url = "{server.url}/raw/record", key = "fold_{{fold}}.h5" }}
expand = {{ fold = ["1", "2"] }}
""",
        encoding="utf-8",
    )
    zoo = tmp_path / "zoo"
    entry = zoo / "toy-clipnet"
    entry.mkdir(parents=True)
    (entry / "README.md").write_text(_CARD, encoding="utf-8")
    (entry / "zoo.toml").write_text(
        'format = 1\ndataset = "toy-weights"\nfiles = ["lcl/fold_1.h5", "lcl/fold_2.h5"]\n'
        'importer = "clipnet-keras"\n',
        encoding="utf-8",
    )
    return manifests, zoo


def _downloads(server: LocalServer) -> list[str]:
    return [path for path, _ in server.log if path.startswith("/files/")]


def test_fetch_downloads_checks_and_imports(server, tmp_path, monkeypatch):
    manifests, zoo = _publish(server, tmp_path)
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(manifests))
    calls = []
    out = tmp_path / "models" / "toy"
    result = fetch_zoo_model(
        "toy-clipnet", out=out, root=zoo, on_progress=lambda d, t: calls.append((d, t))
    )
    assert result.members == ("fold_1", "fold_2")
    assert (result.n_downloaded, result.n_cached) == (2, 0)
    size = len(server.files["fold_1.h5"])
    assert result.downloaded_bytes == 2 * size
    assert sorted(_downloads(server)) == ["/files/fold_1.h5", "/files/fold_2.h5"]
    assert (size, size) in calls and calls[-1] == (2, 2)

    # the model directory holds what a direct import of the same files gives
    direct = tmp_path / "direct"
    import_clipnet_keras([_keras_fixture() / "fold_1.h5"], out=direct)
    model, members = load_model_dir(out, architecture="clipnet")
    assert model.members == ["fold_1", "fold_2"]
    _, reference = load_model_dir(direct, architecture="clipnet")
    expected = reference["fold_1"].state_dict()
    for member in members.values():
        for key, value in member.state_dict().items():
            assert torch.equal(value, expected[key]), key

    # ... and reproduces Keras' own outputs of the fixture
    ref = np.load(_keras_fixture() / "reference.npz")
    with torch.no_grad():
        profile, quantity = members["fold_2"](torch.from_numpy(ref["x"]).permute(0, 2, 1))
    np.testing.assert_allclose(profile.numpy(), ref["profile"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(quantity.numpy(), ref["quantity"], rtol=1e-3, atol=1e-4)

    # the card: the import card, then the zoo card with its headings one level down
    card = (out / "README.md").read_text(encoding="utf-8")
    assert card.startswith("# ") and "fold_1.h5" in card
    assert "## Model zoo entry `toy-clipnet`" in card
    assert "\n## Toy CLIPNET (two folds" in card and "\n### Licence" in card
    assert "\n# a comment inside a code block stays as it is" in card

    # the cache says so, and a second fetch downloads nothing
    (entry,) = list_zoo(zoo)
    assert entry.n_cached == 2
    again = fetch_zoo_model("toy-clipnet", out=tmp_path / "again", root=zoo)
    assert (again.n_downloaded, again.n_cached) == (0, 2)
    assert len(_downloads(server)) == 2

    # an existing output is refused before anything is fetched; --overwrite replaces it
    with pytest.raises(InputError, match="already exists"):
        fetch_zoo_model("toy-clipnet", out=out, root=zoo)
    fetch_zoo_model("toy-clipnet", out=out, root=zoo, overwrite=True)
    assert read_model_dir(out).members == ["fold_1", "fold_2"]


def test_a_corrupted_download_never_becomes_a_model(server, tmp_path, monkeypatch):
    manifests, zoo = _publish(server, tmp_path, corrupt=True)
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(manifests))
    out = tmp_path / "toy"
    with pytest.raises(ChecksumMismatch):
        fetch_zoo_model("toy-clipnet", out=out, root=zoo)
    assert not out.exists()
    assert not (tmp_path / "cache" / "toy-weights" / "lcl" / "fold_2.h5").exists()


def test_a_shipped_entry_is_copied(server, tmp_path, monkeypatch):
    manifests, zoo = _publish(server, tmp_path)
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(manifests))
    shipped = zoo / "toy-shipped"
    import_clipnet_keras([_keras_fixture() / "fold_1.h5"], out=shipped)
    entries = {e.name: e for e in list_zoo(zoo)}
    assert entries["toy-shipped"].shipped and entries["toy-shipped"].n_cached is None
    assert entries["toy-shipped"].title.startswith("CLIPNET")
    result = fetch_zoo_model("toy-shipped", out=tmp_path / "copy", root=zoo)
    assert result.members == ("fold_1",) and result.n_downloaded == 0
    for name in ("config.json", "fold_1.safetensors", "README.md"):
        assert (tmp_path / "copy" / name).read_bytes() == (shipped / name).read_bytes()
    assert _downloads(server) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: (e / "README.md").unlink(), "no README.md model card"),
        (lambda e: (e / "README.md").write_text("no title\n"), "has no '# title' line"),
        (lambda e: (e / "zoo.toml").unlink(), "neither config.json nor zoo.toml"),
        (lambda e: (e / "config.json").write_text("{}"), "both config.json and zoo.toml"),
        (lambda e: _edit(e, "format = 1", "format = 1\nextra = 1"), "unknown key"),
        (lambda e: _edit(e, 'importer = "clipnet-keras"', 'importer = "onnx"'), "not one of"),
        (lambda e: _edit(e, '"toy-weights"', '"nowhere"'), "no data manifest describes"),
        (lambda e: _edit(e, '"lcl/fold_2.h5"', '"lcl/fold_3.h5"'), "lcl/fold_3.h5 that dataset"),
        (lambda e: _edit(e, "format = 1", "format = 2"), "upgrade varinterp"),
        (lambda e: _edit(e, "format = 1", "format = ["), "not valid TOML"),
    ],
)
def test_a_malformed_entry_is_one_clear_error(server, tmp_path, monkeypatch, change, message):
    manifests, zoo = _publish(server, tmp_path)
    monkeypatch.setenv("VARINTERP_MANIFESTS", str(manifests))
    change(zoo / "toy-clipnet")
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        list_zoo(zoo)


def _edit(entry: Path, old: str, new: str) -> None:
    path = entry / "zoo.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_unknown_model_and_missing_zoo(tmp_path):
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    with pytest.raises(InputError, match="no model 'nope' in the zoo; known models: none"):
        fetch_zoo_model("nope", out=tmp_path / "out", root=zoo)
    with pytest.raises(InputError, match="does not exist; set VARINTERP_ZOO or pass --zoo"):
        list_zoo(tmp_path / "missing")


# --- the CLI ---------------------------------------------------------------------------


def _run(*args: str, env: dict[str, str] | None = None):
    root = typer.Typer(cls=ErrorHandlingGroup)

    @root.callback()
    def _cb() -> None:
        pass

    root.add_typer(models_cli.app, name="models")
    return CliRunner().invoke(root, ["models", *args], env={"COLUMNS": "200", **(env or {})})


def test_cli_list_and_fetch(server, tmp_path):
    manifests, zoo = _publish(server, tmp_path)
    shutil.copytree(ZOO / "clipnet-lcl", zoo / "clipnet-lcl")  # its dataset is not in `manifests`
    listed = _run("list", "--zoo", str(zoo), "--manifests", str(manifests))
    assert listed.exit_code == 2
    assert "clipnet-weights" in listed.output and "no data manifest describes" in listed.output
    shutil.rmtree(zoo / "clipnet-lcl")

    env = {"VARINTERP_MANIFESTS": str(manifests)}
    listed = _run("list", "--zoo", str(zoo), "--verbose", env=env)
    assert listed.exit_code == 0, listed.output
    assert "toy-clipnet" in listed.output and "Toy CLIPNET (two folds" in listed.output
    assert "fetched: 2 file(s) of dataset toy-weights" in listed.output
    assert "cached: 0" in listed.output and "lcl/fold_1.h5, lcl/fold_2.h5" in listed.output
    assert "1 models (0 shipped, 1 fetched)" in listed.output

    out = tmp_path / "toy"
    fetched = _run("fetch", "toy-clipnet", "--out", str(out), "--zoo", str(zoo), env=env)
    assert fetched.exit_code == 0, fetched.output
    assert "2 member(s): fold_1, fold_2" in fetched.output
    assert "2 file(s) downloaded" in fetched.output and "0 already cached" in fetched.output
    assert read_model_dir(out).members == ["fold_1", "fold_2"]
    listed = _run("list", "--zoo", str(zoo), env=env)
    assert "cached: 2" in listed.output

    again = _run("fetch", "toy-clipnet", "--out", str(out), "--zoo", str(zoo), env=env)
    assert again.exit_code == 2 and "already exists" in again.output
    assert len(again.output.strip().splitlines()) == 1
    unknown = _run("fetch", "nope", "--out", str(tmp_path / "x"), "--zoo", str(zoo), env=env)
    assert unknown.exit_code == 2
    assert "no model 'nope' in the zoo; known models: toy-clipnet" in unknown.output
    assert not (tmp_path / "x").exists()


def test_cli_lists_the_repository_zoo():
    listed = _run("list")
    assert listed.exit_code == 0, listed.output
    for entry in ENTRIES:
        assert entry.name in listed.output
    assert "fetched: 9 file(s) of dataset clipnet-weights" in listed.output
