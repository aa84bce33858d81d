"""The README's old command-line example (issue 18), this checkout against another, side by side.

    placement solve --sites catalog --demand catalog --objective median --open 6 \\
        --max-latency-ms 80 --redundancy 2 --failure-domain provider --time-limit 120 --out …

with and without ``--unreachable exclude``. Each run is its own ``placement`` process (the tree
first on ``PYTHONPATH``); the two checkouts alternate in ABBA order so that both see the same
machine load. Printed per checkout and variant: the median wall and CPU seconds (user + system of
the child process), peak resident memory, the exit code and the status line.

    git worktree add /tmp/placement-before 252b430
    python benchmarks/readme_bench.py --before /tmp/placement-before --repeats 3

``--docs`` times instead every example of README.md and docs/*.md as a newcomer runs them, in
page order, in a scratch folder holding a copy of ``docs/examples``: each ``placement …`` line
is its own process (wall and CPU seconds of the child, peak MB, exit code), each ``python``
block runs in one interpreter per page (wall and CPU seconds of the block); with ``--before``
the two checkouts alternate page by page (ABBA). The default suite runs the same examples
(``tests/test_docs.py``) without timing them.

    python benchmarks/readme_bench.py --docs --repeats 3 [--before DIR]
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


PAGES = ["README.md", "docs/cookbook.md", "docs/toml.md", "docs/demand.md", "docs/latency.md"]
_BLOCK = re.compile(r"(<!-- docs-test: skip -->\s*)?```(\w+)\n(.*?)```", re.DOTALL)
_NOT_RUN = ("python -m pip", "python -m pytest", "ruff", "bash .ci/run")


def _docs_child(page: str) -> int:
    """Run one page's examples in order (this process imports the tree on ``PYTHONPATH``) and
    print one JSON row per example; ``cwd`` is the scratch folder."""
    import contextlib
    import io
    import json
    import warnings

    warnings.simplefilter("ignore", UserWarning)
    ns: dict = {"__name__": "docs"}
    text = (ROOT / page).read_text(encoding="utf-8")
    for k, m in enumerate(_BLOCK.finditer(text)):
        if m.group(1):
            continue
        lang, code = m.group(2), m.group(3)
        if lang == "python":
            t0, c0, rc = time.perf_counter(), time.process_time(), 0
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"{page}:{k}", "exec"), ns)
            except Exception as exc:  # a failing example is a row, not the end of the run
                rc = f"{type(exc).__name__}: {exc}"[:200]
            row = {"example": f"{page} python block {k}", "rc": rc}
            row |= {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0}
            row["peak_mb"] = float("nan")
            print(json.dumps(row), flush=True)
        elif lang in ("bash", "sh"):
            for full in re.sub(r"\\\n\s*", " ", code).splitlines():
                for part in full.split("  #", 1)[0].split("&&"):
                    line = part.strip()
                    if not line.startswith("placement ") or line.startswith(_NOT_RUN):
                        continue
                    t0 = time.perf_counter()
                    proc = subprocess.Popen(
                        [
                            "bash",
                            "-c",
                            line.replace("placement ", f"{sys.executable} -c {LAUNCH!r} ", 1),
                        ],
                        stdout=None if ">" in line else subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    _, wait_status, usage = os.wait4(proc.pid, 0)
                    row = {"example": f"{page}: {line[:90]}"}
                    row["rc"] = os.waitstatus_to_exitcode(wait_status)
                    row["wall_s"] = time.perf_counter() - t0
                    row["cpu_s"] = usage.ru_utime + usage.ru_stime
                    row["peak_mb"] = usage.ru_maxrss / 1024
                    print(json.dumps(row), flush=True)
    return 0


def docs_bench(trees: dict[str, Path], repeats: int) -> int:
    """Every documented example, per checkout, ABBA page by page; medians per example."""
    import json
    import shutil

    rows: dict[str, dict[str, list[dict]]] = {name: {} for name in trees}
    names = list(trees)
    for r in range(repeats):
        for page in PAGES:
            for name in names if r % 2 == 0 else names[::-1]:
                with tempfile.TemporaryDirectory() as tmp:
                    shutil.copytree(ROOT / "docs" / "examples", Path(tmp) / "docs" / "examples")
                    env = {**os.environ, "PYTHONPATH": str(trees[name])}
                    out = subprocess.run(
                        [sys.executable, __file__, "--docs-child", page],
                        env=env, cwd=tmp, capture_output=True, text=True, check=False,
                    )  # fmt: skip
                for line in out.stdout.splitlines():
                    row = json.loads(line)
                    rows[name].setdefault(row["example"], []).append(row)
    print(f"{'example':100s} {'tree':6s} {'exit':>4s} {'wall s':>7s} {'cpu s':>7s} {'MB':>5s}")
    for example in rows[names[0]]:
        for name in names:
            rs = rows[name].get(example, [])
            if not rs:
                continue
            wall = statistics.median(x["wall_s"] for x in rs)
            cpu = statistics.median(x["cpu_s"] for x in rs)
            mb = max(x["peak_mb"] for x in rs)
            exits = ",".join(sorted({str(x["rc"]) for x in rs}))
            print(f"{example:100s} {name:6s} {exits:>4s} {wall:7.2f} {cpu:7.2f} {mb:5.0f}")
    return 0


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
    ap.add_argument(
        "--docs", action="store_true", help="time every example of README.md and docs/*.md"
    )
    ap.add_argument("--docs-child", metavar="PAGE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.docs_child:
        return _docs_child(args.docs_child)
    trees = {"after": ROOT}
    if args.before is not None:
        trees["before"] = args.before.resolve()
    if args.docs:
        print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}  load {os.getloadavg()}")
        docs_bench(trees, args.repeats)
        print(f"# load at the end {os.getloadavg()}")
        return 0
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
