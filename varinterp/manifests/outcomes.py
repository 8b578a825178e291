"""What the ``varinterp data`` operations return: one outcome per file, and summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DatasetSummary", "FetchReport", "FileOutcome", "VerifyReport"]


@dataclass(frozen=True)
class DatasetSummary:
    """One line of ``varinterp data list``."""

    name: str
    title: str
    feeds: tuple[str, ...]
    licence: str
    n_files: int
    n_optional: int
    known_bytes: int
    n_unknown_size: int
    n_present: int
    manifest: Path


@dataclass(frozen=True)
class FileOutcome:
    """What happened (or would happen, in a dry run) to one file."""

    dataset: str
    name: str
    path: Path
    action: str  # downloaded, cached, planned, ok, mismatch, missing, unrecorded, skipped
    detail: str = ""
    bytes: int = 0


@dataclass
class FetchReport:
    """Result of `fetch`: one outcome per selected file."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def downloaded_bytes(self) -> int:
        return sum(o.bytes for o in self.outcomes if o.action == "downloaded")


@dataclass
class VerifyReport:
    """Result of `verify`; `ok` is False when a file is missing or differs."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.action in ("mismatch", "missing")]

    @property
    def ok(self) -> bool:
        return not self.problems
