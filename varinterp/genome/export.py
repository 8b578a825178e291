"""Export personal sequences from a store: IUPAC FASTA, haplotype FASTA, or NPZ.

These files are for interoperability and for checking against ``bcftools consensus``;
training and scoring read windows from the store directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from varinterp.errors import InputError
from varinterp.genome.encoding import sequence_from_codes, two_hot_to_iupac
from varinterp.genome.store import GenomeStore
from varinterp.io.atomic import atomic_path, check_output
from varinterp.io.intervals import check_regions, read_bed
from varinterp.progress import ProgressCallback, report

__all__ = ["ExportFormat", "ExportSummary", "export_sequences"]

_LINE = 60


class ExportFormat(StrEnum):
    """``fasta-iupac``: one record per sample and region, hets as IUPAC codes;
    ``fasta-haplotypes``: two records per sample and region (``_1``, ``_2``);
    ``npz``: two-hot arrays."""

    fasta_iupac = "fasta-iupac"
    fasta_haplotypes = "fasta-haplotypes"
    npz = "npz"


@dataclass
class ExportSummary:
    path: Path
    n_samples: int
    n_regions: int
    n_records: int


def export_sequences(
    *,
    store: str | os.PathLike,
    regions: str | os.PathLike,
    out: str | os.PathLike,
    fmt: ExportFormat | str = ExportFormat.fasta_iupac,
    samples: list[str] | str | None = None,
    reference_only: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ExportSummary:
    """Write the sequences of `samples` (default: all) over the BED `regions` to `out`.

    `samples` is a list of IDs, a comma-separated string or a file of IDs
    (`varinterp.genome.build.sample_ids`).

    FASTA record names are ``{sample}::{chrom}:{start}-{end}`` (0-based half-open, as
    ``bedtools getfasta`` names them), with ``_1``/``_2`` after the sample for
    haplotypes. The NPZ holds ``two_hot (n_samples, n_regions, 4, max_len) uint8``
    (channels A,C,G,T; N-padded past each region's end), ``samples``, ``chrom``,
    ``start``, ``end``.
    """
    from varinterp.genome.build import sample_ids

    check_output(out)
    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        choices = ", ".join(f.value for f in ExportFormat)
        msg = f"--format {fmt!r} is not one of: {choices}"
        raise InputError(msg) from None
    samples = sample_ids(samples)
    gs = GenomeStore.open(store, reference_only=reference_only)
    table, _ = check_regions(read_bed(regions), gs.contig_lengths, source=str(regions))
    names = list(gs.samples) if samples is None else samples
    if not names:
        msg = f"store {gs.path.name} has no samples to export; use --reference-only"
        raise InputError(msg)
    sample_idx = gs.sample_indices(names)
    if fmt is ExportFormat.fasta_haplotypes and not reference_only:
        if not gs.is_phased(sample_idx):
            msg = "the store's genotypes are not all phased; use --format fasta-iupac or npz"
            raise InputError(msg)
    out = Path(out)
    chroms = table["chrom"].to_numpy()
    starts = table["start"].to_numpy()
    ends = table["end"].to_numpy()
    if fmt is ExportFormat.npz:
        max_len = int((ends - starts).max())
        arr = np.zeros((len(names), len(table), 4, max_len), dtype=np.uint8)
        for k, s in enumerate(sample_idx):
            arr[k] = gs.windows(s, chroms, starts, max_len)
            report(on_progress, k + 1, len(names))
        for r, length in enumerate(ends - starts):
            arr[:, r, :, length:] = 0
        with atomic_path(out, suffix=".npz") as tmp, tmp.open("wb") as fh:
            np.savez_compressed(
                fh,
                two_hot=arr,
                samples=np.array(names),
                chrom=chroms.astype(str),
                start=starts,
                end=ends,
            )
        return ExportSummary(out, len(names), len(table), len(names) * len(table))

    n_records = 0
    with atomic_path(out) as tmp, tmp.open("w") as fh:
        for k, (name, s) in enumerate(zip(names, sample_idx, strict=True)):
            for chrom, start, end in zip(chroms, starts, ends, strict=True):
                label = f"{chrom}:{start}-{end}"
                if fmt is ExportFormat.fasta_iupac:
                    seq = two_hot_to_iupac(gs.windows(s, chrom, start, end - start)[0])
                    _write_record(fh, f"{name}::{label}", seq)
                    n_records += 1
                else:
                    codes = gs.haplotype_codes(s, chrom, start, end - start)[0]
                    for h in range(2):
                        _write_record(fh, f"{name}_{h + 1}::{label}", sequence_from_codes(codes[h]))
                        n_records += 1
            report(on_progress, k + 1, len(names))
    return ExportSummary(out, len(names), len(table), n_records)


def _write_record(fh, name: str, seq: str) -> None:
    fh.write(f">{name}\n")
    for i in range(0, len(seq), _LINE):
        fh.write(seq[i : i + _LINE] + "\n")
