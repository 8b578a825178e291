"""Attributions: toy-model closed forms, DeepLIFT additivity, the module twin, the CLI."""

from __future__ import annotations

import numpy as np
import pyBigWig
import pytest
import torch
import typer
from typer.testing import CliRunner

from tests.effects._scoring_toys import ToyConfig, ToyModel, random_seq, save_toy_dir, write_fasta
from varinterp.cli import attribute as attribute_cli
from varinterp.cli._common import ErrorHandlingGroup
from varinterp.effects.attribute import EnsembleTarget, attribute_windows
from varinterp.genome.encoding import one_hot
from varinterp.models.clipnet.explain import ModuleClipnet
from varinterp.models.clipnet.network import Clipnet, ClipnetConfig


def _toy_inputs():
    cfg = ToyConfig()
    codes = np.random.default_rng(4).integers(0, 4, (2, cfg.input_length)).astype(np.uint8)
    x = one_hot(codes)
    core = np.arange(cfg.input_length // 2 - cfg.core // 2, cfg.input_length // 2 + cfg.core // 2)
    gc = np.isin(codes[:, core], [1, 2]).sum(axis=1)
    return cfg, codes, x, core, 2.0**gc


def test_toy_input_x_gradient_closed_form():
    cfg, codes, x, core, q = _toy_inputs()
    res = attribute_windows([ToyModel(cfg)], x, method="ixg")
    want = np.zeros((2, cfg.input_length))
    for i in range(2):
        for j in core:
            if codes[i, j] in (1, 2):
                want[i, j] = q[i] * np.log(2)
    np.testing.assert_allclose(res.attributions.sum(axis=1), want, rtol=1e-5, atol=1e-6)


def test_toy_ism_closed_form():
    cfg, codes, x, core, q = _toy_inputs()
    res = attribute_windows([ToyModel(cfg)], x, method="ism")
    want = np.zeros((2, cfg.input_length))
    for i in range(2):
        for j in core:  # an A/T base: -q/2; a C/G base: +q/4 (see the derivation in the docs)
            want[i, j] = q[i] / 4 if codes[i, j] in (1, 2) else -q[i] / 2
    np.testing.assert_allclose(res.attributions.sum(axis=1), want, rtol=1e-5, atol=1e-6)
    assert res.hypothetical.shape == (2, 4, cfg.input_length)


def _clipnets(n=2):
    cfg = ClipnetConfig.small(input_length=200, output_length=100)
    out = []
    for i in range(n):
        torch.manual_seed(10 + i)
        m = Clipnet(cfg)
        with torch.no_grad():
            for mod in m.modules():
                if isinstance(mod, torch.nn.BatchNorm1d):
                    mod.running_var.uniform_(0.5, 1.5)
                    mod.bias.uniform_(0.0, 0.5)
        m.init_quantity_scale(1.0, 0.5)  # a live (non-zero) quantity head
        out.append(m.eval())
    return out


def test_module_twin_matches_clipnet():
    m = _clipnets(1)[0]
    x = torch.from_numpy(2 * one_hot(np.random.default_rng(0).integers(0, 4, (3, 200)))).float()
    with torch.no_grad():
        p1, q1 = m(x)
        p2, q2 = ModuleClipnet(m)(x)
    torch.testing.assert_close(p1, p2)
    torch.testing.assert_close(q1, q2)


def test_deepshap_is_additive_against_its_references():
    from tangermeme.deep_lift_shap import deep_lift_shap

    models = _clipnets(2)
    x = one_hot(np.random.default_rng(1).integers(0, 4, (2, 200)).astype(np.uint8))
    res = attribute_windows(models, x, method="deepshap", n_shuffles=4, seed=3)
    wrapper = EnsembleTarget(models, target="quantity").eval()
    refs = deep_lift_shap(
        wrapper, torch.from_numpy(x).float(), n_shuffles=4, random_state=3,
        return_references=True,
    ).references  # fmt: skip
    with torch.no_grad():
        fx = wrapper(torch.from_numpy(x).float())[:, 0].numpy()
        fr = np.array([wrapper(refs[i].float())[:, 0].mean().item() for i in range(2)])
    np.testing.assert_allclose(res.attributions.sum(axis=(1, 2)), fx - fr, rtol=1e-3, atol=1e-5)
    assert np.abs(res.attributions).sum() > 0


def _app():
    root = typer.Typer(cls=ErrorHandlingGroup)
    root.command("attribute")(attribute_cli.attribute_command)

    @root.command("noop")
    def _noop() -> None:
        pass

    return root


@pytest.fixture
def world(tmp_path):
    seq = random_seq(200, 5)
    fasta = write_fasta(tmp_path / "ref.fa", {"chr1": seq, "chr2": random_seq(100, 6)})
    model = save_toy_dir(tmp_path / "toy")
    return {"seq": seq, "fasta": fasta, "model": model, "tmp": tmp_path}


def _run(world, *args):
    base = ["attribute", "--model", str(world["model"]), "--fasta", str(world["fasta"])]
    return CliRunner().invoke(_app(), [*base, "--device", "cpu", *args])


def test_cli_region_npz_and_bigwig(world):
    out, bw = world["tmp"] / "a.npz", world["tmp"] / "a.bw"
    r = _run(world, "--out", str(out), "--region", "chr1:81-100", "--region", "chr2:1-10",
             "--method", "ixg", "--bigwig", str(bw))  # fmt: skip
    assert r.exit_code == 0, r.output
    z = np.load(out)
    assert z["attributions"].shape == (2, 4, 40) and z["x"].dtype == np.uint8
    assert z["start"].tolist() == [90 - 20, 5 - 20] and z["label"][0] == "chr1:81-100"
    assert z["x"][1, :, :15].sum() == 0  # past the contig start: N
    with pyBigWig.open(str(bw)) as f:
        vals = np.nan_to_num(np.array(f.values("chr1", 70, 110)))
    np.testing.assert_allclose(vals, z["attributions"][0].sum(axis=0), rtol=1e-5, atol=1e-6)


def test_cli_variant_ref_and_alt(world):
    seq = world["seq"]
    alt = "G" if seq[99] in "AT" else "A"
    out, bw = world["tmp"] / "v.npz", world["tmp"] / "v.bw"
    r = _run(world, "--out", str(out), "--variant", f"chr1:100:{seq[99]}:{alt}",
             "--method", "ism", "--bigwig", str(bw))  # fmt: skip
    assert r.exit_code == 0, r.output
    z = np.load(out)
    assert z["label"].tolist() == ["ref", "alt"]
    assert z["x"][1, "ACGT".index(alt), 20] == 1 and z["x"][0, "ACGT".index(seq[99]), 20] == 1
    assert (world["tmp"] / "v.alt.bw").is_file()


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (["--region", "chr1:100"], "not chrom:start-end"),
        (["--variant", "chr1:100:A"], "not chrom:pos:ref:alt"),
        (["--region", "chr9:1-10"], "chr9"),
        (["--method", "deepshap", "--target", "profile", "--region", "chr1:1-10"], "additive"),
        ([], "nothing to attribute"),
    ],
)
def test_cli_bad_input(world, args, pattern):
    r = _run(world, "--out", str(world["tmp"] / "x.npz"), *args)
    assert r.exit_code == 2, r.output
    assert pattern in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_ref_mismatch(world):
    seq = world["seq"]
    wrong = "ACGT".replace(seq[99], "")[0]
    alt = "ACGT".replace(seq[99], "").replace(wrong, "")[0]
    r = _run(world, "--out", str(world["tmp"] / "x.npz"), "--variant", f"chr1:100:{wrong}:{alt}")
    assert r.exit_code == 2 and f"FASTA has {seq[99]}" in r.output


