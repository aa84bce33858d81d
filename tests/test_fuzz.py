"""Property-based fuzzing: validators and CLI parsers fail only with clean, named errors."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement.cli import main
from placement.errors import ValidationError
from placement.validate import validate_demand, validate_latency_table, validate_sites

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=4),
    st.booleans(),
    st.none(),
    st.sampled_from(["nan", "inf", "1e999", "-0", "45.5", " ", "NA"]),
)


@st.composite
def _column(draw: st.DrawFn, n: int) -> pd.Series:
    kind = draw(st.sampled_from(["float", "int", "str", "bool", "mixed", "category"]))
    if kind == "float":
        vals = draw(
            st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=n, max_size=n)
        )
        return pd.Series(vals, dtype=float)
    if kind == "int":
        vals = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
        return pd.Series(vals, dtype=np.int64)
    if kind == "str":
        return pd.Series(draw(st.lists(st.text(max_size=5), min_size=n, max_size=n)), dtype=object)
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    vals = draw(st.lists(_SCALARS, min_size=n, max_size=n))
    s = pd.Series(vals, dtype=object)
    return s.astype("category") if kind == "category" and s.notna().all() else s


@st.composite
def _frame(draw: st.DrawFn, columns: list[str]) -> pd.DataFrame:
    n = draw(st.integers(0, 6))
    chosen = draw(st.lists(st.sampled_from(columns), unique=True, max_size=len(columns)))
    # usually include the required ones so the deeper checks are reached
    if draw(st.booleans()):
        chosen = list(dict.fromkeys([*columns[:4], *chosen]))
    return pd.DataFrame({c: draw(_column(n)).to_numpy() for c in chosen}, index=range(n))


SITE_COLS = ["site_id", "lat", "lon", "capacity", "lat_deg", "longitude", "fixed_cost_usd_per_year"]
DEMAND_COLS = ["demand_id", "lat", "lon", "weight", "latitude", "lon_deg", "name"]
LAT_COLS = ["demand_id", "site_id", "latency_ms", "distance_km"]


def _check_points(out: pd.DataFrame, id_col: str) -> None:
    assert out[id_col].is_unique and len(out) > 0
    lat = out["lat_deg"].to_numpy(dtype=float)
    lon = out["lon_deg"].to_numpy(dtype=float)
    assert np.isfinite(lat).all() and (np.abs(lat) <= 90).all()
    assert np.isfinite(lon).all() and (np.abs(lon) <= 180).all()


@FUZZ
@given(_frame(SITE_COLS))
def test_fuzz_validate_sites(df: pd.DataFrame) -> None:
    try:
        out = validate_sites(df)
    except ValidationError as exc:
        assert exc.table == "sites"
        return
    _check_points(out, "site_id")
    for col in ("capacity", "fixed_cost_usd_per_year"):
        if col in out:
            v = out[col].to_numpy(dtype=float)
            assert not (v[~np.isnan(v)] < 0).any()


@FUZZ
@given(_frame(DEMAND_COLS))
def test_fuzz_validate_demand(df: pd.DataFrame) -> None:
    try:
        out = validate_demand(df)
    except ValidationError as exc:
        assert exc.table == "demand"
        return
    _check_points(out, "demand_id")
    w = out["weight"].to_numpy(dtype=float)
    assert np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0


@FUZZ
@given(_frame(LAT_COLS), st.booleans())
def test_fuzz_validate_latency_table(df: pd.DataFrame, with_ids: bool) -> None:
    kw = {"site_ids": ["a", "b", "1"], "demand_ids": ["d", "1", "0"]} if with_ids else {}
    try:
        out = validate_latency_table(df, **kw)
    except ValidationError as exc:
        assert exc.table == "latency"
        return
    v = out["latency_ms"].to_numpy(dtype=float)
    assert np.isfinite(v).all() and (v >= 0).all()
    assert not out.duplicated(["demand_id", "site_id"]).any()


# -------------------------------------------------------------------------------------------- CLI
_VALUES = ["1", "0", "-1", "2", "nan", "inf", "1e999", "abc", "", "--", "aws", "a", "EU", "xx"]
_OPTIONS = {
    "regions": ["--provider", "--kind", "--format"],
    "demand": ["--min-population", "--country", "--continent", "--merge-within-km", "--format"],
    "solve": [
        "--open",
        "--max-open",
        "--min-open",
        "--objective",
        "--max-latency-ms",
        "--sla-ms",
        "--sla-share",
        "--redundancy",
        "--failure-domain",
        "--capacity",
        "--must-open",
        "--forbid",
        "--backup-weight",
        "--method",
        "--time-limit",
        "--single-sourcing",
        "--unknown-flag",
    ],
    "data": ["status", "--format", "--cache-dir", "refresh-not", "-h"],
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("fuzzcli")
    pd.DataFrame(
        {"site_id": ["a", "b"], "lat": [0.0, 10.0], "lon": [0.0, 10.0], "provider": ["x", "y"]}
    ).to_csv(d / "s.csv", index=False)
    pd.DataFrame(
        {"demand_id": ["1", "2", "3"], "lat": [1.0, 5, 9], "lon": [1.0, 5, 9], "weight": [1, 2, 3]}
    ).to_csv(d / "d.csv", index=False)
    pd.DataFrame(
        {
            "demand_id": ["1", "1", "2", "2", "3", "3"],
            "site_id": ["a", "b"] * 3,
            "latency_ms": [5.0, 30, 20, 20, 30, 5],
        }
    ).to_csv(d / "l.csv", index=False)
    return {"dir": str(d)}


@FUZZ
@given(
    st.sampled_from(sorted(_OPTIONS)),
    st.data(),
)
def test_fuzz_cli(files: dict[str, str], command: str, data: st.DataObject) -> None:
    d = files["dir"]
    frags = data.draw(
        st.lists(st.sampled_from(_OPTIONS[command] + _VALUES), max_size=8), label="fragments"
    )
    argv = [command]
    if command == "solve":
        argv += ["--sites", f"{d}/s.csv", "--demand", f"{d}/d.csv", "--latency", f"{d}/l.csv"]
    elif command == "demand":
        argv += ["--country", "LU"]  # keep it small
    elif command == "data":
        frags = [f if f != "--cache-dir" else f"--cache-dir={d}/cache" for f in frags]
    argv += frags
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors and --help
            code = exc.code if isinstance(exc.code, int) else 2
    allowed = {0, 2, 3} if command == "solve" else {0, 2}  # 3: a well-formed infeasible problem
    assert code in allowed, (argv, err.getvalue())
    assert "Traceback" not in err.getvalue()
    assert not Path(d, "cache").exists() or "manifest.json" not in {
        p.name for p in Path(d, "cache").iterdir()
    }


# ------------------------------------------------------------------------- result JSON loader
_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=6),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(obj: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside a JSON document (lists cut to their first two items)."""
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:2]):
            out += _paths(v, (*prefix, i))
    return out


