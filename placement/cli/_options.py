"""Option groups shared by several subcommands: demand selection, streaming, verbosity.

``add_demand_filters(group)`` adds the catalog-demand selection options (``--country``,
``--exclude-country``, ``--continent``, ``--exclude-continent``, ``--bbox``, ``--near``, …) and
``demand_filters(args)`` turns them into ``demand.from_cities`` keyword arguments.
``add_streaming_options(parser)`` / ``streaming_from_args(args)`` do the same for the streaming
workload (:class:`placement.workload.Streaming`). ``add_verbosity_options(parser)`` adds
``-q/--quiet`` and ``-v/--verbose``; ``configure_logging(args)`` routes the ``placement`` logger
to stderr accordingly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

__all__ = [
    "add_demand_filters",
    "add_streaming_options",
    "add_verbosity_options",
    "configure_logging",
    "demand_filters",
    "is_quiet",
    "streaming_from_args",
]

#: option dest -> ``demand.from_cities`` keyword
DEMAND_FILTERS = {
    "min_population": "min_population",
    "max_population": "max_population",
    "country": "countries",
    "exclude_country": "exclude_countries",
    "continent": "continents",
    "exclude_continent": "exclude_continents",
    "bbox": "bbox",
    "near": "near",
    "merge_within_km": "merge_within_km",
}


def _codes(value: str) -> list[str]:
    """``DE`` or ``DE,FR`` -> a list of codes (the options are also repeatable)."""
    return [v.strip() for v in value.split(",") if v.strip()]


class _ExtendCodes(argparse.Action):
    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
        current = list(getattr(namespace, self.dest, None) or [])
        setattr(namespace, self.dest, current + _codes(values))


def add_demand_filters(group: Any, *, min_population_default: int | None = None) -> None:
    """Add the catalog-demand selection options to a parser or argument group."""
    default = (
        "all places in the table (100000 and up)"
        if min_population_default is None
        else f"{min_population_default}"
    )
    group.add_argument(
        "--min-population",
        type=int,
        default=min_population_default,
        metavar="N",
        help=f"catalog demand: keep places with at least N inhabitants (default: {default})",
    )
    group.add_argument(
        "--max-population",
        type=int,
        metavar="N",
        help="catalog demand: keep places with at most N inhabitants",
    )
    group.add_argument(
        "--country",
        action=_ExtendCodes,
        metavar="CC",
        help="catalog demand: keep these ISO 3166-1 alpha-2 countries (e.g. BR or DE,FR); "
        "repeatable",
    )
    group.add_argument(
        "--exclude-country",
        action=_ExtendCodes,
        metavar="CC",
        help="catalog demand: drop these countries (e.g. RU); repeatable",
    )
    group.add_argument(
        "--continent",
        action=_ExtendCodes,
        metavar="C",
        help="catalog demand: keep continents AF, AN, AS, EU, NA, OC, SA (e.g. EU,SA); "
        "transcontinental countries are split by location (Istanbul EU, Novosibirsk AS; "
        "see docs/demand.md); repeatable",
    )
    group.add_argument(
        "--exclude-continent",
        action=_ExtendCodes,
        metavar="C",
        help="catalog demand: drop these continents; repeatable",
    )
    group.add_argument(
        "--bbox",
        metavar="W,S,E,N",
        help="catalog demand: keep places inside this box of longitudes/latitudes in degrees "
        "(W > E crosses the antimeridian), e.g. --bbox=-10,35,30,60 (the '=' lets a value start "
        "with '-')",
    )
    group.add_argument(
        "--near",
        metavar="LAT,LON,KM",
        help="catalog demand: keep places within KM (great-circle) of a point, "
        "e.g. --near=-23.55,-46.63,1500",
    )
    group.add_argument(
        "--merge-within-km",
        type=float,
        metavar="KM",
        help="catalog demand: merge places closer than KM into the largest (default: no merging)",
    )


def demand_filters(args: argparse.Namespace) -> dict[str, Any]:
    """The ``demand.from_cities`` keyword arguments given on the command line (None omitted)."""
    out = {}
    for opt, key in DEMAND_FILTERS.items():
        value = getattr(args, opt, None)
        if value is not None:
            out[key] = value
    return out


def add_streaming_options(parser: Any) -> None:
    """Add the streaming-workload options (their own group)."""
    from placement.workload import CURVES, DEFAULT_BITRATE_MBPS, DEFAULT_CONCURRENCY_RATIO

    g = parser.add_argument_group(
        "streaming",
        "video-streaming workload (placement.workload.Streaming): the result carries each "
        "site's peak Gbps and monthly egress (TB and USD)",
    )
    g.add_argument(
        "--concurrency",
        type=float,
        metavar="R",
        help="concurrent viewers at the local peak hour per unit of demand weight (per "
        "internet user for catalog demand), e.g. 0.01 (solve: default "
        f"{DEFAULT_CONCURRENCY_RATIO:g}, stated as assumed in the summary and the JSON)",
    )
    g.add_argument(
        "--bitrate-mbps",
        type=float,
        metavar="MBPS",
        help=f"mean bitrate per viewer, Mbps (default: {DEFAULT_BITRATE_MBPS:g})",
    )
    g.add_argument(
        "--curve",
        metavar="NAME|24 VALUES",
        help=f"daily load by local hour: {' or '.join(CURVES)} (default: sandvine-2021), or 24 "
        "comma-separated numbers for hours 0..23",
    )
    g.add_argument(
        "--capacity-gbps",
        type=float,
        metavar="GBPS",
        help="most a site may serve at its peak, Gbps; becomes a capacity in users "
        "(GBPS / (concurrency x bitrate), conservative) — needs --concurrency",
    )


def streaming_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~placement.workload.Streaming` of the options, or None without --concurrency."""
    from placement.errors import ValidationError
    from placement.workload import DEFAULT_BITRATE_MBPS, Streaming

    given = [
        o for o in ("bitrate_mbps", "curve", "capacity_gbps") if getattr(args, o, None) is not None
    ]
    if getattr(args, "concurrency", None) is None:
        if given:
            raise ValidationError(
                "needs --concurrency (viewers at the peak per unit of demand)",
                table="parameter",
                field="--" + given[0].replace("_", "-"),
            )
        return None
    return Streaming(
        concurrency_ratio=args.concurrency,
        bitrate_mbps=DEFAULT_BITRATE_MBPS if args.bitrate_mbps is None else args.bitrate_mbps,
        curve=args.curve,
        capacity_gbps=args.capacity_gbps,
    )


