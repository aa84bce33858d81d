"""Hostile and careless use, one table per class of failure (issue 14).

Classes: writing where it must not (``WRITE``), reading what it must not (``READ``), numbers at the
edge (``NUMBERS``, ``EDGE_SOLVES``, ``RESULT_NUMBERS``), parsing that changes meaning
(``PARSING``), types not checked at the door (``TOML_TYPES``, ``LIB_TYPES``, ``CLI_TYPES``,
``RESULT_TYPES``) and resources without a budget (``BUDGETS``).

Every CLI case asserts the exit code, no traceback, one error line, and that no file in the test
folder was written or changed (a snapshot of names, sizes and contents before and after). Device
nodes are never targets: ``/dev/null`` and ``/dev/full`` are reached only through symbolic links
in the test folder (a failed refusal would replace the link, not the device), and the direct
refusal of ``/dev/null`` is tested on the check alone. Every ``optimal`` a case produces is
checked against exhaustive enumeration.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from placement import config, params
from placement._io import check_output_path, read_csv
from placement.cli import main
from placement.cli._common import heartbeat
from placement.errors import ValidationError
from placement.problem import Problem
from placement.report.example import example_result
from placement.result import Result, load_result_json
from placement.scenarios import sweep
from placement.scenarios.sweep import grid_points

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False

SITES = pd.DataFrame(
    {
        "site_id": ["a", "b", "c"],
        "lat": [0.0, 10.0, 20.0],
        "lon": [0.0, 10.0, 20.0],
        "provider": ["aws", "aws", "gcp"],
    }
)
DEMAND = pd.DataFrame(
    {
        "demand_id": ["d1", "d2", "d3", "d4"],
        "lat": [1.0, 9.0, 19.0, 5.0],
        "lon": [1.0, 9.0, 19.0, 5.0],
        "weight": [1.0, 2.0, 3.0, 4.0],
    }
)
LATENCY = pd.DataFrame(
    [
        (d, s, float(10 + 3 * i + 7 * ((i + j) % 3)))
        for i, d in enumerate(DEMAND["demand_id"])
        for j, s in enumerate(SITES["site_id"])
    ],
    columns=["demand_id", "site_id", "latency_ms"],
)


# ---------------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def _alarm() -> Iterator[None]:
    """No case may block: a blocking open or an endless loop fails the case after 30 s."""

    def boom(signum: int, frame: object) -> None:
        raise TimeoutError("hostile case blocked for 30 s")

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return
    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _files(tmp: Path) -> dict[str, str]:
    SITES.to_csv(tmp / "sites.csv", index=False)
    DEMAND.to_csv(tmp / "demand.csv", index=False)
    LATENCY.to_csv(tmp / "lat.csv", index=False)
    (tmp / "p.toml").write_text(
        '[inputs]\nsites = "sites.csv"\ndemand = "demand.csv"\nlatency = "lat.csv"\n'
        "[problem]\nn_sites = 1\n"
    )
    (tmp / "adir").mkdir()
    (tmp / "fifo").parent.mkdir(exist_ok=True)
    os.mkfifo(tmp / "fifo")
    (tmp / "null_link").symlink_to("/dev/null")
    (tmp / "full_link").symlink_to("/dev/full")
    (tmp / "zero_link").symlink_to("/dev/zero")
    (tmp / "sites_link.csv").symlink_to(tmp / "sites.csv")
    example_result().to_json(tmp / "r.json")
    return {
        "T": str(tmp),
        "S": str(tmp / "sites.csv"),
        "D": str(tmp / "demand.csv"),
        "L": str(tmp / "lat.csv"),
        "C": str(tmp / "p.toml"),
        "R": str(tmp / "r.json"),
    }


def _snapshot(tmp: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``tmp``: (mode type, size, sha256 of a regular file's content)."""
    out = {}
    for p in sorted(tmp.rglob("*")):
        st = p.lstat()
        digest = ""
        if stat.S_ISREG(st.st_mode):
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
        out[str(p.relative_to(tmp))] = (stat.S_IFMT(st.st_mode), st.st_size, digest)
    return out


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: usage error
        code = int(exc.code or 0)
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _check_clean_error(code: int, want: int, err: str, words: str) -> None:
    assert code == want, err
    assert "Traceback" not in err
    if want == 0:
        return
    last = err.strip().splitlines()[-1]
    assert words.lower() in last.lower(), err
    if not err.startswith("usage"):
        assert sum(": error:" in ln for ln in err.splitlines()) == 1, err


def _brute_median(cost: np.ndarray, w: np.ndarray, p: int) -> float:
    best = np.inf
    for combo in itertools.combinations(range(cost.shape[1]), p):
        d = cost[:, list(combo)].min(axis=1)
        if np.isfinite(d).all():
            best = min(best, float((w * d).sum() / w.sum()))
    return best


SOLVE = ["solve", "--sites", "{S}", "--demand", "{D}", "--latency", "{L}", "--open", "1"]


# ------------------------------------------------------------------------ class 2: writing
# (id, argv, exit code, words in the error line)
WRITE: list[tuple[str, list[str], int, str]] = [
    ("out-empty", [*SOLVE, "--out", ""], 2, "empty path"),
    ("out-trailing-slash", [*SOLVE, "--out", "{T}/newdir/"], 2, "names a folder"),
    ("out-existing-dir", [*SOLVE, "--out", "{T}/adir"], 2, "a folder"),
    ("out-existing-dir-slash", [*SOLVE, "--out", "{T}/adir/"], 2, "names a folder"),
    ("out-under-file", [*SOLVE, "--out", "{S}/r.json"], 2, "not a folder"),
    ("out-under-file-deep", [*SOLVE, "--out", "{S}/x/y/r.json"], 2, "not a folder"),
    ("out-is-sites", [*SOLVE, "--out", "{S}"], 2, "also an input"),
    ("out-is-demand", [*SOLVE, "--out", "{D}"], 2, "also an input"),
    ("out-is-latency", [*SOLVE, "--out", "{L}"], 2, "also an input"),
    ("out-is-sites-via-link", [*SOLVE, "--out", "{T}/sites_link.csv"], 2, "also an input"),
    ("out-is-sites-dotdot", [*SOLVE, "--out", "{T}/adir/../sites.csv"], 2, "also an input"),
    ("out-is-config", ["solve", "--config", "{C}", "--out", "{C}"], 2, "also an input"),
    ("out-is-config-input", ["solve", "--config", "{C}", "--out", "{S}"], 2, "also an input"),
    ("out-dev-null-link", [*SOLVE, "--out", "{T}/null_link"], 2, "character device"),
    ("out-dev-full-link", [*SOLVE, "--out", "{T}/full_link"], 2, "character device"),
    ("out-fifo", [*SOLVE, "--out", "{T}/fifo"], 2, "FIFO"),
    ("out-proc-self", [*SOLVE, "--out", "/proc/self/placement.json"], 2, "cannot write"),
    ("out-nul-byte", [*SOLVE, "--out", "{T}/a\x00b.json"], 2, "NUL"),
    ("out-fifo-dot", [*SOLVE, "--out", "{T}/fifo/."], 2, "names a folder"),  # found by fuzzing
    ("out-file-dotdot", [*SOLVE, "--out", "{S}/.."], 2, "names a folder"),
    ("out-dir-dot", [*SOLVE, "--out", "{T}/adir/."], 2, "names a folder"),
    (
        "out-bad-before-infeasible-solve",  # the path is refused before the solve (2, not 3)
        [*SOLVE, "--max-latency-ms", "1", "--out", "{T}/adir"],
        2,
        "a folder",
    ),
    ("report-out-is-input", ["report", "{R}", "--out", "{R}"], 2, "also an input"),
    ("report-out-dir", ["report", "{R}", "--out", "{T}/adir"], 2, "a folder"),
    ("report-out-slash", ["report", "{R}", "--out", "{T}/x/"], 2, "names a folder"),
    ("report-out-null-link", ["report", "{R}", "--out", "{T}/null_link"], 2, "device"),
    ("report-out-fifo", ["report", "{R}", "--out", "{T}/fifo"], 2, "FIFO"),
    ("report-out-empty", ["report", "{R}", "--out", ""], 2, "empty path"),
    ("demo-out-dir", ["demo", "--out", "{T}/adir"], 2, "a folder"),
    ("demo-json-is-out", ["demo", "--out", "{T}/d.html", "--json", "{T}/d.html"], 2, "input"),
    ("demo-out-under-file", ["demo", "--out", "{S}/d.html"], 2, "not a folder"),
    (
        "sweep-out-dir-is-file",
        ["sweep", "{C}", "--grid", "n_sites=1:2", "--out-dir", "{S}", "--workers", "1"],
        2,
        "not a folder",
    ),
    (
        "sweep-out-dir-under-file",
        ["sweep", "{C}", "--grid", "n_sites=1:2", "--out-dir", "{S}/x", "--workers", "1"],
        2,
        "not a folder",
    ),
]


