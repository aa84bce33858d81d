"""The one gap rule and the one "proven" rule that every solver path reports by.

Every path — the fast exact solvers and the PuLP backend with HiGHS or CBC — hands back an
objective and a proven bound; :func:`relative_gap` turns them into a gap and :func:`is_proven`
decides whether the result may be labelled ``optimal``. A solver may *stop* earlier (a requested
``gap_rel``, a time limit), but a result is optimal only when its bound proves it within
:data:`OPTIMALITY_TOLERANCE`, whatever gap was requested: a looser stop is ``feasible`` with its
gap.
"""

from __future__ import annotations

import math

__all__ = ["ABSOLUTE_TOLERANCE", "OPTIMALITY_TOLERANCE", "is_proven", "rel_gap", "relative_gap"]

#: Relative gap at or below which a result counts as proven optimal.
OPTIMALITY_TOLERANCE = 1e-6

#: Absolute gap at or below which a result counts as proven optimal (objectives near zero).
ABSOLUTE_TOLERANCE = 1e-9


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


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """:func:`rel_gap` with ``None`` for an unknown objective or bound (and for infinities).

    Parameters
    ----------
    objective, bound : float or None
        Incumbent value and proven lower bound of a minimisation.

    Returns
    -------
    float or None
    """
    if objective is None or bound is None:
        return None
    gap = rel_gap(float(objective), float(bound))
    return gap if math.isfinite(gap) else None


def is_proven(objective: float | None, bound: float | None) -> bool:
    """True when ``bound`` proves ``objective`` optimal within the default tolerance.

    Parameters
    ----------
    objective, bound : float or None
        Incumbent value and proven lower bound of a minimisation (None when unknown).

    Returns
    -------
    bool
        ``objective − bound ≤ max(OPTIMALITY_TOLERANCE × |objective|, ABSOLUTE_TOLERANCE)``.
    """
    if objective is None or bound is None:
        return False
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return False
    return objective - bound <= max(OPTIMALITY_TOLERANCE * abs(objective), ABSOLUTE_TOLERANCE)
