"""The ``placement`` command.

Each subcommand lives in its own module of this package and exposes ``add_parser(subparsers)``
(which registers its parser and sets ``func``) and ``run(args) -> int``. Conventions: data on
stdout, messages and progress on stderr. Exit codes: 0 success; 2 bad input (one line naming the
field, no traceback); 3 a problem without solution (infeasible, or none found in time; the reason
in words); 4 a data refresh that failed; 1 an unexpected error, i.e. a bug (one line;
``PLACEMENT_DEBUG=1`` shows the traceback). Every operating-system error about a path (missing,
a folder, not readable or writable, a device, disk full) is bad input: exit 2, one line naming
the path. Progress of long reads and solves (the ``placement`` logger) goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from placement import __version__
from placement.cli._options import add_verbosity_options, configure_logging
from placement.errors import PlacementError

#: Subcommand modules, in the order ``--help`` lists them.
SUBCOMMANDS: list[str] = [
    "regions",
    "demand",
    "solve",
    "data",
    "report",
    "latency",
    "demo",
    "compare",
    "sweep",
]


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="placement",
        description="Where should our servers be? Choose sites for latency-sensitive services.",
    )
    parser.add_argument("--version", action="version", version=f"placement {__version__}")
    add_verbosity_options(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"placement.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args)
    log = logging.getLogger("placement.cli")

    def show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
        log.warning("warning: %s", message)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # one line on stderr, no source excerpt
            return int(args.func(args) or 0)
    except PlacementError as exc:
        print(f"placement {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave: missing, a folder, unreadable, disk full, …
        where = f"{exc.filename}: " if exc.filename else ""
        print(
            f"placement {args.command}: error: {where}{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"placement {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, no traceback, unless PLACEMENT_DEBUG is set
        if os.environ.get("PLACEMENT_DEBUG"):
            raise
        print(
            f"placement {args.command}: unexpected error: {type(exc).__name__}: {exc} "
            "(set PLACEMENT_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n"))
    return text if len(text) <= 1000 else text[:997] + "..."


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
