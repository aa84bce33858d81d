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
        epilog="Start with 'placement demo' (writes reports/demo.html), then 'placement solve "
        "--help'; examples: README.md and docs/cookbook.md. Data goes to stdout, messages and "
        "progress to stderr. Exit codes: 0 success, 2 bad input, 3 no solution, 4 a data refresh "
        "failed, 1 a bug.",
    )
    parser.add_argument("--version", action="version", version=f"placement {__version__}")
    add_verbosity_options(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"placement.cli.{name}").add_parser(sub)
    parser.set_defaults(_subparsers=sub.choices)
    return parser


def _long_options(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Option dest -> its long option string (``n_sites`` is not one: ``open`` -> ``--open``)."""
    out = {}
    for action in parser._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs:
            out[action.dest] = longs[0]
    return out


def _unrecognized(parser: argparse.ArgumentParser, extras: list[str]) -> str:
    """``unrecognized arguments: --contnent EU (did you mean --continent?)``."""
    import difflib

    known = sorted({s for a in parser._actions for s in a.option_strings if s.startswith("--")})
    hints = []
    for word in extras:
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.75)
            if close:
                hints.append(close[0])
    text = f"unrecognized arguments: {' '.join(extras)}"
    return text + (f" (did you mean {' and '.join(hints)}?)" if hints else "")


def _option_hint(parser: argparse.ArgumentParser | None, message: str) -> str:
    """Which options set the library parameters an error names, when their names differ.

    ``the median objective needs n_sites or max_sites`` gets `` [on the command line: n_sites
    is --open, max_sites is --max-open]``; a parameter spelt like its option (``sla_ms``,
    ``--sla-ms``) or one the command has no option for gets nothing.
    """
    import re

    if parser is None:
        return ""
    from placement.cli import solve
    from placement.cli._cost_options import COST_OPTIONS
    from placement.cli._options import DEMAND_FILTERS

    by_dest = _long_options(parser)
    keyword_to_dest = {
        **{k: k for k in by_dest},
        **{k: k for k in COST_OPTIONS},
        "missing": "missing_costs",
        "view": "cost_view",
        "compute_price_source": "compute_prices",
    }
    for table in (
        solve._PROBLEM_OPTIONS,
        solve._SOLVER_OPTIONS,
        solve._INPUT_OPTIONS,
        DEMAND_FILTERS,
    ):
        keyword_to_dest.update({kw: dest for dest, kw in table.items()})
    pairs = []
    for word in dict.fromkeys(re.findall(r"\b[a-z][a-z0-9_]*\b", message)):
        flag = by_dest.get(keyword_to_dest.get(word, ""))
        if (
            flag
            and flag != "--" + word.replace("_", "-")
            and ("_" in word or f"'{word}'" in message)
        ):
            pairs.append(f"{word} is {flag}")
    return f" [on the command line: {', '.join(pairs)}]" if pairs else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    subparser = getattr(args, "_subparsers", {}).get(getattr(args, "command", None))
    if extras:  # the subcommand's own usage and a suggestion, not the top-level usage
        (subparser or parser).error(_unrecognized(subparser or parser, extras))
    configure_logging(args)
    log = logging.getLogger("placement.cli")

    def show_warning(message: Any, category: Any, *_: Any, **__: Any) -> None:
        log.warning("warning: %s", message)

    try:
        with warnings.catch_warnings():
            warnings.showwarning = show_warning  # one line on stderr, no source excerpt
            return int(args.func(args) or 0)
    except PlacementError as exc:
        text = _one_line(exc)
        print(
            f"placement {args.command}: error: {text}{_option_hint(subparser, text)}",
            file=sys.stderr,
        )
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
