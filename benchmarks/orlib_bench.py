"""OR-Library p-median (and p-center) benchmark: ours vs spopt + HiGHS / CBC, side by side.

Every measurement runs in its own subprocess so that peak memory (``ru_maxrss``) is per instance.

* **ours**: :func:`placement.formulations.radius.solve_pmedian` (median wall time of
  ``--repeats`` runs), the greedy + swap heuristic alone, the answer available after 1 s
  (``time_limit_s=1``) and :func:`placement.formulations.center.solve_pcenter`.
* **peers**: ``spopt.locate.PMedian`` built from the same cost matrix, solved through PuLP with
  HiGHS and with CBC, wall time = build + solve, limited to ``--peer-cap`` seconds. spopt is *not* a
  dependency of placement: install it in a separate environment and pass its interpreter with
  ``--peer-python`` (or ``PLACEMENT_PEER_PYTHON``). A peer run that does not finish, or finishes
  without the published optimum, is counted at the cap in the totals; one still running
  ``--peer-grace`` seconds after the cap is killed (it would count at the cap anyway).

The instances are read from ``../shared/benchmarks/orlib`` beside the repository (override with
``--shared`` or ``PLACEMENT_SHARED``). Results go to ``benchmarks/results/orlib_<timestamp>.csv``.

Usage::

    python benchmarks/orlib_bench.py --quick
    python benchmarks/orlib_bench.py --peer-python /path/to/venv/bin/python --peer-cap 120
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from world_bench import write_csv  # the one CSV writer of the benches

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

QUICK = [1, 2, 6, 11, 16, 21, 26, 31, 35, 40]
PEER_ENV = "PLACEMENT_PEER_PYTHON"


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process, its threads and its reaped children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(shared: str | None, k: int):
    from placement import orlib

    folder = orlib.shared_orlib_dir(shared)
    if folder is None:
        raise SystemExit("OR-Library folder not found: pass --shared or set PLACEMENT_SHARED")
    return orlib.read_pmed(folder / "pmed" / f"pmed{k}.txt")


# ---------------------------------------------------------------------------- workers
def worker_ours(shared: str | None, k: int, repeats: int, threads: int | None) -> dict:
    """Run our solvers on pmed k; returns a JSON-able dict."""
    import numpy as np

    from placement.formulations.center import solve_pcenter
    from placement.formulations.radius import solve_pmedian
    from placement.heuristics import pmedian_heuristic

    inst = _load(shared, k)
    t = time.perf_counter()
    h = pmedian_heuristic(inst.cost, None, inst.p)
    heur_s = time.perf_counter() - t
    walls, cpus, sols = [], [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), _cpu_s()
        s = solve_pmedian(inst.cost, None, inst.p, threads=threads)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu_s() - c)
        sols.append(s)
    s = sols[walls.index(statistics.median_low(walls))]
    t = time.perf_counter()
    one = solve_pmedian(inst.cost, None, inst.p, time_limit_s=1.0, threads=threads)
    one_s = time.perf_counter() - t
    t = time.perf_counter()
    c = solve_pcenter(inst.cost, inst.p, threads=threads)
    center_s = time.perf_counter() - t
    return {
        "n": inst.n,
        "p": inst.p,
        "ours_s": statistics.median(walls),
        "ours_cpu_s": statistics.median(cpus),
        "ours_runs": [round(w, 4) for w in walls],
        "objective": s.objective,
        "bound": s.best_bound,
        "gap": s.gap,
        "status": s.status,
        "build_s": s.build_s,
        "solve_s": s.solve_s,
        "heur_obj": h.objective,
        "heur_s": heur_s,
        "one_s_obj": one.objective,
        "one_s_gap": one.gap,
        "one_s_status": one.status,
        "one_s_wall": one_s,
        "center_obj": c.objective,
        "center_status": c.status,
        "center_s": center_s,
        "n_vars": s.n_vars,
        "n_rows": s.n_rows,
        "sites": [int(j) for j in np.asarray(s.open_sites)],
        "mem_mb": _maxrss_mb(),
    }


def worker_spopt(shared: str | None, k: int, solver: str, cap: float) -> dict:
    """Run spopt's PMedian through PuLP on pmed k (needs spopt and pulp importable)."""
    import numpy as np
    import pulp
    from spopt.locate import PMedian

    inst = _load(shared, k)
    t, c = time.perf_counter(), _cpu_s()
    model = PMedian.from_cost_matrix(inst.cost, np.ones(inst.n), p_facilities=inst.p)
    if solver == "highs":
        sol = pulp.HiGHS(msg=False, timeLimit=cap)
    else:
        sol = pulp.PULP_CBC_CMD(msg=False, timeLimit=cap)
    error = None
    try:
        model.solve(sol)
    except RuntimeError as exc:  # spopt raises when the solver stops without an optimum
        error = str(exc)
    wall = time.perf_counter() - t
    cpu = _cpu_s() - c  # includes the CBC subprocess, reaped by PuLP
    obj = pulp.value(model.problem.objective)
    return {
        "wall": wall,
        "cpu": cpu,
        "objective": None if obj is None else float(obj),
        "pulp_status": pulp.LpStatus[model.problem.status],
        "error": error,
        "mem_mb": _maxrss_mb(),
    }


