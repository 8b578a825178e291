"""Import paths of the previous release, kept for one release with a deprecation warning.

When code moves, its old module path is listed in `MOVED` (old module -> new module, or
-> {name: new module} when its names went to several places, ``"*"`` the default) and
the old file is deleted. `install` (called by ``varinterp/__init__.py``) puts a finder on
``sys.meta_path`` that answers imports of the old paths with a stand-in module: reading
any name from it returns the object from the new module and warns once per name::

    DeprecationWarning: varinterp.nets.clipnet.Clipnet moved to
    varinterp.models.clipnet.network.Clipnet; the old path goes in the next release

A stand-in for an old *package* (``varinterp.nets``) makes its old submodules importable
too. Names that moved out of a module that still exists are listed in `MOVED_NAMES`
(module -> {name: new module}); such a module forwards them with `forward_names` in its
own ``__getattr__``.

Nothing is imported from the new places until an old name is read, so the table costs
nothing at start-up and creates no import edges between the stages.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MOVED", "MOVED_NAMES", "forward_names", "install", "old_module_names"]

#: old module -> new module, or -> {name: new module, "*": default new module}.
MOVED: dict[str, str | dict[str, str]] = {
    # --- CLIPNET family: varinterp.models.clipnet
    "varinterp.nets.clipnet": "varinterp.models.clipnet.network",
    "varinterp.nets.clipnet_keras": "varinterp.models.clipnet.keras",
    "varinterp.nets.layers": "varinterp.models.clipnet.layers",
    "varinterp.nets.losses": "varinterp.models.clipnet.loss",
    "varinterp.nets.metrics": "varinterp.models.clipnet.metrics",
    "varinterp.datasets.clipnet": "varinterp.models.clipnet.data",
    "varinterp.training.card": "varinterp.models.clipnet.card",
    "varinterp.training.checkpoint": {
        "FORMAT": "varinterp.training.modeldir",
        "FORMAT_VERSION": "varinterp.training.modeldir",
        "ModelDir": "varinterp.training.modeldir",
        "load_fold": "varinterp.training.modeldir",
        "load_model_dir": "varinterp.training.modeldir",
        "read_model_dir": "varinterp.training.modeldir",
        "save_model_dir": "varinterp.training.modeldir",
        "register_architecture": "varinterp.training.registry",
        "ImportResult": "varinterp.models.clipnet.keras",
        "import_clipnet_keras": "varinterp.models.clipnet.keras",
    },
    "varinterp.training.config": "varinterp.models.clipnet.runconfig",
    "varinterp.training.ensemble": {
        "resolve_device": "varinterp.training.devices",
        "*": "varinterp.models.clipnet.predict",
    },
    "varinterp.training.evaluate": "varinterp.models.clipnet.evaluate",
    "varinterp.training.finetune": "varinterp.models.clipnet.finetune",
    "varinterp.training.heads": "varinterp.models.clipnet.heads",
    "varinterp.training.loop": {
        "EpochLog": "varinterp.training.engine",
        "FitResult": "varinterp.training.engine",
        "recalibrate_batchnorm": "varinterp.models.clipnet.task",
        "to_device": "varinterp.models.clipnet.task",
        "*": "varinterp.models.clipnet.legacy",
    },
    "varinterp.training.run": "varinterp.models.clipnet.train",
    # --- end CLIPNET
    # --- DeepDETAILS family (varinterp.models.deepdetails) and deconv/
    "varinterp.nets.deepdetails": {
        "scale_weights": "varinterp.deconv.baselines",
        "*": "varinterp.models.deepdetails.network",
    },
    "varinterp.nets.deepdetails_io": "varinterp.models.deepdetails.files",
    "varinterp.deconv.loss": "varinterp.models.deepdetails.loss",
    "varinterp.deconv.train": {
        "forward_batches": "varinterp.deconv.predict",
        "*": "varinterp.models.deepdetails.train",
    },
    # --- end DeepDETAILS
    # --- demo wing (varinterp.demo), simulate/, io/
    "varinterp.training.demo_step": "varinterp.demo.clipnet",
    "varinterp.effects.demo_step": {
        "qtl_step": "varinterp.demo.qtl",
        "*": "varinterp.demo.scoring",
    },
    "varinterp.report.demo_step": "varinterp.demo.locus",
    "varinterp.report.demo_evidence": "varinterp.demo.evidence",
    "varinterp.simulate.celltypes_demo": "varinterp.demo.deconvolution",
    "varinterp.deconv.fragment_table": "varinterp.io.fragments",
    "varinterp.deconv.input_tables": {
        "read_barcodes": "varinterp.io.fragments",
        "read_chrom_sizes": "varinterp.io.chrom_sizes",
        "resolve_chrom_sizes": "varinterp.io.chrom_sizes",
        "read_peaks": "varinterp.io.intervals",
    },
    # --- end demo
    # --- engine (varinterp.training), effects/, public API
    "varinterp.effects.ensemble": "varinterp.training.inference",
    # --- end engine
}

#: module that still exists -> {name that moved out of it: new module}.
MOVED_NAMES: dict[str, dict[str, str]] = {}


def _warn(old: str, new: str, name: str) -> None:
    warnings.warn(
        f"{old}.{name} moved to {new}.{name}; the old path goes in the next release",
        DeprecationWarning,
        stacklevel=3,
    )


def _forwarder(old: str, targets: Callable[[str], str | None]) -> Callable[[str], Any]:
    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        new = targets(name)
        if new is None:
            msg = f"module {old!r} has no attribute {name!r}"
            raise AttributeError(msg)
        value = getattr(importlib.import_module(new), name)
        _warn(old, new, name)
        return value

    return __getattr__


def forward_names(module: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` forwarding `names` (name -> new module) with a warning."""
    return _forwarder(module, names.get)


def _is_package(name: str) -> bool:
    prefix = name + "."
    return any(old.startswith(prefix) for old in MOVED)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = types.ModuleType(spec.name)
        new = MOVED.get(spec.name)
        module.__doc__ = (
            f"Deprecated: moved to {new}." if new else "Deprecated package of moved modules."
        )
        if isinstance(new, str):
            module.__getattr__ = _forwarder(spec.name, lambda _name, new=new: new)  # type: ignore[attr-defined]
        elif isinstance(new, dict):
            table = dict(new)
            module.__getattr__ = _forwarder(  # type: ignore[attr-defined]
                spec.name, lambda name, t=table: t.get(name, t.get("*"))
            )
        if _is_package(spec.name):
            module.__path__ = []  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if fullname in MOVED or (fullname.startswith("varinterp.") and _is_package(fullname)):
            if fullname not in MOVED and importlib.machinery.PathFinder.find_spec(fullname, path):
                return None  # a real package that still has files of its own
            return importlib.machinery.ModuleSpec(
                fullname, _Loader(), is_package=_is_package(fullname)
            )
        return None


_FINDER = _Finder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def old_module_names() -> list[str]:
    """Every old module path that still imports (for the test that lists them)."""
    return sorted(MOVED)
