"""Provenance of outputs: which varinterp, which command, which inputs, when.

One helper for every writer:

- `write_sidecar` writes ``provenance.json`` inside an output folder, or
  ``OUT.provenance.json`` beside an output file (or prefix): the varinterp version, the
  command line, a description of every input (`describe_input`: a model's config hash,
  a FASTA's name and contig-length table, a VCF's name and size, a small file's
  SHA-256), the output files with their sizes, and the date. The CLI writes it after
  every command that has an ``--out`` (`varinterp.cli._conventions`).
- `vcf_header_lines` gives the ``##varinterp_version``, ``##varinterp_command`` and
  ``##reference`` / ``##varinterp_model`` lines every VCF writer puts in its header.

The date is the only line that changes when the same command is run again on the same
inputs: it is the last key of the JSON, on a line of its own, and VCFs carry none
(``##fileDate`` is left out on purpose).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "SIDECAR_NAME",
    "card_section",
    "current_command",
    "describe_input",
    "recording_command",
    "run_record",
    "sidecar_path",
    "vcf_header_lines",
    "write_sidecar",
]

SIDECAR_NAME = "provenance.json"
#: Files up to this size get a SHA-256 in the provenance; larger ones their size only.
HASH_LIMIT = 64 << 20
_FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz", ".fna.gz")
_VCF_SUFFIXES = (".vcf", ".vcf.gz", ".bcf", ".vcf.bgz")
_command: str | None = None
_inputs: dict[str, Path] = {}


def current_command() -> str:
    """The varinterp command line being run, or ``"python API"`` outside the CLI."""
    return _command or "python API"


@contextlib.contextmanager
def recording_command(
    command: str, inputs: Mapping[str, str | os.PathLike] | None = None
) -> Iterator[None]:
    """Inside the block, `current_command` is `command` and `run_record` describes
    `inputs` (role -> path). The CLI wraps every command in it."""
    global _command, _inputs
    before = _command, _inputs
    _command, _inputs = command, {k: Path(v) for k, v in (inputs or {}).items()}
    try:
        yield
    finally:
        _command, _inputs = before


def _describe_all(inputs: Mapping[str, str | os.PathLike]) -> dict[str, dict[str, Any]]:
    described = {}
    for role, value in inputs.items():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            described[role] = describe_input(value)
    return described


def run_record() -> dict[str, Any]:
    """The version, command and inputs of the run in progress (no date: a model
    directory written twice by the same run stays byte-identical)."""
    return {
        "varinterp_version": _version(),
        "command": current_command(),
        "inputs": _describe_all(_inputs),
    }


def card_section(record: Mapping[str, Any]) -> str:
    """A model card's Markdown section stating `record` (`run_record`)."""
    lines = [
        "## Provenance",
        "",
        f"Made by varinterp {record.get('varinterp_version', '?')} with:",
        "",
        f"    {record.get('command', '?')}",
        "",
    ]
    for role, info in (record.get("inputs") or {}).items():
        ident = info.get("sha256") or info.get("config_sha256") or info.get("lengths_sha256")
        extra = f", sha256 {ident}" if ident else ""
        lines.append(f"- `{role}`: {info.get('kind', 'file')} {info.get('name', '?')}{extra}")
    return "\n".join(lines).rstrip() + "\n"


def _version() -> str:
    from varinterp import __version__

    return __version__


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fasta_lengths(path: Path) -> dict[str, int]:
    fai = Path(f"{path}.fai")
    if fai.is_file():
        lengths = {}
        for line in fai.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split("\t")
            if len(fields) >= 2 and fields[1].isdigit():
                lengths[fields[0]] = int(fields[1])
        return lengths
    import pyfaidx

    with pyfaidx.Fasta(str(path), rebuild=False) as fa:
        return {name: len(fa[name]) for name in fa.keys()}


