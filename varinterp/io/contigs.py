"""Contig-name harmonisation at the I/O boundary (``chr1`` vs ``1``, ``chrM`` vs ``MT``).

Inside varinterp a contig is always named as the reference FASTA names it. Names from a
VCF, BED or bigWig are mapped onto those names here, and a name that cannot be mapped is
an `InputError` that shows both spellings.
"""

from __future__ import annotations

from collections.abc import Iterable

from varinterp.errors import InputError

__all__ = ["ContigMap", "harmonize_contig", "spellings"]

_MITO = ("chrM", "MT", "M", "chrMT")


def spellings(name: str) -> list[str]:
    """Every spelling of `name` that names the same contig, `name` first."""
    out = [name]
    if name in _MITO:
        out += [m for m in _MITO if m != name]
        return out
    if name.startswith("chr"):
        out.append(name[3:])
    else:
        out.append(f"chr{name}")
    return out


def harmonize_contig(
    name: str, available: Iterable[str], *, source: str = "input", target: str = "the reference"
) -> str:
    """Return the spelling of `name` that `available` uses.

    Raises `InputError` naming both spellings when no spelling of `name` is available;
    `source` names where `name` came from, `target` the file `available` belongs to.
    """
    pool = available if isinstance(available, set | frozenset | dict) else set(available)
    for candidate in spellings(name):
        if candidate in pool:
            return candidate
    example = next(iter(sorted(pool)), "<none>")
    tried = ", ".join(repr(s) for s in spellings(name))
    origin = f" from {source}" if source else ""
    msg = (
        f"contig {name!r}{origin} is not in {target} (which names contigs like {example!r}); "
        f"tried {tried}: use a reference that has it or drop those records"
    )
    raise InputError(msg)


class ContigMap:
    """Maps contig names of one input onto the reference's names, caching the answers."""

    def __init__(
        self,
        reference_names: Iterable[str],
        *,
        source: str = "input",
        target: str = "the reference",
    ) -> None:
        self._ref = frozenset(reference_names)
        self._source = source
        self._target = target
        self._cache: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        found = self._cache.get(name)
        if found is None:
            found = harmonize_contig(name, self._ref, source=self._source, target=self._target)
            self._cache[name] = found
        return found

    def get(self, name: str) -> str | None:
        """The reference's spelling of `name`, or None when it has none."""
        try:
            return self(name)
        except InputError:
            return None