# ---------------------------------------------------------------------------- driver
def _run(cmd: list[str], timeout: float) -> dict | None:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    sys.stderr.write(out.stderr[-2000:])
    return None


def _start_peer(cmd: list[str]) -> subprocess.Popen:
    # own process group, so that killing it also stops the CBC subprocess PuLP started
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _finish_peer(proc: subprocess.Popen, timeout: float) -> dict | None:
    """The worker's JSON, or a ``killed`` record (with the worker's own CPU) after ``timeout``."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = status
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        # CPU of the worker process only: a CBC subprocess killed with it is not counted
        cpu = usage.ru_utime + usage.ru_stime
        return {
            "wall": None,
            "cpu": cpu,
            "objective": None,
            "pulp_status": "killed",
            "error": None,
            "mem_mb": usage.ru_maxrss / 1024.0,
        }
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def _peer_available(python: str | None) -> tuple[str | None, str]:
    if not python:
        return None, f"no peer interpreter (pass --peer-python or set {PEER_ENV})"
    try:
        out = subprocess.run(
            [python, "-c", "import spopt, pulp; print(spopt.__version__, pulp.__version__)"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except OSError as exc:
        return None, f"peer interpreter not runnable: {exc}"
    if out.returncode != 0:
        return None, "spopt/pulp not importable by the peer interpreter"
    return python, "spopt " + out.stdout.strip()


def _write_csv(rows: list[dict], path: Path) -> str:
    write_csv(rows, path, sort_keys=False)
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


def _print_totals(rows: list[dict], cap_text: str) -> None:
    """Totals, ratios (wall and CPU) and the target checks over ``rows``."""
    tot = sum(r["ours_s"] for r in rows)
    line = f"total ours {tot:.2f} s over {len(rows)} instances; "
    line += f"all optimal and proven: {all(r['ours_correct'] for r in rows)}; "
    line += f"slowest {max(r['ours_s'] for r in rows):.2f} s; "
    line += f"worst heuristic gap {max(r['heur_gap_pct'] for r in rows):.2f} %; "
    line += f"worst 1-s answer gap to optimum {max(r['one_s_gap_to_opt_pct'] for r in rows):.2f} %"
    print(line)
    cpu_tot = sum(r["ours_cpu_s"] for r in rows)
    for solver in ("highs", "cbc"):
        if rows[0].get(f"{solver}_cpu_s") is not None:
            cs = sum(r[f"{solver}_cpu_s"] for r in rows)
            print(
                f"CPU seconds: ours {cpu_tot:.1f}, spopt+{solver} at least {cs:.1f} "
                f"-> ratio >= {cs / cpu_tot:.0f}x (robust to other load on the machine)"
            )
    for solver in ("highs", "cbc"):
        if rows[0].get(f"{solver}_s") is not None:
            ts = sum(r[f"{solver}_s"] for r in rows)
            nsol = sum(bool(r.get(f"{solver}_solved")) for r in rows)
            print(
                f"spopt+{solver}: total {ts:.1f} s ({cap_text} counted for the "
                f"{len(rows) - nsol} not solved to the optimum within it) -> ours is {ts / tot:.0f}x "
                "faster"
            )


def _read_rows(paths: list[str]) -> list[dict]:
    """Rows of earlier runs' CSV files, by instance number (a later file wins)."""
    by_k: dict[int, dict] = {}
    for path in paths:
        with open(path, newline="") as f:
            for raw in csv.DictReader(f):
                row: dict = {}
                for key, val in raw.items():
                    if val in ("", None):
                        row[key] = None
                    elif val in ("True", "False"):
                        row[key] = val == "True"
                    else:
                        try:
                            row[key] = float(val)
                        except ValueError:
                            row[key] = val
                by_k[int(str(row["instance"]).removeprefix("pmed"))] = row
    return [by_k[k] for k in sorted(by_k)]


