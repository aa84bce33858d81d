"""Problem.from_cost_matrix: the dense-matrix entry builds the same model as the long table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placement.errors import ValidationError
from placement.problem import Problem


def _long_table_problem(lat: np.ndarray, **kwargs) -> Problem:
    """The same problem through the general path (a long table validated by lowering)."""
    n, m = lat.shape
    sites = pd.DataFrame({"site_id": [f"s{j}" for j in range(m)], "lat_deg": 0.0, "lon_deg": 0.0})
    demand = pd.DataFrame(
        {"demand_id": [f"d{i}" for i in range(n)], "lat_deg": 0.0, "lon_deg": 0.0, "weight": 1.0}
    )
    ii, jj = np.nonzero(np.isfinite(lat))
    table = pd.DataFrame(
        {
            "demand_id": [f"d{i}" for i in ii],
            "site_id": [f"s{j}" for j in jj],
            "latency_ms": lat[ii, jj],
        }
    )
    return Problem(sites, demand, latency=table, **kwargs)


def _matrix(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lat = rng.uniform(1.0, 90.0, size=(12, 7))
    lat[rng.random(lat.shape) < 0.2] = np.inf  # pairs that are not allowed
    lat[3, 2] = np.nan  # treated as not allowed, as before
    lat[:, 0] = np.minimum(lat[:, 0], 50.0)  # every demand point has an allowed site
    return lat


def test_same_model_data_as_the_long_table():
    lat = _matrix()
    kw = {"objective": "median", "n_sites": 3, "max_latency_ms": 60.0}
    dense = Problem.from_cost_matrix(lat, **kw)
    assert dense.latency_validated  # lowering skips re-validating the table it built
    long = _long_table_problem(lat, **kw)
    assert not long.latency_validated
    a, b = dense.model_data(), long.model_data()
    assert a.n_pairs == b.n_pairs == int((np.isfinite(lat) & (lat <= 60.0 + 1e-9)).sum())
    for name in ("pair_i", "pair_j", "latency_ms", "primary_ok", "backup_ok"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert dense.solve().objective == pytest.approx(long.solve().objective, rel=1e-12)


def test_negative_value_names_the_pair():
    lat = _matrix()
    lat[4, 5] = -2.5
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(lat, objective="median", n_sites=2)
    assert err.value.table == "latency"
    assert err.value.row == "d4 -> s5"
    assert err.value.field == "latency_ms"
    assert err.value.value == -2.5


def test_replaced_latency_is_validated_again():
    dense = Problem.from_cost_matrix(_matrix(), objective="median", n_sites=2)
    table = dense.latency.copy()  # a matrix reads as its long table
    table.loc[0, "latency_ms"] = -1.0
    other = dense.replace(latency=table)
    assert not other.latency_validated
    with pytest.raises(ValidationError):
        other.model_data()


def test_no_allowed_pair_is_the_usual_error():
    with pytest.raises(ValidationError, match="empty"):
        Problem.from_cost_matrix(np.full((3, 2), np.inf), objective="median", n_sites=1).solve()


# ---------------------------------------------------------------------------- the dense path
def _same_result(a, b) -> None:
    """Two Results equal in what a solve decides: status, objective, bound, gap, assignments."""
    assert a.status == b.status
    for key in ("objective", "best_bound", "gap"):
        x, y = getattr(a, key), getattr(b, key)
        assert (x is None and y is None) or x == pytest.approx(y, rel=1e-12, abs=1e-12)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    assert sorted(a.open_sites["site_id"]) == sorted(b.open_sites["site_id"])


def test_lowering_takes_the_pairs_from_the_matrix_without_a_long_table(monkeypatch):
    import placement.lowering as lowering_mod

    def no_table(*args, **kwargs):
        raise AssertionError("the dense path built or validated a long table")

    monkeypatch.setattr(lowering_mod, "validate_latency_table", no_table)
    lat = _matrix(1)
    prob = Problem.from_cost_matrix(lat, objective="median", n_sites=3, max_latency_ms=70.0)
    assert prob.cost_matrix is not None and prob._matrix_table is None
    lowered = prob.lower()
    assert lowered.given_table is None and prob._matrix_table is None
    monkeypatch.undo()
    ok = np.isfinite(lat) & (lat <= 70.0 + 1e-9)
    assert lowered.data.n_pairs == int(ok.sum())
    ii, jj = np.nonzero(ok)
    np.testing.assert_array_equal(lowered.data.pair_i, ii)
    np.testing.assert_array_equal(lowered.data.pair_j, jj)
    np.testing.assert_array_equal(lowered.data.latency_ms, lat[ii, jj])
    # read on demand, the table is the one the long-table path lowers
    pd.testing.assert_frame_equal(
        lowered.table,
        _long_table_problem(lat, objective="median", n_sites=3)
        .latency_table()[lambda t: t["latency_ms"] <= 70.0 + 1e-9]
        .reset_index(drop=True),
    )
    assert prob.latency.shape == (int(np.isfinite(lat).sum()), 3)


@pytest.mark.parametrize("seed", range(6))
def test_dense_and_long_table_results_equal_and_match_brute_force(seed):
    from tests.oracle import brute

    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(6, 11)), int(rng.integers(4, 7))
    lat = np.round(rng.uniform(1.0, 60.0, size=(n, m)), 1)
    lat[rng.random((n, m)) < 0.25] = np.inf
    lat[:, int(rng.integers(m))] = rng.uniform(1.0, 60.0, n)  # every point has a site
    w = rng.integers(1, 9, n).astype(float)
    p = int(rng.integers(1, m))
    kw = {"objective": "median", "n_sites": p}
    if seed % 2:
        kw["max_latency_ms"] = 55.0
        lat[:, 0] = np.minimum(lat[:, 0], 50.0)
    dense = Problem.from_cost_matrix(lat, weights=w, **kw).solve()
    long = _long_table_problem(lat, **kw).replace(
        demand=_long_table_problem(lat, **kw).demand.assign(weight=w)
    )
    long_res = long.solve()
    _same_result(dense, long_res)
    allowed = lat if "max_latency_ms" not in kw else np.where(lat <= 55.0 + 1e-9, lat, np.inf)
    best = brute(allowed, w, [p])
    assert dense.status == "optimal"
    assert dense.objective == pytest.approx(best, rel=1e-9)


def test_pair_costs_fixed_costs_and_capacity_go_through_the_matrix():
    rng = np.random.default_rng(7)
    lat = rng.uniform(1.0, 40.0, size=(9, 4))
    cost = rng.uniform(10.0, 90.0, size=(9, 4))
    fixed = rng.uniform(100.0, 200.0, 4)
    kw = {"objective": "cost", "max_latency_ms": 35.0}
    dense = Problem.from_cost_matrix(
        lat, assignment_cost=cost, fixed_cost=fixed, capacity=5.0, **kw
    )
    data = dense.model_data()
    ok = lat <= 35.0 + 1e-9
    np.testing.assert_array_equal(data.pair_cost_usd, cost[ok])
    np.testing.assert_array_equal(data.fixed_usd, fixed)
    np.testing.assert_array_equal(data.capacity, np.full(4, 5.0))
    long = dense.replace(latency=dense.latency)  # the same pairs as a validated long table
    assert "cost_usd_per_year" in long.latency.columns
    _same_result(dense.solve(), long.solve())


def test_replaced_sites_and_demand_are_read_by_id():
    lat = _matrix(2)
    prob = Problem.from_cost_matrix(lat, objective="median", n_sites=2)
    fewer = prob.replace(
        sites=prob.sites.iloc[[4, 1, 6]].reset_index(drop=True),
        demand=prob.demand.iloc[::2].reset_index(drop=True),
    )
    assert fewer.cost_matrix is prob.cost_matrix and fewer.latency_validated
    data = fewer.model_data()
    sub = lat[::2][:, [4, 1, 6]]
    ok = np.isfinite(sub)
    np.testing.assert_array_equal(data.latency_ms, sub[ok])
    np.testing.assert_array_equal(data.pair_j, np.nonzero(ok)[1])
    # a site the matrix does not know has no pair
    extra = pd.concat(
        [fewer.sites, pd.DataFrame({"site_id": ["new"], "lat_deg": [0.0], "lon_deg": [0.0]})],
        ignore_index=True,
    )
    assert not (fewer.replace(sites=extra).model_data().pair_j == 3).any()


def test_unreachable_policies_on_a_matrix():
    lat = _matrix(3)
    lat[5] = np.inf
    lat[5, 1] = 95.0  # beyond the SLA: point d5 reaches no site
    kw = {"objective": "median", "n_sites": 2, "max_latency_ms": 90.0}
    for policy in ("exclude", "best-effort"):
        dense = Problem.from_cost_matrix(lat, unreachable=policy, **kw).solve()
        long = _long_table_problem(lat, unreachable=policy, **kw).solve()
        _same_result(dense, long)
        assert list(dense.unreachable["demand_id"]) == ["d5"]


@pytest.mark.parametrize(
    ("kwargs", "field", "row"),
    [
        ({"cost": np.ones(4)}, "latency_ms", None),
        ({"cost": np.ones((2, 2, 2))}, "latency_ms", None),
        ({"weights": np.ones(3)}, "weights", None),
        ({"fixed_cost": np.ones(2)}, "fixed_cost", None),
        ({"capacity": np.ones((7, 1))}, "capacity", None),
        ({"assignment_cost": np.ones((7, 12))}, "cost_usd_per_year", None),
    ],
)
def test_shape_errors_name_the_field(kwargs, field, row):
    args = {"cost": _matrix(), **kwargs}
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(args.pop("cost"), objective="median", n_sites=2, **args)
    assert err.value.field == field


def test_value_errors_name_the_pair_or_the_row():
    lat = _matrix()
    lat[2, 4] = -np.inf
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(lat, objective="median", n_sites=2)
    assert (err.value.row, err.value.field) == ("d2 -> s4", "latency_ms")
    lat = _matrix()
    lat[7, 1] = 2e6  # above params.RANGES["latency_ms"]
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(lat, objective="median", n_sites=2)
    assert (err.value.row, err.value.value) == ("d7 -> s1", 2e6)
    cost = np.ones((12, 7))
    cost[0, 0] = np.nan  # the pair (d0, s0) is allowed: its cost must be a number
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(_matrix(), assignment_cost=cost, objective="cost")
    assert (err.value.row, err.value.field) == ("d0 -> s0", "cost_usd_per_year")
    w = np.ones(12)
    w[9] = np.nan
    with pytest.raises(ValidationError) as err:
        Problem.from_cost_matrix(_matrix(), weights=w, objective="median", n_sites=2)
    assert err.value.table == "demand" and err.value.row is not None


def test_the_matrix_is_a_copy():
    lat = _matrix()
    prob = Problem.from_cost_matrix(lat, objective="median", n_sites=2)
    before = prob.model_data().latency_ms.copy()
    lat[:] = 1.0
    np.testing.assert_array_equal(prob.model_data().latency_ms, before)


def test_a_full_matrix_reaches_the_solver_without_a_copy(monkeypatch):
    """Every pair allowed: the lowered latency and the matrix the fast p-median reads are views
    of the CostMatrix's array (no pairs copy, no dense rebuild, no copy in prepare_inputs), the
    zero pair costs one broadcast zero; the answer is the long table's."""
    from placement.formulations import radius

    rng = np.random.default_rng(4)
    lat = rng.uniform(1, 50, (30, 12)).round(1)
    prob = Problem.from_cost_matrix(lat, objective="median", n_sites=3)
    own = prob.cost_matrix.latency_ms
    data = prob.model_data()
    assert np.shares_memory(data.latency_ms, own)
    assert data.pair_cost_usd.strides == (0,) and not data.pair_cost_usd.any()
    seen = []
    real = radius.solve_pmedian

    def spy(cost, *args, **kwargs):
        seen.append(np.shares_memory(cost, own))
        return real(cost, *args, **kwargs)

    monkeypatch.setattr(radius, "solve_pmedian", spy)
    r = prob.solve()
    assert seen == [True]
    want = _long_table_problem(lat, objective="median", n_sites=3).solve()
    assert r.objective == pytest.approx(want.objective, rel=1e-12)
    assert r.open_site_ids == want.open_site_ids
    assert not own.flags.writeable  # nothing on the way wrote into it
    # prepare_inputs copies only to close forbidden columns
    from placement.heuristics import prepare_inputs

    assert np.shares_memory(prepare_inputs(own, None, 3).cost, own)
    closed = prepare_inputs(own, None, 3, forbidden=[0]).cost
    assert np.isinf(closed[:, 0]).all() and np.isfinite(own[:, 0]).all()


def test_a_full_grid_out_of_order_is_rebuilt():
    """The solver's matrix is a view only for pairs in row-major order: the same full grid in
    another order (a hand-made ModelData) gives the same matrix, rebuilt."""
    import dataclasses

    from placement.formulations.registry import _primary_matrix

    rng = np.random.default_rng(5)
    lat = rng.uniform(1, 50, (6, 4)).round(1)
    data = Problem.from_cost_matrix(lat, objective="median", n_sites=2).model_data()
    order = np.lexsort((data.pair_i, data.pair_j))  # column-major
    shuffled = dataclasses.replace(
        data,
        pair_i=data.pair_i[order],
        pair_j=data.pair_j[order],
        latency_ms=data.latency_ms[order],
        pair_cost_usd=np.zeros(data.n_pairs),
        primary_ok=data.primary_ok[order],
        backup_ok=data.backup_ok[order],
    )
    assert np.array_equal(_primary_matrix(data), lat)
    assert np.array_equal(_primary_matrix(shuffled), lat)
    assert not np.shares_memory(_primary_matrix(shuffled), shuffled.latency_ms)
