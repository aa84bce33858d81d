"""unique_bool_rows: the same rows, in the same order, as np.unique(axis=0)."""

from __future__ import annotations

import numpy as np
import pytest

from placement.formulations._rows import unique_bool_rows


@pytest.mark.parametrize("seed", range(25))
def test_same_rows_and_order_as_numpy(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 300)), int(rng.integers(1, 140))
    a = rng.uniform(size=(n, m)) < rng.uniform(0.05, 0.95)
    a[rng.integers(0, n, n // 2)] = a[0]  # many repeats
    np.testing.assert_array_equal(unique_bool_rows(a), np.unique(a, axis=0))


def test_width_not_a_multiple_of_eight_and_empty():
    a = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [1, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(
        unique_bool_rows(a), np.array([[0, 1, 1], [1, 0, 0], [1, 0, 1]], dtype=bool)
    )
    assert unique_bool_rows(np.zeros((0, 5), dtype=bool)).shape == (0, 5)


def test_rejects_non_boolean():
    with pytest.raises(TypeError, match="boolean"):
        unique_bool_rows(np.ones((3, 3)))
