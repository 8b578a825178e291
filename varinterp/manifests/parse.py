"""Checking a parsed manifest TOML table key by key and turning it into a `Dataset`.

Every key is checked: an unknown key, a missing field or a value of the wrong kind is an
`InputError` naming the file, the entry and the key. A ``[[files]]`` entry may carry
``expand = {chrom = ["1", "2"]}``; it then stands for one file per value, with
``{chrom}`` replaced in ``name``, ``urls`` and ``md5_source.url``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path, PurePosixPath
from typing import Any

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

__all__ = ["parse_dataset"]

_MD5_RE = re.compile(r"^[0-9a-f]{32}$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


_DATASET_KEYS = {
    "format": True,
    "name": True,
    "title": True,
    "description": True,
    "licence": True,
    "homepage": True,
    "feeds": True,
    "files": True,
    "citation": False,
    "assembly": False,
    "notes": False,
    "samples": False,
}
_FILE_KEYS = {
    "name": True,
    "urls": True,
    "size": True,
    "md5": True,
    "checksum": True,
    "md5_source": False,
    "unpack": False,
    "optional": False,
    "unverified": False,
    "description": False,
    "feeds": False,
    "expand": False,
}
_MD5_SOURCE_KEYS = {"kind": True, "url": True, "key": False}
_SAMPLE_KEYS = {"file": True, "description": True, "columns": True, "rows": True}


def _check_keys(table: dict[str, Any], spec: dict[str, bool], where: str) -> None:
    for key in table:
        if key not in spec:
            allowed = ", ".join(sorted(spec))
            msg = f"{where}: unknown key {key!r}; allowed keys: {allowed}"
            raise InputError(msg)
    for key, required in spec.items():
        if required and key not in table:
            msg = f"{where}: missing required key {key!r}"
            raise InputError(msg)


def _str(value: Any, key: str, where: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        msg = f"{where}: key {key!r} must be a non-empty string, got {value!r}"
        raise InputError(msg)
    return value


def _bool(value: Any, key: str, where: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{where}: key {key!r} must be true or false, got {value!r}"
        raise InputError(msg)
    return value


def _str_list(value: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        msg = f"{where}: key {key!r} must be a non-empty list of strings"
        raise InputError(msg)
    return tuple(value)


def _check_relpath(name: str, key: str, where: str) -> str:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or name.startswith("."):
        msg = f"{where}: key {key!r} must be a relative path inside the dataset, got {name!r}"
        raise InputError(msg)
    return name


def _check_url(url: str, where: str) -> str:
    if not (url.startswith("https://") or url.startswith("http://")):
        msg = f"{where}: URL {url!r} must start with https:// or http://"
        raise InputError(msg)
    return url


def _size(value: Any, where: str) -> int | None:
    if value == "unknown":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        msg = f"{where}: key 'size' must be a positive byte count or \"unknown\", got {value!r}"
        raise InputError(msg)
    return value


def _expansions(raw: dict[str, Any], where: str) -> list[dict[str, str]]:
    expand = raw.get("expand")
    if expand is None:
        return [{}]
    if not isinstance(expand, dict) or not expand:
        msg = f"{where}: key 'expand' must be a table of name = [values]"
        raise InputError(msg)
    names = list(expand)
    lists = [_str_list(expand[n], f"expand.{n}", where) for n in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*lists)]


def _fill(text: str, values: dict[str, str], where: str) -> str:
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        msg = f"{where}: cannot fill placeholders in {text!r} ({exc}); check 'expand'"
        raise InputError(msg) from None


def _parse_file(raw: Any, index: int, where: str) -> list[FileEntry]:
    here = f"{where}, files[{index}]"
    if not isinstance(raw, dict):
        msg = f"{here}: each [[files]] entry must be a table"
        raise InputError(msg)
    if "name" in raw and isinstance(raw["name"], str):
        here = f"{where}, file {raw['name']!r}"
    _check_keys(raw, _FILE_KEYS, here)
    name_t = _str(raw["name"], "name", here)
    urls_t = _str_list(raw["urls"], "urls", here)
    size = _size(raw["size"], here)
    md5 = _str(raw["md5"], "md5", here, empty_ok=True).lower()
    checksum = _str(raw["checksum"], "checksum", here)
    if checksum not in CHECKSUM_POLICIES:
        msg = f"{here}: key 'checksum' must be one of {', '.join(CHECKSUM_POLICIES)}"
        raise InputError(msg)
    if md5 and not _MD5_RE.match(md5):
        msg = f"{here}: key 'md5' must be 32 hex digits or \"\", got {md5!r}"
        raise InputError(msg)
    if checksum == "md5" and not md5:
        msg = (
            f'{here}: checksum = "md5" needs the md5; use "published" or "record-on-first-download"'
        )
        raise InputError(msg)
    if checksum != "md5" and md5:
        msg = f'{here}: an md5 is given, so checksum must be "md5" (got {checksum!r})'
        raise InputError(msg)
    src_raw = raw.get("md5_source")
    if checksum == "published" and src_raw is None:
        msg = f'{here}: checksum = "published" needs an md5_source table'
        raise InputError(msg)
    if src_raw is not None and checksum != "published":
        msg = f'{here}: md5_source is only used with checksum = "published"'
        raise InputError(msg)
    if src_raw is not None:
        if not isinstance(src_raw, dict):
            msg = f"{here}: key 'md5_source' must be a table"
            raise InputError(msg)
        _check_keys(src_raw, _MD5_SOURCE_KEYS, f"{here}, md5_source")
        kind = _str(src_raw["kind"], "kind", here)
        if kind not in MD5_SOURCE_KINDS:
            msg = f"{here}: md5_source.kind must be one of {', '.join(MD5_SOURCE_KINDS)}"
            raise InputError(msg)
    unpack = raw.get("unpack", "none")
    if unpack not in UNPACK_KINDS:
        msg = f"{here}: key 'unpack' must be one of {', '.join(UNPACK_KINDS)}, got {unpack!r}"
        raise InputError(msg)
    optional = _bool(raw.get("optional", False), "optional", here)
    unverified = _bool(raw.get("unverified", False), "unverified", here)
    description = _str(raw.get("description", ""), "description", here, empty_ok=True)
    feeds = _str_list(raw["feeds"], "feeds", here) if "feeds" in raw else ()

    entries = []
    for values in _expansions(raw, here):
        name = _check_relpath(_fill(name_t, values, here), "name", here)
        urls = tuple(_check_url(_fill(u, values, here), here) for u in urls_t)
        source = None
        if src_raw is not None:
            key = src_raw.get("key", urls[0].rsplit("/", 1)[-1])
            source = Md5Source(
                kind=src_raw["kind"],
                url=_check_url(_fill(_str(src_raw["url"], "url", here), values, here), here),
                key=_fill(_str(key, "key", here), values, here),
            )
        entries.append(
            FileEntry(
                name=name,
                urls=urls,
                size=size,
                md5=md5,
                checksum=checksum,
                md5_source=source,
                unpack=unpack,
                optional=optional,
                unverified=unverified,
                description=_fill(description, values, here) if values else description,
                feeds=feeds,
            )
        )
    return entries


def _parse_samples(raw: Any, where: str) -> SampleTable:
    here = f"{where}, [samples]"
    if not isinstance(raw, dict):
        msg = f"{here}: must be a table"
        raise InputError(msg)
    _check_keys(raw, _SAMPLE_KEYS, here)
    file = _check_relpath(_str(raw["file"], "file", here), "file", here)
    columns = _str_list(raw["columns"], "columns", here)
    rows_raw = raw["rows"]
    if not isinstance(rows_raw, list) or not rows_raw:
        msg = f"{here}: key 'rows' must be a non-empty list of rows"
        raise InputError(msg)
    rows = []
    for i, row in enumerate(rows_raw):
        if not isinstance(row, list) or len(row) != len(columns):
            msg = (
                f"{here}: rows[{i}] must be a list of {len(columns)} values ({', '.join(columns)})"
            )
            raise InputError(msg)
        rows.append(tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in row))
    description = _str(raw["description"], "description", here)
    return SampleTable(file=file, description=description, columns=columns, rows=tuple(rows))


def parse_dataset(raw: dict[str, Any], *, path: Path, where: str) -> Dataset:
    """The TOML table `raw` of manifest `path` -> `Dataset`; `InputError` prefixed `where`."""
    _check_keys(raw, _DATASET_KEYS, where)
    if raw["format"] != FORMAT_VERSION:
        got = raw["format"]
        msg = f"{where}: format = {got!r} is not supported (this varinterp reads {FORMAT_VERSION})"
        raise InputError(msg)
    name = _str(raw["name"], "name", where)
    if not _NAME_RE.match(name):
        msg = f"{where}: name {name!r} must be lower case letters, digits, '.', '_' or '-'"
        raise InputError(msg)
    if not isinstance(raw["files"], list) or not raw["files"]:
        msg = f"{where}: needs at least one [[files]] entry"
        raise InputError(msg)
    files: list[FileEntry] = []
    for i, item in enumerate(raw["files"]):
        files.extend(_parse_file(item, i, where))
    seen: set[str] = set()
    for entry in files:
        if entry.name in seen:
            msg = f"{where}: file name {entry.name!r} appears twice"
            raise InputError(msg)
        seen.add(entry.name)
    samples = _parse_samples(raw["samples"], where) if "samples" in raw else None
    return Dataset(
        name=name,
        title=_str(raw["title"], "title", where),
        description=_str(raw["description"], "description", where),
        licence=_str(raw["licence"], "licence", where),
        homepage=_check_url(_str(raw["homepage"], "homepage", where), where),
        feeds=_str_list(raw["feeds"], "feeds", where),
        files=tuple(files),
        path=path,
        citation=_str(raw.get("citation", ""), "citation", where, empty_ok=True),
        assembly=_str(raw.get("assembly", ""), "assembly", where, empty_ok=True),
        notes=_str(raw.get("notes", ""), "notes", where, empty_ok=True),
        samples=samples,
    )
