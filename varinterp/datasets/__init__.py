"""Training data of sequence-to-function models.

- `varinterp.datasets.samplesheet`: the sample sheet (library -> store sample -> bigWigs);
- `varinterp.datasets.tracks`: per-library RPM tracks around peaks, read once;
- `varinterp.datasets.folds`: chromosome folds (the published human table, balanced
  automatic folds) and the train / validation / test rule;
- `varinterp.datasets.prefetch`: background batch building.

(CLIPNET's `ClipnetData` is `varinterp.models.clipnet.data`.)
"""
