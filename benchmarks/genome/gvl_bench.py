"""GenVarLoader side of the window benchmark; runs in GenVarLoader's own environment.

Needs only numpy and genvarloader (``pip install genvarloader`` in a separate venv), and
the inputs that ``bench_windows.py prepare`` wrote into the work folder (synthetic
reference, SNV-only VCF, windows BED, sample lists). Thread count: set
``GVL_NUM_THREADS`` / ``NUMBA_NUM_THREADS`` before this starts (``bench_windows.py`` does).

    python gvl_bench.py write --workdir W
    python gvl_bench.py time --workdir W --threads 2 --repeats 5
    python gvl_bench.py shuffled --workdir W --threads 1 --batches 400 --seed 0

``shuffled`` reads the (window, sample) pairs that ``bench_windows.py shuffled`` wrote and
times per-batch indexing on them, then the buffered loader (its own random pairs, at
least 2,000 batches timed from the loader's creation, a 16-MiB buffer; needs torch in
this environment). The loader's producer is a thread of its own beside the consumer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

LENGTH = 1000
BATCH_SAMPLES = 100
PAIRS_PER_BATCH = 128
BUFFERED_BATCHES = 2000
BUFFER_BYTES = 16 << 20


def two_hot(haps: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``(n, 2, L) |S1`` haplotypes -> two-hot ``(n, 4, L) uint8`` in `out` (numpy only).

    Letters are upper-cased; anything but A, C, G, T (N) is all zeros.
    """
    raw = haps.view(np.uint8) & np.uint8(0xDF)
    first, second = raw[:, 0], raw[:, 1]
    scratch = np.empty(first.shape, dtype=np.bool_)
    for c, base in enumerate(b"ACGT"):
        np.equal(first, base, out=out[:, c].view(np.bool_))
        np.equal(second, base, out=scratch)
        out[:, c] += scratch
    return out


def _write(work: Path, vcf_name: str) -> None:
    import genoray
    import genvarloader as gvl

    target = work / "gvl.ds"
    if target.exists():
        shutil.rmtree(target)
    t0 = time.perf_counter()
    gvl.write(path=target, bed=work / "windows.bed", variants=genoray.VCF(work / vcf_name))
    seconds = time.perf_counter() - t0
    ds = gvl.Dataset.open(target, reference=work / "chr22.fa")  # builds the reference cache
    del ds
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    index = sum(p.stat().st_size for p in work.glob(f"{vcf_name}.gvi*"))
    result = {
        "engine": "gvl_write",
        "seconds": seconds,
        "dataset_bytes": size,
        "genoray_index_bytes": index,
        "version": gvl.__version__,
    }
    print(json.dumps(result))


def _time(work: Path, threads: int, repeats: int, large: bool) -> None:
    import genvarloader as gvl

    ds = gvl.Dataset.open(work / "gvl.ds", reference=work / "chr22.fa")
    ds = ds.with_seqs("haplotypes").with_len(LENGTH)
    index = {s: i for i, s in enumerate(ds.samples)}
    n_windows = ds.n_regions if hasattr(ds, "n_regions") else len(ds.regions)
    names = (work / ("samples_all.txt" if large else "samples_100.txt")).read_text().split()
    sample_idx = np.array([index[s] for s in names], dtype=np.int64)
    batches = [sample_idx[i : i + BATCH_SAMPLES] for i in range(0, len(names), BATCH_SAMPLES)]
    out = np.empty((BATCH_SAMPLES * n_windows, 4, LENGTH), dtype=np.uint8)
    regions = np.arange(n_windows, dtype=np.int64)

    def run(encode: bool) -> float:
        t0 = time.perf_counter()
        for batch in batches:
            n = batch.size * n_windows
            haps = ds[np.tile(regions, batch.size), np.repeat(batch, n_windows)]
            if encode:
                two_hot(haps, out[:n])
        return time.perf_counter() - t0

    run(encode=True)  # warm-up: JIT compile, reference cache, page cache
    best = min(run(encode=True) for _ in range(repeats))
    best_haps = min(run(encode=False) for _ in range(repeats))
    total = len(names) * n_windows
    if not large:
        np.save(work / "gvl_two_hot.npy", out[:total])
    print(
        json.dumps(
            {
                "engine": "gvl",
                "threads": threads,
                "n_samples": len(names),
                "n_windows": total,
                "seconds": best,
                "windows_per_s": total / best,
                "seconds_haplotypes_only": best_haps,
                "windows_per_s_haplotypes_only": total / best_haps,
                "repeats": repeats,
                "version": gvl.__version__,
                "env": {k: os.environ.get(k) for k in ("GVL_NUM_THREADS", "NUMBA_NUM_THREADS")},
            }
        )
    )


