"""``placement demo``, the whole command, this checkout against another one side by side.

Every run is ``python -c "from placement.cli import main; main()" demo`` in a fresh empty
temporary directory (the report goes to ``reports/demo.html`` there), in its own subprocess with
the checkout first on ``PYTHONPATH``; the two checkouts alternate within each repeat (A B, B A, …)
so both see the same machine load. Printed per checkout: the median CPU seconds (user + system of
the child, from ``os.wait4``), the median wall seconds, the peak resident memory (MB), the ``time: build …, solve …`` line the command prints and its objective line, which must
agree between the two (the demo's instance and report are the same; only the speed may differ):

    git worktree add /tmp/placement-before <commit>
    python benchmarks/demo_bench.py --before /tmp/placement-before --repeats 3

Without ``--before`` only this checkout runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from world_bench import _commit  # the checkout's commit, shared by the benches

CHILD = "import sys; from placement.cli import main; sys.exit(main())"


def run(tree: Path) -> dict:
    """One ``placement demo`` with ``tree``'s package; CPU, wall, memory and its stderr lines."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tree), os.environ.get("PYTHONPATH", "")]),
    }
    with tempfile.TemporaryDirectory() as cwd, tempfile.TemporaryFile("w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, "demo"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=cwd,
            env=env,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU and peak memory
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    lines = stderr.splitlines()

    def line(prefix: str) -> str:
        return next((s for s in lines if s.startswith(prefix)), "-")

    return {
        "rc": proc.returncode,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "peak_mb": usage.ru_maxrss / 1024,
        "timing": line("time:"),
        "objective": line("objective"),
        "err": stderr[-500:] if proc.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", type=Path, help="another checkout to compare with, side by side")
    ap.add_argument("--repeats", type=int, default=3, help="runs per checkout")
    args = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    trees = {"after": here}
    if args.before is not None:
        trees = {"before": args.before.resolve(), "after": here}
    for name, tree in trees.items():
        print(f"{name} = {_commit(tree)}", flush=True)
    got: dict[str, list[dict]] = {name: [] for name in trees}
    for r in range(args.repeats):
        names = list(trees) if r % 2 == 0 else list(reversed(trees))
        for name in names:
            out = run(trees[name])
            if out["rc"] != 0:
                print(f"{name} failed (rc {out['rc']}): {out['err']}", file=sys.stderr)
                return 1
            got[name].append(out)
            print(
                f"  {name:6} cpu {out['cpu_s']:6.2f} s  wall {out['wall_s']:6.2f} s"
                f"  {out['peak_mb']:5.0f} MB  {out['timing']}",
                flush=True,
            )
    print(f"{'tree':6} {'cpu s':>6} {'wall s':>7} {'MB':>5}  objective line")
    for name, runs in got.items():
        print(
            f"{name:6} {statistics.median(r['cpu_s'] for r in runs):6.2f}"
            f" {statistics.median(r['wall_s'] for r in runs):7.2f}"
            f" {max(r['peak_mb'] for r in runs):5.0f}  {runs[0]['objective']}"
        )
    if len(got) == 2:
        cpu = {n: statistics.median(r["cpu_s"] for r in rs) for n, rs in got.items()}
        same = len({r["objective"] for rs in got.values() for r in rs}) == 1
        print(f"cpu after / before {cpu['after'] / cpu['before']:.2f}; same objective line: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
