"""Reuse along the SLA axis of a sweep: a looser point's proven answer settles a tighter one.

Two problems that differ only in their hard SLAs (``max_latency_ms``, ``backup_max_latency_ms``)
have nested feasible sets: every solution of the tighter one is a solution of the looser one,
with the same objective (the pairs, weights, latencies and costs are the same; only fewer pairs
are allowed). Hence, when both keep the same demand points (an ``unreachable`` policy may leave
out or waive other points at another SLA):

* the looser point's **proven optimum**, when its every assignment is allowed in the tighter
  model (every primary within the SLA, every backup within the backup SLA), is an optimum of the
  tighter point, proven by the same bound (same objective, bound and gap);
* a **proven infeasible** looser point proves every tighter point infeasible.

:func:`reuse_result` checks this on the tighter point's own lowered model (each assignment row
mapped to an allowed pair of it) and builds the Result through the normal assembly path, so its
metrics (share within the SLA, …) are those of the tighter SLA; ``result.solver["reused_from"]``
names the point it came from. Objectives whose value depends on the SLA cannot be affected: the
coverage objective ignores ``max_latency_ms`` and its own ``sla_ms`` is not an SLA axis here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from placement.assemble import assemble
from placement.formulations.contract import Solution
from placement.problem import Problem
from placement.result import Result
from placement.solve import SolverOptions

__all__ = ["SLA_KEYS", "dominates", "reuse_result", "sla_value"]

#: The hard-SLA parameters along which a sweep reuses answers (looser = larger, None = none).
SLA_KEYS = ("max_latency_ms", "backup_max_latency_ms")

_OPTION_KEYS = ("solver", "time_limit_s", "gap_rel", "threads", "verbose")


def sla_value(value: Any) -> float | None:
    """An SLA grid value as an ordered number (None → +inf), or None when it is not one."""
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    v = float(value)
    return None if math.isnan(v) else v


def dominates(loose: Mapping[str, Any], tight: Mapping[str, Any], axes: tuple[str, ...]) -> bool:
    """True when ``loose`` has every SLA of ``axes`` at least as loose as ``tight``."""
    for k in axes:
        a, b = sla_value(loose[k]), sla_value(tight[k])
        if a is None or b is None or a < b:
            return False
    return True


def _options(solve_kwargs: Mapping[str, Any]) -> SolverOptions:
    return SolverOptions(**{k: solve_kwargs[k] for k in _OPTION_KEYS if k in solve_kwargs})


def _ids(frame: pd.DataFrame, column: str) -> list[str]:
    if frame is None or column not in getattr(frame, "columns", ()):
        return []
    return [str(x) for x in frame[column]]


def _prechecks(problem: Problem, source: Result) -> bool:
    """Cheap necessary conditions on the source's own tables (before lowering the point)."""
    if source.status == "infeasible":
        return True
    if source.status != "optimal" or source.objective is None:
        return False
    a = source.assignments
    if not len(a):
        return False
    waived = set(_ids(source.unreachable, "demand_id"))
    lat = a["latency_ms"].to_numpy(dtype=float)
    keep = ~a["demand_id"].astype(str).isin(waived).to_numpy() if waived else np.ones(len(a), bool)
    rank = a["rank"].to_numpy()
    sla = problem.max_latency_ms
    if sla is not None and problem.objective != "coverage":
        if (lat[(rank == 1) & keep] > sla + 1e-9).any():
            return False
    bsla = problem.backup_max_latency_ms
    return not (bsla is not None and (lat[(rank >= 2) & keep] > bsla + 1e-9).any())


