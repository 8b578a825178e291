"""The GPU benchmark script runs end to end on the CPU with tiny sizes (``--dry-run``)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu" / "run_all.py"


def test_gpu_script_dry_run_writes_every_measurement(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_run_all", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    assert module.main(["--dry-run", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "gpu_results.json").read_text())
    rows = result["rows"]
    assert result["dry_run"] and result["device"] == "cpu"
    measured = {(r["family"], r["measurement"]) for r in rows}
    assert ("CLIPNET", "training samples/s") in measured
    assert ("CLIPNET", "fraction of step time waiting for data") in measured
    assert ("CLIPNET", "9-fold scoring SNV/s (RC averaged)") in measured
    settings = {r["setting"] for r in rows if r["family"] == "DeepDETAILS"}
    for version in ("fused (accessibility)", "seq-only"):
        for k in (3, 5, 10):
            assert f"{version}, {k} cell types" in settings
    assert ("bpAI-TAC", "training windows/s") in measured
    assert sum(r["family"] == "GET" and r["measurement"] == "training samples/s" for r in rows) == 2
    for what in (
        "encoder training peaks/s",
        "encoder training peaks x cells/s",
        "DeepLIFT activity cells/s (float64)",
        "DeepLIFT activity cells/s (float32)",
    ):
        assert ("cREscENDO", what) in measured
    assert {r["family"] for r in rows} == {"CLIPNET", "DeepDETAILS", "bpAI-TAC", "GET", "cREscENDO"}
    assert all(r["value"] > 0 for r in rows if r["unit"])
    wait = next(r for r in rows if r["measurement"].startswith("fraction"))
    assert 0 <= wait["value"] <= 1
    table = (tmp_path / "gpu_results.md").read_text()
    assert table.count("\n") == len(rows) + 2
