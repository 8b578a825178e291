"""The store against the previous release's, on the same SNVs: bulk and shuffled reads.

The previous release (format version 1: dense genotype bits, an OpenMP-parallel kernel)
is taken from git (``--previous``, default the commit before indels) into the work
folder; each release builds its store from the fixture's SNVs (the previous one skips
indels), and the two read the same windows in alternating processes, ``--rounds`` times:

- bulk: 100 samples x 200 windows (the fixture's dense blocks) into a reused buffer;
- shuffled: 50 batches of 128 random (sample, window) pairs, the same for both.

Both releases' windows are checked identical. Threads: ``--threads`` for both.

    python benchmarks/genome/bench_previous.py --work /tmp/prev-bench --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BLOCKS = ((10_660_000, 10_786_000), (10_912_000, 10_967_000))


def _requests(seed: int, n_samples: int):
    rng = np.random.default_rng(seed)
    starts = np.sort(np.concatenate([rng.integers(lo, hi - 1000, 100) for lo, hi in BLOCKS]))
    chosen = rng.choice(n_samples, 100, replace=False)
    batches = []
    for _ in range(50):
        lo, hi = BLOCKS[int(rng.integers(2))]
        batches.append((rng.integers(0, n_samples, 128), rng.integers(lo, hi - 1000, 128)))
    return starts, chosen, batches


def time_one(store_path: Path, out: Path) -> None:
    """Runs inside either release (PYTHONPATH chooses which)."""
    import numba

    from varinterp.genome.store import GenomeStore

    store = GenomeStore.open(store_path)
    starts, chosen, batches = _requests(0, len(store.samples))
    buf = np.empty((20_000, 4, 1000), dtype=np.uint8)
    samples, st = np.repeat(chosen, 200), np.tile(starts, 100)
    store.windows(samples, "chr22", st, 1000, out=buf)  # warm-up (JIT, page cache)
    t0 = time.perf_counter()
    store.windows(samples, "chr22", st, 1000, out=buf)
    bulk = time.perf_counter() - t0
    for s, b in batches[:2]:
        store.windows(s, "chr22", b, 1000)
    t0 = time.perf_counter()
    for s, b in batches:
        store.windows(s, "chr22", b, 1000)
    shuffled = time.perf_counter() - t0
    np.save(out, buf[:2000])
    print(json.dumps({"bulk_s": bulk, "shuffled_s": shuffled,
                      "numba_threads": numba.get_num_threads()}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--previous", default="c853db9")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--time-one", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.time_one:
        time_one(*args.time_one)
        return
    sys.path.insert(0, str(HERE))
    import synthref

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    prev = work / "previous"
    if not prev.is_dir():
        prev.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.previous, "varinterp"],
                                 check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(prev)], input=archive, check=True)
    fixtures = Path(os.environ.get("VARINTERP_FIXTURES", ROOT.parent / "shared" / "fixtures"))
    vcf = work / "all.vcf.gz"
    if not vcf.is_file():
        shutil.copyfile(synthref.fixture_vcf(fixtures), vcf)
        subprocess.run(["bcftools", "index", "-f", "-t", str(vcf)], check=True)
    fasta = work / "chr22.fa"
    if not fasta.is_file():
        synthref.write_synthetic_reference(vcf, fasta)
    env = dict(os.environ, NUMBA_NUM_THREADS=str(args.threads))
    stores = {"previous": work / "previous.vgs", "current": work / "current.vgs"}
    paths = {"previous": str(prev), "current": str(ROOT)}
    build = (
        "from varinterp.genome.build import build_store\n"
        "import sys, inspect\n"
        "kw = {'snvs_only': True} if 'snvs_only' in inspect.signature(build_store).parameters "
        "else {}\n"
        "build_store(vcf=sys.argv[1], fasta=sys.argv[2], out=sys.argv[3], overwrite=True, **kw)\n"
    )
    for name, store in stores.items():
        if not store.is_dir():
            subprocess.run([sys.executable, "-c", build, str(vcf), str(fasta), str(store)],
                           check=True, env=dict(env, PYTHONPATH=paths[name]), cwd=work)  # fmt: skip
    times: dict[str, list[dict]] = {name: [] for name in stores}
    for _ in range(args.rounds):
        for name, store in stores.items():
            done = subprocess.run(
                [sys.executable, __file__, "--work", str(work), "--time-one", str(store),
                 str(work / f"{name}.npy")],
                check=True, capture_output=True, text=True,
                env=dict(env, PYTHONPATH=paths[name]),
            )  # fmt: skip
            times[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    same = bool(np.array_equal(np.load(work / "previous.npy"), np.load(work / "current.npy")))
    sizes = {
        name: sum(p.stat().st_size for p in store.iterdir() if p.name != "reference.npy")
        for name, store in stores.items()
    }
    for name in stores:
        bulk = float(np.median([t["bulk_s"] for t in times[name]]))
        shuf = float(np.median([t["shuffled_s"] for t in times[name]]))
        record = {
            "release": name, "threads": args.threads, "rounds": args.rounds,
            "bulk_windows_per_s": 20_000 / bulk, "shuffled_windows_per_s": 50 * 128 / shuf,
            "cohort_bytes": sizes[name], "identical_windows": same,
        }  # fmt: skip
        print(json.dumps(record), flush=True)
        with (work / "previous.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