def reuse_result(
    problem: Problem,
    source: Result | None,
    source_point: Mapping[str, Any],
    solve_kwargs: Mapping[str, Any] | None = None,
) -> Result | None:
    """The Result of ``problem`` taken from a looser SLA point's proven answer, or None.

    Parameters
    ----------
    problem : Problem
        The tighter point; it must differ from the source's problem only in ``max_latency_ms``
        and ``backup_max_latency_ms``, each at most the source's (the sweep guarantees it).
    source : Result or None
        The looser point's Result: used only when ``optimal`` (its every assignment must be
        allowed in ``problem``'s lowered model) or ``infeasible``, and when ``problem`` keeps
        exactly the source's demand points (and the same unreachable ones).
    source_point : mapping
        The source's grid point, recorded as ``result.solver["reused_from"]``.
    solve_kwargs : mapping, optional
        The :meth:`Problem.solve` options of the sweep (recorded in ``result.solver``).

    Returns
    -------
    Result or None
        Status, objective, bound and gap of the source; assignments and metrics assembled for
        ``problem`` (its SLA); ``timings["solve_s"]`` 0. None when the answer cannot be reused.
    """
    if source is None or not _prechecks(problem, source):
        return None
    t0 = time.perf_counter()
    lowered = problem.lower()
    solved = lowered.problem
    data = lowered.data
    # the same demand points, and the same ones left out / waived by the unreachable policy
    if _ids(solved.demand, "demand_id") != _ids(source.demand, "demand_id"):
        return None
    here = lowered.unreachable if lowered.unreachable is not None else pd.DataFrame()
    if sorted(_ids(here, "demand_id")) != sorted(_ids(source.unreachable, "demand_id")):
        return None
    # a reused source passes on the point that was solved (and its reason)
    origin = source.solver.get("reused_from")
    reused = dict(origin) if origin else {str(k): v for k, v in source_point.items()}
    extra: dict[str, Any] = {
        "method": source.solver.get("method"),
        "reused_from": reused,
    }
    options = _options(solve_kwargs or {})
    where = ", ".join(f"{k}={v}" for k, v in reused.items())
    if source.status == "infeasible":
        why = f" ({source.message})" if source.message else ""
        message = (
            source.message
            if origin
            else f"infeasible: the looser point {where} of this sweep, with the same demand and "
            f"every other parameter equal, is proven infeasible{why}"
        )
        sol = Solution(
            "infeasible", raw_status=str(source.solver.get("raw_status", "")), message=message
        )
        return assemble(
            solved, lowered, sol, options, build_s=time.perf_counter() - t0, extra=extra
        )
    a = source.assignments
    d_pos = pd.Index(_ids(solved.demand, "demand_id")).get_indexer(a["demand_id"].astype(str))
    s_pos = pd.Index(_ids(solved.sites, "site_id")).get_indexer(a["site_id"].astype(str))
    if (d_pos < 0).any() or (s_pos < 0).any():
        return None
    n = np.int64(data.n_sites)
    keys = pd.Index(data.pair_i.astype(np.int64) * n + data.pair_j.astype(np.int64))
    pair = keys.get_indexer(d_pos.astype(np.int64) * n + s_pos.astype(np.int64))
    if (pair < 0).any():
        return None  # a pair the tighter SLA prunes
    rank = a["rank"].to_numpy(dtype=np.int64)
    allowed = np.where(rank == 1, data.primary_ok[pair], data.backup_ok[pair])
    if not allowed.all():
        return None
    open_pos = pd.Index(_ids(solved.sites, "site_id")).get_indexer(
        _ids(source.open_sites, "site_id")
    )
    if (open_pos < 0).any():
        return None
    open_mask = np.zeros(data.n_sites, dtype=bool)
    open_mask[open_pos] = True
    share = a["share"].to_numpy(dtype=float)
    rows = [
        (int(p), int(r), int(i), float(s))
        for p, r, i, s in zip(pair, rank, d_pos, share, strict=True)
    ]
    sol = Solution(
        "optimal",
        objective=source.objective,
        bound=source.best_bound,
        open_mask=open_mask,
        rows=rows,
        raw_status=str(source.solver.get("raw_status", "")),
        message=source.message,
        restart=source.restart,
        sense=-1 if problem.objective == "coverage" else 1,
    )
    result = assemble(solved, lowered, sol, options, build_s=time.perf_counter() - t0, extra=extra)
    # the source's proof, word for word (the gap is recomputed from the same two numbers)
    return _with_gap(result, source.gap)


def _with_gap(result: Result, gap: float | None) -> Result:
    import dataclasses

    return dataclasses.replace(result, gap=gap)
