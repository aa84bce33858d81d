"""``placement report``: result JSON in, one HTML file out; bad input is one line and exit 2."""

from __future__ import annotations

from plotly.offline import get_plotlyjs

from placement.cli import main
from placement.report.example import example_result


def test_report_round_trip_from_json(tmp_path, capsys) -> None:
    src = tmp_path / "baseline.json"
    example_result(name="baseline").to_json(src)
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(src), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert f"placement report: wrote {out} (1 result, " in captured.err
    text = out.read_text(encoding="utf-8")
    assert "<title>baseline</title>" in text
    assert text.count(get_plotlyjs()) == 1
    assert 'data-figures="3"' in text  # no streaming workload: no bandwidth figure
    assert "peak bandwidth" not in text
    assert "<td>AWS Frankfurt</td>" in text


def test_report_of_two_results_compares_them(tmp_path, capsys) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    example_result(name="one site each").to_json(a)
    example_result(name="two sites each", redundancy=2).to_json(b)
    out = tmp_path / "cmp.html"
    rc = main(["report", str(a), str(b), "--out", str(out), "--title", "Redundancy <2>"])
    assert rc == 0
    text = out.read_text(encoding="utf-8")
    assert "<title>Redundancy &lt;2&gt;</title>" in text
    assert '<section id="comparison">' in text
    assert "<h2>one site each</h2>" in text and "<h2>two sites each</h2>" in text


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("placement report: error: ")
    return lines[0]


def test_missing_file_is_one_line_and_no_output(tmp_path, capsys) -> None:
    out = tmp_path / "r.html"
    rc = main(["report", str(tmp_path / "nope.json"), "--out", str(out)])
    assert rc == 2
    assert "nope.json: no such file" in _one_line_error(capsys)
    assert not out.exists()


def test_bad_json_is_one_line_and_no_output(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"status": "optimal", ', encoding="utf-8")
    good = tmp_path / "good.json"
    example_result().to_json(good)
    out = tmp_path / "r.html"
    rc = main(["report", str(good), str(bad), "--out", str(out)])
    assert rc == 2
    assert "bad.json: not valid JSON" in _one_line_error(capsys)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "good.json"]


def test_json_that_is_not_a_result(tmp_path, capsys) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"sites": []}', encoding="utf-8")
    rc = main(["report", str(other), "--out", str(tmp_path / "r.html")])
    assert rc == 2
    assert "not a placement result" in _one_line_error(capsys)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"status": "solved"}', encoding="utf-8")
    assert main(["report", str(wrong), "--out", str(tmp_path / "r.html")]) == 2
    assert "unknown status" in _one_line_error(capsys)


def test_a_site_load_that_is_not_a_number_is_bad_input_not_a_crash(tmp_path, capsys) -> None:
    # found by test_fuzz (open_site_details[0].load = ""): the map's astype(float) raised, exit 1
    import json

    doc = json.loads(example_result().to_json())
    doc["open_site_details"][0]["load"] = ""
    src = tmp_path / "edited.json"
    src.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", str(src), "--out", str(out)]) == 2
    assert "field 'open_site_details[0].load': must be a number" in _one_line_error(capsys)
    assert not out.exists()


# ----------------------------------------------------------------------------- demo
SMALL_DEMO = ["--n-sites", "4", "--min-population", "5000000", "--redundancy", "1"]


def test_demo_small_writes_report_and_json(tmp_path, capsys) -> None:
    out = tmp_path / "demo.html"
    js = tmp_path / "demo.json"
    assert main(["demo", *SMALL_DEMO, "--out", str(out), "--json", str(js)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "status: optimal" in captured.err
    assert "open sites (4 sites)" in captured.err
    text = out.read_text(encoding="utf-8")
    assert 'data-figures="4"' in text  # map, latency, cost, bandwidth
    assert "peak bandwidth" in text
    assert "Video streaming: 4 cloud regions" in text
    # catalog attributes the Result does not carry by itself reach the sites table
    assert "<th>political stability (percentile)</th>" in text
    assert "<th>distance to hub (km)</th>" in text
    # the JSON written alongside renders to the same report
    out2 = tmp_path / "again.html"
    assert main(["report", str(js), "--out", str(out2)]) == 0
    assert out2.read_text(encoding="utf-8") == text


def test_demo_unwritable_output_is_one_line(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = main(["demo", *SMALL_DEMO, "--out", str(blocker / "demo.html")])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("placement demo: error: cannot write")
    assert blocker.read_text() == "x"


def test_demo_rejects_fewer_sites_than_redundancy(tmp_path, capsys) -> None:
    out = tmp_path / "demo.html"
    assert main(["demo", "--n-sites", "1", "--redundancy", "2", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert (
        captured.err.strip() == "placement demo: error: --n-sites must be at least --redundancy (2)"
    )
    assert not out.exists()
