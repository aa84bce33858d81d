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
    table = dense.latency.copy()
    table.loc[0, "latency_ms"] = -1.0
    other = dense.replace(latency=table)
    assert not other.latency_validated
    with pytest.raises(ValidationError):
        other.model_data()


def test_no_allowed_pair_is_the_usual_error():
    with pytest.raises(ValidationError, match="empty"):
        Problem.from_cost_matrix(np.full((3, 2), np.inf), objective="median", n_sites=1).solve()