@pytest.mark.parametrize(("case", "argv", "code", "words"), WRITE, ids=[c[0] for c in WRITE])
def test_write_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    argv: list[str],
    code: int,
    words: str,
) -> None:
    paths = _files(tmp_path)
    before = _snapshot(tmp_path)
    t0 = time.monotonic()
    got, _, err = _cli([a.format(**paths) for a in argv], capsys)
    _check_clean_error(got, code, err, words)
    assert _snapshot(tmp_path) == before  # nothing written, created or replaced
    assert time.monotonic() - t0 < 10  # refused before the work, not after it


# (id, argv, path that must now hold the result)
WRITE_OK: list[tuple[str, list[str], str]] = [
    ("out-new-subfolders", [*SOLVE, "--out", "{T}/new/sub/r.json"], "new/sub/r.json"),
    ("out-replace-regular", [*SOLVE, "--out", "{T}/r.json"], "r.json"),
    ("out-relative-name", [*SOLVE, "--out", "{T}/adir/./r2.json"], "adir/r2.json"),
]


@pytest.mark.parametrize(("case", "argv", "where"), WRITE_OK, ids=[c[0] for c in WRITE_OK])
def test_write_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, argv: list[str], where: str
) -> None:
    paths = _files(tmp_path)
    got, _, err = _cli([a.format(**paths) for a in argv], capsys)
    assert got == 0, err
    r = Result.from_json(tmp_path / where)
    assert r.status == "optimal" and r.open_site_ids == ["a"]  # enumeration: see EDGE_SOLVES
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("device", ["/dev/null", "/dev/full", "/dev/zero"])
def test_device_output_refused_by_the_check(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} is absent")
    st = os.stat(device)
    with pytest.raises(ValidationError, match="character device"):
        check_output_path(device)
    after = os.stat(device)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (st.st_mode, st.st_ino, st.st_rdev)


@pytest.mark.skipif(ROOT, reason="permission bits do not stop root")
def test_unwritable_folder_refused_before_solve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _files(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    argv = [a.format(**paths) for a in SOLVE] + ["--out", str(locked / "r.json")]
    got, _, err = _cli(argv, capsys)
    _check_clean_error(got, 2, err, "not writable")


# ------------------------------------------------------------------------ class 3: reading
READ: list[tuple[str, list[str], int, str]] = [
    ("sites-fifo", [*SOLVE[:2], "{T}/fifo", *SOLVE[3:]], 2, "FIFO"),
    ("demand-fifo", [*SOLVE[:4], "{T}/fifo", *SOLVE[5:]], 2, "FIFO"),
    ("latency-fifo", [*SOLVE[:6], "{T}/fifo", *SOLVE[7:]], 2, "FIFO"),
    ("config-fifo", ["solve", "--config", "{T}/fifo"], 2, "FIFO"),
    ("report-fifo", ["report", "{T}/fifo", "--out", "{T}/o.html"], 2, "FIFO"),
    ("sweep-base-fifo", ["sweep", "{T}/fifo", "--grid", "n_sites=1:2"], 2, "FIFO"),
    ("compare-fifo", ["compare", "{C}", "{T}/fifo"], 2, "FIFO"),
    ("latency-cmd-fifo", ["latency", "--sites", "{T}/fifo", "--demand", "{D}"], 2, "FIFO"),
    ("sites-dev-zero", [*SOLVE[:2], "/dev/zero", *SOLVE[3:]], 2, "character device"),
    ("demand-dev-zero", [*SOLVE[:4], "/dev/zero", *SOLVE[5:]], 2, "character device"),
    ("config-dev-zero", ["solve", "--config", "/dev/zero"], 2, "character device"),
    ("report-dev-zero", ["report", "/dev/zero", "--out", "{T}/o.html"], 2, "device"),
    ("sites-dev-null", [*SOLVE[:2], "/dev/null", *SOLVE[3:]], 2, "character device"),
    ("sites-link-to-zero", [*SOLVE[:2], "{T}/zero_link", *SOLVE[3:]], 2, "character device"),
    ("sites-dir", [*SOLVE[:2], "{T}/adir", *SOLVE[3:]], 2, "a folder"),
    ("config-dir", ["solve", "--config", "{T}/adir"], 2, "a folder"),
    ("report-dir", ["report", "{T}/adir", "--out", "{T}/o.html"], 2, "a folder"),
    ("sites-missing", [*SOLVE[:2], "{T}/nope.csv", *SOLVE[3:]], 2, "no such file"),
    ("sites-under-file", [*SOLVE[:2], "{S}/x.csv", *SOLVE[3:]], 2, "no such file"),
    ("sites-proc-mem", [*SOLVE[:2], "/proc/self/mem", *SOLVE[3:]], 2, "cannot read"),
    ("sites-not-utf8", [*SOLVE[:2], "{T}/latin1.csv", *SOLVE[3:]], 2, "not UTF-8"),
    ("sites-utf16", [*SOLVE[:2], "{T}/utf16.csv", *SOLVE[3:]], 2, "not UTF-8"),
    ("config-not-utf8", ["solve", "--config", "{T}/latin1.toml"], 2, "not UTF-8"),
    ("report-not-utf8", ["report", "{T}/latin1.json", "--out", "{T}/o.html"], 2, "not UTF-8"),
    ("sites-empty", [*SOLVE[:2], "{T}/empty.csv", *SOLVE[3:]], 2, "empty"),
    ("sites-header-only", [*SOLVE[:2], "{T}/header.csv", *SOLVE[3:]], 2, "empty"),
    ("sites-binary", [*SOLVE[:2], "{T}/binary.csv", *SOLVE[3:]], 2, "sites"),
    ("report-binary", ["report", "{T}/binary.csv", "--out", "{T}/o.html"], 2, "not"),
    ("config-empty-path", ["solve", "--config", ""], 2, "empty path"),
    ("sites-ragged", [*SOLVE[:2], "{T}/ragged.csv", *SOLVE[3:]], 2, "sites"),
]


def _read_files(tmp: Path) -> None:
    (tmp / "latin1.csv").write_bytes("site_id,lat,lon\nZürich,1,2\n".encode("latin-1"))
    (tmp / "utf16.csv").write_bytes("site_id,lat,lon\na,1,2\n".encode("utf-16"))
    (tmp / "latin1.toml").write_bytes('name = "Zürich"\n'.encode("latin-1"))
    (tmp / "latin1.json").write_bytes('{"status": "optimal", "name": "Zürich"}'.encode("latin-1"))
    (tmp / "empty.csv").write_text("")
    (tmp / "header.csv").write_text("site_id,lat,lon\n")
    (tmp / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp / "ragged.csv").write_text('site_id,lat,lon\na,1,2,3,4\n"b,1\n')


@pytest.mark.parametrize(("case", "argv", "code", "words"), READ, ids=[c[0] for c in READ])
def test_read_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    argv: list[str],
    code: int,
    words: str,
) -> None:
    paths = _files(tmp_path)
    _read_files(tmp_path)
    full = [a.format(**paths) for a in argv]
    if full[0] == "solve":
        full += ["--out", str(tmp_path / "out.json")]
    before = _snapshot(tmp_path)
    t0 = time.monotonic()
    got, _, err = _cli(full, capsys)
    _check_clean_error(got, code, err, words)
    assert _snapshot(tmp_path) == before
    assert time.monotonic() - t0 < 10


