"""`varinterp attribute` as a library call: windows from regions or a variant -> npz + bigWig.

Windows have the model's input length ``L``:

- a region ``chrom:start-end`` (1-based inclusive, as genome browsers show them) or a
  BED row (0-based half-open) gives the window centred on its midpoint,
  ``[mid - L // 2, mid - L // 2 + L)``; names come from the BED's name column or the
  region text;
- a variant gives two windows centred on it (offset ``L // 2``), labelled ``ref`` and
  ``alt``; variants come in any form `varinterp.io.variants` reads (``chrom:pos:ref:alt``
  strings with a 1-based ``pos``, a VCF/BCF, a TSV/BED list); REF must match the FASTA
  (a missing REF is filled in from it).

Positions past a contig edge are N (all-zero one-hot, attribution 0).

The npz (`write_npz`) holds ``attributions`` and ``hypothetical`` ``(N, 4, L) float32``
(channels A, C, G, T), ``x`` ``(N, 4, L) uint8`` one-hot, ``chrom`` / ``label`` ``(N,) str``,
``start`` ``(N,) int64`` (0-based window start), ``variant`` ``(N,) str`` (the variant's
``chrom:pos:ref:alt``, empty for regions), ``method`` and ``target``. The bigWig
holds, per position, the observed base's attribution (``attributions`` summed over
channels), averaged where windows overlap; ``alt`` windows go to a second bigWig
``<name>.alt.bw`` beside it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from varinterp.effects.attribute import Attributions, attribute_windows
from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.io.atomic import atomic_path, check_output
from varinterp.io.fasta import Reference

__all__ = ["AttributionResult", "parse_region", "parse_variant", "run_attribution"]

_REGION = re.compile(r"^([^:\s]+):([\d,]+)-([\d,]+)$")
_VARIANT = re.compile(r"^([^:\s]+):([\d,]+):([ACGTacgt]):([ACGTacgt])$")


@dataclass
class AttributionResult:
    out: Path
    bigwig: Path | None
    n_windows: int
    labels: list[str]


def parse_region(text: str) -> tuple[str, int, int]:
    """``chrom:start-end`` (1-based, inclusive) -> ``(chrom, start0, end0)`` half-open."""
    m = _REGION.match(text.strip())
    if not m or int(m.group(2).replace(",", "")) < 1:
        msg = f"region {text!r} is not chrom:start-end (1-based, e.g. chr6:391220-392219)"
        raise InputError(msg)
    start, end = (int(g.replace(",", "")) for g in m.group(2, 3))
    if end < start:
        msg = f"region {text!r} ends before it starts"
        raise InputError(msg)
    return m.group(1), start - 1, end


def parse_variant(text: str) -> tuple[str, int, str, str]:
    """``chrom:pos:ref:alt`` (1-based pos, SNV) -> ``(chrom, pos0, REF, ALT)``."""
    m = _VARIANT.match(text.strip())
    if not m or int(m.group(2).replace(",", "")) < 1 or m.group(3).upper() == m.group(4).upper():
        msg = f"variant {text!r} is not chrom:pos:ref:alt of an SNV (e.g. chr22:36191455:A:G)"
        raise InputError(msg)
    return m.group(1), int(m.group(2).replace(",", "")) - 1, m.group(3).upper(), m.group(4).upper()


def _windows(reference: Reference, regions, variants, length: int):
    names = reference.contig_map("the region list")
    rows: list[tuple[str, int, str, np.ndarray, str]] = []  # chrom, start, label, codes, variant
    for chrom, s, e, label in regions:
        c = names(chrom)
        start = (s + e) // 2 - length // 2
        rows.append((c, start, label, reference.codes(c, start, start + length), ""))
    for rec in variants:
        start = rec.pos0 - length // 2
        base = reference.codes(rec.chrom, start, start + length)
        name = f"{rec.chrom}:{rec.pos0 + 1}:{rec.ref}:{rec.alt}"
        for allele, label in ((rec.ref, "ref"), (rec.alt, "alt")):
            w = base.copy()
            w[length // 2] = "ACGT".index(allele)
            rows.append((rec.chrom, start, label, w, name))
    if not rows:
        msg = "nothing to attribute: give --region, --regions or --variants"
        raise InputError(msg)
    chroms = [r[0] for r in rows]
    starts = np.array([r[1] for r in rows], dtype=np.int64)
    codes = one_hot(np.stack([r[3] for r in rows]))
    return chroms, starts, [r[2] for r in rows], codes, [r[4] for r in rows]


def _read_variants(spec, reference: Reference) -> list:
    """Every SNV of `spec` (any form of `varinterp.io.variants`); a REF mismatch is fatal."""
    from varinterp.io.variants import VariantCounts, iter_variants

    counts = VariantCounts()
    found = list(iter_variants(spec, reference=reference, strict=True, counts=counts))
    if not found:
        msg = (
            f"no SNV to attribute in the variants given ({counts.records} read; "
            f"{counts.skipped_indel} indels, {counts.skipped_symbolic} symbolic/other skipped)"
        )
        raise InputError(msg)
    return found


def write_npz(path: Path, result: Attributions, chroms, starts, labels, variants=None) -> Path:
    variants = [""] * len(labels) if variants is None else variants
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, attributions=result.attributions, hypothetical=result.hypothetical,
                x=result.x, chrom=np.array(chroms, dtype=str), start=starts,
                label=np.array(labels, dtype=str), variant=np.array(variants, dtype=str),
                method=result.method, target=result.target,
            )  # fmt: skip
    return path


def _bigwig(path: Path, reference: Reference, chroms, starts, values) -> Path:
    from varinterp.io.bigwig import write_bigwig

    def tracks():
        order = {c: i for i, c in enumerate(reference.names)}
        idx = sorted(range(len(chroms)), key=lambda i: (order[chroms[i]], starts[i]))
        i = 0
        while i < len(idx):  # clusters of overlapping windows on one contig
            c = chroms[idx[i]]
            j, end = i, starts[idx[i]] + values.shape[1]
            while j + 1 < len(idx) and chroms[idx[j + 1]] == c and starts[idx[j + 1]] < end:
                j += 1
                end = max(end, starts[idx[j]] + values.shape[1])
            lo = starts[idx[i]]
            total = np.zeros(end - lo)
            count = np.zeros(end - lo)
            for k in idx[i : j + 1]:
                s = starts[k] - lo
                total[s : s + values.shape[1]] += values[k]
                count[s : s + values.shape[1]] += 1
            vals = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
            a, b = max(lo, 0), min(end, reference.lengths[c])
            if b > a:
                yield c, a, vals[a - lo : b - lo]
            i = j + 1

    return write_bigwig(path, chrom_sizes=reference.lengths, tracks=tracks())


def run_attribution(
    *,
    model: str | os.PathLike,
    fasta: str | os.PathLike,
    out: str | os.PathLike,
    regions: list[str] | None = None,
    bed: str | os.PathLike | None = None,
    variants: str | os.PathLike | list[str] | None = None,
    variant: str | None = None,
    method: str = "deepshap",
    target: str = "quantity",
    n_shuffles: int = 20,
    seed: int = 0,
    bigwig: str | os.PathLike | None = None,
    batch_size: int = 32,
    device: str = "auto",
    task: str | None = None,
    overwrite: bool = False,
) -> AttributionResult:
    """Attribute the ensemble's prediction on region / variant windows; see the module doc.

    `variants` is any form `varinterp.io.variants` reads; `variant` (one
    ``chrom:pos:ref:alt``) is its former name.
    `task` names the task of a multi-task model to explain (default the first).
    """
    from varinterp.training.devices import resolve_device
    from varinterp.training.inference import load_model

    check_output(out)
    if bigwig is not None:
        check_output(bigwig, option="--bigwig")
    out = Path(out)
    for p in [out] + ([Path(bigwig)] if bigwig else []):
        if p.exists() and not overwrite:
            msg = f"output {p} already exists; remove it or pass --overwrite"
            raise InputError(msg)
    if not out.name.endswith(".npz"):
        msg = f"--out {out} must end in .npz"
        raise InputError(msg)
    from varinterp.io.intervals import read_bed, require_within_contigs

    reference = Reference(fasta)
    items = []
    for text in regions or []:
        c, s, e = parse_region(text)
        items.append((c, s, e, text))
    given = pd.DataFrame(items, columns=["chrom", "start", "end", "label"])
    require_within_contigs(given, reference.lengths, source="--region", against=reference.path.name)
    if bed is not None:
        table = read_bed(bed)
        require_within_contigs(
            table, reference.lengths, source=f"BED {bed}", against=reference.path.name
        )
        for k, row in enumerate(table.itertuples(index=False)):
            name = getattr(row, "name", None)
            label = str(name) if isinstance(name, str) and name not in ("", ".") else f"region{k}"
            items.append((row.chrom, int(row.start), int(row.end), label))
    if variants is None and variant is not None:
        variants = [variant]
    records = _read_variants(variants, reference) if variants else []
    dev = resolve_device(device)
    ens = load_model(model, device=dev)
    if ens.spec.context:
        msg = f"{model}: attributions need a model that predicts from sequence alone"
        raise InputError(msg)
    task_index = 0
    if task is not None:
        if task not in ens.tasks:
            msg = f"--task {task!r}: the model's tasks are {', '.join(ens.tasks)}"
            raise InputError(msg)
        task_index = ens.tasks.index(task)
    chroms, starts, labels, x, names = _windows(reference, items, records, ens.input_length)
    torch.manual_seed(seed)
    result = attribute_windows(
        list(ens.models.values()), x, method=method, target=target, n_shuffles=n_shuffles,
        seed=seed, batch_size=batch_size, device=dev, arch=ens.arch, task=task_index,
    )  # fmt: skip
    write_npz(out, result, chroms, starts, labels, names)
    bw_path = None
    if bigwig is not None:
        bw_path = Path(bigwig)
        per_pos = result.attributions.sum(axis=1)
        is_alt = np.array([lab == "alt" for lab in labels])
        main = np.flatnonzero(~is_alt)
        if main.size:
            _bigwig(bw_path, reference, [chroms[i] for i in main], starts[main], per_pos[main])
        if is_alt.any():
            alt = np.flatnonzero(is_alt)
            alt_path = bw_path.with_name(bw_path.name.removesuffix(".bw") + ".alt.bw")
            _bigwig(alt_path, reference, [chroms[i] for i in alt], starts[alt], per_pos[alt])
    return AttributionResult(out, bw_path, len(labels), labels)
