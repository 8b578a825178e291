"""docs/python.md runs as written: every ``python`` code block, in order, in one namespace.

The page assumes the repository root as the working folder (it loads the zoo's
``models/clipnet-demo``); the test runs it in a temporary folder that links ``models``
to the repository's, so what the page writes (``tour/``) stays out of the checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "python.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_page_has_code():
    assert len(BLOCK.findall(PAGE.read_text())) >= 6


def test_every_block_runs(tmp_path, monkeypatch):
    if not (REPO / "models" / "clipnet-demo" / "config.json").is_file():
        pytest.fail("the zoo's shipped models/clipnet-demo is missing")
    (tmp_path / "models").symlink_to(REPO / "models")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, block in enumerate(BLOCK.findall(PAGE.read_text())):
        try:
            exec(compile(block, f"{PAGE.name} block {i + 1}", "exec"), namespace)
        except Exception as exc:  # say which block failed
            raise AssertionError(f"docs/python.md block {i + 1} failed: {exc!r}") from exc
    assert (tmp_path / "tour" / "report.html").is_file()
    report = namespace["report"]
    assert len(report.candidates) > 0
    effects = namespace["effects"]
    assert len(effects) == len(namespace["variants"]) > 10
    assert set(effects["scorer"]) == {"fold_1", "fold_2"}
    assert Path(namespace["files"].vcf).name == "cohort.vcf.gz"
