"""What a data manifest describes, as frozen dataclasses, and the values its keys may take.

`Dataset` is one manifest file (one dataset family); `FileEntry` one of its files after
``expand``; `Md5Source` where the source publishes a file's md5; `SampleTable` a small
table shipped inside the manifest. `varinterp.manifests.parse` builds them from TOML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from varinterp.errors import InputError

__all__ = [
    "CHECKSUM_POLICIES",
    "FORMAT_VERSION",
    "MD5_SOURCE_KINDS",
    "UNPACK_KINDS",
    "Dataset",
    "FileEntry",
    "Md5Source",
    "SampleTable",
]

FORMAT_VERSION = 1
CHECKSUM_POLICIES = ("md5", "published", "record-on-first-download")
MD5_SOURCE_KINDS = ("encode", "zenodo", "list")
UNPACK_KINDS = ("none", "gunzip", "tar", "zip")


@dataclass(frozen=True)
class Md5Source:
    """Where the source publishes the md5 of a file, looked up at fetch time.

    ``kind``: ``encode`` (the ENCODE file's JSON, field ``md5sum``), ``zenodo`` (the
    Zenodo record's JSON, ``files[].checksum``) or ``list`` (a text list with one file
    per line, an md5 and the file name, like ``md5sum`` output or the 1000 Genomes
    ``MANIFEST.txt``). ``key``: the file name to look for (zenodo and list).
    """

    kind: str
    url: str
    key: str


@dataclass(frozen=True)
class FileEntry:
    """One file of a dataset, after expansion."""

    name: str
    urls: tuple[str, ...]
    size: int | None
    md5: str
    checksum: str
    md5_source: Md5Source | None = None
    unpack: str = "none"
    optional: bool = False
    unverified: bool = False
    description: str = ""
    feeds: tuple[str, ...] = ()

    @property
    def unpacked_name(self) -> str | None:
        """Where the unpacked content goes (relative to the dataset folder), if any."""
        if self.unpack == "none":
            return None
        for suffix in (".tar.gz", ".tgz", ".tar", ".zip", ".gz"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return f"{self.name}.unpacked"


@dataclass(frozen=True)
class SampleTable:
    """A small table shipped inside the manifest (e.g. library -> individual)."""

    file: str
    description: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def to_tsv(self) -> str:
        lines = ["\t".join(self.columns)] + ["\t".join(r) for r in self.rows]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Dataset:
    """One dataset family from one manifest file."""

    name: str
    title: str
    description: str
    licence: str
    homepage: str
    feeds: tuple[str, ...]
    files: tuple[FileEntry, ...]
    path: Path
    citation: str = ""
    assembly: str = ""
    notes: str = ""
    samples: SampleTable | None = None

    def file(self, name: str) -> FileEntry:
        """The entry called `name` (exact match)."""
        for entry in self.files:
            if entry.name == name:
                return entry
        known = ", ".join(f.name for f in self.files[:6])
        more = " ..." if len(self.files) > 6 else ""
        msg = f"dataset {self.name!r} has no file {name!r}; its files: {known}{more}"
        raise InputError(msg)

    @property
    def known_size(self) -> int:
        """Sum of the sizes the manifest states (files of unknown size count 0)."""
        return sum(f.size or 0 for f in self.files)
