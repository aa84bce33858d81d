"""``python -m placement`` runs the same command line as ``placement``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "placement", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_python_dash_m_runs_the_command_line() -> None:
    done = _run("regions", "--provider", "aws", "--format", "csv")
    assert done.returncode == 0
    assert done.stdout.startswith("site_id,provider,kind,")
    assert "aws:us-east-1," in done.stdout


def test_python_dash_m_exit_code_for_bad_input() -> None:
    done = _run("solve", "--open", "-1")
    assert done.returncode == 2
    assert done.stdout == ""
