"""The four operations behind ``varinterp data``: list, fetch, verify, path.

All take keyword arguments only. `fetch` downloads what the manifests describe into the
cache (resumable, checksum-verified before the atomic move, archives unpacked safely),
`verify` re-reads cached files and compares them with the manifest and the lock record,
`path` says where a fetched file is (for use in shell command lines), and
`list_datasets` summarises every manifest with what it feeds.

Each operation has its own module (`varinterp.manifests.fetching`,
`varinterp.manifests.verifying`, `varinterp.manifests.catalogue` for list and path, and
`varinterp.manifests.outcomes` for what they return); this module re-exports them.
"""

from __future__ import annotations

from varinterp.manifests.catalogue import list_datasets, path
from varinterp.manifests.fetching import fetch
from varinterp.manifests.outcomes import DatasetSummary, FetchReport, FileOutcome, VerifyReport
from varinterp.manifests.verifying import verify

__all__ = [
    "DatasetSummary",
    "FetchReport",
    "FileOutcome",
    "VerifyReport",
    "fetch",
    "list_datasets",
    "path",
    "verify",
]
