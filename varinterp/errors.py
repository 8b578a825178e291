"""Exceptions shared by every part of varinterp.

`InputError` is the one to raise for anything a user can fix (a missing file, a sample
not in the VCF, a contig the FASTA lacks). Its message is one line that says what is
wrong, where, and how to fix it; the CLI prints it and exits with code 2.
"""

from __future__ import annotations

__all__ = ["InputError", "VarinterpError"]


class VarinterpError(Exception):
    """Base class of varinterp's own errors: a failed run (exit code 1)."""


class InputError(VarinterpError, ValueError):
    """Bad input or bad usage that the user can fix (exit code 2)."""
