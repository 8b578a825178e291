"""JASPAR matrices through ``pyjaspar`` (an optional extra: ``pip install varinterp[jaspar]``).

`jaspar_motifs` selects matrices **by matrix ID** (``MA0139.2``, or ``MA0139`` for the
latest version): a name look-up is ambiguous (``CTCF`` also names the fly matrix).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from varinterp.errors import InputError
from varinterp.motifs.meme import MotifSet

__all__ = ["jaspar_motifs"]


def jaspar_motifs(ids: Sequence[str], *, release: str = "JASPAR2024") -> MotifSet:
    """The JASPAR matrices `ids` as probability matrices ``(4, width) float64``."""
    try:
        from pyjaspar import jaspardb
    except ImportError:
        raise InputError(
            "JASPAR needs the optional pyjaspar package: pip install 'varinterp[jaspar]'"
        ) from None
    db = jaspardb(release=release)
    names, mats = [], []
    for mid in ids:
        m = db.fetch_motif_by_id(mid)
        if m is None:
            raise InputError(f"JASPAR {release} has no matrix {mid}")
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64)
        names.append(f"{m.matrix_id}_{m.name}")
        mats.append(counts / counts.sum(axis=0, keepdims=True))
    return MotifSet(tuple(names), tuple(mats), source=release)
