"""Solver selection, options and status mapping for PuLP models.

PuLP's own summary cannot be trusted for what a planner needs: its HiGHS interface labels a run
stopped by the time limit "Optimal", and CBC does not honour its time limit during the root LP.
So this module reads the status, objective, bound and gap from the solver itself:

* HiGHS — the ``highspy.Highs`` object PuLP leaves on ``problem.solverModel``
  (``getModelStatus()``, ``getInfo().mip_gap`` / ``mip_dual_bound``).
* CBC — run as a subprocess on an MPS file with an outer wall-clock limit (the process is killed
  when it overruns), its solution file and log parsed here.

Every model given to :func:`solve_model` is a minimisation; callers flip signs for maximisation.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import pulp

from placement._highs import new_highs
from placement.errors import SolverError

__all__ = ["SOLVERS", "SolveOutcome", "SolverOptions", "relative_gap", "solve_model"]

SOLVERS = ("highs", "cbc")

#: Gap (relative) at or below which a solution counts as proven optimal.
OPTIMALITY_TOLERANCE = 1e-6


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative gap ``|objective - bound| / max(|objective|, 1e-9)`` (None when unknown)."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)


@dataclass(frozen=True)
class SolverOptions:
    """How to solve.

    Parameters
    ----------
    solver : {"highs", "cbc"}
        HiGHS (through highspy) is the default; CBC is PuLP's bundled solver.
    time_limit_s : float, optional
        Wall-clock limit in seconds. When it stops the search, the result is ``feasible`` with
        its gap (or ``no_solution``).
    gap_rel : float
        Relative MIP gap at which the solver may stop (default 1e-9: prove optimality).
    threads : int, optional
        Solver threads (HiGHS and CBC).
    verbose : bool
        Show the solver log.
    """

    solver: str = "highs"
    time_limit_s: float | None = None
    gap_rel: float = 1e-9
    threads: int | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        from placement import params

        # one checker for every parameter (placement.params): True is not 1 second, "yes" is not
        # true, and threads are capped (100000 threads made HiGHS fail with std::bad_alloc)
        params.check(
            {k: v for k, v in params.solver_spec().items() if k != "method"},
            {
                "solver": self.solver,
                "time_limit_s": self.time_limit_s,
                "gap_rel": self.gap_rel,
                "threads": self.threads,
                "verbose": self.verbose,
            },
        )


@dataclass(frozen=True)
class SolveOutcome:
    """What the solver said, in our terms.

    ``values`` maps PuLP variable names to values (empty without a solution).
    """

    status: str
    objective: float | None
    best_bound: float | None
    gap: float | None
    solve_s: float
    raw_status: str
    values: dict[str, float] = field(default_factory=dict)
    message: str = ""


class _HiGHSWithStart(pulp.HiGHS):  # type: ignore[misc, valid-type]
    """PuLP's HiGHS interface, handing HiGHS a starting solution before it runs.

    PuLP's ``warmStart=True`` reaches only the HiGHS command-line interface (``HiGHS_CMD``), not
    this highspy one, so the start goes to ``Highs.setSolution`` here: all columns when the start
    names every variable, else the given ones (HiGHS completes a partial start itself by fixing
    its integer values and solving for the rest). HiGHS checks a start's feasibility and drops
    an infeasible one, so a start never changes the answer, only the time to it.
    """

    def __init__(
        self,
        start: dict[str, float] | None = None,
        deadline: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._start = start or {}
        self._deadline = deadline

    def createAndConfigureSolver(self, lp: pulp.LpProblem) -> None:  # PuLP's name
        new_highs()  # HiGHS prints its banner once per process: send it to stderr
        super().createAndConfigureSolver(lp)

    def callSolver(self, lp: pulp.LpProblem) -> None:
        if self._start:
            import highspy
            import numpy as np

            variables = lp.variables()
            if all(v.name in self._start for v in variables):
                sol = highspy.HighsSolution()
                sol.col_value = [float(self._start[v.name]) for v in variables]
                sol.value_valid = True
                lp.solverModel.setSolution(sol)
            else:  # a partial start: HiGHS completes it (fixed integers, solve for the rest)
                given = [
                    (v.index, float(self._start[v.name]))
                    for v in variables
                    if v.name in self._start
                ]
                idx = np.array([k for k, _ in given], dtype=np.int32)
                val = np.array([x for _, x in given], dtype=float)
                lp.solverModel.setSolution(len(given), idx, val)
        if self._deadline is not None:
            # HiGHS's clock starts at run(); PuLP's model transfer before it (tens of seconds on
            # large models) counts against the caller's limit too
            left = max(1e-3, self._deadline - time.perf_counter())
            lp.solverModel.setOptionValue("time_limit", left)
        lp.solverModel.run()


def _solve_highs(
    prob: pulp.LpProblem, opts: SolverOptions, start: dict[str, float] | None
) -> SolveOutcome:
    import highspy

    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {"msg": opts.verbose, "gapRel": opts.gap_rel}
    deadline = None
    if opts.time_limit_s is not None:
        kwargs["timeLimit"] = opts.time_limit_s
        deadline = t0 + opts.time_limit_s
    if opts.threads is not None:
        kwargs["threads"] = opts.threads
    solver = _HiGHSWithStart(start=start, deadline=deadline, **kwargs)
    prob.solve(solver)
    solve_s = time.perf_counter() - t0
    h = prob.solverModel
    ms = h.getModelStatus()
    info = h.getInfo()
    raw = h.modelStatusToString(ms)
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    is_mip = any(v.cat == pulp.LpInteger for v in prob.variables())
    objective = float(info.objective_function_value) if has_solution else None
    if is_mip:
        bound = float(info.mip_dual_bound)
        bound = bound if math.isfinite(bound) else None
    else:
        bound = objective if ms == highspy.HighsModelStatus.kOptimal else None
    S = highspy.HighsModelStatus
    if ms in (S.kInfeasible, S.kUnboundedOrInfeasible):
        return SolveOutcome("infeasible", None, None, None, solve_s, raw)
    if ms == S.kOptimal and has_solution:
        gap = relative_gap(objective, bound) if is_mip else 0.0
        gap = 0.0 if gap is None else gap
        status = "optimal" if gap <= max(opts.gap_rel, OPTIMALITY_TOLERANCE) else "feasible"
    elif has_solution:
        gap = relative_gap(objective, bound)
        status = "feasible"
    else:
        return SolveOutcome(
            "no_solution", None, bound, None, solve_s, raw, message=f"HiGHS stopped: {raw}"
        )
    values = {v.name: (v.varValue if v.varValue is not None else 0.0) for v in prob.variables()}
    msg = "" if status == "optimal" else f"HiGHS stopped ({raw}) with gap {gap:.4%}" if gap else ""
    return SolveOutcome(status, objective, bound, gap, solve_s, raw, values, msg)


def _cbc_path() -> str:
    with warnings.catch_warnings():  # PuLP 3.3 deprecates its bundled-CBC class, not the binary
        warnings.simplefilter("ignore", DeprecationWarning)
        bundled = getattr(pulp.PULP_CBC_CMD(), "path", None)
    candidates = [bundled, shutil.which("cbc")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise SolverError("CBC is not available (install pulp's bundled cbc or put cbc on PATH)")


_CBC_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"


def _parse_cbc_log(log: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    m = re.search(r"^Result - (.+)$", log, re.MULTILINE)
    if m:
        out["result"] = m.group(1).strip()
    for key, label in (("objective", "Objective value"), ("bound", "Lower bound")):
        m = re.search(rf"^{label}:\s+{_CBC_NUMBER}", log, re.MULTILINE)
        if m:
            out[key] = float(m.group(1))
    return out


def _solve_cbc(
    prob: pulp.LpProblem, opts: SolverOptions, start: dict[str, float] | None
) -> SolveOutcome:
    cbc = _cbc_path()
    with tempfile.TemporaryDirectory(prefix="placement-cbc-") as tmp:
        mps = os.path.join(tmp, "model.mps")
        sol = os.path.join(tmp, "model.sol")
        prob.writeMPS(mps, rename=1)
        _, variables_names, _ = prob.normalisedNames()
        cmd = [cbc, mps]
        if start:
            # a MIP start in CBC's solution-file format, as PuLP writes it for warmStart=True
            # (``COIN_CMD.writesol``); CBC fixes the given integers and completes the rest
            mst = os.path.join(tmp, "model.mst")
            lines = ["Stopped on time - objective value 0\n"]
            for k, (name, mps_name) in enumerate(variables_names.items()):
                if name in start:
                    lines.append(f"{k:>7} {mps_name} {float(start[name]):>15.10g} {0:>23}\n")
            with open(mst, "w") as fh:
                fh.writelines(lines)
            cmd += ["-mips", mst]
        if opts.time_limit_s is not None:
            cmd += ["-sec", f"{opts.time_limit_s:g}"]
        cmd += ["-ratio", f"{opts.gap_rel:g}", "-allow", "0"]
        if opts.threads:
            cmd += ["-threads", str(opts.threads)]
        cmd += ["-timeMode", "elapsed", "-branch", "-printingOptions", "all", "-solution", sol]
        outer = None if opts.time_limit_s is None else opts.time_limit_s * 1.25 + 5.0
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=outer, check=False)
            log = proc.stdout
        except subprocess.TimeoutExpired:
            solve_s = time.perf_counter() - t0
            return SolveOutcome(
                "no_solution",
                None,
                None,
                None,
                solve_s,
                "killed",
                message=f"CBC overran the {opts.time_limit_s:g} s limit and was stopped after "
                f"{solve_s:.1f} s (CBC does not check its limit during the root LP)",
            )
        solve_s = time.perf_counter() - t0
        if opts.verbose:
            print(log)
        parsed = _parse_cbc_log(log)
        result = parsed.get("result", "")
        if not os.path.exists(sol):
            return SolveOutcome("no_solution", None, None, None, solve_s, result or "no output")
        with open(sol) as fh:
            first = fh.readline()
            rows = [line.split() for line in fh]
    head = first.split()
    word = head[0] if head else ""
    if word == "Infeasible" or "infeasible" in result.lower():
        return SolveOutcome("infeasible", None, None, None, solve_s, result or first.strip())
    reverse = {mps_name: name for name, mps_name in variables_names.items()}
    values: dict[str, float] = {}
    for parts in rows:
        if parts and parts[0] == "**":
            parts = parts[1:]
        if len(parts) >= 3 and parts[1] in reverse:
            values[reverse[parts[1]]] = float(parts[2])
    has_solution = word == "Optimal" or "objective value" in first
    objective = None
    if has_solution:
        objective = float(prob.objective.constant) + sum(
            coef * values.get(var.name, 0.0) for var, coef in prob.objective.items()
        )
    if not has_solution:
        return SolveOutcome("no_solution", None, None, None, solve_s, result or first.strip())
    if word == "Optimal":
        return SolveOutcome("optimal", objective, objective, 0.0, solve_s, first.strip(), values)
    bound = parsed.get("bound")
    if bound is not None:
        bound += float(prob.objective.constant)
    gap = relative_gap(objective, bound)
    msg = f"CBC stopped ({result or word})" + (f" with gap {gap:.4%}" if gap is not None else "")
    return SolveOutcome("feasible", objective, bound, gap, solve_s, first.strip(), values, msg)


def solve_model(
    prob: pulp.LpProblem,
    options: SolverOptions | None = None,
    start: dict[str, float] | None = None,
    *,
    spent_s: float = 0.0,
) -> SolveOutcome:
    """Solve a PuLP minimisation model and report status, objective, bound and gap.

    Parameters
    ----------
    prob : pulp.LpProblem
        A minimisation problem.
    options : SolverOptions, optional
        Solver choice and limits (HiGHS, no limit by default).
    start : dict, optional
        A starting solution (variable name → value; variables not named are left to the
        solver), handed to HiGHS (``setSolution``) or to CBC (``-mips``, the MIP start PuLP's
        ``warmStart=True`` writes). Solvers check it and ignore an infeasible one.
    spent_s : float
        Seconds of ``options.time_limit_s`` already used (building the model): the solver gets
        the rest, counted from this call and including the solver's own model set-up.

    Returns
    -------
    SolveOutcome
    """
    opts = options or SolverOptions()
    if prob.sense != pulp.LpMinimize:
        raise ValueError("solve_model expects a minimisation problem")
    if opts.time_limit_s is not None and spent_s > 0:
        opts = dataclasses.replace(opts, time_limit_s=max(1e-3, opts.time_limit_s - spent_s))
    if opts.solver == "highs":
        return _solve_highs(prob, opts, start)
    return _solve_cbc(prob, opts, start)
