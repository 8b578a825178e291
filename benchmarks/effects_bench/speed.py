"""Wall time of `bench qtl` and `bench mpra` on a synthetic cohort (random CLIPNET weights).

    python benchmarks/effects_bench/speed.py --threads 1 --qtls 40 --oligos 200

Builds a random 2-contig reference, a VCF of `--individuals` samples, one stranded
bigWig pair per individual and a 2-fold model directory of the published CLIPNET
geometry (`--small` for `ClipnetConfig.small()`), then times both benchmarks
(hold-out composite, reverse-complement averaging, 1,000 bootstraps). Prints the
counts of predicted windows and the seconds taken.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _world(folder: Path, args) -> dict:
    from varinterp.genome.build import build_store
    from varinterp.io.bigwig import write_bigwig
    from varinterp.models.clipnet.network import Clipnet, ClipnetConfig
    from varinterp.training.modeldir import save_model_dir

    rng = np.random.default_rng(0)
    lengths = {"chr1": 200_000, "chr9": 200_000}
    seqs = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in lengths.items()}
    (folder / "ref.fa").write_text("".join(f">{c}\n{s}\n" for c, s in seqs.items()))
    samples = [f"s{i}" for i in range(args.individuals)]
    lines = ["##fileformat=VCFv4.2"] + [f"##contig=<ID={c},length={n}>" for c, n in lengths.items()]
    lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    lines.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                            "FORMAT", *samples]))  # fmt: skip
    qtls = []
    for c in lengths:
        pos = np.sort(rng.choice(np.arange(1000, lengths[c] - 1000), 600, replace=False))
        for p in pos:
            ref = seqs[c][p - 1]
            alt = "ACGT"[("ACGT".index(ref) + 1) % 4]
            gts = rng.choice(["0/0", "0/1", "1/1"], args.individuals, p=[0.4, 0.4, 0.2])
            vid = f"rs{c}_{p}"
            lines.append("\t".join([c, str(p), vid, ref, alt, ".", "PASS", ".", "GT", *gts]))
            qtls.append(vid)
    (folder / "cohort.vcf").write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(folder / "cohort.vcf")], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(folder / "cohort.vcf.gz")], check=True)
    build_store(vcf=folder / "cohort.vcf.gz", fasta=folder / "ref.fa", out=folder / "c.vgs")
    sheet = ["library\tsample\tplus\tminus"]
    for s in samples:
        for strand, sign in (("plus", 1), ("minus", -1)):
            tracks = [
                (c, 0, sign * rng.poisson(0.3, n).astype(np.float32)) for c, n in lengths.items()
            ]
            write_bigwig(folder / f"{s}.{strand}.bw", chrom_sizes=lengths, tracks=tracks)
        sheet.append(f"{s}\t{s}\t{s}.plus.bw\t{s}.minus.bw")
    (folder / "sheet.tsv").write_text("\n".join(sheet) + "\n")
    picked = rng.choice(qtls, args.qtls, replace=False)
    (folder / "qtls.txt").write_text("\n".join(picked) + "\n")
    cfg = ClipnetConfig.small() if args.small else ClipnetConfig()
    folds = {}
    for k in (1, 2):
        torch.manual_seed(k)
        m = Clipnet(cfg)
        m.init_quantity_scale(20.0, 5.0)
        folds[f"fold_{k}"] = m.eval()
    save_model_dir(folder / "model", config=cfg, folds=folds,
                   metadata={"folds": {"chr1": 1, "chr9": 0}, "n_folds": 10})  # fmt: skip
    rows = ["id\tchrom\tpos\tref\talt\toligo\tactive\temvar\tlog2fc"]
    for i in range(args.oligos):
        oligo = "".join(rng.choice(list("ACGT"), 200))
        alt = "ACGT"[("ACGT".index(oligo[100]) + 1) % 4]
        rows.append(f"o{i}\t{['chr1', 'chr9'][i % 2]}\t{1000 + i}\t{oligo[100]}\t{alt}\t{oligo}"
                    f"\t1\t{int(rng.random() < 0.3)}\t{rng.normal():.3f}")  # fmt: skip
    (folder / "oligos.tsv").write_text("\n".join(rows) + "\n")
    (folder / "bb.fa").write_text(">bb\n" + "".join(rng.choice(list("ACGT"), 3000)) + "\n")
    return {"folder": folder}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--qtls", type=int, default=40)
    parser.add_argument("--individuals", type=int, default=20)
    parser.add_argument("--oligos", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from varinterp.effects.mpra import mpra_benchmark
    from varinterp.effects.qtl import qtl_benchmark

    with tempfile.TemporaryDirectory() as tmp:
        f = _world(Path(tmp), args)["folder"]
        t0 = time.perf_counter()
        res = qtl_benchmark(qtls=f / "qtls.txt", store=f / "c.vgs", sample_sheet=f / "sheet.tsv",
                            models={"m": f / "model"}, out=f / "q", device=args.device)  # fmt: skip
        t_qtl = time.perf_counter() - t0
        ok = res.table[res.table["status"] == "ok"]
        windows = int((ok["n_hom_ref"] + ok["n_hom_alt"]).sum())
        print(f"bench qtl: {len(ok)} QTLs scored, {windows} personal windows "
              f"(before de-duplication), {t_qtl:.1f} s")  # fmt: skip
        t0 = time.perf_counter()
        mpra_benchmark(oligos=f / "oligos.tsv", backbone=f / "bb.fa", insert_start=1500,
                       out=f / "m", models={"m": f / "model"}, device=args.device)  # fmt: skip
        t_mpra = time.perf_counter() - t0
        print(f"bench mpra: {args.oligos} variants = {2 * args.oligos} constructs, "
              f"1000 bootstraps, {t_mpra:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
