"""Markdown tables of the cREscENDO claims from the ``claims_<target>.json`` files that
`claims.py` writes (one per seed, cell count and target).

    python benchmarks/crescendo/tables.py OUT [OUT ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("(a) DeepLIFT completeness, max delta", "deeplift_max_delta", "{:.1e}"),
    ("encoder AUROC, held-out peaks", "encoder_val_auroc", "{:.3f}"),
    ("embedding probe: causal vs decoy AUROC", "embedding_probe_auroc", "{:.3f}"),
    ("expression Spearman, test genes x test cells", "spearman_test_genes", "{:.3f}"),
    ("(b) causal vs decoy: max activity", "auroc_decoy_max_activity", "{:.3f}"),
    ("(b) causal vs decoy: mean activity", "auroc_decoy_mean_activity", "{:.3f}"),
    ("(b) causal vs decoy: peak-gene correlation", "auroc_decoy_peak_gene_corr", "{:.3f}"),
    ("(b) causal vs decoy: co-accessibility", "auroc_decoy_coaccess_corr", "{:.3f}"),
    ("(b) 0-20 kb: max activity", "auroc_decoy_max_activity_0-20kb", "{:.3f}"),
    ("(b) 0-20 kb: peak-gene correlation", "auroc_decoy_peak_gene_corr_0-20kb", "{:.3f}"),
    ("(b) 20-60 kb: max activity", "auroc_decoy_max_activity_20-60kb", "{:.3f}"),
    ("(b) 20-60 kb: peak-gene correlation", "auroc_decoy_peak_gene_corr_20-60kb", "{:.3f}"),
    ("(b) 60-300 kb: max activity", "auroc_decoy_max_activity_60-300kb", "{:.3f}"),
    ("(b) 60-300 kb: peak-gene correlation", "auroc_decoy_peak_gene_corr_60-300kb", "{:.3f}"),
    ("(b) causal vs all other candidates: max activity", "auroc_all_max_activity", "{:.3f}"),
    ("(b) causal vs all others: peak-gene correlation", "auroc_all_peak_gene_corr", "{:.3f}"),
    ("(b) causal vs all others: co-accessibility", "auroc_all_coaccess_corr", "{:.3f}"),
    ("(c) causal pairs most active in the planted type", "specific_top_type", "{:.3f}"),
    ("(c) causal pairs specific to the planted type", "specific_labelled", "{:.3f}"),
    ("(c) ... specific to another type", "specific_labelled_other_types", "{:.3f}"),
    ("(e) causal SNVs: largest drop in the planted type", "snv_right_type", "{:.3f}"),
    ("(e) Pearson, predicted vs true change", "snv_pearson_vs_truth", "{:.3f}"),
    ("(e) median abs change, decoy / causal SNVs", "snv_decoy_over_causal", "{:.2f}"),
    ("train seconds", "seconds_train", "{:.0f}"),
    ("activity seconds", "seconds_activity", "{:.0f}"),
]


def main() -> None:
    runs = []
    for folder in sys.argv[1:]:
        for f in sorted(Path(folder).glob("*/claims_*.json")):
            runs.append(json.loads(f.read_text()))
    runs.sort(key=lambda r: (r["target"] != "pca", -r["cells"], r["seed"]))
    head = [f"seed {r['seed']}, {r['cells']:,} cells, {r['target']}" for r in runs]
    print("| measure | " + " | ".join(head) + " |")
    print("|---|" + "---|" * len(runs))
    for label, key, fmt in ROWS:
        vals = [fmt.format(r[key]) if key in r and r[key] == r[key] else "n/a" for r in runs]
        print(f"| {label} | " + " | ".join(vals) + " |")


if __name__ == "__main__":
    main()