def test_input_over_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)
    big = tmp_path / "big.csv"
    big.write_text("site_id,lat,lon\n" + "a,1,2\n" * 400_000)  # 2.4 MB
    monkeypatch.setenv("PLACEMENT_MAX_INPUT_MB", "1")
    argv = [a.format(**paths) for a in SOLVE]
    argv[2] = str(big)
    got, _, err = _cli(argv, capsys)
    _check_clean_error(got, 2, err, "PLACEMENT_MAX_INPUT_MB")
    assert "more than the input limit of 1,048,576 bytes" in err


def test_config_over_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = tmp_path / "big.toml"
    toml.write_text("# " + "x" * 2_000_000 + "\n")
    monkeypatch.setenv("PLACEMENT_MAX_CONFIG_MB", "1")
    got, _, err = _cli(["solve", "--config", str(toml)], capsys)
    _check_clean_error(got, 2, err, "PLACEMENT_MAX_CONFIG_MB")


def test_budget_variable_not_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)
    monkeypatch.setenv("PLACEMENT_MAX_INPUT_MB", "lots")
    got, _, err = _cli([a.format(**paths) for a in SOLVE], capsys)
    _check_clean_error(got, 2, err, "PLACEMENT_MAX_INPUT_MB")


@pytest.mark.skipif(ROOT, reason="root reads a file whatever its mode")
def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _files(tmp_path)
    os.chmod(paths["S"], 0)
    got, _, err = _cli([a.format(**paths) for a in SOLVE], capsys)
    _check_clean_error(got, 2, err, "permission denied")


def test_utf8_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SITES.to_csv(index=False).encode())
    df = read_csv(path, table="sites")
    assert list(df.columns[:3]) == ["site_id", "lat", "lon"] and list(df["site_id"]) == [
        "a",
        "b",
        "c",
    ]


# -------------------------------------------------------------------- class 4: numbers at edge
def _cost(big: float) -> np.ndarray:
    c = np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 1], [2, 3, 4]])
    c[1, 1] = big
    return c


# (id, call, field)
NUMBERS: list[tuple[str, Callable[[], object], str]] = [
    (
        "latency-1e20",
        lambda: Problem.from_cost_matrix(_cost(1e20), n_sites=1).solve(),
        "latency_ms",
    ),
    (
        "latency-1e15",
        lambda: Problem.from_cost_matrix(_cost(1e15), n_sites=1).solve(),
        "latency_ms",
    ),
    (
        "latency-1e6-plus",
        lambda: Problem.from_cost_matrix(_cost(1e6 + 1), n_sites=2).solve(),
        "latency_ms",
    ),
    (
        "latency-max-float",
        lambda: Problem.from_cost_matrix(_cost(1.7e308), n_sites=1).solve(),
        "latency_ms",
    ),
    (
        "latency-negative-tiny",
        lambda: Problem.from_cost_matrix(_cost(-1e-300), n_sites=1).solve(),
        "latency_ms",
    ),
    (
        "weight-1e16",
        lambda: Problem(SITES, DEMAND.assign(weight=[1, 1e16, 1, 1]), latency=LATENCY, n_sites=1),
        "weight",
    ),
    (
        "capacity-1e16",
        lambda: Problem(SITES.assign(capacity=1e16), DEMAND, latency=LATENCY, n_sites=1),
        "capacity",
    ),
    (
        "fixed-cost-1e16",
        lambda: Problem(
            SITES.assign(fixed_cost_usd_per_year=[1, 1e16, 1]), DEMAND, latency=LATENCY, n_sites=1
        ),
        "fixed_cost_usd_per_year",
    ),
    (
        "pair-cost-1e16",
        lambda: Problem.from_cost_matrix(
            _cost(5.0), assignment_cost=np.full((4, 3), 1e16), n_sites=1
        ).latency_table(),
        "cost_usd_per_year",
    ),
    (
        "distance-1e7",
        lambda: Problem(
            SITES, DEMAND, latency=LATENCY.assign(distance_km=1e7), n_sites=1
        ).latency_table(),
        "distance_km",
    ),
    (
        "max-latency-1e7",
        lambda: Problem(SITES, DEMAND, n_sites=1, max_latency_ms=1e7),
        "max_latency_ms",
    ),
    ("sla-ms-1e7", lambda: Problem(SITES, DEMAND, n_sites=1, sla_ms=1e7), "sla_ms"),
    (
        "backup-max-latency-1e7",
        lambda: Problem(SITES, DEMAND, n_sites=1, backup_max_latency_ms=1e7),
        "backup_max_latency_ms",
    ),
    (
        "budget-1e16",
        lambda: Problem(SITES, DEMAND, n_sites=1, budget_usd_per_year=1e16),
        "budget_usd_per_year",
    ),
    (
        "latency-weight-1e16",
        lambda: Problem(SITES, DEMAND, objective="weighted", latency_weight_usd_per_ms=1e16),
        "latency_weight_usd_per_ms",
    ),
    (
        "latency-penalty-inf",
        lambda: Problem(SITES, DEMAND, n_sites=1, latency_penalty_usd_per_unit_ms=float("inf")),
        "latency_penalty_usd_per_unit_ms",
    ),
    ("capacity-param-1e16", lambda: Problem(SITES, DEMAND, n_sites=1, capacity=1e16), "capacity"),
    (
        "gap-rel-nan",
        lambda: Problem(SITES, DEMAND, latency=LATENCY, n_sites=1).solve(gap_rel=float("nan")),
        "gap_rel",
    ),
    (
        "time-limit-1e300",
        lambda: Problem(SITES, DEMAND, latency=LATENCY, n_sites=1).solve(time_limit_s=1e300),
        "time_limit_s",
    ),
]


