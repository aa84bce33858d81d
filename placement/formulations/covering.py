"""Covering formulations: maximal coverage and set cover, deciding only which sites open.

Variables: ``y_j`` ∈ {0, 1}; ``v_ig`` ∈ [0, 1], demand point ``i`` reaches failure domain ``g``
within the SLA (one domain per site unless a failure-domain column groups them); for coverage,
``c_i`` ∈ [0, 1] the covered share of point ``i``.

coverage (maximise the share of demand within ``sla_ms``, solved as minimising its negative)::

    max Σ_i (w_i/W) c_i   s.t.  k c_i ≤ Σ_g v_ig,  v_ig ≤ Σ_{j∈g, d_ij ≤ X} y_j,  site count …

set cover (fewest sites, or cheapest with ``set_cover_by="cost"``, so all demand is covered)::

    min Σ_j y_j  (or Σ_j F_j y_j)   s.t.  Σ_g v_ig ≥ k,  Σ_{j: primary ok} y_j ≥ 1

Assignments are not decided by these models; they are the nearest open sites afterwards.
"""

from __future__ import annotations

import numpy as np
import pulp

from placement.formulations import builders as b
from placement.formulations.data import ModelData

__all__ = ["build_covering_model"]


def build_covering_model(data: ModelData) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """Build the PuLP model for the ``coverage`` and ``set-cover`` objectives.

    Returns
    -------
    (problem, y)
        The minimisation problem and the site variables.
    """
    prob = pulp.LpProblem(f"placement_{data.objective.replace('-', '_')}", pulp.LpMinimize)
    y = b.site_variables(prob, data)
    k = data.redundancy
    if data.objective == "coverage":
        reach = data.primary_ok & (data.latency_ms <= data.sla_ms + 1e-9)
        if k > 1:
            reach = data.backup_ok & reach
    else:
        reach = data.backup_ok if k > 1 else data.primary_ok
    total = data.total_weight
    shares = []
    for i, idx in enumerate(b.groups(data.pair_i[reach], data.n_demand)):
        pairs = np.flatnonzero(reach)[idx]
        by_domain: dict[int, list[int]] = {}
        for p in pairs:
            j = int(data.pair_j[p])
            by_domain.setdefault(int(data.domain[j]), []).append(j)
        v_terms = []
        for g, sites in sorted(by_domain.items()):
            if k == 1:
                v_terms.extend((y[j], 1.0) for j in sites)
                continue
            v = prob.add_variable(f"v_{i}_{g}", lowBound=0, upBound=1)
            prob += pulp.LpAffineExpression([(y[j], 1.0) for j in sites] + [(v, -1.0)]) >= 0
            v_terms.append((v, 1.0))
        if data.objective == "coverage":
            if data.weight[i] <= 0:
                continue
            c = prob.add_variable(f"c_{i}", lowBound=0, upBound=1)
            prob += pulp.LpAffineExpression([*v_terms, (c, -float(k))]) >= 0, f"cover_{i}"
            shares.append((c, -float(data.weight[i] / total)))
        else:
            prob += pulp.LpAffineExpression(v_terms) >= k, f"cover_{i}"
            if k > 1:
                primary = np.flatnonzero(data.primary_ok & (data.pair_i == i))
                prob += pulp.lpSum(y[int(data.pair_j[p])] for p in primary) >= 1, f"prim_{i}"
    if data.objective == "coverage":
        prob += pulp.LpAffineExpression(shares)
    elif data.set_cover_by == "cost":
        prob += pulp.LpAffineExpression(
            [(y[j], float(data.fixed_usd[j])) for j in range(data.n_sites)]
        )
    else:
        prob += pulp.lpSum(y)
    b.add_site_count(prob, y, data)
    b.add_provider_limits(prob, y, data)
    if data.budget_usd is not None:
        b.add_budget(prob, b.cost_expression(y, None, data), data)
    return prob, y
