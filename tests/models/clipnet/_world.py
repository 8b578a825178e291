"""A tiny synthetic PRO-cap cohort: reference, VCF -> genome store, stranded bigWigs, peaks.

Shared by tests/datasets and tests/training. Everything is written to a temporary folder
and the raw arrays are returned, so tests can compute expected values independently.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from varinterp.genome.build import build_store
from varinterp.io.bigwig import write_bigwig

BASES = "ACGT"


@dataclass
class World:
    folder: Path
    store: Path
    sheet: Path
    peaks: Path
    fasta: Path
    reference: dict[str, str]
    # library -> (plus, minus) dict contig -> raw (non-negative) float array
    signal: dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]
    library_sample: dict[str, str]
    # (chrom, pos0) -> (ref, alt, {sample: (a1, a2)})
    variants: dict[tuple[str, int], tuple[str, str, dict[str, tuple[int, int]]]]
    anchors: list[tuple[str, int]] = field(default_factory=list)

    def contig_lengths(self) -> dict[str, int]:
        return {c: len(s) for c, s in self.reference.items()}


def make_world(
    folder: Path,
    *,
    n_contigs: int = 10,
    contig_len: int = 2000,
    peaks_per_contig: int = 2,
    samples: tuple[str, ...] = ("s1", "s2", "s3"),
    libraries: tuple[tuple[str, str], ...] = (("libA", "s1"), ("libB", "s1"), ("libC", "s2")),
    snvs_per_contig: int = 8,
    minus_negative: bool = True,
    seed: int = 0,
    extra_records: tuple[str, ...] = (),
    peak_lines: list[str] | None = None,
    at_het: tuple[str, int] | None = None,
) -> World:
    """Write the world; `at_het` = (contig, pos0) forces an A/T SNV there, het in the
    first sample and hom-ref in the others."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    contigs = [f"c{i}" for i in range(n_contigs)]
    reference = {c: "".join(rng.choice(list(BASES), contig_len)) for c in contigs}
    if at_het is not None:
        c, p = at_het
        reference[c] = reference[c][:p] + "A" + reference[c][p + 1 :]
    fasta = folder / "ref.fa"
    fasta.write_text("".join(f">{c}\n{s}\n" for c, s in reference.items()))
    # variants: random biallelic SNVs with random unphased genotypes
    variants: dict = {}
    records = []
    for c in contigs:
        for pos in sorted(rng.choice(np.arange(5, contig_len - 5), snvs_per_contig, replace=False)):
            if at_het is not None and (c, int(pos)) == at_het:
                continue
            ref = reference[c][pos]
            alt = rng.choice([b for b in BASES if b != ref])
            gts = {s: tuple(int(a) for a in rng.integers(0, 2, 2)) for s in samples}
            variants[(c, int(pos))] = (ref, str(alt), gts)
            cols = [c, str(pos + 1), f"v{c}_{pos}", ref, str(alt), ".", ".", ".", "GT"]
            cols += [f"{g[0]}/{g[1]}" for g in gts.values()]
            records.append("\t".join(cols))
    if at_het is not None:
        c, p = at_het
        gts = {s: ((0, 1) if i == 0 else (0, 0)) for i, s in enumerate(samples)}
        variants[(c, p)] = ("A", "T", gts)
        cols = [c, str(p + 1), "at_het", "A", "T", ".", ".", ".", "GT"]
        records.append("\t".join(cols + [f"{g[0]}/{g[1]}" for g in gts.values()]))
    records += list(extra_records)
    records.sort(key=lambda r: (contigs.index(r.split("\t")[0]), int(r.split("\t")[1])))
    header = ["##fileformat=VCFv4.2"]
    header += [f"##contig=<ID={c},length={contig_len}>" for c in contigs]
    header += ['##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    header += ["\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO",
                          "FORMAT", *samples])]  # fmt: skip
    plain = folder / "cohort.vcf"
    plain.write_text("\n".join(header + records) + "\n")
    subprocess.run(["bgzip", "-f", str(plain)], check=True)
    vcf = folder / "cohort.vcf.gz"
    subprocess.run(["tabix", "-f", "-p", "vcf", str(vcf)], check=True)
    store = folder / "cohort.vgs"
    build_store(vcf=vcf, fasta=fasta, out=store)
    # peaks: evenly spaced on every contig
    anchors = []
    lines = []
    for c in contigs:
        for j in range(peaks_per_contig):
            mid = int(contig_len * (j + 1) / (peaks_per_contig + 1))
            anchors.append((c, mid))
            lines.append(f"{c}\t{mid - 10}\t{mid + 10}\tp_{c}_{j}\n")
    peaks = folder / "peaks.bed"
    peaks.write_text("".join(peak_lines if peak_lines is not None else lines))
    # tracks: sparse counts, stronger around peaks; minus strand stored negative
    signal = {}
    sheet_rows = ["library\tsample\tplus\tminus"]
    (folder / "bw").mkdir(exist_ok=True)
    for lib, sample in libraries:
        plus, minus = {}, {}
        for c in contigs:
            base = rng.poisson(0.05, (2, contig_len)).astype(np.float64)
            for cc, mid in anchors:
                if cc == c:
                    base[:, mid - 60 : mid + 60] += rng.poisson(2.0, (2, 120))
            plus[c], minus[c] = base[0], base[1]
        signal[lib] = (plus, minus)
        sizes = {c: contig_len for c in contigs}
        sign = -1.0 if minus_negative else 1.0
        write_bigwig(folder / "bw" / f"{lib}.plus.bw", chrom_sizes=sizes,
                     tracks=[(c, 0, plus[c]) for c in contigs])  # fmt: skip
        write_bigwig(folder / "bw" / f"{lib}.minus.bw", chrom_sizes=sizes,
                     tracks=[(c, 0, sign * minus[c]) for c in contigs])  # fmt: skip
        sheet_rows.append(f"{lib}\t{sample}\tbw/{lib}.plus.bw\tbw/{lib}.minus.bw")
    sheet = folder / "samples.tsv"
    sheet.write_text("\n".join(sheet_rows) + "\n")
    return World(
        folder=folder,
        store=store,
        sheet=sheet,
        peaks=peaks,
        fasta=fasta,
        reference=reference,
        signal=signal,
        library_sample=dict(libraries),
        variants=variants,
        anchors=anchors,
    )