@pytest.mark.parametrize(("case", "call", "field"), NUMBERS, ids=[c[0] for c in NUMBERS])
def test_numbers_refused(case: str, call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field, str(info.value)
    assert "\n" not in str(info.value)


# (id, cost matrix, weights, n_sites): solved to optimal, checked by enumeration, in bounded time
EDGE_SOLVES: list[tuple[str, np.ndarray, np.ndarray, int]] = [
    ("latency-1e6-p1", _cost(1e6), np.ones(4), 1),
    ("latency-1e6-p2", _cost(1e6), np.ones(4), 2),
    ("latency-denormal", _cost(5e-324), np.ones(4), 2),
    ("latency-zero", _cost(0.0), np.ones(4), 1),
    ("weights-1e15-and-1e-9", _cost(9.0), np.array([1e15, 1e-9, 1.0, 1e15]), 2),
    ("weights-1e15-latency-1e6", _cost(1e6), np.array([1e15, 1e15, 1e-6, 1.0]), 2),
    ("weights-zero-but-one", _cost(3.0), np.array([0.0, 0.0, 0.0, 1e-12]), 1),
    (
        "spread-1e-3-to-1e6",
        np.array([[1e-3, 1e6, 5e5], [1e6, 1e-3, 2.5], [3.3, 1e6, 1e-3], [1e6, 1e6, 1e6]]),
        np.ones(4),
        2,
    ),
    *[
        (
            f"random-edge-{seed}",
            np.where(
                np.random.default_rng(seed).random((5, 4)) < 0.3,
                1e6,
                np.random.default_rng(seed + 100).uniform(1e-3, 1e3, (5, 4)).round(3),
            ),
            np.random.default_rng(seed + 200).choice([1e-6, 1.0, 1e15], 5),
            1 + seed % 3,
        )
        for seed in range(8)
    ],
]


@pytest.mark.parametrize(("case", "cost", "w", "p"), EDGE_SOLVES, ids=[c[0] for c in EDGE_SOLVES])
def test_edge_numbers_solve_optimal(case: str, cost: np.ndarray, w: np.ndarray, p: int) -> None:
    t0 = time.monotonic()
    r = Problem.from_cost_matrix(cost, weights=w, n_sites=p).solve(time_limit_s=20)
    assert time.monotonic() - t0 < 25
    assert r.status == "optimal", r.message
    want = _brute_median(cost, w, p)
    assert r.objective == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_cli_latency_1e20_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _files(tmp_path)
    lat = LATENCY.copy()
    lat.loc[4, "latency_ms"] = 1e20
    lat.to_csv(paths["L"], index=False)
    got, _, err = _cli([a.format(**paths) for a in SOLVE] + ["--out", f"{tmp_path}/o.json"], capsys)
    _check_clean_error(got, 2, err, "latency_ms")
    assert not (tmp_path / "o.json").exists()


def _result_dict() -> dict[str, Any]:
    return json.loads(example_result().to_json())


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], str]:
    """A mutation of the valid result: one field (``a.b[0].c``) set to ``value``."""

    def mutate(d: dict[str, Any]) -> str:
        obj: Any = d
        parts = path.replace("]", "").replace("[", ".").split(".")
        for key in parts[:-1]:
            obj = obj[int(key)] if isinstance(obj, list) else obj[key]
        last = parts[-1]
        if isinstance(obj, list):
            obj[int(last)] = value
        else:
            obj[last] = value
        return json.dumps(d, allow_nan=True)

    return mutate


def _text(text: str) -> Callable[[dict[str, Any]], str]:
    return lambda d: text


# (id, mutation, words in the error) — results given to ``placement report``
RESULT_NUMBERS: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
    ("objective-nan", _set("objective", float("nan")), "NaN"),
    ("objective-inf", _set("objective", float("inf")), "Infinity"),
    (
        "objective-1e999",
        lambda d: json.dumps({**d, "objective": 12345.678}).replace("12345.678", "1e999"),
        "objective",
    ),
    ("objective-1e308", _set("objective", 1.7e308), "objective"),
    ("metric-minus-1e31", _set("metrics.mean_latency_ms", -1e31), "mean_latency_ms"),
    ("latency-nan", _set("assignments[0].latency_ms", float("nan")), "NaN"),
    ("gap-negative", _set("gap", -0.5), "gap"),
    ("share-2", _set("assignments[0].share", 2.0), "share"),
    ("weight-negative", _set("demand[0].weight", -1.0), "weight"),
    ("lat-95", _set("sites[0].lat_deg", 95.0), "lat_deg"),
    ("timing-negative", _set("timings.total_s", -3.0), "total_s"),
    ("rank-0", _set("assignments[0].rank", 0), "rank"),
]


# ------------------------------------------------------------------ class 5: parsing meaning
def _csv(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


# (id, header + rows of a sites CSV, field named in the refusal)
BAD_HEADERS: list[tuple[str, str, str, str]] = [
    ("sites-dup-lat", "sites", "site_id,lat,lon,lat\na,1,2,3\n", "lat"),
    ("sites-dup-id", "sites", "site_id,site_id,lat,lon\na,b,1,2\n", "site_id"),
    ("sites-dup-case", "sites", "site_id,lat,lon,LAT\na,1,2,3\n", "LAT"),
    ("sites-dup-space", "sites", "site_id,lat, lat,lon\na,1,2,3\n", "lat"),
    ("sites-lat-and-latitude", "sites", "site_id,lat,latitude,lon\na,1,1,2\n", "lat_deg"),
    ("sites-lat-and-lat_deg", "sites", "site_id,lat,lat_deg,lon\na,1,1,2\n", "lat_deg"),
    ("demand-dup-weight", "demand", "demand_id,lat,lon,weight,weight\nd,1,2,3,4\n", "weight"),
    (
        "latency-dup-latency",
        "latency",
        "demand_id,site_id,latency_ms,latency_ms\nd1,a,1,2\n",
        "latency_ms",
    ),
    ("sites-two-unnamed", "sites", ",site_id,lat,lon,\n0,a,1,2,3\n", ""),
]


@pytest.mark.parametrize(
    ("case", "table", "text", "field"), BAD_HEADERS, ids=[c[0] for c in BAD_HEADERS]
)
def test_ambiguous_header_refused(
    tmp_path: Path, case: str, table: str, text: str, field: str
) -> None:
    path = _csv(tmp_path, "t.csv", text)
    loader = {"sites": config.load_sites, "demand": config.load_demand}.get(table)
    with pytest.raises(ValidationError) as info:
        if loader is not None:
            df = loader(path)
            (Problem(df, DEMAND, n_sites=1) if table == "sites" else Problem(SITES, df, n_sites=1))
        else:
            from placement.validate import validate_latency_table

            validate_latency_table(config.load_latency(path))
    assert info.value.field == field, str(info.value)


NA_IDS = ["NA", "null", "NaN", "nan", "None", "N/A", "#N/A", "-nan", "NULL", "n/a", "<NA>", "007"]


@pytest.mark.parametrize("site_id", NA_IDS)
def test_na_like_ids_are_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], site_id: str
) -> None:
    """A site called NA (Namibia) is a site: kept as text in every table, and solved."""
    sites = SITES.assign(site_id=[site_id, "b", "c"], country_code=["NA", "NA", "ZA"])
    other = "NA" if site_id != "NA" else "null"
    demand = DEMAND.assign(demand_id=[site_id, other, "d3", "1e3"])
    lat = LATENCY.replace(
        {"site_id": {"a": site_id}, "demand_id": {"d1": site_id, "d2": other, "d4": "1e3"}}
    )
    sites.to_csv(tmp_path / "s.csv", index=False)
    demand.to_csv(tmp_path / "d.csv", index=False)
    lat.to_csv(tmp_path / "l.csv", index=False)
    out = tmp_path / "o.json"
    argv = ["solve", "--sites", f"{tmp_path}/s.csv", "--demand", f"{tmp_path}/d.csv"]
    argv += ["--latency", f"{tmp_path}/l.csv", "--open", "1", f"--must-open={site_id}"]
    got, _, err = _cli([*argv, "--out", str(out)], capsys)
    assert got == 0, err
    r = Result.from_json(out)
    assert r.open_site_ids == [site_id]
    assert set(r.assignments["demand_id"]) == {site_id, other, "d3", "1e3"}
    assert list(config.load_sites(f"{tmp_path}/s.csv")["country_code"]) == ["NA", "NA", "ZA"]


