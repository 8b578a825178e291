"""Two-hot 1-kb windows per second: the genome store vs the classic pipeline vs GenVarLoader.

Inputs: the real 1000 Genomes genotypes (``1000g_chr22``, 2,548 samples x 3,042 records)
and a seeded synthetic ``chr22`` that agrees with every REF allele (``synthref.py``).
200 windows of 1 kb at seeded starts inside the two variant-dense blocks; 100 seeded
samples, and all 2,548.

- store: ``GenomeStore.windows`` (numba), numba threads = ``--threads``;
- classic (tuned): the 200 windows cut once into a region FASTA, the benchmarked samples'
  SNVs subset once into a BCF (``bcftools view -S``, timed apart), then per sample
  ``bcftools consensus -I`` (IUPAC) of the region FASTA, encoded two-hot with numpy;
  ``--threads`` samples at a time;
- GenVarLoader: ``gvl_bench.py`` in its own environment (``--gvl-python``), haplotypes
  of the same windows, encoded two-hot with numpy inside the timed loop.

Shuffled training batches (step ``shuffled``): ``--batches`` batches of 128 seeded random
(window, sample) pairs over all 200 windows x 2,548 samples, the same pairs for the store
and for GenVarLoader's per-batch indexing (``ds[regions, samples]``); GenVarLoader's
buffered loader (``to_dataloader(batch_size=128, shuffle=True, mode="buffered")``) draws
its own random pairs over the same dataset. Each batch is encoded two-hot in the timed
loop (numpy for GenVarLoader); the first batches' windows are checked equal.

Every engine is warmed up first (numba JIT compile excluded). Store and GenVarLoader run
in alternating rounds (one process each per round, ``--repeats`` rounds) and the table
reports medians. Outputs are checked equal across engines. The store is built from the
SNV-only VCF here (``--snvs-only``), as GenVarLoader and the classic pipeline read it.
Usage (from the repository root)::

    python benchmarks/genome/bench_windows.py all --workdir /tmp/genome-bench \\
        --threads 1 2 --gvl-python /path/to/gvl-venv/bin/python

Results: ``<workdir>/results.jsonl`` and a markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synthref  # noqa: E402

LENGTH = 1000
N_WINDOWS = 200
BATCH_SAMPLES = 100
PAIRS_PER_BATCH = 128

# IUPAC letter -> two-hot column, for the classic pipeline's numpy encoding.
_IUPAC = {
    "A": "AA", "C": "CC", "G": "GG", "T": "TT",
    "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
}  # fmt: skip
_TWO_HOT = np.zeros((256, 4), dtype=np.uint8)
for _letter, _pair in _IUPAC.items():
    for _base in _pair:
        _TWO_HOT[ord(_letter), "ACGT".index(_base)] += 1
        _TWO_HOT[ord(_letter.lower()), "ACGT".index(_base)] += 1


def _fixtures() -> Path:
    default = HERE.parents[1].parent / "shared" / "fixtures"
    return Path(os.environ.get("VARINTERP_FIXTURES", default))


def _emit(work: Path, record: dict) -> None:
    print(json.dumps(record), flush=True)
    with (work / "results.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")


# --------------------------------------------------------------------------- prepare
def prepare(work: Path, seed: int) -> None:
    """Reference, SNV-only VCF, windows, sample lists, and the store (timed build)."""
    from varinterp.genome.build import build_store

    work.mkdir(parents=True, exist_ok=True)
    (work / "results.jsonl").unlink(missing_ok=True)
    source = synthref.fixture_vcf(_fixtures())
    vcf = work / "all.vcf.gz"
    shutil.copyfile(source, vcf)
    fasta = synthref.write_synthetic_reference(vcf, work / "chr22.fa")
    snv = work / "snv.vcf.gz"
    subprocess.run(["bcftools", "view", "-v", "snps", "-Oz", "-o", snv, vcf], check=True)
    subprocess.run(["bcftools", "index", "-f", "-t", snv], check=True)
    starts = synthref.make_windows(N_WINDOWS, length=LENGTH, seed=seed)
    synthref.write_windows_bed(starts, work / "windows.bed", length=LENGTH)
    names = subprocess.run(
        ["bcftools", "query", "-l", vcf], check=True, capture_output=True, text=True
    ).stdout.split()
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(names), size=100, replace=False))
    (work / "samples_100.txt").write_text("".join(f"{names[i]}\n" for i in chosen))
    (work / "samples_all.txt").write_text("".join(f"{n}\n" for n in names))

    with (work / "windows.fa").open("w") as fh:  # the tuned classic pipeline's region FASTA
        seq = synthref.read_fasta_contig(fasta)
        for start in starts:
            fh.write(f">chr22:{start + 1}-{start + LENGTH}\n{seq[start : start + LENGTH]}\n")
    t0 = time.perf_counter()
    subprocess.run(["bcftools", "view", "-S", work / "samples_100.txt", "-Ob", "-o",
                    work / "snv_100.bcf", snv], check=True)  # fmt: skip
    subprocess.run(["bcftools", "index", "-f", work / "snv_100.bcf"], check=True)
    _emit(work, {"engine": "classic_subset_bcf", "seconds": time.perf_counter() - t0})
    full = build_store(vcf=vcf, fasta=fasta, out=work / "indel_store.vgs", overwrite=True)
    _emit(work, {"engine": "store_build_all_records", "cohort_bytes": full.cohort_bytes,
                 "vcf_gz_bytes": source.stat().st_size, "n_variants": full.n_variants,
                 "counts": full.counts})  # fmt: skip
    store = work / "store.vgs"
    t0 = time.perf_counter()
    summary = build_store(vcf=vcf, fasta=fasta, out=store, overwrite=True, snvs_only=True)
    seconds = time.perf_counter() - t0
    parts = {p.name: p.stat().st_size for p in store.iterdir()}
    _emit(
        work,
        {
            "engine": "store_build",
            "seconds": seconds,
            "store_bytes": sum(parts.values()),
            "cohort_bytes": summary.cohort_bytes,
            "store_parts": parts,
            "vcf_gz_bytes": source.stat().st_size,
            "snv_vcf_gz_bytes": snv.stat().st_size,
            "n_variants": summary.n_variants,
            "n_samples": summary.n_samples,
            "counts": summary.counts,
        },
    )


def _load(work: Path, large: bool):
    starts = np.loadtxt(work / "windows.bed", usecols=1, dtype=np.int64)
    names = (work / ("samples_all.txt" if large else "samples_100.txt")).read_text().split()
    return starts, names


# --------------------------------------------------------------------------- store
def time_store(work: Path, threads: int, repeats: int, large: bool) -> None:
    import numba

    from varinterp.genome.store import GenomeStore

    numba.set_num_threads(threads)
    starts, names = _load(work, large)
    store = GenomeStore.open(work / "store.vgs")
    sample_idx = store.sample_indices(names)
    batches = [sample_idx[i : i + BATCH_SAMPLES] for i in range(0, len(names), BATCH_SAMPLES)]
    out = np.empty((BATCH_SAMPLES * starts.size, 4, LENGTH), dtype=np.uint8)

    def run() -> float:
        t0 = time.perf_counter()
        for batch in batches:
            n = batch.size * starts.size
            store.windows(
                np.repeat(batch, starts.size), "chr22", np.tile(starts, batch.size), LENGTH,
                out=out[:n],
            )  # fmt: skip
        return time.perf_counter() - t0

    def run_codes() -> float:
        # Base codes of both haplotypes, (n, 2, L): the like of GenVarLoader's raw output.
        t0 = time.perf_counter()
        for batch in batches:
            store.haplotype_codes(
                np.repeat(batch, starts.size), "chr22", np.tile(starts, batch.size), LENGTH
            )
        return time.perf_counter() - t0

    run()  # warm-up: JIT compile / cache load, page cache
    run_codes()
    best = min(run() for _ in range(repeats))
    best_codes = min(run_codes() for _ in range(repeats))
    total = len(names) * starts.size
    if not large:
        np.save(work / "store_two_hot.npy", out[:total])
    _emit(
        work,
        {
            "engine": "store",
            "threads": threads,
            "numba_threads": numba.get_num_threads(),
            "n_samples": len(names),
            "n_windows": total,
            "seconds": best,
            "windows_per_s": total / best,
            "seconds_haplotypes_only": best_codes,
            "windows_per_s_haplotypes_only": total / best_codes,
            "repeats": repeats,
        },
    )


def shuffled_pairs(work: Path, n_batches: int, seed: int) -> np.ndarray:
    """Seeded random (window, sample) pairs ``(n_batches, 128, 2) int64`` over all windows and
    samples (sample indices in ``samples_all.txt`` order), written once for both engines."""
    path = work / f"shuffled_{n_batches}_{seed}.npy"
    if not path.is_file():
        n_samples = len((work / "samples_all.txt").read_text().split())
        rng = np.random.default_rng(seed + 1)
        pairs = np.stack(
            [rng.integers(0, N_WINDOWS, (n_batches, PAIRS_PER_BATCH)),
             rng.integers(0, n_samples, (n_batches, PAIRS_PER_BATCH))], axis=-1,
        )  # fmt: skip
        np.save(path, pairs)
    return np.load(path)


def time_store_shuffled(work: Path, threads: int, n_batches: int, seed: int) -> None:
    import numba

    from varinterp.genome.store import GenomeStore

    numba.set_num_threads(threads)
    starts, names = _load(work, large=True)
    store = GenomeStore.open(work / "store.vgs")
    sample_idx = store.sample_indices(names)
    pairs = shuffled_pairs(work, n_batches, seed)
    out = np.empty((PAIRS_PER_BATCH, 4, LENGTH), dtype=np.uint8)

    def batch(k: int) -> np.ndarray:
        w, s = pairs[k, :, 0], pairs[k, :, 1]
        return store.windows(sample_idx[s], "chr22", starts[w], LENGTH, out=out)

    batch(0)  # warm-up: JIT compile / cache load, page cache
    np.save(work / "store_shuffled_first.npy", np.stack([batch(k).copy() for k in range(4)]))
    times = []
    t_all = time.perf_counter()
    for k in range(n_batches):
        t0 = time.perf_counter()
        batch(k)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_all
    _emit(work, {"engine": "store_shuffled", "threads": threads, "batches": n_batches,
                 "windows_per_s": n_batches * PAIRS_PER_BATCH / total,
                 "median_batch_ms": 1e3 * float(np.median(times)),
                 "p95_batch_ms": 1e3 * float(np.quantile(times, 0.95))})  # fmt: skip


# --------------------------------------------------------------------------- classic
def _classic_sample(work: Path, sample: str, starts: np.ndarray) -> np.ndarray:
    import pyfaidx

    del pyfaidx  # the tuned pipeline reads bcftools' output directly
    text = subprocess.run(
        ["bcftools", "consensus", "-f", work / "windows.fa", "-s", sample, "-I",
         work / "snv_100.bcf"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    records = text.split(">")[1:]
    out = np.empty((starts.size, 4, LENGTH), dtype=np.uint8)
    for k, record in enumerate(records):
        seq = "".join(record.splitlines()[1:])
        out[k] = _TWO_HOT[np.frombuffer(seq.encode(), np.uint8)].T
    return out


def time_classic(work: Path, threads: int, n_samples: int) -> None:
    starts, names = _load(work, large=False)
    names = names[:n_samples]
    (work / "classic").mkdir(exist_ok=True)
    _classic_sample(work, names[0], starts)  # warm-up: page cache, imports
    per_sample = {}

    def one(sample: str) -> np.ndarray:
        t0 = time.perf_counter()
        result = _classic_sample(work, sample, starts)
        per_sample[sample] = time.perf_counter() - t0
        return result

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(one, names))
    seconds = time.perf_counter() - t0
    np.save(work / "classic_two_hot.npy", np.concatenate(results))
    total = len(names) * starts.size
    _emit(
        work,
        {
            "engine": "classic",
            "threads": threads,
            "n_samples": len(names),
            "n_windows": total,
            "seconds": seconds,
            "windows_per_s": total / seconds,
            "seconds_per_sample": per_sample,
        },
    )


# --------------------------------------------------------------------------- checks
def check(work: Path, n_classic: int) -> None:
    """The engines' windows are identical (store vs classic, store vs GenVarLoader)."""
    store = np.load(work / "store_two_hot.npy", mmap_mode="r")
    result = {"engine": "check"}
    classic_path = work / "classic_two_hot.npy"
    if classic_path.is_file():
        classic = np.load(classic_path)
        result["classic_equal"] = bool(np.array_equal(store[: classic.shape[0]], classic))
        result["classic_windows_compared"] = int(classic.shape[0])
    gvl_path = work / "gvl_two_hot.npy"
    if gvl_path.is_file():
        gvl = np.load(gvl_path, mmap_mode="r")
        result["gvl_equal"] = bool(np.array_equal(store, gvl))
        result["gvl_windows_compared"] = int(gvl.shape[0])
    first = work / "store_shuffled_first.npy"
    if first.is_file() and (work / "gvl_shuffled_first.npy").is_file():
        result["gvl_shuffled_equal"] = bool(
            np.array_equal(np.load(first), np.load(work / "gvl_shuffled_first.npy"))
        )
    result["het_columns_in_store_windows"] = int((np.asarray(store) == 1).any(axis=1).sum())
    _emit(work, result)


