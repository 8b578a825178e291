"""Statistical fine-mapping of GWAS loci from summary statistics and LD.

Modules: `sumstats` (reading summary statistics), `ld` (LD from PLINK genotypes or a
matrix file; PSD checks), `align` (matching alleles to the LD panel), `susie` (SuSiE-RSS
by IBSS, numpy), `abf` (Wakefield approximate Bayes factors), `credsets` (credible sets and
purity), `run` (the `varinterp finemap` command as a function), `simulate` (loci with
known causal variants for tests and benchmarks).
"""
