"""Data manifests: list, fetch, verify and locate the public datasets varinterp uses.

This is the only part of varinterp that touches the network. See ``docs/data.md`` for
the manifest format and the ``varinterp data`` commands.
"""

from __future__ import annotations

from varinterp.manifests.api import (
    DatasetSummary,
    FetchReport,
    FileOutcome,
    VerifyReport,
    fetch,
    list_datasets,
    path,
    verify,
)
from varinterp.manifests.archive import UnsafeArchive, safe_extract
from varinterp.manifests.schema import Dataset, FileEntry, load_manifest, load_manifests
from varinterp.manifests.store import cache_root
from varinterp.manifests.transfer import ChecksumMismatch, DownloadError, download

__all__ = [
    "ChecksumMismatch",
    "Dataset",
    "DatasetSummary",
    "DownloadError",
    "FetchReport",
    "FileEntry",
    "FileOutcome",
    "UnsafeArchive",
    "VerifyReport",
    "cache_root",
    "download",
    "fetch",
    "list_datasets",
    "load_manifest",
    "load_manifests",
    "path",
    "safe_extract",
    "verify",
]
