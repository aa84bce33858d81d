"""Site pricing shared by the strong LPs over a growing set of sites (:mod:`~.cfl_lp`,
:mod:`~.cfl_redundant_lp`).

Both solve an LP over a set ``S`` of sites and rank the sites outside it by their Lagrangian
part ``v_j`` at the LP's duals (a site of negative part would lower the bound's sum, so the LP
misses it): the sites of smallest part start ``S`` and join it, a fixed number a round.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SITES_PER_ROUND", "sites_to_add", "start_sites"]

#: Sites added to ``S`` a round (the smallest parts outside it).
SITES_PER_ROUND = 16


def start_sites(
    v: np.ndarray, hi: int, must: np.ndarray, inc_mask: np.ndarray | None = None
) -> list[int]:
    """The first ``S``: an incumbent's open sites, the ``2 hi`` of smallest finite part and
    the must-open sites, in that order without repeats."""
    first = [int(j) for j in np.argsort(v, kind="stable")[: 2 * hi] if np.isfinite(v[j])]
    if inc_mask is not None:
        first = [int(j) for j in np.flatnonzero(inc_mask)] + first
    first += [int(j) for j in np.flatnonzero(must)]
    return list(dict.fromkeys(first))


def sites_to_add(
    v: np.ndarray, in_s: np.ndarray, per_round: int, rep: np.ndarray | None = None
) -> list[int]:
    """The ``per_round`` sites (or twin-group representatives ``rep``) of smallest finite part
    ``v`` outside ``S`` (``in_s``)."""
    order = np.argsort(v, kind="stable")
    fresh = order[(~in_s[order]) & np.isfinite(v[order])]
    if rep is not None:
        fresh = rep[fresh]
    return list(dict.fromkeys(int(j) for j in fresh))[:per_round]
