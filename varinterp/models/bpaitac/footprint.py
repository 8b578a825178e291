"""In-silico footprinting of a motif with a bpAI-TAC model (the paper's deep footprints).

`footprint_motif` inserts a motif into `n` background sequences (random bases at a GC
content, or given windows such as dinucleotide-shuffled OCRs) at the same place
(centred in the output window unless told otherwise), predicts every cell type's
profile **with the Tn5 bias zeroed** (so what remains is what the model learnt about the
motif, not Tn5's preference) and averages: the mean profile with the motif, without it,
and the mean counts. A factor that binds leaves a dip over its site flanked by raised
insertions; `Footprint.dip_offset` finds the dip's position relative to the motif
centre.

IUPAC letters in the motif are drawn per background (``N`` any base).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from varinterp.errors import InputError
from varinterp.genome.encoding import one_hot
from varinterp.progress import ProgressCallback, report

__all__ = ["IUPAC", "Footprint", "footprint_motif", "footprint_to_tsv", "write_footprint"]

IUPAC = {
    "A": "A", "C": "C", "G": "G", "T": "T", "W": "AT", "S": "CG", "R": "AG", "Y": "CT",
    "K": "GT", "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT",
}  # fmt: skip


@dataclass
class Footprint:
    """Mean predictions over the backgrounds, bias zeroed: ``with_motif`` and
    ``without`` ``(T, Lout) float64`` profiles (probabilities), ``counts_with`` and
    ``counts_without`` ``(T,) float64``; ``motif_start`` is the motif's first base in
    output-window coordinates."""

    tasks: tuple[str, ...]
    motif: str
    motif_start: int
    with_motif: np.ndarray
    without: np.ndarray
    counts_with: np.ndarray
    counts_without: np.ndarray
    n: int

    @property
    def motif_centre(self) -> float:
        return self.motif_start + (len(self.motif) - 1) / 2

    def log2_ratio(self) -> np.ndarray:
        """``log2(with / without)`` per task and position: ``(T, Lout) float64``."""
        return np.log2(np.maximum(self.with_motif, 1e-12) / np.maximum(self.without, 1e-12))

    def dip_offset(self, task: int, *, flank: int = 15) -> float:
        """Where the footprint's dip lies, in bp from the motif centre, for task index
        `task`: the centre of mass of the depletion (``max(0, -log2_ratio)``) within
        `flank` bp of the motif centre (NaN when nothing is depleted there)."""
        ratio = self.log2_ratio()[task]
        c = self.motif_centre
        lo, hi = max(int(np.floor(c - flank)), 0), min(int(np.ceil(c + flank)) + 1, ratio.size)
        w = np.maximum(0.0, -ratio[lo:hi])
        if w.sum() <= 0:
            return float("nan")
        return float((w * (np.arange(lo, hi) - c)).sum() / w.sum())

    def dip_depth(self, task: int, *, half_width: int = 3) -> float:
        """Mean log2 ratio over the motif centre +- `half_width` bp (negative: a dip)."""
        ratio = self.log2_ratio()[task]
        c = round(self.motif_centre)
        return float(ratio[max(c - half_width, 0) : c + half_width + 1].mean())

    def table(self) -> pd.DataFrame:
        """Long table: ``task position offset with_motif without log2_ratio``."""
        t, length = self.with_motif.shape
        pos = np.tile(np.arange(length), t)
        return pd.DataFrame(
            {
                "task": np.repeat(np.asarray(self.tasks, dtype=object), length),
                "position": pos,
                "offset": pos - self.motif_centre,
                "with_motif": self.with_motif.reshape(-1),
                "without": self.without.reshape(-1),
                "log2_ratio": self.log2_ratio().reshape(-1),
            }
        )


def _motif_codes(motif: str, n: int, rng: np.random.Generator) -> np.ndarray:
    motif = motif.upper()
    bad = sorted(set(motif) - set(IUPAC))
    if not motif or bad:
        raise InputError(f"motif {motif!r} must be IUPAC letters (A C G T W S ... N)")
    out = np.empty((n, len(motif)), dtype=np.uint8)
    for i, letter in enumerate(motif):
        allowed = np.array(["ACGT".index(b) for b in IUPAC[letter]], dtype=np.uint8)
        out[:, i] = allowed[rng.integers(0, allowed.size, n)]
    return out


def footprint_motif(
    model,
    motif: str,
    *,
    n: int = 200,
    seed: int = 0,
    gc: float = 0.41,
    backgrounds: np.ndarray | None = None,
    offset: int | None = None,
    batch_size: int = 64,
    device: str = "auto",
    on_progress: ProgressCallback | None = None,
) -> Footprint:
    """Footprint `motif` with `model` (a bpAI-TAC `Ensemble` or model directory).

    `backgrounds` ``(n, L) uint8`` base codes replace the random ones; `offset` is the
    motif's first base in the output window (default: centred).
    """
    from varinterp.training.inference import Ensemble, load_model

    ens = model if isinstance(model, Ensemble) else load_model(model, device=device)
    if ens.arch.name != "bpaitac":
        raise InputError(f"footprints need a bpaitac model, not {ens.arch.name!r}")
    cfg = ens.model_dir.config
    length, out_len = cfg.input_length, cfg.output_length
    rng = np.random.default_rng(seed)
    if backgrounds is None:
        if not 0 < gc < 1:
            raise InputError(f"gc must be in (0, 1), got {gc}")
        p = np.array([1 - gc, gc, gc, 1 - gc]) / 2
        backgrounds = rng.choice(4, size=(n, length), p=p).astype(np.uint8)
    backgrounds = np.asarray(backgrounds, dtype=np.uint8)
    if backgrounds.ndim != 2 or backgrounds.shape[1] != length:
        raise InputError(f"backgrounds must be (n, {length}) base codes")
    n = backgrounds.shape[0]
    k = len(motif)
    start_out = (out_len - k) // 2 if offset is None else int(offset)
    if not 0 <= start_out <= out_len - k:
        raise InputError(f"motif offset {start_out} puts it outside the {out_len}-bp output")
    at = cfg.output_start + start_out
    planted = backgrounds.copy()
    planted[:, at : at + k] = _motif_codes(motif, n, rng)
    sums = {}
    models = list(ens.models.values())
    with torch.inference_mode():
        for name, codes in (("with", planted), ("without", backgrounds)):
            prof = np.zeros((cfg.n_tasks, out_len))
            counts = np.zeros(cfg.n_tasks)
            for lo in range(0, n, batch_size):
                x = torch.from_numpy(one_hot(codes[lo : lo + batch_size])).to(ens.device).float()
                for m in models:
                    o = m(x, with_bias=False)
                    prof += o.log_profile.exp().double().sum(dim=0).cpu().numpy()
                    counts += o.counts.double().sum(dim=0).cpu().numpy()
                report(on_progress, lo + x.shape[0] + (n if name == "without" else 0), 2 * n)
            sums[name] = (prof / (n * len(models)), counts / (n * len(models)))
    return Footprint(
        tasks=ens.tasks, motif=motif.upper(), motif_start=start_out,
        with_motif=sums["with"][0], without=sums["without"][0],
        counts_with=sums["with"][1], counts_without=sums["without"][1], n=n,
    )  # fmt: skip


def write_footprint(fp: Footprint, path: str | os.PathLike) -> None:
    """Write `Footprint.table` as TSV atomically."""
    from varinterp.io.atomic import atomic_path

    with atomic_path(path, suffix=".tsv") as tmp:
        fp.table().to_csv(tmp, sep="\t", index=False, float_format="%.6g")


def footprint_to_tsv(
    model, motif: str, *, out: str | os.PathLike, overwrite: bool = False, **options
) -> Footprint:
    """`footprint_motif` (`options` are its keywords) written to the TSV `out`.

    `out` is checked before the model is loaded; an existing `out` is an `InputError`
    unless `overwrite`.
    """
    from varinterp.io.atomic import check_output

    out = check_output(out)
    if out.exists() and not overwrite:
        raise InputError(f"output {out} already exists; remove it or pass --overwrite")
    fp = footprint_motif(model, motif, **options)
    write_footprint(fp, out)
    return fp
