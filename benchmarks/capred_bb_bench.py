"""The site branch and bound of capacity + redundancy alone: nodes, LPs, CPU and wall seconds.

The world instance of ``constraints_bench.py``'s ``capacity_redund`` case (all AWS, GCP and
Azure regions x every city of at least 100,000 people merged within 50 km, median, 10 sites,
150 ms, a capacity of 15 % of the weight, a backup at another provider within 225 ms) on its
demand classes: its strong LP by site pricing (``cfl_redundant_lp._strong_lp``, from the
incumbent ``--open``, the proven optimum by default) and then ``cfl_redundant_lp._site_bb``
from that LP's state with that incumbent and no deadline (``--tree-limit`` sets one). Only the tree is timed (its CPU
seconds ``bb_cpu_s`` are the figure to compare; the strong LP's are printed beside them).

Each run is a subprocess; ``--trees A,B`` runs the checkouts ``A`` and ``B`` (their
``PYTHONPATH``) alternately, ABBA within each of ``--repeats``, and prints the medians side by
side.

    python benchmarks/capred_bb_bench.py                         # this checkout, once
    python benchmarks/capred_bb_bench.py --trees /tmp/base,. --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

#: The proven optimum's open sites (site indices of the ModelData), 56.4100998.
OPTIMUM_OPEN = "3,17,46,55,73,81,90,129,133,164"

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import numpy as np
import placement as pl
from placement.problem import Problem
from placement.formulations import cfl_redundant_lp as c
open_ids, verbose = [int(x) for x in sys.argv[1].split(",")], sys.argv[2] == "1"
limit = float(sys.argv[3])
sites = pl.catalog.sites(providers=["aws", "gcp", "azure"])
users = pl.demand.from_cities(min_population=100_000, merge_within_km=50)
w = float(users["weight"].sum())
p = Problem(sites, users, objective="median", n_sites=10, max_latency_ms=150.0,
            latency=pl.latency.UserLatencyModel(access="none"),
            capacity=0.15 * w, redundancy=2, failure_domain="provider",
            backup_max_latency_ms=225.0)
data = c._Classes.of(p.lower().data).data
mask = np.zeros(data.n_sites, dtype=bool)
mask[open_ids] = True
value, rows = c.evaluate_open(data, mask, float("inf"))
c0 = time.process_time()
res, md, lp, u, mu = c._strong_lp(data, float("inf"), mask, rows, False, target=value)
lp_cpu = time.process_time() - c0
c0, t0 = time.process_time(), time.perf_counter()
bb = c._site_bb(data, md, lp, u, mu, (value, mask, rows), time.perf_counter() + limit, verbose)
out = {k: v for k, v in bb.stats.items()}
out.update(incumbent=value, bound=bb.bound, better=None if bb.incumbent is None
           else bb.incumbent[0], lp_proven=res.proven, lp_cpu_s=lp_cpu,
           tree_cpu_s=time.process_time() - c0, tree_s=time.perf_counter() - t0)
print("JSON " + json.dumps(out), flush=True)
"""

KEYS = ["bb_nodes", "bb_lps", "bb_priced", "bb_cpu_s", "bb_s", "lp_cpu_s"]


def run(tree: str, open_ids: str, verbose: bool, limit: float) -> dict:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    proc = subprocess.run(
        [sys.executable, "-u", "-c", CHILD, open_ids, "1" if verbose else "0", str(limit)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if verbose:
        print(proc.stdout, end="", file=sys.stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("JSON ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{tree}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return json.loads(lines[-1][5:])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trees", default=".", help="checkouts to compare, comma-separated")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--open", default=OPTIMUM_OPEN, help="incumbent's open site indices")
    ap.add_argument("--verbose", action="store_true", help="the trees' node lines on stderr")
    ap.add_argument(
        "--tree-limit", type=float, default=float("inf"), help="wall seconds for each tree"
    )
    args = ap.parse_args(argv)
    trees = args.trees.split(",")
    runs: dict[str, list[dict]] = {t: [] for t in trees}
    for rep in range(args.repeats):
        order = trees if rep % 2 == 0 else trees[::-1]
        for tree in order:
            got = run(tree, args.open, args.verbose, args.tree_limit)
            runs[tree].append(got)
            load = os.getloadavg()[0]
            print(
                f"{tree}: "
                + " ".join(f"{k}={got[k]:.4g}" for k in KEYS)
                + f" proven={got['bb_proven']} bound={got['bound']:.9f}"
                + f" incumbent={got['incumbent']:.9f} better={got['better']} load={load:.2f}",
                flush=True,
            )
    print("medians:")
    for tree in trees:
        med = {k: statistics.median(r[k] for r in runs[tree]) for k in KEYS}
        print(f"  {tree}: " + " ".join(f"{k}={v:.4g}" for k, v in med.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
