"""Published checksums: read the md5 a source publishes for a file, at fetch time.

ENCODE gives each file's ``md5sum`` and ``file_size`` in its JSON
(``https://www.encodeproject.org/files/<ACC>/?format=json``); Zenodo gives
``files[].checksum`` (``"md5:<hex>"``) and ``size`` in the record's JSON
(``https://zenodo.org/api/records/<id>``); UCSC and the 1000 Genomes FTP publish text
lists (``md5sum.txt``, ``*_MANIFEST.txt``) with one file per line. The parsers here are
pure functions of the downloaded bytes, so they are tested without a network.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from varinterp.errors import VarinterpError
from varinterp.manifests.schema import Md5Source

__all__ = ["PublishedChecksum", "SourceError", "lookup", "parse_published"]

_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


class SourceError(VarinterpError):
    """A source's checksum document could not be read or lacks the file."""


@dataclass(frozen=True)
class PublishedChecksum:
    """The md5 (and size, when published) a source states for one file."""

    md5: str
    size: int | None


def _from_encode(data: bytes, source: Md5Source) -> PublishedChecksum:
    try:
        doc = json.loads(data)
        md5 = str(doc["md5sum"]).lower()
    except (ValueError, KeyError, TypeError):
        msg = f"{source.url} is not an ENCODE file record with an md5sum"
        raise SourceError(msg) from None
    size = doc.get("file_size")
    return PublishedChecksum(md5, int(size) if isinstance(size, int) else None)


def _from_zenodo(data: bytes, source: Md5Source) -> PublishedChecksum:
    try:
        doc = json.loads(data)
        files = doc["files"]
        if isinstance(files, dict):  # some API versions nest the list under "entries"
            files = files.get("entries", [])
    except (ValueError, KeyError, TypeError):
        msg = f"{source.url} is not a Zenodo record with a file list"
        raise SourceError(msg) from None
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, dict):
            continue
        key = item.get("key") or item.get("filename")
        if key == source.key:
            checksum = str(item.get("checksum", ""))
            md5 = checksum.split(":", 1)[1] if checksum.startswith("md5:") else checksum
            if not _MD5.match(md5):
                msg = f"Zenodo record {source.url} gives no md5 for {source.key}"
                raise SourceError(msg)
            size = item.get("size", item.get("filesize"))
            return PublishedChecksum(md5.lower(), int(size) if isinstance(size, int) else None)
    msg = f"Zenodo record {source.url} has no file named {source.key!r}"
    raise SourceError(msg)


def _from_list(data: bytes, source: Md5Source) -> PublishedChecksum:
    text = data.decode("utf-8", errors="replace")
    for line in text.splitlines():
        tokens = line.split()
        names = [t.lstrip("*").removeprefix("./") for t in tokens]
        if source.key not in names:
            continue
        md5s = [t for t in tokens if _MD5.match(t)]
        sizes = [t for t in tokens if t.isdigit() and not _MD5.match(t)]
        if md5s:
            return PublishedChecksum(md5s[0].lower(), int(sizes[0]) if sizes else None)
    msg = f"checksum list {source.url} has no md5 for {source.key!r}"
    raise SourceError(msg)


_PARSERS = {"encode": _from_encode, "zenodo": _from_zenodo, "list": _from_list}


def parse_published(data: bytes, source: Md5Source) -> PublishedChecksum:
    """The checksum `source` publishes for its file, read from the document `data`."""
    return _PARSERS[source.kind](data, source)


def lookup(
    source: Md5Source,
    *,
    cache: dict[str, bytes] | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    backoff: float = 1.0,
) -> PublishedChecksum:
    """Download `source.url` (once per `cache`) and read the file's published checksum."""
    from varinterp.manifests.transfer import fetch_bytes

    if cache is not None and source.url in cache:
        data = cache[source.url]
    else:
        data = fetch_bytes(source.url, timeout=timeout, retries=retries, backoff=backoff)
        if cache is not None:
            cache[source.url] = data
    return parse_published(data, source)
