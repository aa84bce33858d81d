"""World instances: redundant median (k = 2 across providers), ours vs the PuLP model.

Builds the catalog sites (AWS, GCP, Azure regions) and metro-aggregated demand
(``demand.from_cities(min_population=…, merge_within_km=50)``) at several population cut-offs and
solves ``objective="median"`` (``--objective center``: the worst primary latency), ``n_sites=10``, ``max_latency_ms=150``, ``redundancy=2``,
``failure_domain="provider"``, ``backup_max_latency_ms=225`` on the backbone latencies
(``UserLatencyModel(access="none")``: the default model adds users' access, tens of ms, with
which this SLA has no solution; the instance stays the one of older commits) with

* **ours** — ``method="auto"`` (:mod:`placement.formulations.redundant`, column generation on the
  strong formulation with HiGHS);
* **pulp** — ``method="pulp"`` (the full PuLP model solved by HiGHS), only on the sizes listed in
  ``--pulp-sizes`` and with the wall-clock cap ``--pulp-cap`` (its MIP then stops with a gap or no
  solution).

Each run is its own subprocess; ``MB`` is that process's peak resident memory (``ru_maxrss``),
build/solve seconds are the solver's own timings (build includes the latency table and the model),
``call s`` the wall seconds of the whole ``Problem.solve`` call (``after_solver_s`` in the CSV: what
follows the solver, assembling the result) — the one a ``time_limit_s`` should bound:

    python benchmarks/world_bench.py --sizes 100000 --pulp-sizes "" --cap 1   # 1-second answer

    python benchmarks/world_bench.py                       # 1e6, 5e5, 1e5; PuLP on 1e6 and 5e5
    python benchmarks/world_bench.py --sizes 100000 --pulp-sizes ""

``--before TREE`` compares this checkout with another one (a ``git worktree`` of an older
commit) side by side instead: for every size, ``--repeats`` rounds in which the two checkouts run
one after the other (each its own subprocess with its tree first on ``sys.path``), so both see the
same machine load; it prints the median solve CPU seconds (``time.process_time`` around
``Problem.solve``) and wall seconds of each and their ratio, and checks that the objectives agree.

    git worktree add /tmp/placement-before <commit>
    python benchmarks/world_bench.py --before /tmp/placement-before --sizes 100000 --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import placement as pl
from placement.problem import Problem
min_pop, method, cap, objective = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
t0 = time.perf_counter()
sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
demand = pl.demand.from_cities(min_population=min_pop, merge_within_km=50)
# The backbone latencies (no users' access), so the instance stays the same across commits.
user_model = getattr(pl.latency, "UserLatencyModel", None)
latency = None if user_model is None else user_model(access="none")
prob = Problem(sites, demand, objective=objective, n_sites=10, max_latency_ms=150,
               redundancy=2, failure_domain="provider", backup_max_latency_ms=225, latency=latency)
data = prob.model_data()
t_data = time.perf_counter() - t0
c0, w0 = time.process_time(), time.perf_counter()
res = prob.solve(method=method, time_limit_s=cap if cap > 0 else None)
cpu_s, call_s = time.process_time() - c0, time.perf_counter() - w0
print(json.dumps({
    "demand": len(demand), "sites": len(sites), "pairs": int(data.n_pairs),
    "primary_pairs": int(data.primary_ok.sum()), "data_s": t_data,
    "build_s": res.timings["build_s"], "solve_s": res.timings["solve_s"], "cpu_s": cpu_s,
    "call_s": call_s, "after_solver_s": call_s - res.timings["total_s"],
    "status": res.status, "gap": res.gap, "objective": res.objective,
    "bound": res.best_bound, "solver_method": res.solver.get("method"),
    "n_vars": res.solver.get("n_vars"), "n_rows": res.solver.get("n_rows"),
    "classes": res.solver.get("n_demand_solved"),
    "open": sorted(res.open_sites["site_id"]),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run_child(
    tree: Path | None, code: str, args: list[str], timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``python -c code *args`` importing ``placement`` from ``tree`` (this process's when None).

    The child runs *in* ``tree``: ``python -c`` puts the working directory first on
    ``sys.path``, so a child started from another checkout's root would import that checkout's
    ``placement`` whatever ``PYTHONPATH`` says. Every bench that compares trees starts its
    children here. Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds.
    """
    env = None
    if tree is not None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]),
        }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tree,
    )


def run(
    min_pop: int, method: str, cap: float, tree: Path | None = None, objective: str = "median"
) -> dict:
    """One solve in a subprocess (importing ``placement`` from ``tree`` when given)."""
    t = time.perf_counter()
    proc = run_child(
        tree,
        CHILD,
        [str(min_pop), method, str(cap), objective],
        timeout=None if cap <= 0 else cap * 3 + 600,
    )
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        return {"status": f"error rc={proc.returncode}", "wall_s": wall, "err": proc.stderr[-500:]}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["wall_s"] = wall
    return out


def fmt(x: object, spec: str) -> str:
    if x is None:
        return "-"
    try:
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


