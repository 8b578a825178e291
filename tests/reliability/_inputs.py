"""Valid inputs for every command, built once: a small simulated world and tiny models.

`build_inputs(root)` writes everything under `root` and returns the paths by key
(`Inputs`). The bad-input sweep starts each case from these and breaks one thing.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
ZOO = REPO / "models"

__all__ = ["Inputs", "build_inputs", "current_inputs", "load_inputs", "run_toml"]

_CURRENT: list[Inputs] = []


def current_inputs() -> Inputs:
    """The inputs the sweep runs on (set by `build_inputs` / `load_inputs`)."""
    return _CURRENT[-1]


@dataclass
class Inputs:
    """Paths of the valid inputs, by key (``inputs["vcf"]``), and the world's facts."""

    root: Path
    paths: dict[str, Path]
    chrom_lengths: dict[str, int]

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]

    def __str__(self) -> str:  # pragma: no cover - for failure messages
        return str(self.root)


def run_toml(path: Path, *, store: Path, sheet: Path, peaks: Path, extra: str = "") -> Path:
    """A tiny CLIPNET run config: a fold per chromosome, a 240-bp model, 2 short epochs."""
    path.write_text(
        "[data]\n"
        f'store = "{store}"\nsample_sheet = "{sheet}"\npeaks = "{peaks}"\n'
        "[data.folds]\nchr1 = 1\nchr2 = 2\nchr3 = 3\n"
        "[model]\n"
        'preset = "small"\ninput_length = 240\noutput_length = 100\nn_dilations = 2\n'
        "conv1_filters = 4\nconv2_filters = 4\nn_filters = 4\n"
        "[training]\n"
        'batch_size = 16\nmax_epochs = 2\npatience = 2\nprefetch = 1\ndevice = "cpu"\n'
        "max_batches_per_epoch = 3\n" + extra
    )
    return path


