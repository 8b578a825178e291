"""The zoo's shipped demo models load, and reproduce the metrics their cards state.

``models/clipnet-demo``, ``models/deepdetails-demo`` and ``models/bpaitac-demo`` were
trained by the full demo on the seed-0 demo worlds; `measure_demo_models` rebuilds those
worlds and measures them the way ``varinterp demo --quick`` does.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from varinterp.cli.main import app
from varinterp.demo.shipped import BPAITAC_DEMO, CLIPNET_DEMO, DEEPDETAILS_DEMO
from varinterp.demo.zoo import measure_demo_models
from varinterp.training.inference import load_model
from varinterp.training.modeldir import read_model_dir

ZOO = Path(__file__).resolve().parents[2] / "models"
SHIPPED = [CLIPNET_DEMO, DEEPDETAILS_DEMO, BPAITAC_DEMO]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_with_its_card(name):
    model = load_model(ZOO / name, device="cpu")
    assert (ZOO / name / "README.md").read_text().startswith(f"# {name}")
    meta = model.model_dir.metadata["zoo"]
    assert meta["world"]["seed"] == 0 and meta["metrics"]
    size = sum(p.stat().st_size for p in (ZOO / name).glob("*.safetensors"))
    assert size < 3_000_000  # a few MB in all


def _flat(metrics: dict) -> dict[str, float]:
    return {f"{k}.{m}": float(v) for k, d in metrics.items() for m, v in d.items()}


def test_shipped_weights_reproduce_their_card_metrics(tmp_path):
    measured = measure_demo_models(zoo=ZOO, work=tmp_path)
    for name in SHIPPED:
        card = _flat(read_model_dir(ZOO / name).metadata["zoo"]["metrics"])
        got = _flat(measured[name])
        assert card.keys() == got.keys(), name
        for key, want in card.items():
            assert math.isclose(got[key], want, rel_tol=1e-4, abs_tol=1e-4), (name, key)


def test_quick_demo_needs_the_seed_zero_world(tmp_path):
    res = CliRunner().invoke(app, ["demo", "--quick", "--seed", "3", "--out", str(tmp_path / "d")])
    assert res.exit_code == 2 and "seed-0 world" in res.output