def two_hot(world: World, sample: str, chrom: str, start: int, length: int) -> np.ndarray:
    """Naive two-hot of `sample` over ``chrom[start:start+length]`` -> (4, length) uint8."""
    out = np.zeros((4, length), dtype=np.uint8)
    seq = world.reference[chrom]
    for i in range(length):
        p = start + i
        if not 0 <= p < len(seq):
            continue
        alleles = [seq[p], seq[p]]
        v = world.variants.get((chrom, p))
        if v is not None and sample in v[2]:
            ref, alt, gts = v
            alleles = [alt if a else ref for a in gts[sample]]
        for a in alleles:
            out[BASES.index(a), i] += 1
    return out


def rpm_scale(world: World, library: str) -> float:
    plus, minus = world.signal[library]
    total = sum(v.sum() for v in plus.values()) + sum(v.sum() for v in minus.values())
    return 1e6 / total


def write_toml(path: Path, world: World, *, training: dict | None = None, model: dict | None = None,
               data: dict | None = None) -> Path:  # fmt: skip
    """A run config for `world` with a one-contig-per-fold table and a tiny model."""
    d = {"store": str(world.store), "sample_sheet": str(world.sheet), "peaks": str(world.peaks)}
    d.update(data or {})
    m = {"preset": "small", "input_length": 240, "output_length": 100, "n_dilations": 2,
         "conv1_filters": 8, "conv2_filters": 8, "n_filters": 8}  # fmt: skip
    m.update(model or {})
    t = {"batch_size": 16, "max_epochs": 3, "patience": 2, "prefetch": 1, "device": "cpu"}
    t.update(training or {})
    lines = ["[data]"] + [f"{k} = {_toml(v)}" for k, v in d.items() if k != "folds"]
    folds = d.get("folds", {c: i for i, c in enumerate(world.reference)})
    if isinstance(folds, str):
        lines.append(f"folds = {_toml(folds)}")
    else:
        lines += ["[data.folds]"] + [f"{k} = {v}" for k, v in folds.items()]
    lines += ["[model]"] + [f"{k} = {_toml(v)}" for k, v in m.items()]
    lines += ["[training]"] + [f"{k} = {_toml(v)}" for k, v in t.items() if v is not None]
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    return repr(v)
