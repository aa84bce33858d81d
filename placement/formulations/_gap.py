"""Relative optimality gap as the fast exact solvers report it."""

from __future__ import annotations

import math

__all__ = ["rel_gap"]


def rel_gap(objective: float, bound: float) -> float:
    """``max(0, objective − bound) / max(|objective|, 1e-9)``; ``inf`` when either is not finite.

    Parameters
    ----------
    objective : float
        Value of the incumbent (``inf`` when there is none).
    bound : float
        Proven lower bound (``-inf`` when there is none).

    Returns
    -------
    float
    """
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return max(0.0, objective - bound) / max(abs(objective), 1e-9)
