"""``placement report``: turn result JSON files into one self-contained HTML report.

One file gives a report of that result; several give a comparison (table and trade-off chart)
followed by a section per result. The path written is printed on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from placement.cli._common import info

__all__ = ["add_parser", "load_result", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="write an HTML report of one or several results (JSON)",
        description=(
            "Write one self-contained HTML file (works offline) from result JSON files "
            "(Result.to_json). Several results are compared."
        ),
    )
    p.add_argument("results", nargs="+", metavar="RESULT.json", help="result file(s)")
    p.add_argument("--out", "-o", required=True, metavar="FILE.html", help="output HTML file")
    p.add_argument("--title", help="page title (default: the result's name)")
    p.set_defaults(func=run)
    return p


class _BadResult(Exception):
    pass


def load_result(path: str) -> Any:
    """Read one result JSON file; raises ``_BadResult`` with a one-line reason."""
    from placement.result import Result

    file = Path(path)
    if not file.is_file():
        raise _BadResult(f"{path}: no such file")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _BadResult(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise _BadResult(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or "status" not in data:
        raise _BadResult(f"{path}: not a placement result (no 'status')")
    try:
        return Result.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise _BadResult(f"{path}: not a placement result ({exc})") from None


def run(args: argparse.Namespace) -> int:
    """Read the results, write the report, print its path."""
    from placement.report import write_html

    try:
        results = [load_result(p) for p in args.results]
    except _BadResult as exc:
        print(f"placement report: error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.exists() and out.is_dir():
        print(f"placement report: error: {out} is a folder", file=sys.stderr)
        return 2
    try:
        path = write_html(results if len(results) > 1 else results[0], out, title=args.title)
    except OSError as exc:
        print(
            f"placement report: error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2
    info(f"report of {len(results)} result(s): {path.stat().st_size:,} bytes")
    print(path)
    return 0
