"""Where models run and at what precision: the one device resolver of varinterp.

Every command that runs a model takes ``--device auto|cpu|cuda|cuda:N`` and every
library function a ``device`` string; `resolve_device` is the only place that turns it
into a `torch.device`. `autocast` is the one precision rule: bf16 autocast on CUDA
when asked for, plain fp32 on the CPU. Nothing here changes global torch flags.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import torch

from varinterp.errors import InputError

__all__ = ["DEVICE_HELP", "autocast", "check_device_name", "resolve_device"]

DEVICE_HELP = "auto (CUDA when present, else the CPU), cpu, cuda or cuda:N"
_NAME = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


def check_device_name(name: str) -> str:
    """Return `name` when it is ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; else `InputError`."""
    if not _NAME.match(str(name)):
        msg = f"device {name!r} is not one of {DEVICE_HELP}"
        raise InputError(msg)
    return str(name)


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (or None) -> ``cuda`` when CUDA is present, else ``cpu``.

    ``cuda`` / ``cuda:N`` without CUDA, or with N past the last GPU, is an `InputError`
    that says what is there.
    """
    if isinstance(name, torch.device):
        name = str(name)
    if name is None or name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    check_device_name(name)
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            msg = f"device {name!r} requested but CUDA is not available; use --device cpu"
            raise InputError(msg)
        index = int(name.split(":", 1)[1]) if ":" in name else None
        if index is not None and index >= torch.cuda.device_count():
            msg = (
                f"device {name!r} requested but this machine has "
                f"{torch.cuda.device_count()} GPU(s) (cuda:0 .. "
                f"cuda:{torch.cuda.device_count() - 1})"
            )
            raise InputError(msg)
    return torch.device(name)


@contextlib.contextmanager
def autocast(device: torch.device, bf16: bool = True) -> Iterator[None]:
    """bf16 autocast on CUDA when `bf16`; nothing on other devices."""
    if bf16 and device.type == "cuda":
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield
