"""Early stopping: patience counting, best weights kept, state round trip."""

from __future__ import annotations

import math

import torch
from torch import nn

from varinterp.training.early_stopping import EarlyStopping


def test_patience_and_best_weights():
    model = nn.Linear(2, 1)
    es = EarlyStopping(patience=2)
    losses = [1.0, 0.5, 0.7, 0.4, 0.6, 0.45]
    stops = []
    for epoch, loss in enumerate(losses):
        with torch.no_grad():
            model.weight.fill_(epoch)
        es.update(loss, model, epoch)
        stops.append(es.should_stop)
    assert es.best_epoch == 3 and es.best_loss == 0.4
    assert stops == [False, False, False, False, False, True]
    assert torch.all(es.best_state["weight"] == 3)


def test_nan_never_improves_and_min_delta():
    model = nn.Linear(1, 1)
    es = EarlyStopping(patience=5, min_delta=0.1)
    assert es.update(1.0, model, 0)
    assert not es.update(math.nan, model, 1)
    assert not es.update(0.95, model, 2)  # not better by more than min_delta
    assert es.update(0.85, model, 3)


def test_state_round_trip():
    model = nn.Linear(2, 2)
    es = EarlyStopping(patience=3)
    es.update(0.3, model, 0)
    es.update(0.4, model, 1)
    other = EarlyStopping()
    other.load_state_dict(es.state_dict())
    assert (other.best_loss, other.best_epoch, other.bad_epochs, other.patience) == (0.3, 0, 1, 3)
    assert torch.equal(other.best_state["weight"], model.weight)
