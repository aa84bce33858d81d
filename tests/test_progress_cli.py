"""Progress, logging, help and labels of the command line (issue 15)."""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
import textwrap

import pytest

from placement.cli import build_parser, main
from placement.progress import Heartbeat, LogProgress, Progress, format_progress
from placement.report.example import example_result
from placement.report.html import render_html
from placement.result import backup_sla_warning


def test_progress_format_and_throttle(caplog) -> None:
    now = [0.0]
    show = LogProgress(interval_s=5.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="placement.progress"):
        show(Progress(1.0, incumbent=31.4, bound=30.9, gap=0.016, message="branch and bound"))
        now[0] = 3.0
        show(Progress(3.0, incumbent=31.0, bound=30.95, gap=0.0016))  # within 5 s: not logged
        now[0] = 6.5
        show(Progress(6.5, incumbent=31.0, bound=31.0, gap=0.0))
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "elapsed 1 s · incumbent 31.4 · bound 30.9 · gap 1.60% · branch and bound",
        "elapsed 6 s · incumbent 31 · bound 31 · gap 0.00%",
    ]
    assert show.latest == Progress(6.5, incumbent=31.0, bound=31.0, gap=0.0)
    assert format_progress(Progress(2.0, message="building")) == "elapsed 2 s · building"


def test_heartbeat_logs_while_running(caplog) -> None:
    import threading

    done = threading.Event()
    with caplog.at_level(logging.INFO, logger="placement.progress"):
        with Heartbeat(LogProgress(interval_s=0.05)) as beat:
            beat.callback(Progress(0.0, incumbent=2.0, bound=1.0, gap=0.5))
            done.wait(0.3)
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) >= 2
    assert all("incumbent 2" in m for m in msgs)


def _actions(parser: argparse.ArgumentParser, path: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _actions(sub, f"{path} {name}")
        else:
            yield path, action


def test_every_option_has_help() -> None:
    missing = [
        (path, action.option_strings or action.dest)
        for path, action in _actions(build_parser(), "placement")
        if not action.help and action.dest != "help"
    ]
    assert missing == []


def test_solve_help_states_the_default_time_limit(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: 120" in text and "docs/toml.md" in text
    with pytest.raises(SystemExit):
        main(["data", "--help"])
    text = capsys.readouterr().out
    assert "``" not in text and ":mod:" not in text and ":func:" not in text


def test_quiet_and_time_limit_none(tmp_path, capsys) -> None:
    out = tmp_path / "r.json"
    base = ["solve", "--country", "PT", "--provider", "aws", "--open", "1", "--out", str(out)]
    assert main([*base, "--quiet", "--time-limit", "none"]) == 0
    assert capsys.readouterr().err == ""
    import json

    assert json.loads(out.read_text())["solver"]["time_limit_s"] is None
    assert main([*base, "--time-limit", "30"]) == 0
    err = capsys.readouterr().err
    assert "time limit 30 s" in err and "status: optimal" in err


def test_highs_banner_never_reaches_stdout_or_stderr() -> None:
    code = textwrap.dedent(
        """
        import numpy as np
        from placement.problem import Problem
        p = Problem.from_cost_matrix(np.array([[1.0, 5.0], [4.0, 1.0]]), objective="median",
                                     n_sites=1)
        r = p.solve(method="pulp")
        print("status", r.status)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "status optimal"
    assert "HiGHS" not in proc.stderr and "HiGHS" not in proc.stdout


def test_labels_with_backups_sla_and_plural() -> None:
    r = example_result(redundancy=2)
    params = dict(r.params, backup_max_latency_ms=None, max_latency_ms=80.0, sla_ms=None)
    from dataclasses import replace

    r = replace(r, params=params)
    text = r.summary()
    assert "within SLA (80 ms)" in text
    assert "warning: redundancy 2 without a backup SLA" in text
    assert backup_sla_warning(dict(params, backup_max_latency_ms=120.0), r.metrics) is None
    html = render_html(r)
    assert "no backup SLA" in html and "Warning: redundancy 2" in html
    one = replace(r, params=dict(params, n_sites=1, backup_max_latency_ms=120.0))
    html = render_html(one)
    assert "exactly 1 site;" in html and "backups within 120 ms" in html
    assert "1 sites" not in html


def test_objective_unit_names_the_backup_weight() -> None:
    import numpy as np

    from placement.problem import Problem

    p = Problem.from_cost_matrix(
        np.array([[1.0, 5.0, 3.0], [4.0, 1.0, 2.0]]), objective="median", n_sites=2, redundancy=2
    )
    assert p.params()["objective_unit"] == (
        "ms (demand-weighted mean of primary + 0.5 × backup latency)"
    )
    assert p.replace(redundancy=1).params()["objective_unit"] == "ms (demand-weighted mean latency)"