def add_verbosity_options(parser: Any, *, top_level: bool = False) -> None:
    """Add ``-q/--quiet`` and ``-v/--verbose`` (messages and progress on stderr)."""
    kwargs: dict[str, Any] = {} if top_level else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only errors and warnings on stderr (no summary, no progress)",
        **({"default": False} if top_level else kwargs),
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="more messages on stderr (debug messages of the placement logger)",
        **({"default": 0} if top_level else kwargs),
    )


def is_quiet(args: argparse.Namespace) -> bool:
    """True when ``--quiet`` was given."""
    return bool(getattr(args, "quiet", False))


class _StderrHandler(logging.Handler):
    """Writes records to the *current* ``sys.stderr`` (so redirections and tests see them)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def configure_logging(args: argparse.Namespace) -> None:
    """Route the ``placement`` logger to stderr: WARNING with --quiet, DEBUG with -v, else INFO.

    Idempotent: a handler installed by an earlier call is replaced.
    """
    log = logging.getLogger("placement")
    for h in list(log.handlers):
        if isinstance(h, _StderrHandler):
            log.removeHandler(h)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("placement: %(message)s"))
    log.addHandler(handler)
    verbose = int(getattr(args, "verbose", 0) or 0)
    log.setLevel(logging.WARNING if is_quiet(args) else logging.DEBUG if verbose else logging.INFO)
