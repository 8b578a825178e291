"""Variant scoring speed: `score_variants` vs a naive per-variant loop, same run, same models.

A seeded synthetic genome (one 2-Mb contig) and seeded SNVs; a 9-fold ensemble of
CLIPNET models with random weights (speed does not depend on the weights), published
geometry or ``--small``. Both engines score with reverse-complement averaging (4 windows
per variant: ref, alt and their reverse complements, through every fold model):

- varinterp: ``score_variants`` (streamed chunks, batched windows, all folds per batch);
- naive: the per-variant loop of gReLU/kipoi-veff-style scripts: for each variant fetch
  the window with pyfaidx, substitute the allele in the string, one-hot encode it, run
  its 4 windows through each fold model as one batch, average, compute the scores.

Both are warmed up first. The two engines' ``log2fc`` agree (checked, printed).
``--memory`` also runs ``score_variants`` in fresh child processes on N and 4N variants
(chunks of 500) and reports their peak resident memory (VmHWM; flat in N = streaming
works).

Usage (from the repository root)::

    python benchmarks/scoring/bench_score.py --workdir /tmp/score-bench --threads 1 \\
        --n-variants 300 --n-naive 60 [--small] [--memory]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from varinterp.genome.encoding import one_hot  # noqa: E402
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig  # noqa: E402
from varinterp.training.modeldir import save_model_dir  # noqa: E402

CONTIG = 2_000_000


def make_world(work: Path, n: int, *, small: bool, folds: int, seed: int = 1) -> dict:
    import pysam

    work.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    seq = "".join(np.array(list("ACGT"))[rng.integers(0, 4, CONTIG)])
    fasta = work / "ref.fa"
    if not fasta.exists():
        fasta.write_text(
            ">chr1\n" + "\n".join(seq[i : i + 80] for i in range(0, CONTIG, 80)) + "\n"
        )
    pos = np.sort(rng.choice(np.arange(1000, CONTIG - 1000), n, replace=False))
    lines = ["##fileformat=VCFv4.2", f"##contig=<ID=chr1,length={CONTIG}>"]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    for i, p in enumerate(pos):
        ref = seq[p]
        alt = "ACGT".replace(ref, "")[rng.integers(0, 3)]
        lines.append(f"chr1\t{p + 1}\tv{i}\t{ref}\t{alt}\t.\tPASS\t.")
    plain = work / f"v{n}.vcf"
    plain.write_text("\n".join(lines) + "\n")
    vcf = Path(str(plain) + ".gz")
    pysam.tabix_compress(str(plain), str(vcf), force=True)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    name = f"model_{'small' if small else 'published'}_{folds}"
    model = work / name
    if not model.exists():
        cfg = ClipnetConfig.small() if small else ClipnetConfig()
        ms = {}
        for k in range(1, folds + 1):
            torch.manual_seed(k)
            m = Clipnet(cfg)
            m.init_quantity_scale(5.0, 2.0)
            ms[f"fold_{k}"] = m
        save_model_dir(model, config=cfg, folds=ms)
    return {"fasta": fasta, "vcf": vcf, "model": model, "n": n}


def run_varinterp(
    world: dict, out: Path, batch_size: int | None, chunk_size: int = 4096
) -> tuple[float, np.ndarray]:
    import pandas as pd

    from varinterp.effects.score import score_variants

    t = time.perf_counter()
    score_variants(
        vcf=world["vcf"], model=world["model"], fasta=world["fasta"], out=out,
        batch_size=batch_size, chunk_size=chunk_size, device="cpu", overwrite=True,
    )  # fmt: skip
    dt = time.perf_counter() - t
    return dt, pd.read_csv(out, sep="\t")["log2fc"].to_numpy()


def run_naive(world: dict, n: int) -> tuple[float, np.ndarray]:
    import cyvcf2
    import pyfaidx

    from varinterp.training.modeldir import load_model_dir

    _, models = load_model_dir(world["model"])
    models = list(models.values())
    L = models[0].config.input_length
    fa = pyfaidx.Fasta(str(world["fasta"]))
    out = []
    t = time.perf_counter()
    for k, rec in enumerate(cyvcf2.VCF(str(world["vcf"]))):
        if k == n:
            break
        p0 = rec.POS - 1
        s = p0 - L // 2
        text = str(fa[rec.CHROM][s : s + L])
        ref_s = text[: L // 2] + rec.REF + text[L // 2 + 1 :]
        alt_s = text[: L // 2] + rec.ALT[0] + text[L // 2 + 1 :]
        x = torch.from_numpy(
            2 * one_hot(np.stack([one_hot(ref_s), one_hot(alt_s)]).argmax(1))
        ).float()
        x = torch.cat([x, x.flip(1, 2)])
        q = torch.zeros(4)
        with torch.no_grad():
            for m in models:
                _, qq = m(x)
                q += qq[:, 0]
        q = q / len(models)
        qr, qa = (q[0] + q[2]) / 2, (q[1] + q[3]) / 2
        out.append(float(np.log2((float(qa) + 1e-3) / (float(qr) + 1e-3))))
    return time.perf_counter() - t, np.array(out)


def _vm_hwm_mb() -> float:
    """Peak resident memory of this process (VmHWM; unlike ru_maxrss, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_peak(world_dir: Path, n: int, small: bool, folds: int, threads: int) -> dict:
    """Score `n` variants in a fresh process; its wall time and peak resident memory."""
    args = json.dumps([str(world_dir), n, small, folds, threads])
    code = (
        "import json, sys; from pathlib import Path; import torch;"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parent)!r});"
        "from bench_score import make_world, run_varinterp, _vm_hwm_mb;"
        f"d, n, small, folds, threads = json.loads({args!r});"
        "torch.set_num_threads(threads);"
        "w = make_world(Path(d), n, small=small, folds=folds);"
        "dt, _ = run_varinterp(w, Path(d) / 'mem.tsv', None, chunk_size=500);"
        "print(json.dumps({'n': n, 'seconds': dt, 'peak_rss_mb': _vm_hwm_mb()}))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--n-variants", type=int, default=300)
    ap.add_argument("--n-naive", type=int, default=60)
    ap.add_argument("--folds", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--small", action="store_true")
    ap.add_argument("--memory", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    world = make_world(a.workdir, a.n_variants, small=a.small, folds=a.folds)
    warm = make_world(a.workdir / "warm", 8, small=a.small, folds=a.folds)
    run_varinterp(warm, a.workdir / "warm.tsv", a.batch_size)
    run_naive(warm, 4)
    dt_v, fc_v = run_varinterp(world, a.workdir / "effects.tsv", a.batch_size)
    dt_n, fc_n = run_naive(world, a.n_naive)
    agree = float(np.max(np.abs(fc_v[: len(fc_n)] - fc_n)))
    rows = {
        "model": "small" if a.small else "published",
        "folds": a.folds,
        "threads": a.threads,
        "varinterp_variants_per_s": a.n_variants / dt_v,
        "naive_variants_per_s": a.n_naive / dt_n,
        "speedup": (a.n_variants / dt_v) / (a.n_naive / dt_n),
        "max_abs_log2fc_diff": agree,
        "n_variants": a.n_variants,
        "n_naive": a.n_naive,
        "peak_rss_mb_parent": _vm_hwm_mb(),
    }
    if a.memory:
        rows["memory"] = [
            child_peak(a.workdir / "mem", n, a.small, a.folds, a.threads)
            for n in (a.n_variants, 4 * a.n_variants)
        ]
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
