"""The bad-input sweep: every command, fed what a careful user or a broken pipeline would
feed it, exits 2 with one line on stderr that names the file, shows no traceback and
leaves nothing where it writes (docs/errors.md).

The table is in `_cases.py`, the valid invocation each case starts from in
`_commands.py`. A new command must get both; `test_every_command_is_in_the_sweep` says
which are missing.
"""

from __future__ import annotations

import os
import shlex

import pytest

from tests.reliability._cases import CASES
from tests.reliability._commands import VALID
from tests.reliability._runner import command_paths, run_cli, tree
from tests.reliability._sweep import case_args, run_case

#: Commands whose valid invocation test_resume.py runs (uninterrupted, then killed and
#: resumed), and the demo, which has its own tests (tests/cli/test_demo_cli.py).
_RUN_ELSEWHERE = {
    "score",
    "train clipnet",
    "deconvolve train",
    "genome build",
    "simulate world",
    "demo",
}
#: `data path` of a dataset that is not in the cache is itself exit 2 (as documented).
_VALID_EXIT = {"data path": 2}


def test_every_command_is_in_the_sweep():
    commands = set(command_paths())
    no_valid = sorted(commands - set(VALID))
    no_cases = sorted(commands - {c.command for c in CASES})
    stale = sorted(set(VALID) - commands)
    assert not (no_valid or no_cases or stale), (
        "every varinterp command needs a valid invocation in tests/reliability/_commands.py "
        "and bad-input cases in tests/reliability/_cases.py; "
        f"without a valid invocation: {no_valid}; without cases: {no_cases}; "
        f"listed but not a command (renamed?): {stale}"
    )


def test_the_table_covers_the_ground():
    assert len(CASES) >= 150
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "two cases share a name"
    per_command = {c: sum(k.command == c for k in CASES) for c in VALID}
    assert min(per_command.values()) >= 2, per_command


@pytest.mark.parametrize("command", [c for c in VALID if c not in _RUN_ELSEWHERE])
def test_valid_invocation(command, inputs, tmp_path):
    """Each case starts from a valid invocation: it must succeed, so that a case's exit 2
    comes from what the case broke."""
    from tests.reliability._cases import Case

    args = case_args(Case(command, "valid", lambda a, w: a), inputs, tmp_path)
    before = tree(inputs.root)
    result = run_cli(args)
    assert result.exit_code == _VALID_EXIT.get(command, 0), (
        f"varinterp {shlex.join(args)}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr
    assert tree(inputs.root) == before, "a valid run wrote among its inputs"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case, inputs, tmp_path):
    if not case.as_root and os.geteuid() == 0:
        pytest.skip("root may write into read-only folders; runs as an ordinary user")
    args, result, problems = run_case(case, inputs, tmp_path)
    assert not problems, (
        f"varinterp {shlex.join(args)}\n" + "; ".join(problems) + f"\nstderr:\n{result.stderr}"
    )