def test_ids_keep_their_spelling(tmp_path: Path) -> None:
    path = _csv(tmp_path, "s.csv", "site_id,lat,lon\n007,1,2\n7,1,2\n7.0,1,2\n1e3,3,4\n")
    df = config.load_sites(path)
    assert list(df["site_id"]) == ["007", "7", "7.0", "1e3"]
    assert pd.api.types.is_numeric_dtype(df["lat"])


def test_empty_id_cell_is_missing(tmp_path: Path) -> None:
    path = _csv(tmp_path, "s.csv", "site_id,lat,lon\n,1,2\nb,1,2\n")
    with pytest.raises(ValidationError) as info:
        Problem(config.load_sites(path), DEMAND, n_sites=1)
    assert info.value.field == "site_id" and "missing" in str(info.value)


# (id, Problem keyword arguments, field)
STRING_LISTS: list[tuple[str, dict[str, Any], str]] = [
    ("must-open-str", {"must_open": "bc"}, "must_open"),
    ("must-open-one-char", {"must_open": "a"}, "must_open"),
    ("forbidden-str", {"forbidden": "bc"}, "forbidden"),
    ("must-open-bytes", {"must_open": b"a"}, "must_open"),
    ("must-open-dict", {"must_open": {"a": 1}}, "must_open"),
    ("must-open-none-item", {"must_open": [None]}, "must_open[0]"),
    ("must-open-float-item", {"must_open": [1.5]}, "must_open[0]"),
    ("forbidden-nested", {"forbidden": [["a"]]}, "forbidden[0]"),
    ("residency-str-values", {"residency": {"DE": "ab"}}, "residency['DE']"),
    ("residency-list", {"residency": ["DE"]}, "residency"),
]


