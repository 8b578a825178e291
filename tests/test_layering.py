"""The layering rules of the house plan (DESIGN.md, "Data flow"), read from the source.

Every module under ``varinterp/`` is parsed with `ast` (nothing is imported), and each
``import`` / ``from ... import`` of a varinterp module, at any depth (function-level
imports included), is checked against the rules:

- no stage imports the demo wing or the simulator: only ``varinterp/demo``,
  ``varinterp/cli``, ``varinterp/simulate``, ``varinterp/__init__.py`` and
  ``varinterp/_moved.py`` may import ``varinterp.demo`` or ``varinterp.simulate``;
- ``varinterp/simulate`` imports no stage above ``io`` and ``genome``;
- ``varinterp/io`` imports nothing from ``varinterp.genome`` (the base codes it needs live
  in the bottom module ``varinterp.bases``), nor any other stage;
- ``varinterp/training`` (the one engine) imports no model family.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "varinterp"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str) -> bool:
    """Whether `dotted` (``varinterp.x.y``) names a module or package in the source tree."""
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported varinterp module) for every import in the file at `path`.

    ``from varinterp.x import y`` counts as ``varinterp.x.y`` when ``y`` is a module,
    else as ``varinterp.x``; ``from varinterp import __version__`` as ``varinterp``.
    Relative imports are resolved against the file's package.
    """
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(anchor + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.append((node.lineno, full if _is_module(full) else source))
    found = [(line, mod) for line, mod in found if mod.split(".")[0] == "varinterp"]
    return list(dict.fromkeys(found))


def _stage(module: str) -> str:
    """``varinterp.io.fasta`` -> ``io``; ``varinterp`` (the root package) -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _files(*under: str) -> list[Path]:
    roots = [PACKAGE.joinpath(*u.split("/")) for u in under] if under else [PACKAGE]
    out: list[Path] = []
    for root in roots:
        out += [root] if root.suffix == ".py" else sorted(root.rglob("*.py"))
    return out


def _violations(files: list[Path], allowed) -> list[str]:
    bad = []
    for path in files:
        for line, module in _imports(path):
            if not allowed(module):
                bad.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    return bad


def test_the_parser_sees_every_kind_of_import(tmp_path, monkeypatch) -> None:
    pkg = tmp_path / "varinterp"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "other").mkdir()
    for f in ("__init__.py", "stage/__init__.py", "other/__init__.py", "other/mod.py"):
        (pkg / f).write_text("")
    (pkg / "stage" / "x.py").write_text(
        "import varinterp.other.mod\n"
        "from varinterp.other import mod\n"
        "from varinterp import __version__\n"
        "from . import y\n"
        "from ..other.mod import thing\n"
        "import numpy\n"
        "def f():\n"
        "    from varinterp.other.mod import late\n"
    )
    monkeypatch.setattr(f"{__name__}.PACKAGE", pkg)
    got = _imports(pkg / "stage" / "x.py")
    assert got == [
        (1, "varinterp.other.mod"),
        (2, "varinterp.other.mod"),
        (3, "varinterp"),
        (4, "varinterp.stage"),
        (5, "varinterp.other.mod"),
        (8, "varinterp.other.mod"),
    ]


def test_no_stage_imports_the_demo_or_the_simulator() -> None:
    exempt = {PACKAGE / "demo", PACKAGE / "cli", PACKAGE / "simulate"}
    exempt_files = {PACKAGE / "__init__.py", PACKAGE / "_moved.py"}
    files = [
        p for p in _files() if p not in exempt_files and not any(d in p.parents for d in exempt)
    ]
    assert len(files) > 50
    bad = _violations(files, lambda m: _stage(m) not in {"demo", "simulate"})
    assert not bad, "stages must not import varinterp.demo or varinterp.simulate:\n" + "\n".join(
        bad
    )


def test_the_simulator_imports_nothing_above_io_and_genome() -> None:
    allowed = {"simulate", "io", "genome", "errors", "progress", "provenance", "bases"}

    def ok(module: str) -> bool:
        return _stage(module) in allowed or module == "varinterp"  # __version__

    bad = _violations(_files("simulate"), ok)
    assert not bad, f"varinterp/simulate may import only {sorted(allowed)}:\n" + "\n".join(bad)


def test_the_simulator_takes_only_the_version_from_the_root_package() -> None:
    bad = []
    for path in _files("simulate"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "varinterp" and not node.level:
                names = {a.name for a in node.names}
                if names - {"__version__"}:
                    bad.append(f"{path.name}:{node.lineno} imports {sorted(names)} from varinterp")
    assert not bad, "\n".join(bad)


def test_io_imports_nothing_from_genome_or_any_stage() -> None:
    bad_genome = _violations(_files("io"), lambda m: _stage(m) != "genome")
    assert not bad_genome, "varinterp/io must not import varinterp.genome:\n" + "\n".join(
        bad_genome
    )
    allowed = {"io", "errors", "progress", "provenance", "bases"}
    bad = _violations(_files("io"), lambda m: _stage(m) in allowed)
    assert not bad, f"varinterp/io may import only {sorted(allowed)}:\n" + "\n".join(bad)


def test_provenance_is_a_bottom_module() -> None:
    """Every writer may stamp its outputs: provenance imports only the root package."""
    bad = _violations(_files("provenance.py"), lambda m: m == "varinterp")
    assert not bad, "\n".join(bad)


def test_bases_is_the_bottom() -> None:
    bad = _violations(_files("bases.py"), lambda m: _stage(m) == "errors")
    assert not bad, "\n".join(bad)


def test_the_engine_imports_no_model_family() -> None:
    bad = _violations(_files("training"), lambda m: _stage(m) != "models")
    assert not bad, "varinterp/training must not import varinterp.models:\n" + "\n".join(bad)