def write_csv(rows: list[dict], path: str | Path, *, sort_keys: bool = True) -> Path:
    """Write ``rows`` to the CSV file ``path`` (its folder made): the one writer of the benches.

    The columns are the union of the rows' keys, sorted (``sort_keys=False``: in the order they
    first appear); a key a row lacks is left blank. Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(dict.fromkeys(k for r in rows for k in r))
    if sort_keys:
        keys.sort()
    with path.open("w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=keys, lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)
    return path


def _commit(tree: Path) -> str:
    """The checkout's commit (short hash, '+' when it has uncommitted changes)."""
    import subprocess

    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
        return out.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown commit"
    return head + ("+" if git("status", "--porcelain", "--untracked-files=no") else "")


def compare(
    before: Path, sizes: list[int], repeats: int, cap: float, objective: str = "median"
) -> int:
    """Side by side: this checkout and ``before`` alternate within every repeat."""
    here = Path(__file__).resolve().parents[1]
    trees = {"after": here, "before": before.resolve()}
    # commits, not paths: the output is committed under benchmarks/results/
    print(f"after = {_commit(here)}\nbefore = {_commit(trees['before'])}", flush=True)
    print(
        f"{'min_pop':>9} {'before cpu':>10} {'after cpu':>10} {'ratio':>6}"
        f" {'before wall':>11} {'after wall':>10} {'ratio':>6}  same objective"
        f"  before obj / call s / status  after obj / call s / status",
        flush=True,
    )
    for mp in sizes:
        got: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(repeats):
            for name in ("before", "after"):
                r = run(mp, "auto", cap, trees[name], objective)
                if "objective" not in r:
                    print(f"{name} failed: {r}", file=sys.stderr)
                    return 1
                got[name].append(r)
        med = {n: statistics.median(r["cpu_s"] for r in rs) for n, rs in got.items()}
        wall = {
            n: statistics.median(r["build_s"] + r["solve_s"] for r in rs) for n, rs in got.items()
        }
        objs = {round(r["objective"], 9) for rs in got.values() for r in rs}
        print(
            f"{mp:>9} {med['before']:>10.2f} {med['after']:>10.2f}"
            f" {med['after'] / med['before']:>6.2f} {wall['before']:>11.2f}"
            f" {wall['after']:>10.2f} {wall['after'] / wall['before']:>6.2f}  {len(objs) == 1!s:>14}"
            + "".join(
                f"  {statistics.median(r['objective'] for r in got[n]):.6f}"
                f" / {statistics.median(r['call_s'] for r in got[n]):.2f}"
                f" / {'/'.join(sorted({r['status'] for r in got[n]}))}"
                for n in ("before", "after")
            ),
            flush=True,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,500000,100000", help="min_population values")
    ap.add_argument("--pulp-sizes", default="1000000,500000", help="sizes also run with PuLP")
    ap.add_argument("--pulp-cap", type=float, default=120.0, help="PuLP time limit, s")
    ap.add_argument("--cap", type=float, default=600.0, help="our time limit, s")
    ap.add_argument(
        "--objective",
        choices=("median", "center"),
        default="median",
        help="median (the default) or center (worst primary latency, same instance)",
    )
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "world_bench.csv"))
    ap.add_argument("--before", type=Path, help="another checkout to compare with, side by side")
    ap.add_argument("--repeats", type=int, default=3, help="repeats per checkout (--before)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.before is not None:
        return compare(args.before, sizes, args.repeats, args.cap, args.objective)
    pulp_sizes = {int(s) for s in args.pulp_sizes.split(",") if s}
    rows = []
    head = (
        f"{'min_pop':>9} {'method':>6} {'demand':>6} {'merged':>6} {'pairs':>7} {'build s':>8}"
        f" {'solve s':>8} {'call s':>7} {'MB':>6} {'status':>11} {'gap':>8} {'objective':>11}"
    )
    print(head, flush=True)
    for mp in sizes:
        for method, cap in (("auto", args.cap), ("pulp", args.pulp_cap)):
            if method == "pulp" and mp not in pulp_sizes:
                continue
            r = run(mp, method, cap, objective=args.objective)
            r.update({"min_population": mp, "method": "ours" if method == "auto" else "pulp"})
            rows.append(r)
            print(
                f"{mp:>9} {r['method']:>6} {fmt(r.get('demand'), 'd'):>6}"
                f" {fmt(r.get('classes'), 'd'):>6} {fmt(r.get('pairs'), 'd'):>7} {fmt(r.get('build_s'), '.2f'):>8}"
                f" {fmt(r.get('solve_s'), '.2f'):>8} {fmt(r.get('call_s'), '.2f'):>7}"
                f" {fmt(r.get('peak_mb'), '.0f'):>6}"
                f" {r['status']:>11} {fmt(r.get('gap'), '.2e'):>8}"
                f" {fmt(r.get('objective'), '.6f'):>11}",
                flush=True,
            )
    print(f"wrote {write_csv(rows, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
