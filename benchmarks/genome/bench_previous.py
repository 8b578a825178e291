"""The store against the previous release's, on the same SNVs: bulk and shuffled reads.

The previous release (format version 1: dense genotype bits, an OpenMP-parallel kernel)
is taken from git (``--previous``, default the commit before indels) into the work
folder; each release builds its store from the fixture's SNVs (the previous one skips
indels). In one process, the previous release's ``GenomeStore.windows`` (its package imported
from its source as ``varinterp_previous``) reads its store and the current
``GenomeStore.windows`` reads the new one, alternating call by call (which release goes
first alternates too), ``--rounds`` times:

- bulk: 100 samples x 200 windows (the fixture's dense blocks) into a reused buffer;
- shuffled: 50 batches of 128 random (sample, window) pairs, the same for both
  (medians over rounds x batches).

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


def _previous_windows(work: Path, store_path: Path):
    """The previous release's public ``GenomeStore.windows`` over its own store: a function
    ``(samples, starts, out) -> out``. Its package is imported as ``varinterp_previous``
    (a copy of its source with the package's own imports renamed), so both releases live
    in one process."""
    pkg = work / "previous_pkg"
    if not (pkg / "varinterp_previous").is_dir():
        shutil.copytree(work / "previous" / "varinterp", pkg / "varinterp_previous", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        for path in (pkg / "varinterp_previous").rglob("*.py"):
            text = path.read_text()
            text = text.replace("from varinterp.", "from varinterp_previous.")
            text = text.replace("from varinterp import", "from varinterp_previous import")
            text = text.replace("import varinterp.", "import varinterp_previous.")
            text = text.replace('"varinterp.', '"varinterp_previous.')
            path.write_text(text)
    sys.path.insert(0, str(pkg))
    from varinterp_previous.genome.store import GenomeStore as PreviousStore

    store = PreviousStore.open(store_path)

    def windows(samples, starts, out):
        return store.windows(samples, "chr22", starts, 1000, out=out)

    return windows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--previous", default="c853db9")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
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
    import numba

    from varinterp.genome.store import GenomeStore

    numba.set_num_threads(args.threads)
    previous = _previous_windows(work, stores["previous"])
    store = GenomeStore.open(stores["current"])

    def current(samples, starts, out):
        return store.windows(samples, "chr22", starts, 1000, out=out)

    engines = {"previous": previous, "current": current}
    starts, chosen, batches = _requests(0, len(store.samples))
    bulk_s, bulk_st = np.repeat(chosen, 200), np.tile(starts, 100)
    outs = {name: np.empty((20_000, 4, 1000), dtype=np.uint8) for name in engines}
    small = {name: np.empty((128, 4, 1000), dtype=np.uint8) for name in engines}
    for name, fn in engines.items():  # warm-up: JIT, page cache
        fn(bulk_s, bulk_st, outs[name])
        fn(*batches[0], small[name])
    same = bool(np.array_equal(outs["previous"], outs["current"]))
    for s_, b_ in batches:
        same &= bool(np.array_equal(previous(s_, b_, small["previous"]),
                                    current(s_, b_, small["current"])))  # fmt: skip
    bulk = {name: [] for name in engines}
    shuffled = {name: [] for name in engines}
    # Interleaved call by call; which release goes first alternates by round and by batch,
    # since the order alone moved the shuffled timings by several percent.
    orders = (list(engines.items()), list(engines.items())[::-1])
    for r in range(args.rounds):
        for name, fn in orders[r % 2]:
            t0 = time.perf_counter()
            fn(bulk_s, bulk_st, outs[name])
            bulk[name].append(time.perf_counter() - t0)
        for k, (s_, b_) in enumerate(batches):
            for name, fn in orders[(r + k) % 2]:
                t0 = time.perf_counter()
                fn(s_, b_, small[name])
                shuffled[name].append(time.perf_counter() - t0)
    sizes = {
        name: sum(p.stat().st_size for p in path.iterdir() if p.name != "reference.npy")
        for name, path in stores.items()
    }
    for name in engines:
        record = {
            "release": name, "threads": args.threads, "rounds": args.rounds,
            "bulk_windows_per_s": 20_000 / float(np.median(bulk[name])),
            "shuffled_128_windows_per_s": 128 / float(np.median(shuffled[name])),
            "shuffled_128_p95_ms": 1e3 * float(np.quantile(shuffled[name], 0.95)),
            "cohort_bytes": sizes[name], "identical_windows": same,
        }  # fmt: skip
        print(json.dumps(record), flush=True)
        with (work / "previous.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
