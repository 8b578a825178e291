"""A chr22-sized simulated cohort: build a store, size it, read it, against BCF / VCF.gz.

``simulate`` writes a seeded random 50.8-Mb ``chr22`` and a phased cohort over it as BCF
(never as text VCF on disk: the text is streamed into ``bcftools view -Ob``):

- sites: ``--variants`` (default 1,000,000) uniform positions, 90% SNVs (transitions
  twice as often as transversions), 10% indels (half insertions, half deletions,
  lengths 1 + geometric(0.5), at most 20 bp), as in 1000 Genomes' chr22 (about 1.07
  million records);
- frequencies: the neutral spectrum, P(ALT count = k) proportional to 1/k over the
  ``2 x --samples`` haplotypes (most variants rare, as in 1000 Genomes);
- linkage: every haplotype copies one of 64 founders, switching on average every 50 kb;
  a variant with count k is carried by whole founder clades (neighbours in a fixed
  founder order) and part of the last one, so nearby variants are correlated (the
  structure ``varinterp.simulate.cohort`` uses, here generated in 1-Mb chunks).

``measure`` then times ``build_store`` (one process per contig is moot for one contig;
``--threads`` is the reader's), sizes the store's parts against the BCF and a VCF.gz
(``bcftools view -Oz``) of the same records, and reads two-hot 1-kb windows (bulk: 100
samples x 200 windows into a reused buffer; shuffled: random batches of 128 (sample,
window) pairs). Results go to ``<work>/chromosome.jsonl``.

    python benchmarks/genome/chromosome.py simulate --work /tmp/chr22sim
    python benchmarks/genome/chromosome.py measure --work /tmp/chr22sim --threads 1

``read`` repeats the reads of ``measure`` on the store it built. ``gvl`` compares bulk
reads with GenVarLoader on the same cohort (its ``gvl_bench.py`` in its own environment,
``--gvl-python``): 200 seeded 1-kb windows and 100 seeded samples, the
dataset written once from the VCF.gz (timed), then ``--rounds`` alternating rounds of the
store (``GenomeStore.windows``) and GenVarLoader (haplotypes encoded two-hot with numpy),
each in a process of its own; windows compared.

    python benchmarks/genome/chromosome.py gvl --work /tmp/chr22sim --gvl-python PY
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHROM = "chr22"
LENGTH = 50_818_468  # GRCh38 chr22
N_FOUNDERS = 64
SWITCH = 50_000.0
CHUNK = 1_000_000  # bp of sites generated at a time

_GT = np.frombuffer(b"0|0\t1|0\t0|1\t1|1\t", dtype=np.uint8).reshape(4, 4)


def _emit(work: Path, record: dict) -> None:
    print(json.dumps(record), flush=True)
    with (work / "chromosome.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def simulate(work: Path, n_variants: int, n_samples: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    seq = np.frombuffer(b"ACGT", np.uint8)[rng.integers(0, 4, LENGTH)].copy()
    fasta = work / f"{CHROM}.fa"
    with fasta.open("wb") as fh:
        fh.write(f">{CHROM}\n".encode())
        for i in range(0, LENGTH, 60):
            fh.write(seq[i : i + 60].tobytes() + b"\n")
    n_hap = 2 * n_samples
    k = np.arange(1, n_hap)
    sfs = (1.0 / k) / (1.0 / k).sum()
    weights = rng.dirichlet(np.full(N_FOUNDERS, 2.0))
    order = rng.permutation(N_FOUNDERS)
    samples = [f"SIM{i:05d}" for i in range(n_samples)]
    header = [
        "##fileformat=VCFv4.2",
        f"##contig=<ID={CHROM},length={LENGTH}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    bcf = work / "cohort.bcf"
    proc = subprocess.Popen(
        ["bcftools", "view", "-Ob", "-o", str(bcf), "--threads", "1", "-"],
        stdin=subprocess.PIPE,
    )
    proc.stdin.write(("\n".join(header) + "\n").encode())
    density = n_variants / LENGTH
    last_end = 0
    written = 0
    for lo in range(0, LENGTH - 100, CHUNK):
        hi = min(lo + CHUNK, LENGTH - 100)
        n = int(rng.poisson((hi - lo) * density))
        pos = np.unique(rng.integers(max(lo, 1), hi, n))
        is_indel = rng.random(pos.size) < 0.10
        counts = rng.choice(k, size=pos.size, p=sfs)
        # founder paths of every haplotype over this chunk
        n_switch = rng.poisson((hi - lo) / SWITCH, size=n_hap)
        founder_of = np.empty((pos.size, n_hap), dtype=np.int8)
        for h in range(n_hap):
            breaks = np.sort(rng.integers(lo, hi, n_switch[h]))
            path = rng.choice(N_FOUNDERS, size=n_switch[h] + 1, p=weights)
            founder_of[:, h] = path[np.searchsorted(breaks, pos, side="right")]
        lines = []
        for v in range(pos.size):
            p = int(pos[v])
            if p < last_end:  # keep records from overlapping (a simple, sorted VCF)
                continue
            ref = chr(seq[p])
            if is_indel[v]:
                size = min(int(rng.geometric(0.5)), 20)
                if rng.random() < 0.5:
                    alt = ref + "".join(rng.choice(list("ACGT"), size))
                else:
                    ref = seq[p : p + size + 1].tobytes().decode()
                    alt = ref[0]
            else:
                b = "ACGT".index(ref)
                transition = rng.random() < 2 / 3
                alt = "ACGT"[(b ^ 2) if transition else (b + 1 + 2 * int(rng.integers(2))) % 4]
            last_end = p + len(ref)
            carriers = _clade(rng, founder_of[v], order, int(counts[v]))
            hap = np.zeros(n_hap, dtype=np.uint8)
            hap[carriers] = 1
            code = hap[0::2] + 2 * hap[1::2]
            gts = _GT[code].reshape(-1)
            gts[-1] = ord("\n")
            fixed = f"{CHROM}\t{p + 1}\t.\t{ref}\t{alt}\t.\t.\t.\tGT\t".encode()
            lines.append(fixed + gts.tobytes())
        proc.stdin.write(b"".join(lines))
        written += len(lines)
        print(f"{hi / 1e6:.0f} Mb, {written:,} records, {time.perf_counter() - t0:.0f} s",
              flush=True)  # fmt: skip
    proc.stdin.close()
    if proc.wait():
        raise SystemExit("bcftools view failed")
    subprocess.run(["bcftools", "index", "-f", str(bcf)], check=True)
    _emit(work, {"step": "simulate", "records": written, "samples": n_samples,
                 "seconds": time.perf_counter() - t0, "bcf_bytes": bcf.stat().st_size})  # fmt: skip


def _clade(rng, founder_of: np.ndarray, order: np.ndarray, count: int) -> np.ndarray:
    start = int(rng.integers(order.size))
    chosen = []
    need = count
    for step in range(order.size):
        members = np.flatnonzero(founder_of == order[(start + step) % order.size])
        if members.size >= need:
            chosen.append(rng.choice(members, size=need, replace=False))
            break
        chosen.append(members)
        need -= members.size
    return np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)


def measure(work: Path, threads: int, seed: int) -> None:
    import numba

    from varinterp.genome.build import build_store

    numba.set_num_threads(threads)
    bcf = work / "cohort.bcf"
    vcf_gz = work / "cohort.vcf.gz"
    if not vcf_gz.is_file():
        t0 = time.perf_counter()
        subprocess.run(["bcftools", "view", "-Oz", "-o", str(vcf_gz), str(bcf)], check=True)
        _emit(work, {"step": "vcf.gz", "seconds": time.perf_counter() - t0,
                     "vcf_gz_bytes": vcf_gz.stat().st_size})  # fmt: skip
    store = work / "cohort.vgs"
    t0 = time.perf_counter()
    summary = build_store(vcf=bcf, fasta=work / f"{CHROM}.fa", out=store, overwrite=True,
                          threads=threads)  # fmt: skip
    build_s = time.perf_counter() - t0
    parts = {p.name: p.stat().st_size for p in store.iterdir()}
    _emit(work, {
        "step": "build", "seconds": build_s, "threads": threads,
        "max_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "n_variants": summary.n_variants, "counts": summary.counts,
        "store_bytes": summary.size_bytes, "cohort_bytes": summary.cohort_bytes,
        "bcf_bytes": bcf.stat().st_size, "vcf_gz_bytes": vcf_gz.stat().st_size, "parts": parts,
    })  # fmt: skip
    read(work, threads, seed)


def read(work: Path, threads: int, seed: int) -> None:
    import numba

    from varinterp.genome.store import GenomeStore

    numba.set_num_threads(threads)
    gs = GenomeStore.open(work / "cohort.vgs")
    rng = np.random.default_rng(seed)
    starts = np.sort(rng.integers(0, LENGTH - 1000, 200))
    out = np.empty((100 * 200, 4, 1000), dtype=np.uint8)
    src = np.ones_like(out)
    bulk, copy = [], []
    for rep in range(6):
        chosen = rng.choice(len(gs.samples), 100, replace=False)
        t = time.perf_counter()
        gs.windows(np.repeat(chosen, 200), CHROM, np.tile(starts, 100), 1000, out=out)
        if rep:
            bulk.append(time.perf_counter() - t)
        t = time.perf_counter()
        np.copyto(out, src)
        copy.append(time.perf_counter() - t)
    shuffled = []
    for rep in range(51):
        s = rng.integers(0, len(gs.samples), 128)
        st = rng.integers(0, LENGTH - 1000, 128)
        t = time.perf_counter()
        gs.windows(s, CHROM, st, 1000)
        if rep:
            shuffled.append(time.perf_counter() - t)
    _emit(work, {
        "step": "read", "threads": threads,
        "bulk_windows_per_s": 20_000 / float(np.median(bulk)),
        "memcpy_over_bulk": float(np.median(copy)) / float(np.median(bulk)),
        "shuffled_windows_per_s": 128 / float(np.median(shuffled)),
    })  # fmt: skip


def gvl_compare(work: Path, gvl_python: Path, threads: int, rounds: int, seed: int) -> None:
    import os

    here = Path(__file__).resolve().parent
    rng = np.random.default_rng(seed + 7)
    starts = np.sort(rng.choice(np.arange(0, LENGTH - 1000, 1000), 200, replace=False))
    names = subprocess.run(["bcftools", "query", "-l", str(work / "cohort.bcf")], check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    chosen = sorted(rng.choice(len(names), 100, replace=False))
    (work / "windows.bed").write_text("".join(f"{CHROM}\t{s}\t{s + 1000}\n" for s in starts))
    (work / "samples_100.txt").write_text("".join(f"{names[i]}\n" for i in chosen))
    (work / "samples_all.txt").write_text("".join(f"{n}\n" for n in names))
    if not (work / "store.vgs").exists():
        (work / "store.vgs").symlink_to("cohort.vgs")
    env = dict(os.environ)
    for key in ("NUMBA_NUM_THREADS", "GVL_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS"):
        env[key] = str(threads)
    gvl = [str(gvl_python), str(here / "gvl_bench.py")]
    common = ["--workdir", str(work), "--threads", str(threads), "--repeats", "1"]
    if not (work / "gvl.ds").is_dir():
        t0 = time.perf_counter()
        done = subprocess.run([*gvl, "write", "--workdir", str(work), "--vcf", "cohort.vcf.gz"],
                              check=True, env=env, capture_output=True, text=True)  # fmt: skip
        record = json.loads(next(x for x in done.stdout.splitlines() if x.startswith("{")))
        _emit(work, {**record, "wall_seconds": time.perf_counter() - t0})
    me = [sys.executable, str(here / "bench_windows.py"), "store", *common]
    for _ in range(rounds):  # interleaved: store, GenVarLoader, store, ...
        for cmd in (me, [*gvl, "time", *common]):
            done = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
            for line in done.stdout.splitlines():
                if line.startswith("{"):
                    _emit(work, {**json.loads(line), "step": "gvl_compare"})
    (work / "results.jsonl").unlink(missing_ok=True)  # bench_windows' own log of the rounds
    store, theirs = (np.load(work / f"{k}_two_hot.npy", mmap_mode="r") for k in ("store", "gvl"))
    same = np.all(store == theirs, axis=(1, 2))
    _emit(work, {"step": "gvl_check", "windows": int(same.size), "identical": int(same.sum())})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=["simulate", "measure", "read", "gvl"])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--variants", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2_500)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=22)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gvl-python", type=Path, default=None)
    args = ap.parse_args()
    if args.what == "simulate":
        simulate(args.work, args.variants, args.samples, args.seed)
    elif args.what == "read":  # the reads of `measure` alone, on the store it built
        read(args.work, args.threads, args.seed)
    elif args.what == "gvl":
        gvl_compare(args.work, args.gvl_python, args.threads, args.rounds, args.seed)
    else:
        measure(args.work, args.threads, args.seed)


if __name__ == "__main__":
    main()
