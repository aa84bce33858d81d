"""``formulations._demand_classes``: points whose latency rows differ by a constant merge."""

from __future__ import annotations

import numpy as np
import pytest

from placement.formulations._demand_classes import demand_classes
from placement.problem import Problem


def _data(cost: np.ndarray, weights: list[float], **kw):
    return Problem.from_cost_matrix(cost, weights=weights, objective="median", n_sites=1, **kw)


def test_rows_equal_up_to_a_constant_merge_with_their_weights_and_mean_offset() -> None:
    cost = np.array(
        [
            [10.0, 20.0, 35.0],
            [15.0, 25.0, 40.0],  # the first row + 5: same class
            [10.0, 21.0, 35.0],  # another shape
            [12.0, 22.0, 37.0],  # the first row + 2: same class
        ]
    )
    data = _data(cost, [1.0, 3.0, 2.0, 4.0]).model_data()
    dc = demand_classes(data)
    assert dc is not None and dc.n_classes == 2
    assert dc.cls.tolist() == [0, 0, 1, 0]
    assert dc.rep.tolist() == [0, 2]
    assert dc.weight.tolist() == [8.0, 2.0]
    # weighted mean of the offsets 10, 15, 12 with weights 1, 3, 4
    assert dc.a_bar[0] == pytest.approx((10 + 45 + 48) / 8)
    assert dc.a_bar[1] == pytest.approx(10.0)
    # every member's row is its representative's up to the constant: no rounding slack
    rows = dc.rel.reshape(4, 3)
    assert dc.slack(data, rows[dc.rep][dc.cls].ravel()) == 0.0
    # a representative off by 0.5 ms on one site costs its members' weight share times it
    off = rows[dc.rep][dc.cls].copy()
    off[dc.cls == 0, 2] += 0.5
    assert dc.slack(data, off.ravel()) == pytest.approx(0.5 * 8 / 10)


def test_nothing_to_merge_is_none() -> None:
    cost = np.array([[10.0, 20.0], [10.0, 30.0], [5.0, 40.0]])
    assert demand_classes(_data(cost, [1.0, 1.0, 1.0]).model_data()) is None
    assert demand_classes(_data(cost[:1], [1.0]).model_data()) is None  # one point


def test_a_pair_not_allowed_keeps_points_apart() -> None:
    """Same shape, but an SLA that allows a pair for one point only: different classes."""
    cost = np.array([[10.0, 20.0], [35.0, 45.0]])
    assert demand_classes(_data(cost, [1.0, 1.0]).model_data()) is not None
    tight = _data(cost, [1.0, 1.0], max_latency_ms=40.0, unreachable="best-effort")
    dc = demand_classes(tight.model_data())
    assert dc is None or dc.n_classes == 2
