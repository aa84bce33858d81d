"""The site pricing shared by the strong LPs (formulations/_site_pricing.py)."""

from __future__ import annotations

import numpy as np

from placement.formulations._site_pricing import sites_to_add, start_sites


def test_sites_to_add_takes_the_smallest_finite_parts_outside_s_once_per_group():
    v = np.array([3.0, -1.0, np.inf, -5.0, 0.5, -2.0])
    in_s = np.array([False, False, False, True, False, False])
    assert sites_to_add(v, in_s, 3) == [5, 1, 4]
    # sites 1 and 5 are one twin group (representative 1): it is added once
    rep = np.array([0, 1, 2, 3, 4, 1])
    assert sites_to_add(v, in_s, 3, rep) == [1, 4, 0]
    assert sites_to_add(v, np.ones(6, dtype=bool), 3) == []


def test_start_sites_puts_the_incumbent_first_then_the_smallest_parts_then_must_open():
    v = np.array([3.0, -1.0, np.inf, -5.0, 0.5, -2.0])
    must = np.array([False, False, True, False, False, False])
    inc = np.array([True, False, False, False, True, False])
    assert start_sites(v, 1, must, inc) == [0, 4, 3, 5, 2]
    assert start_sites(v, 2, must) == [3, 5, 1, 4, 2]
