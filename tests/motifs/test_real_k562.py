"""Conformance on real data: the 17,732 ABC K562 chr22 candidate elements with the real
K562 chr22 accessibility (DHS read counts of the ABC run; the K562 accessibility bigWig),
checked against independent parses with the standard library and pyBigWig."""

from __future__ import annotations

import csv

import numpy as np
import pyBigWig

from varinterp.io.intervals import read_peaks
from varinterp.motifs.accessibility import counts_from_bigwigs, counts_from_table
from varinterp.motifs.features import accessibility_cpm

DHS = "Enhancers.DHS.ENCFF860XAE.chr22.sorted.se.bam.CountReads.bedgraph"


def test_elements_counts_and_accessibility_column(shared_fixtures, tmp_path):
    abc = shared_fixtures / "abc_k562_chr22"
    peaks = read_peaks(abc / "EnhancerList.bed")
    assert len(peaks) == 17_732
    with open(abc / DHS) as fh:
        rows = [r for r in csv.reader(fh, delimiter="\t")]
    table = tmp_path / "counts.tsv"
    table.write_text("chrom\tstart\tend\tK562\n" + "".join("\t".join(r[:4]) + "\n" for r in rows))
    counts, types = counts_from_table(table, peaks)
    assert types == ("K562",)
    want = {(r[0], int(r[1]), int(r[2])): float(r[3]) for r in rows}
    keys = list(zip(peaks["chrom"], peaks["start"], peaks["end"], strict=True))
    np.testing.assert_array_equal(counts[:, 0], [want[k] for k in keys])
    acpm = accessibility_cpm(counts)
    c = np.array([want[k] for k in keys])
    np.testing.assert_allclose(acpm[:, 0], np.log10(c / c.sum() * 1e5 + 1), rtol=1e-6)
    # the real accessibility track summed over every element
    bw = shared_fixtures / "deepdetails_chr22" / "acc.K562.chr22.bw"
    tracks = tmp_path / "tracks.tsv"
    tracks.write_text(f"cell_type\tpath\nK562\t{bw}\n")
    sums, _ = counts_from_bigwigs(tracks, peaks.iloc[::50])
    handle = pyBigWig.open(str(bw))
    ref = [
        handle.stats("chr22", int(s), int(e), type="sum", exact=True)[0] or 0.0
        for s, e in zip(peaks["start"].iloc[::50], peaks["end"].iloc[::50], strict=True)
    ]
    np.testing.assert_allclose(sums[:, 0], ref, rtol=1e-4)
    assert (sums[:, 0] > 0).mean() > 0.5
