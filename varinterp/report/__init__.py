"""Reports that combine fine-mapping with regulatory evidence.

`locus.locus_report` writes one self-contained HTML page (figures inlined) and a
candidate TSV for a GWAS locus; `candidates.rank_candidates` ranks fine-mapped variants
with cell-type-specific elements, ABC links and predicted effects; `figures` draws the
locus plot, per-cell-type tracks and ABC arcs (matplotlib Agg, PNG); `html` assembles
escaped HTML; `inputs` reads every input format. The demo's simulated PSC-like locus is
`varinterp.demo.locus.locus_report_step`. See docs/report.md.
"""
