"""``placement latency`` command."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

from placement.cli import main


@pytest.fixture()
def files(tmp_path: Path) -> tuple[str, str]:
    s = tmp_path / "sites.csv"
    s.write_text("site_id,lat,lon,extra\nfra,50.11,8.68,a\nnyc,40.71,-74.0,b\nsin,1.35,103.82,c\n")
    d = tmp_path / "demand.csv"
    d.write_text(
        "demand_id,lat,lon,weight,name\nlondon,51.5,-0.12,9,London\nboston,42.36,-71.06,4,Boston\n"
    )
    return str(s), str(d)


def _run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def test_csv_default(files: tuple[str, str]) -> None:
    s, d = files
    rc, out = _run(["latency", "--sites", s, "--demand", d])
    assert rc == 0
    t = pd.read_csv(io.StringIO(out))
    assert list(t.columns) == ["demand_id", "site_id", "distance_km", "latency_ms"]
    assert len(t) == 6
    lon_fra = t[(t.demand_id == "london") & (t.site_id == "fra")].iloc[0]
    assert 600 < lon_fra.distance_km < 660 and 8 < lon_fra.latency_ms < 20


def test_json_distance_model_with_pruning(files: tuple[str, str]) -> None:
    s, d = files
    rc, out = _run(
        [
            "latency",
            "--sites",
            s,
            "--demand",
            d,
            "--model",
            "distance",
            "--k-nearest",
            "1",
            "--format",
            "json",
        ]
    )
    assert rc == 0
    rows = json.loads(out)
    assert [(r["demand_id"], r["site_id"]) for r in rows] == [("london", "fra"), ("boston", "nyc")]
    rc, out = _run(["latency", "--sites", s, "--demand", d, "--max-latency-ms", "50"])
    t = pd.read_csv(io.StringIO(out))
    assert set(zip(t.demand_id, t.site_id, strict=True)) == {("london", "fra"), ("boston", "nyc")}


def test_bad_input_exit_2(
    files: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("demand_id,lat,lon,weight\nx,95,0,1\n")
    assert main(["latency", "--sites", s, "--demand", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "lat_deg" in err and "'x'" in err
    assert main(["latency", "--sites", s, "--demand", str(bad), "--k-nearest", "0"]) == 2


def test_catalog_inputs(files: tuple[str, str]) -> None:
    pytest.importorskip("placement.catalog")
    _, d = files
    rc, out = _run(["latency", "--sites", "catalog", "--demand", d, "--k-nearest", "3"])
    assert rc == 0
    t = pd.read_csv(io.StringIO(out))
    assert len(t) == 6
    assert t["site_id"].str.contains(":").all()  # catalog ids are provider:region
    assert (t.groupby("demand_id")["latency_ms"].min() < 15).all()
