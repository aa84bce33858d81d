"""``placement compare`` and ``placement sweep`` round trips on small TOML files with CSV inputs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from placement.cli import main
from placement.result import Result

# Sites and demand on a line (x in units of 10 ms); latency = 1 + 10·|Δx| ms; DEMAND: (x, weight).
SITES = {"w": 0.0, "c": 2.0, "e": 4.0, "far": 9.0}
DEMAND = {"d0": (0.0, 3.0), "d1": (0.5, 1.0), "d2": (2.0, 2.0), "d3": (3.5, 1.0), "d4": (4.0, 3.0)}


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    pd.DataFrame(
        {
            "site_id": list(SITES),
            "lat": [10.0 + x for x in SITES.values()],
            "lon": [20.0] * len(SITES),
            "fixed_cost_usd_per_year": [100.0, 120.0, 90.0, 10.0],
        }
    ).to_csv(tmp_path / "sites.csv", index=False)
    pd.DataFrame(
        {
            "demand_id": list(DEMAND),
            "lat": [10.0 + x for x, _ in DEMAND.values()],
            "lon": [20.0] * len(DEMAND),
            "weight": [w for _, w in DEMAND.values()],
        }
    ).to_csv(tmp_path / "demand.csv", index=False)
    pd.DataFrame(
        [
            {"demand_id": d, "site_id": s, "latency_ms": 1.0 + 10.0 * abs(dx - sx)}
            for d, (dx, _) in DEMAND.items()
            for s, sx in SITES.items()
        ]
    ).to_csv(tmp_path / "latency.csv", index=False)
    (tmp_path / "base.toml").write_text(
        'name = "today"\n'
        "[inputs]\n"
        'sites = "sites.csv"\ndemand = "demand.csv"\nlatency = "latency.csv"\n'
        "[problem]\n"
        'objective = "median"\nn_sites = 2\n'
    )
    (tmp_path / "no_east.toml").write_text(
        'description = "lose the east site"\nremove_sites = ["e"]\n'
    )
    (tmp_path / "three.toml").write_text('name = "three sites"\n[problem]\nn_sites = 3\n')
    return tmp_path


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"placement {command}: error: ")
    return lines[0]


def test_compare_csv_rows_columns_and_diffs(files: Path, capsys) -> None:
    argv = ["compare", str(files / "base.toml"), str(files / "no_east.toml")]
    assert main([*argv, str(files / "three.toml"), "--format", "csv"]) == 0
    df = _csv(capsys.readouterr().out)
    assert list(df["name"]) == ["today", "no_east", "three sites"]
    assert list(df.columns[:6]) == ["name", "description", "status", "gap", "objective", "n_open"]
    for col in ("mean_latency_ms", "p95_latency_ms", "max_latency_ms", "share_within_sla"):
        assert col in df.columns
    assert list(df.columns[-4:]) == ["open_sites", "opened", "closed", "message"]
    assert (df["status"] == "optimal").all()
    assert list(df["n_open"]) == [2, 2, 3]
    sites = [set(v.split(", ")) for v in df["open_sites"]]
    assert sites == [{"w", "e"}, {"w", "c"}, {"w", "c", "e"}]  # hand-checked optima
    assert df["description"].iloc[1] == "lose the east site"
    assert (df["opened"].iloc[1], df["closed"].iloc[1]) == ("c", "e")
    assert df["mean_latency_ms"].iloc[1] > df["mean_latency_ms"].iloc[0]
    assert df["mean_latency_ms"].iloc[2] < df["mean_latency_ms"].iloc[0]
    assert df[["opened", "closed"]].iloc[0].isna().all()  # empty in the CSV


def test_compare_json_and_bad_inputs(files: Path, capsys) -> None:
    assert (
        main(["compare", str(files / "base.toml"), str(files / "three.toml"), "--format", "json"])
        == 0
    )
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == ["today", "three sites"]
    bad = files / "bad.toml"
    bad.write_text("[problem]\nn_sitez = 3\n")
    assert main(["compare", str(files / "base.toml"), str(bad)]) == 2
    assert "n_sitez" in _one_error_line(capsys.readouterr().err, "compare")
    assert main(["compare", str(files / "base.toml"), str(files / "missing.toml")]) == 2
    assert "missing.toml" in _one_error_line(capsys.readouterr().err, "compare")
    gone = files / "gone.toml"
    gone.write_text('remove_sites = ["nowhere"]\n')
    assert main(["compare", str(files / "base.toml"), str(gone)]) == 2
    assert "nowhere" in _one_error_line(capsys.readouterr().err, "compare")


def test_sweep_csv_out_dir_and_failed_point(files: Path, capsys) -> None:
    out = files / "out"
    argv = ["sweep", str(files / "base.toml"), "--grid", "n_sites=1:2", "--grid"]
    argv += ["max_latency_ms=15,100", "--grid", "min_sites=None,99", "--workers", "1"]
    argv += ["--no-progress", "--format", "csv", "--out-dir", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    df = _csv(captured.out)
    assert len(df) == 8
    assert list(df.columns[:3]) == ["n_sites", "max_latency_ms", "min_sites"]
    assert {"status", "objective", "n_open", "max_latency_ms_achieved", "open_sites"} <= set(
        df.columns
    )
    assert "message" in df.columns and "solve_s" not in df.columns  # stdout is reproducible
    errors = df[df["status"] == "error"]
    assert len(errors) == 4 and (errors["min_sites"] == 99).all()
    assert errors["message"].str.contains("min_sites").all()
    ok = df[df["status"] != "error"]
    assert set(ok["status"]) == {"optimal", "infeasible"}
    solved = ok[ok["status"] == "optimal"]
    assert (solved["max_latency_ms_achieved"] <= solved["max_latency_ms"] + 1e-9).all()
    assert (solved["n_open"] == solved["n_sites"]).all()
    assert "8 points" in captured.err and "4 failed" in captured.err

    written = _csv((out / "sweep.csv").read_text())
    assert "solve_s" in written.columns
    pd.testing.assert_frame_equal(written.drop(columns=["solve_s"]), df)
    points = sorted(out.glob("point_*.json"))
    assert len(points) == 4  # one per point with a Result (infeasible included), none for errors
    for path in points:
        i = int(path.stem.split("_")[1])
        res = Result.from_json(path)
        assert res.status == df["status"].iloc[i]
        assert ", ".join(res.open_site_ids) == df["open_sites"].fillna("").iloc[i]


def test_sweep_worker_processes_match_serial(files: Path, capsys) -> None:
    argv = ["sweep", str(files / "base.toml"), "--grid", "n_sites=1:3", "--no-progress"]
    assert main([*argv, "--workers", "1", "--format", "csv"]) == 0
    serial = _csv(capsys.readouterr().out)
    assert main([*argv, "--workers", "2", "--format", "csv"]) == 0
    pd.testing.assert_frame_equal(_csv(capsys.readouterr().out), serial)
    assert list(serial["n_open"]) == [1, 2, 3]


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ("n_sites", "KEY=a:b"),
        ("n_sites=", "KEY=a:b"),
        ("n_sites=3:1", "bad range"),
        ("n_sites=1:x", "integers"),
        ("bogus=1,2", "bogus"),
    ],
)
def test_sweep_bad_grid_is_exit_2_one_line(files: Path, capsys, grid: str, needle: str) -> None:
    assert main(["sweep", str(files / "base.toml"), "--grid", grid, "--no-progress"]) == 2
    assert needle in _one_error_line(capsys.readouterr().err, "sweep")


def test_sweep_other_bad_inputs(files: Path, capsys) -> None:
    base = str(files / "base.toml")
    assert main(["sweep", base, "--no-progress"]) == 2  # no grid at all
    assert "--grid" in _one_error_line(capsys.readouterr().err, "sweep")
    assert main(["sweep", base, "--grid", "n_sites=1,2", "--grid", "n_sites=3"]) == 2
    assert "given twice" in _one_error_line(capsys.readouterr().err, "sweep")
    assert main(["sweep", base, "--grid", "n_sites=1,2", "--workers", "0"]) == 2
    assert "--workers" in _one_error_line(capsys.readouterr().err, "sweep")
    assert main(["sweep", str(files / "nope.toml"), "--grid", "n_sites=1,2"]) == 2
    assert "nope.toml" in _one_error_line(capsys.readouterr().err, "sweep")


def test_table_format_cuts_long_texts_and_says_so(capsys) -> None:
    from placement.cli._common import TABLE_TEXT_CHARS, write_frame

    why = "4 demand points (Rostov-on-Don, Volgograd, Makhachkala, Astrakhan) have no site " * 2
    df = pd.DataFrame({"status": ["infeasible", "optimal"], "message": [why, ""]})
    out = io.StringIO()
    write_frame(df, "table", out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and why not in out.getvalue()
    assert "4 demand points (Rostov-on-Don" in lines[1] and lines[1].rstrip().endswith("...")
    assert max(len(line) for line in lines) < len("infeasible") + TABLE_TEXT_CHARS + 5
    assert "--format csv or json shows them whole" in capsys.readouterr().err
    whole = io.StringIO()
    write_frame(df, "csv", whole)
    assert why in whole.getvalue()
    write_frame(df.assign(message=["short", ""]), "table", io.StringIO())
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("command", "extra", "file_limit", "expected"),
    [
        ("compare", [], None, 120.0),  # placement solve's default
        ("compare", ["--time-limit", "7"], None, 7.0),
        ("compare", ["--time-limit", "none"], None, None),
        ("compare", [], 30, 30.0),  # the base file's [solver] limit
        ("compare", ["--time-limit", "5"], 30, 5.0),  # the option wins
        ("sweep", [], None, 120.0),
        ("sweep", ["--time-limit", "off"], 30, None),
        ("sweep", [], 30, 30.0),
    ],
)
def test_compare_and_sweep_time_limit_as_solve(
    files: Path, capsys, monkeypatch, command, extra, file_limit, expected
) -> None:
    """Each problem / point gets solve's time limit rule: option, else file, else 120 s."""
    import placement.scenarios as scenarios

    base = files / "base.toml"
    if file_limit is not None:
        base.write_text(base.read_text() + f"[solver]\ntime_limit_s = {file_limit}\n")
    seen: list[float | None] = []

    def spy(real):
        def wrapped(*args, **kwargs):
            seen.append(kwargs.get("time_limit_s", "missing"))
            return real(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(scenarios, command, spy(getattr(scenarios, command)))
    if command == "compare":
        argv = ["compare", str(base), str(files / "three.toml"), *extra]
    else:
        argv = ["sweep", str(base), "--grid", "n_sites=1,2", "--workers", "1", *extra]
    assert main([*argv, "--format", "csv"]) == 0
    assert seen == [expected]
    df = _csv(capsys.readouterr().out)
    assert (df["status"] == "optimal").all()
