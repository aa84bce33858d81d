"""OR-Library readers: formats, the repeated-edge rule, optimum tables (skip without ../shared)."""

from __future__ import annotations

import numpy as np
import pytest

from placement import orlib
from placement.errors import ValidationError

ORLIB = orlib.shared_orlib_dir()
needs_shared = pytest.mark.skipif(
    ORLIB is None, reason="shared OR-Library folder (../shared/benchmarks/orlib) not available"
)


def test_read_pmed_small_file(tmp_path):
    f = tmp_path / "toy.txt"
    # edge 1-2 listed twice: the LATER line wins (Beasley reads the lines in turn)
    f.write_text(" 4 4 2\n 1 2 5\n 2 3 1\n 3 4 2\n 2 1 9\n")
    inst = orlib.read_pmed(f)
    assert (inst.n, inst.p, inst.name) == (4, 2, "toy")
    expected = np.array([[0, 9, 10, 12], [9, 0, 1, 3], [10, 1, 0, 2], [12, 3, 2, 0]], dtype=float)
    np.testing.assert_array_equal(inst.cost, expected)


def test_read_pmed_rejects_bad_vertex(tmp_path):
    f = tmp_path / "bad.txt"
    f.write_text("3 1 1\n1 7 4\n")
    with pytest.raises(ValidationError, match="outside"):
        orlib.read_pmed(f)


def test_read_cap_word_capacity(tmp_path):
    f = tmp_path / "capx.txt"
    f.write_text("2 2\ncapacity 10.\ncapacity 20.\n5\n1. 2.\n7\n3. 4.\n")
    with pytest.raises(ValidationError, match="capacity"):
        orlib.read_cap(f)
    inst = orlib.read_cap(f, capacity=8000)
    assert inst.name == "capx8000"
    np.testing.assert_array_equal(inst.capacity, [8000, 8000])
    np.testing.assert_array_equal(inst.fixed_cost, [10, 20])
    np.testing.assert_array_equal(inst.demand, [5, 7])
    np.testing.assert_array_equal(inst.cost, [[1, 2], [3, 4]])
    assert (inst.m, inst.n) == (2, 2)


@needs_shared
def test_pmed1_matrix_and_optimum_table():
    inst = orlib.read_pmed(ORLIB / "pmed" / "pmed1.txt")
    assert (inst.n, inst.p) == (100, 5)
    assert np.all(np.isfinite(inst.cost))
    np.testing.assert_array_equal(inst.cost, inst.cost.T)
    assert np.all(np.diag(inst.cost) == 0)
    opt = orlib.read_pmedopt(ORLIB / "pmed" / "pmedopt.txt")
    assert len(opt) == 40
    assert opt["pmed1"] == 5819 and opt["pmed40"] == 5128


@needs_shared
def test_cap_files_and_tables():
    inst = orlib.read_cap(ORLIB / "cap" / "cap41.txt")
    assert (inst.m, inst.n) == (16, 50)
    assert inst.capacity[0] == 5000 and inst.fixed_cost[10] == 0
    a = orlib.read_cap(ORLIB / "cap" / "capa.txt", capacity=8000)
    assert (a.m, a.n, a.name) == (100, 1000, "capa8000")
    capopt = orlib.read_capopt(ORLIB / "cap" / "capopt.txt")
    assert capopt["cap41"] == pytest.approx(1040444.375)
    long = orlib.read_capopt(ORLIB / "cap" / "capopt_long.txt")
    assert long["capc7250"] == pytest.approx(11505767.394)
    unc = orlib.read_capopt(ORLIB / "cap" / "uncapopt.txt")
    assert unc["capa"] == pytest.approx(17156454.478)


def test_shared_dir_override(tmp_path, monkeypatch):
    monkeypatch.setenv(orlib.SHARED_ENV, str(tmp_path))
    assert orlib.shared_orlib_dir() is None
    (tmp_path / "benchmarks" / "orlib" / "pmed").mkdir(parents=True)
    (tmp_path / "benchmarks" / "orlib" / "pmed" / "pmed1.txt").write_text("1 0 1\n")
    assert orlib.shared_orlib_dir() == tmp_path / "benchmarks" / "orlib"
