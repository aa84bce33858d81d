"""Exception types of the library.

Every error a user can cause is a :class:`PlacementError`; the command line turns one into a single
line on stderr and a non-zero exit code. This module must not import anything heavy.
"""

from __future__ import annotations

__all__ = ["InfeasibleError", "PlacementError", "SolverError", "ValidationError"]


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
        super().__init__(prefix + message)


class InfeasibleError(PlacementError):
    """The problem has no feasible solution; the message says why in words."""


class SolverError(PlacementError):
    """The solver failed or is not available."""
