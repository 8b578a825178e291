"""Early stopping on a monitored metric, keeping the best weights.

`EarlyStopping.update(value, model, epoch)` returns True when the value improved by more
than `min_delta` (lower is better with ``mode="min"``, higher with ``mode="max"``; the
weights are copied to the CPU as the best so far). After `patience` epochs without
improvement `should_stop` is True. NaN never improves. The state (including the best
weights) round-trips through `state_dict` / `load_state_dict` for resuming.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Patience-based early stopping (Keras ``EarlyStopping`` + save-best semantics)."""

    def __init__(self, patience: int = 10, min_delta: float = 0.0, mode: str = "min") -> None:
        if mode not in ("min", "max"):
            msg = f"early-stopping mode must be 'min' or 'max', got {mode!r}"
            raise ValueError(msg)
        self.patience = patience
        self.min_delta = min_delta
        self.mode = mode
        self.best_loss = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.bad_epochs = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    def update(self, loss: float, model: nn.Module, epoch: int) -> bool:
        """Record epoch `epoch`'s monitored value; True when it is the new best."""
        if self.mode == "min":
            better = loss < self.best_loss - self.min_delta
        else:
            better = loss > self.best_loss + self.min_delta
        if math.isfinite(loss) and better:
            self.best_loss = float(loss)
            self.best_epoch = int(epoch)
            self.bad_epochs = 0
            self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {
            "patience": self.patience,
            "min_delta": self.min_delta,
            "mode": self.mode,
            "best_loss": self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "best_state": self.best_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.patience = int(state["patience"])
        self.min_delta = float(state["min_delta"])
        self.mode = str(state.get("mode", "min"))
        self.best_loss = float(state["best_loss"])
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])
        self.best_state = state["best_state"]
