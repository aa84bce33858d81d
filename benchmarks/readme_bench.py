"""The README's old command-line example (issue 18), this checkout against another, side by side.

    placement solve --sites catalog --demand catalog --objective median --open 6 \\
        --max-latency-ms 80 --redundancy 2 --failure-domain provider --time-limit 120 --out …

with and without ``--unreachable exclude``. Each run is its own ``placement`` process (the tree
first on ``PYTHONPATH``); the two checkouts alternate in ABBA order so that both see the same
machine load. Printed per checkout and variant: the median wall and CPU seconds (user + system of
the child process), peak resident memory, the exit code and the status line.

    git worktree add /tmp/placement-before 252b430
    python benchmarks/readme_bench.py --before /tmp/placement-before --repeats 3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMAND = [
    "solve",
    "--sites",
    "catalog",
    "--demand",
    "catalog",
    "--objective",
    "median",
    "--open",
    "6",
    "--max-latency-ms",
    "80",
    "--redundancy",
    "2",
    "--failure-domain",
    "provider",
]
LAUNCH = "import sys; from placement.cli import main; sys.argv[0] = 'placement'; sys.exit(main())"


def run(tree: Path, extra: list[str], time_limit: float) -> dict:
    """One ``placement solve`` of the example in a child process importing from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.TemporaryDirectory() as tmp:
        args = [*COMMAND, "--time-limit", str(time_limit), *extra, "--out", f"{tmp}/r.json"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, *args],
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        stderr = proc.stderr.read() if proc.stderr else ""
        _, wait_status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(wait_status)
    status = re.search(r"^status: (\w+)", stderr, re.MULTILINE)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # KB on Linux
        "rc": proc.returncode,
        "status": status.group(1) if status else "?",
        "last": stderr.strip().splitlines()[-1][:200] if stderr.strip() else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--before", type=Path, help="another checkout to compare with (ABBA order)")
    ap.add_argument("--repeats", type=int, default=3, help="ABBA rounds (default 3)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="--time-limit of each solve")
    ap.add_argument(
        "--variants",
        default="default,exclude",
        help="comma-separated: default (no --unreachable), exclude (--unreachable exclude)",
    )
    args = ap.parse_args(argv)
    trees = {"after": ROOT}
    if args.before is not None:
        trees["before"] = args.before.resolve()
    extras = {"default": [], "exclude": ["--unreachable", "exclude"]}
    print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  load {os.getloadavg()}")
    for variant in args.variants.split(","):
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        names = list(trees)
        for r in range(args.repeats):
            order = names if r % 2 == 0 else names[::-1]
            for name in order:
                res = run(trees[name], extras[variant], args.time_limit)
                runs[name].append(res)
                print(
                    f"{variant:8s} {name:6s} round {r + 1}: wall {res['wall_s']:7.2f} s, "
                    f"cpu {res['cpu_s']:7.2f} s, {res['peak_mb']:6.0f} MB, exit {res['rc']}, {res['status']}",
                    flush=True,
                )
        for name, rs in runs.items():
            wall = statistics.median(x["wall_s"] for x in rs)
            cpu = statistics.median(x["cpu_s"] for x in rs)
            mb = max(x["peak_mb"] for x in rs)
            print(
                f"{variant:8s} {name:6s} median of {len(rs)}: wall {wall:7.2f} s, cpu {cpu:7.2f} s, "
                f"peak {mb:.0f} MB,"
                f" statuses {sorted({x['status'] for x in rs})}, exits {sorted({x['rc'] for x in rs})}"
            )
            print(f"{variant:8s} {name:6s} last line: {rs[-1]['last']}")
    print(f"# load at the end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
