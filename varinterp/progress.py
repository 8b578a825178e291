"""The progress-callback protocol between the library and the CLI.

Long-running library functions take ``on_progress: ProgressCallback | None``, call it as
``on_progress(done, total)`` (absolute counts; ``total`` may be None when unknown) and
never draw anything themselves. The CLI turns the calls into a rich progress bar.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["ProgressCallback", "report"]

ProgressCallback = Callable[[int, int | None], None]


def report(on_progress: ProgressCallback | None, done: int, total: int | None) -> None:
    """Call `on_progress` when one was given."""
    if on_progress is not None:
        on_progress(done, total)
