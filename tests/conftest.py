"""Fixtures shared by several test modules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from placement.problem import Problem


@pytest.fixture
def hard_problem() -> Problem:
    """A capacitated single-sourcing median (80 × 40) that no solver proves in about a second."""
    rng = np.random.default_rng(1)
    lat = rng.uniform(1, 100, (80, 40))
    w = rng.integers(1, 20, 80).astype(float)
    return Problem.from_cost_matrix(
        lat,
        weights=w,
        objective="median",
        n_sites=8,
        capacity=np.full(40, w.sum() / 7.5),
        single_sourcing=True,
    )


@pytest.fixture
def line():
    """Six sites and eight demand points on a line; latency = 1 ms + |x_demand - x_site|."""
    xs = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0])
    xd = np.array([1.0, 4.0, 12.0, 19.0, 26.0, 33.0, 41.0, 49.0])
    sites = pd.DataFrame(
        {
            "site_id": [f"S{j}" for j in range(6)],
            "lat_deg": 0.0,
            "lon_deg": xs / 10,
            "provider": ["aws", "gcp", "aws", "gcp", "aws", "gcp"],
            "country_code": ["DE", "DE", "FR", "FR", "ES", "ES"],
            "capacity": [10.0] * 6,
            "fixed_cost_usd_per_year": [100.0, 80.0, 60.0, 60.0, 80.0, 100.0],
        }
    )
    demand = pd.DataFrame(
        {
            "demand_id": [f"D{i}" for i in range(8)],
            "lat_deg": 0.0,
            "lon_deg": xd / 10,
            "weight": [5.0, 3.0, 4.0, 6.0, 2.0, 7.0, 3.0, 4.0],
            "country_code": ["DE", "DE", "FR", "FR", "FR", "ES", "ES", "ES"],
            "name": ["Berlin", "Hamburg", "Paris", "Lyon", "Nice", "Madrid", "Sevilla", "Bilbao"],
        }
    )
    table = pd.DataFrame(
        [
            (f"D{i}", f"S{j}", 1.0 + abs(xd[i] - xs[j]))
            for i in range(len(xd))
            for j in range(len(xs))
        ],
        columns=["demand_id", "site_id", "latency_ms"],
    )
    return sites, demand, table
