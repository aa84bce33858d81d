"""Helpers shared by the subcommands: output formats and messages."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

import pandas as pd

from placement._io import atomic_write_text

__all__ = [
    "FORMATS",
    "add_format_option",
    "atomic_write_text",
    "heartbeat",
    "info",
    "write_frame",
]

FORMATS = ("table", "csv", "json")


def add_format_option(parser: Any, default: str = "table") -> None:
    """Add the conventional ``--format table|csv|json`` option."""
    parser.add_argument(
        "--format", choices=FORMATS, default=default, help=f"output format (default: {default})"
    )


#: Longest text shown in a cell of the ``table`` format (CSV and JSON keep every character).
TABLE_TEXT_CHARS = 60


def write_frame(df: pd.DataFrame, fmt: str, stream: TextIO | None = None) -> None:
    """Write a DataFrame to ``stream`` (stdout by default) as a table, CSV or JSON records.

    A reader that closes the pipe early (``placement regions | head``) ends the output quietly.
    """
    stream = stream or sys.stdout
    try:
        if fmt == "csv":
            df.to_csv(stream, index=False, lineterminator="\n")
        elif fmt == "json":
            records = json.loads(df.to_json(orient="records", double_precision=10))
            json.dump(records, stream, indent=2)
            stream.write("\n")
        else:
            long_text = any(
                df[c].astype(str).str.len().max() > TABLE_TEXT_CHARS
                for c in df.columns
                if len(df) and (df[c].dtype == object or pd.api.types.is_string_dtype(df[c]))
            )
            with pd.option_context("display.max_rows", None, "display.width", 200):
                stream.write(df.to_string(index=False, max_colwidth=TABLE_TEXT_CHARS) + "\n")
            if long_text:
                info(
                    f"(texts longer than {TABLE_TEXT_CHARS} characters are cut in the table; "
                    "--format csv or json shows them whole)"
                )
        stream.flush()
    except BrokenPipeError:
        if stream is sys.stdout:  # silence the interpreter's flush of the closed pipe at exit
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def info(message: str) -> None:
    """Print a human message to stderr."""
    print(message, file=sys.stderr)


@contextlib.contextmanager
def heartbeat(label: str, every_s: float = 30.0) -> Iterator[None]:
    """While the block runs, print ``label: still running (N s)`` to stderr every ``every_s``.

    A long solve thus shows it is alive (and how to stop it) instead of staying silent.
    """
    stop = threading.Event()
    t0 = time.monotonic()

    def beat() -> None:
        while not stop.wait(every_s):
            info(f"{label}: still running ({time.monotonic() - t0:.0f} s; Ctrl-C stops)")

    thread = threading.Thread(target=beat, name="placement-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=1.0)
