"""Every constraint of a lowered problem checked on a solution: the registry's post-check.

:func:`broken_constraints` lists, in words, each constraint of a
:class:`~placement.formulations.data.ModelData` that a
:class:`~placement.formulations.contract.Solution` breaks: the rows of the PuLP model
(:mod:`~placement.formulations.assignment`) read on the solution's open sites and assignment
rows. :func:`placement.formulations.registry.solve_data` runs it on every fast solver's answer
before returning it; an answer that breaks anything is a solver failure (the PuLP model decides).

Tolerance. The fast solvers keep capacities a relative margin of
:data:`~placement.formulations.relax.CAPACITY_MARGIN` (1e-6) below in their own LPs, and some
renormalise LP shares; the PuLP model's scaled rows hold to HiGHS's feasibility tolerance (1e-7
relative to a capacity or the total weight). :data:`CHECK_TOL` (1e-6, relative to the row's
scale) accepts every such numerically true answer and still refuses any logical error (a site
over its capacity by one user in a million, a budget over by a dollar in a million, a demand
point served twice or not at all).
"""

from __future__ import annotations

import numpy as np

from placement.formulations.contract import Solution
from placement.formulations.data import ModelData

__all__ = ["CHECK_TOL", "broken_constraints"]

#: Relative slack of :func:`broken_constraints` (see the module docstring).
CHECK_TOL = 1e-6


def broken_constraints(data: ModelData, sol: Solution, tol: float = CHECK_TOL) -> list[str]:
    """The constraints of ``data`` that ``sol`` breaks, in words (empty when it meets all).

    Site fixings and counts, every row on an allowed pair (primary or backup) of an open site,
    every demand point served wholly at every rank (at most wholly under ``coverage``), a site
    at most once per demand point and, with backups, at most one site per failure domain; under
    the cost objectives with backups, no backup nearer than the primary; then the restricting
    constraints of :func:`~placement.formulations.relax.violations` (percentile SLA, capacity,
    single sourcing, budget, provider limits). ``sol`` must hold a solution of ``data`` itself
    (its pairs and sites).
    """
    from placement.formulations.relax import violations

    if not sol.found:
        return []
    mask = sol.open_mask
    if mask is None or mask.shape != (data.n_sites,):
        return ["open sites: no mask of one flag per site"]
    mask = np.asarray(mask, dtype=bool)
    out: list[str] = []
    if (data.must_open & ~mask).any():
        out.append(f"must-open: {int((data.must_open & ~mask).sum())} site(s) closed")
    if (data.forbidden & mask).any():
        out.append(f"forbidden: {int((data.forbidden & mask).sum())} site(s) open")
    n_open = int(mask.sum())
    if data.n_sites_exact is not None and n_open != data.n_sites_exact:
        out.append(f"site count: {n_open} open, exactly {data.n_sites_exact} asked")
    if data.max_sites is not None and n_open > data.max_sites:
        out.append(f"site count: {n_open} open, at most {data.max_sites} allowed")
    if data.min_sites is not None and n_open < data.min_sites:
        out.append(f"site count: {n_open} open, at least {data.min_sites} asked")
    rows = np.asarray(sol.rows, dtype=float).reshape(-1, 4)
    pair, rank = rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64)
    demand, share = rows[:, 2].astype(np.int64), rows[:, 3]
    k = data.redundancy
    bad = (pair < 0) | (pair >= data.n_pairs) | (rank < 1) | (rank > k)
    if bad.any():
        return [*out, f"assignment: {int(bad.sum())} row(s) outside the pairs or ranks"]
    if (demand != data.pair_i[pair]).any() or (share < -tol).any() or (share > 1 + tol).any():
        return [*out, "assignment: a row's demand point or share does not match its pair"]
    ok = np.where(rank == 1, data.primary_ok[pair], data.backup_ok[pair])
    if not ok.all():
        out.append(f"pair rules: {int((~ok).sum())} row(s) on a pair not allowed at its rank")
    if not mask[data.pair_j[pair]].all():
        out.append(f"assignment: {int((~mask[data.pair_j[pair]]).sum())} row(s) to a closed site")
    served = np.zeros((data.n_demand, k))
    np.add.at(served, (demand, rank - 1), share)
    short = served < 1 - tol if data.objective != "coverage" else np.zeros_like(served, bool)
    if short.any() or (served > 1 + tol).any():
        what = "not served wholly" if short.any() else "served more than wholly"
        out.append(
            f"assignment: {int((short | (served > 1 + tol)).any(axis=1).sum())} demand "
            f"point(s) {what} at some rank"
        )
    if k > 1:
        out += _backup_rules(data, pair, rank, demand, share, tol)
    return out + violations(data, sol, tol)


def _backup_rules(
    data: ModelData,
    pair: np.ndarray,
    rank: np.ndarray,
    demand: np.ndarray,
    share: np.ndarray,
    tol: float,
) -> list[str]:
    """A site at most once per demand point, one per failure domain, and (cost objectives) the
    primary never farther than a backup (:func:`~.builders.add_nearer_primary`, share-wise)."""
    out = []
    for key, what in ((data.pair_j[pair], "a site"), (data.domain[data.pair_j[pair]], "a domain")):
        _, inv = np.unique(np.c_[demand, key], axis=0, return_inverse=True)
        if (np.bincount(inv.ravel(), weights=share) > 1 + tol).any():
            out.append(f"backups: {what} used more than once by a demand point")
    if data.objective in ("cost", "weighted"):
        lat = data.latency_ms[pair]
        first = rank == 1
        for q in np.flatnonzero(~first):
            own = first & (demand == demand[q]) & (lat <= lat[q] + 1e-9)
            if share[q] > share[own].sum() + tol:
                out.append("backups: a backup nearer than its demand point's primary")
                break
    return out
