"""ATAC-seq inputs: reads (fragments, BAM) -> per-cell-type Tn5 insertion tracks and OCRs.

- `varinterp.atac.sources`: fragments files and BAMs with a barcode table, or one file
  per cell type, streamed as Tn5 insertions (the +4/-4 shift, sort and garbage checks);
- `varinterp.atac.peaks`: per-cell-type summits and their merged OCR set;
- `varinterp.atac.insertions`: `count_insertions` (``varinterp atac insertions``).

The models trained on the tracks are the bpAI-TAC family (`varinterp.models.bpaitac`).
"""

from __future__ import annotations

__all__: list[str] = []
