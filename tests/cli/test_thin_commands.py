"""Every CLI command is thin: it calls at most two varinterp library functions.

A command parses, checks paths, opens progress, calls the library with keyword
arguments and prints; orchestration lives in the library, where notebooks reach it too.
This walks the typer app, finds each command's function, and counts the distinct names
imported from varinterp (outside ``varinterp.cli`` and the exception classes of
``varinterp.errors``) that the function body calls.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
import typer

from varinterp.cli.main import app

MAX_LIBRARY_CALLS = 2


def _commands() -> list[tuple[str, object]]:
    group = typer.main.get_command(app)
    found = []

    def walk(cmd, path: str) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found.append((path, cmd.callback))

    walk(group, "")
    return found


def _library_names(func) -> dict[str, str]:
    """Names bound in the function's module or body to objects imported from varinterp."""
    module = inspect.getmodule(func)
    tree = ast.parse(inspect.getsource(module))
    body = ast.parse(textwrap.dedent(inspect.getsource(func)))
    names: dict[str, str] = {}
    for node in [*ast.walk(tree), *ast.walk(body)]:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("varinterp"):
            if node.module.startswith(("varinterp.cli", "varinterp.errors")):
                continue
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _called(func) -> set[str]:
    body = ast.parse(textwrap.dedent(inspect.getsource(func)))
    calls = set()
    for node in ast.walk(body):
        if isinstance(node, ast.Call):
            target = node.func
            while isinstance(target, ast.Attribute):
                target = target.value
            if isinstance(target, ast.Name):
                calls.add(target.id)
    return calls


COMMANDS = _commands()


def test_the_walk_finds_the_commands():
    paths = {p for p, _ in COMMANDS}
    assert {"score", "genome build", "deconvolve train", "train clipnet"} <= paths
    assert len(COMMANDS) > 30


@pytest.mark.parametrize("path,func", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_calls_at_most_two_library_functions(path, func):
    library = _library_names(func)
    used = sorted(library[n] for n in _called(func) if n in library)
    assert len(used) <= MAX_LIBRARY_CALLS, f"`varinterp {path}` calls {used}"
