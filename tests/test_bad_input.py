"""A table-driven battery of bad inputs: library, TOML problem files and the CLI.

Library: a :class:`ValidationError` naming the field (or the table when the table itself is wrong),
or — for well-formed but impossible problems — an ``infeasible`` result saying why in words.
CLI: no traceback, exit 2 (bad input) or 3 (infeasible), the error on the last stderr line, and no
``--out`` file. Also: config files are parsed as data only (no eval/exec/pickle in the package).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from placement import catalog, config, demand
from placement.cli import main
from placement.errors import ValidationError
from placement.problem import Problem
from placement.validate import validate_demand, validate_latency_table, validate_sites

SITES = pd.DataFrame(
    {
        "site_id": ["a", "b", "c"],
        "lat": [0.0, 10.0, 20.0],
        "lon": [0.0, 10.0, 20.0],
        "provider": ["aws", "aws", "gcp"],
        "capacity": [10.0, 10.0, 10.0],
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
        (d, s, float(10 + 3 * i + j))
        for i, d in enumerate(DEMAND["demand_id"])
        for j, s in enumerate(SITES["site_id"])
    ],
    columns=["demand_id", "site_id", "latency_ms"],
)


def _sites(**cols: Any) -> pd.DataFrame:
    return SITES.assign(**cols)


def _demand(**cols: Any) -> pd.DataFrame:
    return DEMAND.assign(**cols)


def _problem(sites: pd.DataFrame = SITES, dem: pd.DataFrame = DEMAND, **kw: Any) -> Problem:
    kw.setdefault("latency", LATENCY)
    kw.setdefault("n_sites", 1)
    return Problem(sites, dem, **kw)


def _lat(**changes: Any) -> pd.DataFrame:
    df = LATENCY.copy()
    for col, (i, v) in changes.items():
        df[col] = df[col].astype(object)
        df.loc[i, col] = v
    return df


# ----------------------------------------------------------------------- library: ValidationError
# (id, call, expected field (None: the table itself), expected table)
LIBRARY: list[tuple[str, Callable[[], object], str | None, str]] = [
    ("site-lat-nan", lambda: validate_sites(_sites(lat=[0, np.nan, 1])), "lat_deg", "sites"),
    ("site-lon-inf", lambda: validate_sites(_sites(lon=[0, np.inf, 1])), "lon_deg", "sites"),
    ("site-lat-91", lambda: validate_sites(_sites(lat=[0, 91, 1])), "lat_deg", "sites"),
    ("site-lon-minus-181", lambda: validate_sites(_sites(lon=[-181, 0, 1])), "lon_deg", "sites"),
    ("site-lat-text", lambda: validate_sites(_sites(lat=["0", "north", "1"])), "lat_deg", "sites"),
    ("site-lat-bool", lambda: validate_sites(_sites(lat=[True, False, True])), "lat_deg", "sites"),
    ("site-dup-id", lambda: validate_sites(_sites(site_id=["a", "a", "c"])), "site_id", "sites"),
    (
        "site-missing-id",
        lambda: validate_sites(_sites(site_id=["a", None, "c"])),
        "site_id",
        "sites",
    ),
    ("site-blank-id", lambda: validate_sites(_sites(site_id=["a", " ", "c"])), "site_id", "sites"),
    ("site-neg-capacity", lambda: validate_sites(_sites(capacity=[1, -1, 1])), "capacity", "sites"),
    (
        "site-lat-and-lat_deg",
        lambda: validate_sites(_sites(lat_deg=[0.0, 1.0, 2.0])),
        "lat_deg",
        "sites",
    ),
    (
        "demand-lat-and-latitude",
        lambda: validate_demand(_demand(latitude=DEMAND["lat"])),
        "lat_deg",
        "demand",
    ),
    (
        "lat-table-dup-column",
        lambda: validate_latency_table(pd.concat([LATENCY, LATENCY["site_id"]], axis=1)),
        "site_id",
        "latency",
    ),
    ("site-no-lon", lambda: validate_sites(SITES.drop(columns="lon")), "lon_deg", "sites"),
    ("sites-empty", lambda: validate_sites(SITES.iloc[:0]), None, "sites"),
    ("sites-not-frame", lambda: validate_sites([{"site_id": "a"}]), None, "sites"),  # type: ignore[arg-type]
    ("demand-dup-id", lambda: validate_demand(_demand(demand_id=["x"] * 4)), "demand_id", "demand"),
    (
        "demand-neg-weight",
        lambda: validate_demand(_demand(weight=[1, -2, 3, 4])),
        "weight",
        "demand",
    ),
    (
        "demand-nan-weight",
        lambda: validate_demand(_demand(weight=[1, np.nan, 3, 4])),
        "weight",
        "demand",
    ),
    (
        "demand-no-weight",
        lambda: validate_demand(DEMAND.drop(columns="weight")),
        "weight",
        "demand",
    ),
    ("demand-zero-weight", lambda: validate_demand(_demand(weight=0.0)), "weight", "demand"),
    ("demand-text-weight", lambda: validate_demand(_demand(weight="many")), "weight", "demand"),
    ("demand-empty", lambda: validate_demand(DEMAND.iloc[:0]), None, "demand"),
    (
        "lat-table-negative",
        lambda: validate_latency_table(_lat(latency_ms=(3, -1.0))),
        "latency_ms",
        "latency",
    ),
    (
        "lat-table-nan",
        lambda: validate_latency_table(_lat(latency_ms=(3, np.nan))),
        "latency_ms",
        "latency",
    ),
    (
        "lat-table-text",
        lambda: validate_latency_table(_lat(latency_ms=(0, "fast"))),
        "latency_ms",
        "latency",
    ),
    (
        "lat-table-no-col",
        lambda: validate_latency_table(LATENCY.drop(columns="latency_ms")),
        "latency_ms",
        "latency",
    ),
    (
        "lat-table-missing-id",
        lambda: validate_latency_table(_lat(site_id=(2, None))),
        "site_id",
        "latency",
    ),
    (
        "lat-table-unknown-site",
        lambda: validate_latency_table(_lat(site_id=(2, "zz")), site_ids=SITES["site_id"]),
        "site_id",
        "latency",
    ),
    (
        "lat-table-dup-pair",
        lambda: validate_latency_table(pd.concat([LATENCY, LATENCY.head(1)])),
        None,
        "latency",
    ),
    ("n-sites-gt-sites", lambda: _problem(n_sites=4), "n_sites", "parameter"),
    ("n-sites-zero", lambda: _problem(n_sites=0), "n_sites", "parameter"),
    ("n-sites-text", lambda: _problem(n_sites="two"), "n_sites", "parameter"),
    ("n-sites-float", lambda: _problem(n_sites=1.5), "n_sites", "parameter"),
    (
        "min-gt-max",
        lambda: _problem(n_sites=None, max_sites=1, min_sites=2),
        "min_sites",
        "parameter",
    ),
    ("max-latency-negative", lambda: _problem(max_latency_ms=-5), "max_latency_ms", "parameter"),
    (
        "max-latency-nan",
        lambda: _problem(max_latency_ms=float("nan")),
        "max_latency_ms",
        "parameter",
    ),
    ("sla-share-1.5", lambda: _problem(sla_ms=50, sla_share=1.5), "sla_share", "parameter"),
    ("coverage-no-sla", lambda: _problem(objective="coverage"), "sla_ms", "parameter"),
    ("unknown-objective", lambda: _problem(objective="fastest"), "objective", "parameter"),
    ("redundancy-zero", lambda: _problem(redundancy=0), "redundancy", "parameter"),
    (
        "failure-domain-col",
        lambda: _problem(redundancy=2, failure_domain="rack"),
        "failure_domain",
        "parameter",
    ),
    ("must-open-unknown", lambda: _problem(must_open=["zz"]), "must_open", "parameter"),
    (
        "must-open-and-forbidden",
        lambda: _problem(must_open=["a"], forbidden=["a"]),
        "must_open",
        "parameter",
    ),
    ("must-open-over-n", lambda: _problem(must_open=["a", "b"]), "must_open", "parameter"),
    ("capacity-column", lambda: _problem(capacity="cores"), "capacity", "parameter"),
    ("capacity-negative", lambda: _problem(capacity=-1.0), "capacity", "parameter"),
    ("backup-weight-2", lambda: _problem(backup_weight=2.0), "backup_weight", "parameter"),
    ("catalog-provider", lambda: catalog.regions(providers="ibm"), "providers", "parameter"),
    ("catalog-kind", lambda: catalog.regions(kinds="edge"), "kinds", "parameter"),
    ("catalog-source", lambda: catalog.regions(source="web"), "source", "parameter"),
    ("method", lambda: _problem().solve(method="magic"), "method", "parameter"),
    (
        "latency-unknown-demand",
        lambda: _problem(latency=_lat(demand_id=(0, "nobody"))).latency_table(),
        "demand_id",
        "latency",
    ),
]


@pytest.mark.parametrize(("case", "call", "field", "table"), LIBRARY, ids=[c[0] for c in LIBRARY])
def test_library_bad_input(
    case: str, call: Callable[[], object], field: str | None, table: str
) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    exc = info.value
    assert exc.field == field, (case, str(exc))
    assert exc.table == table, (case, str(exc))
    msg = str(exc)
    assert "\n" not in msg and len(msg) < 400
    if field is not None:
        assert f"field {field!r}" in msg


def test_latency_table_errors_name_the_pair() -> None:
    s0 = LATENCY["site_id"].iloc[0]
    with pytest.raises(ValidationError) as info:  # the first repeated row is the copy of row 5
        validate_latency_table(pd.concat([LATENCY, LATENCY.iloc[[5, 0]]]))
    assert info.value.row == f"{LATENCY['demand_id'].iloc[5]} -> {LATENCY['site_id'].iloc[5]}"
    bad = _lat(site_id=(4, "zz"))
    with pytest.raises(ValidationError) as info:
        validate_latency_table(bad, site_ids=SITES["site_id"])
    assert info.value.row == f"{bad['demand_id'].iloc[4]} -> zz" and info.value.value == "zz"
    # ids are compared as strings: 7 and "7" are the same demand point, so the pair repeats
    mixed = pd.DataFrame(
        {"demand_id": [7, "7"], "site_id": [s0, s0], "latency_ms": [1.0, 2.0]}, dtype=object
    )
    with pytest.raises(ValidationError, match="duplicate") as info:
        validate_latency_table(mixed)
    assert info.value.row == f"7 -> {s0}"


def test_demand_from_cities_unknown_country() -> None:
    with pytest.raises(ValidationError) as info:
        demand.from_cities(countries=["XX"])
    assert info.value.field is not None and "XX" in str(info.value)


# ------------------------------------------------------------------- library: infeasible in words
INFEASIBLE: list[tuple[str, dict[str, Any], str]] = [
    ("sla-unreachable", {"max_latency_ms": 5.0}, "no candidate site within 5 ms"),
    ("capacity-below-demand", {"capacity": 1.0}, "capacity"),
    (
        "redundancy-over-domains",
        {"n_sites": 2, "redundancy": 3, "failure_domain": "provider"},
        "needs 3 failure domains",
    ),
    ("latency-missing-pairs", {"latency": LATENCY[LATENCY["demand_id"] != "d2"]}, "d2"),
]


@pytest.mark.parametrize(("case", "kw", "words"), INFEASIBLE, ids=[c[0] for c in INFEASIBLE])
def test_library_infeasible(case: str, kw: dict[str, Any], words: str) -> None:
    result = _problem(**kw).solve()
    assert result.status == "infeasible"
    assert words in result.message


# ------------------------------------------------------------------------------------------- TOML
def _files(tmp: Path) -> None:
    SITES.to_csv(tmp / "sites.csv", index=False)
    DEMAND.to_csv(tmp / "demand.csv", index=False)
    LATENCY.to_csv(tmp / "lat.csv", index=False)


GOOD_INPUTS = '[inputs]\nsites = "sites.csv"\ndemand = "demand.csv"\nlatency = "lat.csv"\n'
TOML: list[tuple[str, str, str | None, str]] = [
    ("malformed", "[problem\nn_sites = 1\n", None, "malformed TOML"),
    ("unknown-table", GOOD_INPUTS + "[solvr]\nsolver = 'highs'\n", "solvr", "unknown table"),
    ("unknown-problem-key", GOOD_INPUTS + "[problem]\nn_site = 1\n", "n_site", "unknown key"),
    ("unknown-input-key", "[inputs]\nsite = 'sites.csv'\n", "site", "unknown key"),
    ("unknown-cost-key", GOOD_INPUTS + "[costs]\nwatts = 3\n", "watts", "unknown key"),
    ("name-not-string", "name = 3\n" + GOOD_INPUTS, "name", "string"),
    ("table-not-table", "problem = 3\n", "problem", "must be a table"),
    ("sites-path-number", "[inputs]\nsites = 3\n", "sites", "path"),
    (
        "sites-file-missing",
        "[inputs]\nsites = 'nope.csv'\n[problem]\nn_sites = 1\n",
        None,
        "no such file",
    ),
    ("n-sites-string", GOOD_INPUTS + "[problem]\nn_sites = 'two'\n", "n_sites", "integer"),
    ("n-sites-too-many", GOOD_INPUTS + "[problem]\nn_sites = 9\n", "n_sites", "9"),
    (
        "must-open-forbidden",
        GOOD_INPUTS + "[problem]\nn_sites = 1\nmust_open = ['a']\nforbidden = ['a']\n",
        "must_open",
        "both",
    ),
    (
        "provider-unknown",
        "[inputs]\nproviders = ['ibm']\n[problem]\nn_sites = 1\n",
        "providers",
        "ibm",
    ),
]


@pytest.mark.parametrize(("case", "text", "field", "words"), TOML, ids=[c[0] for c in TOML])
def test_toml_bad_input(
    tmp_path: Path, case: str, text: str, field: str | None, words: str
) -> None:
    _files(tmp_path)
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ValidationError) as info:
        Problem.from_toml(path)
    assert info.value.field == field, str(info.value)
    assert words in str(info.value)


def test_toml_csv_garbage(tmp_path: Path) -> None:
    (tmp_path / "sites.csv").write_bytes(b"\xff\xfe\x00garbage\x00\n\x81")
    path = tmp_path / "p.toml"
    path.write_text("[inputs]\nsites = 'sites.csv'\n[problem]\nn_sites = 1\n")
    with pytest.raises(ValidationError, match="sites"):
        Problem.from_toml(path)


def test_config_is_data_only(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("name = \"__import__('os').system('false')\"\n")
    cfg = config.load_config(path)
    assert cfg["name"] == "__import__('os').system('false')"  # a plain string, never evaluated


# -------------------------------------------------------------------------------------------- CLI
def _cli_files(tmp: Path) -> dict[str, str]:
    _files(tmp)
    bad = tmp / "bad"
    bad.mkdir()
    _sites(lat=[0, np.nan, 1]).to_csv(bad / "sites_nan.csv", index=False)
    _sites(site_id=["a", "a", "c"]).to_csv(bad / "sites_dup.csv", index=False)
    _demand(weight=[1, -1, 1, 1]).to_csv(bad / "demand_neg.csv", index=False)
    DEMAND.iloc[:0].to_csv(bad / "demand_empty.csv", index=False)
    _lat(latency_ms=(1, -3.0)).to_csv(bad / "lat_neg.csv", index=False)
    (bad / "p.toml").write_text("[problem\n")
    (bad / "extra.toml").write_text("[inputs]\nsites = '../sites.csv'\n[problem]\nn_sitez = 1\n")
    (bad / "empty.csv").write_text("")
    return {
        "S": str(tmp / "sites.csv"),
        "D": str(tmp / "demand.csv"),
        "L": str(tmp / "lat.csv"),
        "B": str(bad),
    }


BASE = ["solve", "--sites", "{S}", "--demand", "{D}", "--latency", "{L}"]
CLI: list[tuple[str, list[str], int, str]] = [
    ("open-too-many", [*BASE, "--open", "5"], 2, "n_sites"),
    ("open-zero", [*BASE, "--open", "0"], 2, "n_sites"),
    ("open-not-int", [*BASE, "--open", "two"], 2, "--open"),
    (
        "sites-nan",
        ["solve", "--sites", "{B}/sites_nan.csv", "--demand", "{D}", "--open", "1"],
        2,
        "lat_deg",
    ),
    (
        "sites-dup",
        ["solve", "--sites", "{B}/sites_dup.csv", "--demand", "{D}", "--open", "1"],
        2,
        "site_id",
    ),
    (
        "demand-neg",
        ["solve", "--sites", "{S}", "--demand", "{B}/demand_neg.csv", "--open", "1"],
        2,
        "weight",
    ),
    (
        "demand-empty",
        ["solve", "--sites", "{S}", "--demand", "{B}/demand_empty.csv", "--open", "1"],
        2,
        "demand",
    ),
    (
        "sites-empty-file",
        ["solve", "--sites", "{B}/empty.csv", "--demand", "{D}", "--open", "1"],
        2,
        "sites",
    ),
    (
        "sites-missing-file",
        ["solve", "--sites", "{B}/none.csv", "--demand", "{D}", "--open", "1"],
        2,
        "none.csv",
    ),
    (
        "latency-negative",
        [*BASE[:5], "--latency", "{B}/lat_neg.csv", "--open", "1"],
        2,
        "latency_ms",
    ),
    ("toml-malformed", ["solve", "--config", "{B}/p.toml"], 2, "malformed TOML"),
    ("toml-unknown-key", ["solve", "--config", "{B}/extra.toml"], 2, "n_sitez"),
    (
        "must-open-forbid",
        [*BASE, "--open", "1", "--must-open", "a", "--forbid", "a"],
        2,
        "must_open",
    ),
    ("must-open-unknown", [*BASE, "--open", "1", "--must-open", "zz"], 2, "zz"),
    ("unknown-provider", ["solve", "--provider", "ibm", "--open", "1"], 2, "ibm"),
    ("unknown-country", ["solve", "--country", "XX", "--open", "1"], 2, "XX"),
    ("sla-share-out", [*BASE, "--open", "1", "--sla-ms", "20", "--sla-share", "2"], 2, "sla_share"),
    ("bad-objective", [*BASE, "--objective", "fastest"], 2, "--objective"),
    ("sla-infeasible", [*BASE, "--open", "1", "--max-latency-ms", "5"], 3, "within 5 ms"),
    ("capacity-infeasible", [*BASE, "--open", "1", "--capacity", "1"], 3, "capacity"),
    (
        "redundancy-infeasible",
        [*BASE, "--open", "2", "--redundancy", "3", "--failure-domain", "provider"],
        3,
        "failure domains",
    ),
    ("data-unknown-table", ["data", "status", "--format", "xml"], 2, "--format"),
]


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: a clean usage error
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("case", "argv", "code", "words"), CLI, ids=[c[0] for c in CLI])
def test_cli_bad_input(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    argv: list[str],
    code: int,
    words: str,
) -> None:
    paths = _cli_files(tmp_path)
    out = tmp_path / "out" / "result.json"
    full = [a.format(**paths) for a in argv]
    if full[0] == "solve":
        full += ["--out", str(out)]
    got, err = _run_cli(full, capsys)
    assert got == code, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert words in last, err
    assert "error" in last or "no solution" in last
    if not err.startswith("usage"):  # argparse prints its usage first, then one error line
        # progress lines may precede it, but the error itself is exactly one line
        assert sum("error" in ln or "no solution" in ln for ln in err.splitlines()) == 1, err
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_cli_huge_demand_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 10^6-row demand CSV with one bad value near the end: a clear error within seconds."""
    import time

    n = 1_000_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "demand_id": np.arange(n).astype(str),
            "lat": rng.uniform(-60, 60, n).round(3),
            "lon": rng.uniform(-180, 180, n).round(3),
            "weight": 1.0,
        }
    )
    df.loc[n - 7, "lat"] = 95.0
    path = tmp_path / "huge.csv"
    df.to_csv(path, index=False)
    _files(tmp_path)
    out = tmp_path / "r.json"
    argv = ["solve", "--sites", str(tmp_path / "sites.csv"), "--demand", str(path)]
    argv += ["--open", "1", "--out", str(out)]
    t0 = time.monotonic()
    code, err = _run_cli(
        argv,
        capsys,
    )
    assert time.monotonic() - t0 < 20
    assert code == 2 and "row '999993'" in err and "lat_deg" in err
    assert not out.exists()


# --------------------------------------------------------------------------------------- security
def test_no_eval_exec_pickle_in_package() -> None:
    root = Path(__file__).resolve().parent.parent / "placement"
    pattern = re.compile(r"\beval\(|\bexec\(|\bpickle\b|\bmarshal\b|yaml\.load\(")
    hits = []
    for path in sorted(root.rglob("*.py")):
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                hits.append(f"{path.relative_to(root.parent)}:{no}: {line.strip()}")
    assert hits == [], "\n".join(hits)


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path) -> None:
    from placement._io import atomic_write_bytes

    target = tmp_path / "out.json"
    target.write_bytes(b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, object())  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
