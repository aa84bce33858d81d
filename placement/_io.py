"""File input and output: one way to open every input, one way to write every output.

Inputs (:func:`read_input_bytes`, :func:`read_input_text`, :func:`read_csv`): the path must name a
regular file (a folder, FIFO, device such as ``/dev/zero`` or socket is refused without being
read), no larger than the input budget (``PLACEMENT_MAX_INPUT_MB``, see
:data:`placement.params.BUDGETS`), readable, and text must be UTF-8. Every failure is a
:class:`~placement.errors.ValidationError` naming the path.

CSV (:func:`read_csv`): every cell is read as text first, so ids stay exactly as written (``NA``,
``null``, ``NaN`` and ``007`` are ids, not missing values or numbers); only an empty cell is
missing; a column whose every non-empty cell is a number becomes a float column. A header that
names a column twice (also after trimming spaces and ignoring case) is refused.

Outputs (:func:`check_output_path`, :func:`atomic_write_bytes`): the target must not be an
existing folder, device, FIFO or other non-regular file, nor a path ending in a separator, nor
the same file as one of the inputs; missing parent folders are created, an existing parent must
be a writable folder. Files are written to a temporary file in the same folder and renamed, so a
file appears whole or not at all. :func:`check_output_path` runs before any work (the CLI checks
its ``--out`` before solving) and again inside every write.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from placement.errors import ValidationError
from placement.params import BUDGETS, budget

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "check_input_path",
    "check_output_path",
    "read_csv",
    "read_input_bytes",
    "read_input_text",
]

#: Progress of long reads (the command line shows this logger's INFO messages on stderr).
_log = logging.getLogger("placement")

#: Inputs at least this large are announced on the ``placement`` logger.
_ANNOUNCE_BYTES = 8 * 1024 * 1024

_KIND = {
    stat.S_IFREG: "a file",
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
}


def _kind(mode: int) -> str:
    return _KIND.get(stat.S_IFMT(mode), "not a regular file")


def _werr(reason: str, table: str, path: Any) -> ValidationError:
    """An output path error: ``cannot write PATH: reason``."""
    exc = ValidationError(f"cannot write {os.fspath(path)!s}: {reason}")
    exc.table = table
    return exc


def _err(message: str, table: str, path: Any) -> ValidationError:
    """A path error: the message starts with the path; ``table`` is kept as an attribute only."""
    exc = ValidationError(f"{os.fspath(path)!s}: {message}")
    exc.table = table
    return exc


def _path_text(path: str | os.PathLike[str], table: str) -> str:
    if not isinstance(path, str | os.PathLike):
        raise ValidationError(
            f"a path must be a string, got {type(path).__name__}", table=table, value=path
        )
    text = os.fspath(path)
    if isinstance(text, bytes) or text == "":
        raise ValidationError("empty path (give a file name)", table=table, value=text)
    if "\x00" in text:
        raise ValidationError("path contains a NUL byte", table=table, value=text)
    return text


def _budget_bytes(kind: str) -> tuple[int, str]:
    mb = budget(kind)
    return mb * 1024 * 1024, BUDGETS[kind][1]


def check_input_path(path: str | os.PathLike[str], *, table: str = "input") -> Path:
    """Check that ``path`` names a readable regular file within the input budget; no read."""
    text = _path_text(path, table)
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise _err("no such file", table, text) from None
    except NotADirectoryError:
        raise _err("no such file (a parent is not a folder)", table, text) from None
    except OSError as exc:
        raise _err(f"cannot read: {exc.strerror or exc}", table, text) from None
    if not stat.S_ISREG(st.st_mode):
        raise _err(f"is {_kind(st.st_mode)}, not a regular file", table, text)
    return Path(text)


def read_input_bytes(
    path: str | os.PathLike[str], *, table: str = "input", kind: str = "input_mb"
) -> bytes:
    """The bytes of a regular file, refused beyond the ``kind`` budget (``input_mb``, ``config_mb``).

    The file is opened without blocking and checked with ``fstat`` on the open descriptor, so a
    FIFO or device put in place between the check and the read is still refused unread.
    """
    text = str(check_input_path(path, table=table))
    limit, env = _budget_bytes(kind)
    try:
        fd = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _err(f"cannot read: {exc.strerror or exc}", table, text) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise _err(f"is {_kind(st.st_mode)}, not a regular file", table, text)
        if st.st_size > limit:
            raise _err(
                f"is {st.st_size:,} bytes, more than the input limit of {limit:,} bytes "
                f"(raise it with the environment variable {env}=MB)",
                table,
                text,
            )
        if st.st_size >= _ANNOUNCE_BYTES:
            _log.info("reading %s: %s (%.1f MB)", table, text, st.st_size / 1e6)
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise _err(f"cannot read: {exc.strerror or exc}", table, text) from None
    if len(data) > limit:  # grew while read
        raise _err(f"is more than the input limit of {limit:,} bytes ({env})", table, text)
    return data


def decode_utf8(data: bytes, *, table: str, path: Any) -> str:
    """UTF-8 text (a leading byte-order mark is dropped); a clear error naming the offset."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _err(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", table, path
        ) from None
    return text.removeprefix(codecs.BOM_UTF8.decode("utf-8"))


def read_input_text(
    path: str | os.PathLike[str], *, table: str = "input", kind: str = "input_mb"
) -> str:
    """The UTF-8 text of a regular file; see :func:`read_input_bytes`."""
    return decode_utf8(read_input_bytes(path, table=table, kind=kind), table=table, path=path)