def _valid_result() -> dict:
    import json

    from placement.report.example import example_result

    return json.loads(example_result().to_json())


_RESULT = _valid_result()
_RESULT_PATHS = _paths(_RESULT)


@settings(FUZZ, max_examples=60)
@given(st.lists(st.tuples(st.sampled_from(_RESULT_PATHS), _JSON), min_size=1, max_size=3))
def test_fuzz_result_loader(mutations: list[tuple[tuple, object]]) -> None:
    """Any mutation of a valid result is refused with a ValidationError or can be reported."""
    import copy
    import json

    from placement.report.html import render_html
    from placement.result import Result, load_result_json

    doc = copy.deepcopy(_RESULT)
    for path, value in mutations:
        obj = doc
        try:
            for key in path[:-1]:
                obj = obj[key]
            obj[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed the container
    text = json.dumps(doc, allow_nan=True)
    try:
        data = load_result_json(text)
    except ValidationError as exc:
        assert exc.table == "result" and "\n" not in str(exc)
        return
    r = Result.from_dict(data)
    r.summary()
    html = render_html(r)
    assert "<html" in html


# ------------------------------------------------------------------------------- path checks
_PARTS = ["f.txt", "dir", "fifo", "null", "flink", "new", "..", ".", "", "sub", "a\x00b"]


@pytest.fixture(scope="module")
def pathdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    d = tmp_path_factory.mktemp("paths")
    (d / "f.txt").write_text("input")
    (d / "dir").mkdir()
    (d / "dir" / "f.txt").write_text("x")
    os.mkfifo(d / "fifo")
    (d / "null").symlink_to("/dev/null")
    (d / "flink").symlink_to(d / "f.txt")
    return d


def _tree(d: Path) -> list[tuple[str, int]]:
    return sorted((str(p.relative_to(d)), p.lstat().st_size) for p in d.rglob("*"))


@settings(FUZZ, max_examples=150)
@given(st.lists(st.sampled_from(_PARTS), min_size=0, max_size=4), st.booleans(), st.booleans())
def test_fuzz_path_checks(pathdir: Path, parts: list[str], slash: bool, probe: bool) -> None:
    """check_output_path refuses every unsafe target, creates nothing; inputs are regular files."""
    import os
    import stat

    from placement._io import check_input_path, check_output_path

    text = str(pathdir) + "/" + "/".join(parts) + ("/" if slash else "")
    if not parts and not slash:
        text = ""
    before = _tree(pathdir)
    try:
        out = check_output_path(text, inputs=[pathdir / "f.txt"], probe=probe)
    except ValidationError as exc:
        assert "\n" not in str(exc)
    else:
        assert not text.endswith("/") and "\x00" not in text
        if out.exists():
            assert stat.S_ISREG(os.stat(out).st_mode)
            assert not os.path.samefile(out, pathdir / "f.txt")
        ancestor = out.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        assert ancestor.is_dir()
    assert _tree(pathdir) == before  # a check never creates or changes anything
    try:
        got = check_input_path(text)
    except ValidationError:
        return
    assert stat.S_ISREG(os.stat(got).st_mode)


# ------------------------------------------------------------------------- parameter checker
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.lists(st.one_of(st.text(max_size=3), st.integers(-3, 3), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(-2, 3), st.text(max_size=2))),
    st.sampled_from([np.int64(2), np.float64(0.5), np.bool_(True), "median", "highs", "a", ["a"]]),
)

