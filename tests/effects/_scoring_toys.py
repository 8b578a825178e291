"""Hand-set toy models and tiny genomes for the scoring and attribution tests.

`ToyModel` has hand-set 1x1 convolutions whose outputs are known in closed form:

- profile, plus strand at output position j: ``1 + x[G, start + j]``;
- profile, minus strand: ``1 + x[C, start + j]``;
- quantity: ``2 ** (sum of x[C] + x[G] over the central `core` = 6 positions / 2)``.

It is exactly reverse-complement equivariant (G on the plus strand is C on the minus
strand), and a homozygous A->G at the centre doubles the quantity (log2fc = 1; a
heterozygous one gives 0.5).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

RNG_SEQ = np.random.default_rng(11)


@dataclass(frozen=True)
class ToyConfig:
    input_length: int = 40
    output_length: int = 20
    n_strands: int = 2
    core: int = 6  # even, so the core is symmetric under reverse complement

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ToyConfig:
        return cls(**data)


class ToyModel(nn.Module):
    def __init__(self, config: ToyConfig | None = None, *, scale: float = 1.0) -> None:
        super().__init__()
        self.config = config or ToyConfig()
        self.profile_conv = nn.Conv1d(4, 2, 1)
        self.gc_conv = nn.Conv1d(4, 1, 1, bias=False)
        with torch.no_grad():
            self.profile_conv.weight.zero_()
            self.profile_conv.weight[0, 2, 0] = 1.0  # plus <- G
            self.profile_conv.weight[1, 1, 0] = 1.0  # minus <- C
            self.profile_conv.bias.fill_(1.0)
            self.gc_conv.weight.zero_()
            self.gc_conv.weight[0, 1, 0] = 0.5
            self.gc_conv.weight[0, 2, 0] = 0.5
        self.scale = scale

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        s = (cfg.input_length - cfg.output_length) // 2
        p = self.profile_conv(x)[:, :, s : s + cfg.output_length]
        mid = cfg.input_length // 2
        lo = mid - cfg.core // 2  # positions mid-3 .. mid+2: symmetric for even L
        gc = self.gc_conv(x)[:, 0, lo : lo + cfg.core].sum(dim=1)
        q = self.scale * torch.pow(2.0, gc)
        return p.flatten(1), q[:, None]


def register_toy() -> None:
    from varinterp.training.registry import register_architecture

    register_architecture("toy", ToyConfig, ToyModel)


def save_toy_dir(path: Path, folds=("fold_1",), metadata=None) -> Path:
    from varinterp.training.modeldir import save_model_dir

    register_toy()
    cfg = ToyConfig()
    models = {f: ToyModel(cfg) for f in folds}
    return save_model_dir(path, config=cfg, folds=models, metadata=metadata or {})


def random_codes(length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4, length).astype(np.uint8)


def write_fasta(path: Path, contigs: dict[str, str]) -> Path:
    with open(path, "w") as fh:
        for name, seq in contigs.items():
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")
    return path


def random_seq(length: int, seed: int) -> str:
    return "".join(np.array(list("ACGT"))[random_codes(length, seed)])


def write_vcf(
    path: Path,
    rows: list[tuple],
    *,
    contigs: dict[str, int],
    samples: list[str] | None = None,
) -> Path:
    """Plain-text VCF of (chrom, pos1, id, ref, alt[, gts...]) rows, in the given order."""
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={c},length={n}>" for c, n in contigs.items()]
    if samples:
        lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
    if samples:
        header += "\tFORMAT\t" + "\t".join(samples)
    lines.append(header)
    for row in rows:
        chrom, pos, vid, ref, alt, *gts = row
        fields = [chrom, str(pos), vid, ref, alt, ".", "PASS", "."]
        if samples:
            fields += ["GT", *gts]
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def bgzip_index(path: Path) -> Path:
    import pysam

    out = Path(str(path) + ".gz")
    pysam.tabix_compress(str(path), str(out), force=True)
    pysam.tabix_index(str(out), preset="vcf", force=True)
    return out
