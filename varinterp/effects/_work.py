"""The resumable work folder of a chunked scoring run.

Beside the output ``effects.tsv`` lives a hidden folder ``.effects.tsv.parts/`` with

- ``state.json``: the input fingerprint (VCF checksum, model and FASTA identity) and
  the options; a run whose fingerprint differs starts the folder afresh;
- ``part_000000.tsv`` ...: one finished chunk each, written atomically, so a part file
  that exists is complete.

When every chunk is done the parts are concatenated into the output (atomically) and
the folder is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from varinterp.io.atomic import atomic_path, atomic_write_text

__all__ = ["WorkDir", "file_fingerprint", "sha256_file"]


def sha256_file(path: str | os.PathLike, *, block: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def file_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """A cheap identity of a large file: resolved path, size and modification time."""
    p = Path(path)
    st = p.stat()
    return {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class WorkDir:
    """Part files and state of one output; see the module docstring."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = self.out.parent / f".{self.out.name}.parts"

    def part(self, index: int) -> Path:
        return self.path / f"part_{index:06d}.tsv"

    def start(self, state: Mapping[str, Any]) -> bool:
        """Open the folder for `state`; True when finished parts of the same run are reused."""
        state_file = self.path / "state.json"
        text = json.dumps(state, sort_keys=True, indent=1)
        if state_file.is_file():
            try:
                same = json.loads(state_file.read_text()) == json.loads(text)
            except json.JSONDecodeError:
                same = False
            if same:
                return self.has_parts()
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(state_file, text + "\n")
        return False

    def has_parts(self) -> bool:
        """True when at least one chunk is finished."""
        return any(self.path.glob("part_*.tsv"))

    def done(self, index: int) -> bool:
        return self.part(index).is_file()

    def write_part(self, index: int, text: str) -> None:
        with atomic_path(self.part(index)) as tmp:
            tmp.write_text(text, encoding="utf-8")

    def concatenate(
        self,
        n_parts: int,
        header: str,
        *,
        target: Path | None = None,
        drop_column: int | None = None,
    ) -> Path:
        """Write `header` plus every part (without their headers) to the output (or to
        `target`) atomically and return the path written; `drop_column` (0-based) leaves
        that tab-separated field out of every part line."""
        target = self.out if target is None else Path(target)
        with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as dst:
            dst.write(header)
            for i in range(n_parts):
                with open(self.part(i), encoding="utf-8") as src:
                    src.readline()  # each part repeats the header
                    if drop_column is None:
                        shutil.copyfileobj(src, dst)
                        continue
                    for line in src:
                        fields = line.split("\t")
                        del fields[drop_column]
                        dst.write("\t".join(fields))
        return target

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
