"""`import varinterp as vi`: the curated API resolves, lazily and to the documented objects."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import varinterp as vi

WANTED = {
    "GenomeStore", "build_store", "load_model", "score_frame", "score_variants", "train",
    "finetune", "evaluate", "finemap", "link_abc", "call_elements", "locus_report",
    "simulate_world", "fit", "FitSettings", "Architecture", "register_architecture",
}  # fmt: skip


def test_the_issue_list_is_there():
    assert WANTED <= set(vi.API) and WANTED <= set(vi.__all__) and WANTED <= set(dir(vi))


@pytest.mark.parametrize("name", sorted(vi.API))
def test_every_name_resolves_to_its_module(name):
    module, _, attr = vi.API[name].partition(":")
    # no attribute: a callable package (finemap), the package itself
    target = importlib.import_module(module)
    target = getattr(target, attr) if attr else target
    assert getattr(vi, name) is target
    assert getattr(vi, name).__doc__, f"vi.{name} has no docstring"


def test_finemap_is_callable_also_after_its_package_is_imported(monkeypatch):
    import varinterp.finemap
    import varinterp.finemap.run as run

    calls = []
    monkeypatch.setattr(run, "finemap", lambda **kw: calls.append(kw) or "done")
    assert vi.finemap is varinterp.finemap and callable(vi.finemap)
    assert vi.finemap(sumstats="s.tsv", out="o") == "done"
    assert calls == [{"sumstats": "s.tsv", "out": "o"}]


def test_importing_is_lazy():
    code = "import sys, varinterp; print('torch' in sys.modules, 'pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unknown_name():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        vi.nope  # noqa: B018


def test_family_recipes_by_name(monkeypatch):
    calls = []
    from varinterp.models.clipnet import train as clipnet_train

    monkeypatch.setattr(clipnet_train, "train_clipnet", lambda **kw: calls.append(kw) or "ok")
    assert vi.train(family="clipnet", config="x.toml", out="m") == "ok"
    assert calls == [{"config": "x.toml", "out": "m"}]
    from varinterp.errors import InputError

    with pytest.raises(InputError, match="no 'finetune' recipe"):
        vi.finetune(family="deepdetails")
