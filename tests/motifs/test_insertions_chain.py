"""GET's accessibility from fragments: `atac insertions` writes the per-cell-type
insertion bigWigs and their table, and `motifs scan --tracks` reads that table as the
track table; each region's count is the sum of its cell type's insertions over it."""

from __future__ import annotations

import numpy as np
import pyBigWig

from varinterp.atac.insertions import count_insertions
from varinterp.motifs.files import read_features
from varinterp.motifs.pipeline import scan_peaks
from varinterp.simulate.atac_writers import simulate_atac

_MEME = """MEME version 4

ALPHABET= ACGT

strands: + -

Background letter frequencies
A 0.25 C 0.25 G 0.25 T 0.25

MOTIF GATA1 GATA1
letter-probability matrix: alength= 4 w= 4 nsites= 20 E= 0
0.97 0.01 0.01 0.01
0.01 0.01 0.01 0.97
0.97 0.01 0.01 0.01
0.01 0.01 0.97 0.01
"""


def test_insertion_tables_feed_the_motif_features(tmp_path):
    _, files = simulate_atac(out=tmp_path / "world", seed=3, genome_size=300_000,
                             n_chromosomes=2)  # fmt: skip
    ins = count_insertions(
        out=tmp_path / "ins", chrom_sizes=files.chrom_sizes, fragments=files.fragments,
        barcodes=files.barcodes, peaks=files.ocrs_bed, shift=False, min_fragments=10,
    )  # fmt: skip
    peaks = tmp_path / "peaks.bed"
    peaks.write_text("".join(files.ocrs_bed.read_text().splitlines(keepends=True)[:40]))
    motifs = tmp_path / "m.meme"
    motifs.write_text(_MEME)
    scan_peaks(peaks=peaks, out=tmp_path / "f.h5", fasta=files.fasta, motifs=motifs,
               bigwigs=ins.tasks)  # fmt: skip
    feats = read_features(tmp_path / "f.h5")

    assert list(feats.cell_types) == list(ins.cell_types)
    spans = list(feats.regions[["chrom", "start", "end"]].itertuples(index=False))
    naive = np.zeros((len(spans), len(ins.cell_types)))
    for k, cell_type in enumerate(ins.cell_types):
        with pyBigWig.open(str(ins.out / "insertions" / f"{cell_type}.bw")) as bw:
            for i, (c, s, e) in enumerate(spans):
                values = np.nan_to_num(np.asarray(bw.values(c, int(s), int(e)), dtype=float))
                naive[i, k] = values.sum()
    np.testing.assert_allclose(feats.counts, naive)
    assert naive.sum() > 0
