"""OR-Library warehouse location (Beasley 1988) through ``placement.Problem``.

Prints one row per instance — optimum, our objective, status, gap, build and solve seconds
(median of ``--repeats``) — and writes ``benchmarks/results/cap_bench.csv``.

    python benchmarks/cap_bench.py                 # cap41–cap134, capacitated and uncapacitated
    python benchmarks/cap_bench.py --large 120     # also capa/b/c (100 x 1000), 120 s limit each
    python benchmarks/cap_bench.py --one-second    # capa/b/c capacitated, time_limit_s=1 each

``--one-second`` solves the 12 capacitated capa/capb/capc instances once each with
``time_limit_s=1`` and prints a table of wall seconds (``Problem.solve`` end to end), status,
objective, per cent above the published optimum and the reported gap; it writes
``benchmarks/results/cap_one_second.csv``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from placement import orlib
from placement.problem import Problem

SMALL = [
    f"cap{g}{k}"
    for g in (4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
    for k in (1, 2, 3, 4)
    if not (g == 5 and k > 1)
]
LARGE = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


def solve(inst: orlib.CapInstance, capacitated: bool, time_limit_s: float | None):
    prob = Problem.from_cost_matrix(
        np.zeros_like(inst.cost),
        weights=inst.demand,
        fixed_cost=inst.fixed_cost,
        capacity=inst.capacity if capacitated else None,
        assignment_cost=inst.cost,
        objective="cost",
    )
    return prob.solve(time_limit_s=time_limit_s)


def one_second(folder: Path, time_limit_s: float = 1.0) -> int:
    """The 12 capacitated capa/capb/capc instances at ``time_limit_s``: a table and a CSV."""
    long_opt = orlib.read_capopt(folder / "cap" / "capopt_long.txt")
    rows = []
    print(
        f"# time_limit_s={time_limit_s:g}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        "| instance | optimum | wall s | build s | solve s | status | objective "
        "| % above optimum | reported gap % |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for base, caps in LARGE.items():
        for capv in caps:
            name = f"{base}{capv}"
            inst = orlib.read_cap(folder / "cap" / f"{base}.txt", capacity=capv)
            opt = long_opt[name]
            t = time.perf_counter()
            r = solve(inst, True, time_limit_s)
            wall = time.perf_counter() - t
            above = None if r.objective is None else 100.0 * (r.objective - opt) / opt
            gap = None if r.gap is None else 100.0 * r.gap
            rows.append(
                {
                    "instance": name,
                    "optimum": opt,
                    "wall_s": wall,
                    "build_s": r.timings["build_s"],
                    "solve_s": r.timings["solve_s"],
                    "status": r.status,
                    "objective": r.objective,
                    "pct_above_optimum": above,
                    "reported_gap_pct": gap,
                    "best_bound": r.best_bound,
                }
            )

            def fmt(x: float | None, spec: str) -> str:
                return "–" if x is None else format(x, spec)

            print(
                f"| {name} | {opt:,.3f} | {wall:.2f} | {r.timings['build_s']:.2f} "
                f"| {r.timings['solve_s']:.2f} | {r.status} | {fmt(r.objective, ',.3f')} "
                f"| {fmt(above, '.3f')} | {fmt(gap, '.3f')} |",
                flush=True,
            )
    print(f"# load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    out = Path(__file__).resolve().parent / "results" / "cap_one_second.csv"
    pd.DataFrame(rows).to_csv(out, index=False)
    print(f"cap_bench: wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--large", type=float, metavar="S", help="also capa/b/c with this time limit")
    ap.add_argument(
        "--one-second",
        action="store_true",
        help="only capa/b/c capacitated at time_limit_s=1: wall, status, %% above optimum, gap",
    )
    args = ap.parse_args(argv)
    folder = orlib.shared_orlib_dir()
    if folder is None:
        print(
            "cap_bench: ../shared/benchmarks/orlib not found (set PLACEMENT_SHARED)",
            file=sys.stderr,
        )
        return 2
    if args.one_second:
        return one_second(folder)
    cap_opt = orlib.read_capopt(folder / "cap" / "capopt.txt")
    unc_opt = orlib.read_capopt(folder / "cap" / "uncapopt.txt")
    long_opt = orlib.read_capopt(folder / "cap" / "capopt_long.txt")
    jobs = [(n, None, True, cap_opt.get(n)) for n in SMALL]
    jobs += [(n, None, False, unc_opt[n]) for n in SMALL if n in unc_opt]
    if args.large:
        for base, caps in LARGE.items():
            jobs += [(base, c, True, long_opt[f"{base}{c}"]) for c in caps]
            jobs.append((base, None, False, unc_opt[base]))
    rows = []
    for name, capv, capacitated, opt in jobs:
        inst = orlib.read_cap(
            folder / "cap" / f"{name}.txt",
            capacity=capv
            or (
                1e12
                if name.startswith("capa") or name.startswith("capb") or name.startswith("capc")
                else None
            ),
        )
        repeats = 1 if name in LARGE else args.repeats
        builds, solves, r = [], [], None
        for _ in range(repeats):
            r = solve(inst, capacitated, args.large if name in LARGE else None)
            builds.append(r.timings["build_s"])
            solves.append(r.timings["solve_s"])
        label = f"{name}{capv or ''}" + ("" if capacitated else " (uncap)")
        rel = None if (r.objective is None or opt is None) else abs(r.objective - opt) / opt
        rows.append(
            {
                "instance": label,
                "m": inst.m,
                "n": inst.n,
                "optimum": opt,
                "ours": r.objective,
                "status": r.status,
                "gap": r.gap,
                "rel_error": rel,
                "build_s": statistics.median(builds),
                "solve_s": statistics.median(solves),
            }
        )
        print(
            f"{label:22s} {inst.m:4d}x{inst.n:<5d} opt {opt:>16,.3f}  ours "
            f"{(r.objective or float('nan')):>16,.3f}  {r.status:9s} gap {r.gap if r.gap is not None else float('nan'):.2e}  "
            f"build {rows[-1]['build_s']:.3f}s solve {rows[-1]['solve_s']:.3f}s",
            flush=True,
        )
    out = Path(__file__).resolve().parent / "results" / "cap_bench.csv"
    pd.DataFrame(rows).to_csv(out, index=False)
    df = pd.DataFrame(rows)
    ok = (df["rel_error"] <= 1e-6).sum()
    print(
        f"cap_bench: {ok}/{len(df)} at the published optimum (rtol 1e-6); wrote {out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
