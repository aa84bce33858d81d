"""Parameter sweeps: solve the product of a grid of Problem arguments, locally or on Dask.

The latency table is computed and validated once from the base (unpruned,
:func:`~placement.scenarios._problem.with_full_latency`) and every grid point is built with it, so
neither the latency model nor the table's validation runs again. A point whose
construction or solve raises is reported with status ``error`` and the message; the others are
kept. Rows are in grid order whichever executor ran them.

Warm starts (``warm_start=True``, the default): the points are split into contiguous chunks of
the grid order — one chunk when serial, one per worker for processes and Dask — and each chunk
is solved in order, every point warm-started (:meth:`Problem.solve`'s ``warm_start``) from the
open sites of the last point of the same chunk that was solved (and, for the fast p-median, from
its root LP: cuts and basis, see :class:`placement.formulations.radius.RootRestart`). On Dask
(``executor=Client`` or ``scheduler="tcp://host:8786"``) every point is its own task and a chunk
is a chain of dependent tasks, so progress is counted point by point.
Neighbouring grid points usually have close optima, so the solvers start from a near-optimal
incumbent. Objectives and statuses are exactly those of a cold sweep (each point is still proven
optimal); when a point has several optimal open sets, which one is returned may depend on the
chain of warm starts, i.e. on the executor and the number of workers (it is the same on every
run with the same ones).

Reuse along the SLA axes (``reuse=True``, the default; :mod:`placement.scenarios.reuse`): when
the grid has several values of ``max_latency_ms`` or ``backup_max_latency_ms``, the points equal
in every other parameter form a group, solved on one worker from the loosest SLA (None first)
to the tightest; by default every group is a chain of its own, handed to whichever worker is
free, and warm-started within the group only (``schedule="dynamic"``, :func:`plan_sweep`). A tighter point's
feasible set is a subset of a looser one's, so a looser point's proven optimum whose every
assignment is allowed at the tighter SLAs, with the same demand points, is the tighter point's
optimum (same objective, bound and gap), and a proven infeasible looser point makes the tighter
one infeasible. Such a point is not solved: its Result is assembled from that answer for its own
SLA and carries ``solver["reused_from"]`` (the grid point that was solved); the table's
``reused`` column flags it. A point that is solved warm-starts from the previous point of its
chain with the same SLAs (one step along the other axes), else from the previous point.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from placement.errors import ValidationError
from placement.problem import Problem
from placement.result import Result
from placement.scenarios._problem import check_problem_keys, with_full_latency
from placement.scenarios.compare import result_row
from placement.scenarios.reuse import SLA_KEYS, dominates, reuse_result, sla_value

__all__ = [
    "SweepPlan",
    "SweepResult",
    "check_grid_budget",
    "chunk_bounds",
    "connect",
    "grid_points",
    "plan_sweep",
    "run_chain",
    "solve_chunk",
    "sweep",
]


@dataclass(frozen=True)
class SweepResult:
    """The points of a sweep and their results.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per grid point, in grid order: the grid columns, then ``status``, ``gap``,
        ``objective``, ``n_open``, latency and cost metrics (a metric named like a grid parameter
        gets the suffix ``_achieved``, e.g. ``max_latency_ms_achieved``), ``open_sites``, ``message``,
        ``reused`` (True when the point took a looser SLA point's proven answer instead of a
        solve, see ``reuse``), ``solve_s`` (wall seconds of the point; the only column that
        differs between runs).
    results : tuple of Result or None
        The Result of each row (None for an ``error`` row).
    grid : dict
        The grid as given.
    executor : str
        ``serial``, ``processes`` or ``dask``.
    wall_s : float
        Wall seconds of the whole sweep (latency table included).
    latency_s : float
        Wall seconds spent computing the shared latency table.
    """

    table: pd.DataFrame
    results: tuple[Result | None, ...]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    executor: str = "serial"
    wall_s: float = 0.0
    latency_s: float = 0.0

    def __len__(self) -> int:
        return len(self.results)

    def result(self, **point: Any) -> Result | None:
        """The Result of the grid point with these values (e.g. ``n_sites=4``; ``None``, e.g.
        ``max_latency_ms=None`` for "no SLA", matches the table's missing value)."""
        mask = pd.Series(True, index=self.table.index)
        for k, v in point.items():
            if k not in self.table.columns:
                raise KeyError(f"{k!r} is not an axis of this sweep: {list(self.table.columns)}")
            col = self.table[k]
            mask &= col.isna() if v is None else (col == v)
        idx = list(self.table.index[mask])
        if len(idx) != 1:
            raise KeyError(f"{len(idx)} points match {point}")
        return self.results[idx[0]]

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return self.table._repr_html_()

    def __repr__(self) -> str:
        ok = int((self.table["status"].isin(("optimal", "feasible"))).sum())
        return (
            f"SweepResult({len(self)} points, {ok} solved, executor={self.executor!r}, "
            f"wall_s={self.wall_s:.2f})"
        )


def check_grid_budget(sizes: Sequence[int], limit: int | None = None) -> int:
    """Refuse a grid whose product of axis sizes exceeds the budget, before building it.

    Parameters
    ----------
    sizes : sequence of int
        Number of values of each grid axis.
    limit : int, optional
        Largest number of points; default the ``PLACEMENT_MAX_GRID_POINTS`` budget (10,000; see
        :data:`placement.params.BUDGETS`).

    Returns
    -------
    int
        The number of grid points.
    """
    from placement.params import BUDGETS, budget

    cap = budget("grid_points") if limit is None else limit
    total = 1
    for n in sizes:
        total *= max(int(n), 0)
        if total > cap:
            env = BUDGETS["grid_points"][1]
            raise ValidationError(
                f"the grid has more than {cap:,} points (axes of {', '.join(f'{n:,}' for n in sizes)}"
                f" values); raise the limit with max_points= or the environment variable {env}=N",
                table="grid",
                value=total,
            )
    return total


def grid_points(
    grid: Mapping[str, Sequence[Any]], *, max_points: int | None = None
) -> list[dict[str, Any]]:
    """The product of the grid in key order (last key fastest), within the grid budget.

    ``max_points`` (default: the ``PLACEMENT_MAX_GRID_POINTS`` budget, 10,000) caps the number of
    points; the axes are measured before anything is built.
    """
    from placement.params import budget

    if not isinstance(grid, Mapping) or not grid:
        raise ValidationError("the grid must be a non-empty mapping", table="grid")
    check_problem_keys(grid, "grid")
    cap = budget("grid_points") if max_points is None else max_points
    keys = list(grid)
    values = []
    for k in keys:
        v = grid[k]
        if isinstance(v, str | bytes) or not isinstance(v, Iterable):
            raise ValidationError("must be a list of values", table="grid", field=k, value=v)
        if hasattr(v, "__len__"):
            check_grid_budget([*(len(x) for x in values), len(v)], cap)
        v = list(itertools.islice(v, cap + 1))  # an endless iterator stops at the budget
        if not v:
            raise ValidationError("has no values", table="grid", field=k)
        values.append(v)
        check_grid_budget([len(x) for x in values], cap)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


# ---------------------------------------------------------------------- workers
_WORKER_BASE: Problem | None = None


def _init_worker(base: Problem) -> None:
    global _WORKER_BASE
    _WORKER_BASE = base


def solve_point(
    base: Problem,
    point: Mapping[str, Any],
    solve_kwargs: Mapping[str, Any],
    warm_start: Result | None = None,
    reuse_from: Sequence[tuple[Mapping[str, Any], Result | None]] = (),
) -> tuple[Result | None, str, float]:
    """Build and solve one grid point; never raises (errors come back as a message).

    ``warm_start`` is a neighbouring point's solved result: the point starts from it whole (its
    open sites and, for the fast p-median, its root LP) when the point's problem has all of its
    open sites, else from the open sites it has. ``reuse_from`` lists ``(point, result)`` of
    solved points with every SLA at least as loose and every other parameter equal: the first
    whose proven answer settles this point (:func:`placement.scenarios.reuse.reuse_result`) is
    taken instead of a solve.
    """
    t0 = time.perf_counter()
    try:
        problem = base.replace(**point)
        for source_point, source in reuse_from:
            reused = reuse_result(problem, source, source_point, solve_kwargs)
            if reused is not None:
                return reused, "", time.perf_counter() - t0
        kwargs = dict(solve_kwargs)
        ids = _open_ids(warm_start)
        if ids:
            known = set(problem.sites["site_id"])
            whole = all(s in known for s in ids)
            kwargs["warm_start"] = warm_start if whole else [s for s in ids if s in known]
        result = problem.solve(**kwargs)
        return result, "", time.perf_counter() - t0
    except Exception as exc:  # a failed point must not lose the others
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0


def _open_ids(result: Result | None) -> tuple[str, ...] | None:
    """Open site ids of a solved point (None when it has none to start from)."""
    if result is None or result.status not in ("optimal", "feasible"):
        return None
    ids = tuple(str(s) for s in result.open_sites["site_id"])
    return ids or None


def solve_chunk(
    base: Problem,
    points: Sequence[Mapping[str, Any]],
    solve_kwargs: Mapping[str, Any],
    warm_start: bool = True,
) -> list[tuple[Result | None, str, float]]:
    """Solve consecutive grid points in order, each warm-started from the last solved one."""
    out = []
    previous: Result | None = None
    for point in points:
        outcome = solve_point(base, point, solve_kwargs, previous if warm_start else None)
        if _open_ids(outcome[0]):
            previous = outcome[0]
        out.append(outcome)
    return out


@dataclass(frozen=True)
class SweepPlan:
    """In which order, from which warm start and from which looser points each point is solved.

    Attributes
    ----------
    chains : tuple of tuple of int
        Point indices (grid order) in execution order: a chain runs in order on one worker (one
        chain per SLA group, handed to whichever worker is free, or one per worker with
        ``schedule="static"``; see :func:`plan_sweep`).
    warm_from : tuple of (int or None)
        Per point, the point whose warm start it takes (the last solved result of that point's
        own warm-start line: itself when solved, else the one it took).
    reuse_from : tuple of tuple of int
        Per point, the points of the same chain (every other parameter equal, every SLA at least
        as loose, solved before it) whose proven answer may settle it, nearest first.
    sla_axes : tuple of str
        The grid's SLA axes reused along (empty: no reuse).
    """

    chains: tuple[tuple[int, ...], ...]
    warm_from: tuple[int | None, ...]
    reuse_from: tuple[tuple[int, ...], ...]
    sla_axes: tuple[str, ...] = ()


def _hashable(value: Any) -> Any:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def plan_sweep(
    points: Sequence[Mapping[str, Any]],
    n_chains: int,
    *,
    warm_start: bool = True,
    reuse: bool = True,
    schedule: str = "dynamic",
) -> SweepPlan:
    """The execution plan of a sweep's points on ``n_chains`` workers (see :func:`sweep`).

    Without reuse (or without an SLA axis: ``max_latency_ms`` / ``backup_max_latency_ms`` with
    numeric or None values, more than one of them), the chains are contiguous chunks of the grid
    order (single points when cold) and each point is warm-started from the previous one of its
    chain. With reuse, the points are grouped by their other parameters; each group is ordered
    from the loosest SLA to the tightest (None, no SLA, first) and whole groups go to the
    chains in grid order, so that every point follows its looser neighbours on one worker (with
    fewer groups than ``n_chains``, the longest groups are cut in two, loose and tight halves).

    ``schedule="dynamic"`` (the default): every group is a chain of its own, in grid order, and
    the executor hands the next chain to whichever worker is free (a worker held up by one slow
    group leaves the other groups to the others). A point warm-starts from the previous point
    of its group (the looser SLA) and the head of a group starts cold, so no chain's input
    depends on which worker ran what before it: the results, open sets included, are the same
    whatever the executor and the number of workers (with at least as many groups as workers).
    ``schedule="static"``: ``n_chains`` chains
    fixed in advance, the groups dealt to them round-robin in grid order (chain ``c`` gets
    groups ``c``, ``c + n_chains``, …), so that slow and fast groups mix; a point warm-starts
    from the previous point of its chain with the same SLAs (the same SLA a step along the other
    axes, whose open set meets this SLA) or, at the head of a chain, from the previous point. On
    the world r=2 grid (20 groups of 10 SLAs) the static deal gave one worker 838 of the
    1,494 point-seconds.
    """
    if schedule not in ("dynamic", "static"):
        raise ValidationError(
            "must be 'dynamic' or 'static'", table="parameter", field="schedule", value=schedule
        )
    n = len(points)
    keys = list(points[0]) if n else []
    axes: tuple[str, ...] = ()
    if reuse and n:
        axes = tuple(
            k
            for k in SLA_KEYS
            if k in keys
            and all(sla_value(p[k]) is not None for p in points)
            and len({sla_value(p[k]) for p in points}) > 1
        )
    if not axes:
        if warm_start:
            chains = [tuple(range(a, b)) for a, b in chunk_bounds(n, n_chains)]
        else:
            chains = [(i,) for i in range(n)]
        warm: list[int | None] = [None] * n
        if warm_start:
            for chain in chains:
                for a, b in itertools.pairwise(chain):
                    warm[b] = a
        return SweepPlan(tuple(chains), tuple(warm), tuple(() for _ in range(n)), ())
    others = [k for k in keys if k not in axes]
    groups: dict[Any, list[int]] = {}
    for i, p in enumerate(points):
        groups.setdefault(tuple(_hashable(p[k]) for k in others), []).append(i)

    def looseness(i: int) -> tuple[float, ...]:
        return tuple(-(sla_value(points[i][k]) or 0.0) for k in axes)

    ordered = [sorted(g, key=looseness) for g in groups.values()]  # stable: grid order on ties
    while warm_start and len(ordered) < n_chains and max(len(g) for g in ordered) > 1:
        # fewer groups than workers: split the longest (its tighter half starts without reuse)
        k = max(range(len(ordered)), key=lambda x: len(ordered[x]))
        g = ordered[k]
        ordered[k : k + 1] = [g[: (len(g) + 1) // 2], g[(len(g) + 1) // 2 :]]
    reuse_from: list[tuple[int, ...]] = [()] * n
    for g in ordered:
        for pos, i in enumerate(g):
            before = [j for j in g[:pos] if dominates(points[j], points[i], axes)]
            # the nearest ones: no other dominating point lies between them and this point
            near = [
                j
                for j in before
                if not any(
                    k != j
                    and dominates(points[j], points[k], axes)
                    and looseness(k) != looseness(j)
                    for k in before
                )
            ]
            reuse_from[i] = tuple(reversed(near))
    if warm_start and schedule == "static":
        # groups are dealt round-robin, not in contiguous runs: costs change monotonically along
        # the other axes (few sites: fractional LPs, slow proofs), and a contiguous half of the
        # world r=2 grid (N 6-15 of 6-25) left one worker with every slow group
        n_used = max(1, min(n_chains, len(ordered)))
        chains = [tuple(i for g in ordered[c::n_used] for i in g) for c in range(n_used)]
    else:
        chains = [tuple(g) for g in ordered]
    warm = [None] * n
    if warm_start:
        for chain in chains:
            last_at: dict[tuple[float, ...], int] = {}
            for pos, i in enumerate(chain):
                sla = looseness(i)
                warm[i] = last_at.get(sla, chain[pos - 1] if pos else None)
                last_at[sla] = i
    return SweepPlan(tuple(chains), tuple(warm), tuple(reuse_from), axes)


def run_chain(
    base: Problem,
    items: Sequence[tuple[int, Mapping[str, Any], int | None, tuple[int, ...]]],
    solve_kwargs: Mapping[str, Any],
) -> list[tuple[int, tuple[Result | None, str, float]]]:
    """Solve one chain of a :class:`SweepPlan` in order.

    ``items`` are ``(index, point, warm_from, reuse_from)``; every index they refer to comes
    earlier in the chain. Returns ``(index, outcome)`` in chain order.
    """
    out: dict[int, tuple[Result | None, str, float]] = {}
    carry: dict[int, Result | None] = {}
    points = {i: p for i, p, _, _ in items}
    for i, point, warm_from, reuse_from in items:
        warm = None if warm_from is None else carry.get(warm_from)
        sources = [(points[j], out[j][0]) for j in reuse_from if j in out]
        outcome = solve_point(base, point, solve_kwargs, warm, sources)
        out[i] = outcome
        carry[i] = outcome[0] if _open_ids(outcome[0]) else warm
    return [(i, out[i]) for i, _, _, _ in items]


def _chain_items(
    plan: SweepPlan, points: Sequence[Mapping[str, Any]], chain: Sequence[int]
) -> list[tuple[int, Mapping[str, Any], int | None, tuple[int, ...]]]:
    return [(i, points[i], plan.warm_from[i], plan.reuse_from[i]) for i in chain]


def _solve_chunk_in_worker(
    points: Sequence[Mapping[str, Any]], solve_kwargs: Mapping[str, Any], warm_start: bool
) -> list[tuple[Result | None, str, float]]:
    assert _WORKER_BASE is not None
    return solve_chunk(_WORKER_BASE, points, solve_kwargs, warm_start)


def _run_chain_in_worker(
    items: Sequence[tuple[int, Mapping[str, Any], int | None, tuple[int, ...]]],
    solve_kwargs: Mapping[str, Any],
) -> list[tuple[int, tuple[Result | None, str, float]]]:
    assert _WORKER_BASE is not None
    return run_chain(_WORKER_BASE, items, solve_kwargs)


def chunk_bounds(n_points: int, n_chunks: int) -> list[tuple[int, int]]:
    """``n_chunks`` contiguous ``[start, stop)`` ranges covering ``n_points`` (sizes differ by ≤ 1)."""
    k = max(1, min(n_points, n_chunks))
    size, extra = divmod(n_points, k)
    bounds, start = [], 0
    for c in range(k):
        stop = start + size + (1 if c < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def _dask_slots(client: Any) -> int:
    """Worker threads of a Dask cluster (at least 1)."""
    try:
        workers = client.scheduler_info()["workers"].values()
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers))
    except Exception:  # an unusual client: a single chain is still correct
        return 1


def connect(scheduler: str, timeout_s: float = 30.0) -> Any:
    """A ``dask.distributed.Client`` connected to the scheduler at ``scheduler``.

    Raises
    ------
    ValidationError
        When ``scheduler`` is not a non-empty string, dask.distributed is not installed, or no
        scheduler answers at that address within ``timeout_s`` (field ``scheduler``).
    """
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ValidationError(
            "must be a scheduler address such as tcp://host:8786",
            table="parameter",
            field="scheduler",
            value=scheduler,
        )
    try:
        from dask.distributed import Client
    except ImportError:
        raise ValidationError(
            "needs dask.distributed: pip install 'placement[dask]'",
            table="parameter",
            field="scheduler",
            value=scheduler,
        ) from None
    try:
        return Client(scheduler.strip(), timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ValidationError(
            f"no Dask scheduler answered within {timeout_s:g} s ({type(exc).__name__}: {exc})",
            table="parameter",
            field="scheduler",
            value=scheduler,
        ) from None


def _solve_linked(
    base: Problem,
    point: Mapping[str, Any],
    solve_kwargs: Mapping[str, Any],
    carry: tuple[Any, Result | None] | None,
    source_points: Sequence[Mapping[str, Any]] = (),
    *sources: tuple[Any, Result | None],
) -> tuple[tuple[Result | None, str, float], Result | None]:
    """One point of a Dask warm-start chain: its outcome and the start for the next point.

    ``carry`` is the return value of the point it warm-starts from (None without one): its
    second item is the last solved Result of that line. ``sources`` are the return values of
    the looser points it may reuse (``source_points`` their grid points).
    """
    previous = None if carry is None else carry[1]
    reuse = [(p, src[0][0]) for p, src in zip(source_points, sources, strict=True)]
    outcome = solve_point(base, point, solve_kwargs, previous, reuse)
    return outcome, (outcome[0] if _open_ids(outcome[0]) else previous)


def _run_on_dask(
    client: Any,
    shared: Problem,
    points: Sequence[Mapping[str, Any]],
    solve_kwargs: Mapping[str, Any],
    make_plan: Any,
    outcomes: list[tuple[Result | None, str, float] | None],
    bar: Any,
) -> None:
    """Solve the points on a Dask cluster, one task per point, into ``outcomes`` (grid order).

    The plan (:func:`plan_sweep` with one chain per worker thread, as for the processes
    executor) becomes a graph of tasks: each point depends on the point it warm-starts from and
    on the looser points it may reuse (Dask runs a chain on one worker, in order). A task that fails (a lost worker, a result that
    cannot be sent back) is an ``error`` row with its message, like a point whose solve raised.
    """
    from dask.distributed import as_completed as dask_as_completed

    base_future = client.scatter(shared, broadcast=True)
    index: dict[str, int] = {}
    futures = []
    plan: SweepPlan = make_plan(_dask_slots(client))
    by_point: dict[int, Any] = {}
    for chain in plan.chains:
        for i in chain:
            w, r = plan.warm_from[i], plan.reuse_from[i]
            fut = client.submit(
                _solve_linked,
                base_future,
                points[i],
                solve_kwargs,
                None if w is None else by_point[w],
                [points[j] for j in r],
                *(by_point[j] for j in r),
                pure=False,
            )
            index[fut.key] = i
            futures.append(fut)
            by_point[i] = fut
    try:
        for fut in dask_as_completed(futures):
            i = index[fut.key]
            try:
                outcomes[i] = fut.result()[0]
            except Exception as exc:  # the task, not the solve, failed: keep the other points
                outcomes[i] = (None, f"{type(exc).__name__}: {exc}", math.nan)
            if bar is not None:
                bar.update(1)
    finally:
        client.cancel([f for f in futures if not f.done()])


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is an optional extra
        return None
    if importlib.util.find_spec("ipywidgets") is not None:
        # tqdm.auto: a widget in a notebook (it warns "IProgress not found" and falls back to
        # text when ipywidgets is missing, so it is asked for only when ipywidgets is there)
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, file=sys.stderr, unit="point")


def sweep(
    base: Problem,
    grid: Mapping[str, Sequence[Any]],
    *,
    executor: Any = None,
    scheduler: str | None = None,
    max_workers: int | None = None,
    progress: bool = True,
    reuse_latency: bool = True,
    warm_start: bool = True,
    reuse: bool = True,
    max_points: int | None = None,
    schedule: str = "dynamic",
    **solve_kwargs: Any,
) -> SweepResult:
    """Solve ``base`` at every point of the product grid.

    Parameters
    ----------
    base : Problem
        The problem every point starts from (not modified).
    grid : mapping of str to list
        Problem arguments and their values, e.g. ``{"n_sites": range(2, 13),
        "max_latency_ms": [30, 60, 100]}``.
    executor : {"processes", "serial"} or dask.distributed.Client, optional
        Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`, the default; started
        with ``spawn``, since forking a process whose solver threads are running can deadlock), the
        current process, or a Dask cluster (see ``scheduler``).
    scheduler : str, optional
        Address of a Dask scheduler (``"tcp://host:8786"``): the sweep connects a
        ``dask.distributed.Client`` to it, runs there and closes the client (same as
        ``executor=Client(scheduler)``; not together with ``executor``). Needs the ``dask`` extra
        here and ``placement`` of the same version on every worker. On Dask every point is its own
        task (the warm-start chains are chains of dependent tasks, one chain per worker thread), so
        the progress bar moves point by point; a point whose task fails (e.g. a worker lost) is
        reported as an ``error`` row like a point whose solve raised. With as many worker threads
        as local processes, the results are those of ``executor="processes"`` with
        ``max_workers`` equal to that number (the same chains); objectives and statuses are the
        same whatever the executor.
    max_workers : int, optional
        Processes for ``"processes"`` (default: the CPU count, at most the number of points).
    progress : bool
        Show a tqdm progress bar on stderr.
    reuse_latency : bool
        Compute and validate the latency table once and pass it to every point (default True).
    warm_start : bool
        Warm-start every point from the last solved point of its chunk (default True; see the
        module docstring). The points of a chunk run one after the other on one worker, so with
        warm starts each worker gets one contiguous chunk of the grid instead of single points.
        Objectives are those of a cold sweep; among equal-cost optima the open set returned may
        differ.
    reuse : bool
        Reuse along the SLA axes (default True; see the module docstring): when the grid has
        more than one value of ``max_latency_ms`` or ``backup_max_latency_ms``, the points
        equal in every other parameter are solved from the loosest SLA to the tightest on one
        worker, and a point whose looser neighbour's proven optimum meets its SLAs (or whose
        looser neighbour is proven infeasible), with the same demand points, takes that answer
        instead of a solve (``result.solver["reused_from"]``, table column ``reused``).
        Statuses, objectives, bounds and gaps are those of solving every point.
    max_points : int, optional
        Largest number of grid points (default: the ``PLACEMENT_MAX_GRID_POINTS`` budget,
        10,000); a larger grid is refused before any work.
    schedule : {"dynamic", "static"}
        With reuse along an SLA axis: ``"dynamic"`` (default) makes every SLA group its own
        chain, handed to whichever worker is free, each group warm-started within itself only
        (the same results whatever the executor and number of workers); ``"static"`` deals the
        groups round-robin to one chain per worker, warm-starting across groups too (see
        :func:`plan_sweep`).
    **solve_kwargs
        Passed to :meth:`Problem.solve`. Give ``threads=1`` when running many points in parallel.

    Returns
    -------
    SweepResult
    """
    points = grid_points(grid, max_points=max_points)
    for name, flag in (("warm_start", warm_start), ("reuse", reuse)):
        if not isinstance(flag, bool):
            raise ValidationError(
                "must be True or False", table="parameter", field=name, value=flag
            )
    if schedule not in ("dynamic", "static"):
        raise ValidationError(
            "must be 'dynamic' or 'static'", table="parameter", field="schedule", value=schedule
        )
    if scheduler is not None:
        if executor is not None:
            raise ValidationError(
                "give either executor or scheduler, not both",
                table="parameter",
                field="scheduler",
                value=scheduler,
            )
        client = connect(scheduler)
        try:
            return sweep(
                base,
                grid,
                executor=client,
                max_workers=max_workers,
                progress=progress,
                reuse_latency=reuse_latency,
                warm_start=warm_start,
                reuse=reuse,
                max_points=max_points,
                schedule=schedule,
                **solve_kwargs,
            )
        finally:
            client.close()
    if executor is None:
        executor = "processes"
    t0 = time.perf_counter()
    shared = base
    latency_s = 0.0
    if reuse_latency:
        # the latency model runs once (a given table is validated once) for every point
        shared = with_full_latency(base)
        latency_s = time.perf_counter() - t0
    n = len(points)
    outcomes: list[tuple[Result | None, str, float] | None] = [None] * n
    bar = _progress(n, progress, "sweep")

    def make_plan(n_workers: int) -> SweepPlan:
        # warm starts: one chain per SLA group (dynamic) or per worker (static); cold: every
        # point (or SLA group) on its own
        return plan_sweep(points, n_workers, warm_start=warm_start, reuse=reuse, schedule=schedule)

    if isinstance(executor, str) and executor == "serial":
        kind = "serial"
        plan = make_plan(1)
        for chain in plan.chains:
            for i, out in run_chain(shared, _chain_items(plan, points, chain), solve_kwargs):
                outcomes[i] = out
                if bar is not None:
                    bar.update(1)
    elif isinstance(executor, str) and executor == "processes":
        kind = "processes"
        workers = max_workers or min(n, os.cpu_count() or 1)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(shared,),
        ) as pool:
            plan = make_plan(workers)
            futures = [
                pool.submit(_run_chain_in_worker, _chain_items(plan, points, chain), solve_kwargs)
                for chain in plan.chains
            ]
            for fut in as_completed(futures):
                done = fut.result()
                for i, out in done:
                    outcomes[i] = out
                if bar is not None:
                    bar.update(len(done))
    elif hasattr(executor, "submit") and hasattr(executor, "scatter"):
        kind = "dask"
        _run_on_dask(executor, shared, points, solve_kwargs, make_plan, outcomes, bar)
    else:
        if bar is not None:
            bar.close()
        raise ValidationError(
            "must be 'processes', 'serial' or a dask.distributed.Client",
            table="parameter",
            field="executor",
            value=executor,
        )
    if bar is not None:
        bar.close()
    rows = []
    results: list[Result | None] = []
    for p, out in zip(points, outcomes, strict=True):
        assert out is not None
        res, error, secs = out
        metrics = result_row(res)
        row = dict(p)
        for k, v in metrics.items():  # a metric named like a parameter (max_latency_ms)
            row[f"{k}_achieved" if k in p else k] = v
        row["message"] = error if res is None else res.message
        row["reused"] = res is not None and res.solver.get("reused_from") is not None
        row["solve_s"] = secs
        rows.append(row)
        results.append(res)
    table = pd.DataFrame(rows)
    first = list(grid)
    for k in first:
        if table[k].map(lambda v: v is None or (isinstance(v, float) and math.isnan(v))).all():
            table[k] = table[k].astype(object)
    return SweepResult(
        table=table,
        results=tuple(results),
        grid={k: list(v) for k, v in grid.items()},
        executor=kind,
        wall_s=time.perf_counter() - t0,
        latency_s=latency_s,
    )
