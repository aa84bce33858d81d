"""What a newcomer reads on stderr: a typo'd option, a parameter named in library terms, a solve
that ran out of time, a demo without a solution, the top-level help."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from placement.cli import main
from placement.cli.solve import no_solution_text


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse usage errors
        return int(exc.code or 0)


def test_misspelt_option_gets_the_subcommand_usage_and_a_suggestion(capsys) -> None:
    assert _exit_code(["solve", "--open", "3", "--contnent", "EU"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: placement solve ")  # not the top-level usage
    last = err.strip().splitlines()[-1]
    assert last == (
        "placement solve: error: unrecognized arguments: --contnent EU (did you mean --continent?)"
    )


def test_misspelt_option_with_equals_and_no_close_match(capsys) -> None:
    assert _exit_code(["demand", "--min-popluation=5"]) == 2
    assert "(did you mean --min-population?)" in capsys.readouterr().err
    assert _exit_code(["regions", "--zzz"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "placement regions: error: unrecognized arguments: --zzz"


def test_error_naming_a_parameter_says_which_option_sets_it(capsys) -> None:
    assert main(["solve", "--country", "PT"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("placement solve: error: table 'parameter', field 'n_sites'")
    assert last.endswith("[on the command line: n_sites is --open, max_sites is --max-open]")


def test_parameter_spelt_like_its_option_gets_no_hint(capsys) -> None:
    assert main(["solve", "--country", "PT", "--open", "2", "--sla-share", "0.9"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "field 'sla_ms'" in last and "[on the command line" not in last


def test_no_solution_in_time_says_to_give_more_time() -> None:
    timed_out = SimpleNamespace(status="no_solution", message="stopped by the time limit")
    assert no_solution_text(timed_out, 1.0) == (
        "no solution: stopped by the time limit; no plan was found within the time limit of 1 s: "
        "give it more (--time-limit S, or 'none')"
    )
    assert no_solution_text(timed_out, None) == "no solution: stopped by the time limit"
    infeasible = SimpleNamespace(status="infeasible", message="2 demand points (A, B) …")
    assert no_solution_text(infeasible, 1.0) == "no solution (infeasible): 2 demand points (A, B) …"


def test_demo_without_a_solution_exits_3_and_still_writes_its_report(tmp_path, capsys) -> None:
    out = tmp_path / "demo.html"
    assert main(["demo", "--sla-ms", "20", "--out", str(out)]) == 3
    captured = capsys.readouterr()
    assert out.is_file() and captured.out.strip() == str(out)
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("placement demo: no solution (infeasible): ")
    assert "no candidate site within 20 ms" in last


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_states_the_exit_codes(argv, capsys) -> None:
    assert _exit_code(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Exit codes: 0" in out and "3 no solution" in out


def test_help_of_sla_options_names_the_unit(capsys) -> None:
    for argv in (["demo", "--help"], ["latency", "--help"]):
        assert _exit_code(argv) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "X ms" in out, argv


def test_cost_objective_with_a_latency_penalty_says_so_in_its_unit() -> None:
    # the summary's cost line is the bill alone; the objective adds the penalty (2.41e9 vs
    # 1.77e9 USD in docs/examples/streaming-eu-sa.toml), so its unit must say what it holds
    import numpy as np

    from placement.problem import Problem

    p = Problem.from_cost_matrix(
        np.array([[1.0, 5.0], [4.0, 1.0]]),
        objective="cost",
        n_sites=1,
        latency_penalty_usd_per_unit_ms=0.1,
    )
    assert p.params()["objective_unit"] == (
        "USD per year (cost + a latency penalty of 0.1 USD per unit of demand per ms)"
    )
    assert p.replace(latency_penalty_usd_per_unit_ms=0.0).params()["objective_unit"] == (
        "USD per year"
    )


def test_compare_ends_with_a_line_naming_scenarios_without_a_solution(tmp_path, capsys) -> None:
    from pathlib import Path

    base = Path(__file__).resolve().parent.parent / "docs" / "examples" / "europe-base.toml"
    tight = tmp_path / "tight.toml"
    tight.write_text('name = "tight"\n[problem]\nmax_latency_ms = 10\n', encoding="utf-8")
    assert main(["compare", str(base), str(tight), "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("name,description,status")
    assert "tight,,infeasible," in captured.out
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("placement compare: 2 problems in ")
    assert last.endswith("; without a solution: tight (column message)")


def test_unreachable_message_grammar_and_digits() -> None:
    # one point out of reach: "it"/"its"; a best latency just over the SLA is not rounded onto it
    import numpy as np

    from placement.problem import Problem

    one = Problem.from_cost_matrix(
        np.array([[10.0, 20.0], [40.002, 41.0]]), objective="median", n_sites=1, max_latency_ms=40
    ).solve()
    assert one.status == "infeasible"
    assert (
        "1 demand point (d1) has no candidate site within 40 ms (its best possible: 40.002 ms)"
        in (one.message)
    )
    assert "plan without it with unreachable='exclude'" in one.message
    two = Problem.from_cost_matrix(
        np.array([[45.0, 50.0], [40.2, 41.0]]), objective="median", n_sites=1, max_latency_ms=40
    ).solve()
    assert "2 demand points (d0, d1) have no candidate site within 40 ms" in two.message
    assert "(their best possible: 40.2–45.0 ms); plan without them" in two.message
