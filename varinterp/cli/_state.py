"""Process-wide CLI state set by option callbacks (only the --verbose flag)."""

from __future__ import annotations

verbose = False


def set_verbose(value: bool) -> bool:
    global verbose
    verbose = bool(value)
    return value
