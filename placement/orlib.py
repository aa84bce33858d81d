"""Readers for J.E. Beasley's OR-Library location benchmarks.

Two families are read:

* **p-median** (``pmed1`` … ``pmed40``; Beasley 1985, "A note on solving large p-median problems",
  EJOR 21:270–273). First line ``n m p``; then ``m`` edge lines ``i j cost`` (1-based). Following
  Beasley's instructions the cost matrix starts with ``c(i,j)=inf``, ``c(i,i)=0``; the edge lines
  are read **in turn**, setting ``c(i,j)=c(j,i)=cost``, so for an edge listed twice the later line
  wins (keeping the minimum instead gives pmed1 an optimum of 5718, not the published 5819); then
  all-pairs shortest paths are taken.
* **capacitated warehouse location** (``cap41`` … ``cap134``, ``capa/b/c``; Beasley 1988, "An
  algorithm for solving large capacitated warehouse location problems", EJOR 33:314–325). First
  line ``m n``; ``m`` lines ``capacity fixed_cost``; then per customer its demand followed by the
  ``m`` costs of allocating *all* of its demand to each warehouse. In ``capa/b/c`` the capacity is
  the literal word ``capacity`` and must be supplied by the caller.

The benchmark files themselves are not shipped with the package; :func:`shared_orlib_dir` finds the
project's shared copy (``../shared/benchmarks/orlib`` beside the repository, or the folder named by
the ``PLACEMENT_SHARED`` environment variable).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from placement.errors import ValidationError

__all__ = [
    "CapInstance",
    "PMedInstance",
    "read_cap",
    "read_capopt",
    "read_pmed",
    "read_pmedopt",
    "shared_orlib_dir",
]

#: Environment variable naming the shared folder (the one holding ``benchmarks/orlib``).
SHARED_ENV = "PLACEMENT_SHARED"


@dataclass(frozen=True)
class PMedInstance:
    """An OR-Library p-median instance.

    Attributes
    ----------
    n : int
        Number of vertices (each is a client of weight 1 and a candidate site).
    p : int
        Number of medians to open.
    cost : numpy.ndarray, shape (n, n)
        All-pairs shortest-path distances (float; ``inf`` where disconnected).
    name : str
        Instance name, e.g. ``"pmed1"``.
    """

    n: int
    p: int
    cost: np.ndarray
    name: str


@dataclass(frozen=True)
class CapInstance:
    """An OR-Library capacitated warehouse-location instance.

    Attributes
    ----------
    capacity : numpy.ndarray, shape (m,)
        Warehouse capacities.
    fixed_cost : numpy.ndarray, shape (m,)
        Fixed cost of opening each warehouse.
    demand : numpy.ndarray, shape (n,)
        Customer demands.
    cost : numpy.ndarray, shape (n, m)
        Cost of allocating **all** of a customer's demand to a warehouse (a fraction ``f`` of the
        demand costs ``f * cost``).
    name : str
        Instance name, e.g. ``"cap41"`` or ``"capa8000"``.
    """

    capacity: np.ndarray
    fixed_cost: np.ndarray
    demand: np.ndarray
    cost: np.ndarray
    name: str

    @property
    def m(self) -> int:
        """Number of warehouses."""
        return int(self.capacity.shape[0])

    @property
    def n(self) -> int:
        """Number of customers."""
        return int(self.demand.shape[0])


def _tokens(path: str | os.PathLike[str]) -> list[str]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"OR-Library file not found: {p}")
    return p.read_text().split()


def _instance_name(path: str | os.PathLike[str]) -> str:
    return Path(path).name.removesuffix(".txt")


def read_pmed(path: str | os.PathLike[str]) -> PMedInstance:
    """Read an OR-Library p-median file (``pmedN.txt``).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    PMedInstance
        With the all-pairs shortest-path cost matrix.

    Raises
    ------
    ValidationError
        If the file is malformed (too few numbers, vertex out of range, negative cost).
    """
    tok = _tokens(path)
    name = _instance_name(path)
    if len(tok) < 3:
        raise ValidationError("p-median file has no header line 'n m p'", table=name)
    n, m, p = (int(t) for t in tok[:3])
    if len(tok) < 3 + 3 * m:
        raise ValidationError(
            f"p-median file declares {m} edges but holds only {(len(tok) - 3) // 3}", table=name
        )
    edges = np.asarray(tok[3 : 3 + 3 * m], dtype=float).reshape(m, 3)
    i = edges[:, 0].astype(np.int64) - 1
    j = edges[:, 1].astype(np.int64) - 1
    c = edges[:, 2]
    if i.min(initial=0) < 0 or j.min(initial=0) < 0 or max(i.max(initial=0), j.max(initial=0)) >= n:
        raise ValidationError(f"edge endpoint outside 1..{n}", table=name)
    if np.any(c < 0):
        raise ValidationError("negative edge cost", table=name)
    # Read in turn: the LAST line of a repeated (unordered) edge wins. Self-loops are ignored
    # (c(i,i)=0 by definition).
    a = np.minimum(i, j)
    b = np.maximum(i, j)
    key = a * n + b
    # index of the last occurrence of every key
    _, rev_idx = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - rev_idx
    keep = last[a[last] != b[last]]
    rows = np.concatenate([a[keep], b[keep]])
    cols = np.concatenate([b[keep], a[keep]])
    vals = np.concatenate([c[keep], c[keep]])
    # csgraph ignores explicit zeros in sparse input; a zero-cost edge becomes a tiny positive one
    # and is rounded back below (all OR-Library costs are integers).
    zero = vals == 0
    vals = np.where(zero, 1e-12, vals)
    graph = coo_matrix((vals, (rows, cols)), shape=(n, n)).tocsr()
    dist = shortest_path(graph, method="D", directed=False)
    if np.any(zero):
        finite = np.isfinite(dist)
        dist[finite] = np.round(dist[finite], 6)
    np.fill_diagonal(dist, 0.0)
    return PMedInstance(n=n, p=p, cost=dist, name=name)


def read_cap(path: str | os.PathLike[str], capacity: float | None = None) -> CapInstance:
    """Read an OR-Library capacitated warehouse-location file (``capNN.txt``, ``capa.txt`` …).

    Parameters
    ----------
    path : path-like
        The file.
    capacity : float, optional
        Capacity of every warehouse, required when the file holds the literal word ``capacity``
        (``capa/b/c``; Beasley 1988 Table 1 uses capa 8000–14000, capb 5000–8000,
        capc 5000–7250). When given for a file with numeric capacities it overrides them.

    Returns
    -------
    CapInstance
        Its name gets the capacity appended when the file uses the word (``capa8000``).

    Raises
    ------
    ValidationError
        If the file is malformed or a needed ``capacity`` is missing.
    """
    tok = _tokens(path)
    name = _instance_name(path)
    if len(tok) < 2:
        raise ValidationError("warehouse file has no header line 'm n'", table=name)
    m, n = int(tok[0]), int(tok[1])
    pos = 2
    cap = np.empty(m)
    fixed = np.empty(m)
    symbolic = False
    for k in range(m):
        if pos + 2 > len(tok):
            raise ValidationError("warehouse file ends inside the warehouse lines", table=name)
        word = tok[pos]
        if word.lower() == "capacity":
            symbolic = True
            if capacity is None:
                raise ValidationError(
                    "this file gives capacities as the word 'capacity': pass capacity=",
                    table=name,
                    field="capacity",
                )
            cap[k] = float(capacity)
        else:
            cap[k] = float(word) if capacity is None else float(capacity)
        fixed[k] = float(tok[pos + 1])
        pos += 2
    need = n * (m + 1)
    if len(tok) - pos < need:
        raise ValidationError(
            f"warehouse file holds {len(tok) - pos} numbers for customers, expected {need}",
            table=name,
        )
    block = np.asarray(tok[pos : pos + need], dtype=float).reshape(n, m + 1)
    demand = block[:, 0].copy()
    cost = np.ascontiguousarray(block[:, 1:])
    if symbolic:
        name = f"{name}{int(capacity) if float(capacity).is_integer() else capacity}"
    return CapInstance(capacity=cap, fixed_cost=fixed, demand=demand, cost=cost, name=name)


def _read_opt_table(path: str | os.PathLike[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        try:
            value = float(parts[-1])
        except ValueError:
            continue  # header line
        key = parts[0].removesuffix(".txt")
        if not re.match(r"^[A-Za-z]", key):
            continue
        out[key] = value
    return out


def read_pmedopt(path: str | os.PathLike[str]) -> dict[str, int]:
    """Read the p-median optimum table (``pmedopt``): instance name → optimal objective.

    Parameters
    ----------
    path : path-like
        The table file.

    Returns
    -------
    dict of str to int
        E.g. ``{"pmed1": 5819, ...}``.
    """
    return {k: round(v) for k, v in _read_opt_table(path).items()}


def read_capopt(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read a warehouse-location optimum table (``capopt``, ``capopt_long``, ``uncapopt``).

    Parameters
    ----------
    path : path-like
        The table file.

    Returns
    -------
    dict of str to float
        Instance name (``.txt`` suffix removed) → optimal objective; compare with ``rtol=1e-6``.
    """
    return _read_opt_table(path)


def shared_orlib_dir(shared: str | os.PathLike[str] | None = None) -> Path | None:
    """Locate the shared OR-Library folder, or ``None`` when it is not available.

    Parameters
    ----------
    shared : path-like, optional
        The shared folder (holding ``benchmarks/orlib``). Defaults to ``$PLACEMENT_SHARED`` or,
        failing that, ``../shared`` relative to the repository root.

    Returns
    -------
    pathlib.Path or None
        ``<shared>/benchmarks/orlib`` if it holds ``pmed/pmed1.txt``, else ``None``.
    """
    if shared is None:
        env = os.environ.get(SHARED_ENV)
        shared = Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"
    folder = Path(shared) / "benchmarks" / "orlib"
    return folder if (folder / "pmed" / "pmed1.txt").is_file() else None