def _procap_sheet(procap: Path, out: Path) -> Path:
    """The simulated sample sheet with absolute bigWig paths."""
    lines = (procap / "samples.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    keep = [head.index(c) for c in ("library", "sample", "plus", "minus")]
    rows = ["\t".join(head[i] for i in keep)]
    for line in lines[1:]:
        cols = line.split("\t")
        lib, sample, plus, minus = (cols[i] for i in keep)
        rows.append(f"{lib}\t{sample}\t{procap / plus}\t{procap / minus}")
    out.write_text("\n".join(rows) + "\n")
    return out


def _score_vcf(world_vcf: Path, out: Path, n: int = 40) -> Path:
    """The first `n` records of the cohort VCF, sites only, bgzipped and indexed."""
    kept = []
    with gzip.open(world_vcf, "rt") as fh:
        for line in fh:
            if line.startswith("##"):
                if not line.startswith("##FORMAT"):
                    kept.append(line)
            elif line.startswith("#"):
                kept.append("\t".join(line.split("\t")[:8]).rstrip("\n") + "\n")
            elif sum(not x.startswith("#") for x in kept) < n:
                kept.append("\t".join(line.split("\t")[:8]).rstrip("\n") + "\n")
    plain = out.with_suffix("")
    plain.write_text("".join(kept))
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    return out


def _keras_h5(path: Path) -> Path:
    """A small CLIPNET laid out as Keras' ``model.save("fold_1.h5")`` would write it."""
    import torch

    from tests.models.clipnet.test_keras import write_keras_h5
    from varinterp.models.clipnet.network import Clipnet, ClipnetConfig

    torch.manual_seed(0)
    cfg = ClipnetConfig(
        input_length=240, output_length=100, n_dilations=2, conv1_filters=4,
        conv2_filters=4, n_filters=4,
    )  # fmt: skip
    write_keras_h5(Clipnet(cfg).eval(), path)
    return path


def _legacy_deepdetails(path: Path) -> Path:
    """A DeepDETAILS model folder in the previous release's layout."""
    import torch

    from tests.deconv.conftest import tiny_config
    from tests.models.deepdetails.test_model_dir import _legacy_dir
    from varinterp.models.deepdetails.network import build_model

    torch.manual_seed(0)
    return _legacy_dir(path, build_model(tiny_config(count_scale=20.0)).eval())


def _reference_h5(path: Path) -> Path:
    """A data file of the DeepDETAILS tool's prep-data (three windows, two cell types)."""
    from tests.deconv.test_cli import _reference_h5 as write

    return write(path, n=3, k=3)


def _get_inputs(root: Path) -> dict[str, Path]:
    """A small expression world, its motif features, a tiny GET model and a LoRA adapter
    of it (seconds on one core)."""
    from varinterp.models.get.pipeline import lora_get_model, train_get_model
    from varinterp.motifs.pipeline import scan_peaks
    from varinterp.simulate.expression import simulate_expression

    world = root / "world"
    simulate_expression(
        out=world, seed=4, n_chromosomes=2, chrom_length=100_000, mean_spacing=2_000, n_snps=4
    )
    p = {
        "expr_world": world,
        "expr_fasta": world / "genome.fa",
        "features": scan_peaks(
            peaks=world / "peaks.bed",
            fasta=world / "genome.fa",
            motifs=world / "motifs.meme",
            clusters=world / "clusters.tsv",
            counts=world / "counts.tsv",
            out=root / "features.h5",
        ).out,
    }
    data = {
        "features": p["features"],
        "expression": world / "expression.tsv",
        "tss": world / "genes.bed",
    }
    p["get_model"] = train_get_model(
        **data,
        out=root / "model",
        config={"n_regions": 16, "d_model": 16, "n_layers": 1, "n_heads": 2},
        recipe={"epochs": 1, "held_out_cell_types": ["heldout"]},
        device="cpu",
    ).out
    p["get_adapter"] = lora_get_model(
        **data,
        base=p["get_model"],
        out=root / "adapter",
        cell_types=["heldout"],
        rank=2,
        recipe={"epochs": 1},
        device="cpu",
    ).out
    return p


def _atac_inputs(root: Path) -> dict[str, Path]:
    """A tiny simulated ATAC world, its insertion tracks, run configs, a Tn5 bias model and
    a bpAI-TAC model (one epoch each; seconds on one core)."""
    from tests.models.bpaitac._world import make_tiny_atac, write_config
    from varinterp.models.bpaitac.train import train_bpaitac, train_tn5_bias

    tiny = make_tiny_atac(root, seed=3, genome_size=60_000)
    p = {
        "atac_world": tiny.files.out_dir,
        "atac_ins": tiny.insertions,
        "bias_toml": write_config(root / "bias.toml", tiny, bias=True, training={"max_epochs": 1}),
        "bpaitac_toml": write_config(root / "run.toml", tiny, training={"max_epochs": 1}),
    }
    p["tn5_bias"] = train_tn5_bias(config=p["bias_toml"], out=root / "bias", device="cpu").out
    p["bpaitac_model"] = train_bpaitac(
        config=p["bpaitac_toml"], out=root / "model", bias_model=p["tn5_bias"], device="cpu"
    ).out
    return p


def _multiome_inputs(root: Path) -> dict[str, Path]:
    """A tiny simulated multiome run, prepared, and a cREscENDO model trained on it for one
    epoch (seconds on one core)."""
    from varinterp.models.crescendo.prep import PrepSettings, prepare_multiome
    from varinterp.models.crescendo.train import CrescendoSettings, train_crescendo
    from varinterp.simulate.multiome_files import simulate_multiome

    files = simulate_multiome(
        out=root / "world", seed=0, n_cells=120, n_cell_types=2, n_genes=8, n_chromosomes=1,
        gene_spacing=40_000, background_spacing=9_000, causal_distance=15_000,
    )  # fmt: skip
    prepare_multiome(
        matrix=files.h5,
        fasta=files.fasta,
        tss=files.tss_bed,
        out=root / "prep",
        cell_types=files.cell_types,
        settings=PrepSettings(min_genes=1, n_pcs=5, n_folds=0),
    )
    settings = CrescendoSettings(preset="small", encoder_epochs=1, gene_epochs=1, encoder_batch=64)
    run = train_crescendo(root / "prep", out=root / "train", settings=settings, device="cpu")
    return {"multiome": files.out_dir, "cres_prep": root / "prep", "cres_model": run.model_dir}


def build_inputs(root: Path) -> Inputs:
    """Write every valid input under `root` (a fresh folder) and return their paths."""
    import torch

    from varinterp.deconv.run import prepare_data
    from varinterp.demo.evidence import planted_evidence
    from varinterp.finemap.run import finemap
    from varinterp.genome.build import build_store
    from varinterp.models.deepdetails.train import TrainSettings, train_deconv
    from varinterp.simulate.celltypes import simulate_celltypes
    from varinterp.simulate.gwas import simulate_gwas, write_gwas
    from varinterp.simulate.procap import simulate_procap
    from varinterp.simulate.store import simulate_world

    torch.set_num_threads(1)
    p: dict[str, Path] = {}
    world, files = simulate_world(
        out=root / "world", seed=0, n_individuals=8, genome_size=120_000, n_chromosomes=3
    )
    lengths = {c: int(n) for c, n in world.reference.lengths.items()}
    p["world"] = root / "world"
    p["fasta"] = files.fasta
    p["vcf"] = files.vcf
    p["store"] = build_store(vcf=files.vcf, fasta=files.fasta, out=root / "cohort.vgs").path
    p["elements_bed"] = files.elements_bed
    p["score_vcf"] = _score_vcf(files.vcf, root / "variants.vcf.gz")
    regions = root / "regions.bed"
    regions.write_text("chr1\t12000\t13500\tr1\nchr2\t5000\t6000\tr2\n")
    p["regions"] = regions
    samples = root / "samples.txt"
    samples.write_text("\n".join(world.cohort.samples[:3]) + "\n")
    p["samples"] = samples

    procap = simulate_procap(world_dir=p["world"], out=root / "procap", world=world).out_dir
    p["procap"] = procap
    p["sheet"] = _procap_sheet(procap, root / "sheet.tsv")
    p["peaks"] = procap / "peaks.bed"
    p["run_toml"] = run_toml(
        root / "run.toml", store=p["store"], sheet=p["sheet"], peaks=p["peaks"]
    )
    text = p["run_toml"].read_text()
    p["ft_toml"] = root / "finetune.toml"
    p["ft_toml"].write_text(text[: text.index("[model]")] + text[text.index("[training]") :])
    p["clipnet"] = ZOO / "clipnet-demo"
    p["deepdetails"] = ZOO / "deepdetails-demo"

    ct = root / "celltypes"
    simulate_celltypes(
        world_dir=p["world"], out=ct, world=world, n_cells=40, fragments_per_cell=200.0
    )
    p["celltypes"] = ct
    names = ("hepatocyte", "kupffer", "endothelial")
    p["data_h5"] = root / "deconv" / "data.h5"
    prepare_data(
        bulk_pl=ct / "bulk.pl.bw",
        bulk_mn=ct / "bulk.mn.bw",
        accessibility={n: ct / "accessibility" / f"{n}.bw" for n in names},
        truth={n: (ct / "truth" / f"{n}.pl.bw", ct / "truth" / f"{n}.mn.bw") for n in names},
        out=p["data_h5"],
        n_peaks=6,
    )
    train = train_deconv(
        p["data_h5"],
        config={"filters": 4, "gru_layers": 1},
        out=root / "deconv" / "train",
        settings=TrainSettings(epochs=1, batch_size=4, max_retry=0, patience=1),
    )
    p["deconv_model"] = train.model_dir

    evidence = planted_evidence(world, chrom="chr1", out=root / "evidence")
    p.update(
        genes=evidence["genes"],
        abc_dir=evidence["abc_dir"],
        celltype_tracks=evidence["tracks"],
        candidates=root / "evidence" / "candidates.bed",
        abc_samples=root / "evidence" / "samples.tsv",
    )
    tracks = root / "element_tracks.tsv"
    tracks.write_text(
        "cell_type\tpath\tminus\n"
        + "".join(
            f"{n}\t{ct / 'truth' / f'{n}.pl.bw'}\t{ct / 'truth' / f'{n}.mn.bw'}\n" for n in names
        )
    )
    p["element_tracks"] = tracks
    gwas_vars = root / "gwas_variants.tsv"
    gwas_vars.write_text("chrom\tpos\ttrait\nchr1\t12700\tT1\nchr1\t20000\tT1\nchr2\t100\tT2\n")
    p["gwas_variants"] = gwas_vars

    locus = simulate_gwas(world=world, seed=0, n_individuals=2000)
    p["gwas"] = write_gwas(locus, root / "gwas")
    p["sumstats"] = p["gwas"] / "sumstats.tsv"
    p["finemap"] = finemap(
        sumstats=p["sumstats"],
        ld_matrix=p["gwas"] / "ld.npy",
        ld_variants=p["gwas"] / "ld_variants.tsv",
        out=root / "finemap",
        L=2,
    ).out

    qtls = root / "qtls.tsv"
    first = _common_snvs(files.vcf, 3)
    qtls.write_text("qtl\n" + "".join(f"{c}:{pos}:{r}:{a}\n" for c, pos, r, a in first))
    p["qtls"] = qtls
    backbone = root / "backbone.fa"
    rng = np.random.default_rng(0)
    backbone.write_text(">bb\n" + "".join(rng.choice(list("ACGT"), 1200)) + "\n")
    p["backbone"] = backbone
    oligos = root / "oligos.tsv"
    rows = ["id\tchrom\tpos\tref\talt\toligo\tactive\temvar\tlog2fc\tother"]
    for i in range(12):
        seq = list(rng.choice(list("ACGT"), 31))
        ref = seq[15]
        alt = {"A": "G", "C": "T", "G": "A", "T": "C"}[ref]
        rows.append(
            f"v{i}\tchr{1 + i % 2}\t{1000 + i}\t{ref}\t{alt}\t{''.join(seq)}\t1\t{i % 2}"
            f"\t{rng.normal():.3f}\t{rng.normal():.3f}"
        )
    oligos.write_text("\n".join(rows) + "\n")
    p["oligos"] = oligos
    p["keras_h5"] = _keras_h5(root / "fold_1.h5")
    p["legacy_deepdetails"] = _legacy_deepdetails(root / "old-deepdetails")
    p["reference_h5"] = _reference_h5(root / "reference_data.h5")
    p["reference_sizes"] = root / "reference.sizes"
    p["reference_sizes"].write_text("chrQ\t100000\n")
    tiles = root / "tiles.bed"
    tiles.write_text(
        "".join(
            f"{c}\t{i}\t{i + 300}\n" for c, n in lengths.items() for i in range(0, n - 300, 300)
        )
    )
    p["tiles"] = tiles
    listing = root / "specific.tsv"
    listing.write_text("cell_type\tbed\nA\tspecific_a.bed\nB\tspecific_b.bed\n")
    (root / "specific_a.bed").write_text("chr1\t12000\t13500\nchr2\t0\t1000\n")
    (root / "specific_b.bed").write_text("chr1\t19000\t21000\n")
    p["specific"] = listing
    p["chrom_sizes"] = ct / "chrom.sizes"
    context = root / "context.tsv"
    context.write_text(
        "task\tbigwig\n" + "".join(f"{n}\t{ct / 'accessibility' / f'{n}.bw'}\n" for n in names)
    )
    p["context_tracks"] = context
    p.update(_get_inputs(root / "get"))
    p.update(_atac_inputs(root / "atac"))
    p.update(_multiome_inputs(root / "multiome"))
    p["store_v1"] = root / "v1.vgs"
    shutil.copytree(REPO / "tests" / "data" / "genome_store_v1" / "v1.vgs", p["store_v1"])
    p["empty_dir"] = root / "empty"
    p["empty_dir"].mkdir()
    shutil.copy(p["fasta"], root / "copy.fa")
    import pyfaidx

    for path in p.values():  # index every FASTA now, so that no run adds a .fai later
        if path.suffix == ".fa" and not Path(f"{path}.fai").is_file():
            pyfaidx.Faidx(str(path)).close()
    inputs = Inputs(root=root, paths=p, chrom_lengths=lengths)
    (root / "inputs.json").write_text(
        json.dumps({"paths": {k: str(v) for k, v in p.items()}, "chrom_lengths": lengths})
    )
    _CURRENT.append(inputs)
    return inputs


def load_inputs(root: Path) -> Inputs:
    """The inputs that `build_inputs` wrote under `root`."""
    data = json.loads((root / "inputs.json").read_text())
    inputs = Inputs(
        root=root,
        paths={k: Path(v) for k, v in data["paths"].items()},
        chrom_lengths=data["chrom_lengths"],
    )
    _CURRENT.append(inputs)
    return inputs


def _common_snvs(vcf: Path, n: int) -> list[tuple[str, int, str, str]]:
    """The first `n` SNVs with both homozygous genotypes in the cohort (QTL candidates)."""
    out = []
    with gzip.open(vcf, "rt") as fh:
        for line in fh:
            if line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            c, pos, _, ref, alt = cols[:5]
            calls = {g.replace("|", "/") for g in cols[9:]}
            if len(ref) == len(alt) == 1 and {"0/0", "1/1"} <= calls:
                out.append((c, int(pos), ref, alt))
            if len(out) == n:
                break
    return out
