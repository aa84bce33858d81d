"""One point of the world sweep (redundancy 2): status, objective, bound, CPU, wall, peak memory.

The Problem of ``world_sweep_bench.py``'s child (all AWS, GCP and Azure regions x every city of at
least 100,000 people merged within 50 km, median, backbone latencies, a backup at another
provider within 225 ms) at one ``--n-sites`` and ``--sla``, solved cold with ``threads=1``.
``--verbose`` prints the solver's log (pricing rounds, the MIP's HiGHS log and its report).
Run it with ``PYTHONPATH`` set to the checkout to measure (twice, side by side, to compare two).

    python benchmarks/world_point_bench.py --n-sites 8 --sla 160 --time-limit 900
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-sites", type=int, default=8)
    ap.add_argument("--sla", type=float, default=160.0, help="max_latency_ms")
    ap.add_argument("--time-limit", type=float, default=900.0, help="seconds")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import placement as pl
    from placement.problem import Problem

    sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
    users = pl.demand.from_cities(min_population=100_000, merge_within_km=50)
    p = Problem(
        sites,
        users,
        objective="median",
        n_sites=args.n_sites,
        max_latency_ms=args.sla,
        latency=pl.latency.UserLatencyModel(access="none"),
        redundancy=2,
        failure_domain="provider",
        backup_max_latency_ms=225,
    )
    c0, w0 = time.process_time(), time.perf_counter()
    r = p.solve(time_limit_s=args.time_limit, threads=1, verbose=args.verbose)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"N={args.n_sites} sla={args.sla:g} status={r.status} objective={r.objective:.9f} "
        f"bound={r.best_bound:.9f} gap={r.gap:.2e} cpu_s={cpu:.2f} wall_s={wall:.2f} "
        f"peak_mb={peak:.0f} n_vars={r.solver.get('n_vars')} n_rows={r.solver.get('n_rows')}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
