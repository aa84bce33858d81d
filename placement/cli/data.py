"""``placement data``: refresh catalog tables from their public sources, show the cache status.

``placement data refresh [TABLE …] [--cache-dir D] [--allow-host H …]`` downloads, validates and
caches (see :mod:`placement.refresh`); the shipped snapshot is never changed. Exit 0 when every
table was updated or unchanged, 4 when a refresh failed (network or rejected data; the reason on
stderr, one line per table, the previous cache intact), 2 on bad arguments.

``placement data status [--cache-dir D] [--format table|csv|json]`` lists the cached tables, their
vintage, download time and sha256. Loaders use the cache only with ``source="cache"``.
"""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from placement.cli._common import add_format_option, info, write_frame

EXIT_REFRESH_FAILED = 4

_DESCRIPTION = """\
placement data refresh [TABLE ...] [--cache-dir D] [--allow-host H ...]
    downloads, validates and caches tables from their public sources; the shipped snapshot is
    never changed. Exit 0 when every table was updated or unchanged, 4 when a refresh failed
    (the reason on stderr, one line per table, the previous cache intact), 2 on bad arguments.

placement data status [--cache-dir D] [--format table|csv|json]
    lists the cached tables, their vintage, download time and sha256.

The catalog loaders read the cache only when asked to (source="cache" in Python).
"""


def add_parser(subparsers: Any) -> None:
    """Register ``placement data`` and its ``refresh`` / ``status`` actions."""
    from placement.refresh import DEFAULT_ALLOWED_HOSTS, SOURCES

    p = subparsers.add_parser(
        "data",
        help="refresh catalog tables from their sources into a user cache; show the cache",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    r = sub.add_parser("refresh", help="download, validate and cache tables")
    r.add_argument(
        "tables", nargs="*", metavar="TABLE", help=f"tables to refresh ({', '.join(SOURCES)})"
    )
    r.add_argument("--cache-dir", metavar="D", help="cache folder (default: $PLACEMENT_CACHE_DIR)")
    r.add_argument(
        "--allow-host",
        action="append",
        metavar="H",
        help=f"allowed download host, repeatable (default: {', '.join(DEFAULT_ALLOWED_HOSTS)})",
    )
    r.add_argument("--timeout", type=float, default=20.0, metavar="S", help="seconds per request")
    r.add_argument("--retries", type=int, default=3, metavar="N", help="retries (default 3)")
    s = sub.add_parser("status", help="which tables are cached, their vintage and sha256")
    s.add_argument("--cache-dir", metavar="D", help="cache folder (default: $PLACEMENT_CACHE_DIR)")
    add_format_option(s)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``placement data refresh`` or ``placement data status``."""
    from placement import refresh as rf

    if args.action == "status":
        rows = rf.status(args.cache_dir)
        cols = ["table", "cached", "valid", "vintage", "retrieved_utc", "rows", "sha256", "url"]
        write_frame(pd.DataFrame(rows, columns=[*cols, "path"])[cols], args.format)
        return 0
    from placement.errors import ValidationError

    if args.timeout is None or not args.timeout > 0:
        raise ValidationError("must be > 0", table="parameter", field="--timeout")
    if args.retries < 0:
        raise ValidationError("must be >= 0", table="parameter", field="--retries")
    reports = rf.refresh(
        args.tables or None,
        cache_dir=args.cache_dir,
        allow_hosts=tuple(args.allow_host) if args.allow_host else rf.DEFAULT_ALLOWED_HOSTS,
        timeout_s=args.timeout,
        retries=args.retries,
    )
    failed = 0
    for rep in reports:
        if rep.ok:
            info(
                f"placement data refresh: {rep.table}: {rep.status} ({rep.rows} rows, "
                f"sha256 {rep.sha256[:12]}, from {rep.url})"
            )
        else:
            failed += 1
            info(
                f"placement data refresh: {rep.table}: failed: {rep.reason}; "
                "previous data unchanged"
            )
    return EXIT_REFRESH_FAILED if failed else 0
