"""Progress in a cluster log: plain lines at most every interval when stderr is no TTY."""

from __future__ import annotations

from varinterp.cli import _common


def test_plain_lines_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 0.0)
    with _common.progress_bar("scoring variants", quiet=False) as update:
        update(10, 40)
        update(40, 40)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("scoring variants: 10/40 (25%), 0:00:00 elapsed")
    assert err[1].startswith("scoring variants: 40/40 (100%)")
    assert len(err) == 2


def test_short_runs_and_quiet_stay_silent(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 3600.0)
    with _common.progress_bar("training", quiet=False) as update:
        update(1, None)
    with _common.progress_bar("training", quiet=True) as update:
        update(1, 2)
    assert capsys.readouterr().err == ""


def test_unknown_total(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 0.0)
    with _common.progress_bar("reading", quiet=False) as update:
        update(5, None)
    assert capsys.readouterr().err.startswith("reading: 5 done, 0:00:00 elapsed")
