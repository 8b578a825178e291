"""The conventions every command follows, applied once to the whole app (``docs/cli.md``).

`apply_conventions` gives every command of a typer app the `Command` class and every
group the `Group` mixin:

- flags show no value placeholder in ``--help`` (no ``<bool>``);
- an option's first long name is its name; further long names are **old spellings**
  kept for one release: hidden from ``--help``, still parsed, and a deprecation line on
  stderr when used;
- every command takes ``--log-file FILE`` (progress and milestone lines are appended
  there too);
- after a command that writes ``--out`` succeeds, its provenance is written beside the
  output (`varinterp.provenance`).
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from varinterp.cli import _state

__all__ = ["Command", "Group", "apply_conventions", "old_spellings", "refuse_existing"]


def refuse_existing(out: Path, *, overwrite: bool) -> None:
    """`InputError` when the output `out` exists and `overwrite` is off (docs/cli.md)."""
    if out.exists() and not overwrite:
        from varinterp.errors import InputError

        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)


def old_spellings(param: Any) -> dict[str, str]:
    """``{old: new}`` for the option `param`: long names after its first long name."""
    longs = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return {old: longs[0] for old in longs[1:]}


@contextlib.contextmanager
def _without_old_spellings(params: list) -> Iterator[None]:
    saved = [(p, p.opts) for p in params]
    for p in params:
        old = old_spellings(p)
        if old:
            p.opts = [o for o in p.opts if o not in old]
    try:
        yield
    finally:
        for p, opts in saved:
            p.opts = opts


def _plain_flags(params: list) -> None:
    for p in params:
        if getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = ""


def _set_log_file(value: Path | None) -> Path | None:
    _state.set_log_file(value)
    return value


def _log_file_probe(
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            metavar="FILE",
            is_eager=True,
            callback=_set_log_file,
            help="Also append progress and summary lines to FILE (with --quiet too).",
        ),
    ] = None,
) -> None:
    del log_file


def _log_file_option() -> Any:
    """The ``--log-file`` parameter, built by typer from `_log_file_probe`'s signature."""
    probe = typer.Typer()
    probe.command()(_log_file_probe)
    param = next(p for p in typer.main.get_command(probe).params if p.name == "log_file")
    param.expose_value = False
    return param


class _PlainHelp:
    """Mixin: flags (the help option too) show no ``<bool>`` placeholder in ``--help``."""

    def get_params(self, ctx):  # type: ignore[no-untyped-def]
        params = super().get_params(ctx)  # type: ignore[misc]
        _plain_flags(params)
        return params


class Command(_PlainHelp, TyperCommand):
    """A varinterp command: plain flags, old spellings with a deprecation line, --log-file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not any("--log-file" in getattr(p, "opts", ()) for p in self.params):
            self.params.append(_log_file_option())

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        ctx.meta["varinterp.command"] = _command_line(ctx, args)
        renamed: dict[str, str] = {}
        for p in self.params:
            renamed.update(old_spellings(p))
        for arg in args:
            if arg == "--":
                break
            name = arg.split("=", 1)[0]
            if name in renamed:
                sys.stderr.write(
                    f"varinterp: {name} is deprecated and goes in the next release; "
                    f"use {renamed[name]}\n"
                )
        return super().parse_args(ctx, args)

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        with _without_old_spellings(self.params):
            return super().format_help(ctx, formatter)

    def invoke(self, ctx: typer.Context) -> Any:
        from varinterp import provenance

        command = ctx.meta.get("varinterp.command") or _command_line(ctx, [])
        with provenance.recording_command(command, _inputs(ctx)):
            result = super().invoke(ctx)
            out = ctx.params.get("out")
            out_param = next((p for p in self.params if p.name == "out"), None)
            prefix = out_param is not None and out_param.metavar == "PREFIX"
            if isinstance(out, Path) and (prefix or out.exists()):
                provenance.write_sidecar(out, prefix=prefix)
        return result


def _command_line(ctx: typer.Context, args: list[str]) -> str:
    names = []
    node: typer.Context | None = ctx
    while node is not None and node.parent is not None:
        names.append(node.info_name or "")
        node = node.parent
    return " ".join(["varinterp", *reversed(names), shlex.join(args)]).strip()


def _inputs(ctx: typer.Context) -> dict[str, Path]:
    """``{option: path}`` of the command's existing input paths (not --out, --log-file)."""
    found: dict[str, Path] = {}
    for p in ctx.command.params:
        if p.name in ("out", None) or not p.expose_value:
            continue
        values = ctx.params.get(p.name)
        values = values if isinstance(values, list | tuple) else [values]
        for k, value in enumerate(values):
            if isinstance(value, str) and value and Path(value).is_file():
                value = Path(value)
            if isinstance(value, Path) and value.exists():
                key = p.opts[0] if len(values) == 1 else f"{p.opts[0]}[{k}]"
                found[key] = value
    return found


class Group(_PlainHelp, TyperGroup):
    """A varinterp command group: plain flags in its help."""


def apply_conventions(app: typer.Typer) -> None:
    """Give every command of `app` (recursively) `Command` and every group `Group`."""
    base = app.info.cls if isinstance(app.info.cls, type) else TyperGroup
    if not issubclass(base, _PlainHelp):
        app.info.cls = (
            Group
            if base is TyperGroup
            else type(base.__name__, (_PlainHelp, base), {"__doc__": base.__doc__})
        )
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = Command
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apply_conventions(group.typer_instance)
