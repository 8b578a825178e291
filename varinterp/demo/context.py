"""What the demo's steps share: the context they read and write, and the step record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DemoContext", "DemoStep", "torch_threads"]


@dataclass
class DemoContext:
    """What the steps share: the demo folder, the seed, and what earlier steps made.

    With `quick` the model steps use the zoo's shipped demo weights (`varinterp.demo.zoo`;
    `zoo` is the zoo folder, default the installed one) instead of training. Models run
    on `device`; `say` (when given) gets a line for each milestone inside a step (an
    epoch of training).
    """

    out: Path
    seed: int
    threads: int
    quick: bool = False
    zoo: Path | None = None
    device: str = "cpu"
    say: Callable[[str], None] | None = None
    files: dict[str, Path] = field(default_factory=dict)
    objects: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoStep:
    """One step of the demo: its title in the summary and the function that runs it."""

    name: str
    run: Callable[[DemoContext], list[str]]


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with torch on `threads` CPU threads (at least 1), then restore."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(int(threads), 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)
