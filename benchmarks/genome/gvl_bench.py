"""GenVarLoader side of the window benchmark; runs in GenVarLoader's own environment.

Needs only numpy and genvarloader (``pip install genvarloader`` in a separate venv), and
the inputs that ``bench_windows.py prepare`` wrote into the work folder (synthetic
reference, SNV-only VCF, windows BED, sample lists). Thread count: set
``GVL_NUM_THREADS`` / ``NUMBA_NUM_THREADS`` before this starts (``bench_windows.py`` does).

    python gvl_bench.py write --workdir W
    python gvl_bench.py time --workdir W --threads 2 --repeats 5
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


def _write(work: Path) -> None:
    import genoray
    import genvarloader as gvl

    target = work / "gvl.ds"
    if target.exists():
        shutil.rmtree(target)
    t0 = time.perf_counter()
    gvl.write(path=target, bed=work / "windows.bed", variants=genoray.VCF(work / "snv.vcf.gz"))
    seconds = time.perf_counter() - t0
    ds = gvl.Dataset.open(target, reference=work / "chr22.fa")  # builds the reference cache
    del ds
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    index = sum(p.stat().st_size for p in work.glob("snv.vcf.gz.gvi*"))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["write", "time"])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="all samples, not 100")
    args = parser.parse_args()
    if args.step == "write":
        _write(args.workdir)
    else:
        _time(args.workdir, args.threads, args.repeats, args.large)


if __name__ == "__main__":
    main()
