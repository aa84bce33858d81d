"""Constraint builders shared by every PuLP formulation.

Each function adds one family of constraints to a PuLP problem, reading :class:`ModelData` arrays.
Rows are built from grouped numpy indices and :class:`pulp.LpAffineExpression` lists rather than
Python loops over products, so building stays linear in the number of allowed pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pulp

from placement.formulations.data import ModelData

__all__ = [
    "add_assignment",
    "add_budget",
    "add_capacity",
    "add_domains",
    "add_linking",
    "add_percentile_sla",
    "add_provider_limits",
    "add_site_count",
    "cost_expression",
    "groups",
    "latency_expression",
    "site_variables",
]


def groups(keys: np.ndarray, n: int) -> list[np.ndarray]:
    """Positions of ``keys`` grouped by value ``0..n-1`` (stable order within a group)."""
    order = np.argsort(keys, kind="stable")
    bounds = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(n)]


def _expr(pairs: Sequence[tuple[pulp.LpVariable, float]]) -> pulp.LpAffineExpression:
    return pulp.LpAffineExpression(list(pairs))


def site_variables(prob: pulp.LpProblem, data: ModelData) -> list[pulp.LpVariable]:
    """Binary open variables ``y_j``, fixed to 1 for must-open and 0 for forbidden sites."""
    y = []
    for j in range(data.n_sites):
        lo = 1 if data.must_open[j] else 0
        hi = 0 if data.forbidden[j] else 1
        # LpInteger with 0/1 bounds, not LpBinary: PuLP resets a binary's bounds to [0, 1],
        # which would silently drop the must-open / forbidden fixings.
        y.append(prob.add_variable(f"y_{j}", lowBound=lo, upBound=hi, cat=pulp.LpInteger))
    return y


def add_site_count(prob: pulp.LpProblem, y: list[pulp.LpVariable], data: ModelData) -> None:
    """Exactly / at most / at least N open sites."""
    total = pulp.lpSum(y)
    if data.n_sites_exact is not None:
        prob += total == data.n_sites_exact, "open_exactly"
    if data.max_sites is not None:
        prob += total <= data.max_sites, "open_at_most"
    if data.min_sites is not None:
        prob += total >= data.min_sites, "open_at_least"


def add_assignment(
    prob: pulp.LpProblem, z: dict[int, dict[int, pulp.LpVariable]], data: ModelData
) -> None:
    """Every demand point is fully served at every rank: ``sum_j z[i, j, r] = 1``."""
    for r, zr in z.items():
        pairs = np.fromiter(zr.keys(), dtype=np.int64, count=len(zr))
        by_i = groups(data.pair_i[pairs], data.n_demand)
        for i, idx in enumerate(by_i):
            prob += _expr([(zr[int(pairs[q])], 1.0) for q in idx]) == 1, f"assign_{i}_r{r}"


def _vars_by_pair(z: dict[int, dict[int, pulp.LpVariable]]) -> dict[int, list[pulp.LpVariable]]:
    by_pair: dict[int, list[pulp.LpVariable]] = {}
    for zr in z.values():
        for p, var in zr.items():
            by_pair.setdefault(p, []).append(var)
    return by_pair


def add_linking(
    prob: pulp.LpProblem,
    z: dict[int, dict[int, pulp.LpVariable]],
    y: list[pulp.LpVariable],
    data: ModelData,
) -> None:
    """A pair is used (at any rank) only if its site is open: ``sum_r z[p, r] - y_j <= 0``."""
    by_pair = _vars_by_pair(z)
    for p in sorted(by_pair):
        j = int(data.pair_j[p])
        terms = [(v, 1.0) for v in by_pair[p]] + [(y[j], -1.0)]
        prob += _expr(terms) <= 0, f"link_{p}"


def add_domains(
    prob: pulp.LpProblem, z: dict[int, dict[int, pulp.LpVariable]], data: ModelData
) -> None:
    """With redundancy, at most one of a demand point's k sites in each failure domain."""
    if data.redundancy < 2:
        return
    if len(np.unique(data.domain)) == data.n_sites:
        return  # one domain per site: implied by the linking rows
    buckets: dict[tuple[int, int], list[pulp.LpVariable]] = {}
    for zr in z.values():
        for p, var in zr.items():
            key = (int(data.pair_i[p]), int(data.domain[data.pair_j[p]]))
            buckets.setdefault(key, []).append(var)
    for (i, g), vars_ in sorted(buckets.items()):
        if len(vars_) > 1:
            prob += _expr([(v, 1.0) for v in vars_]) <= 1, f"domain_{i}_{g}"