@pytest.mark.parametrize(("case", "kw", "field"), STRING_LISTS, ids=[c[0] for c in STRING_LISTS])
def test_string_is_not_a_list(case: str, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        Problem(SITES, DEMAND, latency=LATENCY, n_sites=2, **kw)
    assert info.value.field == field, str(info.value)


TOML_LISTS: list[tuple[str, str, str]] = [
    ("toml-must-open-str", '[problem]\nn_sites = 2\nmust_open = "bc"\n', "must_open"),
    ("toml-forbidden-str", '[problem]\nn_sites = 2\nforbidden = "bc"\n', "forbidden"),
    ("toml-providers-str", '[inputs]\nproviders = "aws"\n[problem]\nn_sites = 1\n', "providers"),
    ("toml-countries-str", '[inputs]\ncountries = "DE"\n[problem]\nn_sites = 1\n', "countries"),
    ("toml-kinds-str", '[inputs]\nkinds = "region"\n[problem]\nn_sites = 1\n', "kinds"),
    ("toml-must-open-int", "[problem]\nn_sites = 2\nmust_open = 3\n", "must_open"),
]


@pytest.mark.parametrize(("case", "text", "field"), TOML_LISTS, ids=[c[0] for c in TOML_LISTS])
def test_toml_string_is_not_a_list(tmp_path: Path, case: str, text: str, field: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        config.load_config(path)
    assert info.value.field == field, str(info.value)


def test_must_open_list_still_works() -> None:
    r = Problem(SITES, DEMAND, latency=LATENCY, n_sites=2, must_open=("b", "c")).solve()
    assert r.status == "optimal" and r.open_site_ids == ["b", "c"]


# -------------------------------------------------------------------------- class 6: types
GOOD = '[inputs]\nsites = "sites.csv"\ndemand = "demand.csv"\nlatency = "lat.csv"\n'
TOML_TYPES: list[tuple[str, str, str]] = [
    ("time-limit-str", '[problem]\nn_sites = 1\n[solver]\ntime_limit_s = "10"\n', "time_limit_s"),
    ("time-limit-bool", "[problem]\nn_sites = 1\n[solver]\ntime_limit_s = true\n", "time_limit_s"),
    ("time-limit-zero", "[problem]\nn_sites = 1\n[solver]\ntime_limit_s = 0\n", "time_limit_s"),
    ("time-limit-nan", "[problem]\nn_sites = 1\n[solver]\ntime_limit_s = nan\n", "time_limit_s"),
    ("threads-100000", "[problem]\nn_sites = 1\n[solver]\nthreads = 100000\n", "threads"),
    ("threads-zero", "[problem]\nn_sites = 1\n[solver]\nthreads = 0\n", "threads"),
    ("threads-float", "[problem]\nn_sites = 1\n[solver]\nthreads = 2.0\n", "threads"),
    ("verbose-yes", '[problem]\nn_sites = 1\n[solver]\nverbose = "yes"\n', "verbose"),
    ("verbose-int", "[problem]\nn_sites = 1\n[solver]\nverbose = 1\n", "verbose"),
    ("gap-bool", "[problem]\nn_sites = 1\n[solver]\ngap_rel = true\n", "gap_rel"),
    ("gap-one", "[problem]\nn_sites = 1\n[solver]\ngap_rel = 1\n", "gap_rel"),
    ("solver-int", "[problem]\nn_sites = 1\n[solver]\nsolver = 3\n", "solver"),
    ("method-magic", '[problem]\nn_sites = 1\n[solver]\nmethod = "magic"\n', "method"),
    ("n-sites-float", "[problem]\nn_sites = 2.0\n", "n_sites"),
    ("n-sites-bool", "[problem]\nn_sites = true\n", "n_sites"),
    ("n-sites-date", "[problem]\nn_sites = 1979-05-27\n", "n_sites"),
    ("max-latency-str", '[problem]\nn_sites = 1\nmax_latency_ms = "60"\n', "max_latency_ms"),
    ("max-latency-bool", "[problem]\nn_sites = 1\nmax_latency_ms = true\n", "max_latency_ms"),
    ("max-latency-inf", "[problem]\nn_sites = 1\nmax_latency_ms = inf\n", "max_latency_ms"),
    ("single-sourcing-str", '[problem]\nn_sites = 1\nsingle_sourcing = "no"\n', "single_sourcing"),
    ("backup-weight-bool", "[problem]\nn_sites = 1\nbackup_weight = true\n", "backup_weight"),
    ("capacity-bool", "[problem]\nn_sites = 1\ncapacity = true\n", "capacity"),
    ("redundancy-float", "[problem]\nn_sites = 1\nredundancy = 1.5\n", "redundancy"),
    ("objective-int", "[problem]\nn_sites = 1\nobjective = 3\n", "objective"),
    ("set-cover-by", '[problem]\nn_sites = 1\nset_cover_by = "size"\n', "set_cover_by"),
    ("residency-str", '[problem]\nn_sites = 1\nresidency = { DE = "x" }\n', "residency['DE']"),
    (
        "per-provider-float",
        "[problem]\nn_sites = 1\nmax_sites_per_provider = { aws = 1.5 }\n",
        "max_sites_per_provider['aws']",
    ),
    ("problem-name-int", "[problem]\nn_sites = 1\nname = 3\n", "name"),
    ("min-population-str", '[inputs]\nmin_population = "1"\n', "min_population"),
    ("merge-km-bool", "[inputs]\nmerge_within_km = true\n", "merge_within_km"),
    ("sites-empty-str", '[inputs]\nsites = ""\n', "sites"),
    ("latency-bool", "[inputs]\nlatency = true\n", "latency"),
]


@pytest.mark.parametrize(("case", "text", "field"), TOML_TYPES, ids=[c[0] for c in TOML_TYPES])
def test_toml_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, field: str
) -> None:
    paths = _files(tmp_path)
    path = tmp_path / "bad.toml"
    body = text if text.startswith("[inputs]") else GOOD + text
    path.write_text(body)
    with pytest.raises(ValidationError) as info:
        config.load_config(path)
    assert info.value.field == field, str(info.value)
    # and the command line: exit 2 naming the field, nothing written
    before = _snapshot(tmp_path)
    got, _, err = _cli(["solve", "--config", str(path), "--out", f"{paths['T']}/o.json"], capsys)
    _check_clean_error(got, 2, err, field)
    assert _snapshot(tmp_path) == before


def test_toml_deep_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    got, _, err = _cli(["solve", "--config", str(path)], capsys)
    _check_clean_error(got, 2, err, "TOML")


def _p(**kw: Any) -> Problem:
    kw.setdefault("latency", LATENCY)
    kw.setdefault("n_sites", 1)
    return Problem(SITES, DEMAND, **kw)


LIB_TYPES: list[tuple[str, Callable[[], object], str]] = [
    ("solve-time-limit-true", lambda: _p().solve(time_limit_s=True), "time_limit_s"),
    ("solve-time-limit-str", lambda: _p().solve(time_limit_s="10"), "time_limit_s"),
    ("solve-verbose-yes", lambda: _p().solve(verbose="yes"), "verbose"),
    ("solve-threads-huge", lambda: _p().solve(threads=100_000), "threads"),
    ("solve-threads-true", lambda: _p().solve(threads=True), "threads"),
    ("solve-gap-true", lambda: _p().solve(gap_rel=True), "gap_rel"),
    ("solve-solver-none", lambda: _p().solve(solver=None), "solver"),
    ("latency-list", lambda: _p(latency=[1, 2, 3]), "latency"),
    ("latency-path-str", lambda: _p(latency="lat.csv"), "latency"),
    ("latency-dict", lambda: _p(latency={"a": 1}), "latency"),
    ("n-sites-true", lambda: _p(n_sites=True), "n_sites"),
    ("n-sites-str", lambda: _p(n_sites="1"), "n_sites"),
    ("max-sites-float", lambda: _p(n_sites=None, max_sites=2.0), "max_sites"),
    ("max-latency-true", lambda: _p(max_latency_ms=True), "max_latency_ms"),
    ("max-latency-str", lambda: _p(max_latency_ms="60"), "max_latency_ms"),
    ("sla-share-true", lambda: _p(sla_ms=20, sla_share=True), "sla_share"),
    ("backup-weight-str", lambda: _p(backup_weight="0.5"), "backup_weight"),
    ("single-sourcing-str", lambda: _p(single_sourcing="no"), "single_sourcing"),
    ("single-sourcing-int", lambda: _p(single_sourcing=1), "single_sourcing"),
    ("capacity-true", lambda: _p(capacity=True), "capacity"),
    ("capacity-list", lambda: _p(capacity=[1, 2, 3]), "capacity"),
    ("redundancy-true", lambda: _p(redundancy=True), "redundancy"),
    (
        "per-provider-float",
        lambda: _p(max_sites_per_provider={"aws": 1.5}),
        "max_sites_per_provider['aws']",
    ),
    ("per-provider-true", lambda: _p(max_sites_per_provider=True), "max_sites_per_provider"),
    ("name-int", lambda: _p(name=3), "name"),
    ("objective-none", lambda: _p(objective=None), "objective"),
    ("failure-domain-int", lambda: _p(failure_domain=3), "failure_domain"),
    ("set-cover-by-none", lambda: _p(set_cover_by=None), "set_cover_by"),
    ("residency-column-int", lambda: _p(residency_column=1), "residency_column"),
    (
        "sweep-warm-start-str",
        lambda: sweep(_p(), {"n_sites": [1]}, executor="serial", warm_start="yes", progress=False),
        "warm_start",
    ),
]


@pytest.mark.parametrize(("case", "call", "field"), LIB_TYPES, ids=[c[0] for c in LIB_TYPES])
def test_library_types(case: str, call: Callable[[], object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field, str(info.value)
    assert f"field {field!r}" in str(info.value)


def test_numpy_scalars_are_accepted() -> None:
    r = _p(n_sites=np.int64(2), max_latency_ms=np.float64(100.0)).solve(time_limit_s=np.float32(30))
    assert r.status == "optimal" and len(r.open_site_ids) == 2


CLI_TYPES: list[tuple[str, list[str], str]] = [
    ("time-limit-nan", ["--time-limit", "nan"], "--time-limit"),
    ("time-limit-inf", ["--time-limit", "inf"], "--time-limit"),
    ("time-limit-negative", ["--time-limit", "-1"], "--time-limit"),
    ("threads-100000", ["--threads", "100000"], "threads"),
    ("gap-negative", ["--gap", "-1"], "gap_rel"),
    ("max-latency-nan", ["--max-latency-ms", "nan"], "max_latency_ms"),
    ("max-latency-1e7", ["--max-latency-ms", "1e7"], "max_latency_ms"),
    ("backup-weight-inf", ["--backup-weight", "inf"], "backup_weight"),
    ("capacity-negative", ["--capacity", "-5"], "capacity"),
    ("threads-text", ["--threads", "many"], "--threads"),
]


@pytest.mark.parametrize(("case", "extra", "words"), CLI_TYPES, ids=[c[0] for c in CLI_TYPES])
def test_cli_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, extra: list[str], words: str
) -> None:
    paths = _files(tmp_path)
    before = _snapshot(tmp_path)
    argv = [a.format(**paths) for a in SOLVE] + extra + ["--out", f"{tmp_path}/o.json"]
    got, _, err = _cli(argv, capsys)
    _check_clean_error(got, 2, err, words)
    assert _snapshot(tmp_path) == before


RESULT_TYPES: list[tuple[str, Callable[[dict[str, Any]], str], str]] = [
    ("objective-str", _set("objective", "12"), "objective"),
    ("objective-bool", _set("objective", True), "objective"),
    ("metrics-list", _set("metrics", [1, 2]), "metrics"),
    ("metric-str", _set("metrics.mean_latency_ms", "fast"), "mean_latency_ms"),
    ("site-lat-str", _set("sites[0].lat_deg", "north"), "lat_deg"),
    ("site-id-int", _set("sites[0].site_id", 7), "site_id"),
    ("deep-brackets", _text("[" * 100_000 + "]" * 100_000), "nested"),
    ("deep-object", _text('{"a":' * 100_000 + "1" + "}" * 100_000), "nested"),
    ("deep-params", _set("params.x", [[[[[[1]]]]]]), "nested"),
    ("rank-str", _set("assignments[0].rank", "1"), "rank"),
    ("rank-bool", _set("assignments[0].rank", True), "rank"),
    ("rank-float", _set("assignments[0].rank", 1.5), "rank"),
    ("share-null", _set("assignments[0].share", None), "share"),
    (
        "assignment-missing-site",
        lambda d: (d["assignments"][0].pop("site_id"), json.dumps(d))[1],
        "site_id",
    ),
    ("assignments-object", _set("assignments", {"a": 1}), "assignments"),
    ("assignment-list-value", _set("assignments[0].latency_ms", [1]), "latency_ms"),
    ("open-sites-str", _set("open_sites", "abc"), "open_sites"),
    ("open-sites-int", _set("open_sites", [1]), "open_sites"),
    ("status-int", _set("status", 3), "status"),
    ("status-unknown", _set("status", "solved"), "status"),
    ("schema-2", _set("schema_version", 2), "schema_version"),
    ("schema-true", _set("schema_version", True), "schema_version"),
    ("timings-str", _set("timings.total_s", "x"), "total_s"),
    ("params-objective-int", _set("params.objective", 3), "objective"),
    ("params-n-sites-str", _set("params.n_sites", "3"), "n_sites"),
    ("details-int", _set("open_site_details", [1]), "open_site_details"),
    ("message-int", _set("message", 5), "message"),
    ("name-null", _set("name", None), "name"),
    ("solver-str", _set("solver", "highs"), "solver"),
    ("top-level-list", _text("[1, 2]"), "object"),
    ("top-level-str", _text('"optimal"'), "object"),
    ("unknown-field", _set("extra", 1), "extra"),
    ("duplicate-key", lambda d: '{"status": "optimal", "status": "infeasible"}', "given twice"),
    ("truncated", lambda d: json.dumps(d)[:-40], "not valid JSON"),
    ("empty-file", _text(""), "not valid JSON"),
]


@pytest.mark.parametrize(
    ("case", "mutate", "words"),
    RESULT_NUMBERS + RESULT_TYPES,
    ids=[c[0] for c in RESULT_NUMBERS + RESULT_TYPES],
)
def test_report_refuses_bad_result(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    mutate: Callable[[dict[str, Any]], str],
    words: str,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(mutate(_result_dict()), encoding="utf-8")
    before = _snapshot(tmp_path)
    got, _, err = _cli(["report", str(bad), "--out", str(tmp_path / "r.html")], capsys)
    _check_clean_error(got, 2, err, words)
    assert _snapshot(tmp_path) == before
    with pytest.raises(ValidationError):
        load_result_json(bad.read_text(encoding="utf-8"))


def test_report_accepts_a_real_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_result_dict()))
    got, _, err = _cli(["report", str(good), "--out", str(tmp_path / "r.html")], capsys)
    assert got == 0, err
    assert (tmp_path / "r.html").stat().st_size > 1000


# ------------------------------------------------------------------------ class 7: budgets
BUDGETS: list[tuple[str, Callable[[Path], object], str]] = [
    (
        "grid-range-1e12",
        lambda t: grid_points({"n_sites": range(10**12)}),
        "PLACEMENT_MAX_GRID_POINTS",
    ),
    (
        "grid-product",
        lambda t: grid_points({"n_sites": range(1000), "max_latency_ms": range(1000)}),
        "PLACEMENT_MAX_GRID_POINTS",
    ),
    (
        "grid-endless",
        lambda t: grid_points({"n_sites": itertools.count(1)}),
        "PLACEMENT_MAX_GRID_POINTS",
    ),
    ("grid-max-points", lambda t: grid_points({"n_sites": [1, 2, 3]}, max_points=2), "max_points"),
    (
        "sweep-max-points",
        lambda t: sweep(_p(), {"n_sites": [1, 2, 3]}, executor="serial", max_points=2),
        "max_points",
    ),
]


@pytest.mark.parametrize(("case", "call", "words"), BUDGETS, ids=[c[0] for c in BUDGETS])
def test_library_budgets(
    tmp_path: Path, case: str, call: Callable[[Path], object], words: str
) -> None:
    t0 = time.monotonic()
    with pytest.raises(ValidationError, match=words):
        call(tmp_path)
    assert time.monotonic() - t0 < 5


ENV_BUDGETS: list[tuple[str, str, str, list[str], str]] = [
    ("demand-budget", "PLACEMENT_MAX_DEMAND", "3", SOLVE, "demand points"),
    ("sites-budget", "PLACEMENT_MAX_SITES", "2", SOLVE, "candidate sites"),
    ("pairs-budget-table", "PLACEMENT_MAX_PAIRS", "5", SOLVE, "demand-site pairs"),
    (
        "pairs-budget-model",  # checked before the latency model runs
        "PLACEMENT_MAX_PAIRS",
        "5",
        ["solve", "--sites", "{S}", "--demand", "{D}", "--open", "1"],
        "demand-site pairs",
    ),
    (
        "pairs-budget-latency-cmd",
        "PLACEMENT_MAX_PAIRS",
        "5",
        ["latency", "--sites", "{S}", "--demand", "{D}"],
        "demand-site pairs",
    ),
    (
        "grid-budget-env",
        "PLACEMENT_MAX_GRID_POINTS",
        "2",
        ["sweep", "{C}", "--grid", "n_sites=1:3"],
        "3",
    ),
    ("budget-env-negative", "PLACEMENT_MAX_DEMAND", "-1", SOLVE, "positive integer"),
]


@pytest.mark.parametrize(
    ("case", "env", "value", "argv", "words"), ENV_BUDGETS, ids=[c[0] for c in ENV_BUDGETS]
)
def test_env_budgets(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    env: str,
    value: str,
    argv: list[str],
    words: str,
) -> None:
    paths = _files(tmp_path)
    monkeypatch.setenv(env, value)
    full = [a.format(**paths) for a in argv]
    if full[0] == "solve":
        full += ["--out", f"{tmp_path}/o.json"]
    before = _snapshot(tmp_path)
    got, _, err = _cli(full, capsys)
    _check_clean_error(got, 2, err, env)
    assert words in err
    assert _snapshot(tmp_path) == before


def test_raised_budget_lets_the_work_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _files(tmp_path)
    monkeypatch.setenv("PLACEMENT_MAX_DEMAND", "4")
    monkeypatch.setenv("PLACEMENT_MAX_PAIRS", "12")
    got, out, err = _cli([a.format(**paths) for a in SOLVE], capsys)
    assert got == 0, err
    r = Result.from_json(out)
    cost = LATENCY.pivot(index="demand_id", columns="site_id", values="latency_ms").to_numpy()
    assert r.status == "optimal"
    assert r.objective == pytest.approx(_brute_median(cost, DEMAND["weight"].to_numpy(), 1))


def test_cli_sweep_huge_grid_refused_fast(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = _files(tmp_path)
    t0 = time.monotonic()
    argv = ["sweep", paths["C"], "--grid", "n_sites=1:1000000000"]
    argv += ["--grid", "max_latency_ms=1:1000000000"]
    got, _, err = _cli(argv, capsys)
    _check_clean_error(got, 2, err, "PLACEMENT_MAX_GRID_POINTS")
    assert time.monotonic() - t0 < 5


def test_heartbeat_reports_progress(capsys: pytest.CaptureFixture[str]) -> None:
    with heartbeat("placement solve", every_s=0.05):
        time.sleep(0.3)
    err = capsys.readouterr().err
    assert "placement solve: still running" in err and "Ctrl-C" in err


def test_budgets_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for default, env, _ in params.BUDGETS.values():
        assert env in readme, env
        assert f"{default:,}" in readme, (env, default)


# ------------------------------------------------------- costs: types and ranges at the door
COSTS_TOML: list[tuple[str, str, str]] = [
    ("costs-price-1e20", "price_usd_per_kwh = 1e20", "price_usd_per_kwh"),
    ("costs-it-load-str", 'it_load_kw = "10"', "it_load_kw"),
    ("costs-it-load-bool", "it_load_kw = true", "it_load_kw"),
    ("costs-pue-11", "pue = 11", "pue"),
    ("costs-pue-0.5", "pue = 0.5", "pue"),
    ("costs-limit-str", 'free_cooling_limit_c = "5"', "free_cooling_limit_c"),
    ("costs-missing-int", "missing = 3", "missing"),
    ("costs-egress-map-str", 'egress_usd_per_gb = { aws = "x" }', "egress_usd_per_gb['aws']"),
    ("costs-carbon-price-nan", "carbon_price_usd_per_tonne = nan", "carbon_price_usd_per_tonne"),
]


@pytest.mark.parametrize(("case", "line", "field"), COSTS_TOML, ids=[c[0] for c in COSTS_TOML])
def test_costs_toml_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, line: str, field: str
) -> None:
    paths = _files(tmp_path)
    path = tmp_path / "c.toml"
    path.write_text(GOOD + f'[problem]\nobjective = "cost"\n[costs]\n{line}\n')
    before = _snapshot(tmp_path)
    got, _, err = _cli(["solve", "--config", str(path), "--out", f"{paths['T']}/o.json"], capsys)
    _check_clean_error(got, 2, err, field)
    assert _snapshot(tmp_path) == before


COSTS_CLI: list[tuple[str, list[str], str]] = [
    ("cli-price-1e20", ["--price-usd-per-kwh", "1e20"], "price_usd_per_kwh"),
    ("cli-price-nan", ["--price-usd-per-kwh", "nan"], "price_usd_per_kwh"),
    ("cli-it-load-inf", ["--it-load-kw", "inf"], "it_load_kw"),
]


@pytest.mark.parametrize(("case", "extra", "field"), COSTS_CLI, ids=[c[0] for c in COSTS_CLI])
def test_costs_cli_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, extra: list[str], field: str
) -> None:
    paths = _files(tmp_path)
    argv = [a.format(**paths) for a in SOLVE] + ["--objective", "cost", *extra]
    got, _, err = _cli([*argv, "--out", f"{tmp_path}/o.json"], capsys)
    _check_clean_error(got, 2, err, field)
    assert not (tmp_path / "o.json").exists()


