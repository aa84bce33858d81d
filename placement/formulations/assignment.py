"""Assignment formulations: median, center, cost (fixed-charge) and weighted latency + cost.

Variables: ``y_j`` ∈ {0, 1} open site ``j``; ``z_pr`` ∈ [0, 1] the share of demand point ``i(p)``
served by site ``j(p)`` at rank ``r`` (1 = primary, 2..k = backups); for ``center`` and with
``single_sourcing`` the ``z`` are binary; ``L`` ≥ 0 the worst primary latency (center only).

Objectives (minimised), with ``W = Σ_i w_i`` and ``β`` the backup weight::

    median    Σ_p (w_i/W) d_p z_p1 + β Σ_{r≥2} Σ_p (w_i/W) d_p z_pr      (mean latency, ms)
    center    L,  with  L ≥ Σ_{p∋i} d_p z_p1  for every i                   (worst latency, ms)
    cost      Σ_j F_j y_j + Σ_p (V_j w_i + C_p + λ_u w_i d_p) z_p1          (USD per year)
    weighted  Σ_j F_j y_j + Σ_p (V_j w_i + C_p) z_p1 + λ × median term      (USD per year)

Constraints: ``Σ_{p∋i} z_pr = 1`` for every demand point and rank; ``Σ_r z_pr ≤ y_j`` for every
pair; at most one of a point's k sites per failure domain; under cost and weighted with backups,
no backup nearer than the primary (``builders.add_nearer_primary``); the site count; capacity
``Σ_i w_i z_p1 ≤ cap_j y_j``; percentile SLA ``Σ_{d_p ≤ X} w_i z_p1 ≥ q W``; per-provider limits;
budget ``cost ≤ B``. Pairs outside the hard SLA or residency rules have no variable at all.
"""

from __future__ import annotations

import pulp

from placement.formulations import builders as b
from placement.formulations.data import ModelData

__all__ = ["build_assignment_model"]


def build_assignment_model(
    data: ModelData,
) -> tuple[pulp.LpProblem, list[pulp.LpVariable], dict[int, dict[int, pulp.LpVariable]]]:
    """Build the PuLP model for the median, center, cost and weighted objectives.

    Returns
    -------
    (problem, y, z)
        The minimisation problem, the site variables and ``z[rank][pair] -> variable``.
    """
    prob = pulp.LpProblem(f"placement_{data.objective}", pulp.LpMinimize)
    y = b.site_variables(prob, data)
    # with backups under a cost objective, each point picks one primary and one backup so that
    # the nearer-primary rule (builders.add_nearer_primary) holds per point, not only per share;
    # without capacities an optimal assignment is integral anyway
    binary = (
        data.single_sourcing
        or data.objective == "center"
        or (
            data.redundancy > 1 and data.objective in ("cost", "weighted") and data.capacity is None
        )
    )
    cat = pulp.LpBinary if binary else pulp.LpContinuous
    z: dict[int, dict[int, pulp.LpVariable]] = {}
    for r in range(1, data.redundancy + 1):
        ok = data.primary_ok if r == 1 else data.backup_ok
        z[r] = {
            int(p): prob.add_variable(f"z_{int(p)}_r{r}", lowBound=0, upBound=1, cat=cat)
            for p in ok.nonzero()[0]
        }

    latency = b.latency_expression(z, data)
    cost = b.cost_expression(y, z, data)
    if data.objective == "median":
        prob += latency
    elif data.objective == "center":
        worst = prob.add_variable("L", lowBound=0)
        prob += worst
        pairs_by_i = b.groups(data.pair_i, data.n_demand)
        z1 = z[1]
        for i, idx in enumerate(pairs_by_i):
            terms = [(z1[int(p)], float(data.latency_ms[p])) for p in idx if int(p) in z1]
            terms.append((worst, -1.0))
            prob += pulp.LpAffineExpression(terms) <= 0, f"worst_{i}"
    elif data.objective == "cost":
        penalty = data.latency_penalty_usd_per_unit_ms
        if penalty:
            extra = [
                (var, float(penalty * data.weight[data.pair_i[p]] * data.latency_ms[p]))
                for p, var in z[1].items()
            ]
            prob += cost + pulp.LpAffineExpression(extra)
        else:
            prob += cost
    elif data.objective == "weighted":
        prob += cost + data.latency_weight_usd_per_ms * latency
    else:  # pragma: no cover - Problem validates the objective
        raise ValueError(f"not an assignment objective: {data.objective}")

    b.add_site_count(prob, y, data)
    b.add_assignment(prob, z, data)
    b.add_linking(prob, z, y, data)
    b.add_domains(prob, z, data)
    b.add_nearer_primary(prob, z, data)
    b.add_capacity(prob, z, y, data)
    b.add_percentile_sla(prob, z, data)
    b.add_provider_limits(prob, y, data)
    b.add_budget(prob, cost, data)
    return prob, y, z