def _shuffled(work: Path, threads: int, n_batches: int, seed: int) -> None:
    import genvarloader as gvl

    ds = gvl.Dataset.open(work / "gvl.ds", reference=work / "chr22.fa")
    ds = ds.with_seqs("haplotypes").with_len(LENGTH)
    index = {s: i for i, s in enumerate(ds.samples)}
    names = (work / "samples_all.txt").read_text().split()
    sample_idx = np.array([index[s] for s in names], dtype=np.int64)
    pairs = np.load(work / f"shuffled_{n_batches}_{seed}.npy")
    out = np.empty((PAIRS_PER_BATCH, 4, LENGTH), dtype=np.uint8)

    def batch(k: int) -> np.ndarray:
        return two_hot(ds[pairs[k, :, 0], sample_idx[pairs[k, :, 1]]], out)

    batch(0)  # warm-up
    np.save(work / "gvl_shuffled_first.npy", np.stack([batch(k).copy() for k in range(4)]))
    times = []
    t_all = time.perf_counter()
    for k in range(n_batches):
        t0 = time.perf_counter()
        batch(k)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_all
    _record("gvl_indexed_shuffled", threads, n_batches, total, times)

    import torch

    torch.set_num_threads(threads)
    # The loader's producer thread fills a buffer ahead of the consumer. Timed from the
    # loader's creation (its first fill included) over many batches, with a 16-MiB buffer
    # (about 8,000 windows), so the work done for batches never consumed is a few percent.
    n_buffered = max(n_batches, BUFFERED_BATCHES)
    times = []
    t_all = time.perf_counter()
    loader = ds.to_dataloader(batch_size=PAIRS_PER_BATCH, shuffle=True, mode="buffered",
                              buffer_bytes=BUFFER_BYTES,
                              generator=torch.Generator().manual_seed(seed))  # fmt: skip
    batches = iter(loader)
    for _ in range(n_buffered):
        t0 = time.perf_counter()
        haps = next(batches, None)
        if haps is None:
            batches = iter(loader)
            haps = next(batches)
        two_hot(np.asarray(haps), out)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - t_all
    _record("gvl_buffered_shuffled", threads, n_buffered, total, times)


def _record(engine: str, threads: int, n_batches: int, total: float, times: list) -> None:
    import genvarloader as gvl

    print(json.dumps({
        "engine": engine, "threads": threads, "batches": n_batches,
        "windows_per_s": n_batches * PAIRS_PER_BATCH / total,
        "median_batch_ms": 1e3 * float(np.median(times)),
        "p95_batch_ms": 1e3 * float(np.quantile(times, 0.95)),
        "version": gvl.__version__,
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["write", "time", "shuffled"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="all samples, not 100")
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--vcf", default="snv.vcf.gz", help="VCF in the work folder (write)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.step == "write":
        _write(args.workdir, args.vcf)
    elif args.step == "shuffled":
        _shuffled(args.workdir, args.threads, args.batches, args.seed)
    else:
        _time(args.workdir, args.threads, args.repeats, args.large)


if __name__ == "__main__":
    main()
