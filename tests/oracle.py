"""The one brute-force oracle the tests share: enumerate open sets, solve each assignment exactly.

Independent of the PuLP formulations and of the fast solvers: every admissible set of open sites
is enumerated and its assignment solved as a dense linear program with
``scipy.optimize.linprog`` (``assignment_lp``); ``brute`` keeps the best. ``center_brute`` does
the same for the worst nearest-site latency.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.optimize import linprog

__all__ = ["assignment_lp", "brute", "center_brute", "median_data", "subsets"]


def subsets(m, sizes, must=(), forbidden=()):
    for p in sizes:
        for s in itertools.combinations(range(m), p):
            if set(must) <= set(s) and not set(forbidden) & set(s):
                yield s


def assignment_lp(
    lat,
    w,
    S,
    *,
    k=1,
    domain=None,
    beta=0.5,
    cap=None,
    sla=None,
    share=None,
    allowed=None,
    var_cost=None,
    penalty=0.0,
    objective="median",
):
    """Exact optimum of the assignment for open set S (None when infeasible)."""
    n, m = lat.shape
    domain = np.arange(m) if domain is None else domain
    allowed = np.isfinite(lat) if allowed is None else allowed
    pairs = [(i, j) for i in range(n) for j in S if allowed[i, j]]
    P = len(pairs)
    nv = P * k
    W = w.sum()
    c = np.zeros(nv)
    for r in range(k):
        for q, (i, j) in enumerate(pairs):
            if objective == "median":
                c[r * P + q] = (1.0 if r == 0 else beta) * w[i] * lat[i, j] / W
            elif r == 0:
                c[r * P + q] = (var_cost[j] * w[i] if var_cost is not None else 0.0) + penalty * w[
                    i
                ] * lat[i, j]
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for r in range(k):
        for i in range(n):
            row = np.zeros(nv)
            for q, (ii, _) in enumerate(pairs):
                if ii == i:
                    row[r * P + q] = 1
            a_eq.append(row)
            b_eq.append(1)
    for i in range(n):
        for g in set(domain[list(S)]):
            row = np.zeros(nv)
            for r in range(k):
                for q, (ii, j) in enumerate(pairs):
                    if ii == i and domain[j] == g:
                        row[r * P + q] = 1
            a_ub.append(row)
            b_ub.append(1)
    if cap is not None:
        for j in S:
            row = np.zeros(nv)
            for q, (i, jj) in enumerate(pairs):
                if jj == j:
                    row[q] = w[i]
            a_ub.append(row)
            b_ub.append(cap[j])
    if share is not None:
        row = np.zeros(nv)
        for q, (i, j) in enumerate(pairs):
            if lat[i, j] <= sla:
                row[q] = -w[i]
        a_ub.append(row)
        b_ub.append(-share * W)
    if nv == 0:
        return None
    res = linprog(
        c,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=b_ub or None,
        A_eq=np.array(a_eq),
        b_eq=b_eq,
        bounds=(0, 1),
        method="highs",
    )
    return res.fun if res.status == 0 else None


def brute(lat, w, sizes, **kw):
    best = math.inf
    for S in subsets(lat.shape[1], sizes, kw.pop("must", ()), kw.pop("forbidden", ())):
        fixed = kw.get("fixed")
        val = assignment_lp(lat, w, S, **{k: v for k, v in kw.items() if k != "fixed"})
        if val is None:
            continue
        if fixed is not None:
            val += fixed[list(S)].sum()
        best = min(best, val)
    return best


def center_brute(lat, sizes, must=(), forbidden=(), active=None):
    """Smallest worst nearest-site latency over the admissible open sets (inf when none)."""
    rows = slice(None) if active is None else np.asarray(active)
    best = math.inf
    for S in subsets(lat.shape[1], sizes, must, forbidden):
        best = min(best, float(lat[rows][:, list(S)].min(axis=1).max()))
    return best


def median_data(lat, ok, weight, n_sites, **fields):
    """ModelData of a median problem on the allowed pairs ``ok`` of the matrix ``lat``.

    No costs, one failure domain per site, one provider, nothing forced or forbidden, exactly
    ``n_sites`` open; ``fields`` override any of these (``capacity``, ``redundancy``, ...).
    Returns the data and the latency matrix with ``inf`` where a pair is not allowed (for
    ``brute``).
    """
    from placement.formulations.data import ModelData

    ii, jj = np.nonzero(ok)
    n, m = lat.shape
    base = dict(
        n_demand=n,
        n_sites=m,
        weight=weight,
        pair_i=ii,
        pair_j=jj,
        latency_ms=lat[ii, jj],
        pair_cost_usd=np.zeros(len(ii)),
        primary_ok=np.ones(len(ii), dtype=bool),
        backup_ok=np.ones(len(ii), dtype=bool),
        fixed_usd=np.zeros(m),
        variable_usd_per_unit=np.zeros(m),
        domain=np.arange(m),
        provider=np.zeros(m, dtype=np.int64),
        must_open=np.zeros(m, dtype=bool),
        forbidden=np.zeros(m, dtype=bool),
        objective="median",
        n_sites_exact=n_sites,
    )
    return ModelData(**(base | fields)), np.where(ok, lat, np.inf)