def summarize(paths: list[str]) -> int:
    """Print one markdown table and the totals from the CSV files of one or more runs.

    For runs of disjoint instance sets made at the same time (e.g. ``--instances 1-33`` and
    ``--instances 34-40`` in parallel to finish sooner); the CPU-time ratios are the figures that
    such sharing of the machine does not inflate.
    """
    rows = _read_rows(paths)
    if not rows:
        print("no rows", file=sys.stderr)
        return 1

    def peer(r: dict, solver: str) -> str:
        v = r.get(f"{solver}_s")
        if v is None:
            return "n/a"
        return f"{v:.1f}" + ("" if r.get(f"{solver}_solved") else "*")

    print(
        "| inst | n | p | optimum | ours s | ours CPU s | status | gap | 1-s gap % "
        "| spopt+HiGHS s | spopt+CBC s | HiGHS CPU s | CBC CPU s | HiGHS/ours | CBC/ours |"
    )
    print("|" + "---|" * 15)
    for r in rows:
        ours = r["ours_s"]
        rh = (r.get("highs_s") or 0.0) / ours
        rc = (r.get("cbc_s") or 0.0) / ours
        print(
            f"| {r['instance']} | {r['n']:.0f} | {r['p']:.0f} | {r['optimum']:.0f} | {ours:.2f} "
            f"| {r['ours_cpu_s']:.2f} | {r['status']} | {r['gap']:.0f} "
            f"| {r['one_s_gap_to_opt_pct']:.2f} | {peer(r, 'highs')} | {peer(r, 'cbc')} "
            f"| {r.get('highs_cpu_s') or 0.0:.1f} | {r.get('cbc_cpu_s') or 0.0:.1f} "
            f"| {rh:.0f} | {rc:.0f} |"
        )
    print("(* not solved to the optimum within the cap of its run: counted at that cap)")
    _print_totals(rows, "the cap of each run")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help=f"only pmed {QUICK}")
    ap.add_argument("--instances", type=str, default=None, help="e.g. 1-10,36")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--shared", type=str, default=None, help="shared folder (holds benchmarks/)")
    ap.add_argument("--peer-python", type=str, default=os.environ.get(PEER_ENV))
    ap.add_argument("--peer-cap", type=float, default=300.0, help="peer time limit, s")
    ap.add_argument(
        "--peer-grace",
        type=float,
        default=300.0,
        help="a peer still running this many seconds after the cap is killed with its "
        "subprocesses; it counts at the cap either way, so this only bounds the run's length",
    )
    ap.add_argument("--peers", type=str, default="highs,cbc")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument(
        "--peer-parallel",
        action="store_true",
        help="run the two peers of an instance at the same time (halves wall time; they compete "
        "for cores, so their times are pessimistic)",
    )
    ap.add_argument("--out", type=str, default=None)
    ap.add_argument(
        "--summarize",
        nargs="+",
        metavar="CSV",
        help="print one table and the totals from earlier runs' CSV files, then exit",
    )
    ap.add_argument("--worker", choices=["ours", "highs", "cbc"], help=argparse.SUPPRESS)
    ap.add_argument("--k", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.summarize:
        return summarize(a.summarize)

    if a.worker == "ours":
        print(json.dumps(worker_ours(a.shared, a.k, a.repeats, a.threads)))
        return 0
    if a.worker in ("highs", "cbc"):
        print(json.dumps(worker_spopt(a.shared, a.k, a.worker, a.peer_cap)))
        return 0

    if a.instances:
        ks: list[int] = []
        for part in a.instances.split(","):
            lo, _, hi = part.partition("-")
            ks.extend(range(int(lo), int(hi or lo) + 1))
    else:
        ks = QUICK if a.quick else list(range(1, 41))
    from placement import orlib

    folder = orlib.shared_orlib_dir(a.shared)
    if folder is None:
        print("OR-Library folder not found: pass --shared or set PLACEMENT_SHARED")
        return 2
    opt = orlib.read_pmedopt(folder / "pmed" / "pmedopt.txt")
    peers = [] if a.no_peers else [x for x in a.peers.split(",") if x]
    peer_py, peer_note = (None, "disabled") if not peers else _peer_available(a.peer_python)
    print(f"peers: {peer_note}" + (f"; cap {a.peer_cap:.0f} s" if peer_py else ""))
    out_dir = Path(a.out) if a.out else REPO / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"orlib_{time.strftime('%Y%m%d_%H%M%S')}.csv"
    script = str(Path(__file__).resolve())
    shared_args = ["--shared", a.shared] if a.shared else []
    rows = []
    hdr = (
        f"{'inst':7} {'n':>4} {'p':>4} {'opt':>6} | {'ours s':>7} {'build':>6} {'solve':>6} "
        f"{'obj':>6} {'gap':>5} {'MB':>5} | {'heur':>6} {'h s':>5} {'h gap%':>6} | "
        f"{'1s obj':>6} {'1s gap%':>7} | {'pctr':>4} {'pctr s':>6} | "
        f"{'HiGHS s':>8} {'CBC s':>8} {'xHiGHS':>7} {'xCBC':>7}"
    )
    print(hdr)
    print("-" * len(hdr))
    for k in ks:
        name = f"pmed{k}"
        cmd = [
            sys.executable,
            script,
            "--worker",
            "ours",
            "--k",
            str(k),
            "--repeats",
            str(a.repeats),
        ]
        if a.threads:
            cmd += ["--threads", str(a.threads)]
        ours = _run(cmd + shared_args, timeout=3600)
        if ours is None:
            print(f"{name}: our worker failed")
            continue
        peer_res: dict[str, dict | None] = {}
        if peer_py:
            procs = {}
            limit = a.peer_cap + a.peer_grace
            for solver in peers:
                pc = [peer_py, script, "--worker", solver, "--k", str(k)]
                pc += ["--peer-cap", str(a.peer_cap), *shared_args]
                if a.peer_parallel:
                    procs[solver] = (_start_peer(pc), time.perf_counter())
                else:
                    peer_res[solver] = _finish_peer(_start_peer(pc), limit)
            for solver, (pr, started) in procs.items():
                # the grace runs from each peer's own start (waiting for the first peer must not
                # extend the second one's: pmed38's CBC ran 8 min before this was fixed)
                left = max(0.0, started + limit - time.perf_counter())
                peer_res[solver] = _finish_peer(pr, left)
        best = opt[name]
        row = {
            "instance": name,
            "n": ours["n"],
            "p": ours["p"],
            "optimum": best,
            **{key: ours[key] for key in ours if key not in ("sites", "ours_runs")},
            "ours_runs": " ".join(map(str, ours["ours_runs"])),
            "heur_gap_pct": 100.0 * (ours["heur_obj"] / best - 1.0),
            "one_s_gap_to_opt_pct": 100.0 * (ours["one_s_obj"] / best - 1.0),
            "ours_correct": abs(ours["objective"] - best) < 1e-6 and ours["status"] == "optimal",
        }
        cells = {}
        for solver in ("highs", "cbc"):
            r = peer_res.get(solver)
            if solver not in peers or not peer_py:
                row[f"{solver}_s"] = None
                cells[solver] = "n/a"
                continue
            ok = r is not None and r["objective"] is not None
            ok = ok and abs(r["objective"] - best) < 1e-6 and r["wall"] < a.peer_cap
            counted = r["wall"] if ok else a.peer_cap
            row[f"{solver}_s"] = counted
            # CPU seconds actually used; a peer stopped at the cap would have needed more, and one
            # killed by the driver counts only its worker process (not the CBC subprocess), so
            # the CPU totals are lower bounds for the peers
            row[f"{solver}_cpu_s"] = 0.0 if r is None else r["cpu"]
            row[f"{solver}_solved"] = ok
            row[f"{solver}_objective"] = None if r is None else r["objective"]
            row[f"{solver}_pulp_status"] = "timeout" if r is None else r["pulp_status"]
            row[f"{solver}_mem_mb"] = None if r is None else r["mem_mb"]
            cells[solver] = f"{counted:8.1f}" + ("" if ok else "*")
        rows.append(row)
        _write_csv(rows, path)  # after every instance, so an interrupted run keeps its rows
        rh = row["highs_s"] / ours["ours_s"] if row.get("highs_s") else None
        rc = row["cbc_s"] / ours["ours_s"] if row.get("cbc_s") else None
        print(
            f"{name:7} {ours['n']:4d} {ours['p']:4d} {best:6d} | {ours['ours_s']:7.2f} "
            f"{ours['build_s']:6.2f} {ours['solve_s']:6.2f} {ours['objective']:6.0f} "
            f"{ours['gap']:5.3f} {ours['mem_mb']:5.0f} | {ours['heur_obj']:6.0f} "
            f"{ours['heur_s']:5.2f} {row['heur_gap_pct']:6.2f} | {ours['one_s_obj']:6.0f} "
            f"{100 * ours['one_s_gap']:7.3f} | {ours['center_obj']:4.0f} {ours['center_s']:6.2f} | "
            f"{cells['highs']:>8} {cells['cbc']:>8} "
            f"{(f'{rh:7.0f}' if rh else '    n/a')} {(f'{rc:7.0f}' if rc else '    n/a')}",
            flush=True,
        )
    if not rows:
        return 1
    print("-" * len(hdr))
    _print_totals(rows, f"cap {a.peer_cap:.0f} s")
    print(f"wrote {_write_csv(rows, path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
