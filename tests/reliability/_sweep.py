"""One bad-input case: stage it in a work folder, run it, and say what went wrong."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tests.reliability._cases import Case
from tests.reliability._commands import VALID
from tests.reliability._inputs import Inputs
from tests.reliability._runner import CliResult, run_cli, tree

__all__ = ["case_args", "check_case", "format_args", "run_case"]


def format_args(args: list[str], inputs: Inputs, out: Path) -> list[str]:
    values = {k: str(v) for k, v in inputs.paths.items()}
    values["out"] = str(out)
    return [a.format(**values) for a in args]


def case_args(case: Case, inputs: Inputs, work: Path) -> list[str]:
    """The full argument list of `case`, its bad inputs written under ``work/in``."""
    out = work / "out"
    out.mkdir(parents=True, exist_ok=True)
    valid = format_args(VALID[case.command], inputs, out)
    edited = case.edit(valid, work)
    return [*case.command.split(), *format_args(edited, inputs, out)]


def run_case(case: Case, inputs: Inputs, work: Path) -> tuple[list[str], CliResult, list[str]]:
    """Run `case`; return its arguments, the result and the problems found (empty: clean)."""
    args = case_args(case, inputs, work)
    out = work / "out"
    before_out, before_in = tree(out), tree(inputs.root)
    result = run_cli(args)
    problems = check_case(result)
    line = result.stderr_lines[-1] if result.stderr_lines else ""
    named = _named_paths(work)
    if case.output and "--out" not in line:
        problems.append("the message does not name --out")
    elif case.expect and not any(word in line for word in case.expect):
        problems.append(f"the message names none of {list(case.expect)}")
    elif not case.expect and named and not any(name in line for name in named):
        problems.append(f"the message names none of {sorted(named)[:4]}")
    added = sorted(tree(out) - before_out)
    if added:
        problems.append(f"left behind in the output folder: {', '.join(added[:5])}")
    added_in = sorted(tree(inputs.root) - before_in)
    if added_in:
        problems.append(f"left behind among the inputs: {', '.join(added_in[:5])}")
    _unlock(work)
    return args, result, problems


def _named_paths(work: Path) -> set[str]:
    """File names a case broke: what its inputs folder holds and the paths it passed."""
    names = (
        {Path(p.rstrip("/")).name for p in tree(work / "in")} if (work / "in").is_dir() else set()
    )
    record = work / "broken.txt"
    if record.is_file():
        names |= {Path(p).name for p in record.read_text().split()}
    return names - {""}


def check_case(result: CliResult) -> list[str]:
    problems = []
    if result.exit_code != 2:
        problems.append(f"exit code {result.exit_code}, not 2")
    if len(result.stderr_lines) > 1:
        problems.append(f"{len(result.stderr_lines)} stderr lines, not 1")
    if "Traceback" in result.stderr:
        problems.append("a traceback")
    return problems


def _unlock(work: Path) -> None:
    """Make read-only folders of a case writable again, so its folder can be removed."""
    for dirpath, dirnames, _ in os.walk(work):
        for d in dirnames:
            p = Path(dirpath) / d
            mode = p.stat().st_mode
            if not mode & stat.S_IWUSR:
                p.chmod(mode | stat.S_IWUSR)
