"""The architecture registry: the fixed list of classes a model directory may name.

A model directory's ``config.json`` names an architecture; the name picks an
`Architecture` from this registry, never code from the directory. Architectures come from

- the ``varinterp.architectures`` entry-point group: varinterp's own families register
  there in ``pyproject.toml`` (one line each), and so can any installed package::

      [project.entry-points."varinterp.architectures"]
      mynet = "mypackage.varinterp_plugin:ARCHITECTURE"

  (the object is an `Architecture`, or a zero-argument callable returning one or a list);
- `register` at run time (notebooks, tests).

An `Architecture` says how to build the network (``model_cls(config_cls.from_dict(d))``)
and what it predicts, in the one layout that scoring, evaluation and deconvolution read
(`OutputSpec`, `Architecture.predict`):

- ``profile`` ``(batch, n_tasks, n_strands, output_length) float``: per task and strand
  (plus first), positions in genomic order over the model's output window, non-negative;
  only its shape is used unless the family says the profile is already a track;
- ``quantity`` ``(batch, n_tasks) float``: the predicted total of each task over the
  output window (both strands), on a linear scale (RPM, counts).

Models that return CLIPNET's pair ``(profile (batch, n_strands * L), quantity (batch,
1))`` need no adapter (`default_predict`), so a user's own single-task PyTorch model is
scored with nothing more than a config dataclass (``input_length``, ``output_length``,
``n_strands``, ``to_dict``, ``from_dict``) and one registry line.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from varinterp.errors import InputError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Architecture",
    "OutputSpec",
    "ReadContext",
    "VariantScorer",
    "architecture_for_module",
    "architecture_of",
    "architectures",
    "default_outputs",
    "default_predict",
    "get_architecture",
    "register",
    "register_architecture",
]

ENTRY_POINT_GROUP = "varinterp.architectures"


@dataclass(frozen=True)
class OutputSpec:
    """What a model predicts, for scoring.

    `tasks` names the tasks (one name, ``""``, for a single-task model); `n_strands` is 1
    or 2 (plus first); `output_length` is the profile length per strand (0: the model
    predicts no profile); `input_length` is the sequence length it takes. `quantity`
    names the unit of the quantity output. `profile_is_track`: the profile is already
    on the quantity's scale (summing to it), not a shape. `context` lists the extra
    inputs besides the sequence that the model needs (for example DeepDETAILS'
    accessibility ``acc`` ``(batch, n_tasks, input_length)`` and ``scale``
    ``(batch, n_tasks)``).
    """

    input_length: int
    output_length: int
    n_strands: int = 2
    tasks: tuple[str, ...] = ("",)
    quantity: str = "quantity"
    profile_is_track: bool = False
    context: tuple[str, ...] = ()

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def output_start(self) -> int:
        """First input position the profile covers (the output window is centred)."""
        return (self.input_length - self.output_length) // 2


Predict = Callable[[nn.Module, torch.Tensor, Mapping[str, torch.Tensor]], tuple[Any, Any]]
#: ``variant_scorer(ensemble, variants, **options) -> DataFrame``: a family's own variant
#: scoring, for models that do not read sequence windows centred on the variant (a region
#: x motif model rescans the motifs of the peak a variant falls in). It takes the keyword
#: options of `varinterp.effects.frame.score_frame` and returns its table layout (one row
#: per variant and task, `frame_columns` plus any columns of its own).
VariantScorer = Callable[..., Any]
#: ``read_context(*, tracks, options, chroms, starts, spec) -> {name: array}``: the extra
#: inputs (`OutputSpec.context`) of windows starting at ``starts`` ``(n,) int64`` on
#: ``chroms`` ``(n,)``, read from the user's files ``tracks`` (name -> path) with
#: family-specific ``options``; arrays are batched like the windows.
ReadContext = Callable[..., dict[str, Any]]


def default_outputs(config: Any, metadata: Mapping[str, Any]) -> OutputSpec:
    """An `OutputSpec` from the config's ``input_length``, ``output_length``, ``n_strands``
    (default 2) and the metadata's ``tasks`` (default one unnamed task)."""
    for name in ("input_length", "output_length"):
        if not hasattr(config, name):
            msg = f"config {type(config).__name__} has no {name}; the model cannot be scored"
            raise InputError(msg)
    tasks = tuple(str(t) for t in metadata.get("tasks", ("",)))
    return OutputSpec(
        input_length=int(config.input_length),
        output_length=int(config.output_length),
        n_strands=int(getattr(config, "n_strands", 2)),
        tasks=tasks,
    )


