"""Exact median placement with redundancy k ≥ 2 by column generation on the strong formulation.

Model
-----
The same model as :mod:`placement.formulations.assignment` for ``objective="median"``: ``y_j``
binary (site open), ``z_pr`` ∈ [0, 1] (pair ``p = (i, j)`` serves demand ``i`` at rank ``r``;
rank 1 needs ``primary_ok``, ranks 2..k need ``backup_ok``), minimising
``Σ_p (w_i/W) d_p (z_p1 + β Σ_{r≥2} z_pr)`` subject to

    Σ_{p∋i} z_pr = 1                 (i, r)      assignment, dual u_ir (free)
    Σ_{p∋i, j(p)∈g} Σ_r z_pr ≤ 1     (i, g)      failure domain, dual σ_ig ≤ 0
    Σ_r z_pr − y_j ≤ 0               p           linking, dual π_p ≤ 0
    Σ_j y_j  = N (or ≤ / ≥)                      site count

A domain row exists only where demand ``i`` has two or more candidate pairs in domain ``g``: with
one, its ``Σ_r z_pr ≤ 1`` follows from the pair's linking row and ``y_j ≤ 1`` (its dual is 0
wherever the bounds below read it). With the demo's 84 city domains that leaves 10,800 of 26,800
(demo solve CPU 5.4 to 4.4 s); with the world instance's 3 providers every row stays.

Column generation
-----------------
The LP is solved on a restricted set of pairs (for each demand, the few nearest allowed sites of
every failure domain) with HiGHS. A pair ``p`` outside the set enters with its columns ``z_pr`` and
its linking row. Extending the restricted LP's optimal duals with ``π_p = 0`` for the missing
linking rows (and ``σ_ig = 0`` for missing domain rows) keeps complementary slackness (the
missing columns are 0, so the missing rows are slack or tight with a zero multiplier), so the
extended duals are optimal for the full LP iff every missing column has reduced cost

    rc_pr = c_pr − u_ir − σ_{i,g(j)} ≥ 0          (HiGHS: col_dual = c − Aᵀ row_dual).

A site whose ``y_j`` is nonbasic at 0 can absorb the deficits of its omitted pairs: choosing
``π_p = min(0, min_r rc_pr) ≤ 0`` makes those columns dual feasible and lowers ``y_j``'s reduced
cost by the total deficit, leaving the dual objective unchanged (its bound is 0); pairs of such a
site enter only when the total deficit exceeds ``y_j``'s reduced cost, and then only those of
largest deficit until the rest fits in it (``_ABSORB_SHARE``). At every other site each
pair with a negative reduced cost enters (all of them: filtering them by Wentges dual
smoothing was measured slower on the world instance once demand points are aggregated). The
LP is re-solved warm until nothing enters (primal simplex, since added columns keep the basis
primal feasible; dual simplex after a round that added ``_DUAL_RESOLVE_MIN_PAIRS`` or more, where
HiGHS's primal simplex was measured far slower per iteration); the extended duals are then
feasible for the full LP and the restricted optimum is the full LP optimum ``LB``. A pair that
enters at an absorbing site gets the basis of the extended duals (:meth:`_Solver._absorbed_basis`:
its linking row nonbasic, its cheapest column basic at 0, so ``π_p`` is its deficit), not
HiGHS's extension of the basis (the new row's slack basic, ``π_p = 0``, the pair's columns dual
infeasible): only ``y_j``'s reduced cost is left to fall below 0 when the deficits exceed it.
World N = 6, SLA 120 ms: 56 pricing rounds instead of 91, the point's CPU 53.8 s instead of
120.5 s with the same optimum (medians of 3 side by side, load 8-19); N = 7 at SLA 120 ms 0.88
of its CPU, N = 8 at SLA 160 ms 1.05 (its site branching takes another path).

Every round also computes two Lagrangian bounds from the current duals (sign-clamped); each is a
valid lower bound at any time, so pricing stops early once an incumbent (an integral LP ``y``,
evaluated exactly) meets the larger within ``gap_rel``, and a time-limited run reports it:

* relax every row but the assignment rows (:meth:`_Solver._lagrangian_bound`);
* relax the assignment and domain rows and keep the linking and site-count rows
  (:meth:`_Solver._count_bound`): every site ``j`` gets ``ρ_j``, the sum of its pairs' negative
  reduced costs over the full candidate set, and the bound is ``Σ u + Σ σ`` plus the allowed
  number of smallest ``ρ``. That is the LP dual function at the master's assignment and domain
  duals, so it is at least the first at the same duals and equals the LP optimum once pricing
  has converged. On the world instance (cities ≥ 100,000, optimum 55.44 ms) it is 97, 30, 11 and
  2.7 ms above the first in rounds 1-4 (34.8, 48.0, 52.3, 53.9 ms) and 0.07 ms at round 8, but
  reaches the incumbent in the same round: the restricted master's duals are degenerate (its LP
  has integral ``y`` in every round and equals the optimum from round 2-3 on), and the bound is
  only as good as they are. 200 subgradient steps from them (7 ms each) still left it 0.4 ms
  below the optimum at round 3, so none are taken.

Screening
---------
The Lagrangian function ``L(x)`` at those multipliers is a sum of nonnegative excesses over its
minimum ``L*`` (one per assignment row: the chosen column's Lagrangian cost above the row's
cheapest; one per site: ``y_j``'s term above its minimum) and ``c·x ≥ L(x)`` for every feasible
``x``. So a solution that uses column ``z_pr`` at site ``j`` costs at least ``L* + excess_pr +
excess_j(1)``, and every solution cheaper than the incumbent ``UB`` uses only columns with
``excess_pr + excess_j(1) < UB − L*``. When few of those pairs are missing from the master
(``_SCREEN_MIN_PAIRS``, or a ``_SCREEN_SHARE`` of the pairs in it; ``_SCREEN_STALLED_SHARE`` once
the master's LP value equals the incumbent, when pricing can only raise the bound), they all
enter. From then on
the master's LP value over a superset of the kept columns, capped at that ``UB``, is a lower
bound on the optimum (of the integer problem, not of the full LP), so the solve can stop before
pricing has converged. On the world instance
this ends the pricing tail, dozens of rounds in which one or two pairs enter while the
Lagrangian bound creeps to within 1e-8 of the incumbent. The count bound's excess (the
column's reduced cost above its pair's share of ``ρ_j``, plus ``ρ_j`` above the largest ``ρ`` of
the best open set) screens too: the pairs kept by both bounds enter as soon as no more than
``_SCREEN_BOTH_SHARE`` of the master's pairs are missing (the demo: round 1, 2,837 pairs, where
the linking bound alone kept 14,326 and its stalled share added 16,075 to a 26,800-pair master
for a 3-s re-solve; demo solve CPU 5.1 to 1.7 s). The world instance never gets there before
the linking bound's stalled share; with ``_SCREEN_COUNT = 1`` that screening too takes both,
which screened earlier there (round 7-8 instead of 9-10) with a re-solve that cost more than
the rounds it saved (and so did a both-bound share of 0.7 or 0.95 in place of 0.25).

Start: with redundancy 2 and at most ``_DomainSearch.MAX_DOMAINS`` failure domains, greedy
addition and best-improvement interchange on every (aggregated) demand point with a vectorised
swap evaluator (:class:`_DomainSearch`: per domain the best and second-best primary and backup
latency, and per demand the three best domains, so all swaps closing one site cost a few
``n × m`` numpy operations whatever the number of domains (up to 512); at most
``_DOMAIN_SEARCH_MOVES`` swaps, a count, the deadline only as a safety stop). On the world
instance it ends at the optimum (greedy 56.37 ms, two swaps to 55.437782) in 0.2 CPU s, where
the former start (below) took about 2 CPU s for 0.2 % above it; without the sample column
generation the whole exact solve took 12.7 instead of 18.3 CPU s (median of 3, side by side,
load 11-13). Otherwise: greedy + first-improvement swaps on a weighted sample of 300 demand
points and, with more than 600 points, the same column generation on a weighted sample of 600
points, started from the greedy set. When the time limit is spent once the start is known, it is
returned (``feasible``, no bound) without building the LP.
A feasible warm start (``initial_open``: a sweep's neighbouring point, re-counted by
:func:`placement.formulations.warm.repair_start`, which ignores backups) replaces the greedy but
not the interchange: with ``_DomainSearch`` it runs from the warm start, and the LP rounding uses
it too (before, a warm-started point priced from the start as given and rounded the LP with the
first-improvement swaps; world N = 8, SLA 190 ms started from the optimum with one site
swapped, 69.10 ms: one swap to the optimum, 21.1 to 16.0 CPU s at load 8-9).
Interchanges that start from a given set (the warm start, the feasibility MIP's padded cover,
the LP rounding) are *strict*: a missing rank costs more than every feasible assignment together,
so a feasible set never turns infeasible and an infeasible one is repaired first. With the
plain penalty, weighted by the demand point, closing the only site within a small town's SLA
paid off: world N = 6, SLA 120 ms rounded its LP to an infeasible 87.67 ms and priced from the
padded cover (113.86 ms) to an incumbent of 104.15 ms; strict, the cover's interchange gives
103.45 ms and the rounding the optimum 103.41 ms (N = 7: 82.15 ms at the start instead of
82.43, optimum 82.14). A warm start that breaks the SLA (in a sweep, the optimum of the looser neighbour in the
same SLA group: had it met this SLA, the point would have been reused) is repaired the same way
instead of being dropped for the cold start.
The initial pairs are the nearest allowed site per domain and rank kind of every demand point
plus every pair at the incumbent's sites (without those the world instance took 102 rounds and
six times the CPU; with every pair closer than the incumbent's assignment, 34,000 more, the
first LP alone cost 11 CPU s). Each assignment row also has
an artificial column of large cost so the restricted LP is always feasible; if artificials are
still used when pricing stops, all pairs are added and the artificials removed, so infeasibility
is decided on the full LP.

Demand aggregation
------------------
Before any of this, demand points that every open set serves identically are merged (same
reachable sites and permissions, latency rows equal up to a constant: cities behind the same
backbone node under the route model); see :class:`_Aggregation`. On the world instance (3,039
cities ≥ 100,000 people) this leaves 1,909 points. The answer is evaluated on the original points.

Integrality and proof
---------------------
For fixed integer ``y`` the ``z`` polytope of one demand is a network flow (ranks → sites →
domains, unit capacities), so it has integral optimal vertices and the exact cost of an open set
is computed combinatorially (:meth:`_Evaluator.cost`: every primary candidate plus the ``k − 1``
nearest backups in other domains, at most one per domain). Hence:

* if the LP optimum has integral ``y``, its value equals the exact cost of that open set, and
  ``LB`` proves it optimal;
* otherwise an incumbent of value ``UB`` comes from LP rounding + swap search. For any feasible
  ``x`` of the full model and the (extended) optimal duals, ``c·x = LB + Σ rc·x + Σ |dual|·slack
  ≥ LB + rc_col · x_col`` for every column at its lower bound. An optimal solution can be taken
  with integral ``z``; a column ``z_pr`` (or ``y_j`` at 0) it uses with ``rc > UB − LB`` would make
  its value exceed ``UB``. A column ``z_pr`` used at site ``j`` also has ``y_j = 1``, and both
  terms count (distinct columns): ``c·x ≥ LB + rc_pr + max(rc_yj, 0)``. So the MIP restricted to
  the columns with ``rc_pr + max(rc_yj, 0) ≤ UB − LB`` whose excess over each Lagrangian bound
  at the same duals (see "Screening") is at most ``UB`` minus that bound (all ``y``, sites with
  ``rc_y > UB − LB`` fixed closed, open sites with ``−rc_y > UB − LB`` fixed open; the master's
  other columns fixed at 0) contains an optimal solution of the full problem, and its proven
  optimum (HiGHS MIP) is the full optimum. When the MIP stops at a time limit the reported
  bound is ``max(LB, min(MIP bound, UB))``, valid for the same reason. On the world instance at
  N = 8, SLA 160 ms (LP 63.6998, optimum 64.0993 ms) the filter by ``rc_pr`` alone kept 238,834
  of 240,174 pairs (404,078 columns); with the site's reduced cost and both Lagrangian excesses
  89,421 pairs (153,166 columns). The incumbent before the MIP comes from rounding the LP's
  ``y`` and, with ``_DomainSearch``, its vectorised interchange (there: 64.1003 in 0.01 s, where
  first-improvement swaps with exact evaluations took 21 s for 64.1082), so HiGHS's RENS, RINS
  and root reduced-cost sub-MIPs are off (``_MIP_HEURISTICS_OFF``; there 144 to 90 CPU s).

Site branching
--------------
Before the HiGHS MIP, the filtered model is branched on the sites (:meth:`_Solver._branch`):
every node is its LP with some ``y_j`` fixed, re-solved by the dual simplex from the parent's
basis and cut off at the incumbent (HiGHS's ``objective_bound``: the dual simplex stops once its
exact dual objective reaches it); the node's branching site comes from strong branching over its
most fractional sites (the first with a child at the incumbent wins, so the node does not
split), best bound first; an integral node is evaluated exactly. The filtered model contains an
optimal solution, so the closed tree proves the incumbent (or a better integral node) optimal;
a time limit reports the smallest open node's value. After ``_BRANCH_MAX_LPS`` LP solves the
HiGHS MIP takes over with the tree's bound. Why: HiGHS re-solves the root LP from scratch (it
takes no basis for a MIP) and computes an analytic centre (an IPM on the whole presolved
model; no option turns it off in HiGHS 1.16) before its cuts; on the world instance at N = 6,
SLA 120 ms (LP 97.40, optimum 103.41 ms: 5.8 % gap, ~190,000 pairs kept) that was ~77 % of the
point's CPU, while the LP there is half-integral (eight sites at 0.5) and one branching site
closes it: ``y = 0`` gives 103.41 (integral), ``y = 1`` 105.39.

The filtered model's root LP has the master's value (the entering pairs are dual feasible under
the extended duals), but HiGHS extends a basis with the new linking rows' slacks basic, i.e.
``π_p = 0``, which leaves every entering pair whose deficit a closed site absorbed dual
infeasible: the first solve took 29,346 dual simplex iterations at N = 8, SLA 160 ms and 97,245
(32 CPU s) at N = 6, SLA 120 ms. Such a pair's linking row is made nonbasic and its cheapest
column basic instead (:meth:`_Solver._absorbed_basis`, as in the pricing rounds): the basis of
the extended duals, optimal as it stands (7 iterations at N = 8).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import highspy
import numpy as np

from placement._highs import new_highs
from placement.errors import SolverError
from placement.formulations._gap import rel_gap
from placement.formulations._rows import unique_bool_rows
from placement.formulations.data import ModelData

__all__ = ["RedundantSolution", "solve_redundant_median"]

_MS = highspy.HighsModelStatus
_SAMPLE_SIZE = 600  # instances with more demand points first solve a weighted sample for a start
_INF = highspy.kHighsInf
_PER_DOMAIN = 1  # initial pairs: nearest allowed sites per domain and rank kind
# a re-solve after at least this many pairs entered uses the dual simplex: HiGHS's primal simplex
# took 0.54 ms an iteration there on the world instance against the dual's 0.06-0.25 ms (8.5 s
# against 4.2 s for the round after 9,298 pairs entered); with few pairs the primal one is faster
# (0.06 s against about 1 s a round in the tail). Rounds that add 1,000-5,000 pairs (rounds 2-3
# on the world instance: 3,142 and 2,848) are cheaper with the primal one: 5,000 instead of 1,000
# took the whole solve from 15.8 / 14.9 to 13.3 / 12.7 CPU s (two side-by-side pairs, load 8-12);
# 3,000 and 12,000 were no better
_DUAL_RESOLVE_MIN_PAIRS = 5000
# screening adds the pairs it cannot exclude when no more are missing than this many, this share
# of the pairs in the master, or what pricing adds anyway; negative: no screening. On the world
# instance 9,000-20,000 were missing (of ~40,000 in the master) when the Lagrangian bound was
# within 1e-4 of the incumbent (small demand weights give small reduced costs), and adding 9,600
# cost one re-solve of about a second; on the 1,000,000 instance adding 17,600 to 6,900 cost
# more than the pricing rounds it saved
_SCREEN_MIN_PAIRS = 2000
_SCREEN_SHARE = 0.25
# the share once the master's LP value equals the incumbent (the optimum is found, only the proof
# is missing). On the world instance (cities ≥ 100,000) the Lagrangian bound then stalled 3e-5
# below the incumbent for 20+ rounds (a site basic at 0 in a degenerate LP, one pair of it
# entering a round) with 15,000-50,000 pairs missing of ~40,000: with 1.5 screening ends pricing
# at round 13 instead of 44 (CPU 13.2-13.7 s against 17.6-17.8 s, same optimum; 3.0 screened at
# round 9 but the bigger re-solve cost 16-17 s)
_SCREEN_STALLED_SHARE = 1.5
# ... and only once the master's LP value has equalled the incumbent for this many rounds in a row:
# a first round at the incumbent whose bound is still loose (the demo after the session-8 access
# refit: Lagrangian 0.41 % below, 16,080 pairs screened in, a 2.6-s re-solve of 19,414
# iterations) prices once more instead, which tightens the bound enough for the both-bound
# screening
_SCREEN_STALLED_ROUNDS = 2
# 1: the screening by the caps above also excludes pairs by the site-count bound
# (:meth:`_Solver._count_bound`), 0: by the linking-row bound only (the both-bound screening of
# _SCREEN_BOTH_SHARE is tried first either way). The count bound keeps fewer pairs, so the world instance screened
# at round 10 instead of 13, but the bigger re-solve (45,000 pairs added to 75,000) cost more
# than the three rounds saved (CPU 15.6-15.9 s against 12.7-13.3 s); the bound is used either way
_SCREEN_COUNT = 0
# before that, the pairs kept by both bounds enter once no more are missing than this share of
# the master's pairs (or _SCREEN_MIN_PAIRS); negative: never. The demo (84 city domains, 458
# points) screens at round 1 with 2,837 pairs (the linking bound alone kept 14,326 missing, and its
# stalled share took 16,075 into a 26,800-pair master: a 3-s re-solve); the world instance
# (3 domains) never gets there before the linking bound's stalled share (round 9, unchanged)
_SCREEN_BOTH_SHARE = 0.25
# at a site whose y_j is nonbasic at 0 and cannot absorb its omitted pairs' total deficit, the
# pairs of largest deficit enter until the rest is at most this share of y_j's reduced cost (at
# most 1: with more, the rest would not be absorbed and pricing could stop too early), while the
# master's LP value equals the incumbent. 1 enters the fewest pairs: on the world instance
# (N = 10, SLA 150 ms; LP at the incumbent from round 1) 25 cheaper rounds instead of 10 with
# 0.5 (HiGHS's primal re-solves cost per pair entered), solve CPU 10.9 to 8.8-8.9 s (side by
# side, load 10; 0.8: 16 rounds, 9.2 s); N = 8, SLA 190 ms 19.0 to 15.1 s; N = 16, SLA 190 ms
# 15.4 to 17.1 s (29 rounds instead of 12)
_ABSORB_SHARE = 1.0
# the share otherwise (the LP below the incumbent), and after _ABSORB_SHARE_ROUNDS rounds: at
# N = 8, SLA 160 ms 1.0 took 199 pricing rounds (111 CPU s against 93 s with 0.5)
_ABSORB_SHARE_FRACTIONAL = 0.5
_ABSORB_SHARE_ROUNDS = 30


# swaps of the start's interchange (a count, so the start does not depend on the machine's load;
# the deadline is only a safety stop). The world instance reaches its local optimum in 2
_DOMAIN_SEARCH_MOVES = 50

# HiGHS MIP heuristics switched off for the MIP after pricing (see _Solver._mip)
_MIP_HEURISTICS_OFF = (
    "mip_heuristic_run_rens",
    "mip_heuristic_run_rins",
    "mip_heuristic_run_root_reduced_cost",
)

# site branch and bound after pricing (_Solver._branch): strong branching on at most this many
# of a node's most fractional sites, and at most this many LP solves before the HiGHS MIP takes
# over (a count, so the path does not depend on the machine's load)
_BRANCH_CANDIDATES = 8
# ... stopping once this many candidates in a row did not beat the best so far
_BRANCH_LOOKAHEAD = 3
_BRANCH_MAX_LPS = 200

#: Pricing rounds before column generation is declared stuck (SolverError).
_MAX_PRICING_ROUNDS = 100_000


@dataclass(frozen=True)
class RedundantSolution:
    """Result of :func:`solve_redundant_median`.

    Attributes
    ----------
    status : str
        ``"optimal"`` (proven), ``"feasible"`` (stopped by the time limit with an incumbent),
        ``"infeasible"`` or ``"no_solution"``.
    objective : float
        ``Σ_i (w_i/W)(d_primary + β Σ d_backup)`` of the returned solution (``inf`` if none).
    best_bound : float
        Proven lower bound on the optimum (same unit).
    gap : float
        Relative gap (0 when proven optimal, ``inf`` without a solution).
    open_sites : numpy.ndarray of int
        Sorted indices of the open sites.
    rows : list of (pair index, rank, demand index, share)
        The assignment (shares are 1).
    build_s, solve_s : float
        Seconds to prepare the data and initial LP, and in the LP/MIP solves and pricing.
    n_vars, n_rows : int
        Size of the final HiGHS model.
    message : str
        Why the problem is infeasible or how the solve stopped.
    lp_bound : float
        Optimum of the full LP relaxation (``nan`` if not reached).
    n_pricing_rounds : int
        Column generation rounds.
    used_mip : bool
        Whether the LP was fractional and the reduced-cost-filtered MIP ran.
    n_demand_solved : int
        Demand points in the model after merging identical ones (see ``aggregate``).
    warm_start : bool
        Whether the given ``initial_open`` was used as the starting incumbent.
    screened : bool
        Whether a screening brought every pair a better solution could use into the master
        (module docstring, "Screening"), so the bound no longer waits for pricing to converge.
    n_branch_lps : int
        LP solves of the site branch and bound on the filtered model (0: not needed).
    """

    status: str
    objective: float
    best_bound: float
    gap: float
    open_sites: np.ndarray
    rows: list[tuple[int, int, int, float]] = field(default_factory=list)
    build_s: float = 0.0
    solve_s: float = 0.0
    n_vars: int = 0
    n_rows: int = 0
    message: str = ""
    lp_bound: float = math.nan
    n_pricing_rounds: int = 0
    used_mip: bool = False
    n_demand_solved: int = 0
    warm_start: bool = False
    screened: bool = False
    n_branch_lps: int = 0


@dataclass(frozen=True)
class _Duals:
    """One LP solve's duals as the pricing and the bounds use them (see :class:`_Solver`)."""

    row_dual: np.ndarray
    col_dual_y: np.ndarray  # reduced costs of the site columns
    u: np.ndarray  # (n, k) assignment-row duals
    sig_cl: np.ndarray  # domain-row duals by (demand, domain) key, clamped to ≤ 0, 0 if no row
    rc: np.ndarray  # (candidates, k) reduced costs c − u − σ (σ as HiGHS gives it)
    rc_cl: np.ndarray  # the same with σ clamped
    worst: np.ndarray  # row minimum of rc
    worst_cl: np.ndarray  # row minimum of rc_cl


