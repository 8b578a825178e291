"""Run ``varinterp`` and freeze at a known point, to be killed there with ``kill -9``.

    python -m tests.reliability._pause MODULE:QUALNAME N MARKER -- varinterp args...

wraps the function (or method) ``MODULE:QUALNAME`` so that when its N-th call has
returned the process writes MARKER and sleeps; the test then kills it (SIGKILL) and
checks that a fresh run finishes the work byte-identically to an uninterrupted one.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from pathlib import Path

__all__ = ["main"]


def _install(target: str, after: int, marker: Path) -> None:
    module_name, qualname = target.split(":")
    owner = importlib.import_module(module_name)
    *path, name = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = 0

    @functools.wraps(original)
    def paused(*args, **kwargs):
        nonlocal calls
        result = original(*args, **kwargs)
        calls += 1
        if calls == after:
            marker.write_text("paused\n")
            while True:  # wait for SIGKILL
                time.sleep(1)
        return result

    setattr(owner, name, paused)


def main(argv: list[str]) -> None:
    target, after, marker, sep, *args = argv
    assert sep == "--", "usage: MODULE:QUALNAME N MARKER -- varinterp args..."
    import torch

    torch.set_num_threads(1)
    _install(target, int(after), Path(marker))
    from varinterp.cli.main import app

    app(args=args, prog_name="varinterp")


if __name__ == "__main__":
    main(sys.argv[1:])
