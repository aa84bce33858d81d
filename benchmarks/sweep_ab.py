"""World sweeps over ``n_sites``, this checkout against another one, side by side in one run.

Each measurement runs in its own subprocess with the given checkout first on ``sys.path``; the
two checkouts alternate within every repeat, so both see the same machine load. Per checkout and
grid it prints the median CPU and wall seconds of a cold sweep (``warm_start=False``) and of a
warm one (the default: open sites, and since the root-LP restart also the fast p-median's cuts
and basis, handed from point to point), the ratios against the other checkout, and whether every
point's objective agrees across all runs.

Grids: ``world`` = AWS + GCP + Azure regions x cities >= 500,000 (merged within 50 km), median,
``max_latency_ms=100``, ``n_sites`` 6..14; ``world100k`` = the same on cities >= 100,000.

Usage::

    git worktree add /tmp/placement-before <commit>
    python benchmarks/sweep_ab.py --before /tmp/placement-before --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GRIDS = {"world": 500_000, "world100k": 100_000}

_WORKER = """
import json, sys, time
tree, pop = sys.argv[1], int(sys.argv[2])
sys.path[:0] = [tree, tree + "/benchmarks"]
from sweep_bench import world_instance
from placement.scenarios import sweep
base = world_instance(pop, objective="median", n_sites=6, max_latency_ms=100)
out = {}
for mode in ("cold", "warm"):
    c0, w0 = time.process_time(), time.perf_counter()
    s = sweep(base, {"n_sites": list(range(6, 15))}, executor="serial", progress=False,
              warm_start=mode == "warm", threads=1)
    objs = [None if r is None or r.objective is None else round(r.objective, 9) for r in s.results]
    out[mode] = [time.process_time() - c0, time.perf_counter() - w0, objs]
print(json.dumps(out))
"""


def _measure(tree: Path, pop: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _WORKER, str(tree), str(pop)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, type=Path, help="checkout of the older commit")
    ap.add_argument("--grids", default="world100k,world", help="comma separated: world, world100k")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": REPO}
    grids = [g.strip() for g in args.grids.split(",") if g.strip()]
    unknown = [g for g in grids if g not in GRIDS]
    if unknown:
        ap.error(f"unknown grid {unknown[0]!r}; choose from {', '.join(GRIDS)}")
    runs: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    objectives: dict[str, set] = {}
    for rep in range(args.repeats):
        for grid in grids:
            for label, tree in trees.items():
                res = _measure(tree, GRIDS[grid])
                for mode in ("cold", "warm"):
                    cpu, wall, objs = res[mode]
                    runs.setdefault((grid, label, mode), []).append((cpu, wall))
                    objectives.setdefault(grid, set()).add(tuple(objs))
                print(f"repeat {rep + 1}: {grid} {label} done", file=sys.stderr)
    print(f"median of {args.repeats}; CPU seconds (wall in brackets) of a 9-point sweep")
    print(f"{'grid':>10} {'checkout':>8} {'cold':>14} {'warm':>14} {'warm/cold':>9}")
    med: dict[tuple[str, str, str], float] = {}
    for grid in grids:
        for label in trees:
            cells = []
            for mode in ("cold", "warm"):
                cpu = statistics.median(c for c, _ in runs[(grid, label, mode)])
                wall = statistics.median(w for _, w in runs[(grid, label, mode)])
                med[(grid, label, mode)] = cpu
                cells.append(f"{cpu:6.2f} ({wall:5.2f})")
            ratio = med[(grid, label, "warm")] / med[(grid, label, "cold")]
            print(f"{grid:>10} {label:>8} {cells[0]:>14} {cells[1]:>14} {ratio:9.2f}")
        b, a = med[(grid, "before", "warm")], med[(grid, "after", "warm")]
        same = "yes" if len(objectives[grid]) == 1 else "NO"
        print(
            f"{grid:>10} after/before: cold "
            f"{med[(grid, 'after', 'cold')] / med[(grid, 'before', 'cold')]:.2f}, warm {a / b:.2f}; "
            f"same objectives at every point in every run: {same}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