def test_computed_site_costs_checked() -> None:
    from placement.costs import CostModel
    from placement.validate import validate_site_costs

    sites = SITES.assign(price_usd_per_kwh=1e6, tmean_annual_c=10.0)
    costs = CostModel(it_load_kw=1e9, pue=1.2).site_costs(sites)
    with pytest.raises(ValidationError) as info:
        validate_site_costs(costs)
    assert info.value.field == "energy_usd_per_year" and info.value.row == "a"
    ok = CostModel(it_load_kw=100.0, pue=1.2).site_costs(sites)
    assert validate_site_costs(ok) is ok


def test_cost_model_type_checked() -> None:
    with pytest.raises(ValidationError) as info:
        _p(cost_model="cheap")
    assert info.value.field == "cost_model"


ROUND_TRIP: list[tuple[str, dict[str, Any]]] = [
    ("median", {"n_sites": 2}),
    ("center-backup", {"objective": "center", "n_sites": 2, "redundancy": 2}),
    ("coverage", {"objective": "coverage", "n_sites": 1, "sla_ms": 20.0}),
    ("set-cover", {"objective": "set-cover", "max_latency_ms": 30.0}),
    ("infeasible", {"n_sites": 1, "max_latency_ms": 1.0}),
    ("provider-limit", {"n_sites": 2, "max_sites_per_provider": {"aws": 1}}),
]


