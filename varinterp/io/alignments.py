"""ATAC-seq alignments (BAM, via pysam) -> Tn5 insertion sites, streamed in chunks.

Each kept read gives one insertion at its 5' end (0-based): ``reference_start`` on the
plus strand, ``reference_end - 1`` on the minus strand; with ``shift`` (default) moved
+4 / -4 bp onto the centre of Tn5's 9-bp target duplication (the usual +4/-5 shift of
BED read ends). A fragment (a read pair) thus gives its two insertions, one per mate.

Reads kept: mapped, primary, not supplementary, not a duplicate, not QC-failed, mapping
quality >= `min_mapq`, and for paired reads properly paired. The file must be
coordinate-sorted (``samtools sort``): the header says ``SO:coordinate`` or, without
one, the reads come in order; anything else is an `InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from varinterp.errors import InputError

__all__ = ["TN5_SHIFT", "InsertionChunk", "read_bam_insertions"]

#: bp from a read's 5' end to the insertion site (the 9-bp duplication's centre).
TN5_SHIFT = 4


@dataclass
class InsertionChunk:
    """Insertions of a run of reads: ``chrom`` ``(n,) object`` contig names as the file
    spells them, ``pos`` ``(n,) int64`` 0-based sites, ``barcode`` ``(n,) object`` (None
    when no barcode tag is read), ``first_line`` the 1-based index of its first record."""

    chrom: np.ndarray
    pos: np.ndarray
    barcode: np.ndarray | None
    first_line: int


def read_bam_insertions(
    path: str | os.PathLike,
    *,
    barcode_tag: str | None = None,
    min_mapq: int = 30,
    shift: bool = True,
    chunk: int = 500_000,
) -> Iterator[InsertionChunk]:
    """Stream the insertion sites of a coordinate-sorted BAM (module docstring).

    `barcode_tag` (``CB`` for Cell Ranger) reads each read's cell barcode; a kept read
    without the tag gets barcode ``""``.
    """
    import pysam

    path = Path(path)
    if not path.is_file():
        raise InputError(f"BAM {path} does not exist; check the path")
    try:
        bam = pysam.AlignmentFile(str(path), "rb", check_sq=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path} is not a readable BAM file ({exc})") from None
    with bam:
        order = (bam.header.to_dict().get("HD") or {}).get("SO")
        if order not in (None, "coordinate", "unknown"):
            msg = f"BAM {path} is sorted by {order}, not coordinate; run samtools sort on it"
            raise InputError(msg)
        d = TN5_SHIFT if shift else 0
        chroms: list[str] = []
        pos: list[int] = []
        bcs: list[str] = []
        first, n, last_ref, last_start = 1, 0, -1, -1
        skip = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
        for read in bam.fetch(until_eof=True):
            n += 1
            if read.flag & skip:
                continue
            ref, start = read.reference_id, read.reference_start
            if ref < last_ref or (ref == last_ref and start < last_start):
                msg = (
                    f"BAM {path} is not coordinate-sorted (record {n} at "
                    f"{read.reference_name}:{start + 1} comes after an earlier one); run "
                    "samtools sort on it"
                )
                raise InputError(msg)
            last_ref, last_start = ref, start
            if read.mapping_quality < min_mapq or (read.is_paired and not read.is_proper_pair):
                continue
            chroms.append(read.reference_name)
            pos.append(read.reference_end - 1 - d if read.is_reverse else start + d)
            if barcode_tag is not None:
                bcs.append(str(read.get_tag(barcode_tag)) if read.has_tag(barcode_tag) else "")
            if len(pos) >= chunk:
                yield _chunk(chroms, pos, bcs, barcode_tag, first)
                chroms, pos, bcs, first = [], [], [], n + 1
        if pos:
            yield _chunk(chroms, pos, bcs, barcode_tag, first)


def _chunk(chroms, pos, bcs, tag, first) -> InsertionChunk:
    return InsertionChunk(
        chrom=np.asarray(chroms, dtype=object),
        pos=np.asarray(pos, dtype=np.int64),
        barcode=np.asarray(bcs, dtype=object) if tag is not None else None,
        first_line=first,
    )
