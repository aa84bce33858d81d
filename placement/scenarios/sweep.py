"""Parameter sweeps: solve the product of a grid of Problem arguments, locally or on Dask.

The latency table is computed once from the base (unpruned, :func:`full_latency_table`) and every
grid point is built with it as a DataFrame, so the latency model never runs again. A point whose
construction or solve raises is reported with status ``error`` and the message; the others are
kept. Rows are in grid order whichever executor ran them.
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
from placement.scenarios._problem import check_problem_keys, full_latency_table
from placement.scenarios.compare import result_row

__all__ = ["SweepResult", "grid_points", "sweep"]


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


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The product of the grid in key order (last key fastest)."""
    if not isinstance(grid, Mapping) or not grid:
        raise ValidationError("the grid must be a non-empty mapping", table="grid")
    check_problem_keys(grid, "grid")
    keys = list(grid)
    values = []
    for k in keys:
        v = grid[k]
        if isinstance(v, str) or not isinstance(v, Iterable):
            raise ValidationError("must be a list of values", table="grid", field=k, value=v)
        v = list(v)
        if not v:
            raise ValidationError("has no values", table="grid", field=k)
        values.append(v)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


# ---------------------------------------------------------------------- workers
_WORKER_BASE: Problem | None = None


def _init_worker(base: Problem) -> None:
    global _WORKER_BASE
    _WORKER_BASE = base


def solve_point(
    base: Problem, point: Mapping[str, Any], solve_kwargs: Mapping[str, Any]
) -> tuple[Result | None, str, float]:
    """Build and solve one grid point; never raises (errors come back as a message)."""
    t0 = time.perf_counter()
    try:
        result = base.replace(**point).solve(**solve_kwargs)
        return result, "", time.perf_counter() - t0
    except Exception as exc:  # a failed point must not lose the others
        return None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0


def _solve_in_worker(
    point: Mapping[str, Any], solve_kwargs: Mapping[str, Any]
) -> tuple[Result | None, str, float]:
    assert _WORKER_BASE is not None
    return solve_point(_WORKER_BASE, point, solve_kwargs)


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
        Compute the latency table once and pass it to every point (default True).
    **solve_kwargs
        Passed to :meth:`Problem.solve`. Give ``threads=1`` when running many points in parallel.

    Returns
    -------
    SweepResult
    """
    points = grid_points(grid)
    t0 = time.perf_counter()
    shared = base
    latency_s = 0.0
    if reuse_latency and not isinstance(base.latency, pd.DataFrame):
        table = full_latency_table(base)
        latency_s = time.perf_counter() - t0
        shared = base.replace(latency=table)
    n = len(points)
    outcomes: list[tuple[Result | None, str, float] | None] = [None] * n
    bar = _progress(n, progress, "sweep")
    if isinstance(executor, str) and executor == "serial":
        kind = "serial"
        for i, p in enumerate(points):
            outcomes[i] = solve_point(shared, p, solve_kwargs)
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
                pool.submit(_solve_in_worker, p, solve_kwargs): i for i, p in enumerate(points)
            }
            for fut in as_completed(futures):
                outcomes[futures[fut]] = fut.result()
                if bar is not None:
                    bar.update(1)
    elif hasattr(executor, "submit") and hasattr(executor, "scatter"):
        kind = "dask"
        from dask.distributed import as_completed as dask_as_completed

        base_future = executor.scatter(shared, broadcast=True)
        futures = [
            executor.submit(solve_point, base_future, p, solve_kwargs, pure=False) for p in points
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in dask_as_completed(futures):
            outcomes[index[fut.key]] = fut.result()
            if bar is not None:
                bar.update(1)
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
