"""Data manifests: finding and reading the ``*.toml`` manifests (public entry point).

One TOML file describes one dataset family (the hg38 reference, the 1000 Genomes VCFs,
the CLIPNET weights...): where each file comes from, how big it is, how it is checked,
its licence and which varinterp command and option it feeds. The format is documented
in ``docs/data.md``; this module is its single reader. Every key is checked: an unknown
key, a missing field or a value of the wrong kind is an `InputError` naming the file,
the entry and the key.

Expansion: a ``[[files]]`` entry may carry ``expand = {chrom = ["1", "2"]}``; it then
stands for one file per value, with ``{chrom}`` replaced in ``name``, ``urls`` and
``md5_source.url``.

The shipped manifests live in ``data_manifests/*.toml`` at the top of the repository;
``varinterp/manifests/data`` is a symbolic link to that folder, so the package finds them
as package data both from a source checkout (editable install) and from a built wheel,
which carries copies of the files. The dataclasses live in `varinterp.manifests.dataset`
and the key-by-key checks in `varinterp.manifests.parse`; every public name stays
importable from here.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from varinterp.errors import InputError
from varinterp.manifests.dataset import (
    CHECKSUM_POLICIES,
    FORMAT_VERSION,
    MD5_SOURCE_KINDS,
    UNPACK_KINDS,
    Dataset,
    FileEntry,
    Md5Source,
    SampleTable,
)
from varinterp.manifests.parse import parse_dataset

__all__ = [
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
]

_PACKAGE_DATA = "data"


def load_manifest(path: str | os.PathLike) -> Dataset:
    """Read and validate one manifest file; raise `InputError` naming any problem."""
    path = Path(path)
    where = f"manifest {path}"
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        msg = f"{where} does not exist"
        raise InputError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{where} is not valid TOML: {exc}"
        raise InputError(msg) from None
    return parse_dataset(raw, path=path, where=where)


def default_manifest_dir() -> Path:
    """``VARINTERP_MANIFESTS`` when set, else the manifests shipped in the package.

    The shipped folder is found with `importlib.resources`; when the package is loaded
    from somewhere that is not a plain folder (a zip, say), the folder beside this module
    is the fallback. The path is resolved, so in a checkout it names ``data_manifests/``
    (where the files are edited) rather than the link to it.
    """
    env = os.environ.get("VARINTERP_MANIFESTS")
    if env:
        return Path(env)
    packaged = resources.files(__package__).joinpath(_PACKAGE_DATA)
    if isinstance(packaged, Path):
        return packaged.resolve()
    return (Path(__file__).resolve().parent / _PACKAGE_DATA).resolve()


def load_manifests(manifest_dir: str | os.PathLike | None = None) -> dict[str, Dataset]:
    """Every ``*.toml`` manifest in `manifest_dir`, by dataset name (sorted)."""
    folder = Path(manifest_dir) if manifest_dir is not None else default_manifest_dir()
    if not folder.is_dir():
        msg = (
            f"manifest folder {folder} does not exist; set VARINTERP_MANIFESTS or pass --manifests"
        )
        raise InputError(msg)
    datasets: dict[str, Dataset] = {}
    for path in sorted(folder.glob("*.toml")):
        ds = load_manifest(path)
        if ds.name in datasets:
            msg = f"dataset name {ds.name!r} is used by both {datasets[ds.name].path} and {path}"
            raise InputError(msg)
        datasets[ds.name] = ds
    if not datasets:
        msg = f"no *.toml manifests in {folder}"
        raise InputError(msg)
    return dict(sorted(datasets.items()))
