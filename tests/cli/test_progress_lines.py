"""Progress in a cluster log: plain lines at most every interval, and one when the work is
done, when stderr is no terminal; the same lines in --log-file; nothing when quiet."""

from __future__ import annotations

import re

import pytest

from varinterp.cli import _common, _state


@pytest.fixture(autouse=True)
def _no_log_file():
    _state.set_log_file(None)
    yield
    _state.set_log_file(None)


def test_plain_lines_with_counts_rate_and_eta(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 0.0)
    with _common.progress_bar("scoring", quiet=False, unit="variants") as update:
        update(10, 40)
        update(40, 40)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3
    assert re.match(
        r"scoring: 10/40 variants \(25%\), [\d,.e+]+ variants/s, 0:00:00 elapsed, "
        r"about 0:00:00 left",
        err[0],
    ), err[0]
    assert err[1].startswith("scoring: 40/40 variants (100%)")
    # the milestone at the end: the total, the time and the rate
    assert re.match(r"scoring: 40/40 variants done in 0:00:00, [\d,.e+]+ variants/s", err[2])


def test_at_most_one_line_per_interval_but_always_the_last(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 3600.0)
    with _common.progress_bar("training", quiet=False, unit="batches") as update:
        for k in range(1, 101):
            update(k, 100)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("training: 100/100 batches done in")


def test_quiet_silences_the_terminal_but_not_the_log_file(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 0.0)
    log = tmp_path / "run.log"
    _state.set_log_file(log)
    with _common.progress_bar("reading", quiet=True, unit="records") as update:
        update(5, None)
    _common.milestone("epoch 1 done", quiet=True)
    assert capsys.readouterr().err == ""
    lines = log.read_text().splitlines()
    assert lines[0].startswith("reading: 5 records done, ")
    assert lines[1].startswith("reading: 5 records done in ")
    assert lines[2] == "epoch 1 done"


def test_summary_lines_go_to_the_log_file_without_markup(tmp_path, capsys):
    log = tmp_path / "run.log"
    _state.set_log_file(log)
    _common.console.print("[bold]wrote[/] 3 files")
    assert "wrote 3 files" in capsys.readouterr().out
    assert log.read_text() == "wrote 3 files\n"


def test_failed_work_prints_no_final_line(monkeypatch, capsys):
    monkeypatch.setattr(_common, "LOG_INTERVAL_S", 3600.0)
    with pytest.raises(ValueError), _common.progress_bar("x", quiet=False) as update:
        update(3, 10)
        raise ValueError
    assert capsys.readouterr().err == ""
