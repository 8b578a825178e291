"""A valid invocation of every command, written over the inputs of `_inputs`.

``{key}`` is an input path (`Inputs`), ``{out}`` the case's output folder. Each bad-input
case of the sweep starts from one of these and breaks one thing.
"""

from __future__ import annotations

__all__ = ["VALID"]

_CT = "{celltypes}"

#: command -> a valid argument list (without the command words).
VALID: dict[str, list[str]] = {
    "genome build": ["--vcf", "{vcf}", "--fasta", "{fasta}", "--out", "{out}/c.vgs", "-q"],
    "genome info": ["--store", "{store}"],
    "genome upgrade": ["--store", "{store_v1}", "--out", "{out}/new.vgs", "-q"],
    "genome export": [
        "--store", "{store}", "--regions", "{regions}", "--out", "{out}/x.fa",
        "--samples", "{samples}", "-q",
    ],
    "train clipnet": ["--config", "{run_toml}", "--out", "{out}/m", "--folds", "1", "-q"],
    "finetune": [
        "--from", "{clipnet}", "--config", "{ft_toml}", "--out", "{out}/ft", "--folds", "1",
        "-q",
    ],
    "evaluate": [
        "--model", "{clipnet}", "--config", "{run_toml}", "--out", "{out}/ev", "--examples",
        "0", "--device", "cpu", "-q",
    ],
    "models list": [],
    "models fetch": ["clipnet-demo", "--out", "{out}/zoo-copy", "-q"],
    "models import-clipnet": ["{keras_h5}", "--out", "{out}/imported", "-q"],
    "models upgrade": ["{legacy_deepdetails}", "--out", "{out}/upgraded", "-q"],
    "score": [
        "--variants", "{score_vcf}", "--model", "{clipnet}", "--fasta", "{fasta}",
        "--out", "{out}/effects.tsv", "--device", "cpu", "--no-rc", "-q",
    ],
    "attribute": [
        "--model", "{clipnet}", "--fasta", "{fasta}", "--out", "{out}/attr.npz",
        "--region", "chr1:12001-12100", "--method", "ixg", "--device", "cpu", "-q",
    ],
    "bench qtl": [
        "--qtls", "{qtls}", "--store", "{store}", "--tracks", "{sheet}",
        "--model", "demo={clipnet}", "--out", "{out}/qtl", "--device", "cpu", "--no-rc-average",
        "-q",
    ],
    "bench mpra": [
        "--oligos", "{oligos}", "--backbone", "{backbone}", "--insert-at", "500",
        "--score-column", "o=other", "--out", "{out}/mpra", "--bootstraps", "5", "-q",
    ],
    "deconvolve pseudobulk": [
        "--fragments", f"{_CT}/fragments.tsv.gz", "--barcodes", f"{_CT}/barcodes.tsv",
        "--out", "{out}/pb", "--chrom-sizes", "{chrom_sizes}", "--skip-preflight",
        "--min-cells", "5", "-q",
    ],
    "deconvolve preflight": [
        "--fragments", f"{_CT}/fragments.tsv.gz", "--barcodes", f"{_CT}/barcodes.tsv",
        "--peaks", "{tiles}", "--bulk-pl", f"{_CT}/bulk.pl.bw", "--out", "{out}/pf",
        "--min-cells", "5", "--replicates", "2", "--fdr", "0.5", "--fold-change", "1.2", "-q",
    ],
    "deconvolve prep": [
        "--bulk-pl", f"{_CT}/bulk.pl.bw", "--bulk-mn", f"{_CT}/bulk.mn.bw",
        "--acc", f"hepatocyte={_CT}/accessibility/hepatocyte.bw",
        "--acc", f"kupffer={_CT}/accessibility/kupffer.bw",
        "--out", "{out}/data.h5", "--n-peaks", "4", "-q",
    ],
    "deconvolve import-h5": [
        "--h5", "{reference_h5}", "--cell-type", "a", "--cell-type", "b", "--cell-type", "c",
        "--chrom-sizes", "{reference_sizes}", "--out", "{out}/imported.h5", "-q",
    ],
    "deconvolve train": [
        "--data", "{data_h5}", "--out", "{out}/dt", "--filters", "4", "--gru-layers", "1",
        "--epochs", "1", "--batch-size", "4", "--max-retry", "0", "--device", "cpu", "-q",
    ],
    "deconvolve predict": [
        "--data", "{data_h5}", "--model", "{deconv_model}", "--out", "{out}/pred",
        "--device", "cpu", "-q",
    ],
    "deconvolve eval": ["--data", "{data_h5}", "--out", "{out}/eval.tsv", "-q"],
    "elements call": [
        "--tracks", "{element_tracks}", "--regions", "{elements_bed}", "--out", "{out}/el",
        "--bins", "2", "-q",
    ],
    "elements enrich": [
        "--variants", "{gwas_variants}", "--peaks", "{elements_bed}", "--elements",
        "{specific}", "--out", "{out}/enrich.tsv", "-q",
    ],
    "link abc": [
        "--elements", "{candidates}", "--genes", "{genes}", "--tracks", "{abc_samples}",
        "--out", "{out}/abc", "-q",
    ],
    "finemap": [
        "--sumstats", "{sumstats}", "--ld-matrix", "{gwas}/ld.npy", "--ld-variants",
        "{gwas}/ld_variants.tsv", "--out", "{out}/fm", "-L", "2", "-q",
    ],
    "report locus": [
        "--finemap", "{finemap}", "--out", "{out}/report.html", "--genes", "{genes}",
        "--tracks", "{celltype_tracks}", "--abc", "{abc_dir}", "-q",
    ],
    "motifs scan": [
        "--peaks", "{expr_world}/peaks.bed", "--fasta", "{expr_fasta}",
        "--motifs", "{expr_world}/motifs.meme", "--clusters", "{expr_world}/clusters.tsv",
        "--counts", "{expr_world}/counts.tsv", "--out", "{out}/features.h5", "-q",
    ],
    "get train": [
        "--features", "{features}", "--expression", "{expr_world}/expression.tsv",
        "--tss", "{expr_world}/genes.bed", "--out", "{out}/get", "--n-regions", "16",
        "--d-model", "16", "--n-layers", "1", "--n-heads", "2", "--epochs", "1",
        "--device", "cpu", "-q",
    ],
    "get lora": [
        "--base", "{get_model}", "--features", "{features}",
        "--expression", "{expr_world}/expression.tsv", "--tss", "{expr_world}/genes.bed",
        "--out", "{out}/adapter", "--cell-types", "heldout", "--rank", "2", "--epochs", "1",
        "--device", "cpu", "-q",
    ],
    "get merge": [
        "--base", "{get_model}", "--adapter", "{get_adapter}", "--out", "{out}/merged", "-q",
    ],
    "get enhancers": [
        "--model", "{get_model}", "--cell-type", "type1", "--genes", "g1,g2",
        "--out", "{out}/enhancers.tsv", "-q",
    ],
    "atac insertions": [
        "--out", "{out}/ins", "--chrom-sizes", "{atac_world}/chrom.sizes",
        "--fragments", "{atac_world}/fragments.tsv.gz", "--barcodes", "{atac_world}/barcodes.tsv",
        "--peaks", "{atac_world}/ocrs.bed", "--no-shift", "--min-fragments", "10", "-q",
    ],
    "atac footprint": [
        "--model", "{bpaitac_model}", "--motif", "TGACTCA", "--out", "{out}/fp.tsv", "--n", "4",
        "--device", "cpu", "-q",
    ],
    "train tn5-bias": ["--config", "{bias_toml}", "--out", "{out}/bias", "--device", "cpu", "-q"],
    "train bpaitac": [
        "--config", "{bpaitac_toml}", "--out", "{out}/m", "--bias-model", "{tn5_bias}",
        "--device", "cpu", "-q",
    ],
    "crescendo prep": [
        "--matrix", "{multiome}/multiome.h5", "--fasta", "{multiome}/genome.fa",
        "--tss", "{multiome}/tss.bed", "--cell-types", "{multiome}/cell_types.tsv",
        "--out", "{out}/prep", "--min-genes", "1", "--n-pcs", "5", "--n-folds", "0", "-q",
    ],
    "crescendo train": [
        "--prep", "{cres_prep}", "--out", "{out}/train", "--preset", "small",
        "--encoder-epochs", "1", "--gene-epochs", "1", "--encoder-batch", "64",
        "--device", "cpu", "-q",
    ],
    "crescendo activity": [
        "--model", "{cres_model}", "--out", "{out}/act", "--genes", "GENE0002",
        "--chunk-cells", "40", "--device", "cpu", "-q",
    ],
    "crescendo h5ad": [
        "--matrix", "{multiome}/multiome.h5", "--out", "{out}/m.h5ad",
        "--cell-types", "{multiome}/cell_types.tsv", "-q",
    ],
    "link candidates": [
        "--peaks", "{atac_world}/ocrs.bed", "--accessibility", "{atac_ins}/insertions/MF.bw",
        "--chrom-sizes", "{atac_world}/chrom.sizes", "--out", "{out}/candidates.bed", "-q",
    ],
    "data list": [],
    "data fetch": ["1kg-grch38-2019", "--dry-run", "--cache", "{out}/cache"],
    "data verify": ["--cache", "{empty_dir}", "-q"],
    "data path": ["1kg-grch38-2019", "--cache", "{empty_dir}"],
    "simulate world": [
        "--out", "{out}/w", "-n", "4", "--genome-size", "40000", "--n-chromosomes", "1", "-q",
    ],
    "simulate procap": ["--world", "{world}", "--out", "{out}/pc", "-q"],
    "simulate gwas": ["--world", "{world}", "--out", "{out}/gw", "-n", "500", "-q"],
    "simulate celltypes": [
        "--world", "{world}", "--out", "{out}/ct", "--cells", "hepatocyte=20",
        "--cells", "kupffer=20", "--cells", "endothelial=20", "--fragments-per-cell", "50", "-q",
    ],
    "simulate mixture": [
        "--out", "{out}/mix",
        "--track", f"a={_CT}/library/hepatocyte.pl.bw,{_CT}/library/hepatocyte.mn.bw",
        "--track", f"b={_CT}/library/kupffer.pl.bw,{_CT}/library/kupffer.mn.bw",
        "--depth", "1000", "-q",
    ],
    "simulate expression": [
        "--out", "{out}/ex", "--n-chromosomes", "2", "--chrom-length", "100000",
        "--mean-spacing", "2000", "--n-snps", "4", "-q",
    ],
    "simulate atac": [
        "--out", "{out}/aw", "--genome-size", "20000", "--n-chromosomes", "1", "-q",
    ],
    "simulate multiome": [
        "--out", "{out}/mw", "--cells", "40", "--cell-types", "2", "--genes", "4",
        "--chromosomes", "1", "--gene-spacing", "40000", "--background-spacing", "9000",
        "--causal-distance", "15000", "-q",
    ],
    "demo": ["--out", "{out}/demo", "--quick", "-q"],
}  # fmt: skip
