"""A model family defined here, in the test suite, lives in the house like a built-in one.

A two-task, one-strand network learns a planted motif on simulated data through the
public API: registered with `vi.register_architecture`, trained by the one engine
(`vi.fit` with a task adapter written here), saved (`vi.save_model_dir`), loaded
(`vi.load_model`) and scored (`vi.score_frame`, `vi.score_variants`, the CLI) with no
change to varinterp. The planted truth: task ``ap1`` counts 24 reads around a central
TGACTCA, 3 without it; task ``flat`` counts 6 everywhere. Breaking the motif must lower
``ap1`` by about log2(24 / 3) = 3 and leave ``flat`` alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import varinterp as vi
from tests.effects._scoring_toys import bgzip_index, write_fasta, write_vcf
from varinterp.cli.main import app
from varinterp.genome.encoding import one_hot

MOTIF = "TGACTCA"
L_IN, L_OUT = 64, 16


@dataclass(frozen=True)
class MotifConfig:
    input_length: int = L_IN
    output_length: int = L_OUT
    n_strands: int = 1
    n_tasks: int = 2
    filters: int = 8

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> MotifConfig:
        return cls(**values)


class MotifNet(nn.Module):
    """Conv -> ReLU -> per task: a profile over the centre and a log-count."""

    def __init__(self, config: MotifConfig) -> None:
        super().__init__()
        self.config = config
        self.conv = nn.Conv1d(4, config.filters, len(MOTIF), padding="same")
        self.profile = nn.Conv1d(config.filters, config.n_tasks, 1)
        self.log_count = nn.Linear(config.filters, config.n_tasks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.conv(x))
        lo = (self.config.input_length - self.config.output_length) // 2
        p = torch.softmax(self.profile(h)[..., lo : lo + self.config.output_length], dim=-1)
        return p[:, :, None, :], self.log_count(h.amax(dim=-1))


def _outputs(config: MotifConfig, metadata: dict) -> vi.OutputSpec:
    tasks = tuple(metadata.get("tasks", [f"t{i}" for i in range(config.n_tasks)]))
    return vi.OutputSpec(
        input_length=config.input_length, output_length=config.output_length, n_strands=1,
        tasks=tasks, quantity="counts",
    )  # fmt: skip


def _predict(model, x, context):
    profile, log_count = model(x)
    return profile, torch.exp(log_count)


class MotifTask:
    """The engine's task adapter: Poisson loss on the counts of both tasks."""

    terms = ("loss",)

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int = 64) -> None:
        n_val = len(x) // 5
        self.x, self.y = x, y
        self.idx = {"train": np.arange(n_val, len(x)), "validation": np.arange(n_val)}
        self.batch_size = batch_size

    def n_batches(self, split, world_size):
        return -(-self.idx[split].size // self.batch_size)

    def batches(self, split, *, epoch, rng, rank, world_size):
        idx = self.idx[split] if rng is None else rng.permutation(self.idx[split])
        for lo in range(0, idx.size, self.batch_size):
            b = idx[lo : lo + self.batch_size]
            yield torch.from_numpy(self.x[b]).float(), torch.from_numpy(self.y[b])

    def forward(self, model, batch, device):
        return model(batch[0].to(device))[1]

    def loss(self, prediction, batch, device, *, step):
        y = batch[1].to(device)
        nll = (torch.exp(prediction) - y * prediction).mean()
        return vi.Loss(nll, {"loss": nll}, y.shape[0])

    def has_validation(self):
        return True


def _world(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    codes = rng.integers(0, 4, (n, L_IN)).astype(np.uint8)
    has = rng.random(n) < 0.5
    motif = np.array(["ACGT".index(b) for b in MOTIF], dtype=np.uint8)
    start = L_IN // 2 - len(MOTIF) // 2
    codes[has, start : start + len(MOTIF)] = motif
    lam = np.stack([np.where(has, 24.0, 3.0), np.full(n, 6.0)], axis=1)
    return one_hot(codes), rng.poisson(lam).astype(np.float32)


def _base(fasta, pos0: int) -> str:
    from varinterp.io.fasta import Reference

    return Reference(fasta).base("chrT", pos0)


def _other(base: str) -> str:
    return "A" if base != "A" else "C"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toyfamily")
    vi.register_architecture(
        "toy-motif", MotifConfig, MotifNet, outputs=_outputs, predict=_predict,
        input_encoding="one-hot", family="tests",
    )  # fmt: skip
    x, y = _world(1200, np.random.default_rng(0))
    settings = vi.FitSettings(
        max_epochs=25, patience=25, optimizer=vi.OptimizerSettings(lr=0.02), prefetch=0
    )
    torch.set_num_threads(1)
    result = vi.fit(
        make_model=lambda attempt: MotifNet(MotifConfig()), task=MotifTask(x, y),
        settings=settings, device=torch.device("cpu"), seed=0,
    )  # fmt: skip
    path = vi.save_model_dir(
        tmp / "toy-model", config=MotifConfig(), folds={"replicate_1": result.best_state},
        metadata={"tasks": ["ap1", "flat"]}, card="# toy motif model\n",
    )  # fmt: skip
    rng = np.random.default_rng(1)
    seq = "".join(rng.choice(list("ACGT"), 400))
    seq = seq[:200] + MOTIF + seq[207:]
    fasta = write_fasta(tmp / "toy.fa", {"chrT": seq})
    return tmp, path, fasta, result


def test_the_engine_trained_it(trained):
    _, _, _, result = trained
    losses = [h.val_loss for h in result.history]
    assert losses[-1] < 0.8 * losses[0]


def test_scores_break_the_motif_for_its_task_only(trained):
    _, path, fasta, _ = trained
    model = vi.load_model(path, device="cpu")
    assert model.arch.name == "toy-motif" and model.tasks == ("ap1", "flat")
    # the motif sits at 0-based 200..206; pos is 1-based
    far = _base(fasta, 99)
    variants = pd.DataFrame(
        {
            "chrom": "chrT",
            "pos": [204, 205, 100],
            "ref": ["C", "T", far],
            "alt": ["G", "G", _other(far)],
        }
    )
    table = vi.score_frame(model, variants, fasta=fasta, rc_average=False)
    assert list(table["task"]) == ["ap1", "flat"] * 3
    assert table.columns.tolist()[:7] == ["chrom", "pos", "id", "ref", "alt", "scorer", "task"]
    ap1 = table[table["task"] == "ap1"].reset_index(drop=True)
    flat = table[table["task"] == "flat"].reset_index(drop=True)
    assert (ap1.loc[:1, "log2fc"] < -1.5).all(), ap1
    assert abs(ap1.loc[2, "log2fc"]) < 0.5
    assert (flat["log2fc"].abs() < 0.5).all(), flat
    only = vi.score_frame(model, variants, fasta=fasta, tasks=["flat"], rc_average=False)
    assert list(only["task"]) == ["flat"] * 3
    np.testing.assert_allclose(only["log2fc"], flat["log2fc"], rtol=1e-6)


def test_cli_scores_a_plugged_in_family_per_task(trained):
    import cyvcf2

    tmp, path, fasta, _ = trained
    far = _base(fasta, 299)
    rows = [("chrT", 204, "rs1", "C", "G"), ("chrT", 300, "rs2", far, _other(far))]
    vcf = bgzip_index(write_vcf(tmp / "v.vcf", rows, contigs={"chrT": 400}))
    out = tmp / "effects.tsv"
    vcf_out = tmp / "effects.vcf.gz"
    res = CliRunner().invoke(
        app,
        ["score", "--vcf", str(vcf), "-m", str(path), "--fasta", str(fasta), "-o", str(out),
         "--vcf-out", str(vcf_out), "--device", "cpu", "--quiet", "--overwrite"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 4 and list(table["task"]) == ["ap1", "flat", "ap1", "flat"]
    rec = next(iter(cyvcf2.VCF(str(vcf_out))))
    assert rec.INFO["VI_log2fc_ap1"] == pytest.approx(table.loc[0, "log2fc"], rel=1e-4)
    assert rec.INFO["VI_log2fc_flat"] == pytest.approx(table.loc[1, "log2fc"], rel=1e-4)
    bad = CliRunner().invoke(
        app,
        ["score", "--vcf", str(vcf), "-m", str(path), "--fasta", str(fasta), "-o",
         str(tmp / "x.tsv"), "--tasks", "nope", "--device", "cpu"],
    )  # fmt: skip
    assert bad.exit_code == 2 and "ap1, flat" in bad.output


def test_a_family_that_scores_variants_its_own_way(trained):
    """An architecture's ``variant_scorer`` replaces window scoring, options passed on."""
    _, path, fasta, _ = trained
    seen = {}

    def scorer(ens, variants, **options):
        seen.update(options)
        out = variants.assign(scorer="ensemble", task="ap1", log2fc=1.5, flags=".")
        return out

    arch = vi.load_model(path, device="cpu").arch
    vi.register_architecture(
        "toy-motif-own", MotifConfig, MotifNet, outputs=arch.outputs, predict=arch.predict,
        variant_scorer=scorer,
    )  # fmt: skip
    from varinterp.training.inference import load_model
    from varinterp.training.modeldir import read_model_dir

    model = load_model(path, device="cpu")
    model.model_dir = read_model_dir(path)
    model.model_dir.architecture = "toy-motif-own"
    variants = pd.DataFrame({"chrom": ["chrT"], "pos": [204], "ref": ["C"], "alt": ["G"]})
    table = vi.score_frame(model, variants, fasta=fasta, tasks=["ap1"], seed=7)
    assert table["log2fc"].tolist() == [1.5]
    assert seen["tasks"] == ["ap1"] and seen["seed"] == 7 and seen["fasta"] == fasta