@dataclass(frozen=True)
class _Aggregation:
    """Demand points merged into classes that any open set serves identically.

    Two demand points fall in one class when they reach the same sites with the same
    primary/backup permissions and latency rows that differ by a constant (``lat_i = a_i + r``):
    every open set then gives them the same sites at every rank, and the weighted cost of the
    class is ``Σ_i w_i (a_i (1 + (k − 1) β) + r_1 + β Σ r_b) = W (ā (1 + (k − 1) β) + …)`` with
    ``W = Σ w_i`` and ``ā`` the weighted mean offset, so the class is one demand point of weight
    ``W`` and latencies ``r + ā``. Rows are compared after rounding ``r`` to ``_AGG_DECIMALS``
    decimals; ``slack`` bounds what the rounding can move the objective (it is subtracted from
    the bound).
    """

    data: ModelData
    slack: float


_AGG_DECIMALS = 9  # ms; rows equal to 1e-9 ms are merged (the slack is reported in the bound)


def _aggregate(data: ModelData) -> _Aggregation | None:
    """Merge demand points with identical rows up to a constant; ``None`` if none merge."""
    from placement.formulations._demand_classes import demand_classes

    dc = demand_classes(data, _AGG_DECIMALS)
    if dc is None:
        return None
    n, n_cls, pi, pj = data.n_demand, dc.n_classes, dc.pi, dc.pj
    keep = np.isin(pi, dc.rep)
    new_index = np.full(n, -1, dtype=np.int64)
    new_index[dc.rep] = np.arange(n_cls)
    ci = new_index[pi[keep]]
    # rounding slack: |r_i − r_rep| ≤ dev_i on every pair, times the rank weights
    rel_rep = np.full((n_cls, data.n_sites), np.nan)
    rel_rep[ci, pj[keep]] = dc.rel[keep]
    slack = dc.slack(data, rel_rep[dc.cls[pi], pj])
    sub = replace(
        data,
        n_demand=n_cls,
        weight=dc.weight,
        pair_i=ci,
        pair_j=pj[keep],
        latency_ms=dc.rel[keep] + dc.a_bar[ci],
        pair_cost_usd=data.pair_cost_usd[dc.order][keep],
        primary_ok=dc.po[keep],
        backup_ok=dc.bo[keep],
    )
    return _Aggregation(sub, slack)