def _header(text: str, table: str, path: Any) -> list[str]:
    first = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    seen: dict[str, str] = {}
    for name in first:
        key = name.strip().casefold()
        if key in seen:
            what = "given twice" if name == seen[key] else f"given twice ({seen[key]!r}, {name!r})"
            raise ValidationError(
                f"{os.fspath(path)}: column {what} in the header", table=table, field=name.strip()
            )
        seen[key] = name
    return [n.strip() for n in first]


def read_csv(path: str | os.PathLike[str], *, table: str, text_columns: Iterable[str] = ()) -> Any:
    """Read a CSV input table (a pandas DataFrame) with ids kept as text.

    Parameters
    ----------
    path : path-like
        A regular UTF-8 CSV file with a header row.
    table : str
        Table name for errors (``"sites"``, ``"demand"``, ``"latency"``).
    text_columns : iterable of str
        Columns always kept as text, whatever they look like (ids; the ``*_id`` columns always
        are).

    Returns
    -------
    pandas.DataFrame
        Header names trimmed of spaces; empty cells missing (and only they); id columns as text;
        columns whose every non-empty cell is a number as numbers, the others as text.
    """
    import pandas as pd

    text = read_input_text(path, table=table)
    if not text.strip():
        raise _err("the file is empty (a header row is needed)", table, path)
    names = _header(text, table, path)
    keep = set(text_columns) | {n for n in names if n.endswith("_id")}
    try:
        # ids as text; no NA guessing anywhere (only an empty cell is missing); the C parser
        # types the other columns: all numbers -> float, anything else (e.g. "NA") -> text
        df = pd.read_csv(
            io.StringIO(text),
            dtype={n: str for n in keep},
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _err(f"cannot read CSV: {str(exc).strip().splitlines()[0]}", table, path) from None
    df.columns = names if len(names) == len(df.columns) else [str(c).strip() for c in df.columns]
    if len(text) >= _ANNOUNCE_BYTES:
        _log.info("read %s: %s rows", table, f"{len(df):,}")
    return df


# ---------------------------------------------------------------------- output
def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    table: str = "output",
    probe: bool = False,
) -> Path:
    """Check that ``path`` may be written, before any work; returns it as a Path.

    Refused (a :class:`ValidationError` naming the path): an empty path; a path ending in a
    separator; an existing folder, device, FIFO, socket or other non-regular file (also behind a
    symbolic link); the same file as one of ``inputs``; a path under an existing file; a parent
    folder that is not writable. Missing parent folders are allowed (they are created when the
    file is written). Nothing is created or changed; with ``probe``, writability of an existing
    parent folder is tested for real by creating and removing an empty temporary file in it
    (permission bits do not tell for root, ``/proc`` or a read-only mount).
    """
    text = _path_text(path, table)
    if text.endswith(("/", os.sep)) or (os.altsep and text.endswith(os.altsep)):
        raise _werr("names a folder (ends with a separator); give a file name", table, text)
    last = text.replace(os.altsep or os.sep, os.sep).rsplit(os.sep, 1)[-1]
    if last in (".", ".."):
        raise _werr(f"names a folder (ends with {last!r}); give a file name", table, text)
    target = Path(text)  # the path the write will use: check exactly that one
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # reported below: a parent is a file
    except OSError as exc:
        raise _werr(f"{exc.strerror or exc}", table, text) from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _werr(f"is {_kind(st.st_mode)}; only a regular file is replaced", table, text)
    for given in inputs:
        if given is None or given == "catalog" or given == "-":
            continue
        if _same_file(text, os.fspath(given)):
            raise _werr(
                f"is also an input ({os.fspath(given)}); choose another path",
                table,
                text,
            )
    # the nearest existing ancestor must be a writable folder
    parent = target.parent if str(target.parent) else Path(".")
    ancestor = parent
    while True:
        try:
            pst = os.stat(ancestor)
            break
        except FileNotFoundError:
            if ancestor.parent == ancestor:
                raise _werr("no existing parent folder", table, text) from None
            ancestor = ancestor.parent
        except NotADirectoryError:
            ancestor = ancestor.parent
        except OSError as exc:
            raise _werr(f"{exc.strerror or exc}", table, text) from None
    if not stat.S_ISDIR(pst.st_mode):
        raise _werr(f"{ancestor} is {_kind(pst.st_mode)}, not a folder", table, text)
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise _werr(f"folder {ancestor} is not writable", table, text)
    if probe and ancestor == parent:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=parent)
        except OSError as exc:
            raise _werr(
                f"folder {parent} is not writable ({exc.strerror or exc})", table, text
            ) from None
        os.close(fd)
        os.unlink(tmp)
    return target


def atomic_write_bytes(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename).

    Parameters
    ----------
    path : path-like
        Destination, checked by :func:`check_output_path` (only a regular file is ever replaced);
        its missing parent folders are created.
    data : bytes
        The whole content.
    inputs : iterable of path-like
        Input files the destination must not be.

    Returns
    -------
    pathlib.Path
        The destination path.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    target = check_output_path(path, inputs=inputs)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _werr(f"{exc.strerror or exc}", "output", target) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        # the target may have changed since the check: refuse anything but a regular file
        check_output_path(target, inputs=inputs)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _werr(f"{exc.strerror or exc}", "output", target) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(
    path: str | os.PathLike[str],
    text: str,
    *,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"), inputs=inputs)
