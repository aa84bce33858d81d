"""Every constraint at world scale (issue 18): one case per constraint on the world instance.

Instance: the one of ``world_bench.py`` — all AWS, GCP and Azure regions (169) x every city of
at least 100,000 people merged within 50 km (3,041 demand points), backbone latencies
(``UserLatencyModel(access="none")``), median objective, ``n_sites=10``, hard SLA
``max_latency_ms=150`` — with one constraint switched on per case:

* ``percentile`` — 92 % of demand within 50 ms (``sla_ms=50, sla_share=0.92``; the optimum
  without it has 90.2 %; 10 sites reach at most 92.84 %, so 93 % and 95 % are infeasible);
  ``--percentile SLA_MS,SHARE,N`` sets other values;
* ``budget`` — a cost model (2 MW IT load, 5 M$ fixed a site), ``n_sites`` dropped,
  ``max_sites=12`` and ``budget_usd_per_year=100e6`` (the 12-site optimum, 94 M$, meets it);
* ``budget_30``, ``budget_tight``, ``budget_60``, ``budget_80`` — the same with a budget of 30,
  40, 60 and 80 M$, which binds (issue 18: at 40 M$ the PuLP model found no solution in 60 s);
* ``provider_limits`` — at most 4 sites per provider (``max_sites_per_provider=4``);
* ``capacity`` — every site serves at most 15 % of the demand weight (split allowed);
* ``capacity_single`` — the same capacity, each demand point served whole by one site;
* ``capacity_redund`` — redundancy 2 across providers (backup within 225 ms), the same capacity;
* ``cost_sla_carbon`` — ``objective="cost"`` (the cost model above, carbon at 100 $/t),
  ``n_sites`` dropped, the 150-ms SLA, a latency penalty of 0.0001 $ per user-ms a year;
* ``weighted`` — ``objective="weighted"`` (annual cost + 2 M$ per ms of mean latency),
  ``max_sites=12``, each provider's own egress price on 1 GB per user a year;
* ``budget_egress`` — the median under a budget of 230 M$ with those egress prices: the serving
  cost depends on who serves whom, so the budget is no longer a row on the sites alone.

Each case is solved with ``method="auto"`` (whichever solver the registry picks; ``solver`` is
printed) and ``time_limit_s=--cap`` (default 60 s) in its own subprocess: ``wall`` is the child's
``Problem.solve`` wall seconds, ``build``/``solve`` the result's own split (build = lowering and
model), ``cpu`` the child's CPU seconds in ``solve``, ``MB`` its peak resident memory
(``ru_maxrss``), status, gap, objective, solver and PuLP model size (``--out`` CSV: also the
bound and the relaxation note). ``--repeats N`` runs every case N times
and prints medians (the statuses and objectives of all runs are checked to agree).

``--before TREE`` runs the same cases in another checkout (a ``git worktree`` of an older
commit) alternately with this one (ABBA within each repeat) and prints both side by side with the
ratio of CPU seconds and whether the objectives agree.

    python benchmarks/constraints_bench.py                       # all cases, cap 60 s
    python benchmarks/constraints_bench.py --cases capacity_single --cap 300
    python benchmarks/constraints_bench.py --before /tmp/placement-before --repeats 3
    python benchmarks/constraints_bench.py --cases percentile --percentile 40,0.81,10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from world_bench import _commit, fmt, run_child, write_csv  # shared by the benches

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    "percentile",
    "budget",
    "budget_30",
    "budget_tight",
    "budget_60",
    "budget_80",
    "provider_limits",
    "capacity",
    "capacity_single",
    "capacity_redund",
    "cost_sla_carbon",
    "weighted",
    "budget_egress",
]

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import placement as pl
from placement.costs import CostModel
from placement.problem import Problem
case, cap = sys.argv[1], float(sys.argv[2])
sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
users = pl.demand.from_cities(min_population=100_000, merge_within_km=50)
w = float(users["weight"].sum())
base = dict(objective="median", n_sites=10, max_latency_ms=150.0,
            latency=pl.latency.UserLatencyModel(access="none"))
costs = CostModel(it_load_kw=2000, fixed_cost_usd_per_year=5e6)
egress = CostModel(it_load_kw=2000, fixed_cost_usd_per_year=5e6, gb_per_unit_per_year=1.0)
kw = {
    "percentile": dict(sla_ms=50.0, sla_share=0.92),
    "budget": dict(cost_model=costs, n_sites=None, max_sites=12, budget_usd_per_year=100e6),
    "budget_30": dict(cost_model=costs, n_sites=None, max_sites=12, budget_usd_per_year=30e6),
    "budget_tight": dict(cost_model=costs, n_sites=None, max_sites=12, budget_usd_per_year=40e6),
    "budget_60": dict(cost_model=costs, n_sites=None, max_sites=12, budget_usd_per_year=60e6),
    "budget_80": dict(cost_model=costs, n_sites=None, max_sites=12, budget_usd_per_year=80e6),
    "provider_limits": dict(max_sites_per_provider=4),
    "capacity": dict(capacity=0.15 * w),
    "capacity_single": dict(capacity=0.15 * w, single_sourcing=True),
    "capacity_redund": dict(capacity=0.15 * w, redundancy=2, failure_domain="provider",
                            backup_max_latency_ms=225.0),
    "cost_sla_carbon": dict(objective="cost", n_sites=None,
                            cost_model=CostModel(it_load_kw=2000, fixed_cost_usd_per_year=5e6,
                                                 carbon_price_usd_per_tonne=100.0),
                            latency_penalty_usd_per_unit_ms=1e-4),
    # cost + 2 M$ per ms of mean latency, each provider's own egress price on 1 GB per user
    "weighted": dict(objective="weighted", n_sites=None, max_sites=12,
                     latency_weight_usd_per_ms=2e6, cost_model=egress),
    # a budget whose serving cost depends on who serves whom (egress prices differ by provider)
    "budget_egress": dict(cost_model=egress, n_sites=None, max_sites=12,
                          budget_usd_per_year=230e6),
}[case]
if len(sys.argv) > 3:  # --percentile: other sla_ms, sla_share, n_sites
    kw = {**kw, **json.loads(sys.argv[3])}
prob = Problem(sites, users, name=case, **{**base, **kw})
c0, t0 = time.process_time(), time.perf_counter()
res = prob.solve(time_limit_s=cap)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({
    "demand": len(users), "sites": len(sites), "wall_s": wall, "cpu_s": cpu,
    "build_s": res.timings.get("build_s"), "solve_s": res.timings.get("solve_s"),
    "status": res.status, "gap": res.gap, "objective": res.objective, "bound": res.best_bound,
    "solver": res.solver.get("method"), "n_vars": res.solver.get("n_vars"),
    "relaxation": res.solver.get("relaxation"),
    "n_rows": res.solver.get("n_rows"), "n_open": len(res.open_sites),
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(case: str, cap: float, tree: Path, overrides: dict | None = None) -> dict:
    """One case in a subprocess importing ``placement`` from ``tree``."""
    t = time.perf_counter()
    limit_s = cap * 4 + 600
    extra = [json.dumps(overrides)] if overrides else []
    try:
        proc = run_child(tree, CHILD, [case, str(cap), *extra], timeout=limit_s)
    except subprocess.TimeoutExpired:  # a run far past its cap (the PuLP build ignores it)
        return {"status": f"killed>{limit_s:g}s", "err": "timed out", "case": case}
    if proc.returncode != 0:
        return {"status": f"error rc={proc.returncode}", "err": proc.stderr[-800:], "case": case}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["child_s"] = time.perf_counter() - t
    out["case"] = case
    return out


def _median(runs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in runs if isinstance(r.get(key), int | float)]
    return statistics.median(vals) if vals else None


HEAD = (
    f"{'case':>16} {'tree':>6} {'wall s':>7} {'build':>6} {'solve':>7} {'cpu s':>7} {'MB':>5}"
    f" {'status':>11} {'gap':>8} {'objective':>14} {'solver':>16} {'vars':>7} {'rows':>7}"
)


def _line(case: str, label: str, runs: list[dict]) -> str:
    last = runs[-1]
    return (
        f"{case:>16} {label:>6} {fmt(_median(runs, 'wall_s'), '.2f'):>7}"
        f" {fmt(_median(runs, 'build_s'), '.2f'):>6} {fmt(_median(runs, 'solve_s'), '.2f'):>7}"
        f" {fmt(_median(runs, 'cpu_s'), '.2f'):>7} {fmt(_median(runs, 'peak_mb'), '.0f'):>5}"
        f" {last['status']:>11} {fmt(last.get('gap'), '.1e'):>8}"
        f" {fmt(last.get('objective'), '.6g'):>14} {fmt(last.get('solver'), 's'):>16}"
        f" {fmt(last.get('n_vars'), 'd'):>7} {fmt(last.get('n_rows'), 'd'):>7}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma separated: " + ", ".join(CASES))
    ap.add_argument("--cap", type=float, default=60.0, help="time limit of each solve, s")
    ap.add_argument("--repeats", type=int, default=1, help="runs per case and checkout (median)")
    ap.add_argument("--before", type=Path, default=None, help="another checkout, side by side")
    ap.add_argument("--out", type=Path, default=None, help="CSV of every run")
    ap.add_argument(
        "--percentile",
        default=None,
        metavar="SLA_MS,SHARE,N",
        help="the percentile case with these sla_ms, sla_share and n_sites (default 50,0.92,10)",
    )
    args = ap.parse_args(argv)
    overrides = None
    if args.percentile is not None:
        try:
            sla_ms, share, n = args.percentile.split(",")
            overrides = {"sla_ms": float(sla_ms), "sla_share": float(share), "n_sites": int(n)}
        except ValueError:
            ap.error(f"--percentile must be SLA_MS,SHARE,N, got {args.percentile!r}")
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}")
    trees = {"after": ROOT}
    if args.before is not None:
        trees = {"before": args.before.resolve(), "after": ROOT}
    for label, tree in trees.items():
        print(f"{label} = {_commit(tree)}")
    if overrides:
        print(f"percentile case with {overrides}")
    print(
        f"cap {args.cap:g} s, {args.repeats} repeat(s), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    print(HEAD, flush=True)
    every: list[dict] = []
    for case in cases:
        got: dict[str, list[dict]] = {label: [] for label in trees}
        for rep in range(args.repeats):
            order = list(trees) if rep % 2 == 0 else list(reversed(trees))  # ABBA
            for label in order:
                r = run(case, args.cap, trees[label], overrides if case == "percentile" else None)
                r["tree"], r["repeat"] = label, rep
                got[label].append(r)
                every.append(r)
                if "err" in r:
                    print(f"{case} {label}: {r['status']}\n{r['err']}", file=sys.stderr)
        for label in trees:
            print(_line(case, label, got[label]), flush=True)
        objs = {
            (r["status"], None if r.get("objective") is None else round(r["objective"], 6))
            for rs in got.values()
            for r in rs
        }
        if len(trees) > 1:
            b, a = _median(got["before"], "cpu_s"), _median(got["after"], "cpu_s")
            ratio = f"{a / b:.2f}" if a and b else "-"
            print(
                f"{case:>16} after/before CPU {ratio}; same status and objective in every run: "
                f"{'yes' if len(objs) == 1 else 'NO ' + str(sorted(objs, key=str))}",
                flush=True,
            )
        elif args.repeats > 1 and len(objs) > 1:
            print(f"{case:>16} runs disagree: {sorted(objs, key=str)}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    if args.out is not None:
        print(f"wrote {write_csv(every, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
