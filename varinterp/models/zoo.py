"""The model zoo: named models, shipped with varinterp or fetched from their publishers.

The zoo is a folder (``models/`` at the top of the repository, also carried in the wheel)
with one folder per model. Each holds a ``README.md`` model card and either

- a model directory (``config.json`` + ``*.safetensors``, `varinterp.training.modeldir`):
  a *shipped* model, ready to use in place; or
- a ``zoo.toml`` pointer to *published* weights: which data-manifest dataset holds them,
  which of its files, and which importer turns them into a model directory::

      format = 1
      dataset = "clipnet-weights"      # a dataset of data_manifests/
      files = ["lcl/fold_1.h5", ...]   # exact file names of that dataset
      importer = "clipnet-keras"       # one of IMPORTERS

`fetch_zoo_model` downloads the pointed files into the data cache through
`varinterp.manifests` (the only network code; sizes and checksums verified there) and
imports them into a model directory whose card carries the zoo card. The zoo folder is
``$VARINTERP_ZOO`` when set, else the one installed with the package.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from varinterp.errors import InputError
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.manifests import Dataset, fetch, load_manifests
from varinterp.manifests.store import file_state
from varinterp.progress import ProgressCallback

__all__ = [
    "IMPORTERS",
    "POINTER_NAME",
    "ZOO_FORMAT",
    "FetchedModel",
    "ZooEntry",
    "default_zoo_dir",
    "fetch_zoo_model",
    "list_zoo",
    "read_zoo_entry",
]

ZOO_FORMAT = 1
POINTER_NAME = "zoo.toml"
_CARD = "README.md"
_POINTER_KEYS = {"format", "dataset", "files", "importer"}

#: importer name -> (what it reads, the command that does the same by hand).
IMPORTERS: dict[str, tuple[str, str]] = {
    "clipnet-keras": ("CLIPNET Keras fold_*.h5 files", "varinterp models import-clipnet"),
}


@dataclass(frozen=True)
class ZooEntry:
    """One model of the zoo.

    `shipped` entries are model directories in the zoo folder; the others point at
    `files` of manifest `dataset`, imported with `importer`. `n_cached` counts how many
    of those files are in the data cache (None for shipped entries).
    """

    name: str
    path: Path
    title: str
    shipped: bool
    dataset: str | None = None
    files: tuple[str, ...] = ()
    importer: str | None = None
    n_cached: int | None = None


@dataclass(frozen=True)
class FetchedModel:
    """What `fetch_zoo_model` wrote: the model directory `out` and its members."""

    name: str
    out: Path
    members: tuple[str, ...]
    n_downloaded: int
    n_cached: int
    downloaded_bytes: int


def default_zoo_dir() -> Path:
    """``$VARINTERP_ZOO`` when set, else the zoo installed with the package.

    The installed zoo is package data of `varinterp.manifests` (``zoo``, in a checkout a
    link to the top-level ``models/`` folder, which is the path returned).
    """
    env = os.environ.get("VARINTERP_ZOO")
    if env:
        return Path(env)
    shipped = resources.files("varinterp.manifests").joinpath("zoo")
    if isinstance(shipped, Path):
        return shipped.resolve()
    return (Path(__file__).resolve().parents[1] / "manifests" / "zoo").resolve()


def _card_title(card: Path) -> str:
    for line in card.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    msg = f"model card {card} has no '# title' line; start it with '# <what the model is>'"
    raise InputError(msg)


def _read_pointer(path: Path) -> tuple[str, tuple[str, ...], str]:
    where = f"zoo pointer {path}"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        msg = f"{where} is not valid TOML: {exc}"
        raise InputError(msg) from None
    unknown = sorted(set(raw) - _POINTER_KEYS)
    missing = sorted(_POINTER_KEYS - set(raw))
    if unknown or missing:
        what = f"unknown key(s) {', '.join(unknown)}" if unknown else ""
        what += ("; " if what else "") + (f"missing key(s) {', '.join(missing)}" if missing else "")
        msg = f"{where}: {what}; it needs exactly {', '.join(sorted(_POINTER_KEYS))}"
        raise InputError(msg)
    if raw["format"] != ZOO_FORMAT:
        msg = f"{where}: format {raw['format']!r} is not {ZOO_FORMAT}; upgrade varinterp"
        raise InputError(msg)
    dataset, files, importer = raw["dataset"], raw["files"], raw["importer"]
    if not isinstance(dataset, str) or not dataset:
        msg = f"{where}: 'dataset' must name a dataset of the data manifests"
        raise InputError(msg)
    if not (isinstance(files, list) and files and all(isinstance(f, str) and f for f in files)):
        msg = f"{where}: 'files' must be a non-empty list of file names of dataset {dataset!r}"
        raise InputError(msg)
    if len(set(files)) != len(files):
        msg = f"{where}: 'files' names a file twice"
        raise InputError(msg)
    if importer not in IMPORTERS:
        msg = f"{where}: importer {importer!r} is not one of {', '.join(IMPORTERS)}"
        raise InputError(msg)
    return dataset, tuple(files), importer


def read_zoo_entry(folder: str | os.PathLike) -> ZooEntry:
    """Read one zoo folder: its card, and its model directory or ``zoo.toml`` pointer.

    Raises `InputError` when the card is missing, or when the folder holds neither a
    ``config.json`` nor a ``zoo.toml`` (or both).
    """
    folder = Path(folder)
    card = folder / _CARD
    if not card.is_file():
        msg = f"zoo entry {folder} has no {_CARD} model card; add one"
        raise InputError(msg)
    title = _card_title(card)
    has_dir = (folder / "config.json").is_file()
    has_pointer = (folder / POINTER_NAME).is_file()
    if has_dir == has_pointer:
        what = "both config.json and" if has_dir else "neither config.json nor"
        msg = (
            f"zoo entry {folder} has {what} {POINTER_NAME}; a zoo model is either shipped "
            f"(a model directory) or fetched (a {POINTER_NAME} pointer)"
        )
        raise InputError(msg)
    if has_dir:
        return ZooEntry(folder.name, folder, title, shipped=True)
    dataset, files, importer = _read_pointer(folder / POINTER_NAME)
    return ZooEntry(
        folder.name, folder, title, shipped=False, dataset=dataset, files=files, importer=importer
    )


def _with_cache_state(
    entry: ZooEntry, datasets: Mapping[str, Dataset], cache: str | os.PathLike | None
) -> ZooEntry:
    if entry.dataset not in datasets:
        msg = (
            f"zoo entry {entry.name} points at dataset {entry.dataset!r}, which no data "
            f"manifest describes; known datasets: {', '.join(datasets)}"
        )
        raise InputError(msg)
    ds = datasets[entry.dataset]
    known = {f.name: f for f in ds.files}
    unknown = [f for f in entry.files if f not in known]
    if unknown:
        msg = (
            f"zoo entry {entry.name} names file(s) {', '.join(unknown)} that dataset "
            f"{ds.name!r} does not list; fix {entry.path / POINTER_NAME}"
        )
        raise InputError(msg)
    states = [file_state(ds, known[f], cache) for f in entry.files]
    n_cached = sum(s.status == "present" for s in states)
    return dataclasses.replace(entry, n_cached=n_cached)


def list_zoo(
    root: str | os.PathLike | None = None,
    *,
    manifest_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
) -> list[ZooEntry]:
    """Every model of the zoo folder `root` (default `default_zoo_dir`), by name.

    Published entries are checked against the data manifests (their dataset and files
    must exist) and carry how many of their files are already in the data cache.
    """
    root = Path(root) if root is not None else default_zoo_dir()
    if not root.is_dir():
        msg = f"model zoo folder {root} does not exist; set VARINTERP_ZOO or pass --zoo"
        raise InputError(msg)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    entries = [read_zoo_entry(folder) for folder in folders]
    if all(e.shipped for e in entries):
        return entries
    datasets = load_manifests(manifest_dir)
    return [e if e.shipped else _with_cache_state(e, datasets, cache) for e in entries]


def _demoted(card: str) -> str:
    """`card` with every Markdown heading one level deeper (to sit inside another card)."""
    lines, fenced = [], False
    for line in card.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        lines.append(f"#{line}" if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def _import_clipnet_keras(
    paths: Sequence[Path],
    *,
    out: Path,
    overwrite: bool,
    on_progress: ProgressCallback | None,
    extra_card: str,
) -> tuple[str, ...]:
    from varinterp.models.clipnet.keras import import_clipnet_keras

    result = import_clipnet_keras(
        paths, out=out, overwrite=overwrite, on_progress=on_progress, extra_card=extra_card
    )
    return tuple(result.folds)


_IMPORT: dict[str, Callable[..., tuple[str, ...]]] = {"clipnet-keras": _import_clipnet_keras}


def _copy_shipped(entry: ZooEntry, out: Path, overwrite: bool) -> tuple[str, ...]:
    from varinterp.training.modeldir import read_model_dir

    model = read_model_dir(entry.path)
    files = ["config.json", _CARD] + [f"{m}.safetensors" for m in model.members]
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for name in files:
            if (entry.path / name).is_file():
                shutil.copy2(entry.path / name, tmp / name)
    return tuple(model.members)


def fetch_zoo_model(
    name: str,
    *,
    out: str | os.PathLike,
    root: str | os.PathLike | None = None,
    manifest_dir: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    overwrite: bool = False,
    on_progress: ProgressCallback | None = None,
) -> FetchedModel:
    """Put zoo model `name` into the model directory `out`.

    A published model's files are fetched into the data cache (skipped when already
    there; sizes and md5 checked by `varinterp.manifests.fetch`) and imported with the
    entry's importer; the zoo card is appended to the imported model's card. A shipped
    model is copied. `on_progress(done, total)` counts bytes of each download, then the
    imported files. `out` is written atomically; it must not exist unless `overwrite`.
    """
    check_output(out)
    entries = {e.name: e for e in list_zoo(root, manifest_dir=manifest_dir, cache=cache)}
    if name not in entries:
        msg = f"no model {name!r} in the zoo; known models: {', '.join(entries) or 'none'}"
        raise InputError(msg)
    entry, out = entries[name], Path(out)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    if entry.shipped:
        members = _copy_shipped(entry, out, overwrite)
        return FetchedModel(name, out, members, 0, 0, 0)
    report = fetch(
        names=[entry.dataset],
        files=[glob.escape(f) for f in entry.files],
        manifest_dir=manifest_dir,
        cache=cache,
        on_progress=on_progress,
    )
    by_name = {o.name: o.path for o in report.outcomes}
    card = (entry.path / _CARD).read_text(encoding="utf-8")
    extra = f"\n## Model zoo entry `{name}`\n\n{_demoted(card).strip()}\n"
    members = _IMPORT[entry.importer](
        [by_name[f] for f in entry.files],
        out=out,
        overwrite=overwrite,
        on_progress=on_progress,
        extra_card=extra,
    )
    return FetchedModel(
        name,
        out,
        members,
        n_downloaded=sum(o.action == "downloaded" for o in report.outcomes),
        n_cached=sum(o.action == "cached" for o in report.outcomes),
        downloaded_bytes=report.downloaded_bytes,
    )
