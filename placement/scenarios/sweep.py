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
its root LP: cuts and basis, see :class:`placement.formulations.radius.RootRestart`).
Neighbouring grid points usually have close optima, so the solvers start from a near-optimal
incumbent. Objectives and statuses are exactly those of a cold sweep (each point is still proven
optimal); when a point has several optimal open sets, which one is returned may depend on the
chain of warm starts, i.e. on the executor and the number of workers (it is the same on every
run with the same ones).
"""

from __future__ import annotations

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

__all__ = [
    "SweepResult",
    "check_grid_budget",
    "chunk_bounds",
    "grid_points",
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
        ``solve_s`` (wall seconds of the point; the only column that differs between runs).
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
        """The Result of the grid point with these values (e.g. ``n_sites=4``)."""
        mask = pd.Series(True, index=self.table.index)
        for k, v in point.items():
            mask &= self.table[k] == v
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
) -> tuple[Result | None, str, float]:
    """Build and solve one grid point; never raises (errors come back as a message).

    ``warm_start`` is a neighbouring point's solved result: the point starts from it whole (its
    open sites and, for the fast p-median, its root LP) when the point's problem has all of its
    open sites, else from the open sites it has.
    """
    t0 = time.perf_counter()
    try:
        problem = base.replace(**point)
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


def _solve_chunk_in_worker(
    points: Sequence[Mapping[str, Any]], solve_kwargs: Mapping[str, Any], warm_start: bool
) -> list[tuple[Result | None, str, float]]:
    assert _WORKER_BASE is not None
    return solve_chunk(_WORKER_BASE, points, solve_kwargs, warm_start)


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


def _progress(total: int, enabled: bool, desc: str) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is an optional extra
        return None
    return tqdm(total=total, desc=desc, file=sys.stderr, unit="point")


def sweep(
    base: Problem,
    grid: Mapping[str, Sequence[Any]],
    *,
    executor: Any = "processes",
    max_workers: int | None = None,
    progress: bool = True,
    reuse_latency: bool = True,
    warm_start: bool = True,
    max_points: int | None = None,
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
    executor : {"processes", "serial"} or dask.distributed.Client
        Local worker processes (:class:`concurrent.futures.ProcessPoolExecutor`, default; started
        with ``spawn``, since forking a process whose solver threads are running can deadlock), the
        current process, or a Dask cluster.
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
    max_points : int, optional
        Largest number of grid points (default: the ``PLACEMENT_MAX_GRID_POINTS`` budget,
        10,000); a larger grid is refused before any work.
    **solve_kwargs
        Passed to :meth:`Problem.solve`. Give ``threads=1`` when running many points in parallel.

    Returns
    -------
    SweepResult
    """
    points = grid_points(grid, max_points=max_points)
    if not isinstance(warm_start, bool):
        raise ValidationError(
            "must be True or False", table="parameter", field="warm_start", value=warm_start
        )
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

    def chunks(n_workers: int) -> list[tuple[int, int]]:
        # warm starts: one contiguous chunk per worker; cold: every point on its own
        return chunk_bounds(n, n_workers) if warm_start else [(i, i + 1) for i in range(n)]

    if isinstance(executor, str) and executor == "serial":
        kind = "serial"
        previous: Result | None = None
        for i, p in enumerate(points):
            out = solve_point(shared, p, solve_kwargs, previous if warm_start else None)
            outcomes[i] = out
            if _open_ids(out[0]):
                previous = out[0]
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
            futures = {
                pool.submit(_solve_chunk_in_worker, points[a:b], solve_kwargs, warm_start): a
                for a, b in chunks(workers)
            }
            for fut in as_completed(futures):
                done = fut.result()
                start = futures[fut]
                outcomes[start : start + len(done)] = done
                if bar is not None:
                    bar.update(len(done))
    elif hasattr(executor, "submit") and hasattr(executor, "scatter"):
        kind = "dask"
        from dask.distributed import as_completed as dask_as_completed

        base_future = executor.scatter(shared, broadcast=True)
        bounds = chunks(_dask_slots(executor))
        futures = [
            executor.submit(
                solve_chunk, base_future, points[a:b], solve_kwargs, warm_start, pure=False
            )
            for a, b in bounds
        ]
        starts = {f.key: a for f, (a, _) in zip(futures, bounds, strict=True)}
        for fut in dask_as_completed(futures):
            done = fut.result()
            start = starts[fut.key]
            outcomes[start : start + len(done)] = done
            if bar is not None:
                bar.update(len(done))
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