def describe_input(path: str | os.PathLike) -> dict[str, Any]:
    """What identifies the input `path`: kind, name and a checksum or a summary.

    A model directory: ``config_sha256`` (its config.json) and its weight files; a
    genome store: the SHA-256 of its ``meta.json``; a FASTA: its contig-length table
    and that table's SHA-256; a VCF/BCF: name and size; another file: its SHA-256 (up to
    `HASH_LIMIT` bytes, else its size); another folder: its name.
    """
    path = Path(path)
    info: dict[str, Any] = {"name": path.name}
    if path.is_dir():
        if (path / "config.json").is_file():
            info["kind"] = "model"
            info["config_sha256"] = _sha256(path / "config.json")
            info["weights"] = sorted(p.name for p in path.glob("*.safetensors"))
        elif (path / "meta.json").is_file():
            info["kind"] = "folder"
            info["meta_sha256"] = _sha256(path / "meta.json")
        else:
            info["kind"] = "folder"
        return info
    name = path.name.lower()
    info["bytes"] = path.stat().st_size
    if name.endswith(_FASTA_SUFFIXES):
        lengths = _fasta_lengths(path)
        table = "".join(f"{k}\t{v}\n" for k, v in lengths.items())
        info.update(
            kind="fasta",
            n_contigs=len(lengths),
            lengths_sha256=hashlib.sha256(table.encode()).hexdigest(),
            contigs=dict(list(lengths.items())[:50]),
        )
    elif name.endswith(_VCF_SUFFIXES):
        info["kind"] = "vcf"
    else:
        info["kind"] = "file"
        if info["bytes"] <= HASH_LIMIT:
            info["sha256"] = _sha256(path)
    return info


def sidecar_path(out: str | os.PathLike, *, prefix: bool = False) -> Path:
    """Where the provenance of output `out` goes: inside a folder, else beside it."""
    out = Path(out)
    if out.is_dir() and not prefix:
        return out / SIDECAR_NAME
    return out.with_name(f"{out.name}.{SIDECAR_NAME}")


def _outputs(out: Path, sidecar: Path, prefix: bool) -> dict[str, int]:
    if prefix:
        files = sorted(out.parent.glob(f"{out.name}*"))
    elif out.is_dir():
        files = sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
        return {str(p.relative_to(out)): p.stat().st_size for p in files if p != sidecar}
    else:
        files = [out]
    return {p.name: p.stat().st_size for p in files if p.is_file() and p != sidecar}


def write_sidecar(
    out: str | os.PathLike,
    *,
    command: str | None = None,
    inputs: Mapping[str, str | os.PathLike] | None = None,
    prefix: bool = False,
) -> Path:
    """Write the provenance of output `out` (a file, a folder, or a `prefix`); return its path.

    `inputs` maps a role (e.g. the option ``--fasta``) to an input path; `command`
    defaults to `current_command`. The JSON's keys: ``varinterp_version``, ``command``,
    ``inputs`` (role -> `describe_input`), ``outputs`` (file -> bytes) and ``date``
    (UTC, ISO 8601; the last line before the closing brace).
    """
    out = Path(out)
    path = sidecar_path(out, prefix=prefix)
    record = {
        "varinterp_version": _version(),
        "command": command or current_command(),
        "inputs": _describe_all(inputs if inputs is not None else _inputs),
        "outputs": _outputs(out, path, prefix),
        "date": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def vcf_header_lines(
    *,
    reference: str | os.PathLike | None = None,
    model: str | os.PathLike | None = None,
) -> list[str]:
    """``##`` lines for a VCF varinterp writes: version, command, reference and model.

    `reference` is the FASTA (its file name goes in ``##reference``); `model` a model
    directory (``##varinterp_model=<name,config_sha256>``).
    """
    command = current_command().replace("\n", " ")
    lines = [f"##varinterp_version={_version()}", f"##varinterp_command={command}"]
    if reference is not None:
        lines.append(f"##reference={Path(reference).name}")
    if model is not None:
        config = Path(model) / "config.json"
        digest = _sha256(config) if config.is_file() else "unknown"
        lines.append(f"##varinterp_model=<ID={Path(model).name},config_sha256={digest}>")
    return lines