def add_nearer_primary(
    prob: pulp.LpProblem, z: dict[int, dict[int, pulp.LpVariable]], data: ModelData
) -> None:
    """Cost objectives with backups: a demand point's primary is never farther than its backups.

    The cost and weighted objectives charge only the primary's serving cost, so without this
    rule a cheap far site could be primary while a near one stands by (Lima served from 57 ms
    with its 35-ms site as backup). For every backup pair ``(i, j)`` of rank ``r >= 2``::

        z[i, j, r] <= sum of z[i, j', 1] over sites j' at most as far from i as j

    Without capacities the assignment variables are then binary (each point one primary and
    one backup per rank), so the primary is the nearest of the point's sites; with capacities
    (split allocation) the rule holds for the shares.
    """
    if data.redundancy < 2 or data.objective not in ("cost", "weighted"):
        return
    z1 = z[1]
    prim = np.fromiter(z1.keys(), dtype=np.int64, count=len(z1))
    by_i = groups(data.pair_i[prim], data.n_demand)
    for r in range(2, data.redundancy + 1):
        for p, var in sorted(z[r].items()):
            i = int(data.pair_i[p])
            own = prim[by_i[i]]
            nearer = own[data.latency_ms[own] <= data.latency_ms[p] + 1e-9]
            terms = [(var, 1.0)] + [(z1[int(q)], -1.0) for q in nearer]
            prob += _expr(terms) <= 0, f"nearer_primary_{p}_r{r}"


def add_capacity(
    prob: pulp.LpProblem,
    z: dict[int, dict[int, pulp.LpVariable]],
    y: list[pulp.LpVariable],
    data: ModelData,
) -> None:
    """Primary load of a site within its capacity: ``sum_i w_i z[i, j, 1] <= cap_j y_j``.

    Each row is divided by its capacity (by the total weight ``W`` for a site of capacity 0),
    ``sum_i (w_i / cap_j) z[i, j, 1] - y_j <= 0``, and the aggregate row by ``W``: the same
    feasible set with O(1) coefficients (in users they reach 5e7 and the right-hand side 2e9 on
    the world instance, which HiGHS warns about). A row then holds to the solver's feasibility
    tolerance (1e-7) relative to the capacity, not in users.
    """
    if data.capacity is None:
        return
    z1 = z[1]
    pairs = np.fromiter(z1.keys(), dtype=np.int64, count=len(z1))
    by_j = groups(data.pair_j[pairs], data.n_sites)
    total = data.total_weight
    scale_w = total if total > 0 else 1.0
    for j, idx in enumerate(by_j):
        cap = float(data.capacity[j])
        scale = cap if cap > 0 else scale_w
        terms = [
            (z1[int(pairs[q])], float(data.weight[data.pair_i[pairs[q]]]) / scale) for q in idx
        ]
        terms.append((y[j], -cap / scale))
        prob += _expr(terms) <= 0, f"capacity_{j}"
    # Valid inequality: the open sites can hold all demand. Implied by the rows above for
    # integer y, it tightens the LP relaxation a great deal (Cornuejols, Sridharan & Thizy 1991).
    agg = _expr([(y[j], float(data.capacity[j]) / scale_w) for j in range(data.n_sites)])
    prob += agg >= total / scale_w, "capacity_total"


def add_percentile_sla(
    prob: pulp.LpProblem, z: dict[int, dict[int, pulp.LpVariable]], data: ModelData
) -> None:
    """At least ``sla_share`` of the demand weight is served within ``sla_ms`` by its primary.

    In shares of the total weight ``W``: ``sum (w_i / W) z[p, 1] >= sla_share`` over the pairs
    within ``sla_ms`` (coefficients O(1), not users).
    """
    if data.sla_share is None or data.sla_ms is None:
        return
    total = data.total_weight
    scale = total if total > 0 else 1.0
    terms = [
        (var, float(data.weight[data.pair_i[p]]) / scale)
        for p, var in z[1].items()
        if data.latency_ms[p] <= data.sla_ms + 1e-9
    ]
    prob += _expr(terms) >= data.sla_share * total / scale, "percentile_sla"


def add_provider_limits(prob: pulp.LpProblem, y: list[pulp.LpVariable], data: ModelData) -> None:
    """At most the given number of open sites per provider."""
    for code, limit in sorted(data.max_per_provider.items()):
        members = np.flatnonzero(data.provider == code)
        prob += _expr([(y[int(j)], 1.0) for j in members]) <= limit, f"provider_{code}"


def cost_expression(
    y: list[pulp.LpVariable],
    z: dict[int, dict[int, pulp.LpVariable]] | None,
    data: ModelData,
) -> pulp.LpAffineExpression:
    """Annual cost, USD: site fixed costs plus the variable cost of the primary load served."""
    terms = [(y[j], float(data.fixed_usd[j])) for j in range(data.n_sites) if data.fixed_usd[j]]
    if z is not None:
        for p, var in z[1].items():
            i, j = int(data.pair_i[p]), int(data.pair_j[p])
            c = data.variable_usd_per_unit[j] * data.weight[i] + data.pair_cost_usd[p]
            if c:
                terms.append((var, float(c)))
    return _expr(terms)


def latency_expression(
    z: dict[int, dict[int, pulp.LpVariable]], data: ModelData
) -> pulp.LpAffineExpression:
    """Demand-weighted mean latency (ms) of primaries, plus ``backup_weight`` × that of backups."""
    total = data.total_weight
    terms = []
    for r, zr in z.items():
        scale = 1.0 if r == 1 else data.backup_weight
        if scale == 0:
            continue
        for p, var in zr.items():
            c = scale * data.weight[data.pair_i[p]] * data.latency_ms[p] / total
            if c:
                terms.append((var, float(c)))
    return _expr(terms)


def add_budget(prob: pulp.LpProblem, cost: pulp.LpAffineExpression, data: ModelData) -> None:
    """Total annual cost at most the budget."""
    if data.budget_usd is not None:
        prob += cost <= data.budget_usd, "budget"
