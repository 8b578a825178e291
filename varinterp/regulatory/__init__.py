"""Regulatory interpretation: cell-type-specific elements, GWAS enrichment, ABC links.

- `varinterp.regulatory.elements`: Welch t-tests of each cell type against the others
  over regions, BH FDR, BED per cell type.
- `varinterp.regulatory.enrichment`: Fisher exact tests of GWAS-trait variants in
  cell-type-specific versus non-specific bulk-peak regions, BH over trait x cell type.
- `varinterp.regulatory.abc_activity`, `abc_contact`, `abc`: the activity-by-contact
  model (activity, power-law or Hi-C contact, scores, thresholds, pruning).
"""