_FUZZ_SITES = pd.DataFrame(
    {"site_id": ["a", "b"], "lat": [0.0, 1.0], "lon": [0.0, 1.0], "provider": ["x", "y"]}
)
_FUZZ_DEMAND = pd.DataFrame(
    {"demand_id": ["d", "e"], "lat": [0.0, 1.0], "lon": [0.0, 1.0], "weight": [1.0, 2.0]}
)
_FUZZ_LAT = pd.DataFrame(
    {"demand_id": ["d", "d", "e", "e"], "site_id": ["a", "b"] * 2, "latency_ms": [1.0, 2, 3, 4]}
)


@settings(FUZZ, max_examples=200)
@given(st.data())
def test_fuzz_parameter_checker(data: st.DataObject) -> None:
    """Every parameter, any value: a normalised value of the declared type or a named error."""
    import numbers

    from placement import params
    from placement.problem import Problem
    from placement.solve import SolverOptions

    spec_name = data.draw(st.sampled_from(["problem", "solver"]))
    spec = params.problem_spec() if spec_name == "problem" else params.solver_spec()
    key = data.draw(st.sampled_from(sorted(spec)))
    value = data.draw(_ANY)
    try:
        got = params.check(spec, {key: value})[key]
    except ValidationError as exc:
        assert exc.field is not None and exc.field.startswith(key), (key, exc.field)
        assert exc.table == "parameter"
        return
    # normalised: numbers are never booleans, lists never strings; checking again is a no-op
    if isinstance(got, numbers.Real) and key not in ("single_sourcing", "verbose"):
        assert not isinstance(got, bool | np.bool_) and np.isfinite(got)
    if key in ("must_open", "forbidden"):
        assert isinstance(got, list) and all(isinstance(x, str) for x in got)
    if key in ("single_sourcing", "verbose"):
        assert isinstance(got, bool)
    assert params.check(spec, {key: got})[key] == got
    # and the library itself: only a ValidationError, never another exception
    try:
        if spec_name == "problem":
            kw = {"n_sites": 1, key: value} if key != "n_sites" else {key: value}
            Problem(_FUZZ_SITES, _FUZZ_DEMAND, latency=_FUZZ_LAT, **kw)
        elif key != "method":
            SolverOptions(**{key: value})
    except ValidationError:
        pass
