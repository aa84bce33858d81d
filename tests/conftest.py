"""Fixtures shared by several test modules."""

from __future__ import annotations

import numpy as np
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