class _Evaluator:
    """Exact cost of an open set (dense latency arrays, penalties for unserved ranks)."""

    def __init__(self, data: ModelData, scale_w: np.ndarray, usable: np.ndarray) -> None:
        n, m = data.n_demand, data.n_sites
        self.k = data.redundancy
        self.beta = float(data.backup_weight)
        self.dom = np.asarray(data.domain, dtype=np.int64)
        self.w = scale_w
        pi, pj, lat = data.pair_i, data.pair_j, data.latency_ms
        big = float(lat.max(initial=1.0)) * 10.0 + 1000.0
        self.penalty = big
        self.lp = np.full((n, m), big)
        ok = data.primary_ok & usable
        self.lp[pi[ok], pj[ok]] = lat[ok]
        self.lb = np.full((n, m), big)
        ok = data.backup_ok & usable
        self.lb[pi[ok], pj[ok]] = lat[ok]
        self.pair_index = np.full((n, m), -1, dtype=np.int64)
        self.pair_index[pi, pj] = np.arange(len(pi))

    def _parts(
        self, sites: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per demand: cost with each open site as primary, and the backup choice behind it.

        Backups are the ``k − 1`` nearest backup-allowed open sites in distinct domains other than
        the primary's, at most one per domain (the nearest of that domain). Missing ranks are
        counted and priced with a penalty above any feasible cost.
        """
        n = self.lp.shape[0]
        doms, g_of = np.unique(self.dom[sites], return_inverse=True)
        nd = len(doms)
        need = self.k - 1
        lb = self.lb[:, sites]
        if nd == len(sites):
            b = lb[:, np.argsort(g_of)]
            b_site = np.broadcast_to(sites[np.argsort(g_of)], b.shape)
        else:
            order = np.argsort(g_of, kind="stable")
            starts = np.r_[0, np.flatnonzero(np.diff(g_of[order])) + 1]
            sub = lb[:, order]
            b = np.minimum.reduceat(sub, starts, axis=1)
            b_site = np.empty((n, nd), dtype=np.int64)
            for q in range(nd):
                cols = order[g_of[order] == q]
                a = np.argmin(lb[:, cols], axis=1)
                b_site[:, q] = sites[cols[a]]
        # k smallest domain values per demand (and which domains they are)
        kk = min(self.k, nd)
        top = np.argsort(b, axis=1, kind="stable")[:, :kk]
        vals = np.take_along_axis(b, top, axis=1)
        missing_val = vals >= self.penalty
        # excluding the primary's domain q: if q is among the first need, use the first `need`
        # of the remaining k; otherwise the first `need`
        first = vals[:, :need].sum(axis=1)
        first_miss = missing_val[:, :need].sum(axis=1) + max(0, need - min(need, kk))
        in_top = top[:, :need][:, :, None] == g_of[None, None, :]  # (n, need, |S|)
        hit = in_top.any(axis=1)  # primary's domain among the first need
        hit_val = np.where(in_top, vals[:, :need, None], 0.0).sum(axis=1)
        if kk > need:
            extra_val, extra_miss = vals[:, need], missing_val[:, need].astype(np.int64)
        else:
            extra_val, extra_miss = np.full(n, self.penalty), np.ones(n, dtype=np.int64)
        hit_miss = np.where(in_top, missing_val[:, :need, None], False).sum(axis=1)
        back = np.where(hit, first[:, None] - hit_val + extra_val[:, None], first[:, None])
        nmiss = np.where(
            hit, first_miss[:, None] - hit_miss + extra_miss[:, None], first_miss[:, None]
        )
        prim = self.lp[:, sites]
        miss_total = (prim >= self.penalty).astype(np.int64) + nmiss
        cost = prim + self.beta * back + self.penalty * 2.0 * miss_total
        return cost, miss_total, b, b_site, doms

    def subset(self, rows: np.ndarray) -> _Evaluator:
        """The same evaluator on a subset of the demand points."""
        sub = object.__new__(_Evaluator)
        sub.__dict__.update(self.__dict__)
        sub.lp, sub.lb, sub.w = self.lp[rows], self.lb[rows], self.w[rows]
        sub.pair_index = self.pair_index[rows]
        return sub

    def cost(self, sites: np.ndarray) -> tuple[float, bool]:
        """Weighted cost (internal scale) and feasibility of opening ``sites``."""
        sites = np.asarray(sites, dtype=np.int64)
        if len(sites) == 0:
            return math.inf, False
        cost, miss, *_ = self._parts(sites)
        a = np.argmin(cost, axis=1)
        rr = np.arange(len(a))
        feasible = bool((miss[rr, a] == 0).all())
        return float(self.w @ cost[rr, a]), feasible

    def rows(self, sites: np.ndarray) -> list[tuple[int, int, int, float]]:
        """Optimal assignment rows (pair, rank, demand, 1.0) for a feasible open set."""
        sites = np.asarray(sites, dtype=np.int64)
        cost, _, b, b_site, doms = self._parts(sites)
        a = np.argmin(cost, axis=1)
        n = cost.shape[0]
        rr = np.arange(n)
        dom_idx = np.searchsorted(doms, self.dom[sites])
        b = np.asarray(b)
        bb = b.copy()
        bb[rr, dom_idx[a]] = np.inf  # not the primary's domain
        order = np.argsort(bb, axis=1, kind="stable")[:, : self.k - 1]
        prim = self.pair_index[rr, sites[a]]
        # per demand: the primary, then its backups in rank order where they exist (as a loop
        # over the demand points and their ranks would list them)
        parts_p = [prim]
        parts_r = [np.ones(n, dtype=np.int64)]
        parts_i = [rr]
        for r in range(order.shape[1]):
            q = order[:, r]
            ok = b[rr, q] < self.penalty
            parts_p.append(self.pair_index[rr[ok], b_site[rr[ok], q[ok]]])
            parts_r.append(np.full(int(ok.sum()), r + 2, dtype=np.int64))
            parts_i.append(rr[ok])
        pp, rk, ii = (np.concatenate(x) for x in (parts_p, parts_r, parts_i))
        seq = np.lexsort((rk, ii))
        return [
            (p, r, i, 1.0)
            for p, r, i in zip(pp[seq].tolist(), rk[seq].tolist(), ii[seq].tolist(), strict=True)
        ]


class _DomainSearch:
    """Greedy + best-improvement interchange with a vectorised swap evaluator (``k = 2``).

    With redundancy 2 the cost of an open set for a demand point depends, per failure domain
    ``q``, only on the best primary latency ``P_q`` and the best backup latency ``B_q`` among
    the open sites of ``q``: the primary of domain ``q`` is its nearest open primary-allowed
    site, the backup the smallest ``B`` of another domain, whichever site of ``q`` is the
    primary, so the cost is ``min_q (P_q + β min_{d≠q} B_d)``. Opening site ``c`` of domain
    ``q`` only lowers ``P_q``, ``B_q``; closing ``a`` only raises those of its domain to the
    second best. Keeping the best and second best per domain, all the swaps that close one
    site are priced at once with a few ``n × m`` numpy operations (no open set is re-evaluated),
    a full neighbourhood in ``p`` of them. Unserved ranks cost the penalties of
    :meth:`_Evaluator.cost` (``x + 2·big`` for a missing value ``x = big``), which are monotone
    in the latency, so mins commute with them and costs equal :meth:`_Evaluator.cost` exactly.
    """

    #: at most this many failure domains (per-domain arrays are n × domains; a swap is priced in
    #: O(n) per candidate domain through each row's three best domains)
    MAX_DOMAINS = 512

    def __init__(self, ev: _Evaluator, dom: np.ndarray, n_dom: int, strict: bool = False) -> None:
        big = ev.penalty
        self.dom = np.asarray(dom, dtype=np.int64)
        self.nd = max(n_dom, 2)  # an empty second domain when there is one
        self.w = ev.w
        # effective values: primary x -> x + 2 big [x ≥ big], backup y -> β y + 2 big [y ≥ big]
        pen: float | np.ndarray = 2.0 * big
        if strict:
            # feasibility first: a missing rank of any demand point costs more (weighted) than
            # every feasible assignment together (rows of weight 0 keep the plain penalty)
            total = 4.0 * big * (1.0 + ev.beta) * float(np.sum(ev.w)) + 1.0
            w = np.asarray(ev.w, dtype=float)
            pen = np.maximum(2.0 * big, np.divide(total, w, out=np.zeros_like(w), where=w > 0))
            pen = pen[:, None]
        self.elp = ev.lp + pen * (ev.lp >= big)
        self.elb = ev.beta * ev.lb + pen * (ev.lb >= big)
        self.empty_p = math.inf  # a domain without an open site has no primary
        self.empty_b = ev.beta * big + pen

    @staticmethod
    def applies(ev: _Evaluator, n_dom: int) -> bool:
        return ev.k == 2 and n_dom <= _DomainSearch.MAX_DOMAINS

    def _best(self, sites: np.ndarray, lat: np.ndarray, empty: float) -> tuple[np.ndarray, ...]:
        """Per demand and domain: best and second-best value over ``sites``, and the best site."""
        n = lat.shape[0]
        v1 = np.full((n, self.nd), empty)
        v2 = np.full((n, self.nd), empty)
        s1 = np.full((n, self.nd), -1, dtype=np.int64)
        for j in sites.tolist():
            q = self.dom[j]
            x = lat[:, j]
            better = x < v1[:, q]
            v2[:, q] = np.where(better, v1[:, q], np.minimum(v2[:, q], x))
            v1[:, q] = np.where(better, x, v1[:, q])
            s1[:, q] = np.where(better, j, s1[:, q])
        return v1, v2, s1

    @staticmethod
    def _top3(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row the three smallest values and their domains (padded with inf / -1): the
        smallest over the domains outside any set of at most two is among them."""
        n, nd = x.shape
        if nd < 3:
            x = np.hstack([x, np.full((n, 3 - nd), np.inf)])
        idx = np.argpartition(x, 2, axis=1)[:, :3]
        vals = np.take_along_axis(x, idx, axis=1)
        order = np.argsort(vals, axis=1, kind="stable")
        idx = np.take_along_axis(idx, order, axis=1)
        vals = np.take_along_axis(vals, order, axis=1)
        return vals, np.where(idx < nd, idx, -1)

    @staticmethod
    def _first_outside(
        vals: np.ndarray, doms: np.ndarray, a: np.ndarray | int, b: np.ndarray | int = -2
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row the smallest value over the domains other than ``a`` and ``b`` (from _top3)
        and its domain (inf and -1 where none)."""
        a = np.asarray(a)[..., None] if np.ndim(a) else a
        b = np.asarray(b)[..., None] if np.ndim(b) else b
        ok = (doms != a) & (doms != b)
        first = np.argmax(ok, axis=1)
        rows = np.arange(len(vals))
        found = ok.any(axis=1)
        return (
            np.where(found, vals[rows, first], np.inf),
            np.where(found, doms[rows, first], -1),
        )

    def cost(self, sites: np.ndarray) -> float:
        if len(sites) == 0:
            return math.inf
        p, _, _ = self._best(sites, self.elp, self.empty_p)
        b, _, _ = self._best(sites, self.elb, self.empty_b)
        bv, bd = self._top3(b)
        tot = np.full(p.shape[0], np.inf)
        for q in range(self.nd):
            np.minimum(tot, p[:, q] + self._first_outside(bv, bd, q)[0], out=tot)
        return float(self.w @ tot)

    def _trial_costs(self, p: np.ndarray, b: np.ndarray, cands: np.ndarray) -> np.ndarray:
        """Weighted cost of the open set behind ``p``, ``b`` plus each candidate site.

        A candidate of domain ``q`` changes only ``P_q`` and ``B_q``. With ``e1`` (``u1``) the
        domain (value) of the best backup outside ``q`` and ``u2`` the best outside ``q`` and
        ``e1``, a primary in ``q`` costs ``min(P_q, P_c) + u1``; one in ``d ≠ q`` costs
        ``P_d + min(y, u1)`` for ``d ≠ e1`` and ``P_e1 + min(y, u2)`` (``y`` the candidate-
        lowered ``B_q``): O(n) numpy per domain whatever the number of domains.
        """
        out = np.empty(len(cands))
        cdom = self.dom[cands]
        n = p.shape[0]
        rows = np.arange(n)
        bv, bd = self._top3(b)
        pv, pd_ = self._top3(p)
        p_pad = np.hstack([p, np.full((n, 1), np.inf)])  # column -1: no domain
        for q in np.unique(cdom).tolist():
            idx = np.flatnonzero(cdom == q)
            sel = cands[idx]
            u1, e1 = self._first_outside(bv, bd, q)
            u2, _ = self._first_outside(bv, bd, q, e1)
            p_rest = self._first_outside(pv, pd_, q, e1)[0][:, None]
            p_e1 = p_pad[rows, e1][:, None]
            y = np.minimum(b[:, q : q + 1], self.elb[:, sel])
            tot = np.minimum(p[:, q : q + 1], self.elp[:, sel]) + u1[:, None]
            np.minimum(tot, p_rest + np.minimum(y, u1[:, None]), out=tot)
            np.minimum(tot, p_e1 + np.minimum(y, u2[:, None]), out=tot)
            out[idx] = self.w @ tot
        return out

    def greedy(self, fixed: np.ndarray, allowed: np.ndarray, count: int) -> np.ndarray:
        """From ``fixed``, add the site that lowers the cost most until ``count`` are open."""
        cur = np.unique(np.asarray(fixed, dtype=np.int64))
        while len(cur) < count:
            cands = np.setdiff1d(allowed, cur)
            if len(cands) == 0:
                break
            p, _, _ = self._best(cur, self.elp, self.empty_p)
            b, _, _ = self._best(cur, self.elb, self.empty_b)
            v = self._trial_costs(p, b, cands)
            cur = np.sort(np.r_[cur, cands[int(np.argmin(v))]])
        return cur

    def interchange(
        self,
        start: np.ndarray,
        fixed: np.ndarray,
        allowed: np.ndarray,
        max_moves: int,
        deadline: float,
    ) -> tuple[np.ndarray, float, int]:
        """Best-improvement swaps (close an open site, open a closed one) to a local optimum.

        ``max_moves`` bounds the work by a count (deterministic); ``deadline`` is only a safety
        stop. Returns the open set, its weighted cost and the number of moves made.
        """
        cur = np.unique(np.asarray(start, dtype=np.int64))
        val = self.cost(cur)
        moves = 0
        fixed_set = set(np.asarray(fixed).tolist())
        while moves < max_moves and time.perf_counter() < deadline:
            cands = np.setdiff1d(allowed, cur)
            if len(cands) == 0:
                break
            p1, p2, ps = self._best(cur, self.elp, self.empty_p)
            b1, b2, bs = self._best(cur, self.elb, self.empty_b)
            best_v, best_a, best_c = val, -1, -1
            for a in cur.tolist():
                if a in fixed_set:
                    continue
                q = self.dom[a]
                p, b = p1.copy(), b1.copy()
                p[:, q] = np.where(ps[:, q] == a, p2[:, q], p1[:, q])
                b[:, q] = np.where(bs[:, q] == a, b2[:, q], b1[:, q])
                v = self._trial_costs(p, b, cands)
                i = int(np.argmin(v))
                if v[i] < best_v - 1e-9 * max(1.0, abs(best_v)):
                    best_v, best_a, best_c = float(v[i]), a, int(cands[i])
            if best_a < 0:
                break
            cur = np.sort(np.r_[cur[cur != best_a], best_c])
            val = best_v
            moves += 1
        return cur, val, moves


def _rowmin(a: np.ndarray) -> np.ndarray:
    """Minimum of each row of a narrow 2-d array (one ``np.minimum`` per column: numpy's
    ``min(axis=1)`` over two or three columns is several times slower)."""
    out = a[:, 0].copy()
    for r in range(1, a.shape[1]):
        np.minimum(out, a[:, r], out=out)
    return out


class _Solver:
    def __init__(
        self,
        data: ModelData,
        deadline: float,
        gap_rel: float,
        threads: int | None,
        verbose: bool,
        t0: float,
        initial_open: np.ndarray | None = None,
    ) -> None:
        self.data = data
        self.initial_open = initial_open
        self.warm = False
        self.deadline = deadline
        self.gap_rel = gap_rel
        self.threads = threads
        self.verbose = verbose
        self.t0 = t0
        self.rounds = 0
        self.per_domain = _PER_DOMAIN
        self._art_on = True
        self.sample_size = _SAMPLE_SIZE
        self.init_incumbent_sites = True
        self.mip = True
        self.branching = True  # the site branch and bound before (or instead of) the HiGHS MIP
        # the filtered model's entering pairs get the extended duals' basis (_absorbed_basis)
        self.absorbed_basis = True
        self.bb_lps = 0  # LP solves in the site branch and bound
        # re-solves after pricing: primal simplex (added columns keep the basis primal
        # feasible) when few pairs enter, dual simplex when many do (see _column_generation)
        self.resolve_strategy: int | None = 4
        self.dual_resolve_min_pairs = _DUAL_RESOLVE_MIN_PAIRS
        self.lag = -math.inf
        # incumbent value of the last screening whose kept columns all entered the master
        self._screen_ub: float | None = None
        self.screen_min_pairs = _SCREEN_MIN_PAIRS
        self.screen_count = _SCREEN_COUNT
        self.screen_both_share = _SCREEN_BOTH_SHARE
        self.progress: Callable[..., None] | None = None
        self.domain_searched = False  # the start came from _DomainSearch
        self._duals: _Duals | None = None  # the current LP's duals, computed once per solve

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(f"[redundant {time.perf_counter() - self.t0:7.2f}s] {msg}", flush=True)

    def _remaining(self) -> float:
        return self.deadline - time.perf_counter()

    # ------------------------------------------------------------------ data
    def _prepare(self) -> None:
        d = self.data
        n, m, k = d.n_demand, d.n_sites, d.redundancy
        self.n, self.m, self.k = n, m, k
        total = d.total_weight
        self.unit = 1.0 / total if total > 0 else 1.0  # internal cost × unit = objective
        mean_w = total / n if total > 0 else 1.0
        self.w = d.weight / mean_w  # internal weights, mean 1
        self.unit = 1.0 / n if total > 0 else 1.0
        usable = ~d.forbidden[d.pair_j] & (d.primary_ok | d.backup_ok)
        self.usable = usable
        self.ev = _Evaluator(d, self.w, usable)
        dom_codes, dom = np.unique(d.domain, return_inverse=True)
        self.dom = dom.astype(np.int64)
        self.n_dom = len(dom_codes)
        self.use_domain_rows = self.n_dom < m
        # every allowed (pair, rank) as a candidate column
        p_all = np.flatnonzero(usable)
        self.cand_p = p_all
        base = self.w[d.pair_i[p_all]] * d.latency_ms[p_all]
        # per-pair rank costs, shape (len(p_all), k); inf where the rank is not allowed
        rc = np.empty((len(p_all), k))
        rc[:, 0] = np.where(d.primary_ok[p_all], base, np.inf)
        for r in range(1, k):
            rc[:, r] = np.where(d.backup_ok[p_all], d.backup_weight * base, np.inf)
        self.cand_cost = rc
        self.cand_i = d.pair_i[p_all]
        self.cand_g = self.dom[d.pair_j[p_all]]
        self.cand_site = d.pair_j[p_all]
        self.cand_key = self.cand_i * self.n_dom + self.cand_g  # (demand, domain) row key
        # a domain row only where the demand has two or more candidate pairs in the domain: with
        # one, Σ_r z_pr ≤ 1 is implied by its linking row Σ_r z_pr ≤ y_j ≤ 1 (the demo's 84 city
        # domains: 16,000 of 26,800 rows)
        key_count = np.bincount(self.cand_key, minlength=n * self.n_dom)
        self.cand_dom_row = self.use_domain_rows & (key_count[self.cand_key] >= 2)
        # every assignment row (i, r) has a candidate column (else the bound is -inf)
        self.row_has_column = all(
            (np.bincount(self.cand_i[np.isfinite(rc[:, r])], minlength=n) > 0).all()
            for r in range(k)
        )
        self.in_model = np.zeros(len(p_all), dtype=bool)
        self.link_row = np.full(len(p_all), -1, dtype=np.int64)

    def _initial_pairs(self, per_domain: int) -> np.ndarray:
        """Candidate positions: the nearest few allowed sites of each domain, per rank kind."""
        d = self.data
        p = self.cand_p
        lat = d.latency_ms[p]
        keep = np.zeros(len(p), dtype=bool)
        for ok in (d.primary_ok[p], d.backup_ok[p]):
            idx = np.flatnonzero(ok)
            order = idx[np.lexsort((lat[idx], self.cand_g[idx], self.cand_i[idx]))]
            key = self.cand_i[order] * self.n_dom + self.cand_g[order]
            start = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
            pos = np.arange(len(order)) - np.repeat(start, np.diff(np.r_[start, len(order)]))
            keep[order[pos < per_domain]] = True
        return np.flatnonzero(keep)

    # ------------------------------------------------------------------ model
    def _build(self) -> None:
        d = self.data
        n, m, k = self.n, self.m, self.k
        h = new_highs(output_flag=bool(self.verbose))
        if self.threads is not None:
            h.setOptionValue("threads", int(self.threads))
        self.h = h
        lo = d.must_open.astype(float)
        hi = (~d.forbidden).astype(float)
        ei = np.zeros(0, np.int32)
        h.addCols(m, np.zeros(m), lo, hi, 0, ei, ei, np.zeros(0))
        # site count row
        if d.n_sites_exact is not None:
            c_lo = c_hi = float(d.n_sites_exact)
        else:
            c_lo = float(d.min_sites or 0)
            c_hi = float(d.max_sites) if d.max_sites is not None else _INF
        h.addRows(
            1,
            np.array([c_lo]),
            np.array([c_hi]),
            m,
            np.array([0], np.int32),
            np.arange(m, dtype=np.int32),
            np.ones(m),
        )
        # assignment rows (i, r) -> 1 + i*k + r, each with an artificial column
        nk = n * k
        h.addRows(nk, np.ones(nk), np.ones(nk), 0, np.zeros(nk, np.int32), ei, np.zeros(0))
        self.big_m = 10.0 * float(np.max(self.cand_cost[np.isfinite(self.cand_cost)], initial=1.0))
        self.big_m = max(self.big_m, 1.0) * 10.0
        h.addCols(
            nk,
            np.full(nk, self.big_m),
            np.zeros(nk),
            np.full(nk, _INF),
            nk,
            np.arange(nk, dtype=np.int32),
            (1 + np.arange(nk)).astype(np.int32),
            np.ones(nk),
        )
        self.art0 = m
        self.count_bounds = (c_lo, c_hi)
        self.n_rows = 1 + nk
        self.key_row = np.full(n * self.n_dom, -1, dtype=np.int64)  # (i * n_dom + g) -> row
        self.col_pos: list[np.ndarray] = []  # candidate positions per added block
        self.col_rank: list[np.ndarray] = []
        self.n_cols = m + nk
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")

    def _add_pairs(self, pos: np.ndarray) -> None:
        """Add candidate positions ``pos`` (columns for every allowed rank + linking rows)."""
        pos = pos[~self.in_model[pos]]
        if len(pos) == 0:
            return
        self._duals = None
        self.in_model[pos] = True
        h = self.h
        k = self.k
        n_new = len(pos)
        # linking rows (one per pair): Σ_r z_pr − y_j ≤ 0
        link0 = self.n_rows
        self.link_row[pos] = link0 + np.arange(n_new)
        j = self.data.pair_j[self.cand_p[pos]]
        h.addRows(
            n_new,
            np.full(n_new, -_INF),
            np.zeros(n_new),
            n_new,
            np.arange(n_new, dtype=np.int32),
            j.astype(np.int32),
            np.full(n_new, -1.0),
        )
        self.n_rows += n_new
        # domain rows
        dom_row = np.full(n_new, -1, dtype=np.int64)
        with_row = self.cand_dom_row[pos]
        if with_row.any():
            keys = self.cand_key[pos[with_row]]
            new_keys = np.unique(keys[self.key_row[keys] < 0])
            nr = len(new_keys)
            if nr:
                h.addRows(
                    nr,
                    np.full(nr, -_INF),
                    np.ones(nr),
                    0,
                    np.zeros(nr, np.int32),
                    np.zeros(0, np.int32),
                    np.zeros(0),
                )
                self.key_row[new_keys] = self.n_rows + np.arange(nr)
                self.n_rows += nr
            dom_row[with_row] = self.key_row[keys]
        # columns: assignment row, linking row and (where there is one) domain row
        cost = self.cand_cost[pos]
        cols_pos, cols_rank = np.nonzero(np.isfinite(cost))
        nc = len(cols_pos)
        i = self.cand_i[pos][cols_pos]
        idx = np.empty((nc, 3), dtype=np.int64)
        idx[:, 0] = 1 + i * k + cols_rank
        idx[:, 1] = link0 + cols_pos
        idx[:, 2] = dom_row[cols_pos]
        has = idx[:, 2] >= 0
        nnz = 2 + has.astype(np.int64)
        starts = np.r_[0, np.cumsum(nnz)[:-1]]
        flat = idx.ravel()[(np.arange(3)[None, :] < nnz[:, None]).ravel()]
        h.addCols(
            nc,
            cost[cols_pos, cols_rank],
            np.zeros(nc),
            np.ones(nc),
            int(nnz.sum()),
            starts.astype(np.int32),
            flat.astype(np.int32),
            np.ones(int(nnz.sum())),
        )
        self.col_pos.append(pos[cols_pos])
        self.col_rank.append(cols_rank)
        self.n_cols += nc

    # ------------------------------------------------------------------ LP
    def _run(self) -> str:
        rem = self._remaining()
        if rem <= 0:
            return "time"
        h = self.h
        h.setOptionValue("time_limit", h.getRunTime() + max(rem, 1e-3))
        self._duals = None
        h.run()
        ms = h.getModelStatus()
        if ms == _MS.kOptimal:
            return "optimal"
        if ms == _MS.kInfeasible:
            return "infeasible"
        if ms == _MS.kTimeLimit:
            return "time"
        raise SolverError(f"HiGHS LP status {h.modelStatusToString(ms)}")

    def _domain_duals(self, row_dual: np.ndarray, clamp: bool = True) -> np.ndarray | None:
        """Dual of every (demand, domain) row by key, 0 where the row is not in the master
        (``None`` without any); ``clamp``: to the valid sign (≤ 0)."""
        has = self.key_row >= 0
        if not has.any():
            return None
        sig = np.zeros(len(self.key_row))
        sig[has] = row_dual[self.key_row[has]]
        return np.minimum(sig, 0.0) if clamp else sig

    def _dual_arrays(self) -> _Duals:
        """The current LP's duals and the candidates' reduced costs (computed once per solve)."""
        if self._duals is not None:
            return self._duals
        sol = self.h.getSolution()
        row_dual = np.asarray(sol.row_dual)
        u = row_dual[1 : 1 + self.n * self.k].reshape(self.n, self.k)
        rc = self.cand_cost - u[self.cand_i]
        sig = self._domain_duals(row_dual, clamp=False)
        if sig is None:
            sig_cl = np.zeros(self.n * self.n_dom)
            rc_cl = rc
        else:
            rc -= sig[self.cand_key][:, None]
            sig_cl = np.minimum(sig, 0.0)
            pos = np.maximum(sig, 0.0)[self.cand_key]  # wrong-signed duals (tolerance)
            rc_cl = rc + pos[:, None] if pos.any() else rc
        worst = _rowmin(rc)
        self._duals = _Duals(
            row_dual=row_dual,
            col_dual_y=np.asarray(sol.col_dual)[: self.m].copy(),
            u=u,
            sig_cl=sig_cl,
            rc=rc,
            rc_cl=rc_cl,
            worst=worst,
            worst_cl=worst if rc_cl is rc else _rowmin(rc_cl),
        )
        return self._duals

    def _y_at_lower(self) -> np.ndarray:
        """Which site columns are nonbasic at their lower bound in the LP's basis (from the basic
        variables' indices: the basis's status list costs 6-8 ms a round on the world instance)."""
        m = self.m
        basic_vars = np.asarray(self.h.getBasicVariables()[1])
        basic = np.zeros(m, dtype=bool)
        basic[basic_vars[(basic_vars >= 0) & (basic_vars < m)]] = True
        y = np.asarray(self.h.getSolution().col_value)[:m]
        lo = self.data.must_open.astype(float)
        hi = (~self.data.forbidden).astype(float)
        return ~basic & (y <= lo + 0.5 * (hi - lo))

    def _reduced_costs(self) -> np.ndarray:
        """Reduced cost of every candidate (pair, rank) at the current duals (pairs outside too)."""
        return self._dual_arrays().rc

    def _extended(
        self, tol: float, share: float = _ABSORB_SHARE_FRACTIONAL
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Extend the restricted LP duals to the full model (see the module docstring).

        Omitted pairs get ``π_p = min(0, min_r rc_pr)`` when their site's ``y_j`` is nonbasic at
        its lower bound 0 (the deficit is charged to ``y_j``'s reduced cost, the dual objective
        is unchanged), and ``π_p = 0`` otherwise. Where the deficits exceed ``y_j``'s reduced
        cost, the pairs of largest deficit enter until the rest is at most ``share`` (≤ 1) of it.

        Returns
        -------
        rc_z : numpy.ndarray, shape (n_candidates, k)
            Reduced costs of all candidate columns under the extended duals (in-model pairs:
            as in the LP).
        rc_y : numpy.ndarray, shape (n_sites,)
            Reduced costs of ``y`` under the extended duals.
        enter : numpy.ndarray
            Candidate positions to add: the extension is not dual feasible without them.
        """
        m = self.m
        duals = self._dual_arrays()
        rc = duals.rc
        rc_y = duals.col_dual_y.copy()
        absorb = self._y_at_lower() & ~self.data.must_open
        omitted = ~self.in_model
        worst = duals.worst
        deficit = np.where(omitted, np.maximum(0.0, -worst), 0.0)
        site = self.cand_site
        at_absorb = absorb[site]
        # sites that cannot absorb (open in the LP): when one of their omitted pairs prices
        # negative, all their omitted pairs enter (degenerate duals make one-by-one slow)
        # sites that cannot absorb (open or basic in the LP): every negative pair enters
        enter = np.flatnonzero(omitted & (deficit > tol) & ~at_absorb)
        d_site = np.bincount(site, weights=np.where(at_absorb, deficit, 0.0), minlength=m)
        over = absorb & (d_site > rc_y + tol)
        if over.any():
            cand = np.flatnonzero(at_absorb & (deficit > tol) & over[site])
            order = cand[np.lexsort((-deficit[cand], site[cand]))]
            sj = site[order]
            cum = np.cumsum(deficit[order])
            first = np.r_[0, np.flatnonzero(np.diff(sj)) + 1]
            base = np.repeat(np.r_[0.0, cum[first[1:] - 1]], np.diff(np.r_[first, len(order)]))
            before = cum - deficit[order] - base  # deficit taken before this pair, same site
            # the largest deficits enter until what is left fits in y_j's reduced cost
            target = share * np.maximum(rc_y[sj], 0.0)
            take = d_site[sj] - before > target
            enter = np.union1d(enter, order[take])
        pi = np.where(omitted & at_absorb, np.minimum(0.0, worst), 0.0)
        rc_z = rc - pi[:, None]
        rc_y = rc_y + np.bincount(site, weights=pi, minlength=m)
        return rc_z, rc_y, enter

    def _lagrangian_bound(self) -> tuple[float, np.ndarray | None]:
        """Lower bound on the full LP (and MIP) from the current row duals.

        Lagrangian relaxation of every row except the assignment rows ``Σ_p z_pr = 1``, with the
        current duals (signs clamped to the valid side) as multipliers and ``π_p`` of omitted
        linking rows chosen as in :meth:`_extended`. Weak duality makes it valid for any
        multipliers; at the end of pricing it equals the LP optimum.

        Returns
        -------
        bound : float
            The Lagrangian bound (``-inf`` when some assignment row has no column).
        excess : numpy.ndarray, shape (n_candidates, k), or None
            For each candidate column, how much its Lagrangian cost exceeds the cheapest column
            of its assignment row, plus how much opening its site exceeds that site's minimum
            term (``inf`` where the rank is not allowed or the site is forbidden): every
            solution using the column costs at least ``bound + excess`` (module docstring,
            "Screening").
        """
        n, k, m = self.n, self.k, self.m
        duals = self._dual_arrays()
        row_dual = duals.row_dual
        c_lo, c_hi = self.count_bounds
        lam = float(row_dual[0])
        if lam < 0 and not math.isfinite(c_hi):
            lam = 0.0
        if lam > 0 and c_lo == 0 and self.data.n_sites_exact is None and not self.data.min_sites:
            lam = 0.0
        bound = lam * (c_lo if lam >= 0 else c_hi)
        sig = duals.sig_cl
        bound += float(sig.sum())
        pi = np.zeros(len(self.cand_p))
        inm = self.in_model
        pi[inm] = np.minimum(row_dual[self.link_row[inm]], 0.0)
        om = ~inm
        pi[om] = np.minimum(0.0, duals.worst_cl[om])
        # c − σ − π (inf where the rank is not allowed)
        v = self.cand_cost - (sig[self.cand_key] + pi)[:, None]
        # block minimum over the columns of (i, r), artificials included
        blk = np.full((n, k), self.big_m if self._art_on else np.inf)
        for r in range(k):
            np.minimum.at(blk[:, r], self.cand_i, v[:, r])
        if not np.isfinite(blk).all():
            return -math.inf, None
        bound += float(blk.sum())
        site = self.cand_site
        rc_y = -lam + np.bincount(site, weights=pi, minlength=m)
        lo = self.data.must_open.astype(float)
        hi = (~self.data.forbidden).astype(float)
        y_min = np.where(rc_y < 0, rc_y * hi, rc_y * lo)
        bound += float(y_min.sum())
        # a column at site j also needs y_j = 1, whose term exceeds its minimum by rc_y − y_min
        open_excess = np.where(hi > 0.5, rc_y - y_min, np.inf)
        return bound, v - blk[self.cand_i] + open_excess[site][:, None]

    def _count_bound(self) -> tuple[float, np.ndarray | None]:
        """Lower bound from the current duals with the assignment and domain rows relaxed.

        With multipliers ``u`` (assignment rows, free) and ``σ ≤ 0`` (domain rows; 0 for rows
        not in the master) every pair ``p = (i, j)`` has Lagrangian costs ``rc_pr = c_pr − u_ir −
        σ_ig``; with its linking row kept, an open site ``j`` takes each of its pairs at its
        cheapest rank when that is negative, ``ρ_j = Σ_{p at j} min(0, min_r rc_pr)``, and the
        site count row is kept too, so the best open set is the allowed count of sites with the
        smallest ``ρ`` (must-open sites always in):

            L(u, σ) = Σ u + Σ σ + min_{S allowed} Σ_{j∈S} ρ_j

        This is the LP dual function at ``(u, σ)`` with the best linking and count multipliers for
        them (every pair of the full model, not only the master's), so it is at least the bound
        of :meth:`_lagrangian_bound` at an optimal ``π`` and equals the LP optimum at optimal
        duals. ``c·x ≥ L(x) ≥ L + (rc_pr − min(0, min_r' rc_pr')) + e_j`` for an integer solution
        ``x`` that uses column ``z_pr`` at site ``j``, where ``e_j`` is what opening ``j`` costs
        over the best open set (``ρ_j`` minus the largest ``ρ`` of the best set's free sites,
        0 inside it): that is the column's ``excess`` (module docstring, "Screening").

        Returns
        -------
        bound : float
            ``L(u, σ)`` (``-inf`` when some assignment row has no candidate column or the count
            bounds admit no open set).
        excess : numpy.ndarray, shape (n_candidates, k), or None
        """
        m = self.m
        duals = self._dual_arrays()
        u, sig = duals.u, duals.sig_cl
        if not self.row_has_column:
            return -math.inf, None
        rc = duals.rc_cl
        best = np.minimum(0.0, duals.worst_cl)
        site = self.cand_site
        rho = np.bincount(site, weights=best, minlength=m)
        must = self.data.must_open & ~self.data.forbidden
        free = np.flatnonzero(~self.data.forbidden & ~must)
        c_lo, c_hi = self.count_bounds
        n_must = int(must.sum())
        t_min = max(0, math.ceil(c_lo - 1e-9) - n_must)
        t_max = len(free) if not math.isfinite(c_hi) else min(len(free), int(c_hi + 1e-9) - n_must)
        if t_min > t_max:
            return -math.inf, None
        order = free[np.argsort(rho[free], kind="stable")]
        t = t_max  # every ρ ≤ 0: the most sites allowed
        chosen = order[:t]
        bound = float(u.sum() + sig.sum() + rho[must].sum() + rho[chosen].sum())
        e = np.full(m, np.inf)
        e[must] = 0.0
        e[chosen] = 0.0
        if t > 0:
            rest = order[t:]
            e[rest] = rho[rest] - rho[order[t - 1]]
        return bound, rc - best[:, None] + e[site][:, None]

    def _column_generation(self) -> str:
        tol = 1e-7
        stalled = 0  # consecutive rounds whose master LP value equals the incumbent
        for _ in range(_MAX_PRICING_ROUNDS):
            status = self._run()
            if status != "optimal":
                return status
            self.rounds += 1
            lp_val = float(self.h.getInfo().objective_function_value)
            if self._screen_ub is not None:
                # the master holds every column the screening kept: a bound on the MIP
                self.lag = max(self.lag, min(self._screen_ub, lp_val))
            # the master's LP at the incumbent (degenerate: only the bound moves): fewest pairs
            at_ub = lp_val <= self.ub + 1e-9 * max(1.0, abs(self.ub))
            stalled = stalled + 1 if at_ub else 0
            fewest = at_ub and self.rounds <= _ABSORB_SHARE_ROUNDS
            _, _, enter = self._extended(tol, _ABSORB_SHARE if fewest else _ABSORB_SHARE_FRACTIONAL)
            lag, excess = self._lagrangian_bound()
            lag_c, excess_c = self._count_bound()
            self.lag = max(self.lag, lag, lag_c)
            y = np.asarray(self.h.getSolution().col_value)[: self.m]
            if np.abs(y - np.round(y)).max() < 1e-6:
                sites = np.flatnonzero(y > 0.5)
                val, feas = self.ev.cost(sites)
                if feas and val < self.ub:
                    self.ub, self.best = val, sites
            self._log(
                f"round {self.rounds}: LP {self.h.getInfo().objective_function_value * self.unit:.6f}"
                f", Lagrangian {self.lag * self.unit:.6f}, incumbent {self.ub * self.unit:.6f}, "
                f"{self.h.getNumCol()} cols, {self.h.getNumRow()} rows, {len(enter)} pairs enter"
            )
            if self.progress is not None:
                self.progress(
                    self.ub * self.unit, self.lag * self.unit, f"pricing round {self.rounds}"
                )
            if len(enter) == 0:
                return "optimal"
            if self._proven(self.lag):
                return "proven"
            both = [(lag, excess), (lag_c, excess_c)]
            screened = self._screen(enter, both, share=self.screen_both_share)
            if screened is None:
                screened = self._screen(
                    enter,
                    [(lag, excess)] + self.screen_count * both[1:],
                    lp_val if stalled >= _SCREEN_STALLED_ROUNDS else math.inf,
                )
            if screened is not None:
                enter = screened
            self._enter(enter)
            if self.resolve_strategy is not None:
                many = len(enter) >= self.dual_resolve_min_pairs
                self.h.setOptionValue("simplex_strategy", 1 if many else self.resolve_strategy)
        # every round adds at least one improving pair of finitely many: a loop this long means
        # numerical trouble (the PuLP model answers instead)
        raise SolverError(f"column generation did not converge in {_MAX_PRICING_ROUNDS} rounds")

    def _screen(
        self,
        enter: np.ndarray,
        bounds: list[tuple[float, np.ndarray | None]],
        lp_val: float = math.inf,
        share: float | None = None,
    ) -> np.ndarray | None:
        """``enter`` plus every omitted pair the screening cannot exclude, when few enough
        (``None`` otherwise: no screening).

        For each ``(lag, excess)`` of ``bounds`` every solution cheaper than the incumbent uses
        only columns whose ``excess`` is below ``ub − lag`` (module docstring, "Screening"), so
        only pairs kept by all of them count. Once the master holds all of them, its LP value
        (capped at that incumbent) bounds the optimum, so the pricing tail (one or two pairs a
        round while the Lagrangian bound creeps up) can end early. "Few enough": at most
        ``share`` of the pairs in the master (``_SCREEN_MIN_PAIRS`` at least); without ``share``,
        ``_SCREEN_SHARE`` of them, ``_SCREEN_STALLED_SHARE`` once the master's LP value
        ``lp_val`` equals the incumbent.
        """
        if self.screen_min_pairs < 0 or not math.isfinite(self.ub) or (share or 0.0) < 0:
            return None
        kept = np.ones(len(self.cand_p), dtype=bool)
        usable = False
        for lag, excess in bounds:
            if excess is None or not math.isfinite(lag):
                continue
            delta = self.ub - lag + 1e-9 * max(1.0, abs(self.ub))
            kept &= _rowmin(excess) <= delta
            usable = True
        if not usable:
            return None
        missing = np.flatnonzero(kept & ~self.in_model)
        if share is None:
            share = _SCREEN_SHARE
            if lp_val <= self.ub + 1e-9 * max(1.0, abs(self.ub)):
                # the master's LP already equals the incumbent: pricing can only raise the bound
                # now, one or two pairs a round; one bigger re-solve ends it
                share = _SCREEN_STALLED_SHARE
        cap = max(self.screen_min_pairs, share * self.in_model.sum(), len(enter))
        if len(missing) > cap:
            return None
        self._screen_ub = self.ub if self._screen_ub is None else min(self._screen_ub, self.ub)
        self._log(f"screening: {len(missing)} pairs missing of {int(kept.sum())} kept")
        return np.union1d(enter, missing)

    def _artificials_used(self) -> bool:
        x = np.asarray(self.h.getSolution().col_value)
        return bool(x[self.art0 : self.art0 + self.n * self.k].max(initial=0.0) > 1e-9)

    def _drop_artificials(self) -> None:
        self._art_on = False
        nk = self.n * self.k
        idx = np.arange(self.art0, self.art0 + nk, dtype=np.int32)
        self.h.changeColsBounds(nk, idx, np.zeros(nk), np.zeros(nk))

    # ------------------------------------------------------------------ feasibility
    def _feasibility(self) -> tuple[str, np.ndarray | None, float]:
        """Fewest sites that serve every demand point (a primary and ``k − 1`` backups).

        A MIP over the distinct (primary row, backup row) patterns of the demand points: ``y_j``
        binary; per pattern ``q`` and failure domain ``g`` continuous ``a_qg`` (the primary is in
        ``g``) and ``b_qg`` (a backup is in ``g``) with ``Σ_g a_qg = 1``, ``Σ_g b_qg = k − 1``,
        ``a_qg + b_qg ≤ 1``, ``a_qg ≤ Σ_{j∈g, primary allowed} y_j`` and ``b_qg ≤ Σ_{j∈g, backup
        allowed} y_j``. For integral ``y`` the ``a, b`` part is a unit-capacity flow (ranks →
        domains), feasible iff integrally feasible, so the MIP's optimum is exactly the fewest
        sites with which some open set meets every demand point's SLA and redundancy. Minimising
        ``Σ y`` (must-open sites fixed open, forbidden ones closed) proves the problem infeasible
        when that minimum exceeds the site count's upper bound; the column generation cannot
        (its LP relaxation is feasible with fractional ``y``).

        Returns
        -------
        status : str
            ``"infeasible"`` (proven: the bound exceeds the allowed count), ``"feasible"`` (an
            open set within the count), or ``"unknown"`` (stopped by its time limit).
        sites : numpy.ndarray or None
            The open set of the MIP's solution (feasible, at most the allowed count).
        bound : float
            Proven lower bound on the number of sites needed.
        """
        d = self.data
        n, m, k = self.n, self.m, self.k
        ok = self.usable
        pm = np.zeros((n, m), dtype=bool)
        bm = np.zeros((n, m), dtype=bool)
        pm[d.pair_i[ok & d.primary_ok], d.pair_j[ok & d.primary_ok]] = True
        bm[d.pair_i[ok & d.backup_ok], d.pair_j[ok & d.backup_ok]] = True
        pats = unique_bool_rows(np.concatenate([pm, bm], axis=1))
        n_q, n_g = len(pats), self.n_dom
        # (q, g) incidence of the domains each pattern reaches, for each rank kind
        onehot = np.zeros((m, n_g))
        onehot[np.arange(m), self.dom] = 1.0
        reach_a = (pats[:, :m].astype(float) @ onehot) > 0
        reach_b = (pats[:, m:].astype(float) @ onehot) > 0
        h = new_highs(output_flag=bool(self.verbose))
        if self.threads is not None:
            h.setOptionValue("threads", int(self.threads))
        lo = d.must_open.astype(float)
        hi = (~d.forbidden).astype(float)
        ei = np.zeros(0, np.int32)
        h.addCols(m, np.ones(m), lo, hi, 0, ei, ei, np.zeros(0))
        h.changeColsIntegrality(
            m, np.arange(m, dtype=np.int32), np.full(m, highspy.HighsVarType.kInteger)
        )
        qa, ga = np.nonzero(reach_a)
        qb, gb = np.nonzero(reach_b)
        na, nb = len(qa), len(qb)
        h.addCols(
            na + nb, np.zeros(na + nb), np.zeros(na + nb), np.ones(na + nb), 0, ei, ei, np.zeros(0)
        )
        col_a = m + np.arange(na)
        col_b = m + na + np.arange(nb)
        rows_lo: list[np.ndarray] = []
        rows_hi: list[np.ndarray] = []
        entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row, col, value)
        n_rows = 0

        def block(n_new: int, r_lo: float, r_hi: float) -> int:
            nonlocal n_rows
            first = n_rows
            rows_lo.append(np.full(n_new, r_lo))
            rows_hi.append(np.full(n_new, r_hi))
            n_rows += n_new
            return first

        r0 = block(n_q, 1.0, 1.0)  # Σ_g a_qg = 1
        entries.append((r0 + qa, col_a, np.ones(na)))
        r0 = block(n_q, k - 1.0, k - 1.0)  # Σ_g b_qg = k − 1
        entries.append((r0 + qb, col_b, np.ones(nb)))
        # a_qg + b_qg ≤ 1 where both exist
        key_a = qa * n_g + ga
        key_b = qb * n_g + gb
        both, ia, ib = np.intersect1d(key_a, key_b, return_indices=True)
        r0 = block(len(both), -_INF, 1.0)
        rr = r0 + np.arange(len(both))
        entries.append((rr, col_a[ia], np.ones(len(both))))
        entries.append((rr, col_b[ib], np.ones(len(both))))
        # a_qg − Σ_{j∈g, P_q} y_j ≤ 0 and the same for b
        for q_idx, g_idx, cols, part in ((qa, ga, col_a, 0), (qb, gb, col_b, m)):
            r0 = block(len(q_idx), -_INF, 0.0)
            entries.append((r0 + np.arange(len(q_idx)), cols, np.ones(len(q_idx))))
            qq, jj = np.nonzero(pats[:, part : part + m])
            # row of (q, dom(j)) in this block
            pos = np.searchsorted(q_idx * n_g + g_idx, qq * n_g + self.dom[jj])
            entries.append((r0 + pos, jj, -np.ones(len(jj))))
        r = np.concatenate([e[0] for e in entries])
        c = np.concatenate([e[1] for e in entries])
        v = np.concatenate([e[2] for e in entries])
        order = np.lexsort((c, r))
        r, c, v = r[order], c[order], v[order]
        starts = np.searchsorted(r, np.arange(n_rows))
        h.addRows(
            n_rows,
            np.concatenate(rows_lo),
            np.concatenate(rows_hi),
            len(r),
            starts.astype(np.int32),
            c.astype(np.int32),
            v,
        )
        c_hi = self.count_bounds[1]
        h.setOptionValue("mip_rel_gap", 0.0)
        rem = self._remaining()
        if rem <= 0:
            return "unknown", None, 0.0
        # at most a quarter of a limited budget (10 s at least): without a verdict the column
        # generation goes on as before
        h.setOptionValue("time_limit", max(min(rem, max(10.0, 0.25 * rem)), 1e-3))
        h.run()
        ms = h.getModelStatus()
        info = h.getInfo()
        bound = float(info.mip_dual_bound) if ms != _MS.kInfeasible else math.inf
        sites = None
        if info.primal_solution_status == 2:
            y = np.asarray(h.getSolution().col_value)[:m]
            sites = np.flatnonzero(y > 0.5)
            if len(sites) > c_hi:
                sites = None
        self._log(
            f"feasibility MIP: {n_q} patterns, status {h.modelStatusToString(ms)}, "
            f"bound {bound}, solution {None if sites is None else len(sites)} sites"
        )
        if ms == _MS.kInfeasible or (math.isfinite(c_hi) and bound > c_hi + 1e-6):
            return "infeasible", None, bound
        if sites is not None:
            return "feasible", sites, bound
        return "unknown", None, bound

    def _pad(self, sites: np.ndarray) -> np.ndarray:
        """``sites`` grown to the site count's lower bound, cheapest addition first."""
        c_lo = math.ceil(self.count_bounds[0] - 1e-9)
        cur = np.sort(np.asarray(sites, dtype=np.int64))
        allowed = np.flatnonzero(~self.data.forbidden)
        while len(cur) < c_lo:
            best, best_v = -1, math.inf
            for c in np.setdiff1d(allowed, cur):
                v, _ = self.ev.cost(np.r_[cur, c])
                if v < best_v:
                    best, best_v = int(c), v
            cur = np.sort(np.r_[cur, best])
        return cur

    # ------------------------------------------------------------------ heuristic
    def _local_search(self, start: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """First-improvement swaps from ``start``; updates the incumbent."""
        ev = self.ev
        cur = np.array(sorted(set(int(s) for s in start)), dtype=np.int64)
        val, feas = ev.cost(cur)
        improved = True
        while improved and self._remaining() > 0:
            improved = False
            closed = np.flatnonzero((hi > 0.5) & ~np.isin(np.arange(self.m), cur))
            for a in range(len(cur)):
                if lo[cur[a]] > 0.5:
                    continue
                for c in closed:
                    trial = cur.copy()
                    trial[a] = c
                    v, f = ev.cost(trial)
                    if v < val - 1e-9:
                        cur, val, feas = np.sort(trial), v, f
                        improved = True
                        break
                if improved or self._remaining() <= 0:
                    break
        if feas and val < self.ub:
            self.ub, self.best = val, cur

    def _sample_solution(self, start: np.ndarray | None = None) -> np.ndarray | None:
        """Open set from the same column generation on a weighted sample of the demand points
        (started from ``start``, the greedy set, when it is feasible there)."""
        d = self.data
        rng = np.random.default_rng(1)
        prob = self.w + 1e-12
        rows = np.sort(
            rng.choice(self.n, size=self.sample_size, replace=False, p=prob / prob.sum())
        )
        new_index = np.full(self.n, -1, dtype=np.int64)
        new_index[rows] = np.arange(len(rows))
        keep = new_index[d.pair_i] >= 0
        sub = replace(
            d,
            n_demand=len(rows),
            weight=d.weight[rows],
            pair_i=new_index[d.pair_i[keep]],
            pair_j=d.pair_j[keep],
            latency_ms=d.latency_ms[keep],
            pair_cost_usd=d.pair_cost_usd[keep],
            primary_ok=d.primary_ok[keep],
            backup_ok=d.backup_ok[keep],
        )
        budget = min(self._remaining(), 30.0)
        solver = _Solver(
            sub, time.perf_counter() + budget, 1e-6, self.threads, False, self.t0, start
        )
        solver.sample_size = 10**9
        solver.mip = False
        sol = solver.run()
        if sol.status not in ("optimal", "feasible"):
            return None
        return np.asarray(sol.open_sites, dtype=np.int64)

    def _warm_start(self) -> np.ndarray | None:
        """The given open set if it is a valid start (count, must-open, forbidden; with
        :class:`_DomainSearch` it may break an SLA: the interchange then repairs it)."""
        if self.initial_open is None:
            return None
        d = self.data
        sites = np.unique(np.asarray(self.initial_open, dtype=np.int64))
        if len(sites) == 0 or sites.min() < 0 or sites.max() >= self.m:
            return None
        n_open = len(sites)
        if d.n_sites_exact is not None and n_open != d.n_sites_exact:
            return None
        if d.max_sites is not None and n_open > d.max_sites:
            return None
        if d.min_sites is not None and n_open < d.min_sites:
            return None
        if d.forbidden[sites].any() or not np.isin(np.flatnonzero(d.must_open), sites).all():
            return None
        if _DomainSearch.applies(self.ev, self.n_dom):
            return sites
        _, feas = self.ev.cost(sites)
        return sites if feas else None

    def _count(self) -> int:
        d = self.data
        if d.n_sites_exact is not None:
            return int(d.n_sites_exact)
        avail = int((~d.forbidden).sum())
        return min(avail, int(d.max_sites)) if d.max_sites is not None else avail

    def _greedy(self, sample: int = 300, max_evals: int = 2000) -> np.ndarray:
        """Greedy + swaps; returns an open set (maybe infeasible).

        With redundancy 2 and at most ``_DomainSearch.MAX_DOMAINS`` failure domains, the greedy
        and interchange of :class:`_DomainSearch` on every demand point; otherwise greedy +
        first-improvement swaps on a weighted sample of ``sample`` demand points.
        """
        if _DomainSearch.applies(self.ev, self.n_dom):
            self.domain_searched = True
            return self._domain_search()
        d = self.data
        n = self.n
        if n > sample:
            rng = np.random.default_rng(0)
            prob = self.w + 1e-12
            rows = rng.choice(n, size=sample, replace=False, p=prob / prob.sum())
            ev = self.ev.subset(np.sort(rows))
        else:
            ev = self.ev
        p = self._count()
        cur = list(np.flatnonzero(d.must_open))
        allowed = np.flatnonzero(~d.forbidden)
        while len(cur) < p:
            best, best_v = -1, math.inf
            for c in allowed:
                if c in cur:
                    continue
                v, _ = ev.cost(np.array([*cur, c]))
                if v < best_v:
                    best, best_v = int(c), v
            cur.append(best)
        cur_a = np.sort(np.array(cur, dtype=np.int64))
        evals = 0  # a count, not a clock, so the result does not depend on machine load
        val, _ = ev.cost(cur_a)
        improved = True
        while improved and evals < max_evals and self._remaining() > 0:
            improved = False
            closed = np.setdiff1d(allowed, cur_a)
            for a in range(len(cur_a)):
                if d.must_open[cur_a[a]]:
                    continue
                for c in closed:
                    trial = cur_a.copy()
                    trial[a] = c
                    v, _ = ev.cost(trial)
                    evals += 1
                    if v < val - 1e-9:
                        cur_a, val, improved = np.sort(trial), v, True
                        break
                if improved or evals >= max_evals:
                    break
        return cur_a

    def _domain_search(self) -> np.ndarray:
        """Greedy + interchange of :class:`_DomainSearch` on every demand point (``k = 2``)."""
        d = self.data
        ds = _DomainSearch(self.ev, self.dom, self.n_dom)
        fixed = np.flatnonzero(d.must_open)
        allowed = np.flatnonzero(~d.forbidden)
        start = ds.greedy(fixed, allowed, self._count())
        cur, _, moves = ds.interchange(start, fixed, allowed, _DOMAIN_SEARCH_MOVES, self.deadline)
        self._log(f"domain search: greedy + {moves} swaps")
        return cur

    def _strict_interchange(self, start: np.ndarray, what: str) -> tuple[np.ndarray, float, bool]:
        """The interchange of :class:`_DomainSearch` (``k = 2``) with feasibility first
        (``strict``): from a feasible set it never leaves the feasible sets, from an infeasible
        one (a looser sweep point's optimum, the LP's rounding) it first repairs the SLAs.
        Returns the set, its value and whether it is feasible (logged as ``what``).

        With the plain penalties, which are weighted by the demand point, swaps that leave a
        small city without a site within its SLA paid off: world N = 6, SLA 120 ms rounded its
        LP to an infeasible 87.67 ms and kept an incumbent of 104.15 (optimum 103.41).
        """
        d = self.data
        ds = _DomainSearch(self.ev, self.dom, self.n_dom, strict=True)
        fixed = np.flatnonzero(d.must_open)
        allowed = np.flatnonzero(~d.forbidden)
        cur, _, moves = ds.interchange(start, fixed, allowed, _DOMAIN_SEARCH_MOVES, self.deadline)
        val, feas = self.ev.cost(cur)
        self._log(f"{what} + {moves} swaps: {val * self.unit:.6f} (feasible {feas})")
        return cur, val, feas

    def _warm_interchange(self, start: np.ndarray) -> np.ndarray | None:
        """The strict interchange from a warm start (``k = 2``); None when it ends infeasible."""
        cur, _, feas = self._strict_interchange(start, "warm start")
        self.domain_searched = True
        return cur if feas else None

    def _round(self, y: np.ndarray) -> None:
        d = self.data
        lo = d.must_open.astype(float)
        hi = (~d.forbidden).astype(float)
        p = self._count()
        score = np.where(hi > 0.5, y, -1.0) + 2.0 * lo
        start = np.argsort(-score, kind="stable")[:p]
        if self.domain_searched:
            # the vectorised interchange of the start (N = 8 on the world instance at SLA
            # 160 ms: the first-improvement swaps took 21 s), feasibility first
            cur, val, feas = self._strict_interchange(start, "LP rounding")
            if feas and val < self.ub:
                self.ub, self.best = val, cur
            return
        self._local_search(start, lo, hi)

    # ------------------------------------------------------------------ main
    def run(self) -> RedundantSolution:
        self._prepare()
        self.ub, self.best = math.inf, np.zeros(0, dtype=np.int64)
        self._build()
        t_h = time.perf_counter()
        start = self._warm_start()
        if start is not None and _DomainSearch.applies(self.ev, self.n_dom):
            # the start (a sweep's neighbouring point, re-counted) improved by the vectorised
            # interchange, as the cold start is: a local optimum to price from, and the LP
            # rounding then uses the interchange too, not first-improvement swaps. A start
            # that breaks this point's SLA (the looser neighbour of a sweep's SLA group) is
            # repaired by it, else dropped for the cold start
            start = self._warm_interchange(start)
        if start is not None:
            self.warm = True
            val, feas = self.ev.cost(start)
            self.ub, self.best = val, start
            sub = None
        else:
            start = self._greedy()
            val, feas = self.ev.cost(start)
            if not feas:
                # no feasible start: decide feasibility first (a proof of infeasibility, or
                # an open set that meets every SLA to start from)
                verdict, cover, need = self._feasibility()
                if verdict == "infeasible":
                    c_hi = self.count_bounds[1]
                    return self._finish(
                        "infeasible",
                        -math.inf,
                        time.perf_counter() - self.t0,
                        time.perf_counter(),
                        math.nan,
                        False,
                        _infeasible_message(need, c_hi, self.k),
                    )
                if cover is not None:
                    start = self._pad(cover)
                    if self.domain_searched:
                        # the padded cover improved without losing feasibility (world N = 6,
                        # SLA 120 ms: 113.86 ms as padded)
                        cur, _, improved_feasible = self._strict_interchange(start, "cover")
                        if improved_feasible:
                            start = cur
                    val, feas = self.ev.cost(start)
            if feas:
                self.ub, self.best = val, start
            # the sample's column generation improved the sampled greedy's start; the
            # interchange of the domain search reaches a local optimum on every point instead
            sample = self.n > self.sample_size and not (self.domain_searched and feas)
            sub = self._sample_solution(start) if sample else None
        if sub is not None:
            v2, f2 = self.ev.cost(sub)
            self._log(f"sample LP solution {v2 * self.unit:.6f} (feasible {f2})")
            if f2 and v2 < self.ub:
                self.ub, self.best = v2, sub
                start, val, feas = sub, v2, f2
        if feas and self._remaining() <= 0:
            # the time limit is spent: the start, without the initial pairs and LP (0.2 s and
            # more on the world instance), so a 1-s limit is not overrun
            self._log(f"heuristic {val * self.unit:.6f}, time limit reached")
            now = time.perf_counter()
            return self._finish("feasible", -math.inf, now - self.t0, now, math.nan, False, "")
        cand_of_pair = np.full(self.data.n_pairs, -1, dtype=np.int64)
        cand_of_pair[self.cand_p] = np.arange(len(self.cand_p))
        self.cand_of_pair = cand_of_pair
        heur = np.array([cand_of_pair[r[0]] for r in self.ev.rows(start) if r[0] >= 0])
        self._log(
            f"heuristic {val * self.unit:.6f} (feasible {feas}) in {time.perf_counter() - t_h:.2f}s"
        )
        init = np.union1d(self._initial_pairs(self.per_domain), heur[heur >= 0])
        if feas and self.init_incumbent_sites:
            # every pair at the incumbent's sites: the LP's support is mostly there
            at = np.isin(self.data.pair_j[self.cand_p], start)
            init = np.union1d(init, np.flatnonzero(at))
        self._add_pairs(init)
        build_s = time.perf_counter() - self.t0
        t1 = time.perf_counter()
        lb = -math.inf
        lp_bound = math.nan
        used_mip = False
        message = ""
        status = self._column_generation()
        if status == "proven":
            lb = self.lag
            return self._finish("optimal", lb, build_s, t1, lp_bound, used_mip, "")
        if status == "optimal" and self._artificials_used():
            self._log("artificials in use: adding every pair")
            self._add_pairs(np.arange(len(self.cand_p)))
            self._drop_artificials()
            status = self._run()
        if status == "infeasible":
            return self._finish("infeasible", lb, build_s, t1, lp_bound, used_mip, "")
        if status == "optimal":
            lb = float(self.h.getInfo().objective_function_value)
            lp_bound = lb * self.unit
            y = np.asarray(self.h.getSolution().col_value)[: self.m]
            if np.abs(y - np.round(y)).max() < 1e-6:
                sites = np.flatnonzero(y > 0.5)
                val, feas = self.ev.cost(sites)
                if feas and val < self.ub:
                    self.ub, self.best = val, sites
            if not self._proven(lb):
                self._round(y)
                self._log(f"LP bound {lb * self.unit:.6f}, incumbent {self.ub * self.unit:.6f}")
            if not self._proven(lb) and self._remaining() > 0 and self.mip:
                lo, hi = self._restrict(lb)
                status = "limit"
                if self.branching:
                    lb, status = self._branch(lb, lo, hi)
                if status == "limit" and not self._proven(lb) and self._remaining() > 0:
                    used_mip = True
                    lb_mip, status = self._mip(lb, lo, hi)
                    lb = max(lb, lb_mip)
                elif status == "limit":
                    status = "optimal" if self._proven(lb) else "time"
        lb = max(lb, self.lag)
        if status == "time":
            message = "stopped by the time limit"
            if not math.isfinite(self.ub):
                # cheap incumbent so a stopped run still reports a solution when one is found
                self.deadline = time.perf_counter() + 0.5
                self._round(np.zeros(self.m))
        final = "optimal" if self._proven(lb) else ("feasible" if math.isfinite(self.ub) else "")
        if not final:
            final = "infeasible" if status == "infeasible" else "no_solution"
        return self._finish(final, lb, build_s, t1, lp_bound, used_mip, message)

    def _proven(self, lb: float) -> bool:
        if not math.isfinite(self.ub) or not math.isfinite(lb):
            return False
        return self.ub - lb <= max(self.gap_rel * abs(self.ub), 1e-9 * max(1.0, abs(self.ub)))

    def _restrict(self, lb: float) -> tuple[np.ndarray, np.ndarray]:
        """The reduced-cost filtered model (see the module docstring) in the master.

        Every pair a solution cheaper than the incumbent can use enters; the master's other
        columns are fixed at 0. Returns the site bounds (``lo``, ``hi``) with the sites fixed
        closed or open by their reduced cost; the caller sets them.
        """
        h = self.h
        rc, ry, _ = self._extended(1e-7)
        # the two Lagrangian bounds at the same duals screen the columns too (before the
        # artificials go: the linking-row bound counts them)
        screens = [self._lagrangian_bound(), self._count_bound()]
        self._drop_artificials()
        slack = (self.ub - lb) if math.isfinite(self.ub) else math.inf
        margin = slack + 1e-7 * max(1.0, abs(lb))
        # a column z_pr at site j in an integer solution also has y_j = 1: both reduced costs
        # count (distinct columns, each term of c·x − LB nonnegative)
        col_ok = rc + np.maximum(ry, 0.0)[self.cand_site][:, None] <= margin
        m = self.m
        lo = self.data.must_open.astype(float)
        hi = (~self.data.forbidden).astype(float)
        hi[(ry > margin) & (lo < 0.5)] = 0.0
        lo[(-ry > margin) & (hi > 0.5)] = 1.0
        if math.isfinite(self.ub):
            for bound, excess in screens:
                if excess is None or not math.isfinite(bound):
                    continue
                tol_b = 1e-7 * max(1.0, abs(bound))
                col_ok &= excess <= self.ub - bound + tol_b
        col_ok &= (hi[self.cand_site] > 0.5)[:, None]
        self._enter(np.flatnonzero(col_ok.any(axis=1)))
        # the master's columns the filters exclude are fixed at 0 (presolve drops them)
        pos_of_col = np.concatenate(self.col_pos)
        rank_of_col = np.concatenate(self.col_rank)
        off = np.flatnonzero(~col_ok[pos_of_col, rank_of_col])
        if len(off):
            idx = (m + self.n * self.k + off).astype(np.int32)
            zero = np.zeros(len(off))
            h.changeColsBounds(len(off), idx, zero, zero)
        self._log(
            f"filtered model: {int(col_ok.any(axis=1).sum())} of {len(self.in_model)} pairs "
            f"({int(col_ok.sum())} columns), "
            f"{int((hi < 0.5).sum())} sites closed, {int((lo > 0.5).sum())} open"
        )
        return lo, hi

    def _enter(self, pos: np.ndarray) -> None:
        """Add candidate positions ``pos`` to the solved master, with the basis of the extended
        duals for the pairs whose deficit a closed site absorbed (:meth:`_absorbed_basis`)."""
        pos = pos[~self.in_model[pos]]
        if len(pos) == 0:
            return
        if not self.absorbed_basis:
            self._add_pairs(pos)
            return
        # the master's (unextended) reduced costs and absorbing sites, before the pairs enter
        rc_master = self._dual_arrays().rc
        absorb = self._y_at_lower() & ~self.data.must_open
        n_cols0 = self.n_cols
        self._add_pairs(pos)
        self._absorbed_basis(pos, n_cols0, rc_master, absorb)

    def _absorbed_basis(
        self, pos: np.ndarray, n_cols0: int, rc: np.ndarray, absorb: np.ndarray
    ) -> None:
        """Make the basis after pairs ``pos`` entered (columns from ``n_cols0`` on) optimal
        again, as the extended duals are (module docstring, "Column generation").

        HiGHS extends a basis by making every new row basic (its slack) and every new column
        nonbasic at 0: the new linking rows get ``π_p = 0`` and a pair whose site absorbed its
        deficit (``y_j`` nonbasic at 0, ``min_r rc_pr < 0``) enters dual infeasible. Its linking
        row nonbasic at its bound and its cheapest column basic (at 0, since ``y_j = 0``) gives
        ``π_p = min_r rc_pr``, the extension's multiplier: every column of the pair is dual
        feasible and ``y_j``'s reduced cost falls by the absorbed deficit. The basis stays
        nonsingular (each such column is the only basic one of its new linking row, where the
        site's ``y_j`` is nonbasic) and primal feasible (the new columns are 0). On the world
        instance at N = 8, SLA 160 ms the filtered LP's first solve took 29,346 dual simplex
        iterations (73 s at load 6) from HiGHS's extension, its value being the master's.
        """
        worst = _rowmin(rc[pos])
        take = absorb[self.cand_site[pos]] & (worst < 0.0)
        if not take.any():
            return
        h = self.h
        k = self.k
        # the block _add_pairs appended: columns in (pair, rank) order of the finite costs
        cols_pos, cols_rank = np.nonzero(np.isfinite(self.cand_cost[pos]))
        col_of = np.full((len(pos), k), -1, dtype=np.int64)
        col_of[cols_pos, cols_rank] = n_cols0 + np.arange(len(cols_pos))
        sel = np.flatnonzero(take)
        best_rank = np.argmin(rc[pos[sel]], axis=1)
        cols = col_of[sel, best_rank]
        rows = self.link_row[pos[sel]]
        basis = h.getBasis()
        if not basis.valid:
            return
        col_status = basis.col_status
        row_status = basis.row_status
        basic = highspy.HighsBasisStatus.kBasic
        upper = highspy.HighsBasisStatus.kUpper
        for c in cols.tolist():
            col_status[c] = basic
        for r in rows.tolist():
            row_status[r] = upper
        basis.col_status = col_status
        basis.row_status = row_status
        h.setBasis(basis)
        self._log(f"basis: {len(sel)} absorbed pairs basic in their linking rows")

    def _node_lp(
        self, lo: np.ndarray, hi: np.ndarray, basis: highspy.HighsBasis | None
    ) -> tuple[str, float, np.ndarray, highspy.HighsBasis | None]:
        """The filtered LP with site bounds ``lo``, ``hi``, warm from ``basis`` (dual simplex,
        cut off at the incumbent). Returns (status, value, y, basis): ``"optimal"``,
        ``"cutoff"`` (value ≥ the incumbent: the dual simplex stopped there, value = incumbent),
        ``"infeasible"`` (value inf) or ``"time"``."""
        h = self.h
        m = self.m
        if basis is not None:
            h.setBasis(basis)
        h.changeColsBounds(m, np.arange(m, dtype=np.int32), lo, hi)
        h.setOptionValue("objective_bound", self.ub if math.isfinite(self.ub) else _INF)
        rem = self._remaining()
        if rem <= 0:
            return "time", -math.inf, np.zeros(m), None
        h.setOptionValue("time_limit", h.getRunTime() + max(rem, 1e-3))
        self._duals = None
        h.run()
        self.bb_lps += 1
        ms = h.getModelStatus()
        if ms == _MS.kOptimal:
            y = np.asarray(h.getSolution().col_value)[:m].copy()
            val = float(h.getInfo().objective_function_value)
            return "optimal", val, y, h.getBasis()
        if ms == _MS.kObjectiveBound:
            return "cutoff", self.ub, np.zeros(m), None
        if ms == _MS.kInfeasible:
            return "infeasible", math.inf, np.zeros(m), None
        if ms == _MS.kTimeLimit:
            return "time", -math.inf, np.zeros(m), None
        raise SolverError(f"HiGHS LP status {h.modelStatusToString(ms)} in the site branching")

    def _branch(self, lb: float, lo: np.ndarray, hi: np.ndarray) -> tuple[float, str]:
        """Site branch and bound on the filtered model (:meth:`_restrict`), best bound first.

        Every node is the filtered LP with some ``y_j`` fixed, re-solved by the dual simplex
        from its parent's basis and cut off at the incumbent. A node's children come from
        strong branching: both children of up to ``_BRANCH_CANDIDATES`` of its most fractional
        sites are solved (stopping after ``_BRANCH_LOOKAHEAD`` in a row without a better one),
        and the first site with a child at or above the incumbent (pruned: the node does not
        split), else the one whose weaker child is strongest, is branched on; its children
        enter the queue already solved. An integral child updates the incumbent at once. A node with integral ``y`` is
        evaluated exactly (:meth:`_Evaluator.cost`, at most its LP value). The filtered model
        contains an optimal solution, so when the queue is empty the smallest value of the
        closed nodes (capped at the incumbent) is a proven bound; stopped early, the smallest
        value of the open nodes is.

        Returns (bound, status): ``"optimal"`` (the tree is closed), ``"time"``, ``"limit"``
        (more than ``_BRANCH_MAX_LPS`` LP solves: the HiGHS MIP takes over) or
        ``"infeasible"`` (no incumbent and no integral point).
        """
        import heapq

        h = self.h
        h.setOptionValue("simplex_strategy", 1)
        self.bb_lps = 0
        closed = math.inf  # smallest LP value of a closed node
        st, val, y, basis = self._node_lp(lo, hi, None)
        if st == "time":
            return lb, "time"
        self._log(f"branching root: {st} {val * self.unit:.6f} ({self.bb_lps} LPs)")
        queue: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray, object]] = []
        seq = 0

        def improve(sites: np.ndarray) -> None:
            v, feas = self.ev.cost(sites)
            if feas and v < self.ub:
                self.ub, self.best = v, sites
                self._log(f"branching incumbent {v * self.unit:.6f}")

        def settle(st: str, val: float, y: np.ndarray, c_lo, c_hi, basis) -> None:
            # an integral y is evaluated; a node at or above the incumbent is closed
            nonlocal closed, seq
            if st in ("cutoff", "infeasible") or (st == "optimal" and val >= self.ub):
                closed = min(closed, val)
                return
            if np.abs(y - np.round(y)).max() < 1e-6:
                improve(np.flatnonzero(y > 0.5))
                closed = min(closed, val)
                return
            seq += 1
            heapq.heappush(queue, (val, seq, c_lo, c_hi, y, basis))

        settle(st, val, y, lo, hi, basis)
        while queue:
            val, _, n_lo, n_hi, y, basis = heapq.heappop(queue)
            if self._proven(min(val, closed)):
                closed = min(closed, val)
                for item in queue:
                    closed = min(closed, item[0])
                queue.clear()
                break
            if self.bb_lps >= _BRANCH_MAX_LPS:
                heapq.heappush(queue, (val, 0, n_lo, n_hi, y, basis))
                break
            frac = np.abs(y - np.round(y))
            cands = np.flatnonzero(frac > 1e-6)
            cands = cands[np.lexsort((cands, -frac[cands]))][:_BRANCH_CANDIDATES]
            best_score, best_children, since = -math.inf, None, 0
            for j in cands.tolist():
                children = []
                for v in (0.0, 1.0):
                    c_lo, c_hi = n_lo.copy(), n_hi.copy()
                    c_lo[j] = c_hi[j] = v
                    res = self._node_lp(c_lo, c_hi, basis)
                    if res[0] == "time":
                        bound = min([val, closed] + [q[0] for q in queue])
                        return max(lb, min(bound, self.ub)), "time"
                    if res[0] == "optimal" and np.abs(res[2] - np.round(res[2])).max() < 1e-6:
                        # an integral child at once: a better incumbent prunes more children
                        improve(np.flatnonzero(res[2] > 0.5))
                    children.append((res, c_lo, c_hi))
                vals = [c[0][1] for c in children]
                score = min(vals)
                if max(vals) >= self.ub or score > best_score:
                    best_score, best_children, since = score, children, 0
                else:
                    since += 1
                if max(vals) >= self.ub or since >= _BRANCH_LOOKAHEAD:
                    break
            assert best_children is not None
            if self.verbose:
                kids = ", ".join(f"{c[0][0]} {c[0][1] * self.unit:.6f}" for c in best_children)
                self._log(
                    f"node {val * self.unit:.6f}: {len(cands)} candidates, children {kids}, "
                    f"{self.bb_lps} LPs, {len(queue)} open"
                )
            for (c_st, c_val, c_y, c_basis), c_lo, c_hi in best_children:
                settle(c_st, c_val, c_y, c_lo, c_hi, c_basis)
        self._log(
            f"branching: {self.bb_lps} LPs, {len(queue)} open, incumbent {self.ub * self.unit:.6f}"
        )
        if queue:
            bound = min([closed] + [q[0] for q in queue])
            return max(lb, min(bound, self.ub)), "limit"
        if not math.isfinite(self.ub):
            return lb, "infeasible"
        return max(lb, min(closed, self.ub)), "optimal"

    def _mip(self, lb: float, lo: np.ndarray, hi: np.ndarray) -> tuple[float, str]:
        """HiGHS MIP on the filtered model (:meth:`_restrict`); returns (bound, status)."""
        h = self.h
        m = self.m
        h.setOptionValue("objective_bound", _INF)
        h.changeColsBounds(m, np.arange(m, dtype=np.int32), lo, hi)
        h.changeColsIntegrality(
            m,
            np.arange(m, dtype=np.int32),
            np.full(m, highspy.HighsVarType.kInteger),
        )
        h.setOptionValue("presolve", "on")
        h.setOptionValue("simplex_strategy", 1)
        h.setOptionValue("mip_rel_gap", float(self.gap_rel))
        h.setOptionValue("mip_abs_gap", 1e-9)
        # the incumbent is the LP's rounding + interchange: HiGHS's RENS, RINS and root
        # reduced-cost sub-MIPs only cost time (world N = 8, SLA 160 ms: 75,774 of 174,251 LP
        # iterations, 249 of 664 s; without them 86 instead of 159-177 CPU s, same optimum)
        for opt in _MIP_HEURISTICS_OFF:
            h.setOptionValue(opt, False)
        if math.isfinite(self.ub):
            start = highspy.HighsSolution()
            x = np.zeros(h.getNumCol())
            x[self.best] = 1.0
            rows = self.ev.rows(self.best)
            pos_of_col = np.concatenate(self.col_pos)
            rank_of_col = np.concatenate(self.col_rank)
            col_of = {
                (int(a), int(b)): m + self.n * self.k + q
                for q, (a, b) in enumerate(zip(pos_of_col, rank_of_col, strict=True))
            }
            cand_of_pair = np.full(self.data.n_pairs, -1, dtype=np.int64)
            cand_of_pair[self.cand_p] = np.arange(len(self.cand_p))
            ok = True
            for p, r, _, _ in rows:
                c = col_of.get((int(cand_of_pair[p]), r - 1))
                if c is None:
                    ok = False
                    break
                x[c] = 1.0
            if ok:
                start.col_value = list(x)
                start.value_valid = True
                h.setSolution(start)
        status = self._run()
        info = h.getInfo()
        ms = h.getModelStatus()
        if ms == _MS.kInfeasible:
            return lb, "infeasible"
        bound = float(info.mip_dual_bound)
        if info.primal_solution_status == 2 or ms == _MS.kOptimal:  # kSolutionStatusFeasible
            x = np.asarray(h.getSolution().col_value)
            sites = np.flatnonzero(x[:m] > 0.5)
            val, feas = self.ev.cost(sites)
            if feas and val < self.ub:
                self.ub, self.best = val, sites
        if status == "optimal":
            return max(lb, min(bound, self.ub)), "optimal"
        return max(lb, min(bound, self.ub) if math.isfinite(bound) else lb), status

    def _finish(
        self,
        status: str,
        lb: float,
        build_s: float,
        t1: float,
        lp_bound: float,
        used_mip: bool,
        message: str,
    ) -> RedundantSolution:
        solve_s = time.perf_counter() - t1
        ub = self.ub
        feasible = math.isfinite(ub) and status in ("optimal", "feasible")
        obj = ub * self.unit if feasible else math.inf
        if status == "infeasible":
            bound, gap = math.inf, math.inf
            message = message or "the LP relaxation is infeasible: no open set serves every demand"
        elif status == "optimal":
            bound, gap = min(lb, ub) * self.unit, 0.0
        else:
            bound = lb * self.unit if math.isfinite(lb) else -math.inf
            gap = rel_gap(obj, bound) if feasible else math.inf
            if not message:
                message = "stopped by the time limit"
        rows = self.ev.rows(self.best) if feasible else []
        return RedundantSolution(
            status=status,
            objective=obj,
            best_bound=bound,
            gap=gap,
            open_sites=np.sort(np.asarray(self.best, dtype=np.int64))
            if feasible
            else np.zeros(0, dtype=np.int64),
            rows=rows,
            build_s=build_s,
            solve_s=solve_s,
            n_vars=int(self.h.getNumCol()) if hasattr(self, "h") else 0,
            n_rows=int(self.h.getNumRow()) if hasattr(self, "h") else 0,
            message=message,
            lp_bound=lp_bound,
            n_pricing_rounds=self.rounds,
            used_mip=used_mip,
            n_demand_solved=self.n,
            warm_start=self.warm,
            screened=self._screen_ub is not None,
            n_branch_lps=self.bb_lps,
        )


