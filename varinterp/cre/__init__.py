"""Per-cell cis-regulatory element activity: the store, the paper's labels, cell-type
specificity and the summaries other stages read.

- `varinterp.cre.store`: `ActivityWriter` / `ActivityStore`, the sparse genes x peaks x
  cells activity array on disk (memory-bounded, written gene by gene);
- `varinterp.cre.labels`: `label_pairs` (promoter; active = top 15% with a positive
  correlation to accessibility; cRE = top 60%);
- `varinterp.cre.specificity`: per pair and cell type, Mann-Whitney U of the activity in
  the type's cells against the others, Benjamini-Hochberg;
- `varinterp.cre.summaries`: ``pairs.tsv``, ``celltypes.tsv``, ``elements.tsv`` and per
  cell type a BED of specific cREs and a bigWig of mean activity (``tracks.tsv``), which
  ``varinterp elements`` and ``varinterp report locus`` read.

A model family computes the activity (cREscENDO: `varinterp.models.crescendo.activity`);
this stage stores and summarises it.
"""
