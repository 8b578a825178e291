"""A tiny simulated ATAC world, its insertion tracks and run configs, for the bpAI-TAC tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from varinterp.atac.insertions import count_insertions
from varinterp.simulate.atac_writers import AtacFiles, simulate_atac

#: A small model that trains in seconds on one CPU thread.
SMALL_MODEL = {"preset": "small", "filters": 8, "n_blocks": 2, "input_length": 400}


@dataclass(frozen=True)
class TinyAtac:
    files: AtacFiles
    insertions: Path
    world: object

    @property
    def tasks(self) -> Path:
        return self.insertions / "tasks.tsv"


def make_tiny_atac(root: Path, *, seed: int = 3, genome_size: int = 120_000) -> TinyAtac:
    """Three chromosomes with about 60 OCRs, counted into insertion bigWigs."""
    world, files = simulate_atac(
        out=root / "world", seed=seed, genome_size=genome_size, n_chromosomes=3
    )
    count_insertions(
        out=root / "ins", chrom_sizes=files.chrom_sizes, fragments=files.fragments,
        barcodes=files.barcodes, peaks=files.ocrs_bed, shift=False, min_fragments=10,
    )  # fmt: skip
    return TinyAtac(files=files, insertions=root / "ins", world=world)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def write_config(
    path: Path, tiny: TinyAtac, *, bias: bool = False, model=None, training=None, data=None
) -> Path:
    """A run config over `tiny` (validation chr2, test chr3); `bias` for a tn5-bias run."""
    d = {
        "fasta": str(tiny.files.fasta),
        "tasks": str(tiny.tasks),
        "peaks": str(tiny.files.background_bed if bias else tiny.files.ocrs_bed),
        "validation_chroms": ["chr2"],
        "test_chroms": ["chr3"],
        **(data or {}),
    }
    if bias:
        d["min_total"] = d.get("min_total", 1.0)
    t = {"max_epochs": 2, "batch_size": 16, "device": "cpu", "warmup_steps": 5,
         **(training or {})}  # fmt: skip
    m = {**SMALL_MODEL, **(model or {})}
    text = ""
    for name, section in (("data", d), ("model", m), ("training", t)):
        text += f"[{name}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in section.items())
    path.write_text(text)
    return path