def _infeasible_message(need: float, c_hi: float, k: int) -> str:
    """Why no open set is feasible, from the feasibility MIP's bound on the sites needed."""
    backups = f"{k - 1} backup{'s' if k > 2 else ''} in other failure domains"
    if not math.isfinite(need):
        return f"no open set gives every demand point a primary within its SLA and {backups}"
    return (
        f"every demand point needs a primary within its SLA and {backups}: that takes at least "
        f"{math.ceil(need - 1e-6)} sites, more than the {int(c_hi)} allowed"
    )


def solve_redundant_median(
    data: ModelData,
    *,
    time_limit_s: float | None = None,
    gap_rel: float = 1e-9,
    threads: int | None = None,
    verbose: bool = False,
    initial_open: np.ndarray | None = None,
    aggregate: bool = True,
    progress: Callable[..., None] | None = None,
) -> RedundantSolution:
    """Solve the median objective with redundancy ``k ≥ 2`` to proven optimality.

    Parameters
    ----------
    data : ModelData
        Problem arrays (``objective="median"``; capacity, percentile SLA, budget and provider
        limits are not supported).
    time_limit_s : float, optional
        Wall-clock limit; a stopped run returns ``"feasible"`` (with its gap) or
        ``"no_solution"``.
    gap_rel : float
        Relative gap at which a solution counts as optimal.
    threads : int, optional
        HiGHS threads.
    verbose : bool
        Print HiGHS logs and the pricing rounds.
    initial_open : numpy.ndarray of int, optional
        Site indices of a starting open set (e.g. the previous point of a sweep). Used in place
        of the greedy and sample heuristics when it is feasible (right count, must-open sites in,
        no forbidden site, every SLA met); ignored otherwise. It only changes speed, and which of
        several equally good optima is returned.
    aggregate : bool
        Merge demand points that every open set serves identically (same reachable sites and
        permissions, latency rows equal up to a constant, e.g. cities behind the same network
        node) into one weighted point before solving (default ``True``). Exact: the objective
        and assignment are evaluated on the original points; the rounding slack (rows are
        compared to 1e-9 ms) is subtracted from the reported bound.
    progress : callable, optional
        A :class:`placement.progress.Reporter` (or any ``f(incumbent, bound, message)``) called
        after every pricing round with the incumbent and the Lagrangian bound.

    Returns
    -------
    RedundantSolution
    """
    if data.capacity is not None or data.sla_share is not None or data.budget_usd is not None:
        raise ValueError("solve_redundant_median does not handle capacity, percentile SLA, budget")
    if data.max_per_provider:
        raise ValueError("solve_redundant_median does not handle per-provider limits")
    t0 = time.perf_counter()
    deadline = math.inf if time_limit_s is None else t0 + float(time_limit_s)
    agg = _aggregate(data) if aggregate else None
    solver = _Solver(
        agg.data if agg else data, deadline, gap_rel, threads, verbose, t0, initial_open
    )
    solver.progress = progress
    sol = solver.run()
    return sol if agg is None else _expand(data, sol, agg.slack, gap_rel)


def _expand(
    data: ModelData, sol: RedundantSolution, slack: float, gap_rel: float
) -> RedundantSolution:
    """Map a solution of the aggregated demand back to every original demand point."""
    if sol.status not in ("optimal", "feasible"):
        return sol
    usable = ~data.forbidden[data.pair_j] & (data.primary_ok | data.backup_ok)
    ev = _Evaluator(data, data.weight / data.total_weight, usable)
    obj, feasible = ev.cost(sol.open_sites)
    if not feasible:  # the classes share their reachable sites, so this cannot happen
        raise SolverError("aggregated solution is infeasible for the original demand points")
    bound = sol.best_bound - slack
    tol = max(gap_rel * abs(obj), 1e-9 * max(1.0, abs(obj)))
    status, message = sol.status, sol.message
    if status == "optimal" and obj - bound > tol:
        status = "feasible"
        message = f"the demand aggregation's rounding slack ({slack:.3g}) exceeds the gap tolerance"
    gap = 0.0 if status == "optimal" else rel_gap(obj, bound)
    return replace(
        sol,
        status=status,
        objective=obj,
        best_bound=min(bound, obj) if status == "optimal" else bound,
        gap=gap,
        rows=ev.rows(sol.open_sites),
        message=message,
    )
