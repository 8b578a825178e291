"""Small shuffled batches at 1 and 2 threads under a competing CPU load, and bulk output
against a memory copy of the same bytes.

Store: the 1000 Genomes fixture (2,548 samples x 3,042 records, indels included) on the
seeded synthetic ``chr22`` of ``synthref.py``, built into ``<work>``.

- **shuffled**: batches of 128 random (sample, window start) pairs, 1-kb two-hot
  windows, as a training loader asks for them. For each load setting (none, or a
  competing process running a torch matmul loop on one thread) the thread counts 1 and 2
  alternate batch by batch (interleaved), 400 batches each; medians and 95th
  percentiles.
- **bulk**: 100 samples x 200 windows into a reused buffer, with indels applied and with
  ``indels=False`` (SNVs and MNPs only), against ``np.copyto`` of a buffer of the same
  size, alternating, 1 thread, 9 rounds; medians.

    python benchmarks/genome/bench_threads.py --work /tmp/threads-bench

Results: ``<work>/threads.jsonl`` and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import synthref  # noqa: E402

BLOCKS = ((10_660_000, 10_786_000), (10_912_000, 10_967_000))


def _matmul_load(stop) -> None:
    import torch

    torch.set_num_threads(1)
    a = torch.randn(512, 512)
    while not stop.is_set():
        a = (a @ a).tanh()


def _prepare(work: Path) -> Path:
    from varinterp.genome.build import build_store

    store = work / "store.vgs"
    if store.is_dir():
        return store
    work.mkdir(parents=True, exist_ok=True)
    vcf = work / "all.vcf.gz"
    fixtures = Path(os.environ.get("VARINTERP_FIXTURES", HERE.parents[2] / "shared" / "fixtures"))
    shutil.copyfile(synthref.fixture_vcf(fixtures), vcf)
    subprocess.run(["bcftools", "index", "-f", "-t", str(vcf)], check=True)
    fasta = synthref.write_synthetic_reference(vcf, work / "chr22.fa")
    build_store(vcf=vcf, fasta=fasta, out=store)
    return store


def _emit(work: Path, record: dict) -> None:
    print(json.dumps(record), flush=True)
    with (work / "threads.jsonl").open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def main() -> None:
    import numba

    from varinterp.genome.store import GenomeStore

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--batches", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    store = GenomeStore.open(_prepare(args.work))
    rng = np.random.default_rng(args.seed)
    n_samples = len(store.samples)

    def batch():
        lo, hi = BLOCKS[int(rng.integers(2))]
        return rng.integers(0, n_samples, 128), rng.integers(lo, hi - 1000, 128)

    for threads in (1, 2):  # compile and warm both paths
        numba.set_num_threads(threads)
        s, st = batch()
        store.windows(s, "chr22", st, 1000)
    for load in ("none", "torch matmul loop"):
        stop = mp.Event()
        proc = None
        if load != "none":
            proc = mp.Process(target=_matmul_load, args=(stop,), daemon=True)
            proc.start()
            time.sleep(1.0)
        times = {1: [], 2: []}
        for _ in range(args.batches):
            for threads in (1, 2):
                numba.set_num_threads(threads)
                s, st = batch()
                t0 = time.perf_counter()
                store.windows(s, "chr22", st, 1000)
                times[threads].append(time.perf_counter() - t0)
        stop.set()
        if proc is not None:
            proc.join()
        for threads, ts in times.items():
            ts = np.array(ts)
            _emit(args.work, {
                "test": "shuffled 128-pair batches", "load": load, "threads": threads,
                "median_ms": 1e3 * float(np.median(ts)),
                "p95_ms": 1e3 * float(np.quantile(ts, 0.95)), "max_ms": 1e3 * float(ts.max()),
                "windows_per_s": 128 / float(np.median(ts)),
            })  # fmt: skip
    numba.set_num_threads(1)
    starts = np.sort(np.concatenate([rng.integers(lo, hi - 1000, 100) for lo, hi in BLOCKS]))
    chosen = rng.choice(n_samples, 100, replace=False)
    out = np.empty((20_000, 4, 1000), dtype=np.uint8)
    src = np.ones_like(out)
    bulk, snv_bulk, copy = [], [], []
    for rep in range(10):  # interleaved: indels applied, SNVs and MNPs only, memory copy
        t0 = time.perf_counter()
        store.windows(np.repeat(chosen, 200), "chr22", np.tile(starts, 100), 1000, out=out)
        t1 = time.perf_counter()
        store.windows(np.repeat(chosen, 200), "chr22", np.tile(starts, 100), 1000, out=out,
                      indels=False)  # fmt: skip
        t2 = time.perf_counter()
        np.copyto(out, src)
        t3 = time.perf_counter()
        if rep:
            bulk.append(t1 - t0)
            snv_bulk.append(t2 - t1)
            copy.append(t3 - t2)
    for name, times in (("indels applied", bulk), ("SNVs and MNPs only", snv_bulk)):
        _emit(args.work, {
            "test": "bulk 100 samples x 200 windows", "threads": 1, "variants": name,
            "store_s": float(np.median(times)), "memcpy_s": float(np.median(copy)),
            "store_over_memcpy_speed": float(np.median(copy) / np.median(times)),
            "windows_per_s": 20_000 / float(np.median(times)),
        })  # fmt: skip


if __name__ == "__main__":
    main()
