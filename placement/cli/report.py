"""``placement report``: turn result JSON files into one self-contained HTML report.

One file gives a report of that result; several give a comparison (table and trade-off chart)
followed by a section per result. The path written is printed on stdout.
"""

from __future__ import annotations

import argparse
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
    p.add_argument(
        "--out",
        "-o",
        required=True,
        metavar="FILE.html",
        help="output HTML file (checked first: never a folder, device or one of the results)",
    )
    p.add_argument("--title", help="page title (default: the result's name)")
    p.set_defaults(func=run)
    return p


class _BadResult(Exception):
    pass


def load_result(path: str) -> Any:
    """Read one result JSON file, checked against the result schema.

    Raises ``_BadResult`` with a one-line reason (the file is opened like every input: a regular
    file within ``PLACEMENT_MAX_INPUT_MB``, UTF-8; see :func:`placement.result.load_result_json`).
    """
    from placement.errors import ValidationError
    from placement.result import Result

    try:
        return Result.from_json(Path(path))
    except ValidationError as exc:
        raise _BadResult(" ".join(str(exc).split("\n"))) from None


def run(args: argparse.Namespace) -> int:
    """Read the results, write the report, print its path."""
    from placement._io import check_output_path
    from placement.errors import ValidationError
    from placement.report import write_html

    try:
        out = check_output_path(args.out, inputs=args.results, probe=True)
        results = [load_result(p) for p in args.results]
    except (_BadResult, ValidationError) as exc:
        print(f"placement report: error: {exc}", file=sys.stderr)
        return 2
    path = write_html(results if len(results) > 1 else results[0], out, title=args.title)
    n = len(results)
    info(
        f"placement report: wrote {path} ({n} result{'s' if n != 1 else ''}, "
        f"{path.stat().st_size:,} bytes)"
    )
    print(path)
    return 0
