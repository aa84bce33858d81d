"""The backbone graph: metros and cable landings joined by terrestrial and submarine links.

Edge length is the great-circle distance between its ends; :meth:`Backbone.all_pairs` gives the
shortest routes between all nodes (optionally charging a length per hop). The shipped graph is
``data/backbone_nodes.csv`` and ``data/backbone_edges.csv`` (cited in ``data/SOURCES.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from placement._resources import data_file
from placement.errors import ValidationError
from placement.geo import haversine_km


@dataclass(frozen=True, eq=False)
class Backbone:
    """A small undirected graph of metros and cable landings; edge length = great-circle km.

    Parameters
    ----------
    nodes : pandas.DataFrame
        ``node_id, lat_deg, lon_deg`` (further columns kept).
    edges : pandas.DataFrame
        ``a, b`` (node ids), ``kind`` (``terrestrial``/``submarine``), ``system`` (what the edge
        stands for).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame

    @classmethod
    def shipped(cls) -> Backbone:
        """The backbone shipped in ``data/backbone_nodes.csv`` and ``data/backbone_edges.csv``."""
        return _shipped_backbone()

    def __post_init__(self) -> None:
        ids = self.nodes["node_id"].astype(str)
        if ids.duplicated().any():
            raise ValidationError(
                "duplicate node_id",
                table="backbone_nodes",
                row=ids[ids.duplicated()].iloc[0],
                field="node_id",
            )
        unknown = ~(self.edges["a"].isin(ids) & self.edges["b"].isin(ids))
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ValidationError("edge names an unknown node", table="backbone_edges", row=i)

    @cached_property
    def node_ids(self) -> np.ndarray:
        return self.nodes["node_id"].astype(str).to_numpy()

    @cached_property
    def edge_km(self) -> np.ndarray:
        """Great-circle length of each edge, km."""
        idx = {n: i for i, n in enumerate(self.node_ids)}
        a = self.edges["a"].map(idx).to_numpy()
        b = self.edges["b"].map(idx).to_numpy()
        lat = self.nodes["lat_deg"].to_numpy(float)
        lon = self.nodes["lon_deg"].to_numpy(float)
        return haversine_km(lat[a], lon[a], lat[b], lon[b])

    def all_pairs(
        self, hop_equivalent_km: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shortest routes between all nodes.

        Parameters
        ----------
        hop_equivalent_km : float
            Length charged per edge when choosing routes (so that a per-hop delay is traded
            against distance), km. Reported lengths exclude it.

        Returns
        -------
        path_km, hops, predecessors : numpy.ndarray, shape (n_nodes, n_nodes)
            Route length in km (``inf`` if unreachable), edge count, and the scipy predecessor
            matrix for route reconstruction.
        """
        n = len(self.node_ids)
        idx = {nid: i for i, nid in enumerate(self.node_ids)}
        a = self.edges["a"].map(idx).to_numpy()
        b = self.edges["b"].map(idx).to_numpy()
        w = self.edge_km + hop_equivalent_km
        g = csr_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
        cost, pred = shortest_path(g, method="D", directed=False, return_predecessors=True)
        km_mat = csr_matrix(
            (np.r_[self.edge_km, self.edge_km], (np.r_[a, b], np.r_[b, a])), shape=(n, n)
        ).toarray()
        hops = np.zeros((n, n))
        km = np.zeros((n, n))
        for src in range(n):
            order = np.argsort(cost[src], kind="stable")
            for j in order:
                p = pred[src, j]
                if j == src or p < 0:
                    continue
                hops[src, j] = hops[src, p] + 1
                km[src, j] = km[src, p] + km_mat[p, j]
        km[~np.isfinite(cost)] = np.inf
        return km, hops, pred

    def route(self, i: int, j: int, pred: np.ndarray) -> list[str]:
        """Node ids of the route from node index ``i`` to ``j`` (inclusive)."""
        path = [j]
        while path[-1] != i:
            p = pred[i, path[-1]]
            if p < 0:
                return []
            path.append(int(p))
        return [str(self.node_ids[k]) for k in reversed(path)]


_BACKBONE_CACHE: dict[str, Backbone] = {}


def _shipped_backbone() -> Backbone:
    if "shipped" not in _BACKBONE_CACHE:
        nodes = pd.read_csv(data_file("backbone_nodes.csv"), keep_default_na=False)
        edges = pd.read_csv(data_file("backbone_edges.csv"), keep_default_na=False)
        _BACKBONE_CACHE["shipped"] = Backbone(nodes, edges)
    return _BACKBONE_CACHE["shipped"]
