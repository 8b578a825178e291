"""Rewrite a store of the previous format (version 1) in the current one (version 2).

Version 1 kept SNVs only, with dense genotype bits and phase bits. Version 2 stores open
both; `upgrade_store` writes a version-2 copy (sparse or dense genotypes per variant,
overlaps resolved), which is smaller for a cohort with many rare variants and reads the
same windows.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from varinterp import __version__
from varinterp.errors import InputError
from varinterp.genome import _layout
from varinterp.genome.store import FORMAT_VERSION, GenomeStore
from varinterp.io.atomic import atomic_dir, check_output
from varinterp.progress import ProgressCallback, report

__all__ = ["upgrade_store"]


def upgrade_store(
    *,
    store: str | os.PathLike,
    out: str | os.PathLike,
    overwrite: bool = False,
    chunk_size: int = 4096,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Write `store` (version 1) as a version-2 store at `out`; returns `out`.

    A store already at the current version is an `InputError` (nothing to do).
    """
    out = check_output(out)
    old = GenomeStore.open(store)
    if old.version >= FORMAT_VERSION:
        msg = f"store {old.path} is already format version {old.version}; nothing to upgrade"
        raise InputError(msg)
    if out.exists() and not overwrite:
        msg = f"output {out} already exists; remove it or pass --overwrite"
        raise InputError(msg)
    n_samples = len(old.samples)
    phased = _layout._load_npy(old.path / "phased.npy")
    with atomic_dir(out, overwrite=overwrite) as tmp:
        shutil.copyfile(old.path / "reference.npy", tmp / "reference.npy")
        ids = old.variant_ids()
        parts = []
        for k, contig in enumerate(old.contigs):
            writer = _layout.ContigWriter(tmp / ".parts" / f"{k:05d}", contig.name, n_samples)
            for lo in range(contig.var_start, contig.var_end, chunk_size):
                hi = min(lo + chunk_size, contig.var_end)
                chunk = _layout.Chunk()
                for v in range(lo, hi):
                    raw = _layout._dense_carriers(old._gt["gt_dense"][v], n_samples)
                    unphased_bits = ~_layout._dense_carriers(phased[v][None], n_samples)[0]
                    chunk.pos.append(int(old.positions[v]))
                    chunk.ref_len.append(1)
                    chunk.alt.append(np.asarray(old.alt_bases[v : v + 1], dtype=np.uint8))
                    chunk.ids.append(ids[v])
                    chunk.padded.append(False)
                    chunk.haps.append(np.flatnonzero(raw.reshape(-1, order="F")))
                    het = raw.sum(axis=0) == 1
                    chunk.unphased.append(np.flatnonzero(het & unphased_bits))
                writer.add(chunk)
                report(on_progress, hi, old.n_variants)
            parts.append(writer.close())
        _layout.assemble(parts, tmp, n_samples)
        shutil.rmtree(tmp / ".parts")
        meta = dict(old.meta)
        meta["version"] = FORMAT_VERSION
        meta["upgraded_by"] = f"varinterp {__version__}"
        meta["variant_kinds"] = "snvs"
        meta["counts"] = {
            **meta.get("counts", {}),
            "overlapping_calls_dropped": sum(p["dropped"] for p in parts),
        }
        meta.pop("genotype_layout", None)
        for contig in meta["contigs"]:
            contig["max_span"] = 1
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return out