# --------------------------------------------------------------------------- driver
def _sub(cmd: list, threads: int, *, record: Path | None = None) -> None:
    """Run a step with every thread-count setting at `threads`; `record` keeps its JSON lines."""
    env = dict(os.environ)
    for key in ("NUMBA_NUM_THREADS", "GVL_NUM_THREADS", "RAYON_NUM_THREADS", "OMP_NUM_THREADS"):
        env[key] = str(threads)
    if record is None:
        subprocess.run([str(c) for c in cmd], check=True, env=env)
        return
    done = subprocess.run(
        [str(c) for c in cmd], check=True, env=env, stdout=subprocess.PIPE, text=True
    )
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            _emit(record, json.loads(line))


def run_all(args) -> None:
    work, me = args.workdir, [sys.executable, __file__]
    common = ["--workdir", work]
    _sub([*me, "prepare", *common], max(args.threads))
    if args.gvl_python:
        gvl = [args.gvl_python, HERE / "gvl_bench.py"]
        t0 = time.perf_counter()
        _sub([*gvl, "write", *common], max(args.threads), record=work)
        _emit(work, {"engine": "gvl_write_wall", "seconds": time.perf_counter() - t0})
    for threads in args.threads:
        t = ["--threads", str(threads)]
        _sub([*me, "classic", *common, *t, "--classic-samples", str(args.classic_samples)], threads)
        for large, rounds in ((False, args.repeats), (True, max(1, args.repeats // 2))):
            size = ["--large"] if large else []
            for _ in range(rounds):  # interleaved: store, GenVarLoader, store, ...
                _sub([*me, "store", *common, *t, "--repeats", "1", *size], threads)
                if args.gvl_python:
                    gvl_step = [*gvl, "time", *common, *t, "--repeats", "1", *size]
                    _sub(gvl_step, threads, record=work)
        shuffled = ["--batches", str(args.batches), "--seed", str(args.seed)]
        for _ in range(args.repeats):  # interleaved: store, GenVarLoader (indexed, buffered)
            _sub([*me, "shuffled", *common, *t, *shuffled], threads)
            if args.gvl_python:
                _sub([*gvl, "shuffled", *common, *t, *shuffled], threads, record=work)
        _sub([*me, "check", *common, "--classic-samples", str(args.classic_samples)], threads)
    table(work)


def table(work: Path) -> None:
    rows = [json.loads(line) for line in (work / "results.jsonl").read_text().splitlines()]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if "windows_per_s" in r and "n_samples" in r:
            groups.setdefault((r["engine"], r["threads"], r["n_samples"]), []).append(r)
    print("\n| engine | threads | samples x windows | runs | median s | two-hot windows/s "
          "| haplotypes/s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for (engine, threads, n), rs in groups.items():
        sec = float(np.median([r["seconds"] for r in rs]))
        haps = [
            r["windows_per_s_haplotypes_only"] for r in rs if "windows_per_s_haplotypes_only" in r
        ]
        print(
            f"| {engine} | {threads} | {n} x {N_WINDOWS} | {len(rs)} | {sec:.4f} | "
            f"{n * N_WINDOWS / sec:,.0f} | {f'{np.median(haps):,.0f}' if haps else ''} |"
        )
    shuffled: dict[tuple, list[dict]] = {}
    for r in rows:
        if "median_batch_ms" in r:
            shuffled.setdefault((r["engine"], r["threads"]), []).append(r)
    if shuffled:
        print("\n| engine (128-pair shuffled batches) | threads | runs | windows/s (median) "
              "| median batch ms | 95th percentile batch ms |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        for (engine, threads), rs in shuffled.items():
            med = {k: float(np.median([r[k] for r in rs]))
                   for k in ("windows_per_s", "median_batch_ms", "p95_batch_ms")}  # fmt: skip
            print(f"| {engine} | {threads} | {len(rs)} | {med['windows_per_s']:,.0f} | "
                  f"{med['median_batch_ms']:.3f} | {med['p95_batch_ms']:.3f} |")  # fmt: skip
    for r in rows:
        if "windows_per_s" not in r:
            print(json.dumps(r))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = ["all", "prepare", "store", "shuffled", "classic", "check", "table"]
    parser.add_argument("step", choices=steps)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="all 2,548 samples, not 100")
    parser.add_argument("--classic-samples", type=int, default=4)
    parser.add_argument("--gvl-python", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batches", type=int, default=400, help="shuffled batches per run")
    args = parser.parse_args()
    threads = args.threads[0]
    if args.step == "all":
        run_all(args)
    elif args.step == "prepare":
        prepare(args.workdir, args.seed)
    elif args.step == "store":
        time_store(args.workdir, threads, args.repeats, args.large)
    elif args.step == "shuffled":
        time_store_shuffled(args.workdir, threads, args.batches, args.seed)
    elif args.step == "classic":
        time_classic(args.workdir, threads, args.classic_samples)
    elif args.step == "check":
        check(args.workdir, args.classic_samples)
    else:
        table(args.workdir)


if __name__ == "__main__":
    main()