def test_cli_variants_in_any_form(world):
    """A REF-less list and strings give the same windows: ref then alt of each variant."""
    seq = world["seq"]
    picks = [(100, "G" if seq[99] in "AT" else "A"), (120, "C" if seq[119] != "C" else "T")]
    listing = world["tmp"] / "v.tsv"
    listing.write_text("chrom\tpos\talt\n" + "".join(f"chr1\t{p}\t{a}\n" for p, a in picks))
    strings = ",".join(f"chr1:{p}:{seq[p - 1]}:{a}" for p, a in picks)
    got = []
    for name, spec in (("list", str(listing)), ("strings", strings)):
        out = world["tmp"] / f"{name}.npz"
        r = _run(world, "--out", str(out), "--variants", spec, "--method", "ixg")
        assert r.exit_code == 0, r.output
        got.append(np.load(out))
    for z in got:
        assert z["label"].tolist() == ["ref", "alt", "ref", "alt"]
        names = [f"chr1:{p}:{seq[p - 1]}:{a}" for p, a in picks]
        assert z["variant"].tolist() == [names[0], names[0], names[1], names[1]]
        # the alt window carries the alt base at the centre (offset L // 2 = 20)
        assert z["x"][1, "ACGT".index(picks[0][1]), 20] == 1
    np.testing.assert_array_equal(got[0]["attributions"], got[1]["attributions"])
