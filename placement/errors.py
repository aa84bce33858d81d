"""Exception types of the library.

Every error a user can cause is a :class:`PlacementError`; the command line turns one into a single
line on stderr and a non-zero exit code. This module must not import anything heavy.
"""

from __future__ import annotations

__all__ = [
    "InfeasibleError",
    "PlacementError",
    "SolverError",
    "ValidationError",
    "reject_rows",
]


def _shown(value: object) -> str:
    """A short readable form of an offending value ('' for None)."""
    if value is None:
        return ""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class PlacementError(ValueError):
    """Base class of every error caused by the user's input or problem."""


class ValidationError(PlacementError):
    """An input table or parameter is malformed.

    Parameters
    ----------
    message : str
        What is wrong, in words.
    table : str, optional
        Name of the table (``"sites"``, ``"demand"``, ``"latency"``, …) or ``"parameter"``.
    row : object, optional
        Identifier of the offending row (its id where the table has one, else its position).
    field : str, optional
        The offending column or parameter name.
    value : object, optional
        The offending value.
    """

    def __init__(
        self,
        message: str,
        *,
        table: str | None = None,
        row: object = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.table = table
        self.row = row
        self.field = field
        self.value = value
        where = []
        if table is not None:
            where.append(f"table {table!r}")
        if row is not None:
            where.append(f"row {row!r}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        shown = _shown(value)
        if shown and shown not in message:  # the offending value, unless the message names it
            message = f"{message} (got {shown})"
        super().__init__(prefix + message)


def _at(seq: object, i: int) -> object:
    if callable(seq):
        return seq(i)
    return seq.iloc[i] if hasattr(seq, "iloc") else seq[i]  # type: ignore[index]


def reject_rows(
    bad: object,
    message: str,
    *,
    table: str,
    row: object,
    field: str | None = None,
    value: object = None,
) -> None:
    """Raise :class:`ValidationError` naming the first row where ``bad`` is true; else return.

    Parameters
    ----------
    bad : numpy.ndarray or pandas.Series of bool
        One flag per row of the table.
    message : str
        What is wrong with a flagged row, in words.
    table : str
        Name of the table.
    row : sequence or callable
        The row's name: ``row[i]`` (``row.iloc[i]`` for a Series) or ``row(i)``.
    field : str, optional
        The offending column.
    value : sequence or callable, optional
        The offending value, looked up like ``row``; ``None`` leaves it out.

    Examples
    --------
    >>> import numpy as np
    >>> reject_rows(np.array([False, True]), "must be >= 0", table="sites",
    ...             row=["a", "b"], field="capacity", value=[1.0, -2.0])
    Traceback (most recent call last):
    ...
    placement.errors.ValidationError: table 'sites', row 'b', field 'capacity': must be >= 0
    """
    flags = bad.to_numpy() if hasattr(bad, "to_numpy") else bad
    if not flags.any():  # type: ignore[union-attr]
        return
    i = int(flags.argmax())  # type: ignore[union-attr]
    raise ValidationError(
        message,
        table=table,
        row=_at(row, i),
        field=field,
        value=None if value is None else _at(value, i),
    )


class InfeasibleError(PlacementError):
    """The problem has no feasible solution; the message says why in words."""


class SolverError(PlacementError):
    """The solver failed or is not available."""