def default_predict(
    model: nn.Module, x: torch.Tensor, context: Mapping[str, torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """CLIPNET's output pair -> ``(profile (b, 1, S, L), quantity (b, 1))``.

    The model is called as ``model(x)`` and returns ``(profile (b, S * L), quantity (b, 1))``
    (a single task); `context` is not used. The strand count is the config's
    ``n_strands`` (default 2).
    """
    del context
    profile, quantity = model(x)
    n_strands = int(getattr(getattr(model, "config", None), "n_strands", 2))
    b = profile.shape[0]
    return profile.reshape(b, 1, n_strands, -1), quantity.reshape(b, -1)[:, :1]


@dataclass(frozen=True)
class Architecture:
    """One loadable network: its name, config class and module class, and its outputs.

    ``model_cls(config)`` builds the module; ``config_cls.from_dict`` reads ``config.json``'s
    ``config`` object and ``config.to_dict()`` writes it. `outputs(config, metadata)` gives
    the `OutputSpec`; `predict(model, x, context)` runs the module on a batch of two-hot
    sequences ``x`` ``(b, 4, input_length) float`` and returns ``(profile (b, T, S, L),
    quantity (b, T))`` as described in the module docstring. `input_encoding` is the
    sequence code the network was trained on: ``two-hot`` (CLIPNET: homozygous = 2) or
    ``one-hot`` (a het is then 0.5 + 0.5). `read_context` reads the extra inputs a
    model needs at scoring time (see `ReadContext`; None when it needs none).
    `variant_scorer` replaces window scoring for a family that scores variants its own
    way (see `VariantScorer`).
    `explainable(model)` returns a twin of a module whose activations and pooling are
    modules, not functional calls (DeepLIFT attaches its rules to modules; None: the
    module already is one). `recipes` names the family's entry points by use
    (``{"train": "package.module:function", "finetune": ..., "evaluate": ...}``;
    `recipe` imports one). `family`
    names the folder of ``varinterp.models`` (or the package) that trains it.
    """

    name: str
    config_cls: type
    model_cls: type[nn.Module]
    outputs: Callable[[Any, Mapping[str, Any]], OutputSpec] = default_outputs
    predict: Predict = default_predict
    input_encoding: str = "two-hot"
    read_context: ReadContext | None = None
    variant_scorer: VariantScorer | None = None
    explainable: Callable[[nn.Module], nn.Module] | None = None
    recipes: Mapping[str, str] = field(default_factory=dict)
    family: str = ""
    description: str = ""
    extras: Mapping[str, Any] = field(default_factory=dict)

    def recipe(self, use: str) -> Callable[..., Any]:
        """The family's function for `use` (``train``, ``finetune``, ``evaluate``)."""
        import importlib

        if use not in self.recipes:
            msg = (
                f"the {self.name} family has no {use!r} recipe; it has "
                f"{', '.join(sorted(self.recipes)) or 'none'}"
            )
            raise InputError(msg)
        module, _, name = self.recipes[use].partition(":")
        return getattr(importlib.import_module(module), name)

    def build(self, config: Any) -> nn.Module:
        return self.model_cls(config)

    def config_from_dict(self, values: Mapping[str, Any], *, where: str = "") -> Any:
        try:
            return self.config_cls.from_dict(dict(values))
        except (TypeError, ValueError) as exc:
            msg = f"{where or self.name}: the {self.name} config does not fit ({exc})"
            raise InputError(msg) from None


_REGISTRY: dict[str, Architecture] = {}
_DISCOVERED = False


def register(architecture: Architecture, *, replace: bool = True) -> Architecture:
    """Add `architecture` under its name (replacing one of the same name unless told not to)."""
    if not replace and architecture.name in _REGISTRY:
        msg = f"architecture {architecture.name!r} is registered already"
        raise InputError(msg)
    _REGISTRY[architecture.name] = architecture
    return architecture


def register_architecture(
    name: str, config_cls: type, model_cls: type[nn.Module], **fields: Any
) -> Architecture:
    """Register ``model_cls(config_cls)`` as `name` (the previous release's signature);
    `fields` are further `Architecture` fields (``outputs``, ``predict``, ...)."""
    return register(Architecture(name=name, config_cls=config_cls, model_cls=model_cls, **fields))


def _entry_point_objects() -> list[tuple[str, Any]]:
    from importlib.metadata import entry_points

    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found.append((ep.name, ep.load()))
        except Exception as exc:  # a broken plug-in must not break varinterp
            warnings.warn(
                f"architecture plug-in {ep.name!r} ({ep.value}) failed to load: {exc}",
                RuntimeWarning,
                stacklevel=3,
            )
    return found


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    for name, obj in _entry_point_objects():
        items = obj() if callable(obj) and not isinstance(obj, Architecture) else obj
        items = items if isinstance(items, Sequence) else [items]
        for arch in items:
            if not isinstance(arch, Architecture):
                warnings.warn(
                    f"architecture plug-in {name!r} gave {type(arch).__name__}, not an "
                    "Architecture; skipped",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            _REGISTRY.setdefault(arch.name, arch)


def architectures() -> dict[str, Architecture]:
    """Every registered architecture by name (entry points included)."""
    _discover()
    return dict(_REGISTRY)


def get_architecture(name: str, *, where: str = "") -> Architecture:
    """The architecture called `name`; an `InputError` naming the known ones if absent."""
    known = architectures()
    if name not in known:
        prefix = f"{where}: " if where else ""
        msg = (
            f"{prefix}unknown architecture {name!r}; this varinterp knows "
            f"{', '.join(sorted(known)) or 'none'} (install the package that provides it)"
        )
        raise InputError(msg)
    return known[name]


def architecture_for_module(model: nn.Module) -> Architecture:
    """The registered architecture of `model`'s ``config``, or an unregistered one with the
    default adapters (CLIPNET's output pair) for a module of no registered family."""
    config = getattr(model, "config", None)
    for arch in architectures().values():
        if config is not None and type(config) is arch.config_cls:
            return arch
    return Architecture(name="in-memory", config_cls=type(config), model_cls=type(model))


def architecture_of(config: Any) -> Architecture:
    """The registered architecture whose config class `config` is an instance of."""
    for arch in architectures().values():
        if type(config) is arch.config_cls:
            return arch
    msg = f"no architecture registered for config type {type(config).__name__}"
    raise InputError(msg)


def config_fields(config: Any) -> dict[str, Any]:
    """``config.to_dict()``, or the dataclass fields of a config without one."""
    if hasattr(config, "to_dict"):
        return dict(config.to_dict())
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    msg = f"config {type(config).__name__} has no to_dict(); make it a dataclass"
    raise InputError(msg)
