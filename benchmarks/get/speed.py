"""Speed and memory of GET's pieces: featurisation and training.

    python benchmarks/get/speed.py [--device cpu|cuda] [--world DIR]

Featurisation: regions/s of `varinterp.motifs.features.motif_features` (memelite's FIMO
+ the cluster summary) with the world's 13 motifs and with the shipped 2,179-matrix
collection, against a brute-force numpy scan (every window of every motif on both
strands scored with one einsum, thresholded at the score FIMO uses for p < 1e-4).
Training: samples/s of the engine on a CPU-sized GET (D 64, 3 layers, 64 regions) and
at the published widths (D 768, 12 layers, 12 heads, 200 regions); peak memory of the
process (and of the GPU on CUDA).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch

from varinterp.io.intervals import read_peaks
from varinterp.models.get.data import build_get_data
from varinterp.models.get.expression import read_expression, read_tss
from varinterp.models.get.network import GetConfig
from varinterp.models.get.train import GetRecipe, train_get
from varinterp.motifs.archetypes import default_clusters, default_motifs
from varinterp.motifs.clusters import read_cluster_table
from varinterp.motifs.features import motif_features
from varinterp.motifs.files import read_features
from varinterp.motifs.meme import read_meme
from varinterp.motifs.pipeline import scan_peaks
from varinterp.motifs.sequences import region_onehot
from varinterp.simulate.expression import simulate_expression


def brute_force(motifs, x, threshold_scores):
    """Every window score of every motif, both strands; returns the number of hits."""
    from numpy.lib.stride_tricks import sliding_window_view

    n = 0
    for m, t in zip(motifs.matrices, threshold_scores, strict=True):
        lp = np.log2(m + 1e-4) - np.log2(0.25)
        w = m.shape[1]
        win = sliding_window_view(x, w, axis=2)  # (n, 4, L - w + 1, w)
        for mat in (lp, lp[::-1, ::-1]):
            s = np.einsum("nclw,cw->nl", win, mat)
            n += int((s >= t).sum())
    return n


def normal_thresholds(motifs, z=3.719):
    """Score thresholds at p ~ 1e-4 from a normal approximation of each motif's score
    distribution under a uniform background (the brute force's hit counts are indicative;
    its cost, scoring every window, is what is compared)."""
    out = []
    for m in motifs.matrices:
        lp = np.log2(m + 1e-4) - np.log2(0.25)
        out.append(lp.mean(axis=0).sum() + z * np.sqrt(lp.var(axis=0).sum()))
    return out


def featurisation(world: Path) -> None:
    peaks = read_peaks(world / "peaks.bed")
    toy = read_meme(world / "motifs.meme")
    toy_clusters = read_cluster_table(world / "clusters.tsv")
    sets = [
        ("world motifs (13)", toy, toy_clusters, peaks),
        ("archetype collection (2,179)", default_motifs(), default_clusters(), peaks.iloc[:100]),
    ]
    for name, motifs, clusters, part in sets:
        motif_features(part.iloc[:20], motifs=motifs, clusters=clusters, fasta=world / "genome.fa")
        t0 = time.perf_counter()
        f = motif_features(part, motifs=motifs, clusters=clusters, fasta=world / "genome.fa")
        dt = time.perf_counter() - t0
        x, _ = region_onehot(part, fasta=world / "genome.fa")
        thr = normal_thresholds(motifs)
        t1 = time.perf_counter()
        n_brute = brute_force(motifs, x.astype(np.float32), thr)
        db = time.perf_counter() - t1
        print(
            f"featurise {name}: {len(part)} regions in {dt:.2f} s = {len(part) / dt:,.0f} "
            f"regions/s ({f.n_hits} hits); brute-force numpy scan {db:.2f} s = "
            f"{len(part) / db:,.0f} regions/s ({n_brute} windows over threshold)"
        )


def training(world: Path, device: str) -> None:
    data = build_get_data(
        read_features(world / "features.h5"),
        read_expression(world / "expression.tsv"),
        read_tss(world / "genes.bed"),
    )
    for label, cfg, batches in (
        ("small (D 64, 3 layers, 64 regions)", GetConfig.small(data.n_features, 64), 0),
        (
            "published widths (D 768, 12 layers, 200 regions)",
            GetConfig(n_features=data.n_features, n_regions=200),
            6,
        ),
    ):
        rec = GetRecipe(
            epochs=2,
            patience=2,
            batch_size=8,
            held_out_chroms=("chr3",),
            max_batches_per_epoch=batches,
        )
        t0 = time.perf_counter()
        run = train_get(data, config=cfg, recipe=rec, device=device)
        rate = run.result.history[-1].samples_per_s
        mem = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        gpu = (
            f", GPU peak {torch.cuda.max_memory_allocated() / 2**20:,.0f} MiB"
            if device.startswith("cuda")
            else ""
        )
        print(
            f"train {label} on {device}: {rate:,.1f} samples/s (epoch 2; "
            f"{time.perf_counter() - t0:.0f} s in all), process peak RSS {mem:,.0f} MiB{gpu}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--world", type=Path, default=Path("speed_world"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    if not (args.world / "features.h5").is_file():
        simulate_expression(out=args.world, overwrite=True, seed=0, n_chromosomes=3)
        scan_peaks(
            peaks=args.world / "peaks.bed",
            fasta=args.world / "genome.fa",
            motifs=args.world / "motifs.meme",
            clusters=args.world / "clusters.tsv",
            counts=args.world / "counts.tsv",
            out=args.world / "features.h5",
            overwrite=True,
        )
    featurisation(args.world)
    training(args.world, args.device)


if __name__ == "__main__":
    main()