@pytest.mark.parametrize(("case", "kw"), ROUND_TRIP, ids=[c[0] for c in ROUND_TRIP])
def test_every_result_passes_its_schema(case: str, kw: dict[str, Any]) -> None:
    """What the library writes, the strict loader reads back unchanged."""
    r = Problem(SITES, DEMAND, latency=LATENCY, **kw).solve()
    back = Result.from_dict(load_result_json(r.to_json()))
    assert back.status == r.status and back.objective == r.objective
    assert back.open_site_ids == r.open_site_ids


SWEEP_CLI: list[tuple[str, list[str], str]] = [
    ("workers-100000", ["--grid", "n_sites=1:2", "--workers", "100000"], "--workers"),
    ("workers-zero", ["--grid", "n_sites=1:2", "--workers", "0"], "--workers"),
    ("grid-no-values", ["--grid", "n_sites="], "--grid"),
    ("grid-bad-range", ["--grid", "n_sites=5:1"], "n_sites"),
    ("grid-step-zero", ["--grid", "n_sites=1:5:0"], "n_sites"),
    ("grid-twice", ["--grid", "n_sites=1:2", "--grid", "n_sites=3"], "n_sites"),
    ("grid-unknown-key", ["--grid", "n_site=1:2", "--workers", "1"], "n_site"),
    ("grid-axis-1e9", ["--grid", "n_sites=1:1000000000"], "PLACEMENT_MAX_GRID_POINTS"),
]


@pytest.mark.parametrize(("case", "extra", "words"), SWEEP_CLI, ids=[c[0] for c in SWEEP_CLI])
def test_sweep_cli_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, extra: list[str], words: str
) -> None:
    paths = _files(tmp_path)
    before = _snapshot(tmp_path)
    t0 = time.monotonic()
    got, _, err = _cli(["sweep", paths["C"], *extra, "--out-dir", f"{tmp_path}/sw"], capsys)
    _check_clean_error(got, 2, err, words)
    assert _snapshot(tmp_path) == before and time.monotonic() - t0 < 5


def test_sweep_out_dir_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _files(tmp_path)
    argv = ["sweep", paths["C"], "--grid", "n_sites=1:2", "--workers", "1", "--no-progress"]
    got, _, err = _cli([*argv, "--out-dir", f"{tmp_path}/sw/new"], capsys)
    assert got == 0, err
    names = sorted(p.name for p in (tmp_path / "sw" / "new").iterdir())
    assert names == ["point_0000.json", "point_0001.json", "sweep.csv"]
    cost = LATENCY.pivot(index="demand_id", columns="site_id", values="latency_ms").to_numpy()
    for i, p in enumerate((1, 2)):
        r = Result.from_json(tmp_path / "sw" / "new" / f"point_{i:04d}.json")
        assert r.status == "optimal"
        assert r.objective == pytest.approx(_brute_median(cost, DEMAND["weight"].to_numpy(), p))
